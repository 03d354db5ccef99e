//! Helpers shared by the runtime's integration tests: runtimes on temporary or on-disk stores,
//! a manual clock, and the shipped flows deployed.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

pub use idflow_pgtest::{store_at, temporary_store};
use idflow_runtime::flows;
use idflow_runtime::{
    ActivityHandler, InstanceView, ManualClock, Runtime, RuntimeConfig, ScriptedActivities,
};
use idflow_store::Store;
use serde_json::{json, Value};

pub const TENANT: &str = "acme";
/// 2023-11-14T22:13:20Z: an arbitrary fixed start for manual clocks.
pub const T0: i64 = 1_700_000_000_000;

pub struct Harness {
    pub runtime: Arc<Runtime>,
    pub clock: Arc<ManualClock>,
}

pub fn runtime_with(store: Store, handler: Arc<dyn ActivityHandler>) -> Harness {
    let clock = Arc::new(ManualClock::new(T0));
    let runtime = Runtime::new(
        store,
        handler,
        RuntimeConfig {
            clock: clock.clone(),
            rng_seed: None,
            limits: Default::default(),
            marker_key: None,
        },
    );
    Harness {
        runtime: Arc::new(runtime),
        clock,
    }
}

/// A runtime on a temporary store with the six-node script (approving).
pub fn temporary() -> Harness {
    runtime_with(temporary_store(), Arc::new(flows::six_node_script(true)))
}

pub fn on_disk(dir: &Path, script: ScriptedActivities) -> Harness {
    runtime_with(store_at(dir), Arc::new(script))
}

pub fn deploy_all(runtime: &Runtime) {
    for (label, bytes) in [
        ("six-node.bpmn", flows::SIX_NODE),
        ("timed-step.bpmn", flows::TIMED_STEP),
        ("two-steps.bpmn", flows::TWO_STEPS),
    ] {
        runtime.deploy(TENANT, label, bytes).expect("deploys");
    }
}

/// Answers every step `instance` comes to with `answer` until it ends; the instance at its end.
pub fn answer_to_the_end(
    runtime: &Runtime,
    instance: &InstanceView,
    answer: Value,
) -> InstanceView {
    let mut view = instance.clone();
    while let Some(step) = view.step.clone() {
        view = runtime
            .answer(&instance.id, &step.step_id, answer.clone())
            .expect("answers");
    }
    view
}

pub fn six_node_params() -> Value {
    json!({"store": "main", "externalId": "alice"})
}

/// The instance index keys as the store holds them, in both layouts (the table in
/// `crates/runtime/src/keys.rs`), for tests that write a store as an older build did or damage
/// one by hand.
pub mod index_keys {
    use idflow_store::{key, prefix, Store};

    /// Compact: `xa/` then the due time (8 bytes big-endian, all ones without a timer) and the
    /// ID's 16 bytes.
    pub fn active(due_ms: Option<i64>, id: &str) -> Vec<u8> {
        entry(prefix(&["xa"]), due_ms.map_or(u64::MAX, |d| d as u64), id)
    }

    /// Compact: `xt/{tenant}/` then the start time and the ID.
    pub fn listing(tenant: &str, started_ms: i64, id: &str) -> Vec<u8> {
        entry(prefix(&["xt", tenant]), started_ms as u64, id)
    }

    /// Compact: `xe/{tenant}/` then the end time and the ID.
    pub fn ended(tenant: &str, ended_ms: i64, id: &str) -> Vec<u8> {
        entry(prefix(&["xe", tenant]), ended_ms as u64, id)
    }

    fn entry(mut prefix: Vec<u8>, ms: u64, id: &str) -> Vec<u8> {
        prefix.extend_from_slice(&ms.to_be_bytes());
        let bytes = data_encoding::BASE32_NOPAD
            .decode(id.as_bytes())
            .expect("an ID");
        assert_eq!(bytes.len(), 16);
        prefix.extend_from_slice(&bytes);
        prefix
    }

    /// A compact key's time and ID (its last 24 bytes).
    pub fn compact_entry(key: &[u8]) -> (u64, String) {
        let (time, id) = key[key.len() - 24..].split_at(8);
        let id: [u8; 16] = id.try_into().expect("16 bytes");
        (
            u64::from_be_bytes(time.try_into().expect("8 bytes")),
            idflow_ids::id_from_bytes(&id),
        )
    }

    /// Text layout (before the compact one): `ia/{due_ms:016x}/{id}`, `ffffffffffffffff`
    /// without a timer.
    pub fn text_active(due_ms: Option<i64>, id: &str) -> Vec<u8> {
        let due = due_ms.map_or_else(|| "ffffffffffffffff".to_string(), |d| format!("{d:016x}"));
        key(&["ia", &due, id])
    }

    /// Text layout: `it/{tenant}/{started_ms:016x}/{id}` or `ie/{tenant}/{ended_ms:016x}/{id}`.
    pub fn text_tenant_entry(kind: &str, tenant: &str, ms: i64, id: &str) -> Vec<u8> {
        key(&[kind, tenant, &format!("{ms:016x}"), id])
    }

    /// Rewrites the compact index keys of the instances `which` picks into the text layout, in
    /// one transaction, as a build before the compact layout wrote them; how many.
    pub fn rewrite_as_text(store: &Store, tenant: &str, which: impl Fn(&str) -> bool) -> usize {
        let mut rewrites = Vec::new();
        let tenant_prefix = |kind: &str| prefix(&[kind, tenant]);
        for (prefix, kind) in [
            (prefix(&["xa"]), "ia"),
            (tenant_prefix("xt"), "it"),
            (tenant_prefix("xe"), "ie"),
        ] {
            for row in store.scan_prefix(&prefix) {
                let (key, _) = row.expect("scans");
                let (ms, id) = compact_entry(&key);
                if !which(&id) {
                    continue;
                }
                let text = match kind {
                    "ia" => text_active((ms != u64::MAX).then_some(ms as i64), &id),
                    _ => text_tenant_entry(kind, tenant, ms as i64, &id),
                };
                rewrites.push((key, text));
            }
        }
        store
            .commit(|tx| {
                for (compact, text) in &rewrites {
                    tx.remove(compact)?;
                    tx.insert(text, Vec::new())?;
                }
                Ok::<_, idflow_store::StoreError>(())
            })
            .expect("rewrites");
        rewrites.len()
    }
}
