//! File-driven engine cases: each directory under `tests/engine/` holds a BPMN definition and a
//! `script.json` (token, scripted activity results per node visit, step answers and timer
//! firings, late inputs); the run's visible outcome is compared with the `output.snap` snapshot
//! next to them.
//!
//! Besides the snapshot, every case checks what must hold for any run: a refused input leaves the
//! instance unchanged, the recorded history replays to the very same events, and none of the
//! strings the script lists under `secrets` appears in the history or the output.
//!
//! `script.json`:
//!
//! ```json
//! {
//!   "token": {"storeName": "people"},
//!   "limits": {"max_variables_bytes": 4096},
//!   "activities": {"addUser": [{"completed": {"writes": [{"path": "processvar.user1", "value": {}}]}},
//!                              {"refused": {"code": "EXT_ID_NOT_UNIQUE", "message": "taken"}},
//!                              {"failed": "store down"}]},
//!   "steps": {"form": [{"answer": {"field": 1}}, {"fire": "timerBoundaryId"}, {"cancel": "why"},
//!                      {"abort": "why"}, {"rest": true}]},
//!   "after": [{"answer": {"step_index": 3, "data": {}}}, {"timer": "slow-4"}, {"cancel": "why"}],
//!   "secrets": ["JBSWY3DPEHPK3PXP"],
//!   "history": true
//! }
//! ```
//!
//! An activity without a script entry completes with no writes; a list that runs out fails the
//! case. A step without (more) actions leaves the instance resting there. A late answer names
//! its step by `step_index`, the index of the event that presented it (step IDs derive from the
//! cases' fixed step seed and that index), or by a literal `step_id`.

use std::collections::HashMap;
use std::path::Path;

use idflow_defs::Definition;
use idflow_engine::redact::MarkerKey;
use idflow_engine::{
    apply, replay, ActivityResult, Check, CheckResult, DefinitionRef, EventKind, HistoryEvent,
    Input, Instance, InstanceError, Lifecycle, Limits, RecordedWrite, StepSeed, VarPath, VarWrite,
};
use serde_json::{json, Map, Value};

const START_MS: i64 = 1_700_000_000_000;

/// Every case's step seed and marker key: fixed, so the snapshots are.
const STEP_SEED: StepSeed = StepSeed::from_bytes([0x5e; StepSeed::LEN]);

fn marker_key() -> MarkerKey {
    MarkerKey::from_bytes([0x6b; MarkerKey::LEN])
}

#[test]
fn engine_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/engine");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("script.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 10,
        "expected the engine cases in {}",
        root.display()
    );
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("case")
            .to_string();
        let output = run_case(&dir, &name);
        insta::with_settings!({
            snapshot_path => dir.clone(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("tests/engine/{name}"),
        }, {
            insta::assert_json_snapshot!("output", output);
        });
    }
}

fn load_definition(dir: &Path, case: &str) -> Definition {
    let bpmn = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{case}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "bpmn"))
        .unwrap_or_else(|| panic!("{case}: no .bpmn file"));
    let bytes = std::fs::read(&bpmn).unwrap_or_else(|e| panic!("{case}: {e}"));
    let loaded = idflow_defs::load(&bpmn.display().to_string(), &bytes);
    match loaded.definition {
        Some(def) => def,
        None => panic!(
            "{case}: the definition does not load:\n{}",
            idflow_defs::render_text(&loaded.diagnostics)
        ),
    }
}

struct Case<'d> {
    name: String,
    def: &'d Definition,
    inst: Instance,
    limits: Limits,
    key: MarkerKey,
    now: i64,
    history: Vec<HistoryEvent>,
    refused: Vec<String>,
}

impl Case<'_> {
    /// The time of the next input: one second after the previous one.
    fn tick(&mut self) -> i64 {
        self.now += 1_000;
        self.now
    }

    fn apply(&mut self, input: Input) {
        let before = self.inst.clone();
        match apply(self.def, &mut self.inst, input, &self.limits, &self.key) {
            Ok(t) => self.history.extend(t.events),
            Err(e) => {
                assert_eq!(
                    self.inst, before,
                    "{}: refused input changed state",
                    self.name
                );
                self.refused.push(e.to_string());
            }
        }
    }
}

