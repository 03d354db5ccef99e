//! What can go wrong: [`ReplayError`] when a replay cannot run at all, [`Refusal`] when one
//! history cannot be replayed (an expected outcome, reported in its [`crate::ReplayReport`]).

use std::path::PathBuf;

/// Why a replay could not run at all: a file or folder that cannot be read, or a definition
/// given to replay against that does not load. What happens to each history (replayed,
/// diverged, refused) is never an error: it is the [`crate::Outcome`] of its report.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list definitions: {0}")]
    Definitions(#[from] idflow_defs::DefsError),
    #[error("definition file {} does not load: {summary}", path.display())]
    InvalidDefinition { path: PathBuf, summary: String },
}

/// Why a history is not replayed: the file is not a history this build can read, it was edited
/// into something no run could have recorded, or there is no definition to replay it against.
/// Messages name what is wrong and where (an event index, a field), never a secret: histories
/// hold none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is {size} bytes, over the {limit} bytes a history may have")]
    TooLarge { size: u64, limit: u64 },
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("not an idflow history: {0}")]
    NotAHistory(String),
    #[error("unsupported history version: {0}")]
    UnsupportedVersion(String),
    /// Events are not numbered 0, 1, 2… in file order: one was moved, removed or duplicated.
    #[error("events out of order: {0}")]
    OutOfOrder(String),
    /// The history stops inside a transition: a recorded history always ends where its instance
    /// rested at a step or ended.
    #[error("truncated history: {0}")]
    Truncated(String),
    /// The history contradicts itself (its start event, its instance ID, its embedded
    /// definition).
    #[error("inconsistent history: {0}")]
    Inconsistent(String),
    #[error("no definition to replay against: {0}")]
    DefinitionNotFound(String),
    #[error("definition {source_label} does not load: {summary}")]
    DefinitionInvalid {
        source_label: String,
        summary: String,
    },
    #[error("the history ran definition '{history}', but the definition given is '{definition}'")]
    OtherProcess { history: String, definition: String },
}
