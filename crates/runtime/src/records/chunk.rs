//! History chunks on disk (record version 2): the events of one transition chain in a compact
//! positional layout, written straight from the engine's events without copying them.
//!
//! ```json
//! {"i": 8, "t": 1700000000000, "e": [["q", "form-6", {"colour": "blue"}], ["n", "decide"], ...]}
//! ```
//!
//! `i` is the index of the chunk's first event, `t` the time of its events (Unix ms), `e` the
//! events in order; `ts` (only when needed) lists `[position, time]` for events whose time
//! differs from `t`. Each event is an array: a tag, then its fields in this order (a trailing
//! optional field is left out when absent, `false` or empty):
//!
//! | tag | event | fields |
//! |---|---|---|
//! | `s` | started | instance ID, definition name, version, content SHA-256, token parameters, token name (or `null`)?, step seed? |
//! | `n` | entered | node |
//! | `g` | chose | gateway, flow, `1` when by default? |
//! | `a` | scheduled | node, activity type key, resolved inputs |
//! | `c` | completed | node, writes?, checks? |
//! | `r` | refused | node, code, message, writes?, checks? |
//! | `f` | failed | node, message |
//! | `b` | boundary | boundary, attached to, code? |
//! | `p` | presented | node, step ID, resolved inputs |
//! | `q` | answered | step ID, data |
//! | `ta` | timer armed | timer ID, boundary, due (Unix ms) |
//! | `tf` | timer fired | timer ID |
//! | `tc` | timer cancelled | timer ID |
//! | `x` | cancelled | reason |
//! | `ab` | aborted | message, node? |
//! | `e` | ended | status, outcome (or `null`)?, error `[message, node?]`? |
//!
//! A write is `[path, value]`, or `[path, value, 1]` when secret; a check is
//! `[name, "PASS" | "FAIL", detail?]`. Values are the engine's, already redacted. Version 1
//! chunks (the object layout of [`crate::export::EventKindRecord`] under `e`) are read through
//! [`Record::upgrade`].
//!
//! The export format ([`crate::export::HistoryExport`]) stays the readable object layout; this one is
//! only what the store holds.

use idflow_defs::ActivityType;
use idflow_engine::{
    Check, CheckResult, DefinitionRef, EventKind, HistoryEvent, InstanceError, RecordedInputs,
    RecordedWrite, Status,
};
use idflow_expr::VarPath;
use idflow_store::Record;
use serde::de::Error as _;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::export::{EventKindRecord, ExportedEvent};

/// The events of one transition chain: consecutive, from index `first`. Held in its instance
/// record ([`crate::records::HeldChunk`]), or, written before instance record version 2, a record
/// of its own under `h/{instance}/{first index:016x}`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChunkRecord {
    pub first: u64,
    pub events: Vec<HistoryEvent>,
}

impl HistoryChunkRecord {
    /// The chunk of `events` (consecutive, non-empty); `None` when there are none.
    pub fn new(events: Vec<HistoryEvent>) -> Option<HistoryChunkRecord> {
        let first = events.first()?.index;
        Some(HistoryChunkRecord { first, events })
    }

    /// [`HistoryChunkRecord::new`] from borrowed events.
    pub fn from_engine(events: &[HistoryEvent]) -> Option<HistoryChunkRecord> {
        HistoryChunkRecord::new(events.to_vec())
    }

    /// The chunk's events in the export format.
    pub fn exported(&self) -> impl Iterator<Item = ExportedEvent> + '_ {
        self.events.iter().map(ExportedEvent::from_engine)
    }
}

impl Record for HistoryChunkRecord {
    const KIND: &'static str = "history";
    const VERSION: u8 = 2;

    fn upgrade(version: u8, json: Value) -> Result<Self, String> {
        match version {
            1 => upgrade_v1(json),
            other => Err(format!("no upgrade from history version {other}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A value serialized through its `Display`.
struct Text<'a, T: std::fmt::Display>(&'a T);

impl<T: std::fmt::Display> Serialize for Text<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// An activity's recorded parameters, written as the JSON object they always were (name → value,
/// in order).
struct Inputs<'a>(&'a RecordedInputs);

impl Serialize for Inputs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0 .0.len()))?;
        for (name, value) in &self.0 .0 {
            map.serialize_entry(name.as_ref(), &**value)?;
        }
        map.end()
    }
}

