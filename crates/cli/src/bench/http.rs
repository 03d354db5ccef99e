//! `idflow bench http`.

use std::process::ExitCode;

use super::Args;

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the http benchmark is not built yet")
}
