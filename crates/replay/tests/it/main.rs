//! The replay crate's integration tests, one binary (one link) for all of them: the recorded
//! corpus replays, changed definitions diverge where `tests/replay/changed` says, hand-edited
//! histories are refused or diverge, and many seeded runs of every flow replay and leak nothing.

mod changed;
mod corpus;
mod edited;
mod many_runs;
