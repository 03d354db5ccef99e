//! Tests of [`apply`] through the engine's public API: one test (or table) per rule, on
//! definitions assembled by hand (also ones the loader would refuse, such as a loop without an
//! end). The file-driven cases (`cases`) run loaded BPMN files and compare what a whole run
//! shows (path, gateway choices, status, outcome, error, variables). None of the tests here
//! repeats a case: each asserts what those snapshots do not show (the `Next` of one transition,
//! the events of one transition in order, instance fields such as timers, position and path
//! mark, the refusal variants), runs inputs no case has (a table of edge values for one rule),
//! or needs a graph the loader would refuse.
//!
//! Every input goes through [`Run::input`], which also checks the invariants that hold for all
//! inputs: a refused input leaves the instance exactly as it was; events are numbered from the
//! instance's `next_event` without gaps and stamped with the input's time.

use serde_json::{json, Value};

use idflow_defs::{Activity, ActivityType, Definition, Flow, Location, Node, NodeKind, Param};
use idflow_expr::{Condition, ParamExpr, VarPath};

use idflow_engine::redact::{marker, MarkerKey};
use idflow_engine::*;

const HASH: &str = "0000hash";

/// The step seed every test run starts with.
const STEPS: StepSeed = StepSeed::from_bytes([9; StepSeed::LEN]);

/// The marker key of every test run.
fn key() -> MarkerKey {
    MarkerKey::from_bytes([42; MarkerKey::LEN])
}

/// The ID of the step presented as event `index` in a test run.
fn step(index: u64) -> String {
    STEPS.step_id(index)
}

/// Builds definitions the way the loader would (catalogue defaults filled in).
#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    flows: Vec<Flow>,
}

impl Graph {
    fn node(mut self, id: &str, name: Option<&str>, kind: NodeKind) -> Graph {
        self.nodes.push(Node {
            id: id.into(),
            name: name.map(Into::into),
            kind,
            location: Location::default(),
        });
        self
    }

    fn start(self, id: &str) -> Graph {
        self.node(id, None, NodeKind::StartEvent)
    }

    fn end(self, id: &str, name: Option<&str>) -> Graph {
        self.node(id, name, NodeKind::EndEvent)
    }

    fn act(self, id: &str, name: &str, ty: ActivityType, given: &[(&str, &str)]) -> Graph {
        let spec = ty.spec();
        let params = spec
            .params
            .iter()
            .filter_map(|p| {
                let text = given
                    .iter()
                    .find(|(n, _)| *n == p.name || p.aliases.contains(n))
                    .map(|(_, v)| *v)
                    .or(p.default)?;
                Some(Param::new(p.name, ParamExpr::parse(text).unwrap()))
            })
            .collect();
        self.node(
            id,
            Some(name),
            NodeKind::Activity(Activity {
                activity_type: ty,
                params,
            }),
        )
    }

    fn gateway(self, id: &str, default: Option<&str>) -> Graph {
        self.node(
            id,
            Some("Decide"),
            NodeKind::ExclusiveGateway {
                default_flow: default.map(Into::into),
            },
        )
    }

    fn on_error(self, id: &str, attached: &str, code: Option<&str>) -> Graph {
        self.node(
            id,
            None,
            NodeKind::ErrorBoundary {
                attached_to: attached.into(),
                error_code: code.map(Into::into),
            },
        )
    }

    fn timer(self, id: &str, attached: &str, ms: u64) -> Graph {
        self.node(
            id,
            None,
            NodeKind::TimerBoundary {
                attached_to: attached.into(),
                duration_ms: ms,
                duration_text: format!("PT{}S", ms / 1000),
            },
        )
    }

    fn flow(mut self, id: &str, source: &str, target: &str) -> Graph {
        self.flows.push(Flow {
            id: id.into(),
            name: None,
            source: source.into(),
            target: target.into(),
            condition: None,
            location: Location::default(),
        });
        self
    }

    fn when(mut self, id: &str, source: &str, target: &str, condition: &str) -> Graph {
        self = self.flow(id, source, target);
        if let Some(f) = self.flows.last_mut() {
            f.condition = Some(Condition::parse(condition).unwrap());
        }
        self
    }

    fn build(self) -> Definition {
        Definition::assemble("proc".into(), None, HASH.into(), self.nodes, self.flows).unwrap()
    }
}

fn start_input(token: Value, now_ms: i64) -> Input {
    Input::Start {
        definition: DefinitionRef {
            name: "proc".into(),
            version: 1,
            content_hash: HASH.into(),
        },
        token_name: Some("tok".into()),
        token,
        step_seed: Some(STEPS),
        now_ms,
    }
}

fn completed(writes: Vec<VarWrite>) -> ActivityResult {
    ActivityResult::Completed {
        writes,
        checks: Vec::new(),
    }
}

fn set(path: &str, value: Value) -> VarWrite {
    VarWrite {
        path: VarPath::parse(path).unwrap(),
        value,
        secret: false,
    }
}

fn secret(path: &str, value: Value) -> VarWrite {
    VarWrite {
        secret: true,
        ..set(path, value)
    }
}

/// One instance driven input by input, with the whole history kept.
struct Run {
    def: Definition,
    inst: Instance,
    limits: Limits,
    key: MarkerKey,
    now: i64,
    history: Vec<HistoryEvent>,
}

impl Run {
    fn new(def: Definition) -> Run {
        Run {
            def,
            inst: Instance::new("I1"),
            limits: Limits::default(),
            key: key(),
            now: 1_000,
            history: Vec::new(),
        }
    }

    fn input(&mut self, input: Input) -> Result<Transition, EngineError> {
        let before = self.inst.clone();
        let now = input.now_ms();
        match apply(&self.def, &mut self.inst, input, &self.limits, &self.key) {
            Ok(t) => {
                for (i, e) in t.events.iter().enumerate() {
                    assert_eq!(e.index, before.next_event + i as u64, "event numbering");
                    assert_eq!(e.at_ms, now, "event time");
                }
                assert_eq!(
                    self.inst.next_event,
                    before.next_event + t.events.len() as u64
                );
                self.history.extend(t.events.iter().cloned());
                Ok(t)
            }
            Err(e) => {
                assert_eq!(
                    self.inst, before,
                    "a refused input changed the instance: {e}"
                );
                Err(e)
            }
        }
    }

    fn tick(&mut self) -> i64 {
        self.now += 10;
        self.now
    }

    fn start(&mut self, token: Value) -> Transition {
        let now = self.tick();
        self.input(start_input(token, now)).unwrap()
    }

    fn done(&mut self, node: &str, result: ActivityResult) -> Transition {
        let now = self.tick();
        self.input(Input::ActivityDone {
            node: node.into(),
            result,
            now_ms: now,
        })
        .unwrap()
    }