struct Writes<'a>(&'a [RecordedWrite]);

impl Serialize for Writes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for w in self.0 {
            seq.serialize_element(&Write(w))?;
        }
        seq.end()
    }
}

struct Write<'a>(&'a RecordedWrite);

impl Serialize for Write<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = self.0;
        let mut seq = s.serialize_seq(Some(if w.secret { 3 } else { 2 }))?;
        seq.serialize_element(&Text(&w.path))?;
        seq.serialize_element(&w.value)?;
        if w.secret {
            seq.serialize_element(&1)?;
        }
        seq.end()
    }
}

struct Checks<'a>(&'a [Check]);

impl Serialize for Checks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            let mut check = Vec::with_capacity(3);
            check.push(c.name.as_str());
            check.push(c.result.as_str());
            if !c.detail.is_empty() {
                check.push(c.detail.as_str());
            }
            seq.serialize_element(&check)?;
        }
        seq.end()
    }
}

struct Event<'a>(&'a EventKind);

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        match self.0 {
            EventKind::InstanceStarted {
                instance_id,
                definition,
                token_name,
                token,
                step_seed,
            } => {
                seq.serialize_element("s")?;
                seq.serialize_element(instance_id)?;
                seq.serialize_element(&definition.name)?;
                seq.serialize_element(&definition.version)?;
                seq.serialize_element(&definition.content_hash)?;
                seq.serialize_element(token)?;
                if token_name.is_some() || step_seed.is_some() {
                    seq.serialize_element(token_name)?;
                }
                if let Some(seed) = step_seed {
                    seq.serialize_element(&crate::codec::seed_text(seed))?;
                }
            }
            EventKind::NodeEntered { node } => {
                seq.serialize_element("n")?;
                seq.serialize_element(node.as_str())?;
            }
            EventKind::GatewayChose {
                gateway,
                flow,
                by_default,
            } => {
                seq.serialize_element("g")?;
                seq.serialize_element(gateway.as_str())?;
                seq.serialize_element(flow.as_str())?;
                if *by_default {
                    seq.serialize_element(&1)?;
                }
            }
            EventKind::ActivityScheduled {
                node,
                activity,
                inputs,
            } => {
                seq.serialize_element("a")?;
                seq.serialize_element(node.as_str())?;
                seq.serialize_element(activity.key())?;
                seq.serialize_element(&Inputs(inputs))?;
            }
            EventKind::ActivityCompleted {
                node,
                writes,
                checks,
            } => {
                seq.serialize_element("c")?;
                seq.serialize_element(node.as_str())?;
                if !writes.is_empty() || !checks.is_empty() {
                    seq.serialize_element(&Writes(writes))?;
                }
                if !checks.is_empty() {
                    seq.serialize_element(&Checks(checks))?;
                }
            }
            EventKind::ActivityRefused {
                node,
                code,
                message,
                writes,
                checks,
            } => {
                seq.serialize_element("r")?;
                seq.serialize_element(node.as_str())?;
                seq.serialize_element(code)?;
                seq.serialize_element(message)?;
                if !writes.is_empty() || !checks.is_empty() {
                    seq.serialize_element(&Writes(writes))?;
                }
                if !checks.is_empty() {
                    seq.serialize_element(&Checks(checks))?;
                }
            }
            EventKind::ActivityFailed { node, message } => {
                seq.serialize_element("f")?;
                seq.serialize_element(node.as_str())?;
                seq.serialize_element(message)?;
            }
            EventKind::BoundaryTaken {
                boundary,
                attached_to,
                code,
            } => {
                seq.serialize_element("b")?;
                seq.serialize_element(boundary.as_str())?;
                seq.serialize_element(attached_to.as_str())?;
                if let Some(code) = code {
                    seq.serialize_element(code)?;
                }
            }
            EventKind::StepPresented {
                node,
                step_id,
                inputs,
            } => {
                seq.serialize_element("p")?;
                seq.serialize_element(node.as_str())?;
                seq.serialize_element(step_id)?;
                seq.serialize_element(&Inputs(inputs))?;
            }
            EventKind::StepAnswered { step_id, data } => {
                seq.serialize_element("q")?;
                seq.serialize_element(step_id)?;
                seq.serialize_element(data)?;
            }
            EventKind::TimerArmed {
                timer_id,
                boundary,
                due_ms,
            } => {
                seq.serialize_element("ta")?;
                seq.serialize_element(timer_id)?;
                seq.serialize_element(boundary.as_str())?;
                seq.serialize_element(due_ms)?;
            }
            EventKind::TimerFired { timer_id } => {
                seq.serialize_element("tf")?;
                seq.serialize_element(timer_id)?;
            }
            EventKind::TimerCancelled { timer_id } => {
                seq.serialize_element("tc")?;
                seq.serialize_element(timer_id)?;
            }
            EventKind::Cancelled { reason } => {
                seq.serialize_element("x")?;
                seq.serialize_element(reason)?;
            }
            EventKind::Aborted { node, message } => {
                seq.serialize_element("ab")?;
                seq.serialize_element(message)?;
                if let Some(node) = node {
                    seq.serialize_element(node)?;
                }
            }
            EventKind::InstanceEnded {
                status,
                outcome,
                error,
            } => {
                seq.serialize_element("e")?;
                seq.serialize_element(status.as_str())?;
                if outcome.is_some() || error.is_some() {
                    seq.serialize_element(outcome)?;
                }
                if let Some(error) = error {
                    let mut e = vec![error.message.as_str()];
                    if let Some(node) = &error.node {
                        e.push(node.as_str());
                    }
                    seq.serialize_element(&e)?;
                }
            }
        }
        seq.end()
    }
}

