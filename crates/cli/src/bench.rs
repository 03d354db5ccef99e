//! `idflow bench SCENARIO`: measurements recorded in BENCHMARKS.md.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// srp, engine, store or http.
    pub scenario: String,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("unknown benchmark scenario `{}`", args.scenario)
}