    fn answer(&mut self, data: Value) -> Result<Transition, EngineError> {
        let step_id = self.inst.current_step().unwrap_or("none").to_string();
        self.answer_to(&step_id, data)
    }

    fn answer_to(&mut self, step_id: &str, data: Value) -> Result<Transition, EngineError> {
        let now = self.tick();
        self.input(Input::Answer {
            step_id: step_id.into(),
            data,
            now_ms: now,
        })
    }

    fn fire(&mut self, timer_id: &str) -> Result<Transition, EngineError> {
        let now = self.tick();
        self.input(Input::TimerFired {
            timer_id: timer_id.into(),
            now_ms: now,
        })
    }

    fn visited(&self) -> Vec<&str> {
        self.history
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::NodeEntered { node } => Some(node.as_str()),
                EventKind::BoundaryTaken { boundary, .. } => Some(boundary.as_str()),
                _ => None,
            })
            .collect()
    }

    fn error_message(&self) -> &str {
        self.inst.error().map(|e| e.message.as_str()).unwrap_or("")
    }

    fn awaiting(&self) -> Option<&str> {
        match &self.inst.lifecycle {
            Lifecycle::AwaitingActivity { node, .. } => Some(node),
            _ => None,
        }
    }

    /// Drives every awaited activity with an empty Completed result until the instance rests.
    fn complete_all(&mut self) {
        while let Some(node) = self.awaiting().map(str::to_string) {
            self.done(&node, completed(Vec::new()));
        }
    }
}

fn linear() -> Definition {
    Graph::default()
        .start("start")
        .act(
            "add",
            "Create the user",
            ActivityType::AddUser,
            &[
                ("Store Name", "people"),
                ("User External ID", "<<processvar.token.ext>>"),
            ],
        )
        .end("end", Some("Registered"))
        .flow("f1", "start", "add")
        .flow("f2", "add", "end")
        .build()
}

