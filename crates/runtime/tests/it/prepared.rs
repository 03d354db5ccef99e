//! Work prepared before an answer's transaction (`ActivityHandler::prepare`): the runtime
//! rehearses the answer outside the transaction and hands what the handler prepared to the run
//! of the activity the answer leads to, and to no other. And work done ahead of a start's or an
//! answer's chain (`ActivityHandler::work_ahead`): once per chain that can reach such an
//! activity before a step, handed to the first one it runs.

use std::sync::{Arc, Mutex};

use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Inputs, Status, VarWrite};
use idflow_expr::VarPath;
use idflow_runtime::{flows, ActivityContext, ActivityHandler, Prepared, ScriptedActivities};
use idflow_store::{Store, StoreError, Tx};
use serde_json::{json, Value};

use crate::common::*;

/// The six-node script, but the decider prepares: `prepare` notes what the rehearsal showed it,
/// `run` notes what it was handed.
struct Preparing {
    script: ScriptedActivities,
    prepared: Mutex<Vec<String>>,
    handed: Mutex<Vec<(String, Option<String>)>>,
}

/// The decider's result both test handlers give: `_decision` = `PASS`.
fn pass() -> ActivityResult {
    ActivityResult::Completed {
        writes: vec![VarWrite {
            path: VarPath::keys(&["_decision"]),
            value: json!("PASS"),
            secret: false,
        }],
        checks: Vec::new(),
    }
}

impl ActivityHandler for Preparing {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        let handed = ctx.prepared::<String>().cloned();
        self.handed
            .lock()
            .expect("lock")
            .push((ctx.node().to_string(), handed));
        if activity != ActivityType::SimpleDecider {
            return self.script.run(tx, ctx, activity, inputs);
        }
        Ok(pass())
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        self.script.render_step(tx, ctx, activity, inputs)
    }

    fn prepares(&self, activity: ActivityType) -> bool {
        activity == ActivityType::SimpleDecider
    }

    fn prepare(
        &self,
        _store: &Store,
        ctx: &ActivityContext<'_>,
        _activity: ActivityType,
        _inputs: &Inputs,
    ) -> Option<Prepared> {
        let seen = format!("{} saw {}", ctx.node(), ctx.variables()["details"]);
        self.prepared.lock().expect("lock").push(seen.clone());
        Some(Box::new(seen))
    }
}

