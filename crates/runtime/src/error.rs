//! The runtime's error type: expected outcomes (a refused token, a stale step, an invalid file)
//! apart from failures (storage, corruption), so callers map the first to 4xx answers and the
//! second to "try again later".

use std::fmt;

use idflow_defs::Diagnostic;
use idflow_engine::EngineError;
use idflow_store::StoreError;

/// Why a process token cannot start an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    /// The token was deactivated.
    Inactive,
    /// A `MULTI_USE_TIME_LIMITED` token past its `expiresAt`.
    Expired { expired_at_ms: i64 },
    /// A `MULTI_USE_COUNT_LIMITED` token that has started `maxUses` instances.
    UsedUp { max_uses: u64 },
}

impl TokenRefusal {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenRefusal::Inactive => "TOKEN_INACTIVE",
            TokenRefusal::Expired { .. } => "TOKEN_EXPIRED",
            TokenRefusal::UsedUp { .. } => "TOKEN_USED_UP",
        }
    }
}

impl fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenRefusal::Inactive => f.write_str("it is inactive"),
            TokenRefusal::Expired { expired_at_ms } => {
                write!(f, "it expired at {expired_at_ms} (Unix ms)")
            }
            TokenRefusal::UsedUp { max_uses } => {
                write!(f, "it has started its {max_uses} allowed instance(s)")
            }
        }
    }
}

/// Diagnostics of a definition file that did not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Everything a runtime call can answer besides success.
///
/// Variants up to [`RuntimeError::Engine`] are expected outcomes of the caller's request;
/// [`RuntimeError::Store`] and [`RuntimeError::Inconsistent`] are failures
/// ([`RuntimeError::is_failure`]). No variant carries a secret: token credentials and variable
/// values never appear in messages.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("definition file '{source_label}' is invalid: {diagnostics}")]
    InvalidDefinition {
        source_label: String,
        diagnostics: Diagnostics,
    },
    #[error("no definition '{name}'{} is deployed in tenant '{tenant}'", version.map(|v| format!(" version {v}")).unwrap_or_default())]
    UnknownDefinition {
        tenant: String,
        name: String,
        version: Option<u32>,
    },
    #[error("a process token named '{name}' already exists in tenant '{tenant}'")]
    TokenNameTaken { tenant: String, name: String },
    #[error("process token field `{field}`: {reason}")]
    InvalidToken { field: &'static str, reason: String },
    #[error("no process token named '{name}' in tenant '{tenant}'")]
    UnknownTokenName { tenant: String, name: String },
    /// The presented credential matches no token (the credential itself is not repeated).
    #[error("no process token has the presented ID")]
    UnknownToken,
    #[error("process token '{name}' cannot start an instance: {reason}")]
    TokenRefused { name: String, reason: TokenRefusal },
    /// (The message shows the ID's log tag: the ID itself is a capability.)
    #[error("no process instance {}", idflow_ids::log_tag(.id))]
    UnknownInstance { id: String },
    #[error("start parameters must be a JSON object")]
    ParametersNotObject,
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("invalid retention policy: {0}")]
    InvalidRetention(String),
    /// The engine refused the input (a stale step, an instance no longer active, ...); nothing
    /// changed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Storage failed or holds something unreadable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data contradicts itself or the engine broke its contract (a bug, never input).
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
}

impl RuntimeError {
    /// Whether this is a failure of the system rather than an answer to the request.
    pub fn is_failure(&self) -> bool {
        matches!(self, RuntimeError::Store(_) | RuntimeError::Inconsistent(_))
    }
}
