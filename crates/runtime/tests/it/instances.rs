//! Instances end to end on a temporary store: start, answer, stale and duplicate answers,
//! racing answers, cancel, unscripted activities and render failures, listing, history,
//! export and redaction.

use std::sync::{Arc, Barrier};

use crate::common::*;
use idflow_engine::{ActivityResult, EngineError, EventKind, Status, VarWrite};
use idflow_expr::VarPath;
use idflow_runtime::flows;
use idflow_runtime::{InstanceQuery, InstanceView, RuntimeError, ScriptedActivities};
use idflow_store::Store;
use serde_json::json;

fn visited(h: &Harness, id: &str) -> Vec<String> {
    h.runtime
        .history(id)
        .expect("history")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::NodeEntered { node } => Some(node.into()),
            _ => None,
        })
        .collect()
}

fn answers_recorded(h: &Harness, id: &str) -> Vec<String> {
    h.runtime
        .history(id)
        .expect("history")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::StepAnswered { step_id, .. } => Some(step_id),
            _ => None,
        })
        .collect()
}

fn start_six(h: &Harness) -> InstanceView {
    h.runtime
        .start_definition(TENANT, flows::SIX_NODE_NAME, None, six_node_params())
        .expect("starts")
}

fn start_two(h: &Harness) -> InstanceView {
    h.runtime
        .start_definition(TENANT, "two-steps", None, json!({}))
        .expect("starts")
}

fn step_id(v: &InstanceView) -> String {
    v.step.as_ref().expect("at a step").step_id.clone()
}

#[test]
fn six_node_flow_rests_at_its_step_then_completes() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_six(&h);
    assert_eq!(started.status, Status::Active);
    assert_eq!(started.id.len(), 26);
    assert_eq!(started.definition.name, "six-node");
    assert_eq!(started.definition.version, 1);
    let step = started.step.clone().expect("rests at the form");
    assert_eq!(step.node, "details");
    assert_eq!(step.view["inputs"]["Form data Key"], "details");
    assert_eq!(step.view["stepId"], json!(step.step_id));
    assert_eq!(started.variables["user1"]["externalId"], "bench-user");
    assert_eq!(started.variables["token"], six_node_params());
    assert_eq!(h.runtime.instance(&started.id).expect("reads"), started);

    let done = h
        .runtime
        .answer(&started.id, &step.step_id, json!({"colour": "blue"}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    assert_eq!(done.outcome.as_deref(), Some("Approved"));
    assert!(done.step.is_none());
    assert_eq!(done.variables["details"], json!({"colour": "blue"}));
    assert_eq!(
        visited(&h, &started.id),
        ["start", "addUser", "details", "decide", "gate", "approved"]
    );
}

#[test]
fn a_fail_decision_takes_the_default_flow_and_ends_in_error() {
    let h = runtime_with(temporary_store(), Arc::new(flows::six_node_script(false)));
    deploy_all(&h.runtime);
    let started = start_six(&h);
    let done = h
        .runtime
        .answer(&started.id, &step_id(&started), json!({}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedError);
    assert_eq!(done.outcome.as_deref(), Some("Rejected"));
    assert_eq!(
        visited(&h, &started.id).last().map(String::as_str),
        Some("rejected")
    );
}

#[test]
fn a_stale_step_is_refused_and_changes_nothing() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_two(&h);
    let first = step_id(&started);
    let second_view = h
        .runtime
        .answer(&started.id, &first, json!({"a": 1}))
        .expect("first answer");
    let second = step_id(&second_view);
    assert_ne!(first, second);

    // The first step again, with other data: stale.
    let err = h
        .runtime
        .answer(&started.id, &first, json!({"a": 2}))
        .expect_err("stale");
    assert!(
        matches!(&err, RuntimeError::Engine(EngineError::StaleStep { step_id, .. }) if *step_id == first),
        "{err}"
    );
    // A step that never existed: stale too.
    assert!(matches!(
        h.runtime.answer(&started.id, "nope-1", json!({})),
        Err(RuntimeError::Engine(EngineError::StaleStep { .. }))
    ));
    assert_eq!(h.runtime.instance(&started.id).expect("reads"), second_view);
    assert_eq!(answers_recorded(&h, &started.id), [first]);
}

#[test]
fn the_same_answer_twice_is_applied_once() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_two(&h);
    let first = step_id(&started);
    // Key order differs: the digest is over canonical JSON, so this is the same answer.
    let after_first = h
        .runtime
        .answer(&started.id, &first, json!({"a": 1, "b": [true]}))
        .expect("applies");
    let again = h
        .runtime
        .answer(&started.id, &first, json!({"b": [true], "a": 1}))
        .expect("duplicate answered with the current view");
    assert_eq!(again, after_first);
    assert_eq!(
        answers_recorded(&h, &started.id),
        std::slice::from_ref(&first)
    );

    // After the instance completes, the last answer repeated is still recognised.
    let second = step_id(&after_first);
    let done = h
        .runtime
        .answer(&started.id, &second, json!({"c": 3}))
        .expect("completes");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    let repeat = h
        .runtime
        .answer(&started.id, &second, json!({"c": 3}))
        .expect("duplicate of the final answer");
    assert_eq!(repeat, done);
    assert!(matches!(
        h.runtime.answer(&started.id, &second, json!({"c": 4})),
        Err(RuntimeError::Engine(EngineError::NotActive { .. }))
    ));
    assert_eq!(answers_recorded(&h, &started.id), [first, second]);
}

