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
