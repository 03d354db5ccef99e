//! The history export format (version 1): one instance's whole history as JSON, what
//! `idflow history export` writes and replay reads. Its event layout ([`EventKindRecord`]) is
//! also how version-1 history chunks were stored (read through [`crate::records`]' upgrade).
//!
//! # History format (export version 1)
//!
//! An instance's history is a list of events, numbered from 0 without gaps. On disk the events
//! of one transition chain (a start, an answer, a timer, with the activities they ran) are
//! stored together as one [`HistoryChunkRecord`](crate::records::HistoryChunkRecord), in a
//! compact positional layout documented on that type (record version 2), held in the instance
//! record (`h`, since instance record version 2) or, in stores written before, under
//! `h/{instance}/{first index:016x}`.
//!
//! Exported (`idflow history export`, [`HistoryExport`]), every event carries its index and time:
//!
//! ```json
//! {"format": "idflow-history", "version": 1, "instance": "UGIRW7QN727EIV2XLXG4YH42N4",
//!  "tenant": "acme", "events": [{"i": 0, "t": 1700000000000, "k": "started", ...}, ...],
//!  "definition": {"name": "passcode-registration", "version": 1, "hash": "<sha256 hex>",
//!                 "encoding": "utf-8", "source": "<?xml ..."}}
//! ```
//!
//! `definition` ([`ExportedDefinition`], optional: a reader must accept its absence) embeds the
//! BPMN file of the version the instance ran, exactly as deployed, so an export replays on its
//! own (`idflow replay`): `hash` is the hex SHA-256 of the file's bytes and equals the `h` of the
//! `started` event; `encoding` is `utf-8` (`source` is the file's text) or `base64` (a file that
//! is not UTF-8). It was added to version 1 without a version change because it is optional and
//! readers of version 1 ignore fields they do not know.
//!
//! Whatever the engine drew from outside is in the events, so replay needs nothing else: the
//! time of every input (`t`), the instance ID and the token's parameters (`started`), activity
//! results with their variable writes and checks (`completed` / `refused` / `failed`, where an
//! activity's random values and generated IDs arrive as written values), the end user's answers
//! (`answered`), timer firings (`fired`), cancellations and aborts.
//!
//! Each event is an object whose `k` says what happened; its other fields ([`EventKindRecord`]):
//!
//! | `k` | fields | meaning |
//! |---|---|---|
//! | `started` | `id` instance ID, `def` {`n` name, `v` version, `h` content SHA-256}, `tok` token name (optional), `par` the token's parameters, `ss` step seed (`blake3:` and 64 hex digits; 32 hex digits alone for an HMAC-SHA256 seed, the kind recorded before BLAKE3 seeds; absent in histories recorded before seeds, whose step IDs are `{node}-{event index}`) | the instance started |
//! | `entered` | `n` node ID | a node was entered |
//! | `chose` | `gw` gateway ID, `f` flow ID, `dflt` true when the default flow was taken | an exclusive gateway chose a flow |
//! | `scheduled` | `n` node, `a` activity type key, `in` resolved inputs | an activity was asked for |
//! | `completed` | `n` node, `w` writes, `c` checks | the activity succeeded |
//! | `refused` | `n`, `code`, `msg`, `w`, `c` | the activity refused with an error code |
//! | `failed` | `n`, `msg` | the activity failed unexpectedly |
//! | `boundary` | `b` boundary ID, `on` the node it is attached to, `code` (optional) | an error or timer boundary was taken |
//! | `presented` | `n` node, `s` step ID (derived from `ss` and the event index), `in` resolved inputs | a step was presented |
//! | `answered` | `s` step ID, `data` the end user's answer | a step was answered |
//! | `armed` | `tm` timer ID, `b` boundary ID, `due` Unix ms | a timer was armed |
//! | `fired` | `tm` | a timer fired |
//! | `disarmed` | `tm` | a timer was cancelled |
//! | `cancelled` | `why` | the instance was cancelled |
//! | `aborted` | `n` node (optional), `msg` | the runtime could not carry out a command (a step that failed to render) |
//! | `ended` | `st` status (`COMPLETED_...`), `o` outcome (optional), `err` {`n` node (optional), `msg`} (optional) | the instance ended |
//!
//! A write (`w`) is `{"p": "processvar.a.b", "v": value, "sec": true}` (`sec` only when the
//! value is secret; its `v` is then a `secret:hmac-sha256:...` commitment marker, keyed with the
//! data directory's marker key, which no export holds; histories recorded before keys hold
//! unkeyed `secret:sha256:...` markers). A check (`c`) is
//! `{"name": ..., "r": "PASS" | "FAIL", "d": detail}` (`d` omitted when empty). Values in history
//! are already redacted by the engine, so an export never holds a secret.
//!
//! A reader refuses a `version` it does not know; a later version adds an upgrade path here.
//! (`ss` with its kind, `blake3:`, came within version 1: a build from before it refuses such a
//! history's seed by name rather than misreading it.)

