//! The sans-IO idflow engine: a definition, an instance's state and one [`Input`] in; the new
//! state, the history events and the [`Command`]s for the outside out.
//!
//! No clock, randomness, storage or threads live here: everything the engine draws from outside
//! (the time, the instance ID, activity results, the end user's answers) arrives in an [`Input`]
//! and is recorded in the history, so re-applying the recorded inputs reproduces the run exactly
//! (replay).
//!
//! One call to [`apply`] runs until the instance needs the outside again: an activity to execute
//! (`Command::RunActivity`, answered by `Input::ActivityDone`), a step to present (the instance
//! rests until `Input::Answer` or `Input::TimerFired`), or an end.

mod types;

pub use types::*;