/// The kinds of `events`, to compare a slice of a history.
fn kinds(events: &[HistoryEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn start_copies_the_token_and_schedules_the_first_activity() {
    let mut run = Run::new(linear());
    let t = run.start(json!({"ext": "alice"}));
    assert_eq!(run.inst.variables, json!({"token": {"ext": "alice"}}));
    assert_eq!(run.visited(), ["start", "add"]);
    let want_inputs = Inputs::from_values(vec![
        ("Store Name", json!("people")),
        ("User External ID", json!("alice")),
        ("User Key", json!("user1")),
    ]);
    assert_eq!(
        t.next,
        Next::RunActivity {
            node: "add".into(),
            activity: ActivityType::AddUser,
            inputs: want_inputs,
        }
    );
    assert!(matches!(
        &t.events[0].kind,
        EventKind::InstanceStarted { instance_id, token_name: Some(name), token, .. }
            if instance_id == "I1" && name == "tok" && token == &json!({"ext": "alice"})
    ));
    assert!(matches!(
        &t.events.last().unwrap().kind,
        EventKind::ActivityScheduled { node, inputs, .. } if node == "add"
            && inputs.to_json() == json!({"Store Name": "people", "User External ID": "alice", "User Key": "user1"})
    ));
    assert_eq!(run.awaiting(), Some("add"));

    let t = run.done(
        "add",
        completed(vec![set("processvar.user1", json!({"id": "U1"}))]),
    );
    assert_eq!(
        t.next,
        Next::Ended {
            status: Status::CompletedEndedSuccess
        }
    );
    assert_eq!(run.inst.status(), Status::CompletedEndedSuccess);
    assert_eq!(run.inst.outcome(), Some("Registered"));
    assert!(matches!(run.inst.lifecycle, Lifecycle::Ended { .. }));
    assert_eq!(run.inst.variables["user1"], json!({"id": "U1"}));
}

/// A constant parameter, resolved once, is shared by every later instance of the definition
/// (and between an instance's inputs and its history) and comes out the same; one whose
/// constant cannot be coerced fails the same way every time.
#[test]
fn constant_parameters_are_shared_and_resolve_alike_every_time() {
    let def = linear();
    let mut scheduled = Vec::new();
    for ext in ["alice", "bob"] {
        let mut inst = Instance::new("I1");
        let t = apply(
            &def,
            &mut inst,
            start_input(json!({ "ext": ext }), 1),
            &Limits::default(),
            &key(),
        )
        .unwrap();
        let Next::RunActivity { inputs, .. } = t.next else {
            panic!("{:?}", t.next)
        };
        let recorded = t.events.iter().find_map(|e| match &e.kind {
            EventKind::ActivityScheduled { inputs, .. } => Some(inputs.clone()),
            _ => None,
        });
        let recorded = recorded.unwrap();
        assert_eq!(inputs.get("Store Name"), Some(&json!("people")));
        assert_eq!(inputs.get("User External ID"), Some(&json!(ext)));
        assert_eq!(
            recorded.to_json(),
            json!({"Store Name": "people", "User External ID": ext, "User Key": "user1"})
        );
        let shared = |name: &str| {
            let input = inputs.0.iter().find(|(n, _)| *n == name).unwrap();
            let record = recorded.0.iter().find(|(n, _)| n == name).unwrap();
            std::sync::Arc::ptr_eq(&input.1, &record.1)
        };
        assert!(shared("Store Name") && shared("User External ID"));
        scheduled.push(inputs);
    }
    let first = scheduled[0].0.iter().find(|(n, _)| *n == "Store Name");
    let second = scheduled[1].0.iter().find(|(n, _)| *n == "Store Name");
    assert!(std::sync::Arc::ptr_eq(
        &first.unwrap().1,
        &second.unwrap().1
    ));

    let bad = Graph::default()
        .start("start")
        .act(
            "form",
            "Show data",
            ActivityType::CustomDataForm,
            &[("Data form name", "f"), ("Data form version", "two")],
        )
        .end("end", None)
        .flow("f1", "start", "form")
        .flow("f2", "form", "end")
        .build();
    for _ in 0..2 {
        let mut inst = Instance::new("I1");
        apply(
            &bad,
            &mut inst,
            start_input(json!({}), 1),
            &Limits::default(),
            &key(),
        )
        .unwrap();
        let message = &inst.error().unwrap().message;
        assert!(
            message.contains("parameter 'Data form version' must be INTEGER"),
            "{message}"
        );
    }
}

#[test]
fn inputs_that_do_not_fit_the_state_are_refused() {
    let mut run = Run::new(linear());
    let cases_before_start: Vec<(Input, &str)> = vec![
        (
            Input::Cancel {
                reason: "x".into(),
                now_ms: 1,
            },
            "has not started",
        ),
        (
            Input::Start {
                definition: DefinitionRef {
                    name: "other".into(),
                    version: 1,
                    content_hash: HASH.into(),
                },
                token_name: None,
                token: json!({}),
                step_seed: None,
                now_ms: 1,
            },
            "does not match",
        ),
        (
            Input::Start {
                definition: DefinitionRef {
                    name: "proc".into(),
                    version: 1,
                    content_hash: "another".into(),
                },
                token_name: None,
                token: json!({}),
                step_seed: None,
                now_ms: 1,
            },
            "does not match",
        ),
    ];
    for (input, want) in cases_before_start {
        let err = run.input(input).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    run.start(json!({"ext": "a"}));
    let cases_running: Vec<(Input, &str)> = vec![
        (start_input(json!({}), 5), "already started"),
        (
            Input::ActivityDone {
                node: "end".into(),
                result: completed(Vec::new()),
                now_ms: 5,
            },
            "not waiting for activity 'end'",
        ),
        (
            Input::Answer {
                step_id: "add-1".into(),
                data: json!({}),
                now_ms: 5,
            },
            "not the instance's current step",
        ),
        (
            Input::TimerFired {
                timer_id: "t-1".into(),
                now_ms: 5,
            },
            "timer 't-1' is not armed",
        ),
    ];
    for (input, want) in cases_running {
        let err = run.input(input).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
    run.done("add", completed(Vec::new()));
    let err = run
        .input(Input::Cancel {
            reason: "late".into(),
            now_ms: 9,
        })
        .unwrap_err();
    assert_eq!(
        err,
        EngineError::NotActive {
            status: Status::CompletedEndedSuccess
        }
    );
}

fn gateway_def(default: bool) -> Definition {
    let g = Graph::default()
        .start("start")
        .gateway("gw", default.then_some("f_default"))
        .end("low", Some("Low"))
        .end("high", Some("High"))
        .end("other", Some("Other"))
        .flow("f0", "start", "gw")
        .when("f_low", "gw", "low", "<<processvar.token.n>> < 10")
        .when("f_high", "gw", "high", "<<processvar.token.n>> >= 10");
    let g = if default {
        g.flow("f_default", "gw", "other")
    } else {
        g
    };
    g.build()
}

#[test]
fn gateways_take_the_first_true_condition_else_the_default() {
    // (default flow present, token, chosen flow and whether by default, outcome or error)
    type Case = (bool, Value, Option<(&'static str, bool)>, &'static str);
    let cases: Vec<Case> = vec![
        (true, json!({"n": 3}), Some(("f_low", false)), "Low"),
        (true, json!({"n": 30}), Some(("f_high", false)), "High"),
        (true, json!({"n": "x"}), None, "cannot be evaluated"),
        (true, json!({"n": null}), None, "needs two numbers"),
        (false, json!({"n": 3}), Some(("f_low", false)), "Low"),
        (true, json!({"n": 3.5e300}), Some(("f_high", false)), "High"),
        (
            false,
            json!({}),
            None,
            "variable `processvar.token.n` does not resolve",
        ),
    ];
    for (default, token, chosen, want) in cases {
        let mut run = Run::new(gateway_def(default));
        run.start(token.clone());
        let choice = run.history.iter().find_map(|e| match &e.kind {
            EventKind::GatewayChose {
                gateway,
                flow,
                by_default,
            } => {
                assert_eq!(gateway, "gw");
                Some((flow.as_str(), *by_default))
            }
            _ => None,
        });
        assert_eq!(choice, chosen, "{token}");
        match chosen {
            Some(_) => assert_eq!(run.inst.outcome(), Some(want), "{token}"),
            None => {
                assert_eq!(run.inst.status(), Status::CompletedProcessError, "{token}");
                let msg = run.error_message();
                assert!(msg.contains(want), "{token}: {msg}");
                assert!(msg.contains("gateway 'gw'"), "{token}: {msg}");
            }
        }
    }
}

#[test]
fn a_gateway_falls_back_to_its_default_flow_and_errors_without_one() {
    // The default flow is taken only when no condition holds, even though it has none itself.
    let def = Graph::default()
        .start("start")
        .gateway("gw", Some("f_default"))
        .end("yes", None)
        .end("fallback", Some("Fallback"))
        .flow("f0", "start", "gw")
        .flow("f_default", "gw", "fallback")
        .when("f_yes", "gw", "yes", "<<processvar.token.ok>> == true")
        .build();
    let mut run = Run::new(def);
    run.start(json!({"ok": false}));
    assert!(run.history.iter().any(|e| e.kind
        == EventKind::GatewayChose {
            gateway: "gw".into(),
            flow: "f_default".into(),
            by_default: true
        }));
    assert_eq!(run.inst.outcome(), Some("Fallback"));

    let mut run = Run::new(gateway_def(false));
    run.start(json!({"n": null}));
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    let mut run = Run::new(
        Graph::default()
            .start("start")
            .gateway("gw", None)
            .end("a", None)
            .flow("f0", "start", "gw")
            .when("f_a", "gw", "a", "false")
            .build(),
    );
    run.start(json!({}));
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert_eq!(
        run.inst.error(),
        Some(&InstanceError {
            node: Some("gw".into()),
            message: "exclusive gateway 'gw' (Decide): no outgoing flow's condition holds and there is no default flow".into()
        })
    );
}

#[test]
fn a_flow_without_condition_out_of_a_gateway_holds() {
    let def = Graph::default()
        .start("start")
        .gateway("gw", None)
        .end("a", Some("A"))
        .end("b", Some("B"))
        .flow("f0", "start", "gw")
        .when("fa", "gw", "a", "1 == 2")
        .flow("fb", "gw", "b")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    assert_eq!(run.inst.outcome(), Some("B"));
}

fn with_boundaries() -> Definition {
    Graph::default()
        .start("start")
        .act(
            "add",
            "Create the user",
            ActivityType::AddUser,
            &[("Store Name", "s"), ("User External ID", "x")],
        )
        .on_error("on_taken", "add", Some("EXT_ID_NOT_UNIQUE"))
        .on_error("on_any", "add", None)
        .act("decide", "Decide", ActivityType::SimpleDecider, &[])
        .end("ok", Some("Done"))
        .end("taken", Some("Taken"))
        .end("any", Some("Other error"))
        .flow("f1", "start", "add")
        .flow("f2", "add", "decide")
        .flow("f3", "decide", "ok")
        .flow("f4", "on_taken", "taken")
        .flow("f5", "on_any", "any")
        .build()
}

fn refused(code: &str) -> ActivityResult {
    ActivityResult::Refused {
        code: code.into(),
        message: format!("{code} happened"),
        writes: vec![set("processvar.user1.tried", json!(true))],
        checks: vec![Check {
            name: "add user".into(),
            result: CheckResult::Fail,
            detail: code.into(),
        }],
    }
}

#[test]
fn refusals_take_the_matching_error_boundary() {
    // (code, boundary taken, final status, outcome)
    let cases = [
        (
            "EXT_ID_NOT_UNIQUE",
            Some("on_taken"),
            Status::CompletedEndedError,
            "Taken",
        ),
        (
            "FAILED_TO_ADD_USER",
            Some("on_any"),
            Status::CompletedEndedError,
            "Other error",
        ),
    ];
    for (code, boundary, status, outcome) in cases {
        let mut run = Run::new(with_boundaries());
        run.start(json!({}));
        run.done("add", refused(code));
        let taken = run.history.iter().find_map(|e| match &e.kind {
            EventKind::BoundaryTaken {
                boundary,
                attached_to,
                code: c,
            } => {
                assert_eq!(attached_to, "add");
                assert_eq!(c.as_deref(), Some(code));
                Some(boundary.as_str())
            }
            _ => None,
        });
        assert_eq!(taken, boundary, "{code}");
        assert_eq!(run.inst.status(), status, "{code}");
        assert_eq!(run.inst.outcome(), Some(outcome), "{code}");
        // The refusal's writes and checks are applied before the boundary is taken.
        assert_eq!(run.inst.variables["user1"]["tried"], json!(true));
        assert_eq!(
            run.inst.variables["_checks"],
            json!([{"name": "add user", "result": "FAIL", "detail": code}])
        );
    }
}

#[test]
fn a_refusal_without_boundary_continues_and_the_decider_judges() {
    let def = Graph::default()
        .start("start")
        .act(
            "add",
            "Create the user",
            ActivityType::AddUser,
            &[("Store Name", "s"), ("User External ID", "x")],
        )
        .act("decide", "Decide", ActivityType::SimpleDecider, &[])
        .end("ok", Some("Done"))
        .flow("f1", "start", "add")
        .flow("f2", "add", "decide")
        .flow("f3", "decide", "ok")
        .build();
    for (decision, status) in [
        ("FAIL", Status::CompletedEndedError),
        ("PASS", Status::CompletedEndedSuccess),
        ("REVIEW", Status::CompletedEndedSuccess),
    ] {
        let mut run = Run::new(def.clone());
        run.start(json!({}));
        run.done("add", refused("EXT_ID_NOT_UNIQUE"));
        assert_eq!(run.awaiting(), Some("decide"), "the normal flow goes on");
        assert_eq!(run.inst.lifecycle.path_mark(), PathMark::Normal);
        run.done(
            "decide",
            completed(vec![set("processvar._decision", json!(decision))]),
        );
        assert_eq!(run.inst.status(), status, "{decision}");
        assert_eq!(run.inst.outcome(), Some("Done"));
    }
}

#[test]
fn the_simple_decider_resets_the_error_path() {
    let def = Graph::default()
        .start("start")
        .act(
            "add",
            "Create the user",
            ActivityType::AddUser,
            &[("Store Name", "s"), ("User External ID", "x")],
        )
        .on_error("on_any", "add", None)
        .act("decide", "Decide", ActivityType::SimpleDecider, &[])
        .end("ok", Some("Done"))
        .flow("f1", "start", "add")
        .flow("f2", "add", "ok")
        .flow("f3", "on_any", "decide")
        .flow("f4", "decide", "ok")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    run.done("add", refused("FAILED_TO_ADD_USER"));
    assert_eq!(run.inst.lifecycle.path_mark(), PathMark::ErrorPath);
    run.done(
        "decide",
        completed(vec![set("processvar._decision", json!("PASS"))]),
    );
    assert_eq!(run.inst.lifecycle.path_mark(), PathMark::Normal);
    assert_eq!(run.inst.status(), Status::CompletedEndedSuccess);
    assert_eq!(run.visited(), ["start", "add", "on_any", "decide", "ok"]);
}

#[test]
fn a_failed_activity_ends_the_instance_with_a_process_error() {
    let mut run = Run::new(with_boundaries());
    run.start(json!({}));
    let t = run.done(
        "add",
        ActivityResult::Failed {
            message: "store unreachable".into(),
        },
    );
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert_eq!(
        run.inst.error(),
        Some(&InstanceError {
            node: Some("add".into()),
            message: "store unreachable".into()
        })
    );
    assert_eq!(run.inst.outcome(), None);
    assert!(matches!(
        t.events[0].kind,
        EventKind::ActivityFailed { ref node, .. } if node == "add"
    ));
    assert_eq!(
        t.next,
        Next::Ended {
            status: Status::CompletedProcessError
        }
    );
}

#[test]
fn substitutions_keep_types_render_text_and_coerce() {
    let def = Graph::default()
        .start("start")
        .act(
            "form",
            "Show data",
            ActivityType::CustomDataForm,
            &[
                ("Data form name", "<<processvar.token.form>>"),
                ("Data form version", "<<processvar.token.version>>"),
                ("Form data Key", "answer-<<processvar.token.version>>"),
                ("UI Component ID", "${\"ui\"}"),
            ],
        )
        .act(
            "decide",
            "Decide",
            ActivityType::SimpleDecider,
            &[("Derive Decision From", "<<processvar.token.obj>>")],
        )
        .end("end", None)
        .flow("f1", "start", "form")
        .flow("f2", "form", "decide")
        .flow("f3", "decide", "end")
        .build();
    let mut run = Run::new(def);
    let t = run.start(json!({"form": "f", "version": "2", "obj": {"a": [1]}}));
    let Next::PresentStep {
        inputs, step_id, ..
    } = &t.next
    else {
        panic!("no step: {:?}", t.next);
    };
    assert_eq!(*step_id, step(3));
    assert_eq!(inputs.get("Data form name"), Some(&json!("f")));
    // Text "2" coerced to the parameter's INTEGER type.
    assert_eq!(inputs.get("Data form version"), Some(&json!(2)));
    assert_eq!(inputs.str("Form data Key"), Some("answer-2"));
    assert_eq!(inputs.str("UI Component ID"), Some("ui"));
    // A default given as text, coerced too.
    assert_eq!(
        inputs.str("Starting Component ID"),
        Some("custom-data-form")
    );
    run.answer(json!({"typed": "hello"})).unwrap();
    assert_eq!(run.inst.variables["answer-2"], json!({"typed": "hello"}));
    // A whole substitution keeps the object as it is, for a STRING parameter.
    let scheduled = run.history.iter().find_map(|e| match &e.kind {
        EventKind::ActivityScheduled { node, inputs, .. } if node == "decide" => {
            Some(inputs.to_json())
        }
        _ => None,
    });
    assert_eq!(
        scheduled,
        Some(json!({"Decision on Any Failure": "FAIL", "Derive Decision From": {"a": [1]}}))
    );
}

#[test]
fn unresolved_paths_and_bad_coercions_name_the_path_and_the_activity() {
    let def = |version: &str| {
        Graph::default()
            .start("start")
            .act(
                "form",
                "Show data",
                ActivityType::CustomDataForm,
                &[
                    ("Data form name", "<<processvar.token.form>>"),
                    ("Data form version", version),
                ],
            )
            .end("end", None)
            .flow("f1", "start", "form")
            .flow("f2", "form", "end")
            .build()
    };
    let cases = [
        (
            "1",
            json!({}),
            vec![
                "step 'form' (Show data)",
                "parameter 'Data form name'",
                "`processvar.token.form` does not resolve",
                "no key \"form\"",
            ],
        ),
        (
            "<<processvar.token.v>>",
            json!({"form": "f", "v": "two"}),
            vec![
                "step 'form' (Show data)",
                "parameter 'Data form version' must be INTEGER",
                "\"two\" (a string)",
            ],
        ),
        (
            "v<<processvar.token.v[3]>>",
            json!({"form": "f", "v": [1]}),
            vec![
                "`processvar.token.v[3]` does not resolve",
                "index 3 out of range",
            ],
        ),
    ];
    for (version, token, wants) in cases {
        let mut run = Run::new(def(version));
        run.start(token);
        assert_eq!(run.inst.status(), Status::CompletedProcessError);
        let error = run.inst.error().cloned().unwrap();
        assert_eq!(error.node.as_deref(), Some("form"));
        for want in wants {
            assert!(error.message.contains(want), "{}: {want}", error.message);
        }
        assert!(run
            .history
            .iter()
            .all(|e| !matches!(e.kind, EventKind::StepPresented { .. })));
    }
}

fn step_with_timer() -> Definition {
    Graph::default()
        .start("start")
        .act(
            "form",
            "Ask",
            ActivityType::CustomDataForm,
            &[("Data form name", "ask")],
        )
        .timer("slow", "form", 60_000)
        .timer("slower", "form", 120_000)
        .act("decide", "Decide", ActivityType::SimpleDecider, &[])
        .end("end", Some("Answered"))
        .end("late", Some("Too late"))
        .flow("f1", "start", "form")
        .flow("f2", "form", "decide")
        .flow("f3", "decide", "end")
        .flow("f4", "slow", "late")
        .build()
}

#[test]
fn a_step_rests_with_its_timers_armed_until_answered() {
    let mut run = Run::new(step_with_timer());
    let t = run.start(json!({}));
    let now = run.now;
    assert!(matches!(&t.next, Next::PresentStep { node, .. } if node == "form"));
    assert_eq!(
        run.inst.timers(),
        [
            ArmedTimer {
                timer_id: "slow-4".into(),
                boundary: "slow".into(),
                due_ms: now + 60_000
            },
            ArmedTimer {
                timer_id: "slower-5".into(),
                boundary: "slower".into(),
                due_ms: now + 120_000
            },
        ]
    );
    assert_eq!(
        kinds(&t.events[t.events.len() - 2..]),
        [
            EventKind::TimerArmed {
                timer_id: "slow-4".into(),
                boundary: "slow".into(),
                due_ms: now + 60_000
            },
            EventKind::TimerArmed {
                timer_id: "slower-5".into(),
                boundary: "slower".into(),
                due_ms: now + 120_000
            },
        ]
    );
    assert!(matches!(
        &run.inst.lifecycle,
        Lifecycle::AtStep { node, step_id, .. } if node == "form" && *step_id == step(3)
    ));
    assert_eq!(run.inst.timers().len(), 2);
    assert_eq!(
        run.answer(json!("not an object")).unwrap_err(),
        EngineError::AnswerNotObject { step_id: step(3) }
    );
    assert!(matches!(
        run.answer_to("form-2", json!({})).unwrap_err(),
        EngineError::StaleStep { .. }
    ));
    let t = run.answer(json!({"colour": "blue"})).unwrap();
    assert_eq!(
        kinds(&t.events[1..3]),
        [
            EventKind::TimerCancelled {
                timer_id: "slow-4".into()
            },
            EventKind::TimerCancelled {
                timer_id: "slower-5".into()
            },
        ]
    );
    assert!(run.inst.timers().is_empty());
    assert_eq!(run.inst.variables["customForm1"], json!({"colour": "blue"}));
    assert!(matches!(
        &t.events[0].kind,
        EventKind::StepAnswered { step_id, data } if *step_id == step(3) && data == &json!({"colour": "blue"})
    ));
    run.complete_all();
    assert_eq!(run.inst.status(), Status::CompletedEndedSuccess);
    // A late firing of a cancelled timer is refused.
    assert!(matches!(
        run.fire("slow-4").unwrap_err(),
        EngineError::NotActive { .. }
    ));
}

#[test]
fn a_fired_timer_takes_its_path_and_terminates() {
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    assert!(matches!(
        run.fire("slow-99").unwrap_err(),
        EngineError::UnknownTimer { .. }
    ));
    let t = run.fire("slow-4").unwrap();
    assert_eq!(
        kinds(&t.events[1..2]),
        [EventKind::TimerCancelled {
            timer_id: "slower-5".into()
        }]
    );
    assert_eq!(
        t.next,
        Next::Ended {
            status: Status::CompletedTerminated
        }
    );
    assert_eq!(run.inst.outcome(), Some("Too late"));
    assert_eq!(run.visited(), ["start", "form", "slow", "late"]);
    // The step is gone: answering it now is refused.
    assert!(matches!(
        run.answer_to(&step(3), json!({})).unwrap_err(),
        EngineError::NotActive { .. }
    ));

    // A timer without an outgoing flow terminates the instance on the spot.
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    run.fire("slower-5").unwrap();
    assert_eq!(run.inst.status(), Status::CompletedTerminated);
    assert_eq!(run.inst.outcome(), None);
}

#[test]
fn a_timer_path_leading_to_another_step_makes_the_old_step_stale() {
    let def = Graph::default()
        .start("start")
        .act(
            "form",
            "Ask",
            ActivityType::CustomDataForm,
            &[("Data form name", "ask")],
        )
        .timer("slow", "form", 1_000)
        .end("end", Some("Answered"))
        .flow("f1", "start", "form")
        .flow("f2", "form", "end")
        .flow("f3", "slow", "form")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    let first = run.inst.current_step().unwrap().to_string();
    run.fire("slow-4").unwrap();
    // The revisited step gets a fresh ID and a fresh timer.
    let second = run.inst.current_step().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(run.inst.timers().len(), 1);
    assert!(matches!(
        run.answer_to(&first, json!({})).unwrap_err(),
        EngineError::StaleStep { .. }
    ));
    // The timed-out path ends TERMINATED even through a plain end.
    run.answer(json!({})).unwrap();
    assert_eq!(run.inst.status(), Status::CompletedTerminated);
    assert_eq!(run.inst.outcome(), Some("Answered"));
}

#[test]
fn step_ids_derive_from_the_seed_and_cannot_be_guessed_from_node_and_index() {
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    let id = run.inst.current_step().unwrap().to_string();
    // 128 bits in the product's ID format, and nothing of the node or the event index in it.
    assert_eq!(id.len(), 26, "{id}");
    assert!(id
        .chars()
        .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    assert_eq!(id, step(3));
    assert!(!id.contains("form"), "{id}");
    // The ID the engine used to give (`{node}-{event index}`) answers nothing.
    assert_eq!(
        run.answer_to("form-3", json!({})).unwrap_err(),
        EngineError::StaleStep {
            step_id: "form-3".into()
        }
    );
    // Another seed, another ID for the same node and index.
    let other = StepSeed::from_bytes([10; StepSeed::LEN]);
    assert_ne!(other.step_id(3), id);
    assert_ne!(STEPS.step_id(4), id);
    assert!(!format!("{:?} {:?}", STEPS, run.inst).contains("[9, 9"));
    // The seed is recorded, so a replay reproduces the very same IDs.
    run.answer(json!({})).unwrap();
    run.complete_all();
    assert!(matches!(
        &run.history[0].kind,
        EventKind::InstanceStarted { step_seed: Some(s), .. } if *s == STEPS
    ));
    assert_eq!(
        replay(&run.def, &run.history, &run.limits).unwrap(),
        run.inst
    );

    // A history recorded before seeds existed (no seed at its start) keeps its old step IDs,
    // so it replays (and an instance stored then resumes) as recorded.
    let mut legacy = Run::new(step_with_timer());
    let mut start = start_input(json!({}), 5);
    if let Input::Start { step_seed, .. } = &mut start {
        *step_seed = None;
    }
    legacy.input(start).unwrap();
    assert_eq!(legacy.inst.current_step(), Some("form-3"));
    legacy.answer(json!({})).unwrap();
    legacy.complete_all();
    assert_eq!(
        replay(&legacy.def, &legacy.history, &legacy.limits).unwrap(),
        legacy.inst
    );
}

#[test]
fn blake3_seeds_give_their_own_step_ids_and_replay_as_recorded() {
    let keyed = StepSeed::keyed([9; StepSeed::KEYED_LEN]);
    // Pinned, for either kind: recorded histories hold these IDs, so neither derivation may
    // ever change.
    assert_eq!(keyed.step_id(3), "L2LH4QWBPCJN2JVQRMLNJOKPQU");
    assert_eq!(STEPS.step_id(3), "THTPIK6HRGY4JD3DHYW6BEXB2I");
    let mut run = Run::new(step_with_timer());
    let mut start = start_input(json!({}), 5);
    if let Input::Start { step_seed, .. } = &mut start {
        *step_seed = Some(keyed);
    }
    run.input(start).unwrap();
    let id = run.inst.current_step().unwrap().to_string();
    assert_eq!(id, keyed.step_id(3));
    assert_ne!(id, step(3));
    assert_eq!(id.len(), 26, "{id}");
    assert!(!format!("{keyed:?} {:?}", run.inst).contains("[9, 9"));
    run.answer_to(&id, json!({})).unwrap();
    run.complete_all();
    assert!(matches!(
        &run.history[0].kind,
        EventKind::InstanceStarted { step_seed: Some(s), .. } if *s == keyed
    ));
    assert_eq!(
        replay(&run.def, &run.history, &run.limits).unwrap(),
        run.inst
    );
}
#[test]
fn cancel_and_abort_end_the_instance_and_drop_its_timers() {
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    let t = run
        .input(Input::Cancel {
            reason: "user left".into(),
            now_ms: 77,
        })
        .unwrap();
    let cancelled = t
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TimerCancelled { .. }))
        .count();
    assert_eq!(cancelled, 2, "{:?}", t.events);
    assert_eq!(
        t.next,
        Next::Ended {
            status: Status::CompletedTerminated
        }
    );
    assert_eq!(run.inst.status(), Status::CompletedTerminated);
    assert!(run.inst.timers().is_empty());

    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    run.input(Input::Abort {
        node: Some("form".into()),
        message: "form 'ask' is not deployed".into(),
        now_ms: 78,
    })
    .unwrap();
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert_eq!(
        run.inst.error(),
        Some(&InstanceError {
            node: Some("form".into()),
            message: "form 'ask' is not deployed".into()
        })
    );
    assert!(run.inst.timers().is_empty());
}

#[test]
fn activity_writes_create_objects_and_checks_accumulate() {
    let mut run = Run::new(with_boundaries());
    run.start(json!({}));
    run.done(
        "add",
        ActivityResult::Completed {
            writes: vec![
                set("processvar.user1", json!({"id": "U1"})),
                set("processvar.passcodeReg1.session.id", json!("S1")),
            ],
            checks: vec![Check {
                name: "unique".into(),
                result: CheckResult::Pass,
                detail: "ok".into(),
            }],
        },
    );
    assert_eq!(
        run.inst.variables,
        json!({
            "token": {},
            "user1": {"id": "U1"},
            "passcodeReg1": {"session": {"id": "S1"}},
            "_checks": [{"name": "unique", "result": "PASS", "detail": "ok"}]
        })
    );

    let mut run = Run::new(with_boundaries());
    run.start(json!({}));
    run.done("add", completed(vec![set("processvar.token[0]", json!(1))]));
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert!(
        run.error_message().contains("array index"),
        "{}",
        run.error_message()
    );
}

#[test]
fn the_variables_size_limit_refuses_answers_and_fails_writes() {
    let mut run = Run::new(step_with_timer());
    run.limits.max_variables_bytes = 200;
    run.start(json!({"k": "v"}));
    let before = run.inst.clone();
    let err = run.answer(json!({"blob": "x".repeat(300)})).unwrap_err();
    assert!(
        matches!(err, EngineError::AnswerTooLarge { size, limit: 200, .. } if size > 300),
        "{err}"
    );
    assert_eq!(run.inst, before);
    // A smaller answer is then accepted.
    run.answer(json!({"blob": "x"})).unwrap();
    assert_eq!(run.awaiting(), Some("decide"));
    run.done(
        "decide",
        completed(vec![set("processvar.huge", json!("y".repeat(500)))]),
    );
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert!(
        run.error_message().contains("over the limit of 200 bytes"),
        "{}",
        run.error_message()
    );

    // An answer replacing an earlier one is measured in place, and the earlier one restored.
    let def = Graph::default()
        .start("start")
        .act(
            "form",
            "Ask",
            ActivityType::CustomDataForm,
            &[("Data form name", "ask")],
        )
        .end("end", None)
        .flow("f1", "start", "form")
        .flow("f2", "form", "end")
        .build();
    let mut run = Run::new(def);
    run.limits.max_variables_bytes = 100;
    run.start(json!({}));
    run.inst.variables["customForm1"] = json!("earlier");
    run.inst.variables["zz"] = json!(1);
    let before = run.inst.clone();
    assert!(run.answer(json!({"a": "b".repeat(200)})).is_err());
    assert_eq!(
        serde_json::to_string(&run.inst.variables).unwrap(),
        serde_json::to_string(&before.variables).unwrap(),
        "key order kept"
    );
}

#[test]
fn a_loop_without_a_step_is_stopped() {
    let def = Graph::default()
        .start("start")
        .gateway("a", None)
        .gateway("b", None)
        .flow("f0", "start", "a")
        .flow("f1", "a", "b")
        .flow("f2", "b", "a")
        .build();
    let mut run = Run::new(def);
    run.limits.max_steps_per_apply = 50;
    run.start(json!({}));
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    assert!(run.error_message().contains("more than 50 nodes"));
    assert_eq!(run.visited().len(), 50);
}

#[test]
fn a_node_with_several_outgoing_flows_takes_the_first() {
    let def = Graph::default()
        .start("start")
        .end("one", Some("One"))
        .end("two", Some("Two"))
        .flow("f1", "start", "one")
        .flow("f2", "start", "two")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    assert_eq!(run.inst.outcome(), Some("One"));
    // An end's ID is the outcome when it has no name.
    let def = Graph::default()
        .start("start")
        .end("bare", None)
        .flow("f1", "start", "bare")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    assert_eq!(run.inst.outcome(), Some("bare"));
}

/// Registration-like flow: a secret write, a secret answer read whole and in a template.
fn secret_flow() -> Definition {
    Graph::default()
        .start("start")
        .act(
            "begin",
            "Start registration",
            ActivityType::StartTotpRegistration,
            &[("TOTP Policy", "p"), ("Store Name", "s")],
        )
        .act(
            "form",
            "Scan",
            ActivityType::TotpRegistrationForm,
            &[("Data form name", "scan")],
        )
        .act(
            "finish",
            "Complete",
            ActivityType::CompleteTotpRegistration,
            &[(
                "TOTP Registration Browser Response",
                "<<processvar.totpRegForm1>>",
            )],
        )
        .act(
            "show",
            "Show",
            ActivityType::CustomDataForm,
            &[
                (
                    "Data form name",
                    "seed <<processvar.totpReg1.seed>> for <<processvar.user>>",
                ),
                ("UI Component ID", "<<processvar.totpReg1.seed>>"),
            ],
        )
        .end("end", Some("Registered"))
        .flow("f1", "start", "begin")
        .flow("f2", "begin", "form")
        .flow("f3", "form", "finish")
        .flow("f4", "finish", "show")
        .flow("f5", "show", "end")
        .build()
}

#[test]
fn secrets_are_usable_but_never_reach_history() {
    const SEED: &str = "JBSWY3DPEHPK3PXP";
    const CODE: &str = "492039";
    let mut run = Run::new(secret_flow());
    run.start(json!({}));
    run.done(
        "begin",
        completed(vec![
            set(
                "processvar.totpReg1",
                json!({"issuer": "idflow", "seed": SEED}),
            ),
            secret("processvar.totpReg1.seed", json!(SEED)),
            set("processvar.user", json!("alice")),
        ]),
    );
    run.answer(json!({"code": CODE, "device": "phone"}))
        .unwrap();
    // The activity gets the real answer.
    let t = run.history.len();
    assert_eq!(run.inst.variables["totpRegForm1"]["code"], json!(CODE));
    let scheduled = run.history[..t].iter().rev().find_map(|e| match &e.kind {
        EventKind::ActivityScheduled { node, inputs, .. } if node == "finish" => {
            Some(inputs.to_json())
        }
        _ => None,
    });
    assert_eq!(
        scheduled,
        Some(json!({
            "TOTP Registration Browser Response": {"code": marker(&json!(CODE), &key()), "device": marker(&json!("phone"), &key())},
            "TOTP Registration Key": "totpReg1"
        }))
    );
    run.done("finish", completed(Vec::new()));
    let presented = run.history.iter().rev().find_map(|e| match &e.kind {
        EventKind::StepPresented { inputs, .. } => Some(inputs.to_json()),
        _ => None,
    });
    let presented = presented.unwrap();
    let seed_marker = marker(&json!(SEED), &key());
    assert_eq!(presented["UI Component ID"], seed_marker);
    let shown = format!("seed {} for alice", seed_marker.as_str().unwrap());
    // A text template around a secret records its text with the secret's marker in it.
    assert_eq!(presented["Data form name"], json!(shown));
    run.answer(json!({})).unwrap();
    assert_eq!(run.inst.status(), Status::CompletedEndedSuccess);

    // Nothing secret anywhere in the history, nor in Debug output.
    let dump = format!("{:?}", run.history);
    for s in [SEED, CODE, "phone"] {
        assert!(!dump.contains(s), "{s} leaked into history");
        assert!(
            !format!("{:?}", run.inst).contains(s),
            "{s} leaked into Debug"
        );
    }
    // ... while the instance keeps the real values for the activities.
    assert_eq!(run.inst.variables["totpReg1"]["seed"], json!(SEED));
    assert_eq!(
        run.inst.redacted_variables(&run.key)["totpReg1"],
        json!({"issuer": "idflow", "seed": seed_marker})
    );
    // The parent write recorded after the secret mark: its seed is a marker too.
    let written = run.history.iter().find_map(|e| match &e.kind {
        EventKind::ActivityCompleted { node, writes, .. } if node == "begin" => {
            Some(writes.clone())
        }
        _ => None,
    });
    let written = written.unwrap();
    assert_eq!(
        written[0].value,
        json!({"issuer": "idflow", "seed": seed_marker})
    );
    assert_eq!(written[1].value, seed_marker);
    assert!(written[1].secret);

    // Replay re-runs the redacted inputs and gets the very same events.
    let replayed = replay(&run.def, &run.history, &run.limits).unwrap();
    assert_eq!(replayed.status(), Status::CompletedEndedSuccess);
    assert_eq!(replayed.variables, run.inst.redacted_variables(&run.key));
    assert_eq!(replayed.secret_paths, run.inst.secret_paths);
}

#[test]
fn replay_reproduces_every_kind_of_run_and_names_a_divergence() {
    let mut runs = Vec::new();
    let mut run = Run::new(with_boundaries());
    run.start(json!({"a": 1}));
    run.done("add", refused("EXT_ID_NOT_UNIQUE"));
    runs.push(run);
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    run.fire("slow-4").unwrap();
    runs.push(run);
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    run.input(Input::Cancel {
        reason: "bye".into(),
        now_ms: 5,
    })
    .unwrap();
    runs.push(run);
    let mut run = Run::new(step_with_timer());
    run.start(json!({}));
    run.answer(json!({"x": 1})).unwrap();
    run.done(
        "decide",
        ActivityResult::Failed {
            message: "boom".into(),
        },
    );
    runs.push(run);
    for run in &runs {
        let inputs = inputs_from_history(&run.history);
        assert!(matches!(inputs.first(), Some((0, Input::Start { .. }))));
        let replayed = replay(&run.def, &run.history, &run.limits).unwrap();
        assert_eq!(replayed, run.inst, "no secrets: the replay is the instance");
    }

    // A history changed by hand diverges at the changed event.
    let run = &runs[0];
    let mut tampered = run.history.clone();
    let at = tampered
        .iter()
        .position(|e| matches!(e.kind, EventKind::BoundaryTaken { .. }))
        .unwrap();
    tampered[at].kind = EventKind::BoundaryTaken {
        boundary: "on_any".into(),
        attached_to: "add".into(),
        code: Some("EXT_ID_NOT_UNIQUE".into()),
    };
    let d = replay(&run.def, &tampered, &run.limits).unwrap_err();
    assert_eq!(d.index, at as u64);
    assert!(d.replayed.is_some() && d.recorded.is_some());
    // A history cut short, and one that does not open with the start.
    let d = replay(&run.def, &run.history[..run.history.len() - 1], &run.limits).unwrap_err();
    assert_eq!(d.index, run.history.len() as u64 - 1);
    assert!(replay(&run.def, &run.history[1..], &run.limits).is_err());
}

#[test]
fn debug_output_hides_secret_inputs_and_answers() {
    let answer = Input::Answer {
        step_id: "s-1".into(),
        data: json!({"passcode": "hunter2"}),
        now_ms: 1,
    };
    let write = secret("processvar.seed", json!("topsecret"));
    let inputs = Inputs::from_values(vec![(
        "Passcode Registration Browser Response",
        json!({"verifier": "v3r"}),
    )]);
    let shown = format!("{answer:?} {write:?} {inputs:?}");
    for s in ["hunter2", "topsecret", "v3r"] {
        assert!(!shown.contains(s), "{shown}");
    }
    assert!(
        shown.contains("passcode") && shown.contains("processvar.seed"),
        "{shown}"
    );
}

#[test]
fn a_condition_on_a_secret_does_not_quote_it_in_errors() {
    let def = Graph::default()
        .start("start")
        .act(
            "form",
            "Ask",
            ActivityType::PasscodeAuthenticationForm,
            &[("Data form name", "ask")],
        )
        .gateway("gw", None)
        .end("end", None)
        .flow("f1", "start", "form")
        .flow("f2", "form", "gw")
        .when(
            "f3",
            "gw",
            "end",
            "<<processvar.passcodeAuthForm1.pin>> > 3",
        )
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    run.answer(json!({"pin": "s3cr3t-pin"})).unwrap();
    assert_eq!(run.inst.status(), Status::CompletedProcessError);
    let message = run.error_message();
    assert!(message.contains("on a secret value"), "{message}");
    assert!(!message.contains("s3cr3t-pin"), "{message}");
}

#[test]
fn end_status_follows_error_ends_paths_and_decisions() {
    // (error end, refusal code, decision, status)
    let def = |error_end: bool| {
        let mut def = Graph::default()
            .start("start")
            .act(
                "add",
                "Create the user",
                ActivityType::AddUser,
                &[("Store Name", "s"), ("User External ID", "x")],
            )
            .on_error("on_any", "add", None)
            .end("end", Some("Finished"))
            .flow("f1", "start", "add")
            .flow("f2", "add", "end")
            .flow("f3", "on_any", "end")
            .build();
        if error_end {
            def.mark_error_end("end").unwrap();
        }
        def
    };
    let cases = [
        (false, None, None, Status::CompletedEndedSuccess),
        (true, None, None, Status::CompletedEndedError),
        (false, Some("X"), None, Status::CompletedEndedError),
        (false, None, Some("FAIL"), Status::CompletedEndedError),
        (false, None, Some("PASS"), Status::CompletedEndedSuccess),
    ];
    for (error_end, refusal, decision, status) in cases {
        let mut run = Run::new(def(error_end));
        run.start(json!({}));
        let writes = decision
            .map(|d| vec![set("processvar._decision", json!(d))])
            .unwrap_or_default();
        match refusal {
            Some(code) => run.done("add", refused(code)),
            None => run.done("add", completed(writes)),
        };
        assert_eq!(
            run.inst.status(),
            status,
            "{error_end} {refusal:?} {decision:?}"
        );
        assert_eq!(run.inst.outcome(), Some("Finished"));
    }
}

#[test]
fn writes_into_secret_objects_replay_exactly() {
    // A secret object is written, then written into, then checks are appended to a secret list,
    // then the whole object is read by a later activity: the replay (which holds only the
    // redacted view) must produce the very same events.
    let def = Graph::default()
        .start("start")
        .act(
            "begin",
            "Start",
            ActivityType::StartTotpRegistration,
            &[("TOTP Policy", "p"), ("Store Name", "s")],
        )
        .act(
            "finish",
            "Complete",
            ActivityType::CompleteTotpRegistration,
            &[(
                "TOTP Registration Browser Response",
                "<<processvar.totpReg1>>",
            )],
        )
        .end("end", None)
        .flow("f1", "start", "begin")
        .flow("f2", "begin", "finish")
        .flow("f3", "finish", "end")
        .build();
    let mut run = Run::new(def);
    run.start(json!({}));
    run.done(
        "begin",
        ActivityResult::Completed {
            writes: vec![
                secret("processvar.totpReg1", json!({"seed": "SEED1", "n": [1, 2]})),
                set("processvar.totpReg1.extra", json!({"more": "MORE1"})),
                secret("processvar._checks", json!([])),
            ],
            checks: vec![Check {
                name: "seeded".into(),
                result: CheckResult::Pass,
                detail: "DETAIL1".into(),
            }],
        },
    );
    run.done("finish", completed(Vec::new()));
    assert_eq!(run.inst.status(), Status::CompletedEndedSuccess);
    let dump = format!("{:?}", run.history);
    for s in ["SEED1", "MORE1", "DETAIL1"] {
        assert!(!dump.contains(s), "{s} leaked");
    }
    let scheduled = run.history.iter().find_map(|e| match &e.kind {
        EventKind::ActivityScheduled { node, inputs, .. } if node == "finish" => Some(inputs),
        _ => None,
    });
    assert_eq!(
        scheduled.and_then(|i| i.get("TOTP Registration Browser Response")),
        Some(&json!({
            "seed": marker(&json!("SEED1"), &key()),
            "n": [marker(&json!(1), &key()), marker(&json!(2), &key())],
            "extra": {"more": marker(&json!("MORE1"), &key())}
        }))
    );
    // The replay's own redacted view is the original's.
    let replayed = replay(&run.def, &run.history, &run.limits).unwrap();
    // (Viewed under the run's key: a check's PASS/FAIL is recorded in clear, so under a secret
    // `_checks` it is marked anew by whoever views the variables.)
    assert_eq!(
        replayed.redacted_variables(&run.key),
        run.inst.redacted_variables(&run.key)
    );
}
