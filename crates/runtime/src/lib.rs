//! The idflow runtime: deployments, process tokens, instances and timers on a durable store,
//! around the sans-IO engine.
//!
//! A [`Runtime`] owns no threads of its own except the optional timer thread
//! ([`Runtime::spawn_timer_thread`]); callers (the HTTP server, `idflow run`, tests) drive it
//! from their threads, and it is `Send + Sync` behind an `Arc`.
//!
//! # Guarantees
//!
//! - **One chain, one commit.** A start, an answer, a fired timer or a cancel runs the engine
//!   until the instance rests at a step or ends, executing each activity through the
//!   [`ActivityHandler`] *inside* the transaction. Engine transitions, activity effects (identity
//!   writes), the instance state, its history events, timer index changes and the token use are
//!   one atomic store transaction, durable (flushed) before the call returns. A crash loses
//!   nothing acknowledged and leaves nothing half-applied.
//! - **Throughput.** Concurrent starts, answers and cancels are combined: one caller runs up to
//!   128 queued chains in one store transaction and one flush, each chain still atomic and
//!   isolated (a refused chain writes nothing; a failing one is retried alone). See the private
//!   `chains` and `durable` modules.
//! - **Races.** Two answers to one step: exactly one applies, the other is the engine's
//!   `StaleStep`. The same answer sent twice applies once. A count-limited token with
//!   `maxUses = n` starts exactly n instances.
//! - **Restarts.** Active instances are indexed by their next timer, in the same transaction as
//!   their state, so timers fire after a restart with nothing to re-arm; [`Runtime::resume`]
//!   checks every active instance against the index on startup.
//!
//! # Modules
//!
//! [`records`] holds every persisted shape and documents the history export format;
//! the store key layout is documented in the private `keys` module:
//! `dep/`, `dsrc/`, `dhash/`, `dlast/` deployments, `tok/`, `tokid/` tokens, `i/` instances,
//! `h/` history, `st/` statistics counters (the private `statistics` module), `xa/` active
//! instances by next timer, `xt/` per-tenant listing, `xe/` ended instances for the retention
//! purge (the private `retention` module); the private `upgrade` module moves the text-layout
//! index keys of older stores (`ia/`, `it/`, `ie/`) to these once.

mod chains;
mod codec;
mod deployments;
mod durable;
mod error;
pub mod export;
pub mod flows;
mod handler;
mod ids;
mod instances;
mod keys;
pub mod records;
mod retention;
mod runtime;
mod statistics;
mod timers;
mod tokens;
mod upgrade;

pub use deployments::{Deployment, DeploymentInfo};
pub use error::{Diagnostics, RuntimeError, TokenRefusal};
pub use export::{
    ExportedDefinition, ExportedEvent, HistoryExport, SourceEncoding, HISTORY_FORMAT,
    HISTORY_VERSION,
};
pub use handler::{
    plain_step_view, ActivityContext, ActivityHandler, Prepared, Script, ScriptError,
    ScriptedActivities,
};
pub use idflow_clock::{Clock, ManualClock, SystemClock};
pub use instances::{
    DefinitionKey, InstancePage, InstanceQuery, InstanceSummary, InstanceView, StepView,
    HELD_HISTORY_BYTES, MAX_PAGE,
};
pub use retention::{PurgeReport, RetentionPolicy};
pub use runtime::{InstanceStorage, Runtime, RuntimeConfig};
pub use statistics::DefinitionStatistics;
pub use timers::{FiredTimers, ResumeReport, TimerThread};
pub use tokens::{
    NewToken, ProcessToken, TokenKind, TokenStatus, MAX_TOKEN_NAME_CHARS, MAX_TOKEN_TEXT_CHARS,
};
