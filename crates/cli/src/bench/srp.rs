//! `idflow bench srp`.

use std::process::ExitCode;

use super::Args;

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the srp benchmark is not built yet")
}