use idflow_defs::ActivityType;
use idflow_engine::{
    Check, CheckResult, DefinitionRef, EventKind, HistoryEvent, RecordedInputs, RecordedWrite,
    Status,
};
use idflow_expr::VarPath;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::codec::ErrorRecord;
use crate::codec::{is_false, parse_seed, seed_text};

/// A definition reference in a `started` event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DefinitionRefRecord {
    pub n: String,
    pub v: u32,
    pub h: String,
}

/// A variable write in history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WriteRecord {
    pub p: String,
    pub v: Value,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sec: bool,
}

/// A check in history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckRecord {
    pub name: String,
    /// `PASS` or `FAIL`.
    pub r: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub d: String,
}

impl CheckRecord {
    pub fn from_engine(c: &Check) -> CheckRecord {
        CheckRecord {
            name: c.name.clone(),
            r: c.result.as_str().to_string(),
            d: c.detail.clone(),
        }
    }

    pub fn to_engine(&self) -> Result<Check, String> {
        let result = match self.r.as_str() {
            "PASS" => CheckResult::Pass,
            "FAIL" => CheckResult::Fail,
            other => return Err(format!("check '{}' has result '{other}'", self.name)),
        };
        Ok(Check {
            name: self.name.clone(),
            result,
            detail: self.d.clone(),
        })
    }
}

fn writes_from_engine(writes: &[RecordedWrite]) -> Vec<WriteRecord> {
    writes
        .iter()
        .map(|w| WriteRecord {
            p: w.path.to_string(),
            v: w.value.clone(),
            sec: w.secret,
        })
        .collect()
}

fn writes_to_engine(writes: &[WriteRecord]) -> Result<Vec<RecordedWrite>, String> {
    writes
        .iter()
        .map(|w| {
            Ok(RecordedWrite {
                path: VarPath::parse(&w.p)
                    .map_err(|e| format!("bad variable path '{}': {e}", w.p))?,
                value: w.v.clone(),
                secret: w.sec,
            })
        })
        .collect()
}

/// An activity's recorded parameters from the export's JSON object (the engine never recorded
/// anything else).
fn recorded_inputs(inputs: &Value) -> Result<RecordedInputs, String> {
    RecordedInputs::from_json(inputs.clone()).ok_or_else(|| {
        format!(
            "the recorded inputs are {}, not an object",
            idflow_expr::json_kind(inputs)
        )
    })
}

fn checks_to_engine(checks: &[CheckRecord]) -> Result<Vec<Check>, String> {
    checks.iter().map(CheckRecord::to_engine).collect()
}

