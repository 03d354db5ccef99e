//! Timers: a step's timer boundary fires when the manual clock passes its due time (not
//! before), an answer in time disarms it, cancel disarms it, and the timer thread fires on its
//! own.

use std::time::{Duration, Instant};

use crate::common::*;
use idflow_engine::{EventKind, Status};
use idflow_runtime::InstanceView;
use serde_json::json;

const FIVE_MINUTES: i64 = 5 * 60 * 1000;

fn start_timed(h: &Harness) -> InstanceView {
    let v = h
        .runtime
        .start_definition(TENANT, "timed-step", None, json!({}))
        .expect("starts");
    assert_eq!(v.status, Status::Active);
    v
}

#[test]
fn a_due_timer_fires_and_takes_its_path() {
    let h = temporary();
    deploy_all(&h.runtime);
    let v = start_timed(&h);
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + FIVE_MINUTES)
    );

    h.clock.advance(FIVE_MINUTES - 1);
    let early = h.runtime.fire_due_timers().expect("pass");
    assert!(early.fired.is_empty());
    assert_eq!(
        h.runtime.instance(&v.id).expect("reads").status,
        Status::Active
    );

    h.clock.advance(1);
    let due = h.runtime.fire_due_timers().expect("pass");
    assert_eq!(due.fired, vec![v.id.clone()]);
    assert!(due.failed.is_empty());
    let after = h.runtime.instance(&v.id).expect("reads");
    assert_eq!(after.status, Status::CompletedTerminated);
    assert_eq!(after.outcome.as_deref(), Some("Too slow"));
    assert!(after.step.is_none());
    assert!(h
        .runtime
        .history(&v.id)
        .expect("history")
        .iter()
        .any(|e| matches!(e.kind, EventKind::TimerFired { .. })));
    // Fired once: the index is empty now.
    assert_eq!(h.runtime.next_timer_due().expect("reads"), None);
    assert!(h.runtime.fire_due_timers().expect("pass").fired.is_empty());
}

#[test]
fn answering_or_cancelling_in_time_disarms_the_timer() {
    let h = temporary();
    deploy_all(&h.runtime);
    let answered = start_timed(&h);
    let cancelled = start_timed(&h);
    let step = answered.step.clone().expect("step").step_id;
    let done = h
        .runtime
        .answer(&answered.id, &step, json!({}))
        .expect("answers");
    assert_eq!(done.outcome.as_deref(), Some("Answered"));
    h.runtime.cancel(&cancelled.id, "no").expect("cancels");
    assert_eq!(h.runtime.next_timer_due().expect("reads"), None);
    h.clock.advance(FIVE_MINUTES * 2);
    let pass = h.runtime.fire_due_timers().expect("pass");
    assert!(pass.fired.is_empty());
    assert_eq!(
        h.runtime.instance(&answered.id).expect("reads").status,
        Status::CompletedEndedSuccess
    );
    assert_eq!(
        h.runtime.instance(&cancelled.id).expect("reads").status,
        Status::CompletedTerminated
    );
}

/// Earliest first on a store of the node's own; on a shared store each node fires a page of due
/// timers in an order of its own (so nodes share a backlog instead of colliding), all of them in
/// the pass.
#[test]
fn many_timers_fire_in_one_pass_in_due_order() {
    let h = temporary();
    deploy_all(&h.runtime);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(start_timed(&h).id);
        h.clock.advance(1_000);
    }
    // Only the first three are due.
    h.clock.set(T0 + FIVE_MINUTES + 2_000);
    let mut pass = h.runtime.fire_due_timers().expect("pass");
    if h.runtime.store().is_shared() {
        pass.fired.sort();
        ids[..3].sort();
    }
    assert_eq!(pass.fired, ids[..3].to_vec());
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + FIVE_MINUTES + 3_000)
    );
}

#[test]
fn the_timer_thread_fires_without_being_asked() {
    let h = temporary();
    deploy_all(&h.runtime);
    let v = start_timed(&h);
    let thread = h
        .runtime
        .spawn_timer_thread_every(Duration::from_millis(10));
    assert!(thread.is_running());
    h.clock.advance(FIVE_MINUTES);
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.runtime.instance(&v.id).expect("reads").status == Status::Active {
        assert!(
            Instant::now() < deadline,
            "the timer thread did not fire in 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    thread.stop();
    assert_eq!(
        h.runtime.instance(&v.id).expect("reads").status,
        Status::CompletedTerminated
    );
}

/// Two steps, each with its own timer: answering the first moves the instance to the second
/// step's timer.
const TWO_TIMED_STEPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="two-timed-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="two-timed" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
    <bpmn:userTask id="a">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">a</idflow:param>
          <idflow:param name="Form data Key">a</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="aLate" attachedToRef="a">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <bpmn:sequenceFlow id="f3" sourceRef="aLate" targetRef="lateA"/>
    <bpmn:userTask id="b">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">b</idflow:param>
          <idflow:param name="Form data Key">b</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="bLate" attachedToRef="b">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT2M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="done"/>
    <bpmn:sequenceFlow id="f5" sourceRef="bLate" targetRef="lateB"/>
    <bpmn:endEvent id="done" name="Done"/>
    <bpmn:endEvent id="lateA" name="Late at A"/>
    <bpmn:endEvent id="lateB" name="Late at B"/>
  </bpmn:process>
</bpmn:definitions>"#;

#[test]
fn moving_to_a_step_with_another_timer_moves_the_index_entry() {
    let h = temporary();
    h.runtime
        .deploy(TENANT, "two-timed.bpmn", TWO_TIMED_STEPS.as_bytes())
        .expect("deploys");
    let v = h
        .runtime
        .start_definition(TENANT, "two-timed", None, json!({}))
        .expect("starts");
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + 60_000)
    );
    h.clock.advance(30_000);
    let at_b = h
        .runtime
        .answer(&v.id, &v.step.clone().expect("step").step_id, json!({}))
        .expect("answers");
    assert_eq!(at_b.step.as_ref().map(|s| s.node.as_str()), Some("b"));
    // A's timer is gone; B's is due two minutes after the answer.
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + 30_000 + 120_000)
    );
    h.clock.set(T0 + 60_000);
    assert!(h.runtime.fire_due_timers().expect("pass").fired.is_empty());
    h.clock.set(T0 + 150_000);
    let pass = h.runtime.fire_due_timers().expect("pass");
    assert_eq!(pass.fired, vec![v.id.clone()]);
    let ended = h.runtime.instance(&v.id).expect("reads");
    assert_eq!(ended.outcome.as_deref(), Some("Late at B"));
    assert_eq!(h.runtime.next_timer_due().expect("reads"), None);
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.active, 0);
    assert!(report.repaired.is_empty());
}