#[test]
fn an_answer_is_rehearsed_and_its_next_activity_handed_the_prepared_work() {
    let handler = Arc::new(Preparing {
        script: flows::six_node_script(true),
        prepared: Mutex::new(Vec::new()),
        handed: Mutex::new(Vec::new()),
    });
    let h = runtime_with(temporary_store(), handler.clone());
    deploy_all(&h.runtime);
    let started = h
        .runtime
        .start_definition(TENANT, flows::SIX_NODE_NAME, None, six_node_params())
        .expect("starts");
    let step = started.step.clone().expect("rests at the form");
    // A start is not rehearsed: Add User ran with nothing prepared.
    assert!(handler.prepared.lock().expect("lock").is_empty());

    let done = h
        .runtime
        .answer(&started.id, &step.step_id, json!({"colour": "blue"}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    let expected = r#"decide saw {"colour":"blue"}"#.to_string();
    assert_eq!(
        *handler.prepared.lock().expect("lock"),
        vec![expected.clone()]
    );
    assert_eq!(
        *handler.handed.lock().expect("lock"),
        vec![
            ("addUser".to_string(), None),
            ("decide".to_string(), Some(expected)),
        ]
    );

    // A stale answer is rehearsed against nothing: the instance rests at no step.
    let stale = h
        .runtime
        .answer(&started.id, "not-the-step", json!({"colour": "red"}));
    assert!(stale.is_err());
    assert_eq!(handler.prepared.lock().expect("lock").len(), 1);
}

/// Deciders in a row, a gateway, and a step between two more: `one`, `two` and (PASS) `three`
/// run in a start's chain, `four` in the answer's.
const AHEAD_FLOW: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="ahead-definitions" targetNamespace="https://idflow.dev/flows">
  <bpmn:process id="ahead" name="Work ahead" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="one"/>
    <bpmn:serviceTask id="one"><bpmn:extensionElements><idflow:activity type="simpleDecider"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="one" targetRef="two"/>
    <bpmn:serviceTask id="two"><bpmn:extensionElements><idflow:activity type="simpleDecider"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="two" targetRef="gate"/>
    <bpmn:exclusiveGateway id="gate" default="f5"/>
    <bpmn:sequenceFlow id="f4" sourceRef="gate" targetRef="three">
      <bpmn:conditionExpression>&lt;&lt;processvar._decision&gt;&gt; == "PASS"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="gate" targetRef="rejected"/>
    <bpmn:serviceTask id="three"><bpmn:extensionElements><idflow:activity type="simpleDecider"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f6" sourceRef="three" targetRef="ask"/>
    <bpmn:userTask id="ask">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">ask</idflow:param>
          <idflow:param name="Form data Key">ask</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f7" sourceRef="ask" targetRef="four"/>
    <bpmn:serviceTask id="four"><bpmn:extensionElements><idflow:activity type="simpleDecider"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f8" sourceRef="four" targetRef="done"/>
    <bpmn:endEvent id="done" name="Done"/>
    <bpmn:endEvent id="rejected" name="Rejected"/>
  </bpmn:process>
</bpmn:definitions>"#;

/// Works ahead for the decider: `work_ahead` hands out numbered work, `run` notes what it was
/// handed; both in one log, in the order they happened.
struct WorkingAhead {
    script: ScriptedActivities,
    drawn: Mutex<u32>,
    log: Mutex<Vec<String>>,
}

impl WorkingAhead {
    fn new() -> WorkingAhead {
        WorkingAhead {
            script: flows::six_node_script(true),
            drawn: Mutex::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().expect("lock"))
    }
}

impl ActivityHandler for WorkingAhead {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        let handed = ctx.ahead::<u32>().copied();
        self.log
            .lock()
            .expect("lock")
            .push(format!("run {} handed {handed:?}", ctx.node()));
        if activity != ActivityType::SimpleDecider {
            return self.script.run(tx, ctx, activity, inputs);
        }
        Ok(pass())
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        self.script.render_step(tx, ctx, activity, inputs)
    }

    fn works_ahead(&self, activity: ActivityType) -> bool {
        activity == ActivityType::SimpleDecider
    }

    fn work_ahead(&self, ctx: &ActivityContext<'_>, activity: ActivityType) -> Option<Prepared> {
        assert_eq!(activity, ActivityType::SimpleDecider);
        assert!(ctx.variables().is_null(), "no instance state ahead");
        let mut drawn = self.drawn.lock().expect("lock");
        *drawn += 1;
        self.log
            .lock()
            .expect("lock")
            .push(format!("ahead {} #{drawn}", ctx.node()));
        Some(Box::new(*drawn))
    }
}

#[test]
fn work_ahead_is_done_once_per_chain_before_it_and_handed_to_its_first_such_activity_only() {
    let handler = Arc::new(WorkingAhead::new());
    let h = runtime_with(temporary_store(), handler.clone());
    deploy_all(&h.runtime);
    h.runtime
        .deploy(TENANT, "ahead.bpmn", AHEAD_FLOW.as_bytes())
        .expect("deploys");

    // A start that reaches deciders through others: one piece of work, before the chain, for
    // the first decider it runs; the second and third run without it.
    let started = h
        .runtime
        .start_definition(TENANT, "ahead", None, json!({}))
        .expect("starts");
    let step = started.step.clone().expect("rests at the form");
    assert_eq!(
        handler.take_log(),
        vec![
            "ahead one #1",
            "run one handed Some(1)",
            "run two handed None",
            "run three handed None",
        ]
    );

    // An answer to a step the instance is not at is refused, with nothing worked ahead.
    let stale = h
        .runtime
        .answer(&started.id, "not-the-step", json!({"colour": "red"}));
    assert!(stale.is_err());
    assert!(handler.take_log().is_empty());

    // The answer's chain reaches a decider after the step: its own, new piece of work.
    let done = h
        .runtime
        .answer(&started.id, &step.step_id, json!({"colour": "blue"}))
        .expect("answers");
    assert_eq!(done.status, Status::CompletedEndedSuccess);
    assert_eq!(
        handler.take_log(),
        vec!["ahead four #2", "run four handed Some(2)"]
    );

    // A second instance gets work of its own: nothing is shared between chains.
    h.runtime
        .start_definition(TENANT, "ahead", None, json!({}))
        .expect("starts");
    assert_eq!(
        handler.take_log()[..2],
        ["ahead one #3", "run one handed Some(3)"]
    );

    // A start whose chain rests at a step before any decider asks for nothing; its answer,
    // which leads to one, does.
    let six = h
        .runtime
        .start_definition(TENANT, flows::SIX_NODE_NAME, None, six_node_params())
        .expect("starts");
    assert_eq!(handler.take_log(), vec!["run addUser handed None"]);
    let step = six.step.clone().expect("rests at the form");
    h.runtime
        .answer(&six.id, &step.step_id, json!({"colour": "red"}))
        .expect("answers");
    assert_eq!(
        handler.take_log(),
        vec!["ahead decide #4", "run decide handed Some(4)"]
    );
}