struct Events<'a>(&'a [HistoryEvent]);

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&Event(&e.kind))?;
        }
        seq.end()
    }
}

impl Serialize for HistoryChunkRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let at = self.events.first().map_or(0, |e| e.at_ms);
        let odd: Vec<(usize, i64)> = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.at_ms != at)
            .map(|(i, e)| (i, e.at_ms))
            .collect();
        let mut map = s.serialize_map(Some(if odd.is_empty() { 3 } else { 4 }))?;
        map.serialize_entry("i", &self.first)?;
        map.serialize_entry("t", &at)?;
        map.serialize_entry("e", &Events(&self.events))?;
        if !odd.is_empty() {
            map.serialize_entry("ts", &odd)?;
        }
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The fields of one compact event, read in order, each failure naming the event and field.
struct Fields<'a> {
    tag: &'a str,
    items: std::slice::Iter<'a, Value>,
}

impl<'a> Fields<'a> {
    fn next(&mut self, what: &str) -> Result<&'a Value, String> {
        self.items
            .next()
            .ok_or_else(|| format!("`{}` event lacks its {what}", self.tag))
    }

    fn optional(&mut self) -> Option<&'a Value> {
        self.items.next()
    }

    /// An activity's recorded parameters: a JSON object (the engine never recorded anything else).
    fn inputs(&mut self) -> Result<RecordedInputs, String> {
        let value = self.next("inputs")?;
        RecordedInputs::from_json(value.clone()).ok_or_else(|| {
            format!(
                "`{}` event: the inputs are {}, not an object",
                self.tag,
                idflow_expr::json_kind(value)
            )
        })
    }

    fn string(&mut self, what: &str) -> Result<String, String> {
        match self.next(what)? {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "`{}` event: {what} is {other}, not a string",
                self.tag
            )),
        }
    }

    fn optional_string(&mut self, what: &str) -> Result<Option<String>, String> {
        match self.optional() {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "`{}` event: {what} is {other}, not a string",
                self.tag
            )),
        }
    }

    fn int(&mut self, what: &str) -> Result<i64, String> {
        self.next(what)?
            .as_i64()
            .ok_or_else(|| format!("`{}` event: {what} is not an integer", self.tag))
    }

    fn flag(&mut self) -> bool {
        matches!(self.optional(), Some(Value::Number(n)) if n.as_u64() == Some(1))
    }

    fn writes(&mut self) -> Result<Vec<RecordedWrite>, String> {
        let Some(list) = self.optional() else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| format!("`{}` event: writes are not a list", self.tag))?;
        list.iter()
            .map(|w| {
                let parts = w
                    .as_array()
                    .ok_or_else(|| format!("`{}` event: a write is not a list", self.tag))?;
                let path = parts
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("`{}` event: a write has no path", self.tag))?;
                let value = parts
                    .get(1)
                    .ok_or_else(|| format!("`{}` event: write to {path} has no value", self.tag))?;
                Ok(RecordedWrite {
                    path: VarPath::parse(path)
                        .map_err(|e| format!("bad variable path '{path}': {e}"))?,
                    value: value.clone(),
                    secret: matches!(parts.get(2), Some(Value::Number(n)) if n.as_u64() == Some(1)),
                })
            })
            .collect()
    }

    fn checks(&mut self) -> Result<Vec<Check>, String> {
        let Some(list) = self.optional() else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| format!("`{}` event: checks are not a list", self.tag))?;
        list.iter()
            .map(|c| {
                let parts = c.as_array().map(Vec::as_slice).unwrap_or_default();
                let text = |i: usize| parts.get(i).and_then(Value::as_str);
                let name =
                    text(0).ok_or_else(|| format!("`{}` event: a check has no name", self.tag))?;
                let result = match text(1) {
                    Some("PASS") => CheckResult::Pass,
                    Some("FAIL") => CheckResult::Fail,
                    _ => return Err(format!("check '{name}' has no PASS/FAIL result")),
                };
                Ok(Check {
                    name: name.to_string(),
                    result,
                    detail: text(2).unwrap_or_default().to_string(),
                })
            })
            .collect()
    }
}

