//! The CLI's integration tests, one binary (one link) for all of them: `idflow serve` and
//! `idflow validate` run as child processes of the built binary, and the workspace's habits
//! (every Rust file opens with a `//!` line).

mod serve;
mod tidy;
mod validate;
