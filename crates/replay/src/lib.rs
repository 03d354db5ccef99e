//! Replay tests for idflow: re-run recorded instance histories against definitions and report
//! success or the first divergence (event index, the node expected and the node reached, the
//! event fields and the variables that differ).
//!
//! A history is the runtime's export ([`idflow_runtime::HistoryExport`], whose rustdoc is the one
//! place the format is documented): every input the engine received (the clock, the instance
//! ID, the token's parameters, activity results, answers, timer firings) with secrets already
//! replaced by commitment markers, and the BPMN file of the version the instance ran. Replaying
//! feeds those inputs to the engine again ([`idflow_engine::replay`]) and compares every event.
//!
//! # Using it in a project's tests
//!
//! ```no_run
//! use idflow_replay::{replay_dir, Against};
//!
//! // Every `*.json` history in the folder, each against the definition of the same process ID
//! // in `definitions/` (the recorded version if the folder still has it, else the changed one).
//! let report = replay_dir("tests/replay", &Against::Definitions("definitions".into()))
//!     .expect("the folders can be read");
//! assert!(report.all_replayed(), "{report}");
//! ```
//!
//! [`Replayer`] loads the definitions once for many calls; [`replay_file`] replays one history;
//! [`Replayer::replay_bytes`] one held in memory. The `idflow replay` command is a front end to
//! the same calls. The corpus of recorded histories of the shipped flows in `tests/replay` is
//! recorded by the test kit (`idflow_testkit::corpus`, a dev-dependency only), so this crate
//! knows neither the activities nor identity.
//!
//! # What counts as a divergence
//!
//! The engine's replay compares events exactly, with two deliberate exceptions when a history is
//! replayed against a *changed* definition (another content hash under the same process ID):
//!
//! - the start event's content hash is the changed definition's (it necessarily differs);
//! - element names are cosmetic: an instance that ends at the same end node under a new label
//!   has taken the same path, so the recorded outcome (the end event's name) is read as the
//!   changed definition names that end event.
//!
//! So these changes replay: a renamed label, a moved diagram (BPMNDI is not executed), a new
//! branch the history never took (a gateway flow tested after the one taken, a boundary event
//! for an error code the history never raised), documentation. These diverge at the event where
//! the path first differs: a flipped gateway condition (at `chose`), a removed activity (at the
//! `entered` that reaches something else), a re-routed error boundary (at the `entered` after
//! `boundary`), a changed activity parameter (at `scheduled`, the resolved inputs differ), a
//! changed form data key, timer duration, or error code.
//!
//! Known limits: a process-error message that quotes a renamed element's label is compared as
//! text; a gateway condition that reads a secret sees its marker in a replay (the engine's
//! replay documents both). Editing an activity's recorded result cannot be detected by replay:
//! recorded results are inputs, taken as given.
//!
//! # Refused histories
//!
//! A file that is not JSON, not an `idflow-history`, of an unknown version, with events out of
//! order, stopping inside a transition (a recorded history ends where its instance rested at a
//! step or ended), whose start event contradicts it, whose embedded definition does not hash to
//! the recorded content hash, or with no definition to replay against, is refused with a
//! [`Refusal`] naming the fault. Nothing a file holds makes the replay panic.

mod definitions;
mod diff;
mod error;
mod history;
mod replayer;
mod report;

pub use definitions::SourcedDefinition;
pub use error::{Refusal, ReplayError};
pub use history::{parse as parse_history, History, MAX_HISTORY_BYTES};
pub use replayer::{history_files, replay_dir, replay_file, rerun, Against, Replayer};
pub use report::{
    DefinitionUsed, Difference, DirReport, Divergence, NodeRef, Outcome, Relation, ReplayReport,
    Replayed, Summary, VariableComparison,
};

/// `tests/replay/README.md`, included when doctests run so its Rust example is compiled and
/// cannot drift from this API.
#[cfg(doctest)]
#[doc = include_str!("../../../tests/replay/README.md")]
pub struct ReadmeDoctests;
