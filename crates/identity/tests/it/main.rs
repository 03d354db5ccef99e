//! The identity crate's integration tests, one binary (one link) for all of them: passcode and
//! TOTP lifecycles through the facade, hostile and random input, SRP against other
//! implementations' vectors, concurrency and restarts on a real store.
//!
//! Every test here runs on sled, then again on PostgreSQL (`every_test_again_on_postgresql`):
//! the fixtures take their stores from `idflow_pgtest`, which opens whichever the run is for.

mod common;
mod concurrency;
mod hostile_input;
mod passcode_hostile;
mod passcode_lifecycle;
mod prepared_proofs;
mod restart;
mod srp_interop;
mod srp_random;
mod totp_flows;

#[test]
fn every_test_again_on_postgresql() {
    idflow_pgtest::every_test_again_on_postgresql();
}
