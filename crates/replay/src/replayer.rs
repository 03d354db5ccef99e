//! The [`Replayer`]: finds the definition for each history, re-runs the history through the
//! engine's own replay (`idflow_engine::replay`, which feeds the recorded inputs and compares
//! every event), and explains a divergence: the nodes, the event fields and the variables.

use std::borrow::Cow;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use idflow_defs::{Definition, NodeKind};
use idflow_engine::redact::MarkerKey;
use idflow_engine::{
    apply, inputs_from_history, EventKind, HistoryEvent, Instance, Lifecycle, Limits,
};
use idflow_runtime::ExportedEvent;
use serde_json::Value;

use crate::definitions::{self, DefinitionDir, DirMatch, EmbeddedCache, SourcedDefinition};
use crate::diff::differences;
use crate::error::{Refusal, ReplayError};
use crate::history::{self, History, MAX_HISTORY_BYTES};
use crate::report::{
    DefinitionUsed, DirReport, Divergence, NodeRef, Outcome, Relation, ReplayReport, Replayed,
    VariableComparison,
};

/// What to replay histories against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Against {
    /// Each history's recorded definition version, embedded in the history.
    Recorded,
    /// Per history, the definition of the same process ID in this folder (searched
    /// recursively): the recorded version when the folder holds a file with the recorded content
    /// hash, else the folder's only definition of that name, a changed one.
    Definitions(PathBuf),
    /// Every history against this file, which must define the same process.
    Definition(PathBuf),
}

enum Targets {
    Recorded,
    Dir(DefinitionDir),
    File(SourcedDefinition),
}

/// Replays histories against definitions chosen by an [`Against`], loading those definitions
/// once. Cheap to reuse for many histories.
pub struct Replayer {
    targets: Targets,
    limits: Limits,
    embedded: EmbeddedCache,
}

/// Replays one history file. See [`Replayer`] to replay many against the same definitions.
pub fn replay_file(
    history: impl AsRef<Path>,
    against: &Against,
) -> Result<ReplayReport, ReplayError> {
    Replayer::new(against)?.replay_file(history.as_ref())
}

/// Replays every `*.json` history in a folder (not its subfolders), in name order.
pub fn replay_dir(dir: impl AsRef<Path>, against: &Against) -> Result<DirReport, ReplayError> {
    Replayer::new(against)?.replay_dir(dir.as_ref())
}

