//! `idflow bench engine`.

use std::process::ExitCode;

use super::Args;

pub fn run(_args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the engine benchmark is not built yet")
}
