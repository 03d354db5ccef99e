//! The runtime's persisted shapes, each its own [`Record`] type, and their conversions to and
//! from the engine's core types. History is stored as [`HistoryChunkRecord`]s (`chunk`), held
//! in the instance record ([`HeldChunk`]) since record version 2 and under `h/{id}/...` keys
//! before; the export format is not here but in [`crate::export`].
//!
//! Field names are short on purpose: an instance and its history are written on every
//! transition, and the bytes per completed instance are budgeted (≤ 4 KB on disk). Every field is
//! listed below with its long name.

use std::collections::BTreeSet;

use idflow_defs::ActivityType;
use idflow_engine::{ArmedTimer, Ending, Instance, Lifecycle, PathMark, Status};
use idflow_expr::VarPath;
use idflow_store::{render_key, Record, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::codec::ErrorRecord;
use crate::codec::{parse_seed, seed_text};

fn corrupt(key: &[u8], reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: render_key(key),
        reason: reason.into(),
    }
}

/// Parses a status as persisted, naming the key when it is not one.
fn parse_status(key: &[u8], s: &str) -> Result<Status, StoreError> {
    Status::parse(s).ok_or_else(|| corrupt(key, format!("unknown instance status '{s}'")))
}

fn parse_path(key: &[u8], s: &str) -> Result<VarPath, StoreError> {
    VarPath::parse(s).map_err(|e| corrupt(key, format!("bad variable path '{s}': {e}")))
}

fn parse_activity(key: &[u8], s: &str) -> Result<ActivityType, StoreError> {
    ActivityType::from_key(s).ok_or_else(|| corrupt(key, format!("unknown activity type '{s}'")))
}

// ---------------------------------------------------------------------------------------------
// Deployments

/// One deployed version of a definition (`dep/{tenant}/{name}/{version}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// The definition's name: its process ID.
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "v")]
    pub version: u32,
    /// Hex SHA-256 of the file's bytes.
    #[serde(rename = "h")]
    pub content_hash: String,
    /// The process `name` attribute, if any.
    #[serde(rename = "pn", default, skip_serializing_if = "Option::is_none")]
    pub process_name: Option<String>,
    /// The file name (or label) it was deployed from.
    #[serde(rename = "l")]
    pub source_label: String,
    #[serde(rename = "at")]
    pub deployed_at_ms: i64,
}

impl Record for DeploymentRecord {
    const KIND: &'static str = "deployment";
    const VERSION: u8 = 1;
}

/// A deployed version's BPMN bytes (`dsrc/...`), base64 so any encoding survives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceRecord {
    #[serde(rename = "b64")]
    pub base64: String,
}

impl Record for SourceRecord {
    const KIND: &'static str = "definition-source";
    const VERSION: u8 = 1;
}

impl SourceRecord {
    pub fn new(bytes: &[u8]) -> SourceRecord {
        SourceRecord {
            base64: data_encoding::BASE64.encode(bytes),
        }
    }

    pub fn bytes(&self, key: &[u8]) -> Result<Vec<u8>, StoreError> {
        data_encoding::BASE64
            .decode(self.base64.as_bytes())
            .map_err(|e| corrupt(key, format!("definition source is not base64: {e}")))
    }
}

/// The version a content hash was deployed as (`dhash/...`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct VersionRecord {
    #[serde(rename = "v")]
    pub version: u32,
}

impl Record for VersionRecord {
    const KIND: &'static str = "deployment-hash";
    const VERSION: u8 = 1;
}

// ---------------------------------------------------------------------------------------------
// Process tokens