/// The `*.json` files directly in `dir`, in name order (hidden files skipped).
pub fn history_files(dir: &Path) -> Result<Vec<PathBuf>, ReplayError> {
    let io = |source| ReplayError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if !hidden && json && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

impl Replayer {
    pub fn new(against: &Against) -> Result<Replayer, ReplayError> {
        let targets = match against {
            Against::Recorded => Targets::Recorded,
            Against::Definitions(dir) => Targets::Dir(DefinitionDir::load(dir)?),
            Against::Definition(file) => Targets::File(definitions::load_file(file)?),
        };
        Ok(Replayer {
            targets,
            limits: Limits::default(),
            embedded: EmbeddedCache::default(),
        })
    }

    /// Replays against this one definition, already loaded (a deployed version read from the
    /// store, a designer's draft): like [`Against::Definition`] without a file.
    pub fn against_definition(definition: SourcedDefinition) -> Replayer {
        Replayer {
            targets: Targets::File(definition),
            limits: Limits::default(),
            embedded: EmbeddedCache::default(),
        }
    }

    /// Replays with these engine limits (the runtime's, when it ran with non-default ones).
    pub fn with_limits(mut self, limits: Limits) -> Replayer {
        self.limits = limits;
        self
    }

    /// Replays the history file at `path`. An unreadable file is an error; anything about its
    /// content is in the report.
    pub fn replay_file(&self, path: &Path) -> Result<ReplayReport, ReplayError> {
        let label = path.display().to_string();
        let io = |source| ReplayError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_HISTORY_BYTES {
            return Ok(refused(
                label,
                Refusal::TooLarge {
                    size,
                    limit: MAX_HISTORY_BYTES,
                },
            ));
        }
        let mut bytes = Vec::new();
        file.take(MAX_HISTORY_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Ok(self.replay_bytes(&label, &bytes))
    }

    /// Replays every `*.json` history directly in `dir`, in name order.
    pub fn replay_dir(&self, dir: &Path) -> Result<DirReport, ReplayError> {
        let mut reports = Vec::new();
        for path in history_files(dir)? {
            reports.push(self.replay_file(&path)?);
        }
        Ok(DirReport { reports })
    }

    /// Replays a history held in memory; `label` names it in the report.
    pub fn replay_bytes(&self, label: &str, bytes: &[u8]) -> ReplayReport {
        match history::parse(bytes) {
            Ok(history) => self.replay_history(label, &history),
            Err(refusal) => refused(label.to_string(), refusal),
        }
    }

    /// Replays a history already read ([`crate::parse_history`]); `label` names it in the report.
    pub fn replay_history(&self, label: &str, history: &History) -> ReplayReport {
        let (target, recorded) = match self.select(label, history) {
            Ok(found) => found,
            Err(refusal) => {
                return ReplayReport {
                    history: label.to_string(),
                    instance: Some(history.export.instance.clone()),
                    definition: None,
                    outcome: Outcome::Refused(refusal),
                }
            }
        };
        let relation = if target.definition.content_hash == history.definition.content_hash {
            Relation::Recorded
        } else {
            Relation::Changed {
                recorded_hash: history.definition.content_hash.clone(),
                recorded_version: history.definition.version,
            }
        };
        let outcome = self.run(
            history,
            &target.definition,
            recorded.as_ref().map(|r| r.definition.as_ref()),
        );
        ReplayReport {
            history: label.to_string(),
            instance: Some(history.export.instance.clone()),
            definition: Some(DefinitionUsed {
                name: target.definition.process_id.clone(),
                source: target.source.clone(),
                content_hash: target.definition.content_hash.clone(),
                relation,
            }),
            outcome,
        }
    }

    /// The definition to replay against, and the recorded version when it is at hand (for
    /// comparing variables at a divergence).
    fn select(
        &self,
        label: &str,
        history: &History,
    ) -> Result<(SourcedDefinition, Option<SourcedDefinition>), Refusal> {
        let embedded = match &history.export.definition {
            Some(copy) => Some(self.embedded.load(label, copy)?),
            None => None,
        };
        let name = &history.definition.name;
        let hash = &history.definition.content_hash;
        match &self.targets {
            Targets::Recorded => match embedded {
                Some(recorded) => Ok((recorded.clone(), Some(recorded))),
                None => Err(Refusal::DefinitionNotFound(format!(
                    "the history embeds no definition; replay it against a folder that holds '{name}' with content hash {hash} (--definitions DIR) or against a file (--definition FILE)"
                ))),
            },
            Targets::Dir(dir) => match dir.find(name, hash)? {
                DirMatch::Recorded(found) => Ok((found.clone(), Some(found.clone()))),
                DirMatch::Changed(found) => Ok((found.clone(), embedded)),
            },
            Targets::File(file) => {
                if file.definition.process_id != *name {
                    return Err(Refusal::OtherProcess {
                        history: name.clone(),
                        definition: file.definition.process_id.clone(),
                    });
                }
                if file.definition.content_hash == *hash {
                    Ok((file.clone(), Some(file.clone())))
                } else {
                    Ok((file.clone(), embedded))
                }
            }
        }
    }

    fn run(
        &self,
        history: &History,
        target: &Definition,
        recorded: Option<&Definition>,
    ) -> Outcome {
        let prepared = prepared(history, target);
        match idflow_engine::replay(target, &prepared, &self.limits) {
            Ok(instance) => Outcome::Replayed(Replayed {
                events: prepared.len(),
                status: instance.status(),
                end_node: end_node(&prepared),
            }),
            Err(divergence) => Outcome::Diverged(Box::new(self.explain(
                &divergence,
                history,
                &prepared,
                target,
                recorded,
            ))),
        }
    }

    fn explain(
        &self,
        divergence: &idflow_engine::Divergence,
        history: &History,
        prepared: &[HistoryEvent],
        target: &Definition,
        recorded: Option<&Definition>,
    ) -> Divergence {
        let mut index = divergence.index;
        let mut reason = divergence.reason.clone();
        let mut recorded_at = divergence.recorded.as_deref().cloned();
        let mut replayed_at = divergence.replayed.as_deref().cloned();
        let mut replay_state = run_until(target, prepared, index, &self.limits);
        // When the engine refuses a recorded input, the events the replay produced before it may
        // already differ (a re-routed path can produce as many events as the recorded one, so
        // the input still falls at its index): the first of those is the divergence.
        let earlier = replay_state
            .produced
            .iter()
            .zip(prepared)
            .find(|(produced, recorded)| produced != recorded)
            .filter(|(produced, _)| produced.index < index)
            .map(|(produced, recorded)| (produced.clone(), recorded.clone()));
        if let Some((produced, recorded_event)) = earlier {
            index = produced.index;
            reason = format!(
                "the replayed event differs from the recorded one (and at event {} {})",
                divergence.index, divergence.reason
            );
            recorded_at = Some(recorded_event);
            replayed_at = Some(produced);
            replay_state = run_until(target, prepared, index, &self.limits);
        }
        let before = usize::try_from(index)
            .ok()
            .and_then(|i| prepared.get(..i))
            .unwrap_or(prepared);
        let recorded_state =
            recorded.map(|def| run_until(def, &history.events, index, &self.limits));

        let recorded_defs: Vec<&Definition> = recorded.into_iter().chain([target]).collect();
        let expected_node = recorded_at
            .as_ref()
            .and_then(|e| node_of(e, before, &recorded_defs));
        let reached_node = match &replayed_at {
            Some(e) => node_of(e, before, &[target]),
            None => position_node(&replay_state, &[target]),
        };
        let original = usize::try_from(index)
            .ok()
            .and_then(|i| history.events.get(i));
        let recorded_event = original.map(event_json);
        let replayed_event = replayed_at.as_ref().map(event_json);
        let event_differences = match (&recorded_at, &replayed_at) {
            (Some(r), Some(p)) => differences("", &event_json(r), &event_json(p)),
            _ => Vec::new(),
        };
        let variables = match &recorded_state {
            Some(recorded_state) => VariableComparison::Compared(differences(
                "processvar",
                // Both re-runs hold markers where the run held secrets: viewed under the same
                // (public) key, they differ only where the runs do.
                &recorded_state.instance.redacted_variables(&MarkerKey::for_replay()),
                &replay_state.instance.redacted_variables(&MarkerKey::for_replay()),
            )),
            None => VariableComparison::Unavailable(
                "the recorded definition is not at hand (the history embeds none, and it was not found by content hash)"
                    .to_string(),
            ),
        };
        if let Some(stopped) = &replay_state.stopped {
            if !reason.contains(stopped.as_str()) {
                reason.push_str(&format!(" (the replay stopped: {stopped})"));
            }
        }
        Divergence {
            index,
            reason,
            expected_node,
            reached_node,
            recorded_event,
            replayed_event,
            event_differences,
            variables,
        }
    }
}

/// The events a re-run of `history`'s recorded inputs against `target` produces, until the
/// engine refuses one (where a changed definition can no longer follow the recorded run) or the
/// inputs run out: the replayed run's own history, to draw its path
/// ([`idflow_engine::path_taken`]). Against the recorded definition it is the history itself.
pub fn rerun(target: &Definition, history: &History, limits: &Limits) -> Vec<HistoryEvent> {
    run_until(target, &prepared(history, target), u64::MAX, limits).produced
}

/// The recorded events as replayed against `target`: as they are against the recorded
/// definition, else labelled as the target would ([`prepare_for`]).
fn prepared<'h>(history: &'h History, target: &Definition) -> Cow<'h, [HistoryEvent]> {
    if target.content_hash == history.definition.content_hash {
        Cow::Borrowed(&history.events)
    } else {
        Cow::Owned(prepare_for(&history.events, target))
    }
}