fn parse_event(value: &Value) -> Result<EventKind, String> {
    let items = value
        .as_array()
        .ok_or_else(|| format!("event {value} is not a list"))?;
    let (tag, rest) = items
        .split_first()
        .ok_or_else(|| "empty event".to_string())?;
    let tag = tag
        .as_str()
        .ok_or_else(|| format!("event tag {tag} is not a string"))?;
    let mut f = Fields {
        tag,
        items: rest.iter(),
    };
    Ok(match tag {
        "s" => {
            let instance_id = f.string("instance ID")?;
            let name = f.string("definition name")?;
            let version = u32::try_from(f.int("definition version")?)
                .map_err(|_| "`s` event: definition version out of range".to_string())?;
            let content_hash = f.string("content hash")?;
            let token = f.next("token parameters")?.clone();
            EventKind::InstanceStarted {
                instance_id,
                definition: DefinitionRef {
                    name,
                    version,
                    content_hash,
                },
                token_name: f.optional_string("token name")?,
                token,
                step_seed: f
                    .optional_string("step seed")?
                    .as_deref()
                    .map(crate::codec::parse_seed)
                    .transpose()?,
            }
        }
        "n" => EventKind::NodeEntered {
            node: f.string("node")?.into(),
        },
        "g" => EventKind::GatewayChose {
            gateway: f.string("gateway")?.into(),
            flow: f.string("flow")?.into(),
            by_default: f.flag(),
        },
        "a" => {
            let node = f.string("node")?;
            let key = f.string("activity type")?;
            EventKind::ActivityScheduled {
                node: node.into(),
                activity: ActivityType::from_key(&key)
                    .ok_or_else(|| format!("unknown activity type '{key}'"))?,
                inputs: f.inputs()?,
            }
        }
        "c" => EventKind::ActivityCompleted {
            node: f.string("node")?.into(),
            writes: f.writes()?,
            checks: f.checks()?,
        },
        "r" => EventKind::ActivityRefused {
            node: f.string("node")?.into(),
            code: f.string("code")?,
            message: f.string("message")?,
            writes: f.writes()?,
            checks: f.checks()?,
        },
        "f" => EventKind::ActivityFailed {
            node: f.string("node")?.into(),
            message: f.string("message")?,
        },
        "b" => EventKind::BoundaryTaken {
            boundary: f.string("boundary")?.into(),
            attached_to: f.string("attached node")?.into(),
            code: f.optional_string("code")?,
        },
        "p" => EventKind::StepPresented {
            node: f.string("node")?.into(),
            step_id: f.string("step ID")?,
            inputs: f.inputs()?,
        },
        "q" => EventKind::StepAnswered {
            step_id: f.string("step ID")?,
            data: f.next("data")?.clone(),
        },
        "ta" => EventKind::TimerArmed {
            timer_id: f.string("timer ID")?,
            boundary: f.string("boundary")?.into(),
            due_ms: f.int("due time")?,
        },
        "tf" => EventKind::TimerFired {
            timer_id: f.string("timer ID")?,
        },
        "tc" => EventKind::TimerCancelled {
            timer_id: f.string("timer ID")?,
        },
        "x" => EventKind::Cancelled {
            reason: f.string("reason")?,
        },
        "ab" => {
            let message = f.string("message")?;
            EventKind::Aborted {
                node: f.optional_string("node")?,
                message,
            }
        }
        "e" => {
            let status = f.string("status")?;
            let status =
                Status::parse(&status).ok_or_else(|| format!("unknown status '{status}'"))?;
            let outcome = f.optional_string("outcome")?;
            let error = match f.optional() {
                None | Some(Value::Null) => None,
                Some(Value::Array(parts)) => {
                    let text = |i: usize| parts.get(i).and_then(Value::as_str).map(str::to_string);
                    Some(InstanceError {
                        message: text(0)
                            .ok_or_else(|| "`e` event: the error has no message".to_string())?,
                        node: text(1),
                    })
                }
                Some(other) => return Err(format!("`e` event: error {other} is not a list")),
            };
            EventKind::InstanceEnded {
                status,
                outcome,
                error,
            }
        }
        other => return Err(format!("unknown event tag '{other}'")),
    })
}

