//! Reading one exported history (the runtime's documented format,
//! [`idflow_runtime::HistoryExport`]) and refusing, with a message naming the fault, anything a
//! run could not have recorded: malformed JSON, another format or version, events out of order,
//! a history cut inside a transition, a start event that contradicts the file.

use idflow_engine::{DefinitionRef, EventKind, HistoryEvent};
use idflow_runtime::{HistoryExport, HISTORY_FORMAT, HISTORY_VERSION};
use serde_json::Value;

use crate::error::Refusal;

/// The largest history file read (a guard against a hostile or mistaken path, such as a disk
/// image, being read whole).
pub const MAX_HISTORY_BYTES: u64 = 64 * 1024 * 1024;

/// A history that reads as one a run could have recorded.
#[derive(Debug, Clone)]
pub struct History {
    /// The export as read.
    pub export: HistoryExport,
    /// Its events as the engine's types, numbered 0, 1, 2… without gaps.
    pub events: Vec<HistoryEvent>,
    /// The definition version the start event names.
    pub definition: DefinitionRef,
}

/// Reads and checks a history. `bytes` is the whole file.
pub fn parse(bytes: &[u8]) -> Result<History, Refusal> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > MAX_HISTORY_BYTES {
        return Err(Refusal::TooLarge {
            size,
            limit: MAX_HISTORY_BYTES,
        });
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Refusal::NotJson(e.to_string()))?;
    let Value::Object(fields) = &value else {
        return Err(Refusal::NotAHistory(format!(
            "the document is {}, not an object with `format`, `version` and `events`",
            idflow_expr::json_kind(&value)
        )));
    };
    match fields.get("format") {
        Some(Value::String(f)) if f == HISTORY_FORMAT => {}
        Some(other) => {
            return Err(Refusal::NotAHistory(format!(
                "`format` is {other}, expected \"{HISTORY_FORMAT}\""
            )))
        }
        None => {
            return Err(Refusal::NotAHistory(format!(
                "`format` is missing (expected \"{HISTORY_FORMAT}\")"
            )))
        }
    }
    match fields.get("version") {
        Some(v) if v.as_u64() == Some(u64::from(HISTORY_VERSION)) => {}
        Some(v) => {
            return Err(Refusal::UnsupportedVersion(format!(
                "`version` is {v}; this build reads version {HISTORY_VERSION}"
            )))
        }
        None => {
            return Err(Refusal::UnsupportedVersion(format!(
                "`version` is missing; this build reads version {HISTORY_VERSION}"
            )))
        }
    }
    // The runtime's reader is the authority on the format; the checks above only name the
    // common faults more precisely.
    let export = HistoryExport::from_json(bytes).map_err(Refusal::NotAHistory)?;
    check_numbering(&export)?;
    let events = export.events().map_err(Refusal::NotAHistory)?;
    let definition = check_structure(&export, &events)?;
    Ok(History {
        export,
        events,
        definition,
    })
}

/// Events must be numbered 0, 1, 2… in file order.
fn check_numbering(export: &HistoryExport) -> Result<(), Refusal> {
    for (position, event) in (0u64..).zip(&export.events) {
        if event.index != position {
            let hint = if event.index > position {
                "an event before it is missing, or it was moved"
            } else {
                "it was moved or duplicated"
            };
            return Err(Refusal::OutOfOrder(format!(
                "the event at position {position} has index {} ({hint}); events must be numbered 0, 1, 2… in order",
                event.index
            )));
        }
    }
    Ok(())
}

/// The event kinds a recorded history may end with: where the instance rested at a step (the
/// step, or the last timer armed on it) or ended. The runtime commits a whole chain of
/// transitions at once, so a stored history never stops anywhere else.
fn is_rest_point(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::StepPresented { .. }
            | EventKind::TimerArmed { .. }
            | EventKind::InstanceEnded { .. }
    )
}

/// The history's own `k` name for an event kind, for messages.
pub(crate) fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::InstanceStarted { .. } => "started",
        EventKind::NodeEntered { .. } => "entered",
        EventKind::GatewayChose { .. } => "chose",
        EventKind::ActivityScheduled { .. } => "scheduled",
        EventKind::ActivityCompleted { .. } => "completed",
        EventKind::ActivityRefused { .. } => "refused",
        EventKind::ActivityFailed { .. } => "failed",
        EventKind::BoundaryTaken { .. } => "boundary",
        EventKind::StepPresented { .. } => "presented",
        EventKind::StepAnswered { .. } => "answered",
        EventKind::TimerArmed { .. } => "armed",
        EventKind::TimerFired { .. } => "fired",
        EventKind::TimerCancelled { .. } => "disarmed",
        EventKind::Cancelled { .. } => "cancelled",
        EventKind::Aborted { .. } => "aborted",
        EventKind::InstanceEnded { .. } => "ended",
    }
}

fn check_structure(
    export: &HistoryExport,
    events: &[HistoryEvent],
) -> Result<DefinitionRef, Refusal> {
    let Some(first) = events.first() else {
        return Err(Refusal::Truncated(
            "it has no events (a history opens with `started`)".to_string(),
        ));
    };
    let definition = match &first.kind {
        EventKind::InstanceStarted {
            instance_id,
            definition,
            ..
        } => {
            if *instance_id != export.instance {
                return Err(Refusal::Inconsistent(format!(
                    "the file is the history of instance {}, but its start event names instance {instance_id}",
                    export.instance
                )));
            }
            definition.clone()
        }
        other => {
            return Err(Refusal::Inconsistent(format!(
                "event 0 is `{}`; a history opens with `started`",
                kind_name(other)
            )))
        }
    };
    for event in events.iter().skip(1) {
        if matches!(event.kind, EventKind::InstanceStarted { .. }) {
            return Err(Refusal::Inconsistent(format!(
                "event {} is a second `started`",
                event.index
            )));
        }
    }
    let Some((last, before)) = events.split_last() else {
        return Err(Refusal::Truncated("it has no events".to_string()));
    };
    for event in before {
        if matches!(event.kind, EventKind::InstanceEnded { .. }) {
            return Err(Refusal::Inconsistent(format!(
                "event {} is `ended`, but {} more event(s) follow it",
                event.index,
                last.index.saturating_sub(event.index)
            )));
        }
    }
    if !is_rest_point(&last.kind) {
        return Err(Refusal::Truncated(format!(
            "it stops at event {} (`{}`), inside a transition; a recorded history ends where its instance rested at a step (`presented`, `armed`) or ended (`ended`)",
            last.index,
            kind_name(&last.kind)
        )));
    }
    if let Some(embedded) = &export.definition {
        if embedded.name != definition.name || embedded.hash != definition.content_hash {
            return Err(Refusal::Inconsistent(format!(
                "the embedded definition is '{}' with content hash {}, but the start event names '{}' with {}",
                embedded.name, embedded.hash, definition.name, definition.content_hash
            )));
        }
    }
    Ok(definition)
}
