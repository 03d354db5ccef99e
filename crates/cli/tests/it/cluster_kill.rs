//! Three `idflow serve` processes on one PostgreSQL database under load, one of them killed with
//! SIGKILL again and again: every start a node acknowledged is in the store, every answer a node
//! acknowledged has ended its instance, and the other instances' timers fire on the nodes that
//! are left.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{node, Node};

/// A step with a two-second timer boundary: left unanswered, the timer ends it "Too slow".
const TIMED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="timed-kill-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="timed-kill" isExecutable="true">
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
    <bpmn:boundaryEvent id="late" name="Late" attachedToRef="ask">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT2S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="answered"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="tooSlow"/>
    <bpmn:endEvent id="answered" name="Answered"/>
    <bpmn:endEvent id="tooSlow" name="Too slow"/>
  </bpmn:process>
</bpmn:definitions>
"#;

fn kill_9(node: &mut Node) {
    let status = Command::new("kill")
        .args(["-KILL", &node.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let _ = node.child.wait();
}

#[test]
fn acknowledged_starts_and_answers_survive_sigkill_and_timers_fire_on_the_survivors() {
    let url = idflow_pgtest::database();
    let dirs: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let (first, admin) = node(Some(&url), &dirs[0].path().join("data"), true);
    let admin = admin.expect("the first node prints an admin token");
    let mut nodes = vec![first];
    for dir in &dirs[1..] {
        nodes.push(node(Some(&url), &dir.path().join("data"), false).0);
    }
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let pm = |base: &str, tail: &str| format!("{base}/api/process-manager{tail}");
    let deployed = http
        .post(pm(&nodes[0].base, "/tenants/demo/process-definitions"))
        .bearer_auth(&admin)
        .header("Content-Type", "application/xml")
        .body(TIMED)
        .send()
        .expect("deploys");
    assert_eq!(deployed.status().as_u16(), 201);
    let form = http
        .post(pm(&nodes[1].base, "/tenants/demo/custom-forms"))
        .bearer_auth(&admin)
        .json(&json!({"name": "ask", "title": "Ask",
            "components": [{"type": "text", "elementId": "note", "uiLabel": "Note"}],
            "submitButton": {"uiLabel": "Send"}}))
        .send()
        .expect("form");
    assert_eq!(form.status().as_u16(), 201);
    let token: Value = http
        .post(pm(&nodes[2].base, "/tenants/demo/process-tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "kill", "processDefnName": "timed-kill", "type": "UNLIMITED"}))
        .send()
        .expect("token")
        .json()
        .expect("json");
    let token_id = token["id"].as_str().expect("token id").to_string();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    // Instances whose step a node acknowledged answering (200, ended by the answer).
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..3 {
        let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let load: Vec<_> = (0..2)
            .map(|worker| {
                let bases = bases.clone();
                let stop = Arc::clone(&stop);
                let acknowledged = Arc::clone(&acknowledged);
                let answered = Arc::clone(&answered);
                let http = http.clone();
                let token_id = token_id.clone();
                std::thread::spawn(move || {
                    let mut i = worker;
                    // A steady load rather than a flood: every acknowledged instance is checked
                    // one by one afterwards.
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                        let base = &bases[i % bases.len()];
                        i += 1;
                        let Ok(response) = http
                            .post(format!("{base}/api/process-manager/process-instances"))
                            .json(&json!({"processToken": token_id}))
                            .send()
                        else {
                            continue; // the killed node: nothing was acknowledged
                        };
                        if response.status().as_u16() != 201 {
                            continue;
                        }
                        let body: Value = response.json().unwrap_or_default();
                        let Some(id) = body["instanceId"].as_str() else {
                            continue;
                        };
                        acknowledged.lock().expect("lock").push(id.to_string());
                        // Every other instance is answered at once, on the next node.
                        let step = body["currentStep"]["stepId"].as_str().unwrap_or("");
                        if i % 2 == 0 {
                            continue;
                        }
                        let base = &bases[i % bases.len()];
                        let Ok(response) = http
                            .post(format!(
                                "{base}/api/process-manager/process-instances/{id}/steps/{step}"
                            ))
                            .json(&json!({"note": "in time"}))
                            .send()
                        else {
                            continue;
                        };
                        if response.status().as_u16() == 200 {
                            answered.lock().expect("lock").push(id.to_string());
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        kill_9(&mut nodes[1]);
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, Ordering::Relaxed);
        for worker in load {
            worker.join().expect("load thread");
        }
        // The killed node comes back for the next round (as an operator's supervisor would).
        nodes[1] = node(Some(&url), &dirs[1].path().join("data"), false).0;
        assert!(
            !acknowledged.lock().expect("lock").is_empty(),
            "round {round}: some starts were acknowledged"
        );
    }
    kill_9(&mut nodes[1]);

    let acknowledged = acknowledged.lock().expect("lock").clone();
    let answered = answered.lock().expect("lock").clone();
    assert!(!answered.is_empty(), "some answers were acknowledged");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut waiting = acknowledged.clone();
    while !waiting.is_empty() && Instant::now() < deadline {
        let survivor = if waiting.len() % 2 == 0 {
            &nodes[0]
        } else {
            &nodes[2]
        };
        waiting.retain(|id| {
            let view: Value = http
                .get(pm(
                    &survivor.base,
                    &format!("/tenants/demo/process-instances/{id}"),
                ))
                .bearer_auth(&admin)
                .send()
                .expect("answered")
                .json()
                .unwrap_or_default();
            assert!(
                view["id"].as_str() == Some(id.as_str()),
                "acknowledged instance {id} is in the store: {view}"
            );
            let status = view["status"].as_str().unwrap_or("");
            if answered.contains(id) {
                assert_eq!(
                    (status, view["outcome"].as_str()),
                    ("COMPLETED_ENDED_SUCCESS", Some("Answered")),
                    "an acknowledged answer ended instance {id}: {view}"
                );
            } else if status != "ACTIVE" {
                // Its timer fired, or an answer the killed node never acknowledged came first.
                assert!(
                    status == "COMPLETED_TERMINATED" || status == "COMPLETED_ENDED_SUCCESS",
                    "{view}"
                );
            }
            status == "ACTIVE"
        });
        if !waiting.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    assert!(
        waiting.is_empty(),
        "{} of {} acknowledged instances still wait for their timer",
        waiting.len(),
        acknowledged.len()
    );
    for mut node in nodes {
        let _ = node.child.kill();
        let _ = node.child.wait();
    }
}
