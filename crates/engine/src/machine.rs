//! [`apply`]: one input against one instance, run until the instance needs the outside again.
//!
//! The input is validated first, against the instance and the definition, without touching
//! anything: an [`EngineError`] leaves the instance exactly as it was. Past validation the
//! transition always completes; what goes wrong inside the process (an unresolved variable, a
//! failed activity) ends the instance `COMPLETED_PROCESS_ERROR` and is recorded, it is not an
//! `EngineError`. The one exception, an answer that would push the variables over their size
//! limit, is measured before any event is emitted and undone before it is refused.

use std::borrow::Cow;

use idflow_defs::{
    Activity, Definition, Flow, Id, Node, NodeKind, Role, StepSpec, DECISION_FAIL,
    DECISION_VARIABLE,
};
use idflow_expr::{member, EvalError, ParamExpr, Segment, VarPath};
use serde_json::{Map, Value};

use crate::redact::{redact_at, touches_secret, MarkerKey};
use crate::resolve::{coerce, resolve_inputs, ParamError};
use crate::vars::{
    append_checks, check_write_path, redacted_over_limit, serialized_size, size_upper_bound, write,
};
use crate::{
    ActivityResult, ArmedTimer, DefinitionRef, Ending, EngineError, EventKind, HistoryEvent, Input,
    Instance, InstanceError, Lifecycle, Limits, Next, PathMark, RecordedWrite, Status, StepSeed,
    Transition, VarWrite,
};

/// Applies `input` to `instance` under `def`: the instance advances until it awaits an activity's
/// result, rests at a step, or ends. Returns the history events (values redacted: secrets become
/// commitment markers under `key`) and the one thing the outside must do [`Next`].
///
/// On `Err` the instance is unchanged: the input was refused (a stale step, a timer that is not
/// armed, an answer over the size limit, ...).
pub fn apply(
    def: &Definition,
    instance: &mut Instance,
    input: Input,
    limits: &Limits,
    key: &MarkerKey,
) -> Result<Transition, EngineError> {
    let now = input.now_ms();
    let accepted = validate(def, instance, input)?;
    let mut machine = Machine {
        def,
        now,
        path_mark: instance.lifecycle.path_mark(),
        inst: instance,
        limits,
        key,
        // Sized for a typical transition (four or five events), and small enough to stay in the
        // allocator's fast per-thread cache.
        events: Vec::with_capacity(5),
        entered: 0,
    };
    let next = match accepted {
        Accepted::Start {
            definition,
            token_name,
            token,
            step_seed,
        } => machine.start(definition, token_name, token, step_seed),
        Accepted::ActivityDone {
            node,
            activity,
            id,
            result,
        } => machine.activity_done(node, activity, id, result),
        Accepted::Answer {
            node,
            activity,
            step,
            step_id,
            data,
        } => machine.answer(node, activity, step, step_id, data)?,
        Accepted::TimerFired {
            timer_id,
            at,
            boundary,
            attached_to,
        } => machine.timer_fired(timer_id, at, boundary, attached_to),
        Accepted::Cancel { reason } => {
            machine.emit(EventKind::Cancelled { reason });
            machine.end(Ending::Terminated { outcome: None }).into()
        }
        Accepted::Abort { node, message } => {
            machine.emit(EventKind::Aborted {
                node: node.clone(),
                message: message.clone(),
            });
            machine
                .end(Ending::ProcessError {
                    error: InstanceError { node, message },
                })
                .into()
        }
    };
    Ok(Transition {
        events: machine.events,
        next,
    })
}

/// An input that fits the instance's state, with the part of the definition it is about: what
/// `validate` found is what the transition runs on, so the two cannot disagree.
enum Accepted<'d> {
    Start {
        definition: DefinitionRef,
        token_name: Option<String>,
        token: Value,
        step_seed: Option<StepSeed>,
    },
    /// The result of the awaited activity. `id` is the input's copy of `node.id`.
    ActivityDone {
        node: &'d Node,
        activity: &'d Activity,
        id: Id,
        result: ActivityResult,
    },
    /// An answer (a JSON object) to the current step.
    Answer {
        node: &'d Node,
        activity: &'d Activity,
        step: &'static StepSpec,
        step_id: String,
        data: Map<String, Value>,
    },
    /// The armed timer `timer_id`, at index `at` of [`Instance::timers`], its boundary event and
    /// the node the boundary is attached to.
    TimerFired {
        timer_id: String,
        at: usize,
        boundary: &'d Node,
        attached_to: &'d str,
    },
    Cancel {
        reason: String,
    },
    Abort {
        node: Option<String>,
        message: String,
    },
}

