//! The `idflow` command: one binary, one subcommand per job (serve, validate, run, token, templates,
//! replay, bench).
//!
//! Each subcommand lives in its own module with its own `Args` and `main`; this file only
//! dispatches. Exit codes: 0 success, 1 the job found a problem (invalid file, failed replay), 2 usage.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alloc;
mod bench;
mod history;
mod replay;
mod run;
mod serve;
mod store_arg;
mod store_cmd;
mod templates;
mod token;
mod validate;

#[derive(Parser)]
#[command(
    name = "idflow",
    version,
    about = "BPMN process flows for identity: passcodes (SRP-6a), TOTP, users"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server on an embedded store (deploys the shipped flows and a demo tenant on first start).
    Serve(serve::Args),
    /// Check definition files (BPMN 2.0) and print located diagnostics.
    Validate(validate::Args),
    /// Dry-run a definition on an in-memory store, answering its steps from a JSON file.
    Run(run::Args),
    /// Mint a bearer token from the data directory's signing key.
    Token(token::Args),
    /// Write Camunda Modeler element templates for every activity (JSON).
    Templates(templates::Args),
    /// Re-run recorded instance histories against definitions and report divergence.
    Replay(replay::Args),
    /// Instance histories: export them from a data directory.
    #[command(subcommand)]
    History(history::Command),
    /// Measure a scenario (srp, engine, store, http).
    Bench(bench::Args),
    /// The PostgreSQL store: copy a data directory into it, migrate its schema.
    #[command(subcommand)]
    Store(store_cmd::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Serve(a) => serve::main(a),
        Command::Validate(a) => validate::main(a),
        Command::Run(a) => run::main(a),
        Command::Token(a) => token::main(a),
        Command::Templates(a) => templates::main(a),
        Command::Replay(a) => replay::main(a),
        Command::History(c) => history::main(c),
        Command::Bench(a) => bench::main(a),
        Command::Store(c) => store_cmd::main(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
