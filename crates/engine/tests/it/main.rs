//! The engine's integration tests, one binary: the file-driven cases of `tests/engine/`, the
//! property tests that run on their definitions, and the rules of `apply` on definitions built
//! by hand (`transitions`).

mod cases;
mod properties;
mod transitions;