/// Refuses inputs that do not fit the instance's state, before anything changes.
fn validate<'d>(
    def: &'d Definition,
    inst: &Instance,
    input: Input,
) -> Result<Accepted<'d>, EngineError> {
    let mismatch = |reason: String| EngineError::DefinitionMismatch {
        name: def.process_id.clone(),
        reason,
    };
    match input {
        Input::Start {
            definition,
            token_name,
            token,
            step_seed,
            ..
        } => {
            if !matches!(inst.lifecycle, Lifecycle::NotStarted) {
                return Err(EngineError::AlreadyStarted);
            }
            if definition.name != def.process_id || definition.content_hash != def.content_hash {
                return Err(mismatch(format!(
                    "the start names definition '{}' with content hash {}, the engine was given '{}' with {}",
                    definition.name, definition.content_hash, def.process_id, def.content_hash
                )));
            }
            Ok(Accepted::Start {
                definition,
                token_name,
                token,
                step_seed,
            })
        }
        Input::ActivityDone { node, result, .. } => match &running(inst)?.lifecycle {
            Lifecycle::AwaitingActivity { node: awaited, .. } if *awaited == node => {
                match def.node(&node) {
                    Some(
                        n @ Node {
                            kind: NodeKind::Activity(a),
                            ..
                        },
                    ) => Ok(Accepted::ActivityDone {
                        node: n,
                        activity: a,
                        id: node,
                        result,
                    }),
                    _ => Err(mismatch(format!("it has no activity '{node}'"))),
                }
            }
            _ => Err(EngineError::UnexpectedActivityResult { node: node.into() }),
        },
        Input::Answer { step_id, data, .. } => match &running(inst)?.lifecycle {
            Lifecycle::AtStep {
                node,
                step_id: current,
                ..
            } if *current == step_id => {
                let Value::Object(data) = data else {
                    return Err(EngineError::AnswerNotObject { step_id });
                };
                match def.node(node) {
                    Some(
                        n @ Node {
                            kind: NodeKind::Activity(a),
                            ..
                        },
                    ) => match a.spec().step() {
                        Some(step) => Ok(Accepted::Answer {
                            node: n,
                            activity: a,
                            step,
                            step_id,
                            data,
                        }),
                        None => Err(mismatch(format!("it has no step '{node}'"))),
                    },
                    _ => Err(mismatch(format!("it has no step '{node}'"))),
                }
            }
            _ => Err(EngineError::StaleStep { step_id }),
        },
        Input::TimerFired { timer_id, .. } => {
            let timers = running(inst)?.timers();
            let Some(at) = timers.iter().position(|t| t.timer_id == timer_id) else {
                return Err(EngineError::UnknownTimer { timer_id });
            };
            let boundary = &timers[at].boundary;
            match def.node(boundary) {
                Some(
                    n @ Node {
                        kind: NodeKind::TimerBoundary { attached_to, .. },
                        ..
                    },
                ) => Ok(Accepted::TimerFired {
                    timer_id,
                    at,
                    boundary: n,
                    attached_to,
                }),
                _ => Err(mismatch(format!(
                    "it has no timer boundary event '{boundary}'"
                ))),
            }
        }
        Input::Cancel { reason, .. } => {
            running(inst)?;
            Ok(Accepted::Cancel { reason })
        }
        Input::Abort { node, message, .. } => {
            running(inst)?;
            Ok(Accepted::Abort { node, message })
        }
    }
}

/// The instance, if it has started and not ended: every input but `Start` needs one.
fn running(inst: &Instance) -> Result<&Instance, EngineError> {
    match &inst.lifecycle {
        Lifecycle::Ended { ending, .. } => Err(EngineError::NotActive {
            status: ending.status(),
        }),
        Lifecycle::NotStarted => Err(EngineError::NotStarted),
        Lifecycle::AwaitingActivity { .. } | Lifecycle::AtStep { .. } => Ok(inst),
    }
}

