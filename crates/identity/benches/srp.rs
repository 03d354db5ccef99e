//! `cargo bench -p idflow-identity --bench srp`: the SRP server benchmark with the OpenSSL
//! baseline beside it (the same report `idflow bench srp` prints).
//!
//! `IDFLOW_BENCH_ITERATIONS` sets the iterations (default 1000); `IDFLOW_BENCH_NO_OPENSSL=1`
//! skips the OpenSSL harness (`scripts/bench-openssl-modexp.sh`, which needs a C compiler and
//! libcrypto).

use std::path::PathBuf;

use idflow_identity::bench;

fn main() {
    let iterations = std::env::var("IDFLOW_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1000);
    let mut report = match bench::run_srp_bench(iterations) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("SRP benchmark failed: {e}");
            std::process::exit(1);
        }
    };
    if std::env::var_os("IDFLOW_BENCH_NO_OPENSSL").is_none() {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench-openssl-modexp.sh");
        match bench::run_openssl_baseline(&script, iterations) {
            Ok(baseline) => report.openssl = Some(baseline),
            Err(e) => eprintln!("OpenSSL baseline skipped: {e}"),
        }
    }
    print!("{report}");
    if let Some(openssl) = &report.openssl {
        print!("{}", openssl.output);
    }
}
