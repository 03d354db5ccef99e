//! The runtime's integration tests, one binary (one link) for all of them: deployments, process
//! tokens, instances, timers and restarts. Two tests are binaries of their own: the SIGKILL crash
//! test (`tests/crash.rs`) re-executes itself as the child it kills, and `tests/logs.rs` captures
//! log lines, which must not race with other tests reaching the same call sites.

mod cluster;
mod common;
mod deployments;
mod instances;
mod prepared;
mod restart;
mod timers;
mod tokens;