#[test]
fn racing_answers_to_one_step_apply_exactly_once() {
    let h = temporary();
    deploy_all(&h.runtime);
    for _round in 0..5 {
        let started = start_two(&h);
        let first = step_id(&started);
        let racers = 8;
        let barrier = Arc::new(Barrier::new(racers));
        let handles: Vec<_> = (0..racers)
            .map(|n| {
                let runtime = Arc::clone(&h.runtime);
                let barrier = Arc::clone(&barrier);
                let (id, step) = (started.id.clone(), first.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    (n, runtime.answer(&id, &step, json!({ "racer": n })))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for handle in handles {
            let (n, result) = handle.join().expect("thread");
            match result {
                Ok(_) => winners.push(n),
                Err(RuntimeError::Engine(EngineError::StaleStep { .. })) => {}
                Err(other) => panic!("racer {n}: unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        let now = h.runtime.instance(&started.id).expect("reads");
        assert_eq!(now.variables["first"], json!({ "racer": winners[0] }));
        assert_eq!(answers_recorded(&h, &started.id), [first]);
    }
}

#[test]
fn answers_that_are_not_objects_are_refused_without_change() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_two(&h);
    let err = h
        .runtime
        .answer(&started.id, &step_id(&started), json!([1, 2]))
        .expect_err("refused");
    assert!(
        matches!(
            err,
            RuntimeError::Engine(EngineError::AnswerNotObject { .. })
        ),
        "{err}"
    );
    assert_eq!(h.runtime.instance(&started.id).expect("reads"), started);
}

#[test]
fn cancel_terminates_once() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_two(&h);
    let cancelled = h
        .runtime
        .cancel(&started.id, "changed my mind")
        .expect("cancels");
    assert_eq!(cancelled.status, Status::CompletedTerminated);
    assert!(cancelled.step.is_none());
    assert!(h.runtime.history(&started.id).expect("history").iter().any(
        |e| matches!(&e.kind, EventKind::Cancelled { reason } if reason == "changed my mind")
    ));
    assert!(matches!(
        h.runtime.cancel(&started.id, "again"),
        Err(RuntimeError::Engine(EngineError::NotActive { .. }))
    ));
}

#[test]
fn an_unscripted_activity_ends_the_instance_naming_the_node() {
    let only_add_user = ScriptedActivities::new().on_every_visit(
        "addUser",
        ActivityResult::Completed {
            writes: vec![],
            checks: vec![],
        },
    );
    let h = runtime_with(temporary_store(), Arc::new(only_add_user));
    deploy_all(&h.runtime);
    let started = start_six(&h);
    let done = h
        .runtime
        .answer(&started.id, &step_id(&started), json!({}))
        .expect("the chain completes");
    assert_eq!(done.status, Status::CompletedProcessError);
    let error = done.error.expect("an error");
    assert_eq!(error.node.as_deref(), Some("decide"));
    assert!(error.message.contains("'decide'"), "{}", error.message);
}

#[test]
fn per_visit_scripts_count_visits_per_instance() {
    let script = flows::six_node_script(true).on_visits(
        "addUser",
        vec![ActivityResult::Completed {
            writes: vec![VarWrite {
                path: VarPath::keys(&["visit"]),
                value: json!(1),
                secret: false,
            }],
            checks: vec![],
        }],
    );
    let h = runtime_with(temporary_store(), Arc::new(script));
    deploy_all(&h.runtime);
    // Each instance's first visit gets the first result.
    for _ in 0..2 {
        let started = start_six(&h);
        assert_eq!(started.status, Status::Active);
        assert_eq!(started.variables["visit"], 1);
    }
}

#[test]
fn a_step_that_cannot_render_ends_the_instance_with_its_message() {
    let script = flows::six_node_script(true).fail_render("details", "form 'details' is missing");
    let h = runtime_with(temporary_store(), Arc::new(script));
    deploy_all(&h.runtime);
    let started = start_six(&h);
    assert_eq!(started.status, Status::CompletedProcessError);
    assert!(started.step.is_none());
    let error = started.error.expect("error");
    assert_eq!(error.message, "form 'details' is missing");
    assert!(h
        .runtime
        .history(&started.id)
        .expect("history")
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Aborted { node: Some(n), .. } if n == "details")));
}

#[test]
fn secrets_are_redacted_in_reads_history_and_debug() {
    let script = flows::six_node_script(true).on_every_visit(
        "addUser",
        ActivityResult::Completed {
            writes: vec![VarWrite {
                path: VarPath::keys(&["seed"]),
                value: json!("JBSWY3DPEHPK3PXP"),
                secret: true,
            }],
            checks: vec![],
        },
    );
    let h = runtime_with(temporary_store(), Arc::new(script));
    deploy_all(&h.runtime);
    let started = start_six(&h);
    assert_eq!(started.variables["seed"], "JBSWY3DPEHPK3PXP");
    assert!(started.secret_paths.contains(&VarPath::keys(&["seed"])));
    let redacted = h.runtime.redacted_variables(&started);
    let marker = redacted["seed"].as_str().expect("marker").to_string();
    assert!(marker.starts_with("secret:hmac-sha256:"), "{marker}");
    assert!(!format!("{started:?}").contains("JBSWY3DPEHPK3PXP"));
    let export = serde_json::to_string(&h.runtime.export_history(&started.id).expect("export"))
        .expect("json");
    assert!(!export.contains("JBSWY3DPEHPK3PXP"));
    assert!(export.contains(&marker));
}

#[test]
fn export_matches_history_and_reads_back() {
    let h = temporary();
    deploy_all(&h.runtime);
    let started = start_six(&h);
    h.runtime
        .answer(&started.id, &step_id(&started), json!({"x": 1}))
        .expect("answers");
    let export = h.runtime.export_history(&started.id).expect("export");
    assert_eq!(export.format, "idflow-history");
    assert_eq!(export.version, 1);
    assert_eq!(export.tenant, TENANT);
    let bytes = serde_json::to_vec(&export).expect("json");
    let read = idflow_runtime::HistoryExport::from_json(&bytes).expect("reads");
    assert_eq!(
        read.events().expect("events"),
        h.runtime.history(&started.id).expect("history")
    );
}

#[test]
fn unknown_and_malformed_instance_ids_are_unknown() {
    let h = temporary();
    deploy_all(&h.runtime);
    for id in ["", "../../etc", "UGIRW7QN727EIV2XLXG4YH42N4", "x\0y"] {
        assert!(
            matches!(
                h.runtime.instance(id),
                Err(RuntimeError::UnknownInstance { .. })
            ),
            "{id:?}"
        );
        assert!(matches!(
            h.runtime.answer(id, "s", json!({})),
            Err(RuntimeError::UnknownInstance { .. })
        ));
        assert!(matches!(
            h.runtime.history(id),
            Err(RuntimeError::UnknownInstance { .. })
        ));
    }
    assert!(matches!(
        h.runtime
            .start_definition(TENANT, "six-node", None, json!([1])),
        Err(RuntimeError::ParametersNotObject)
    ));
    assert!(matches!(
        h.runtime.start_definition(TENANT, "nope", None, json!({})),
        Err(RuntimeError::UnknownDefinition { .. })
    ));
    assert!(matches!(
        h.runtime
            .start_definition("other-tenant", "six-node", None, json!({})),
        Err(RuntimeError::UnknownDefinition { .. })
    ));
}

#[test]
fn listing_pages_through_a_tenants_instances_oldest_first() {
    let h = temporary();
    deploy_all(&h.runtime);
    let mut ids = Vec::new();
    for i in 0..5 {
        h.clock.advance(1_000);
        let v = start_two(&h);
        if i % 2 == 0 {
            h.runtime.cancel(&v.id, "test").expect("cancels");
        }
        ids.push(v.id);
    }
    let mut seen = Vec::new();
    let mut query = InstanceQuery {
        limit: 2,
        ..InstanceQuery::default()
    };
    let mut pages = 0;
    loop {
        let page = h.runtime.list_instances(TENANT, &query).expect("lists");
        pages += 1;
        seen.extend(page.items.iter().map(|s| s.id.clone()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert!(pages >= 3);

    let active = h
        .runtime
        .list_instances(
            TENANT,
            &InstanceQuery {
                status: Some(Status::Active),
                limit: 10,
                ..InstanceQuery::default()
            },
        )
        .expect("lists");
    assert_eq!(
        active
            .items
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        [ids[1].as_str(), ids[3].as_str()]
    );
    assert!(active.next.is_none());
    assert!(h
        .runtime
        .list_instances("other", &InstanceQuery::default())
        .expect("lists")
        .items
        .is_empty());
    for bad in [
        InstanceQuery {
            limit: 0,
            ..InstanceQuery::default()
        },
        InstanceQuery {
            after: Some("garbage".into()),
            ..InstanceQuery::default()
        },
    ] {
        assert!(matches!(
            h.runtime.list_instances(TENANT, &bad),
            Err(RuntimeError::InvalidQuery(_))
        ));
    }
}

#[test]
fn a_fixed_seed_repeating_an_id_on_the_same_store_is_refused_not_overwritten() {
    use idflow_runtime::{ManualClock, Runtime, RuntimeConfig};
    let store = temporary_store();
    let seeded = |store: Store| {
        Runtime::new(
            store,
            Arc::new(flows::six_node_script(true)),
            RuntimeConfig {
                clock: Arc::new(ManualClock::new(T0)),
                rng_seed: Some(42),
                limits: Default::default(),
                marker_key: None,
            },
        )
    };
    let first = seeded(store.clone());
    deploy_all(&first);
    let original = first
        .start_definition(TENANT, "two-steps", None, json!({}))
        .expect("starts");
    // A second runtime with the same seed draws the same instance ID.
    let second = seeded(store);
    let err = second
        .start_definition(TENANT, "two-steps", None, json!({"other": true}))
        .expect_err("collides");
    // The message names the instance by its log tag (it may be logged; the ID answers steps).
    assert!(
        matches!(&err, RuntimeError::Inconsistent(m)
            if m.contains(&idflow_ids::log_tag(&original.id)) && !m.contains(&original.id)),
        "{err}"
    );
    assert_eq!(first.instance(&original.id).expect("reads"), original);
}

/// Fails the decider of instances whose token says `poison`, as a broken disk would.
struct PoisonedDecider(ScriptedActivities);

impl idflow_runtime::ActivityHandler for PoisonedDecider {
    fn run(
        &self,
        tx: &idflow_store::Tx<'_>,
        ctx: &idflow_runtime::ActivityContext<'_>,
        activity: idflow_defs::ActivityType,
        inputs: &idflow_engine::Inputs,
    ) -> Result<ActivityResult, idflow_store::StoreError> {
        if ctx.node() == "decide" && ctx.variables()["token"]["poison"] == json!(true) {
            return Err(idflow_store::StoreError::Io("disk on fire".into()));
        }
        self.0.run(tx, ctx, activity, inputs)
    }

    fn render_step(
        &self,
        tx: &idflow_store::Tx<'_>,
        ctx: &idflow_runtime::ActivityContext<'_>,
        activity: idflow_defs::ActivityType,
        inputs: &idflow_engine::Inputs,
    ) -> Result<Result<serde_json::Value, String>, idflow_store::StoreError> {
        self.0.render_step(tx, ctx, activity, inputs)
    }
}

#[test]
fn a_failing_chain_among_concurrent_ones_fails_alone() {
    let h = runtime_with(
        temporary_store(),
        Arc::new(PoisonedDecider(flows::six_node_script(true))),
    );
    deploy_all(&h.runtime);
    let clients = 16;
    for _round in 0..3 {
        let started: Vec<InstanceView> = (0..clients)
            .map(|i| {
                h.runtime
                    .start_definition(
                        TENANT,
                        flows::SIX_NODE_NAME,
                        None,
                        json!({"store": "s", "externalId": format!("u{i}"), "poison": i == 5}),
                    )
                    .expect("starts")
            })
            .collect();
        let barrier = Arc::new(Barrier::new(clients));
        let handles: Vec<_> = started
            .iter()
            .map(|v| {
                let runtime = Arc::clone(&h.runtime);
                let barrier = Arc::clone(&barrier);
                let (id, step) = (v.id.clone(), step_id(v));
                std::thread::spawn(move || {
                    barrier.wait();
                    runtime.answer(&id, &step, json!({"go": true}))
                })
            })
            .collect();
        for (i, (handle, before)) in handles.into_iter().zip(&started).enumerate() {
            let result = handle.join().expect("thread");
            if i == 5 {
                match result {
                    Err(e @ RuntimeError::Store(_)) => assert!(e.is_failure()),
                    other => panic!("the poisoned chain: expected a store failure, got {other:?}"),
                }
                // Nothing of it was applied.
                assert_eq!(&h.runtime.instance(&before.id).expect("reads"), before);
            } else {
                let done = result.unwrap_or_else(|e| panic!("chain {i}: {e}"));
                assert_eq!(done.status, Status::CompletedEndedSuccess, "chain {i}");
            }
        }
    }
}

#[test]
fn completed_instances_past_their_retention_are_purged_with_their_history() {
    use idflow_runtime::RetentionPolicy;
    const DAY: i64 = 86_400_000;
    let h = temporary();
    deploy_all(&h.runtime);
    let finish = |v: &InstanceView| {
        h.runtime
            .answer(&v.id, &step_id(v), json!({"colour": "blue"}))
            .expect("answers")
    };
    let done = start_six(&h);
    finish(&done);
    let active = start_six(&h);
    assert_eq!(
        h.runtime.retention_policy(TENANT).expect("reads"),
        RetentionPolicy::DEFAULT
    );
    let history_keys = |id: &str| {
        h.runtime
            .store()
            .count_prefix(&idflow_store::prefix(&["h", id]))
            .expect("counts")
    };
    assert!(!h.runtime.history(&done.id).expect("history").is_empty());

    // Inside the default 180 days nothing goes.
    h.clock.advance(179 * DAY);
    assert_eq!(
        h.runtime.purge_completed(1000).expect("purges").instances,
        0
    );
    // Past it the completed instance goes, history and listing entry with it; the active one stays.
    h.clock.advance(2 * DAY);
    let report = h.runtime.purge_completed(1000).expect("purges");
    assert_eq!(report.instances, 1);
    assert!(report.history_chunks > 0);
    assert!(matches!(
        h.runtime.instance(&done.id),
        Err(RuntimeError::UnknownInstance { .. })
    ));
    assert_eq!(history_keys(&done.id), 0);
    assert!(matches!(
        h.runtime.history(&done.id),
        Err(RuntimeError::UnknownInstance { .. })
    ));
    let listed: Vec<String> = h
        .runtime
        .list_instances(TENANT, &InstanceQuery::default())
        .expect("lists")
        .items
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![active.id.clone()]);
    assert_eq!(
        h.runtime.instance(&active.id).expect("reads").status,
        Status::Active
    );

    // A tenant that keeps completed instances for ever keeps them.
    finish(&active);
    let forever = RetentionPolicy {
        completed_instance_days: None,
    };
    h.runtime
        .set_retention_policy(TENANT, forever)
        .expect("sets");
    h.clock.advance(1000 * DAY);
    assert_eq!(
        h.runtime.purge_completed(1000).expect("purges").instances,
        0
    );
    // A shorter policy applies at the next purge.
    h.runtime
        .set_retention_policy(
            TENANT,
            RetentionPolicy {
                completed_instance_days: Some(1),
            },
        )
        .expect("sets");
    assert_eq!(
        h.runtime.purge_completed(1000).expect("purges").instances,
        1
    );
    assert!(h.runtime.instance(&active.id).is_err());

    for days in [0, RetentionPolicy::MAX_DAYS + 1] {
        let refused = h.runtime.set_retention_policy(
            TENANT,
            RetentionPolicy {
                completed_instance_days: Some(days),
            },
        );
        assert!(
            matches!(refused, Err(RuntimeError::InvalidRetention(ref m)) if m.contains("1 to 3660")),
            "{refused:?}"
        );
    }
}

#[test]
fn a_purge_pass_stops_at_its_bound_and_the_next_goes_on() {
    const DAY: i64 = 86_400_000;
    let h = temporary();
    deploy_all(&h.runtime);
    for _ in 0..5 {
        let v = start_six(&h);
        h.runtime
            .answer(&v.id, &step_id(&v), json!({"colour": "blue"}))
            .expect("answers");
    }
    h.clock.advance(200 * DAY);
    assert_eq!(h.runtime.purge_completed(3).expect("purges").instances, 3);
    assert_eq!(h.runtime.purge_completed(3).expect("purges").instances, 2);
    assert_eq!(h.runtime.purge_completed(3).expect("purges").instances, 0);
}

/// A step that leads back to itself until the answer says `more: "no"`.
const LOOP: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="loop-definitions" targetNamespace="https://idflow.dev/flows">
  <bpmn:process id="loop" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask"/>
    <bpmn:userTask id="ask" name="Ask">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">ask</idflow:param>
          <idflow:param name="Form data Key">ask</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="gate"/>
    <bpmn:exclusiveGateway id="gate" name="More?" default="f4"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gate" targetRef="ask">
      <bpmn:conditionExpression>&lt;&lt;processvar.ask.more&gt;&gt; == "yes"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gate" targetRef="done"/>
    <bpmn:endEvent id="done" name="Done"/>
  </bpmn:process>
</bpmn:definitions>
"#;

/// An instance that comes back to a step again and again holds its history in its record only
/// up to `HELD_HISTORY_BYTES` of JSON: the transition that crosses it moves the record's history
/// to chunk keys of its own, so the record rewritten on every transition stays small, and the
/// history still reads whole and in order (keys first, then what the record holds).
#[test]
fn a_long_history_moves_out_of_the_instance_record() {
    use idflow_runtime::HELD_HISTORY_BYTES;
    let h = temporary();
    h.runtime
        .deploy(TENANT, "loop.bpmn", LOOP)
        .expect("deploys");
    let mut view = h
        .runtime
        .start_definition(TENANT, "loop", None, json!({}))
        .expect("starts");
    let id = view.id.clone();
    let store = h.runtime.store();
    let record_key = idflow_store::key(&["i", id.as_str()]);
    // The chunks the record holds, as JSON.
    let held = || -> Vec<serde_json::Value> {
        let bytes = store.get(&record_key).expect("reads").expect("stored");
        let plain = idflow_store::plain_record(&record_key, &bytes).expect("expands");
        let record: serde_json::Value = serde_json::from_slice(&plain[1..]).expect("plain JSON");
        record["h"].as_array().cloned().unwrap_or_default()
    };
    let chunk_keys = || {
        store
            .count_prefix(&idflow_store::prefix(&["h", id.as_str()]))
            .expect("counts")
    };
    assert_eq!(held().len(), 1);
    let mut answers = 0;
    while chunk_keys() == 0 {
        let held_bytes: usize = held()
            .iter()
            .map(|c| serde_json::to_string(c).expect("json").len())
            .sum();
        assert!(held_bytes <= HELD_HISTORY_BYTES, "{held_bytes}");
        assert_eq!(held().len(), answers + 1);
        view = h
            .runtime
            .answer(&id, &step_id(&view), json!({"more": "yes"}))
            .expect("answers");
        answers += 1;
        assert!(answers < 500, "the history never moved out of the record");
    }
    // Everything before went to keys, one per chain; the record holds none until the next.
    assert_eq!(chunk_keys(), answers + 1);
    assert!(held().is_empty());
    view = h
        .runtime
        .answer(&id, &step_id(&view), json!({"more": "yes"}))
        .expect("answers");
    assert_eq!(held().len(), 1);
    let done = h
        .runtime
        .answer(&id, &step_id(&view), json!({"more": "no"}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    assert_eq!(held().len(), 2);

    let history = h.runtime.history(&id).expect("history");
    assert!(history.iter().zip(0..).all(|(e, i)| e.index == i));
    let answered = history
        .iter()
        .filter(|e| matches!(e.kind, idflow_engine::EventKind::StepAnswered { .. }))
        .count();
    assert_eq!(answered, answers + 2);
    assert!(matches!(
        history.last().map(|e| &e.kind),
        Some(idflow_engine::EventKind::InstanceEnded { .. })
    ));
    let export = h.runtime.export_history(&id).expect("export");
    assert_eq!(export.events.len(), history.len());
}
