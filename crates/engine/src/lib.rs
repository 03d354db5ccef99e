//! The sans-IO idflow engine: a definition, an instance's state and one [`Input`] in; the new
//! state, the history events and the one thing the outside must do next ([`Next`]) out.
//!
//! No clock, randomness, storage or threads live here: everything the engine draws from outside
//! (the time, the instance ID, the step seed, activity results, the end user's answers) arrives
//! in an [`Input`] and is recorded in the history, so re-applying the recorded inputs reproduces
//! the run exactly (replay, see [`replay()`]). The one secret it is handed, the
//! [`redact::MarkerKey`] that history's commitment markers are keyed with, is a parameter of
//! [`apply`], never stored or recorded; replay needs none.
//!
//! One call to [`apply`] runs until the instance needs the outside again, and says which of three
//! things it needs in [`Transition::next`]: an activity to execute (`Next::RunActivity`, answered
//! by `Input::ActivityDone`), a step to present (`Next::PresentStep`: the instance rests, with its
//! timers armed in its state, until `Input::Answer` or `Input::TimerFired`), or nothing more
//! (`Next::Ended`). The instance's [`Lifecycle`] says the same of its state (awaiting an
//! activity, at a step with its timers, ended with its [`Ending`]), in one value whose parts
//! cannot disagree; its status, timers, outcome and error are read from it.
//!
//! # Semantics in brief
//!
//! - Start copies the token's parameters to `processvar.token` and walks from the start event.
//! - An exclusive gateway takes the first outgoing flow (document order) whose condition holds (a
//!   flow without a condition holds), else its default flow; with neither, or when a condition
//!   cannot be evaluated, the instance ends `COMPLETED_PROCESS_ERROR` naming the gateway.
//! - An activity's parameters are resolved (every catalogue parameter with a value; a whole
//!   `<<...>>` keeps its JSON type; text is coerced to INTEGER/BOOLEAN/LIST_STRING where the
//!   catalogue says so) and it is scheduled. Its result's writes and checks are applied; a
//!   `Refused` result then takes the error boundary for its code (else a catch-all one, else the
//!   normal flow); a `Failed` one ends the instance `COMPLETED_PROCESS_ERROR`. A path that does
//!   not resolve, or a value that cannot be coerced, ends it the same way, naming the path and
//!   the activity.
//! - A step gets an unguessable ID derived from the instance's step seed and its event index
//!   ([`StepSeed::step_id`]; a revisited step gets a fresh one), arms its timer boundaries
//!   (due = now + duration), and rests. Its answer (a JSON object) is stored at
//!   `processvar.<answer key>` (the value of the parameter the catalogue names as the step's
//!   answer key, [`idflow_defs::StepSpec`]: "Form data Key"); a timer firing cancels the others
//!   and takes the timer's path.
//! - At an end event: an error end, or an error path (an error boundary taken since the last
//!   decider, an activity whose catalogue role is [`idflow_defs::Role::Decider`]), gives
//!   `COMPLETED_ENDED_ERROR`; a timed-out path `COMPLETED_TERMINATED`; a `FAIL` decision
//!   (`processvar._decision == "FAIL"`, [`idflow_defs::DECISION_VARIABLE`]) `COMPLETED_ENDED_ERROR`;
//!   anything else `COMPLETED_ENDED_SUCCESS`. The end's name (else its ID) is the outcome.
//!
//! The engine names no activity: what it does with one depends only on its catalogue role.
//! - The variables' serialized size is bounded ([`Limits`]): an answer over it is refused
//!   ([`EngineError::AnswerTooLarge`], the end user may retry), an activity's writes over it end
//!   the instance. So is the number of nodes entered in one transition (a loop with no step).
//! - Secrets never reach history: see [`redact`].
//!
//! # Events and what comes next
//!
//! Each transition's events are numbered from [`Instance::next_event`] and stamped with the
//! input's `now_ms`. The first event of a transition records its input, so a history replays
//! ([`inputs_from_history`], [`replay()`]).
//!
//! | input | events, in order |
//! |---|---|
//! | `Start` | `InstanceStarted`, then the walk |
//! | `ActivityDone` | `ActivityCompleted` / `ActivityRefused` (+ `BoundaryTaken`) / `ActivityFailed`, then the walk |
//! | `Answer` | `StepAnswered`, `TimerCancelled` for each armed timer, then the walk |
//! | `TimerFired` | `TimerFired`, `TimerCancelled` for the others, `BoundaryTaken`, then the walk |
//! | `Cancel` | `Cancelled`, `TimerCancelled`…, `InstanceEnded` |
//! | `Abort` | `Aborted`, `TimerCancelled`…, `InstanceEnded` |
//!
//! The walk: `NodeEntered` for each node reached, `GatewayChose` at each gateway, and it stops
//! with `ActivityScheduled` (next: `RunActivity`), `StepPresented` + `TimerArmed`… (next:
//! `PresentStep`; the armed timers are in [`Instance::timers`]), or `InstanceEnded` (next:
//! `Ended`). Values in events are redacted; values in [`Next`] are real (the activities and forms
//! need them).
//!
//! # Replay
//!
//! A history holds the redacted inputs; replaying them on a fresh instance gives the same events
//! because redaction is a fixed point whatever the key and keeps the shape of secret objects (see
//! [`redact`]), because the start event records the step seed, and because the size limit on
//! activities' writes is measured on the redacted view. What can still
//! diverge, and [`replay()`] names the event where it does: a gateway condition that reads a
//! secret (a replay sees its marker), and a secret value that failed coercion to its parameter's
//! type (a replay's marker passes).

mod machine;
pub mod path;
pub mod redact;
pub mod replay;
mod resolve;
mod types;
mod vars;

/// The path type of [`VarWrite`] and [`Instance::secret_paths`], re-exported so the engine's
/// users need not depend on `idflow-expr` for it.
pub use idflow_expr::VarPath;
pub use machine::apply;
pub use path::{path_taken, PathTaken};
pub use replay::{inputs_from_history, replay, Divergence};
pub use types::*;