/// How a walk stopped when it reached an end: the instance has ended with `status`. What the
/// helpers that may end the instance return, so a caller cannot go on walking after an end.
struct Ended {
    status: Status,
}

impl From<Ended> for Next {
    fn from(ended: Ended) -> Next {
        Next::Ended {
            status: ended.status,
        }
    }
}

/// One transition in progress.
struct Machine<'d, 'i> {
    def: &'d Definition,
    inst: &'i mut Instance,
    limits: &'i Limits,
    /// What secrets in history are marked with.
    key: &'i MarkerKey,
    now: i64,
    /// The path mark as the walk goes: the instance's, changed by deciders, error boundaries and
    /// fired timers, and stored in its lifecycle where the walk stops.
    path_mark: PathMark,
    /// The history events of this transition, in order.
    events: Vec<HistoryEvent>,
    /// Nodes entered in this transition (bounded by `limits.max_steps_per_apply`).
    entered: usize,
}

impl<'d> Machine<'d, '_> {
    fn emit(&mut self, kind: EventKind) {
        let index = self.inst.next_event;
        // Saturating: the counter comes from stored state, and must not panic whatever it holds.
        self.inst.next_event = index.saturating_add(1);
        self.events.push(HistoryEvent {
            index,
            at_ms: self.now,
            kind,
        });
    }

    fn start(
        &mut self,
        definition: DefinitionRef,
        token_name: Option<String>,
        token: Value,
        step_seed: Option<StepSeed>,
    ) -> Next {
        self.inst.step_seed = step_seed;
        self.emit(EventKind::InstanceStarted {
            instance_id: self.inst.id.clone(),
            definition,
            token_name,
            token: token.clone(),
            step_seed,
        });
        match &mut self.inst.variables {
            Value::Object(map) => {
                if map.is_empty() {
                    // Room for the usual top-level keys (token, user, forms, checks, decision)
                    // without growing the map step by step.
                    *map = serde_json::Map::with_capacity(8);
                }
                map.insert("token".to_string(), token);
            }
            other => {
                let mut map = serde_json::Map::new();
                map.insert("token".to_string(), token);
                *other = Value::Object(map);
            }
        }
        if let Some(size) = over_limit(&self.inst.variables, self.limits.max_variables_bytes) {
            let message = format!(
                "the process token's parameters make the process variables {size} bytes, over the limit of {} bytes",
                self.limits.max_variables_bytes
            );
            return self.process_error(None, message).into();
        }
        let start = self.def.start();
        self.run_from(start)
    }

    /// Walks from `node` until an activity is scheduled, a step presented, or an end reached.
    fn run_from(&mut self, mut node: &'d Node) -> Next {
        loop {
            self.entered += 1;
            if self.entered > self.limits.max_steps_per_apply {
                let message = format!(
                    "more than {} nodes entered in one transition without reaching a step or an end \
                     (a loop without a step?); stopped at '{}'",
                    self.limits.max_steps_per_apply, node.id
                );
                return self
                    .process_error(Some(node.id.to_string()), message)
                    .into();
            }
            self.emit(EventKind::NodeEntered {
                node: node.id.clone(),
            });
            node = match &node.kind {
                NodeKind::Activity(activity) => {
                    return match activity.spec().role {
                        Role::Step(_) => self.present_step(node, activity),
                        Role::Task | Role::Decider => self.schedule(node, activity),
                    };
                }
                NodeKind::EndEvent => return self.reach_end(node).into(),
                NodeKind::ExclusiveGateway { default_flow } => {
                    match self.choose(node, default_flow.as_deref()) {
                        Ok(next) => next,
                        Err(ended) => return ended.into(),
                    }
                }
                // A start event, or a boundary event reached by a flow (the loader does not
                // produce those; passing through is the harmless reading).
                NodeKind::StartEvent
                | NodeKind::ErrorBoundary { .. }
                | NodeKind::TimerBoundary { .. } => match self.follow(node) {
                    Ok(next) => next,
                    Err(ended) => return ended.into(),
                },
            };
        }
    }

    /// The target of `node`'s first outgoing flow; ends the instance when there is none.
    fn follow(&mut self, node: &'d Node) -> Result<&'d Node, Ended> {
        let def = self.def;
        let Some(flow) = def.outgoing_from(node).next() else {
            return Err(self.process_error(
                Some(node.id.to_string()),
                format!("{} has no outgoing flow", describe_node(node)),
            ));
        };
        self.flow_target(node, flow)
    }

    fn flow_target(&mut self, from: &'d Node, flow: &'d Flow) -> Result<&'d Node, Ended> {
        let def = self.def;
        match def.target(flow) {
            Some(next) => Ok(next),
            None => Err(self.process_error(
                Some(from.id.to_string()),
                format!("flow '{}' leads to unknown node '{}'", flow.id, flow.target),
            )),
        }
    }

    /// Walks on from `node` along its first outgoing flow.
    fn walk_on(&mut self, node: &'d Node) -> Next {
        match self.follow(node) {
            Ok(next) => self.run_from(next),
            Err(ended) => ended.into(),
        }
    }

    fn schedule(&mut self, node: &'d Node, activity: &'d Activity) -> Next {
        let resolved = match self.resolve(node, activity) {
            Ok(resolved) => resolved,
            Err(ended) => return ended.into(),
        };
        self.emit(EventKind::ActivityScheduled {
            node: node.id.clone(),
            activity: activity.activity_type,
            inputs: resolved.recorded,
        });
        self.inst.lifecycle = Lifecycle::AwaitingActivity {
            node: node.id.clone(),
            path_mark: self.path_mark,
        };
        Next::RunActivity {
            node: node.id.clone(),
            activity: activity.activity_type,
            inputs: resolved.inputs,
        }
    }

    fn present_step(&mut self, node: &'d Node, activity: &'d Activity) -> Next {
        let resolved = match self.resolve(node, activity) {
            Ok(resolved) => resolved,
            Err(ended) => return ended.into(),
        };
        let step_id = match &self.inst.step_seed {
            Some(seed) => seed.step_id(self.inst.next_event),
            None => suffixed(&node.id, self.inst.next_event),
        };
        self.emit(EventKind::StepPresented {
            node: node.id.clone(),
            step_id: step_id.clone(),
            inputs: resolved.recorded,
        });
        let mut timers = Vec::new();
        let def = self.def;
        for boundary in def.boundaries_on(node) {
            if let NodeKind::TimerBoundary { duration_ms, .. } = &boundary.kind {
                let timer_id = suffixed(&boundary.id, self.inst.next_event);
                let duration = i64::try_from(*duration_ms).unwrap_or(i64::MAX);
                let due_ms = self.now.saturating_add(duration);
                self.emit(EventKind::TimerArmed {
                    timer_id: timer_id.clone(),
                    boundary: boundary.id.clone(),
                    due_ms,
                });
                timers.push(ArmedTimer {
                    timer_id,
                    boundary: boundary.id.clone(),
                    due_ms,
                });
            }
        }
        self.inst.lifecycle = Lifecycle::AtStep {
            node: node.id.clone(),
            step_id: step_id.clone(),
            timers,
            path_mark: self.path_mark,
        };
        Next::PresentStep {
            node: node.id.clone(),
            step_id,
            activity: activity.activity_type,
            inputs: resolved.inputs,
        }
    }

    /// Resolves an activity's parameters; on failure ends the instance naming the activity.
    fn resolve(
        &mut self,
        node: &'d Node,
        activity: &'d Activity,
    ) -> Result<crate::resolve::Resolved, Ended> {
        match resolve_inputs(
            activity,
            &self.inst.variables,
            &self.inst.secret_paths,
            self.key,
        ) {
            Ok(resolved) => Ok(resolved),
            Err(ParamError { param, reason }) => {
                let message = format!("{}: parameter '{param}' {reason}", describe_node(node));
                Err(self.process_error(Some(node.id.to_string()), message))
            }
        }
    }

    /// Picks an exclusive gateway's outgoing flow: the first (document order) whose condition
    /// holds (a flow without a condition holds), else the default flow.
    fn choose(&mut self, node: &'d Node, default_flow: Option<&str>) -> Result<&'d Node, Ended> {
        let def = self.def;
        let mut chosen = None;
        for flow in def.outgoing_from(node) {
            if Some(flow.id.as_str()) == default_flow {
                continue;
            }
            let holds = match &flow.condition {
                None => Ok(true),
                Some(condition) => condition.eval(&self.inst.variables).map_err(|e| {
                    let secret = condition
                        .paths()
                        .into_iter()
                        .any(|p| touches_secret(p, &self.inst.secret_paths));
                    (e, secret)
                }),
            };
            match holds {
                Ok(true) => {
                    chosen = Some((flow, false));
                    break;
                }
                Ok(false) => {}
                Err((error, secret)) => {
                    let reason = match error {
                        // A type error quotes the values compared: not when one may be a secret.
                        EvalError::Type { condition, .. } if secret => {
                            format!("condition `{condition}` cannot be evaluated on a secret value")
                        }
                        other => other.to_string(),
                    };
                    return Err(self.process_error(
                        Some(node.id.to_string()),
                        format!(
                            "{}: the condition of flow '{}' cannot be evaluated: {reason}",
                            describe_node(node),
                            flow.id
                        ),
                    ));
                }
            }
        }
        if chosen.is_none() {
            chosen = default_flow
                .and_then(|id| def.outgoing_from(node).find(|f| f.id == id))
                .map(|f| (f, true));
        }
        let Some((flow, by_default)) = chosen else {
            return Err(self.process_error(
                Some(node.id.to_string()),
                format!(
                    "{}: no outgoing flow's condition holds and there is no default flow",
                    describe_node(node)
                ),
            ));
        };
        self.emit(EventKind::GatewayChose {
            gateway: node.id.clone(),
            flow: flow.id.clone(),
            by_default,
        });
        self.flow_target(node, flow)
    }

    fn reach_end(&mut self, node: &'d Node) -> Ended {
        let outcome = node.name.clone().unwrap_or_else(|| node.id.to_string());
        let ending = if self.def.is_error_end_node(node) || self.path_mark == PathMark::ErrorPath {
            Ending::EndedError { outcome }
        } else if self.path_mark == PathMark::TimedOut {
            Ending::Terminated {
                outcome: Some(outcome),
            }
        } else if top_level(&self.inst.variables, DECISION_VARIABLE).and_then(Value::as_str)
            == Some(DECISION_FAIL)
        {
            Ending::EndedError { outcome }
        } else {
            Ending::EndedSuccess { outcome }
        };
        self.end(ending)
    }

    /// `id` is the input's copy of the node's ID (equal to `node.id`, validated), reused for the
    /// event rather than cloned again.
    fn activity_done(
        &mut self,
        node: &'d Node,
        activity: &'d Activity,
        id: Id,
        result: ActivityResult,
    ) -> Next {
        let def = self.def;
        match result {
            ActivityResult::Completed { writes, checks } => {
                let (recorded, failure) = self.take_outputs(writes, &checks);
                self.emit(EventKind::ActivityCompleted {
                    node: id,
                    writes: recorded,
                    checks: self.recorded_checks(checks),
                });
                if let Some(failure) = failure {
                    return self.outputs_failed(node, failure).into();
                }
                if activity.spec().role == Role::Decider {
                    self.path_mark = PathMark::Normal;
                }
                self.walk_on(node)
            }
            ActivityResult::Refused {
                code,
                message,
                writes,
                checks,
            } => {
                let (recorded, failure) = self.take_outputs(writes, &checks);
                self.emit(EventKind::ActivityRefused {
                    node: id,
                    code: code.clone(),
                    message,
                    writes: recorded,
                    checks: self.recorded_checks(checks),
                });
                if let Some(failure) = failure {
                    return self.outputs_failed(node, failure).into();
                }
                match error_boundary(def, node, &code) {
                    Some(boundary) => {
                        self.emit(EventKind::BoundaryTaken {
                            boundary: boundary.id.clone(),
                            attached_to: node.id.clone(),
                            code: Some(code),
                        });
                        self.path_mark = PathMark::ErrorPath;
                        self.walk_on(boundary)
                    }
                    None => self.walk_on(node),
                }
            }
            ActivityResult::Failed { message } => {
                self.emit(EventKind::ActivityFailed {
                    node: id,
                    message: message.clone(),
                });
                self.end(Ending::ProcessError {
                    error: InstanceError {
                        node: Some(node.id.to_string()),
                        message,
                    },
                })
                .into()
            }
        }
    }

    /// Takes in an activity's writes and checks: marks the secret paths, applies the writes and
    /// appends the checks, and checks the size limit. Returns the writes as history records them
    /// (all of them, even past a failure, so a replay meets the same failure) and the failure, if
    /// any; the caller ends the instance on a failure after recording the result.
    fn take_outputs(
        &mut self,
        writes: Vec<VarWrite>,
        checks: &[crate::Check],
    ) -> (Vec<RecordedWrite>, Option<String>) {
        // Mark first: a plain write of a parent object in the same batch must see the secret.
        for w in writes.iter().filter(|w| w.secret) {
            if check_write_path(&w.path).is_ok() {
                self.inst.secret_paths.insert(w.path.clone());
            }
        }
        // Refuse a malformed path before writing anything.
        let mut failure = writes.iter().find_map(|w| check_write_path(&w.path).err());
        let mut recorded = Vec::with_capacity(writes.len());
        for w in writes {
            // A secret write is redacted even when its path is refused (and so never marked).
            let shown = if w.secret {
                Some(crate::redact::redact_value(&w.value, self.key))
            } else {
                redact_at(&w.path, &w.value, &self.inst.secret_paths, self.key)
            };
            let value = match (failure.is_none(), shown) {
                (true, shown) => {
                    let shown = shown.unwrap_or_else(|| w.value.clone());
                    if let Err(e) = write(&mut self.inst.variables, &w.path, w.value) {
                        failure = Some(e);
                    }
                    shown
                }
                (false, shown) => shown.unwrap_or(w.value),
            };
            recorded.push(RecordedWrite {
                path: w.path,
                value,
                secret: w.secret,
            });
        }
        if failure.is_none() {
            if let Err(e) = append_checks(&mut self.inst.variables, checks) {
                failure = Some(e);
            }
        }
        if failure.is_none() {
            // Measured on the redacted view: it is what a replay holds, so a replay judges the
            // same writes the same way. (Secret values come from the activities' own code.)
            let limit = self.limits.max_variables_bytes;
            if let Some(size) = redacted_over_limit(
                &self.inst.variables,
                &self.inst.secret_paths,
                limit,
                self.key,
            ) {
                failure = Some(format!(
                    "its writes bring the process variables to {size} bytes, over the limit of {} bytes",
                    self.limits.max_variables_bytes
                ));
            }
        }
        (recorded, failure)
    }

    /// Checks as history records them: as they are, unless `processvar._checks` is itself
    /// secret, when their texts are markers.
    fn recorded_checks(&self, checks: Vec<crate::Check>) -> Vec<crate::Check> {
        if self.inst.secret_paths.is_empty() || checks.is_empty() {
            return checks;
        }
        let list = VarPath::keys(&["_checks"]);
        if !crate::redact::is_secret_path(&list, &self.inst.secret_paths) {
            return checks;
        }
        let text = |s: String| match crate::redact::marker(&Value::String(s), self.key) {
            Value::String(m) => m,
            _ => String::new(),
        };
        checks
            .into_iter()
            .map(|c| crate::Check {
                name: text(c.name),
                result: c.result,
                detail: text(c.detail),
            })
            .collect()
    }

    /// Ends the instance for an activity whose outputs could not be taken in.
    fn outputs_failed(&mut self, node: &'d Node, failure: String) -> Ended {
        self.process_error(
            Some(node.id.to_string()),
            format!("{}: {failure}", describe_node(node)),
        )
    }

    fn answer(
        &mut self,
        node: &'d Node,
        activity: &'d Activity,
        step: &StepSpec,
        step_id: String,
        data: Map<String, Value>,
    ) -> Result<Next, EngineError> {
        let secret_answer = step.secret_answer;
        let key = match answer_key(activity, step, &self.inst.variables) {
            Ok(key) => key,
            Err(reason) => {
                return Ok(self.answer_not_stored(node, secret_answer, step_id, data, reason))
            }
        };
        let Value::Object(root) = &mut self.inst.variables else {
            let reason = "processvar is not an object: the answer cannot be stored".to_string();
            return Ok(self.answer_not_stored(node, secret_answer, step_id, data, reason));
        };
        // A secret answer marks its key. Marked before measuring (the limit applies to the
        // redacted view too), unmarked again if the answer is refused.
        // The key as a path, only needed (and built) when secrets are involved.
        let key_path = (secret_answer || !self.inst.secret_paths.is_empty()).then(|| VarPath {
            segments: vec![Segment::Key(key.to_string())],
        });
        let marked = match &key_path {
            Some(path) if secret_answer => self.inst.secret_paths.insert(path.clone()),
            _ => false,
        };
        let previous = root.insert(key.to_string(), Value::Object(data));
        // Both the real variables (what is stored) and their redacted view (what a replay sees)
        // must fit, so that an answer accepted here is accepted in a replay too.
        let limit = self.limits.max_variables_bytes;
        let over = over_limit(&self.inst.variables, limit).or_else(|| {
            // Without secrets the redacted view is the variables themselves.
            (!self.inst.secret_paths.is_empty())
                .then(|| {
                    redacted_over_limit(
                        &self.inst.variables,
                        &self.inst.secret_paths,
                        limit,
                        self.key,
                    )
                })
                .flatten()
        });
        if let Some(size) = over {
            // Undo before refusing: the instance must come back exactly as it was.
            if let Value::Object(root) = &mut self.inst.variables {
                match previous {
                    Some(old) => {
                        root.insert(key.into_owned(), old);
                    }
                    None => {
                        root.shift_remove(key.as_ref());
                    }
                }
            }
            if let (true, Some(path)) = (marked, &key_path) {
                self.inst.secret_paths.remove(path);
            }
            return Err(EngineError::AnswerTooLarge {
                step_id,
                size,
                limit,
            });
        }
        let stored = top_level(&self.inst.variables, key.as_ref()).unwrap_or(&Value::Null);
        let recorded = key_path
            .and_then(|path| redact_at(&path, stored, &self.inst.secret_paths, self.key))
            .unwrap_or_else(|| stored.clone());
        self.emit(EventKind::StepAnswered {
            step_id,
            data: recorded,
        });
        self.cancel_timers();
        Ok(self.walk_on(node))
    }

    /// Ends the instance for an answer that has nowhere to be stored (`reason`). The answer was
    /// received: history records it (so a replay feeds it too), redacted when the step's answers
    /// are secret.
    fn answer_not_stored(
        &mut self,
        node: &'d Node,
        secret_answer: bool,
        step_id: String,
        data: Map<String, Value>,
        reason: String,
    ) -> Next {
        let data = Value::Object(data);
        let recorded = if secret_answer {
            crate::redact::redact_value(&data, self.key)
        } else {
            data
        };
        self.emit(EventKind::StepAnswered {
            step_id,
            data: recorded,
        });
        self.process_error(
            Some(node.id.to_string()),
            format!("{}: {reason}", describe_node(node)),
        )
        .into()
    }

    /// The armed timer `timer_id`, at index `at`, fired.
    fn timer_fired(
        &mut self,
        timer_id: String,
        at: usize,
        boundary: &'d Node,
        attached_to: &str,
    ) -> Next {
        let def = self.def;
        let mut others = self.take_timers();
        if at < others.len() {
            others.remove(at);
        }
        self.emit(EventKind::TimerFired { timer_id });
        for timer in others {
            self.emit(EventKind::TimerCancelled {
                timer_id: timer.timer_id,
            });
        }
        self.path_mark = PathMark::TimedOut;
        self.emit(EventKind::BoundaryTaken {
            boundary: boundary.id.clone(),
            attached_to: Id::from(attached_to),
            code: None,
        });
        // A timer without an outgoing flow simply terminates the instance.
        match def.outgoing_from(boundary).next() {
            Some(flow) => match self.flow_target(boundary, flow) {
                Ok(next) => self.run_from(next),
                Err(ended) => ended.into(),
            },
            None => self.end(Ending::Terminated { outcome: None }).into(),
        }
    }

    /// Takes the timers armed at the current step out of the instance (none anywhere else).
    fn take_timers(&mut self) -> Vec<ArmedTimer> {
        match &mut self.inst.lifecycle {
            Lifecycle::AtStep { timers, .. } => std::mem::take(timers),
            _ => Vec::new(),
        }
    }

    fn cancel_timers(&mut self) {
        for timer in self.take_timers() {
            self.emit(EventKind::TimerCancelled {
                timer_id: timer.timer_id,
            });
        }
    }

    fn process_error(&mut self, node: Option<String>, message: String) -> Ended {
        self.end(Ending::ProcessError {
            error: InstanceError { node, message },
        })
    }

    fn end(&mut self, ending: Ending) -> Ended {
        self.cancel_timers();
        let status = ending.status();
        let outcome = ending.outcome().map(str::to_string);
        let error = ending.error().cloned();
        self.inst.lifecycle = Lifecycle::Ended {
            ending,
            path_mark: self.path_mark,
        };
        self.emit(EventKind::InstanceEnded {
            status,
            outcome,
            error,
        });
        Ended { status }
    }
}