/// A process token (`tok/{tenant}/{name}`). Holds the credential (`id`), so it has no `Debug`.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The 26-character credential end users present.
    pub id: String,
    pub name: String,
    #[serde(rename = "desc", default)]
    pub description: String,
    #[serde(rename = "def")]
    pub process_defn_name: String,
    #[serde(rename = "ver", default, skip_serializing_if = "Option::is_none")]
    pub process_defn_version: Option<u32>,
    /// `UNLIMITED`, `MULTI_USE_COUNT_LIMITED` or `MULTI_USE_TIME_LIMITED`.
    #[serde(rename = "type")]
    pub token_type: String,
    #[serde(rename = "max", default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    #[serde(rename = "exp", default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Copied into `processvar.token` at start: a JSON object.
    #[serde(rename = "par")]
    pub parameters: Value,
    #[serde(rename = "ui", default, skip_serializing_if = "Option::is_none")]
    pub ui_url: Option<String>,
    pub uses: u64,
    #[serde(rename = "at")]
    pub created_at_ms: i64,
}

impl Record for TokenRecord {
    const KIND: &'static str = "process-token";
    const VERSION: u8 = 1;
}

/// Where the token with a given credential lives (`tokid/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenIdRecord {
    #[serde(rename = "t")]
    pub tenant: String,
    #[serde(rename = "n")]
    pub name: String,
}

impl Record for TokenIdRecord {
    const KIND: &'static str = "process-token-id";
    const VERSION: u8 = 1;
}

// ---------------------------------------------------------------------------------------------
// Instances

/// Where an instance is, as persisted: `{"k": "new"}`, `{"k": "act", "n": node}`,
/// `{"k": "step", "n": node, "s": step}`, `{"k": "end"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "k")]
pub enum PositionRecord {
    #[serde(rename = "new")]
    NotStarted,
    #[serde(rename = "act")]
    AwaitingActivity {
        #[serde(rename = "n")]
        node: String,
    },
    #[serde(rename = "step")]
    AtStep {
        #[serde(rename = "n")]
        node: String,
        #[serde(rename = "s")]
        step_id: String,
    },
    #[serde(rename = "end")]
    Ended,
}

impl PositionRecord {
    pub fn from_engine(lifecycle: &Lifecycle) -> PositionRecord {
        match lifecycle {
            Lifecycle::NotStarted => PositionRecord::NotStarted,
            Lifecycle::AwaitingActivity { node, .. } => PositionRecord::AwaitingActivity {
                node: node.to_string(),
            },
            Lifecycle::AtStep { node, step_id, .. } => PositionRecord::AtStep {
                node: node.to_string(),
                step_id: step_id.clone(),
            },
            Lifecycle::Ended { .. } => PositionRecord::Ended,
        }
    }

    /// Where the instance is, in words, for [`LifecycleMismatch`]'s messages.
    fn describe(&self) -> &'static str {
        match self {
            PositionRecord::NotStarted => "has not started",
            PositionRecord::AwaitingActivity { .. } => "awaits an activity",
            PositionRecord::AtStep { .. } => "rests at a step",
            PositionRecord::Ended => "has ended",
        }
    }
}

/// How a stored instance record's lifecycle fields (`s`, `p`, `tm`, `o`, `e`, `m`) disagree: a
/// record the engine cannot have written, refused rather than turned into an impossible
/// [`Lifecycle`]. Each names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleMismatch {
    #[error(
        "field `s` (status) is {status}, but field `p` (position) says the instance {position}"
    )]
    Status {
        status: Status,
        position: &'static str,
    },
    #[error("field `tm` (timers) holds {count} timer(s), but the instance {position}: timers are armed only at a step")]
    TimersOffStep {
        count: usize,
        position: &'static str,
    },
    #[error("field `o` (outcome) is set, but a {status} instance has none")]
    UnexpectedOutcome { status: Status },
    #[error("field `o` (outcome) is missing, but a {status} instance ended at an end event, whose name is its outcome")]
    MissingOutcome { status: Status },
    #[error("field `e` (error) is set, but a {status} instance has none: only COMPLETED_PROCESS_ERROR has an error")]
    UnexpectedError { status: Status },
    #[error("field `e` (error) is missing, but a COMPLETED_PROCESS_ERROR instance has one")]
    MissingError,
    #[error("field `m` (path mark) is set, but the instance has not started")]
    PathMarkBeforeStart,
}

