//! Replay: the inputs a history records, and a re-run of them compared event by event.
//!
//! A history holds every input the engine received (the start, activity results, answers,
//! timer firings, cancellations, aborts) with secret values already redacted. Re-applying those
//! redacted inputs to a fresh instance gives the same redacted events, because redaction is a
//! fixed point (see [`crate::redact`]), so a replay needs no marker key (it runs under the public
//! [`MarkerKey::for_replay`]); step IDs come out the same because the start event records the
//! step seed they derive from. Known limits, visible as a [`Divergence`]: a gateway
//! condition that reads a secret sees its marker in a replay, and so does the coercion of a secret
//! parameter value.

use idflow_defs::Definition;

use crate::redact::MarkerKey;
use crate::{apply, ActivityResult, EventKind, HistoryEvent, Input, Instance, Limits, VarWrite};

/// The inputs recorded in `events`, in order, each paired with the index of the event it was
/// rebuilt from. Events the engine produces itself (nodes entered, gateway choices, ...) give
/// none.
pub fn inputs_from_history(events: &[HistoryEvent]) -> Vec<(u64, Input)> {
    events
        .iter()
        .filter_map(|event| input_of(event).map(|input| (event.index, input)))
        .collect()
}

fn input_of(event: &HistoryEvent) -> Option<Input> {
    let now_ms = event.at_ms;
    let writes = |recorded: &[crate::RecordedWrite]| -> Vec<VarWrite> {
        recorded
            .iter()
            .map(|w| VarWrite {
                path: w.path.clone(),
                value: w.value.clone(),
                secret: w.secret,
            })
            .collect()
    };
    Some(match &event.kind {
        EventKind::InstanceStarted {
            definition,
            token_name,
            token,
            step_seed,
            ..
        } => Input::Start {
            definition: definition.clone(),
            token_name: token_name.clone(),
            token: token.clone(),
            step_seed: *step_seed,
            now_ms,
        },
        EventKind::ActivityCompleted {
            node,
            writes: recorded,
            checks,
        } => Input::ActivityDone {
            node: node.clone(),
            result: ActivityResult::Completed {
                writes: writes(recorded),
                checks: checks.clone(),
            },
            now_ms,
        },
        EventKind::ActivityRefused {
            node,
            code,
            message,
            writes: recorded,
            checks,
        } => Input::ActivityDone {
            node: node.clone(),
            result: ActivityResult::Refused {
                code: code.clone(),
                message: message.clone(),
                writes: writes(recorded),
                checks: checks.clone(),
            },
            now_ms,
        },
        EventKind::ActivityFailed { node, message } => Input::ActivityDone {
            node: node.clone(),
            result: ActivityResult::Failed {
                message: message.clone(),
            },
            now_ms,
        },
        EventKind::StepAnswered { step_id, data } => Input::Answer {
            step_id: step_id.clone(),
            data: data.clone(),
            now_ms,
        },
        EventKind::TimerFired { timer_id } => Input::TimerFired {
            timer_id: timer_id.clone(),
            now_ms,
        },
        EventKind::Cancelled { reason } => Input::Cancel {
            reason: reason.clone(),
            now_ms,
        },
        EventKind::Aborted { node, message } => Input::Abort {
            node: node.clone(),
            message: message.clone(),
            now_ms,
        },
        EventKind::NodeEntered { .. }
        | EventKind::GatewayChose { .. }
        | EventKind::ActivityScheduled { .. }
        | EventKind::BoundaryTaken { .. }
        | EventKind::StepPresented { .. }
        | EventKind::TimerArmed { .. }
        | EventKind::TimerCancelled { .. }
        | EventKind::InstanceEnded { .. } => return None,
    })
}

/// Where a replay first differs from the recorded history.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("replay diverges at event {index}: {reason}")]
pub struct Divergence {
    /// The index of the first event that differs (or is missing, or is extra).
    pub index: u64,
    pub reason: String,
    /// The recorded event at `index`, if any (boxed: events are large, divergences rare).
    pub recorded: Option<Box<HistoryEvent>>,
    /// The event the replay produced at `index`, if any.
    pub replayed: Option<Box<HistoryEvent>>,
}

/// Re-runs a recorded history against `def` and compares every event it produces with the
/// recorded one. Returns the replayed instance (its variables hold markers where the original
/// held secrets) or the first divergence.
pub fn replay(
    def: &Definition,
    events: &[HistoryEvent],
    limits: &Limits,
) -> Result<Instance, Divergence> {
    let instance_id = match events.first().map(|e| &e.kind) {
        Some(EventKind::InstanceStarted { instance_id, .. }) => instance_id.clone(),
        _ => {
            return Err(Divergence {
                index: 0,
                reason: "the history does not open with InstanceStarted".into(),
                recorded: events.first().cloned().map(Box::new),
                replayed: None,
            })
        }
    };
    let mut instance = Instance::new(instance_id);
    let key = MarkerKey::for_replay();
    let mut produced: Vec<HistoryEvent> = Vec::with_capacity(events.len());
    for (index, input) in inputs_from_history(events) {
        // Each recorded input opens its transition's events, so it must come right after what
        // the replay produced so far; otherwise the two already differ before it.
        if produced.len() as u64 != index {
            return Err(
                first_difference(events, &produced, 0).unwrap_or_else(|| Divergence {
                    index: produced.len() as u64,
                    reason: "the replay and the history disagree on where the next input falls"
                        .into(),
                    recorded: events.get(produced.len()).cloned().map(Box::new),
                    replayed: None,
                }),
            );
        }
        let checked = produced.len();
        match apply(def, &mut instance, input, limits, &key) {
            Ok(transition) => produced.extend(transition.events),
            Err(refused) => {
                return Err(Divergence {
                    index,
                    reason: format!("the engine refused the recorded input: {refused}"),
                    recorded: usize::try_from(index)
                        .ok()
                        .and_then(|i| events.get(i))
                        .cloned()
                        .map(Box::new),
                    replayed: None,
                })
            }
        }
        // Compare each transition's events as they come, so the first divergence is the one
        // reported, even if the paths meet again later.
        let recorded_part = events
            .get(checked..produced.len().min(events.len()))
            .unwrap_or_default();
        if let Some(divergence) = first_difference(
            recorded_part,
            produced.get(checked..).unwrap_or_default(),
            checked,
        ) {
            return Err(divergence);
        }
    }
    match first_difference(events, &produced, 0) {
        Some(divergence) => Err(divergence),
        None => Ok(instance),
    }
}

/// The first position where two event lists differ; `offset` is the index of their first
/// elements in the whole history.
fn first_difference(
    recorded: &[HistoryEvent],
    replayed: &[HistoryEvent],
    offset: usize,
) -> Option<Divergence> {
    let len = recorded.len().max(replayed.len());
    (0..len).find_map(|i| {
        let (r, p) = (recorded.get(i), replayed.get(i));
        if r == p {
            return None;
        }
        let reason = match (r, p) {
            (Some(_), Some(_)) => "the replayed event differs from the recorded one",
            (Some(_), None) => "the replay ended before this recorded event",
            (None, _) => "the replay produced an event the history does not have",
        };
        Some(Divergence {
            index: (offset + i) as u64,
            reason: reason.into(),
            recorded: r.cloned().map(Box::new),
            replayed: p.cloned().map(Box::new),
        })
    })
}
