//! `idflow history ...`: instance histories in a data directory.

use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Export instance histories as JSON.
    Export {},
}

pub fn main(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`idflow history export` is not built yet")
}