/// What happened, in the history format documented at the top of this module.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "k")]
pub enum EventKindRecord {
    #[serde(rename = "started")]
    Started {
        id: String,
        def: DefinitionRefRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tok: Option<String>,
        par: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ss: Option<String>,
    },
    #[serde(rename = "entered")]
    Entered { n: String },
    #[serde(rename = "chose")]
    Chose {
        gw: String,
        f: String,
        #[serde(default, skip_serializing_if = "is_false")]
        dflt: bool,
    },
    #[serde(rename = "scheduled")]
    Scheduled {
        n: String,
        a: String,
        #[serde(rename = "in")]
        inputs: Value,
    },
    #[serde(rename = "completed")]
    Completed {
        n: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        w: Vec<WriteRecord>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        c: Vec<CheckRecord>,
    },
    #[serde(rename = "refused")]
    Refused {
        n: String,
        code: String,
        msg: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        w: Vec<WriteRecord>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        c: Vec<CheckRecord>,
    },
    #[serde(rename = "failed")]
    Failed { n: String, msg: String },
    #[serde(rename = "boundary")]
    Boundary {
        b: String,
        on: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    #[serde(rename = "presented")]
    Presented {
        n: String,
        s: String,
        #[serde(rename = "in")]
        inputs: Value,
    },
    #[serde(rename = "answered")]
    Answered { s: String, data: Value },
    #[serde(rename = "armed")]
    Armed { tm: String, b: String, due: i64 },
    #[serde(rename = "fired")]
    Fired { tm: String },
    #[serde(rename = "disarmed")]
    Disarmed { tm: String },
    #[serde(rename = "cancelled")]
    Cancelled { why: String },
    #[serde(rename = "aborted")]
    Aborted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        n: Option<String>,
        msg: String,
    },
    #[serde(rename = "ended")]
    Ended {
        st: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        o: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        err: Option<ErrorRecord>,
    },
}

impl EventKindRecord {
    pub fn from_engine(kind: &EventKind) -> EventKindRecord {
        match kind {
            EventKind::InstanceStarted {
                instance_id,
                definition,
                token_name,
                token,
                step_seed,
            } => EventKindRecord::Started {
                id: instance_id.clone(),
                def: DefinitionRefRecord {
                    n: definition.name.clone(),
                    v: definition.version,
                    h: definition.content_hash.clone(),
                },
                tok: token_name.clone(),
                par: token.clone(),
                ss: step_seed.as_ref().map(seed_text),
            },
            EventKind::NodeEntered { node } => EventKindRecord::Entered {
                n: node.to_string(),
            },
            EventKind::GatewayChose {
                gateway,
                flow,
                by_default,
            } => EventKindRecord::Chose {
                gw: gateway.to_string(),
                f: flow.to_string(),
                dflt: *by_default,
            },
            EventKind::ActivityScheduled {
                node,
                activity,
                inputs,
            } => EventKindRecord::Scheduled {
                n: node.to_string(),
                a: activity.key().to_string(),
                inputs: inputs.to_json(),
            },
            EventKind::ActivityCompleted {
                node,
                writes,
                checks,
            } => EventKindRecord::Completed {
                n: node.to_string(),
                w: writes_from_engine(writes),
                c: checks.iter().map(CheckRecord::from_engine).collect(),
            },
            EventKind::ActivityRefused {
                node,
                code,
                message,
                writes,
                checks,
            } => EventKindRecord::Refused {
                n: node.to_string(),
                code: code.clone(),
                msg: message.clone(),
                w: writes_from_engine(writes),
                c: checks.iter().map(CheckRecord::from_engine).collect(),
            },
            EventKind::ActivityFailed { node, message } => EventKindRecord::Failed {
                n: node.to_string(),
                msg: message.clone(),
            },
            EventKind::BoundaryTaken {
                boundary,
                attached_to,
                code,
            } => EventKindRecord::Boundary {
                b: boundary.to_string(),
                on: attached_to.to_string(),
                code: code.clone(),
            },
            EventKind::StepPresented {
                node,
                step_id,
                inputs,
            } => EventKindRecord::Presented {
                n: node.to_string(),
                s: step_id.clone(),
                inputs: inputs.to_json(),
            },
            EventKind::StepAnswered { step_id, data } => EventKindRecord::Answered {
                s: step_id.clone(),
                data: data.clone(),
            },
            EventKind::TimerArmed {
                timer_id,
                boundary,
                due_ms,
            } => EventKindRecord::Armed {
                tm: timer_id.clone(),
                b: boundary.to_string(),
                due: *due_ms,
            },
            EventKind::TimerFired { timer_id } => EventKindRecord::Fired {
                tm: timer_id.clone(),
            },
            EventKind::TimerCancelled { timer_id } => EventKindRecord::Disarmed {
                tm: timer_id.clone(),
            },
            EventKind::Cancelled { reason } => EventKindRecord::Cancelled {
                why: reason.clone(),
            },
            EventKind::Aborted { node, message } => EventKindRecord::Aborted {
                n: node.clone(),
                msg: message.clone(),
            },
            EventKind::InstanceEnded {
                status,
                outcome,
                error,
            } => EventKindRecord::Ended {
                st: status.as_str().to_string(),
                o: outcome.clone(),
                err: error.as_ref().map(ErrorRecord::from_engine),
            },
        }
    }

