//! The runtime's integration tests, one binary (one link) for all of them: deployments, process
//! tokens, instances, timers, restarts and the upgrade of a store's index keys. Two tests are
//! binaries of their own: the SIGKILL crash test (`tests/crash.rs`) re-executes itself as the
//! child it kills, and `tests/logs.rs` captures log lines, which must not race with other tests reaching the same call sites.
//!
//! Every test here runs on sled, then again on PostgreSQL (`every_test_again_on_postgresql`):
//! the harness in `common.rs` opens whichever store the run is for.

mod cluster;
mod common;
mod deployments;
mod instances;
mod prepared;
mod restart;
mod timers;
mod tokens;
mod upgrade;

#[test]
fn every_test_again_on_postgresql() {
    idflow_pgtest::every_test_again_on_postgresql();
}