impl LifecycleMismatch {
    /// The record field at fault (its short name, as stored).
    pub fn field(&self) -> &'static str {
        match self {
            LifecycleMismatch::Status { .. } => "s",
            LifecycleMismatch::TimersOffStep { .. } => "tm",
            LifecycleMismatch::UnexpectedOutcome { .. }
            | LifecycleMismatch::MissingOutcome { .. } => "o",
            LifecycleMismatch::UnexpectedError { .. } | LifecycleMismatch::MissingError => "e",
            LifecycleMismatch::PathMarkBeforeStart => "m",
        }
    }
}

/// An armed timer inside the instance state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TimerRecord {
    #[serde(rename = "tm")]
    pub timer_id: String,
    #[serde(rename = "b")]
    pub boundary: String,
    pub due: i64,
}

/// The view of the step an instance rests at, as rendered by the activity handler.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct StepViewRecord {
    #[serde(rename = "s")]
    pub step_id: String,
    #[serde(rename = "n")]
    pub node: String,
    #[serde(rename = "a")]
    pub activity: String,
    #[serde(rename = "view")]
    pub view: Value,
}

/// The digest of the last answer applied, so the same answer sent twice is applied once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnswerDigestRecord {
    #[serde(rename = "s")]
    pub step_id: String,
    /// Hex of the first 16 bytes of SHA-256 over the answer's canonical JSON.
    #[serde(rename = "d")]
    pub digest: String,
}

/// An instance's whole persisted state (`i/{id}`). Holds real secret values in `x` (activities
/// need them), so it has no `Debug`; `sp` lists the secret paths that API reads redact.
#[derive(Clone, Serialize, Deserialize)]
pub struct InstanceRecord {
    /// Tenant.
    #[serde(rename = "t")]
    pub tenant: String,
    /// Definition name.
    #[serde(rename = "d")]
    pub definition: String,
    /// Definition version.
    #[serde(rename = "v")]
    pub version: u32,
    /// The process token it was started with, if any.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    /// Status as product.md spells it.
    #[serde(rename = "s")]
    pub status: String,
    /// The process variables.
    #[serde(rename = "x")]
    pub variables: Value,
    /// Secret variable paths, canonical text.
    #[serde(rename = "sp", default, skip_serializing_if = "Vec::is_empty")]
    pub secret_paths: Vec<String>,
    /// Position.
    #[serde(rename = "p")]
    pub position: PositionRecord,
    /// Armed timers.
    #[serde(rename = "tm", default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<TimerRecord>,
    /// Index of the next history event.
    #[serde(rename = "n")]
    pub next_event: u64,
    /// Outcome: the end event's name (else ID).
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The error it ended with.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
    /// Path mark: `e` error path, `t` timed out; absent when normal.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub path_mark: Option<String>,
    /// Started at (Unix ms).
    #[serde(rename = "c")]
    pub started_ms: i64,
    /// Last changed at (Unix ms).
    #[serde(rename = "u")]
    pub updated_ms: i64,
    /// The current step's rendered view, while resting at one.
    #[serde(rename = "w", default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepViewRecord>,
    /// The last answer applied.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub last_answer: Option<AnswerDigestRecord>,
    /// The step seed with its kind ([`crate::codec::seed_text`]: a seed without one is HMAC-SHA256);
    /// absent in instances stored before seeds existed, whose steps keep `{node}-{event index}` IDs.
    #[serde(rename = "ss", default, skip_serializing_if = "Option::is_none")]
    pub step_seed: Option<String>,
    /// History held in the record (version 2): one chunk per transition chain, in order, the
    /// last ending at `n`. Events before the first held chunk are `h/{id}/...` keys (a store
    /// written before version 2, or history moved out past [`crate::HELD_HISTORY_BYTES`]);
    /// empty when every event is there (or there are none).
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HeldChunk>,
}

