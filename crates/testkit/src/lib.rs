//! Test support shared by idflow's crates, never shipped (`publish = false`, only ever a
//! dev-dependency): flows of the shipped definitions walked through the real runtime and activity
//! catalogue on temporary stores, with the identity crate's Rust SRP and TOTP clients acting as
//! the browser.
//!
//! - [`corpus`]: every path of every shipped flow as a seeded [`corpus::Scenario`]; records the
//!   replay corpus in `tests/replay` (regenerated with
//!   `cargo run -p idflow-testkit --example regenerate -- tests/replay`) and the many seeded runs
//!   of the replay crate's tests. Used by the replay and CLI tests.
//! - [`demo_world`]: a store with the demo tenant seeded, a manual clock and helpers that answer
//!   steps; the world the activities' catalogue and flow tests (`tests/flows/*.json`) run in.
//!
//! It lives in a crate of its own so that the crates it drives need not depend on it: the replay
//! crate replays histories without knowing the activities or identity, which only recording them
//! needs.

pub mod corpus;
pub mod demo_world;
