//! A data directory across a restart: the marker key is created in it (mode 0600), stays the
//! same, so markers do, and no export holds it; and what the restart logs names instances by
//! their log tags only. A test binary of its own: its log capture must not race with other
//! tests' servers registering the same log call sites.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{json, Value};

/// A step whose timer falls due at once: a restart finds it due and fires it.
const QUICK_TIMER_BPMN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="quick-timer-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="quick-timer" isExecutable="true">
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
    <bpmn:boundaryEvent id="late" attachedToRef="ask">
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration>PT0.001S</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="answered"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="tooSlow"/>
    <bpmn:endEvent id="answered"/>
    <bpmn:endEvent id="tooSlow"/>
  </bpmn:process>
</bpmn:definitions>
"#;

/// A log sink.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An instance view holding one secret, to see the marker a runtime gives it.
fn marker_of_secret(runtime: &idflow_runtime::Runtime) -> Value {
    let view = idflow_runtime::InstanceView {
        id: "AAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        tenant: "acme".into(),
        definition: idflow_runtime::DefinitionKey {
            name: "d".into(),
            version: 1,
        },
        token_name: None,
        status: idflow_engine::Status::Active,
        outcome: None,
        error: None,
        step: None,
        variables: json!({"code": "492039"}),
        secret_paths: [idflow_engine::VarPath::keys(&["code"])].into(),
        started_at_ms: 0,
        updated_at_ms: 0,
    };
    runtime.redacted_variables(&view)["code"].clone()
}

#[test]
fn the_marker_key_stays_in_the_data_directory_and_a_restart_logs_no_instance_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut config = idflow_server::Config::new("127.0.0.1:0".parse().expect("address"), &data);
    config.seed_demo = false;
    let (instance, step, marker, key) = {
        let opened = idflow_server::open_data_dir(&config).expect("opens");
        let runtime = opened.state.runtime();
        runtime
            .deploy("acme", "quick-timer.bpmn", QUICK_TIMER_BPMN.as_bytes())
            .expect("deploys");
        let form = json!({"name": "ask", "title": "Ask", "components": [],
                          "submitButton": {"uiLabel": "Send"}});
        opened
            .state
            .forms()
            .deploy("acme", form.to_string().as_bytes())
            .expect("the form deploys");
        let view = runtime
            .start_definition("acme", "quick-timer", None, json!({}))
            .expect("starts");
        let step = view
            .step
            .as_ref()
            .expect("rests at the step")
            .step_id
            .clone();
        let key_path = idflow_server::key_file::marker_key_path(&data);
        let key = std::fs::read(&key_path).expect("the marker key file exists");
        assert_eq!(key.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_path)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        (view.id, step, marker_of_secret(runtime), key)
    };

    // Restarting finds the timer due and fires it; the log says so without the instance's ID.
    let sink = Captured::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let opened = tracing::subscriber::with_default(subscriber, || {
        idflow_server::open_data_dir(&config).expect("reopens")
    });
    let logs = String::from_utf8_lossy(&sink.0.lock().unwrap_or_else(PoisonError::into_inner))
        .into_owned();
    let runtime = opened.state.runtime();
    assert_eq!(
        runtime.instance(&instance).expect("reads").status,
        idflow_engine::Status::CompletedTerminated,
        "the due timer fired on restart"
    );
    assert!(logs.contains("runtime resumed"), "{logs}");
    assert!(logs.contains(&idflow_ids::log_tag(&instance)), "{logs}");
    assert!(
        !logs.contains(&instance),
        "the instance ID is logged:\n{logs}"
    );
    assert!(!logs.contains(&step), "the step ID is logged:\n{logs}");

    // The same key after the restart, so the same markers.
    assert_eq!(
        std::fs::read(idflow_server::key_file::marker_key_path(&data)).expect("key"),
        key
    );
    assert_eq!(marker_of_secret(runtime), marker);
    // Nothing exported holds the key, in any usual encoding.
    let export =
        serde_json::to_string(&runtime.export_history(&instance).expect("export")).expect("json");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    for encoded in [
        hex.clone(),
        hex.to_uppercase(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &key),
    ] {
        assert!(
            !export.contains(&encoded),
            "the export holds the marker key"
        );
    }
}