/// Version 1 is version 2 without `h`: its history is all in `h/{id}/...` keys.
fn upgrade_instance_v1<R: serde::de::DeserializeOwned>(
    version: u8,
    json: Value,
) -> Result<R, String> {
    match version {
        1 => serde_json::from_value(json).map_err(|e| format!("instance record version 1: {e}")),
        other => Err(format!("no upgrade from instance version {other}")),
    }
}

impl Record for InstanceRecord {
    const KIND: &'static str = "instance";
    /// 2: the history rides in the record (`h`), so a transition writes one value. A build that
    /// knows only version 1 refuses these records instead of rewriting them without it.
    const VERSION: u8 = 2;

    fn upgrade(version: u8, json: Value) -> Result<Self, String> {
        upgrade_instance_v1(version, json)
    }
}

/// One history chunk held in an [`InstanceRecord`]: the JSON of a [`HistoryChunkRecord`]
/// (its compact layout, the `chunk` module's table), kept as text, so a transition copies the
/// chunks before it into the new record without parsing them; readers parse it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HeldChunk(Box<serde_json::value::RawValue>);

impl HeldChunk {
    pub(crate) fn new(chunk: &HistoryChunkRecord, key: &[u8]) -> Result<HeldChunk, StoreError> {
        serde_json::value::to_raw_value(chunk)
            .map(HeldChunk)
            .map_err(|e| corrupt(key, format!("history chunk does not encode: {e}")))
    }

    /// Bytes of its JSON.
    pub(crate) fn len(&self) -> usize {
        self.0.get().len()
    }

    /// The chunk's events; `key` (the instance record's) names it in errors.
    pub(crate) fn chunk(&self, key: &[u8]) -> Result<HistoryChunkRecord, StoreError> {
        serde_json::from_str(self.0.get())
            .map_err(|e| corrupt(key, format!("history held in the record: {e}")))
    }
}

/// The first fields of an [`InstanceRecord`] only: which definition an instance runs, read
/// without building its variables.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct InstanceHeader {
    #[serde(rename = "t")]
    pub tenant: String,
    #[serde(rename = "d")]
    pub definition: String,
    #[serde(rename = "v")]
    pub version: u32,
    /// Where it is (an answer is rehearsed only at a step an activity that prepares follows).
    #[serde(rename = "p")]
    pub position: PositionRecord,
}

impl Record for InstanceHeader {
    const KIND: &'static str = InstanceRecord::KIND;
    const VERSION: u8 = InstanceRecord::VERSION;

    fn upgrade(version: u8, json: Value) -> Result<Self, String> {
        upgrade_instance_v1(version, json)
    }
}

/// What a chain needs of an instance's previous record once its state went to the engine.
#[derive(Clone)]
pub(crate) struct Prior {
    pub active: bool,
    /// The earliest armed timer (its active-index position).
    pub earliest_due: Option<i64>,
    pub next_event: u64,
    pub step: Option<StepViewRecord>,
    pub last_answer: Option<AnswerDigestRecord>,
}

/// What the runtime knows about an instance beyond the engine's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstanceMeta {
    pub tenant: String,
    pub definition: String,
    pub version: u32,
    pub token_name: Option<String>,
    pub started_ms: i64,
}

impl InstanceRecord {
    pub(crate) fn meta(&self) -> InstanceMeta {
        InstanceMeta {
            tenant: self.tenant.clone(),
            definition: self.definition.clone(),
            version: self.version,
            token_name: self.token_name.clone(),
            started_ms: self.started_ms,
        }
    }

    /// The record of `instance` with the runtime's metadata.
    #[cfg(test)]
    pub(crate) fn from_engine(
        instance: &Instance,
        meta: &InstanceMeta,
        updated_ms: i64,
        step: Option<StepViewRecord>,
        last_answer: Option<AnswerDigestRecord>,
    ) -> InstanceRecord {
        InstanceRecord::from_engine_owned(instance.clone(), meta, updated_ms, step, last_answer)
    }

