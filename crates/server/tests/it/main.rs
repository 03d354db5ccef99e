//! The HTTP server over real HTTP on a loopback port picked at run time: the seeds' routes, a
//! passcode life, TOTP, token-started flows, permissions, races, hostile input, the end user's
//! pages and branding, the backoffice's operations (paths, cancel, replay, live numbers), the
//! document's agreement with what the server accepts, and what reads and exports give away.
//!
//! Every test here runs on sled, then again on PostgreSQL (`every_test_again_on_postgresql`):
//! the harness gives each data directory a database of its own on that run.

mod cluster;
mod common;
mod conformance;
mod designer;
mod flows;
mod hardening;
mod hostile;
mod identity;
mod openapi;
mod operations;
mod pages;
mod permissions;
mod races;
mod secrets;
mod seeds;

#[test]
fn every_test_again_on_postgresql() {
    idflow_pgtest::every_test_again_on_postgresql();
}