/// `vars.get(key)`, scanning a small object's keys instead of hashing (see [`member`]).
fn top_level<'v>(vars: &'v Value, key: &str) -> Option<&'v Value> {
    vars.as_object().and_then(|map| member(map, key))
}

/// The serialized size of the variables when it exceeds `limit`. A cheap upper bound is tried
/// first, so the exact size is only computed for trees near the limit.
fn over_limit(vars: &Value, limit: usize) -> Option<usize> {
    if size_upper_bound(vars) <= limit {
        return None;
    }
    let size = serialized_size(vars);
    (size > limit).then_some(size)
}

/// The step's answer key (its "Form data Key"), resolved: where its answer is stored under
/// `processvar`.
fn answer_key<'a>(
    activity: &'a Activity,
    step: &StepSpec,
    vars: &Value,
) -> Result<Cow<'a, str>, String> {
    let param = step.answer_key;
    let expr = activity
        .param(param)
        .ok_or_else(|| format!("the step has no '{param}' parameter"))?;
    // The usual case, a key written as plain text, is borrowed rather than evaluated.
    if let ParamExpr::Text(key) = expr {
        if !key.is_empty() {
            return Ok(Cow::Borrowed(key));
        }
    }
    let value = expr
        .eval(vars)
        .map_err(|e| format!("parameter '{param}': {e}"))?;
    match coerce(value, idflow_defs::ParamType::String) {
        Ok(Value::String(key)) if !key.is_empty() => Ok(Cow::Owned(key)),
        _ => Err(format!(
            "parameter '{param}' must be a non-empty text to store the answer under"
        )),
    }
}

