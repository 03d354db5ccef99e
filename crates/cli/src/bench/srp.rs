//! `idflow bench srp`: the server's CPU time per SRP authentication and renewal, beside OpenSSL's
//! `BN_mod_exp` for the same three exponentiations.
//!
//! The OpenSSL figures come from `scripts/bench-openssl-modexp.sh` (it compiles a small C program
//! against libcrypto, installing `libssl-dev` when missing), so the default build never needs
//! OpenSSL headers. When the script cannot run, the idflow figures are still printed, with the
//! reason the baseline is missing.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Args;

const DEFAULT_ITERATIONS: u64 = 2_000;

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let iterations = args.count.unwrap_or(DEFAULT_ITERATIONS) as usize;
    let mut report = idflow_identity::bench::run_srp_bench(iterations)?;
    let script = openssl_script();
    match idflow_identity::bench::run_openssl_baseline(&script, iterations) {
        Ok(baseline) => report.openssl = Some(baseline),
        Err(reason) => eprintln!("note: no OpenSSL baseline ({}): {reason}", script.display()),
    }
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// The harness script in the checkout this binary was built from, or `IDFLOW_OPENSSL_BENCH`.
fn openssl_script() -> PathBuf {
    std::env::var_os("IDFLOW_OPENSSL_BENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench-openssl-modexp.sh")
        })
}
