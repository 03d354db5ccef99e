//! `idflow bench SCENARIO`: measurements recorded in BENCHMARKS.md, one module per scenario.

use std::process::ExitCode;

mod engine;
mod http;
mod srp;
mod store;
mod thread_clock;

#[derive(clap::Args)]
pub struct Args {
    /// srp, engine, store or http.
    pub scenario: String,
    /// Scale the run (instances, iterations); each scenario documents its default.
    #[arg(long)]
    pub count: Option<u64>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// `store` only: also run the scenario on this PostgreSQL database with 1, 2 and 3 nodes
    /// (runtimes with pools of their own) sharing it, beside sled in the same run. Each run uses
    /// a tenant of its own, so the database may be reused.
    #[arg(long, value_name = "URL", value_parser = crate::store_arg::parse_store_url)]
    pub store: Option<String>,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    match args.scenario.as_str() {
        "srp" => srp::run(&args),
        "engine" => engine::run(&args),
        "store" => store::run(&args),
        "http" => http::run(&args),
        _ => anyhow::bail!(
            "unknown benchmark scenario `{}` (try srp, engine, store, http)",
            args.scenario
        ),
    }
}