fn parse_chunk(value: Value) -> Result<HistoryChunkRecord, String> {
    let first = value
        .get("i")
        .and_then(Value::as_u64)
        .ok_or("`i` (the first event's index) is missing")?;
    let at = value
        .get("t")
        .and_then(Value::as_i64)
        .ok_or("`t` (the events' time) is missing")?;
    let raw = value
        .get("e")
        .and_then(Value::as_array)
        .ok_or("`e` (the events) is missing")?;
    let mut events = Vec::with_capacity(raw.len());
    for (index, event) in (first..).zip(raw) {
        events.push(HistoryEvent {
            index,
            at_ms: at,
            kind: parse_event(event).map_err(|e| format!("event {index}: {e}"))?,
        });
    }
    if let Some(odd) = value.get("ts") {
        let pairs = odd.as_array().ok_or("`ts` is not a list")?;
        for pair in pairs {
            let (pos, time) = match pair.as_array().map(Vec::as_slice) {
                Some([p, t]) => (p.as_u64(), t.as_i64()),
                _ => (None, None),
            };
            let slot = pos
                .and_then(|p| usize::try_from(p).ok())
                .and_then(|p| events.get_mut(p));
            match (slot, time) {
                (Some(event), Some(time)) => event.at_ms = time,
                _ => return Err(format!("`ts` entry {pair} names no event")),
            }
        }
    }
    Ok(HistoryChunkRecord { first, events })
}

impl<'de> Deserialize<'de> for HistoryChunkRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_chunk(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Version 1: `{"i", "t", "e": [{"t"?, "k": ..., fields}]}` in the export's object layout.
fn upgrade_v1(json: Value) -> Result<HistoryChunkRecord, String> {
    #[derive(Deserialize)]
    struct EventV1 {
        #[serde(default)]
        t: Option<i64>,
        #[serde(flatten)]
        kind: EventKindRecord,
    }
    #[derive(Deserialize)]
    struct ChunkV1 {
        i: u64,
        t: i64,
        e: Vec<EventV1>,
    }
    let old: ChunkV1 =
        serde_json::from_value(json).map_err(|e| format!("version 1 history chunk: {e}"))?;
    let events = (old.i..)
        .zip(old.e)
        .map(|(index, e)| {
            Ok(HistoryEvent {
                index,
                at_ms: e.t.unwrap_or(old.t),
                kind: e.kind.to_engine()?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(HistoryChunkRecord {
        first: old.i,
        events,
    })
}
