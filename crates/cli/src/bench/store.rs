//! `idflow bench store`.

use std::process::ExitCode;

use super::Args;

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the store benchmark is not built yet")
}
