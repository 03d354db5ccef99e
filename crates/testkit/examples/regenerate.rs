//! Regenerates the replay corpus: records every path of every shipped flow (see
//! `idflow_testkit::corpus`) and writes one history per path into the folder given.
//!
//! `cargo run -p idflow-testkit --example regenerate -- tests/replay`
//!
//! Recordings are deterministic (fixed seeds and clocks), so regenerating without a change to
//! the definitions, the engine or the activities rewrites the same files. Regenerate only when a
//! change is meant to alter what new instances record: the old histories are exactly what replay
//! tests are for, and a change that makes them diverge deserves a look first (`idflow replay`).

use std::path::PathBuf;
use std::process::ExitCode;

use idflow_testkit::corpus;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: regenerate <output folder>   (the corpus lives in tests/replay)");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match corpus::write_corpus(&dir) {
        Ok(written) => {
            for path in &written {
                println!("wrote {}", path.display());
            }
            println!(
                "{} histories of {} flows in {}",
                written.len(),
                corpus::flows().len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