    /// The engine's event; an error names what is wrong with the record.
    pub fn to_engine(&self) -> Result<EventKind, String> {
        Ok(match self {
            EventKindRecord::Started {
                id,
                def,
                tok,
                par,
                ss,
            } => EventKind::InstanceStarted {
                instance_id: id.clone(),
                definition: DefinitionRef {
                    name: def.n.clone(),
                    version: def.v,
                    content_hash: def.h.clone(),
                },
                token_name: tok.clone(),
                token: par.clone(),
                step_seed: ss.as_deref().map(parse_seed).transpose()?,
            },
            EventKindRecord::Entered { n } => EventKind::NodeEntered { node: n.into() },
            EventKindRecord::Chose { gw, f, dflt } => EventKind::GatewayChose {
                gateway: gw.into(),
                flow: f.into(),
                by_default: *dflt,
            },
            EventKindRecord::Scheduled { n, a, inputs } => EventKind::ActivityScheduled {
                node: n.into(),
                activity: ActivityType::from_key(a)
                    .ok_or_else(|| format!("unknown activity type '{a}'"))?,
                inputs: recorded_inputs(inputs)?,
            },
            EventKindRecord::Completed { n, w, c } => EventKind::ActivityCompleted {
                node: n.into(),
                writes: writes_to_engine(w)?,
                checks: checks_to_engine(c)?,
            },
            EventKindRecord::Refused { n, code, msg, w, c } => EventKind::ActivityRefused {
                node: n.into(),
                code: code.clone(),
                message: msg.clone(),
                writes: writes_to_engine(w)?,
                checks: checks_to_engine(c)?,
            },
            EventKindRecord::Failed { n, msg } => EventKind::ActivityFailed {
                node: n.into(),
                message: msg.clone(),
            },
            EventKindRecord::Boundary { b, on, code } => EventKind::BoundaryTaken {
                boundary: b.into(),
                attached_to: on.into(),
                code: code.clone(),
            },
            EventKindRecord::Presented { n, s, inputs } => EventKind::StepPresented {
                node: n.into(),
                step_id: s.clone(),
                inputs: recorded_inputs(inputs)?,
            },
            EventKindRecord::Answered { s, data } => EventKind::StepAnswered {
                step_id: s.clone(),
                data: data.clone(),
            },
            EventKindRecord::Armed { tm, b, due } => EventKind::TimerArmed {
                timer_id: tm.clone(),
                boundary: b.into(),
                due_ms: *due,
            },
            EventKindRecord::Fired { tm } => EventKind::TimerFired {
                timer_id: tm.clone(),
            },
            EventKindRecord::Disarmed { tm } => EventKind::TimerCancelled {
                timer_id: tm.clone(),
            },
            EventKindRecord::Cancelled { why } => EventKind::Cancelled {
                reason: why.clone(),
            },
            EventKindRecord::Aborted { n, msg } => EventKind::Aborted {
                node: n.clone(),
                message: msg.clone(),
            },
            EventKindRecord::Ended { st, o, err } => EventKind::InstanceEnded {
                status: Status::parse(st).ok_or_else(|| format!("unknown status '{st}'"))?,
                outcome: o.clone(),
                error: err.as_ref().map(ErrorRecord::to_engine),
            },
        })
    }
}

/// One event of an exported history: `{"i": index, "t": Unix ms, "k": ..., ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedEvent {
    #[serde(rename = "i")]
    pub index: u64,
    #[serde(rename = "t")]
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: EventKindRecord,
}

