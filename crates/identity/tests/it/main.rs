//! The identity crate's integration tests, one binary (one link) for all of them: passcode and
//! TOTP lifecycles through the facade, hostile and random input, SRP against other
//! implementations' vectors, concurrency and restarts on a real store.

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