    /// [`InstanceRecord::from_engine`], moving the instance's variables instead of copying them
    /// (this runs inside the store transaction, on every transition).
    pub(crate) fn from_engine_owned(
        instance: Instance,
        meta: &InstanceMeta,
        updated_ms: i64,
        step: Option<StepViewRecord>,
        last_answer: Option<AnswerDigestRecord>,
    ) -> InstanceRecord {
        let status = instance.status().as_str().to_string();
        let position = PositionRecord::from_engine(&instance.lifecycle);
        let path_mark = instance.lifecycle.path_mark();
        let (timers, outcome, error) = match instance.lifecycle {
            Lifecycle::NotStarted | Lifecycle::AwaitingActivity { .. } => (Vec::new(), None, None),
            Lifecycle::AtStep { timers, .. } => {
                let timers = timers
                    .into_iter()
                    .map(|t| TimerRecord {
                        timer_id: t.timer_id,
                        boundary: t.boundary.to_string(),
                        due: t.due_ms,
                    })
                    .collect();
                (timers, None, None)
            }
            Lifecycle::Ended { ending, .. } => match ending {
                Ending::EndedSuccess { outcome } | Ending::EndedError { outcome } => {
                    (Vec::new(), Some(outcome), None)
                }
                Ending::Terminated { outcome } => (Vec::new(), outcome, None),
                Ending::ProcessError { error } => {
                    (Vec::new(), None, Some(ErrorRecord::from_engine(&error)))
                }
            },
        };
        InstanceRecord {
            tenant: meta.tenant.clone(),
            definition: meta.definition.clone(),
            version: meta.version,
            token_name: meta.token_name.clone(),
            status,
            variables: instance.variables,
            secret_paths: instance
                .secret_paths
                .iter()
                .map(ToString::to_string)
                .collect(),
            position,
            timers,
            next_event: instance.next_event,
            outcome,
            error,
            path_mark: match path_mark {
                PathMark::Normal => None,
                PathMark::ErrorPath => Some("e".to_string()),
                PathMark::TimedOut => Some("t".to_string()),
            },
            started_ms: meta.started_ms,
            updated_ms,
            step,
            last_answer,
            step_seed: instance.step_seed.as_ref().map(seed_text),
            history: Vec::new(),
        }
    }

    /// The engine's state for instance `id`; `key` names the record in errors.
    #[cfg(test)]
    pub(crate) fn to_engine(&self, id: &str, key: &[u8]) -> Result<Instance, StoreError> {
        Ok(self.clone().into_engine(id, key)?.0)
    }

    /// [`InstanceRecord::to_engine`], moving the variables out, with what the runtime keeps
    /// of the record besides. A record whose lifecycle fields disagree is corrupt
    /// ([`InstanceRecord::lifecycle`]).
    pub(crate) fn into_engine(self, id: &str, key: &[u8]) -> Result<(Instance, Prior), StoreError> {
        let secret_paths = self
            .secret_paths
            .iter()
            .map(|p| parse_path(key, p))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let lifecycle = self.checked_lifecycle(key)?;
        let step_seed = match &self.step_seed {
            Some(text) => Some(parse_seed(text).map_err(|e| corrupt(key, e))?),
            None => None,
        };
        let prior = Prior {
            active: lifecycle.status() == Status::Active,
            earliest_due: self.timers.iter().map(|t| t.due).min(),
            next_event: self.next_event,
            step: self.step,
            last_answer: self.last_answer,
        };
        let instance = Instance {
            id: id.to_string(),
            step_seed,
            variables: self.variables,
            secret_paths,
            next_event: self.next_event,
            lifecycle,
        };
        Ok((instance, prior))
    }

    /// The engine's [`Lifecycle`] from the record's lifecycle fields; a record whose fields
    /// disagree ([`LifecycleMismatch`]) is corrupt, and the error names the field.
    pub(crate) fn checked_lifecycle(&self, key: &[u8]) -> Result<Lifecycle, StoreError> {
        let path_mark = match self.path_mark.as_deref() {
            None => PathMark::Normal,
            Some("e") => PathMark::ErrorPath,
            Some("t") => PathMark::TimedOut,
            Some(other) => return Err(corrupt(key, format!("unknown path mark '{other}'"))),
        };
        let status = self.status(key)?;
        self.lifecycle(status, path_mark)
            .map_err(|e| corrupt(key, e.to_string()))
    }