fn run_case(dir: &Path, name: &str) -> Value {
    let def = load_definition(dir, name);
    let script: Value = serde_json::from_slice(
        &std::fs::read(dir.join("script.json")).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .unwrap_or_else(|e| panic!("{name}: script.json: {e}"));
    let mut limits = Limits::default();
    if let Some(n) = script["limits"]["max_variables_bytes"].as_u64() {
        limits.max_variables_bytes = n as usize;
    }
    let mut case = Case {
        name: name.to_string(),
        def: &def,
        inst: Instance::new(format!("instance-{name}")),
        limits,
        key: marker_key(),
        now: START_MS,
        history: Vec::new(),
        refused: Vec::new(),
    };
    let mut visits = Visits::default();
    let now = case.tick();
    case.apply(Input::Start {
        definition: DefinitionRef {
            name: def.process_id.clone(),
            version: 1,
            content_hash: def.content_hash.clone(),
        },
        token_name: Some("case-token".into()),
        token: script.get("token").cloned().unwrap_or_else(|| json!({})),
        step_seed: Some(STEP_SEED),
        now_ms: now,
    });
    drive(&mut case, &script, &mut visits);
    for late in script["after"].as_array().into_iter().flatten() {
        let now = case.tick();
        let input = if let Some(answer) = late.get("answer") {
            Input::Answer {
                step_id: match answer["step_index"].as_u64() {
                    Some(index) => STEP_SEED.step_id(index),
                    None => answer["step_id"].as_str().unwrap_or_default().to_string(),
                },
                data: answer["data"].clone(),
                now_ms: now,
            }
        } else if let Some(timer) = late.get("timer").and_then(Value::as_str) {
            Input::TimerFired {
                timer_id: timer.to_string(),
                now_ms: now,
            }
        } else if let Some(reason) = late.get("cancel").and_then(Value::as_str) {
            Input::Cancel {
                reason: reason.to_string(),
                now_ms: now,
            }
        } else {
            panic!("{name}: unknown late input {late}");
        };
        case.apply(input);
        drive(&mut case, &script, &mut visits);
    }

    // Replay must reproduce the recorded events exactly.
    if let Err(d) = replay(&def, &case.history, &case.limits) {
        panic!(
            "{name}: {d}\nrecorded: {:?}\nreplayed: {:?}",
            d.recorded, d.replayed
        );
    }

    let output = output(&case, script["history"].as_bool().unwrap_or(false));
    let history_text = serde_json::to_string(&events_json(&case.history)).unwrap_or_default();
    let output_text = output.to_string();
    for secret in script["secrets"].as_array().into_iter().flatten() {
        let secret = secret.as_str().unwrap_or_default();
        assert!(
            !history_text.contains(secret),
            "{name}: secret {secret:?} in history"
        );
        assert!(
            !output_text.contains(secret),
            "{name}: secret {secret:?} in output"
        );
        assert!(
            !format!("{:?}", case.inst).contains(secret),
            "{name}: secret {secret:?} in Debug"
        );
    }
    output
}

/// How often each activity and step has been reached so far (indexes the script's lists).
#[derive(Default)]
struct Visits {
    activities: HashMap<String, usize>,
    steps: HashMap<String, usize>,
}

/// Feeds scripted activity results and step actions until the instance ends or rests at a step
/// the script has no (more) action for.
fn drive(case: &mut Case, script: &Value, visits: &mut Visits) {
    let name = case.name.clone();
    // Bounded so a script that loops forever fails instead of hanging.
    for _ in 0..1_000 {
        let input = match case.inst.lifecycle.clone() {
            Lifecycle::AwaitingActivity { node, .. } => {
                let visit = visits.activities.entry(node.to_string()).or_default();
                let scripted = &script["activities"][node.as_str()];
                let result = if scripted.is_null() {
                    ActivityResult::Completed {
                        writes: Vec::new(),
                        checks: Vec::new(),
                    }
                } else {
                    let entry = scripted
                        .get(*visit)
                        .unwrap_or_else(|| panic!("{name}: no result for visit {visit} of {node}"));
                    activity_result(entry, &name)
                };
                *visit += 1;
                Input::ActivityDone {
                    node,
                    result,
                    now_ms: case.tick(),
                }
            }
            Lifecycle::AtStep { node, step_id, .. } => {
                let visit = visits.steps.entry(node.to_string()).or_default();
                let Some(action) = script["steps"][node.as_str()].get(*visit) else {
                    return;
                };
                *visit += 1;
                let now = case.tick();
                match step_input(action, &case.inst, &step_id, now, &name) {
                    Some(input) => input,
                    None => return,
                }
            }
            Lifecycle::Ended { .. } | Lifecycle::NotStarted => return,
        };
        case.apply(input);
    }
    panic!("{name}: the script drives more than 1000 inputs");
}

fn step_input(
    action: &Value,
    inst: &Instance,
    step_id: &str,
    now: i64,
    name: &str,
) -> Option<Input> {
    if let Some(data) = action.get("answer") {
        return Some(Input::Answer {
            step_id: step_id.to_string(),
            data: data.clone(),
            now_ms: now,
        });
    }
    if let Some(boundary) = action.get("fire").and_then(Value::as_str) {
        let timer = inst
            .timers()
            .iter()
            .find(|t| t.boundary == boundary)
            .unwrap_or_else(|| panic!("{name}: no timer armed for {boundary}"));
        return Some(Input::TimerFired {
            timer_id: timer.timer_id.clone(),
            now_ms: now,
        });
    }
    if let Some(reason) = action.get("cancel").and_then(Value::as_str) {
        return Some(Input::Cancel {
            reason: reason.to_string(),
            now_ms: now,
        });
    }
    if let Some(message) = action.get("abort").and_then(Value::as_str) {
        let node = match &inst.lifecycle {
            Lifecycle::AtStep { node, .. } => Some(node.to_string()),
            _ => None,
        };
        return Some(Input::Abort {
            node,
            message: message.to_string(),
            now_ms: now,
        });
    }
    if action.get("rest").is_some() {
        return None;
    }
    panic!("{name}: unknown step action {action}");
}

fn activity_result(entry: &Value, name: &str) -> ActivityResult {
    let writes = |v: &Value| -> Vec<VarWrite> {
        v["writes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| VarWrite {
                path: VarPath::parse(w["path"].as_str().unwrap_or_default())
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
                value: w["value"].clone(),
                secret: w["secret"].as_bool().unwrap_or(false),
            })
            .collect()
    };
    let checks = |v: &Value| -> Vec<Check> {
        v["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Check {
                name: c["name"].as_str().unwrap_or_default().to_string(),
                result: if c["result"] == "FAIL" {
                    CheckResult::Fail
                } else {
                    CheckResult::Pass
                },
                detail: c["detail"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    };
    if let Some(c) = entry.get("completed") {
        ActivityResult::Completed {
            writes: writes(c),
            checks: checks(c),
        }
    } else if let Some(r) = entry.get("refused") {
        ActivityResult::Refused {
            code: r["code"].as_str().unwrap_or_default().to_string(),
            message: r["message"].as_str().unwrap_or_default().to_string(),
            writes: writes(r),
            checks: checks(r),
        }
    } else if let Some(message) = entry.get("failed").and_then(Value::as_str) {
        ActivityResult::Failed {
            message: message.to_string(),
        }
    } else {
        panic!("{name}: unknown activity result {entry}");
    }
}

fn output(case: &Case, with_history: bool) -> Value {
    let mut visited = Vec::new();
    let mut gateways = Vec::new();
    let mut activities = Vec::new();
    let mut steps = Vec::new();
    for e in &case.history {
        match &e.kind {
            EventKind::NodeEntered { node } => visited.push(json!(node.as_str())),
            EventKind::BoundaryTaken { boundary, .. } => visited.push(json!(boundary.as_str())),
            EventKind::GatewayChose {
                gateway,
                flow,
                by_default,
            } => gateways.push(json!({"gateway": gateway.as_str(), "flow": flow.as_str(), "by_default": by_default})),
            EventKind::ActivityScheduled {
                node,
                activity,
                inputs,
            } => activities.push(
                json!({"node": node.as_str(), "activity": activity.key(), "inputs": inputs.to_json()}),
            ),
            EventKind::StepPresented {
                node,
                step_id,
                inputs,
            } => steps.push(json!({"node": node.as_str(), "step_id": step_id, "inputs": inputs.to_json()})),
            _ => {}
        }
    }
    let mut out = Map::new();
    out.insert("visited".into(), Value::Array(visited));
    out.insert("gateways".into(), Value::Array(gateways));
    out.insert("activities".into(), Value::Array(activities));
    out.insert("steps".into(), Value::Array(steps));
    out.insert("refused_inputs".into(), json!(case.refused));
    out.insert("status".into(), json!(case.inst.status().as_str()));
    out.insert("outcome".into(), json!(case.inst.outcome()));
    out.insert("error".into(), error_json(case.inst.error()));
    out.insert("variables".into(), case.inst.redacted_variables(&case.key));
    out.insert(
        "secret_paths".into(),
        json!(case
            .inst
            .secret_paths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()),
    );
    if with_history {
        out.insert("history".into(), events_json(&case.history));
    }
    Value::Object(out)
}

fn error_json(error: Option<&InstanceError>) -> Value {
    error.map_or(
        Value::Null,
        |e| json!({"node": e.node, "message": e.message}),
    )
}

fn writes_json(writes: &[RecordedWrite]) -> Value {
    writes
        .iter()
        .map(|w| json!({"path": w.path.to_string(), "value": w.value, "secret": w.secret}))
        .collect()
}

fn checks_json(checks: &[Check]) -> Value {
    checks
        .iter()
        .map(|c| json!({"name": c.name, "result": c.result.as_str(), "detail": c.detail}))
        .collect()
}

fn events_json(events: &[HistoryEvent]) -> Value {
    events
        .iter()
        .map(|e| {
            let (kind, body) = match &e.kind {
                EventKind::InstanceStarted {
                    instance_id,
                    definition,
                    token_name,
                    token,
                    // Fixed for every case (STEP_SEED): the step IDs show it.
                    step_seed: _,
                } => (
                    "InstanceStarted",
                    json!({"instance_id": instance_id, "definition": definition.name,
                           "token_name": token_name, "token": token}),
                ),
                EventKind::NodeEntered { node } => ("NodeEntered", json!({"node": node.as_str()})),
                EventKind::GatewayChose {
                    gateway,
                    flow,
                    by_default,
                } => (
                    "GatewayChose",
                    json!({"gateway": gateway.as_str(), "flow": flow.as_str(), "by_default": by_default}),
                ),
                EventKind::ActivityScheduled {
                    node,
                    activity,
                    inputs,
                } => (
                    "ActivityScheduled",
                    json!({"node": node.as_str(), "activity": activity.key(), "inputs": inputs.to_json()}),
                ),
                EventKind::ActivityCompleted {
                    node,
                    writes,
                    checks,
                } => (
                    "ActivityCompleted",
                    json!({"node": node.as_str(), "writes": writes_json(writes), "checks": checks_json(checks)}),
                ),
                EventKind::ActivityRefused {
                    node,
                    code,
                    message,
                    writes,
                    checks,
                } => (
                    "ActivityRefused",
                    json!({"node": node.as_str(), "code": code, "message": message,
                           "writes": writes_json(writes), "checks": checks_json(checks)}),
                ),
                EventKind::ActivityFailed { node, message } => (
                    "ActivityFailed",
                    json!({"node": node.as_str(), "message": message}),
                ),
                EventKind::BoundaryTaken {
                    boundary,
                    attached_to,
                    code,
                } => (
                    "BoundaryTaken",
                    json!({"boundary": boundary.as_str(), "attached_to": attached_to.as_str(), "code": code}),
                ),
                EventKind::StepPresented {
                    node,
                    step_id,
                    inputs,
                } => (
                    "StepPresented",
                    json!({"node": node.as_str(), "step_id": step_id, "inputs": inputs.to_json()}),
                ),
                EventKind::StepAnswered { step_id, data } => {
                    ("StepAnswered", json!({"step_id": step_id, "data": data}))
                }
                EventKind::TimerArmed {
                    timer_id,
                    boundary,
                    due_ms,
                } => (
                    "TimerArmed",
                    json!({"timer_id": timer_id, "boundary": boundary.as_str(), "due_in_ms": due_ms - e.at_ms}),
                ),
                EventKind::TimerFired { timer_id } => ("TimerFired", json!({"timer_id": timer_id})),
                EventKind::TimerCancelled { timer_id } => {
                    ("TimerCancelled", json!({"timer_id": timer_id}))
                }
                EventKind::Cancelled { reason } => ("Cancelled", json!({"reason": reason})),
                EventKind::Aborted { node, message } => {
                    ("Aborted", json!({"node": node, "message": message}))
                }
                EventKind::InstanceEnded {
                    status,
                    outcome,
                    error,
                } => (
                    "InstanceEnded",
                    json!({"status": status.as_str(), "outcome": outcome,
                           "error": error_json(error.as_ref())}),
                ),
            };
            json!({"index": e.index, "at": e.at_ms - START_MS, "kind": kind, "event": body})
        })
        .collect()
}
