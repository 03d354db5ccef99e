//! The definition loader's integration tests, one binary (one link) for all of them: the
//! file-driven valid and invalid cases, the MIWG reference files, the shipped definitions, the
//! element templates, the loader's limits and its fuzzing.

mod definitions;
mod fuzz;
mod limits;
mod miwg;
mod shipped;
mod templates;
