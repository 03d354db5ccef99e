//! A store written before the compact index keys (times and IDs as text under `ia/`, `it/` and
//! `ie/`): resume moves its keys once, and listing (with a cursor handed out before), timers
//! and the retention purge go on across the instances of before and after.

use crate::common::*;
use idflow_engine::Status;
use idflow_runtime::{flows, InstanceQuery, InstanceView, Runtime};
use idflow_store::{key, prefix};
use serde_json::json;

const DAY: i64 = 86_400_000;
const FIVE_MINUTES: i64 = 5 * 60 * 1000;

/// Every instance of the tenant, paging `limit` at a time from `after`.
fn listed(runtime: &Runtime, query: InstanceQuery) -> Vec<String> {
    let mut query = query;
    let mut ids = Vec::new();
    loop {
        let page = runtime.list_instances(TENANT, &query).expect("lists");
        assert_eq!(page.unreadable, 0);
        ids.extend(page.items.into_iter().map(|i| i.id));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return ids,
        }
    }
}

fn two_steps(runtime: &Runtime) -> InstanceView {
    runtime
        .start_definition(TENANT, "two-steps", None, json!({}))
        .expect("starts")
}

#[test]
fn text_index_keys_move_once_and_listing_timers_and_purge_go_on_across_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Four instances one second apart (the second and fourth answered to their end), then one
    // resting at a step with a timer.
    let (old, ended_at, cursor) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let mut old = Vec::new();
        let mut ended_at = Vec::new();
        for i in 0..4 {
            h.clock.set(T0 + 1_000 * (i + 1));
            let view = two_steps(&h.runtime);
            if i % 2 == 1 {
                let done = answer_to_the_end(&h.runtime, &view, json!({"k": i}));
                ended_at.push((done.id.clone(), done.updated_at_ms));
            }
            old.push(view.id);
        }
        h.clock.set(T0 + 10_000);
        let timed = h
            .runtime
            .start_definition(TENANT, "timed-step", None, json!({}))
            .expect("starts");
        old.push(timed.id);
        // A listing cursor handed out before the upgrade: after the second instance.
        let page = h
            .runtime
            .list_instances(
                TENANT,
                &InstanceQuery {
                    limit: 2,
                    ..InstanceQuery::default()
                },
            )
            .expect("lists");
        assert_eq!(page.items.len(), 2);
        let cursor = page.next.expect("more follow");

        // Every index key in the text layout, but the fourth instance's: an upgrade stopped
        // after its batch (no marker yet).
        let store = h.runtime.store();
        let rewritten = index_keys::rewrite_as_text(store, TENANT, |id| id != old[3]);
        // Active: the first, third and timed; listing: four; ended: the second.
        assert_eq!(rewritten, 3 + 4 + 1);
        // A tool that reads without resuming (history export) finds instances of both layouts.
        let mut ids = h.runtime.instance_ids(Some(TENANT)).expect("some IDs");
        let mut want = old.clone();
        want.sort();
        ids.sort();
        assert_eq!(ids, want);
        // Two text keys that do not parse.
        store
            .commit(|tx| {
                tx.insert(&key(&["it", TENANT, "zz", "not-an-id"]), Vec::new())?;
                tx.insert(
                    &key(&[b"ie".as_slice(), b"acme", b"0000000000000001", b"\xff\xfe"]),
                    Vec::new(),
                )
            })
            .expect("writes");
        // Which that tool names rather than skip.
        let refused = h.runtime.instance_ids(Some(TENANT));
        assert!(
            matches!(&refused, Err(idflow_runtime::RuntimeError::Store(e)) if e.to_string().contains("time is not 16 hex digits")),
            "{refused:?}"
        );
        (old, ended_at, cursor)
        // Dropped here: the store closes.
    };
    let store_keys =
        |h: &Harness, kind: &str| h.runtime.store().scan_prefix(&prefix(&[kind])).count();

    let h = on_disk(dir.path(), flows::six_node_script(true));
    h.clock.set(T0 + 20_000);
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.index_keys_moved, 8, "{report:?}");
    assert_eq!(report.index_keys_left.len(), 2, "{report:?}");
    assert!(report
        .index_keys_left
        .iter()
        .any(|(_, why)| why.contains("time is not 16 hex digits")));
    assert!(report
        .index_keys_left
        .iter()
        .any(|(_, why)| why.contains("instance ID is not text")));
    assert_eq!(report.active, 3);
    assert!(report.repaired.is_empty(), "{report:?}");
    assert!(report.set_aside.is_empty(), "{report:?}");
    // What did not parse stays where it was; the rest is compact, where the runtime reads it.
    assert_eq!(store_keys(&h, "ia"), 0);
    assert_eq!(store_keys(&h, "it"), 1);
    assert_eq!(store_keys(&h, "ie"), 1);
    assert_eq!(store_keys(&h, "xa"), 3);
    assert_eq!(store_keys(&h, "xt"), 5);
    assert_eq!(store_keys(&h, "xe"), 2);
    let store = h.runtime.store();
    let exists = |k: Vec<u8>| store.get(&k).expect("reads").is_some();
    assert!(exists(index_keys::listing(TENANT, T0 + 1_000, &old[0])));
    assert!(exists(index_keys::active(None, &old[0])));
    assert!(exists(index_keys::active(
        Some(T0 + 10_000 + FIVE_MINUTES),
        &old[4]
    )));
    for (id, ended) in &ended_at {
        assert!(exists(index_keys::ended(TENANT, *ended, id)));
    }

    // New instances: one now, one with a clock behind (another node's, say) that falls between
    // the first two old ones.
    let new_late = two_steps(&h.runtime).id;
    h.clock.set(T0 + 1_500);
    let new_early = answer_to_the_end(&h.runtime, &two_steps(&h.runtime), json!({"k": 9})).id;
    let all = vec![
        old[0].clone(),
        new_early.clone(),
        old[1].clone(),
        old[2].clone(),
        old[3].clone(),
        old[4].clone(),
        new_late.clone(),
    ];
    for limit in [1, 2, 3, 100] {
        let query = InstanceQuery {
            limit,
            ..InstanceQuery::default()
        };
        assert_eq!(listed(&h.runtime, query), all, "pages of {limit}");
    }
    // The cursor from before the upgrade goes on after the second old instance.
    let query = InstanceQuery {
        limit: 2,
        after: Some(cursor),
        ..InstanceQuery::default()
    };
    assert_eq!(listed(&h.runtime, query), all[3..]);
    let query = InstanceQuery {
        started_after_ms: Some(T0 + 1_500),
        started_before_ms: Some(T0 + 10_000),
        ..InstanceQuery::default()
    };
    assert_eq!(listed(&h.runtime, query), all[1..5]);

    // The moved timer fires when due.
    h.clock.set(T0 + 10_000 + FIVE_MINUTES);
    let fired = h.runtime.fire_due_timers().expect("fires");
    assert_eq!(fired.fired, vec![old[4].clone()]);
    assert_eq!(
        h.runtime.instance(&old[4]).expect("reads").status,
        Status::CompletedTerminated
    );
    assert_eq!(h.runtime.next_timer_due().expect("reads"), None);

    // Past their retention the ended ones go, old and new; the resting ones stay.
    h.clock.advance(181 * DAY);
    let purged = h.runtime.purge_completed(1000).expect("purges");
    assert_eq!(purged.instances, 4);
    let resting = vec![old[0].clone(), old[2].clone(), new_late.clone()];
    assert_eq!(listed(&h.runtime, InstanceQuery::default()), resting);
    assert_eq!(store_keys(&h, "xe"), 0);
    for id in [&old[1], &old[3], &old[4], &new_early] {
        assert!(h.runtime.instance(id).is_err());
    }
    // The resting ones go on.
    let done = answer_to_the_end(
        &h.runtime,
        &h.runtime.instance(&old[0]).expect("reads"),
        json!({"k": 1}),
    );
    assert_eq!(done.status, Status::CompletedEndedSuccess);

    // Once is enough: the marker stops a second move, and its report.
    drop(h);
    let h = on_disk(dir.path(), flows::six_node_script(true));
    let again = h.runtime.resume().expect("resumes");
    assert_eq!(again.index_keys_moved, 0);
    assert!(again.index_keys_left.is_empty(), "{again:?}");
    assert_eq!(again.active, 2);
}