/// The error boundary on `node` for `code`: one naming the code, else a catch-all, first in
/// document order.
fn error_boundary<'d>(def: &'d Definition, node: &Node, code: &str) -> Option<&'d Node> {
    let mut catch_all = None;
    for boundary in def.boundaries_on(node) {
        if let NodeKind::ErrorBoundary { error_code, .. } = &boundary.kind {
            match error_code {
                Some(c) if c == code => return Some(boundary),
                None if catch_all.is_none() => catch_all = Some(boundary),
                _ => {}
            }
        }
    }
    catch_all
}

/// `activity 'id' (name)` / `gateway 'id' (name)` for messages.
fn describe_node(node: &Node) -> String {
    let what = match &node.kind {
        NodeKind::Activity(a) if a.spec().is_step() => "step",
        NodeKind::Activity(_) => "activity",
        NodeKind::ExclusiveGateway { .. } => "exclusive gateway",
        NodeKind::StartEvent => "start event",
        NodeKind::EndEvent => "end event",
        NodeKind::ErrorBoundary { .. } => "error boundary event",
        NodeKind::TimerBoundary { .. } => "timer boundary event",
    };
    let name = match (&node.name, &node.kind) {
        (Some(name), _) => name.as_str(),
        (None, NodeKind::Activity(a)) => a.spec().name,
        (None, _) => "unnamed",
    };
    format!("{what} '{}' ({name})", node.id)
}

/// `{id}-{n}`: timer IDs (and the step IDs of instances without a step seed), unique within an
/// instance because `n` is an event index. Timer IDs need not be secret: only the runtime fires
/// timers.
fn suffixed(id: &str, n: u64) -> String {
    // Digits by hand: this runs for every step presented, and `fmt` is slow for so little.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(id.len() + 1 + digits.len() - at);
    out.push_str(id);
    out.push('-');
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
    out
}