fn refused(history: String, refusal: Refusal) -> ReplayReport {
    ReplayReport {
        history,
        instance: None,
        definition: None,
        outcome: Outcome::Refused(refusal),
    }
}

/// The recorded events as the target definition would have labelled them: its content hash in
/// the start event (the engine checks it), and the outcome of an end reached as the target's
/// name for that end event. Element names are cosmetic: the same end node reached under a new
/// label is the same path. Nothing else is touched, so every other difference still counts.
fn prepare_for(events: &[HistoryEvent], target: &Definition) -> Vec<HistoryEvent> {
    let mut prepared = events.to_vec();
    let mut last_entered: Option<String> = None;
    for event in &mut prepared {
        match &mut event.kind {
            EventKind::InstanceStarted { definition, .. } => {
                definition.content_hash = target.content_hash.clone();
            }
            EventKind::NodeEntered { node } => last_entered = Some(node.to_string()),
            EventKind::InstanceEnded {
                outcome: Some(outcome),
                ..
            } => {
                let end = last_entered
                    .as_deref()
                    .and_then(|id| target.node(id))
                    .filter(|n| matches!(n.kind, NodeKind::EndEvent));
                if let Some(end) = end {
                    *outcome = end.name.clone().unwrap_or_else(|| end.id.to_string());
                }
            }
            _ => {}
        }
    }
    prepared
}

/// The end event a history ended at: the node entered right before `ended`.
fn end_node(events: &[HistoryEvent]) -> Option<String> {
    match events {
        [.., HistoryEvent {
            kind: EventKind::NodeEntered { node },
            ..
        }, HistoryEvent {
            kind: EventKind::InstanceEnded { .. },
            ..
        }] => Some(node.to_string()),
        _ => None,
    }
}

