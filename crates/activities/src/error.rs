//! The crate's error types: expected refusals (an invalid form definition) kept apart from
//! failures (storage, file I/O).

use idflow_store::StoreError;

use crate::forms::FormInvalid;

/// The error of deploying custom forms.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// The definition was refused: the caller sent something wrong (HTTP 400).
    #[error(transparent)]
    Invalid(FormInvalid),
    /// A file of a folder being deployed was refused.
    #[error("{path}: {source}")]
    InvalidFile { path: String, source: FormInvalid },
    /// Reading a form file failed.
    #[error("could not read {path}: {reason}")]
    Io { path: String, reason: String },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FormError {
    /// The refusal, when the definition itself was at fault (not the machine).
    pub fn invalid(&self) -> Option<&FormInvalid> {
        match self {
            FormError::Invalid(e) | FormError::InvalidFile { source: e, .. } => Some(e),
            FormError::Io { .. } | FormError::Store(_) => None,
        }
    }
}
