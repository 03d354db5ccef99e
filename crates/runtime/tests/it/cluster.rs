//! Runtimes on one PostgreSQL store, as several nodes run them: every due timer fires exactly
//! once though every node looks for it, and a node that stopped leaves its timers to the others.

use std::sync::{Arc, Barrier};

use idflow_engine::Status;
use idflow_runtime::flows;
use idflow_store::{Store, StoreLocation};
use serde_json::json;

use crate::common::{deploy_all, runtime_with, Harness, T0, TENANT};

const FIVE_MINUTES: i64 = 5 * 60 * 1000;

fn node(url: &str) -> Harness {
    runtime_with(
        Store::open_at(&StoreLocation::Postgres(url.to_string())).expect("opens"),
        Arc::new(flows::six_node_script(true)),
    )
}

#[test]
fn due_timers_fire_exactly_once_with_three_nodes_looking() {
    let url = idflow_pgtest::database();
    let nodes: Vec<Harness> = (0..3).map(|_| node(&url)).collect();
    deploy_all(&nodes[0].runtime);
    let mut ids = Vec::new();
    for i in 0..12 {
        let started = nodes[i % 3]
            .runtime
            .start_definition(TENANT, "timed-step", None, json!({}))
            .expect("starts");
        assert_eq!(started.status, Status::Active);
        ids.push(started.id);
    }
    for n in &nodes {
        n.clock.set(T0 + FIVE_MINUTES + 1);
    }
    let barrier = Arc::new(Barrier::new(nodes.len()));
    let fired: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = nodes
            .iter()
            .map(|n| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let pass = n.runtime.fire_due_timers().expect("a pass");
                    assert!(pass.failed.is_empty(), "{:?}", pass.failed);
                    pass.fired
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("node"))
            .collect()
    });
    let mut all: Vec<String> = fired.into_iter().flatten().collect();
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected, "each timer fired once, by one node");
    for id in &ids {
        let view = nodes[2].runtime.instance(id).expect("reads");
        assert_eq!(view.status, Status::CompletedTerminated);
        assert_eq!(view.outcome.as_deref(), Some("Too slow"));
    }
}

#[test]
fn a_stopped_nodes_timers_fire_on_the_survivors() {
    let url = idflow_pgtest::database();
    let first = node(&url);
    deploy_all(&first.runtime);
    let id = first
        .runtime
        .start_definition(TENANT, "timed-step", None, json!({}))
        .expect("starts")
        .id;
    drop(first);
    let survivor = node(&url);
    survivor.clock.set(T0 + FIVE_MINUTES);
    let pass = survivor.runtime.fire_due_timers().expect("a pass");
    assert_eq!(pass.fired, vec![id.clone()]);
    assert_eq!(
        survivor.runtime.instance(&id).expect("reads").status,
        Status::CompletedTerminated
    );
}