/// An instance re-run on the recorded inputs up to a given event.
struct RunState {
    instance: Instance,
    produced: Vec<HistoryEvent>,
    /// Why it stopped early: the engine refused a recorded input.
    stopped: Option<String>,
}

/// Applies the inputs recorded at or before event `upto` to a fresh instance of `def`: the
/// state of a run at the transition that holds event `upto`.
fn run_until(def: &Definition, events: &[HistoryEvent], upto: u64, limits: &Limits) -> RunState {
    let id = match events.first().map(|e| &e.kind) {
        Some(EventKind::InstanceStarted { instance_id, .. }) => instance_id.clone(),
        _ => String::new(),
    };
    let mut state = RunState {
        instance: Instance::new(id),
        produced: Vec::new(),
        stopped: None,
    };
    for (index, input) in inputs_from_history(events) {
        if index > upto {
            break;
        }
        match apply(
            def,
            &mut state.instance,
            input,
            limits,
            &MarkerKey::for_replay(),
        ) {
            Ok(transition) => state.produced.extend(transition.events),
            Err(refused) => {
                state.stopped = Some(refused.to_string());
                break;
            }
        }
    }
    state
}

fn node_ref(id: &str, defs: &[&Definition]) -> NodeRef {
    NodeRef {
        id: id.to_string(),
        name: defs
            .iter()
            .find_map(|d| d.node(id))
            .and_then(|n| n.name.clone()),
    }
}

/// The node of the step `step_id` presented before: step IDs do not name their node.
fn presented_node<'e>(step_id: &str, before: &'e [HistoryEvent]) -> Option<&'e str> {
    before.iter().rev().find_map(|e| match &e.kind {
        EventKind::StepPresented {
            node, step_id: s, ..
        } if s == step_id => Some(node.as_str()),
        _ => None,
    })
}

/// `{node}-{event index}` (timer IDs, and the step IDs of histories recorded before step
/// seeds) back to the node.
fn strip_index(id: &str) -> &str {
    match id.rsplit_once('-') {
        Some((node, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => node,
        _ => id,
    }
}

fn last_entered(before: &[HistoryEvent]) -> Option<&str> {
    before.iter().rev().find_map(|e| match &e.kind {
        EventKind::NodeEntered { node } => Some(node.as_str()),
        _ => None,
    })
}

/// The node an event is about: the node entered, the node a gateway's chosen flow leads to,
/// the activity, step, boundary or timer; for an end or a cancellation, the last node entered.
fn node_of(event: &HistoryEvent, before: &[HistoryEvent], defs: &[&Definition]) -> Option<NodeRef> {
    let id = match &event.kind {
        EventKind::NodeEntered { node }
        | EventKind::ActivityScheduled { node, .. }
        | EventKind::ActivityCompleted { node, .. }
        | EventKind::ActivityRefused { node, .. }
        | EventKind::ActivityFailed { node, .. }
        | EventKind::StepPresented { node, .. } => node.as_str(),
        EventKind::GatewayChose { gateway, flow, .. } => defs
            .iter()
            .find_map(|d| d.flow(flow))
            .map(|f| f.target.as_str())
            .unwrap_or(gateway.as_str()),
        EventKind::BoundaryTaken { boundary, .. } | EventKind::TimerArmed { boundary, .. } => {
            boundary.as_str()
        }
        EventKind::StepAnswered { step_id, .. } => {
            presented_node(step_id, before).unwrap_or_else(|| strip_index(step_id))
        }
        EventKind::TimerFired { timer_id } | EventKind::TimerCancelled { timer_id } => {
            strip_index(timer_id)
        }
        EventKind::Aborted {
            node: Some(node), ..
        } => node.as_str(),
        EventKind::InstanceStarted { .. } => {
            return defs.first().map(|d| node_ref(&d.start().id, defs));
        }
        EventKind::InstanceEnded { .. }
        | EventKind::Cancelled { .. }
        | EventKind::Aborted { node: None, .. } => last_entered(before)?,
    };
    Some(node_ref(id, defs))
}

/// Where a re-run rests when it produced no event at the divergence.
fn position_node(state: &RunState, defs: &[&Definition]) -> Option<NodeRef> {
    match &state.instance.lifecycle {
        Lifecycle::AtStep { node, .. } | Lifecycle::AwaitingActivity { node, .. } => {
            Some(node_ref(node, defs))
        }
        Lifecycle::Ended { .. } => last_entered(&state.produced).map(|n| node_ref(n, defs)),
        Lifecycle::NotStarted => None,
    }
}

fn event_json(event: &HistoryEvent) -> Value {
    serde_json::to_value(ExportedEvent::from_engine(event))
        .unwrap_or_else(|e| Value::String(format!("(event {} not shown: {e})", event.index)))
}