    /// The engine's [`Lifecycle`] from the record's status (`s`, parsed), position (`p`),
    /// timers (`tm`), outcome (`o`), error (`e`) and path mark (`m`, parsed), refused when they
    /// disagree: timers away from a step, an outcome or error the status does not have, an
    /// ended position with an `ACTIVE` status, ...
    pub(crate) fn lifecycle(
        &self,
        status: Status,
        path_mark: PathMark,
    ) -> Result<Lifecycle, LifecycleMismatch> {
        let ended = matches!(self.position, PositionRecord::Ended);
        if ended == (status == Status::Active) {
            return Err(LifecycleMismatch::Status {
                status,
                position: self.position.describe(),
            });
        }
        if !self.timers.is_empty() && !matches!(self.position, PositionRecord::AtStep { .. }) {
            return Err(LifecycleMismatch::TimersOffStep {
                count: self.timers.len(),
                position: self.position.describe(),
            });
        }
        let outcome = || {
            self.outcome
                .clone()
                .ok_or(LifecycleMismatch::MissingOutcome { status })
        };
        let ending = match status {
            Status::Active => None,
            Status::CompletedEndedSuccess => Some(Ending::EndedSuccess {
                outcome: outcome()?,
            }),
            Status::CompletedEndedError => Some(Ending::EndedError {
                outcome: outcome()?,
            }),
            Status::CompletedTerminated => Some(Ending::Terminated {
                outcome: self.outcome.clone(),
            }),
            Status::CompletedProcessError => Some(Ending::ProcessError {
                error: self
                    .error
                    .as_ref()
                    .ok_or(LifecycleMismatch::MissingError)?
                    .to_engine(),
            }),
        };
        let has_outcome = ending.as_ref().and_then(Ending::outcome).is_some();
        if self.outcome.is_some() && !has_outcome {
            return Err(LifecycleMismatch::UnexpectedOutcome { status });
        }
        if self.error.is_some() && status != Status::CompletedProcessError {
            return Err(LifecycleMismatch::UnexpectedError { status });
        }
        Ok(match (&self.position, ending) {
            (PositionRecord::Ended, Some(ending)) => Lifecycle::Ended { ending, path_mark },
            (PositionRecord::NotStarted, None) => {
                if path_mark != PathMark::Normal {
                    return Err(LifecycleMismatch::PathMarkBeforeStart);
                }
                Lifecycle::NotStarted
            }
            (PositionRecord::AwaitingActivity { node }, None) => Lifecycle::AwaitingActivity {
                node: node.into(),
                path_mark,
            },
            (PositionRecord::AtStep { node, step_id }, None) => Lifecycle::AtStep {
                node: node.into(),
                step_id: step_id.clone(),
                timers: self
                    .timers
                    .iter()
                    .map(|t| ArmedTimer {
                        timer_id: t.timer_id.clone(),
                        boundary: t.boundary.as_str().into(),
                        due_ms: t.due,
                    })
                    .collect(),
                path_mark,
            },
            // Checked above: an ended position has a completed status, any other `ACTIVE`.
            (position, _) => {
                return Err(LifecycleMismatch::Status {
                    status,
                    position: position.describe(),
                })
            }
        })
    }

    pub(crate) fn status(&self, key: &[u8]) -> Result<Status, StoreError> {
        parse_status(key, &self.status)
    }

    pub(crate) fn secret_path_set(&self, key: &[u8]) -> Result<BTreeSet<VarPath>, StoreError> {
        self.secret_paths
            .iter()
            .map(|p| parse_path(key, p))
            .collect()
    }
}

pub(crate) fn activity_of(key: &[u8], s: &str) -> Result<ActivityType, StoreError> {
    parse_activity(key, s)
}

mod chunk;
pub use chunk::HistoryChunkRecord;

#[cfg(test)]
mod tests;
