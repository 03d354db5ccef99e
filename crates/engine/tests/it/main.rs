//! The engine's integration tests, one binary: the file-driven cases of `tests/engine/` and the
//! property tests that run on their definitions.

mod cases;
mod properties;
