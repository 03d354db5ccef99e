//! The CLI's integration tests, one binary (one link) for all of them: `idflow serve`,
//! `idflow validate` and `idflow store copy` run as child processes of the built binary, and
//! the workspace's habits (every Rust file opens with a `//!` line).

mod cluster_kill;
mod common;
mod serve;
mod store_copy;
mod tidy;
mod validate;
