//! What the runtime writes to its logs when things go wrong: timers that cannot fire (a store
//! error naming the instance's key), instances repaired on resume. An instance ID with its step
//! ID answers the step, so neither may appear: the lines name instances by their log tags.
//!
//! A test binary of its own, apart from `tests/it`: its log capture must not race with other
//! tests registering the same log call sites (a call site first reached while no capturing
//! subscriber exists may be cached as uninteresting).

#[path = "it/common.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use common::*;
use idflow_ids::log_tag;
use idflow_runtime::records::{InstanceRecord, PositionRecord};
use idflow_runtime::{flows, InstanceView};
use idflow_store::key;
use serde_json::json;

/// A log sink for the test's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

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

/// Runs `f` with every log line of this thread written into `sink`.
fn logged<T>(sink: &Captured, f: impl FnOnce() -> T) -> T {
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f)
}

fn step_of(view: &InstanceView) -> String {
    view.step.as_ref().expect("rests at a step").step_id.clone()
}

#[test]
fn timer_and_resume_logs_name_instances_by_log_tag_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (broken, repaired, timed) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let start = |name, params| {
            h.runtime
                .start_definition(TENANT, name, None, params)
                .expect("starts")
        };
        (
            start("timed-step", json!({})),
            start("six-node", six_node_params()),
            start("timed-step", json!({})),
        )
    };
    // One instance caught half-way through a chain, as only a damaged store can leave it.
    {
        let store = idflow_store::Store::open(dir.path()).expect("open");
        let instance_key = key(&["i", repaired.id.as_str()]);
        let mut record: InstanceRecord = store
            .get_record(&instance_key)
            .expect("read")
            .expect("exists");
        record.position = PositionRecord::AwaitingActivity {
            node: "decide".into(),
        };
        record.step = None;
        store
            .commit(|tx| tx.put_record(&instance_key, &record))
            .expect("damaged");
    }

    let sink = Captured::default();
    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = logged(&sink, || h.runtime.resume().expect("resumes"));
    assert_eq!(report.repaired.len(), 1, "{report:?}");
    // The server logs this report as it is (`?report`).
    let report_text = format!("{report:?}");

    // A record the store cannot read any more: its timer cannot fire, and the store error
    // names the record's key.
    h.runtime
        .store()
        .commit(|tx| tx.insert(&key(&["i", broken.id.as_str()]), b"\x01{damaged".to_vec()))
        .expect("damaged");
    h.clock.advance(10 * 60 * 1000);
    let fired = logged(&sink, || h.runtime.fire_due_timers().expect("a pass"));
    assert_eq!(fired.fired, std::slice::from_ref(&timed.id));
    assert_eq!(fired.failed.len(), 1);
    assert_eq!(fired.failed[0].0, broken.id);
    let fired_text = format!("{fired:?}");

    let logs = sink.text();
    assert!(
        logs.contains("repairing a half-advanced instance"),
        "{logs}"
    );
    assert!(logs.contains("a due timer could not fire"), "{logs}");
    assert!(logs.contains("is corrupt"), "{logs}");
    // Lines about one instance still correlate: they carry its log tag.
    assert!(logs.contains(&log_tag(&repaired.id)), "{logs}");
    assert!(logs.contains(&log_tag(&broken.id)), "{logs}");
    for capability in [
        &broken.id,
        &step_of(&broken),
        &repaired.id,
        &step_of(&repaired),
        &timed.id,
        &step_of(&timed),
    ] {
        assert!(
            !logs.contains(capability.as_str()),
            "{capability} logged:\n{logs}"
        );
        assert!(!report_text.contains(capability.as_str()), "{report_text}");
        assert!(!fired_text.contains(capability.as_str()), "{fired_text}");
    }
}