impl ExportedEvent {
    pub fn to_engine(&self) -> Result<HistoryEvent, String> {
        Ok(HistoryEvent {
            index: self.index,
            at_ms: self.at_ms,
            kind: self
                .kind
                .to_engine()
                .map_err(|e| format!("event {}: {e}", self.index))?,
        })
    }

    pub fn from_engine(event: &HistoryEvent) -> ExportedEvent {
        ExportedEvent {
            index: event.index,
            at_ms: event.at_ms,
            kind: EventKindRecord::from_engine(&event.kind),
        }
    }
}

/// The name in [`HistoryExport::format`].
pub const HISTORY_FORMAT: &str = "idflow-history";
/// The version this build writes and reads.
pub const HISTORY_VERSION: u32 = 1;

/// One instance's whole history as exported (see the module documentation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryExport {
    /// Always [`HISTORY_FORMAT`].
    pub format: String,
    /// [`HISTORY_VERSION`] when written by this build.
    pub version: u32,
    pub instance: String,
    pub tenant: String,
    pub events: Vec<ExportedEvent>,
    /// The definition version the instance ran, embedded (absent in exports that do not carry
    /// it: replay then finds the definition by name and content hash elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<ExportedDefinition>,
}

/// How [`ExportedDefinition::source`] holds the file's bytes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum SourceEncoding {
    /// The file's text as it is (the file is UTF-8).
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// Standard base64 of the file's bytes (a file in another encoding).
    #[serde(rename = "base64")]
    Base64,
}

/// The BPMN file of the definition version an exported history ran, exactly as deployed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportedDefinition {
    /// The definition's name (its process ID).
    pub name: String,
    /// The deployed version.
    pub version: u32,
    /// Hex SHA-256 of the file's bytes (the `h` of the `started` event).
    pub hash: String,
    #[serde(default)]
    pub encoding: SourceEncoding,
    pub source: String,
}

impl ExportedDefinition {
    /// The embedded copy of a deployed file.
    pub fn new(name: &str, version: u32, hash: &str, bytes: &[u8]) -> ExportedDefinition {
        let (encoding, source) = match std::str::from_utf8(bytes) {
            Ok(text) => (SourceEncoding::Utf8, text.to_string()),
            Err(_) => (SourceEncoding::Base64, data_encoding::BASE64.encode(bytes)),
        };
        ExportedDefinition {
            name: name.to_string(),
            version,
            hash: hash.to_string(),
            encoding,
            source,
        }
    }

    /// The file's bytes; an error names what is wrong with the embedded copy.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        match self.encoding {
            SourceEncoding::Utf8 => Ok(self.source.as_bytes().to_vec()),
            SourceEncoding::Base64 => data_encoding::BASE64
                .decode(self.source.as_bytes())
                .map_err(|e| format!("`definition.source` is not base64: {e}")),
        }
    }
}

impl HistoryExport {
    /// Reads an export, refusing another format or a version this build does not know.
    pub fn from_json(bytes: &[u8]) -> Result<HistoryExport, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let format = value.get("format").and_then(Value::as_str);
        if format != Some(HISTORY_FORMAT) {
            return Err(format!(
                "`format` is {}, expected \"{HISTORY_FORMAT}\"",
                format.map_or("missing".to_string(), |f| format!("\"{f}\""))
            ));
        }
        let version = value.get("version").and_then(Value::as_u64);
        if version != Some(u64::from(HISTORY_VERSION)) {
            return Err(format!(
                "`version` is {}, this build reads version {HISTORY_VERSION}",
                version.map_or("missing".to_string(), |v| v.to_string())
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("not an idflow history: {e}"))
    }

    /// The events as the engine's types, checking they are numbered 0, 1, 2… without gaps.
    pub fn events(&self) -> Result<Vec<HistoryEvent>, String> {
        let mut out = Vec::with_capacity(self.events.len());
        for (expected, e) in (0u64..).zip(&self.events) {
            if e.index != expected {
                return Err(format!(
                    "event at position {expected} has index {}, expected {expected}",
                    e.index
                ));
            }
            out.push(e.to_engine()?);
        }
        Ok(out)
    }
}
