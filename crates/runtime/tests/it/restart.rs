//! Restarts: close the runtime, reopen the store, and find every instance, its history and its
//! armed timers there; resume reports what it found and due timers fire.

use crate::common::*;
use idflow_engine::Status;
use idflow_runtime::flows;
use serde_json::json;

#[test]
fn instances_tokens_and_timers_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (resting, timed, done, token_id) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let token = h
            .runtime
            .create_token(
                TENANT,
                idflow_runtime::NewToken {
                    name: "t".into(),
                    description: String::new(),
                    process_defn_name: "six-node".into(),
                    process_defn_version: None,
                    kind: idflow_runtime::TokenKind::CountLimited { max_uses: 2 },
                    parameters: six_node_params(),
                    ui_url: None,
                },
            )
            .expect("token");
        let resting = h.runtime.start(&token.id).expect("starts");
        let timed = h
            .runtime
            .start_definition(TENANT, "timed-step", None, json!({}))
            .expect("starts");
        let other = h
            .runtime
            .start_definition(TENANT, "two-steps", None, json!({}))
            .expect("starts");
        let done = answer_to_the_end(&h.runtime, &other, json!({"k": 1}));
        (resting, timed, done, token.id)
        // Dropped here: the store closes.
    };

    let h = on_disk(dir.path(), flows::six_node_script(true));
    h.clock.set(T0 + 1);
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.active, 2);
    assert_eq!(report.at_step, 2);
    assert!(report.repaired.is_empty(), "{:?}", report.repaired);
    assert!(report.timers_fired.fired.is_empty());

    assert_eq!(h.runtime.instance(&resting.id).expect("reads"), resting);
    assert_eq!(h.runtime.instance(&done.id).expect("reads"), done);
    assert_eq!(
        h.runtime.history(&done.id).expect("history").len() as u64,
        {
            let export = h.runtime.export_history(&done.id).expect("export");
            export.events.len() as u64
        }
    );
    assert_eq!(h.runtime.token(TENANT, "t").expect("token").uses, 1);
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + 5 * 60 * 1000)
    );

    // The resting instance continues on the reopened store.
    let step = resting.step.clone().expect("step").step_id;
    let finished = h
        .runtime
        .answer(&resting.id, &step, json!({}))
        .expect("answers");
    assert_eq!(finished.status, Status::CompletedEndedSuccess);
    // The token still has its second use, and no more.
    h.runtime.start(&token_id).expect("second use");
    assert!(h.runtime.start(&token_id).is_err());

    // The persisted timer fires after the restart.
    drop(h);
    let h = on_disk(dir.path(), flows::six_node_script(true));
    h.clock.set(T0 + 5 * 60 * 1000);
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.timers_fired.fired, vec![timed.id.clone()]);
    assert_eq!(
        h.runtime.instance(&timed.id).expect("reads").status,
        Status::CompletedTerminated
    );
}

#[test]
fn resume_repairs_what_atomic_commits_should_never_leave() {
    use idflow_runtime::records::InstanceRecord;
    use idflow_store::key;

    let dir = tempfile::tempdir().expect("tempdir");
    let (half, timed) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let half = h
            .runtime
            .start_definition(TENANT, "six-node", None, six_node_params())
            .expect("starts");
        let timed = h
            .runtime
            .start_definition(TENANT, "timed-step", None, json!({}))
            .expect("starts");
        (half, timed)
    };
    {
        // Damage the store by hand: one instance caught waiting for its decider, the timed
        // one indexed as if it had no timer, and an index entry for an instance that does not
        // exist.
        let store = store_at(dir.path());
        let instance_key = key(&["i", half.id.as_str()]);
        let mut record: InstanceRecord = store
            .get_record(&instance_key)
            .expect("read")
            .expect("exists");
        record.position = idflow_runtime::records::PositionRecord::AwaitingActivity {
            node: "decide".into(),
        };
        record.step = None;
        let index = index_keys::active;
        let timed_due = Some(T0 + 5 * 60 * 1000);
        assert!(
            store
                .get(&index(timed_due, &timed.id))
                .expect("read")
                .is_some(),
            "the timed instance is indexed by its timer"
        );
        store
            .commit(|tx| {
                tx.put_record(&instance_key, &record)?;
                tx.remove(&index(timed_due, &timed.id))?;
                tx.insert(&index(None, &timed.id), Vec::new())?;
                tx.insert(&index(Some(1), "AAAAAAAAAAAAAAAAAAAAAAAAAA"), Vec::new())
            })
            .expect("damaged");
    }
    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.active, 2);
    assert_eq!(report.at_step, 1);
    let repaired: Vec<&str> = report.repaired.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(repaired.len(), 3, "{:?}", report.repaired);
    assert!(repaired.contains(&"AAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert!(repaired.contains(&timed.id.as_str()));
    let (_, why) = report
        .repaired
        .iter()
        .find(|(id, _)| *id == half.id)
        .expect("the half-advanced instance is reported");
    assert!(why.contains("'decide'"), "{why}");
    let repaired = h.runtime.instance(&half.id).expect("reads");
    assert_eq!(repaired.status, Status::CompletedProcessError);
    assert_eq!(
        repaired.error.expect("error").node.as_deref(),
        Some("decide")
    );
    assert_eq!(
        h.runtime.next_timer_due().expect("reads"),
        Some(T0 + 5 * 60 * 1000)
    );
    assert_eq!(
        h.runtime.instance(&timed.id).expect("reads").status,
        Status::Active
    );
    // A second resume finds nothing left to repair.
    let again = h.runtime.resume().expect("resumes");
    assert!(again.repaired.is_empty());
    assert_eq!(again.active, 1);
}

#[test]
fn an_unreadable_instance_record_is_set_aside_and_the_rest_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (broken, healthy) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let start = || {
            h.runtime
                .start_definition(TENANT, "two-steps", None, json!({}))
                .expect("starts")
        };
        let (broken, healthy) = (start(), start());
        // Damage one record the way a newer build (an unknown version) or a bad disk would.
        let store = h.runtime.store();
        let key = idflow_store::key(&["i", &broken.id]);
        store
            .commit(|tx| {
                tx.insert(&key, b"\x01{\"t\": [[[".to_vec())
                    .map_err(idflow_runtime::RuntimeError::from)
            })
            .expect("damaged");
        (broken, healthy)
    };

    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h
        .runtime
        .resume()
        .expect("one unreadable record does not stop the start");
    assert_eq!(report.active, 1);
    assert_eq!(report.set_aside.len(), 1, "{report:?}");
    assert_eq!(report.set_aside[0].0, broken.id);
    assert!(report.set_aside[0].1.contains("corrupt"), "{report:?}");
    let store = h.runtime.store();
    assert!(store
        .get(&idflow_store::key(&["iq", &broken.id]))
        .expect("reads")
        .is_some());

    // The listing leaves it out and says so; the healthy instance goes on.
    let page = h
        .runtime
        .list_instances(TENANT, &idflow_runtime::InstanceQuery::default())
        .expect("lists");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, healthy.id);
    assert_eq!(page.unreadable, 1);
    let step = healthy.step.expect("at a step").step_id;
    h.runtime
        .answer(&healthy.id, &step, json!({"k": 1}))
        .expect("answers");

    // A second start finds nothing more to set aside.
    drop(h);
    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h.runtime.resume().expect("resumes");
    assert!(report.set_aside.is_empty(), "{report:?}");
}

/// An instance record whose lifecycle fields disagree (timers while awaiting an activity, an
/// outcome on an active instance) is one the engine cannot take: the start sets it aside naming
/// the field, as it does an unreadable one, instead of failing on it, and the rest resumes.
#[test]
fn an_instance_record_whose_fields_disagree_is_set_aside_naming_the_field() {
    use idflow_runtime::records::{InstanceRecord, PositionRecord};

    let dir = tempfile::tempdir().expect("tempdir");
    let (timed, answered, healthy) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let start = |name: &str| {
            h.runtime
                .start_definition(TENANT, name, None, json!({}))
                .expect("starts")
        };
        (start("timed-step"), start("two-steps"), start("two-steps"))
    };
    {
        let store = store_at(dir.path());
        let key = |id: &str| idflow_store::key(&["i", id]);
        let read = |id: &str| -> InstanceRecord {
            store.get_record(&key(id)).expect("read").expect("exists")
        };
        let mut timers_off_step = read(&timed.id);
        assert!(!timers_off_step.timers.is_empty(), "the step armed a timer");
        timers_off_step.position = PositionRecord::AwaitingActivity { node: "ask".into() };
        let mut outcome_while_active = read(&answered.id);
        outcome_while_active.outcome = Some("Done".into());
        store
            .commit(|tx| {
                tx.put_record(&key(&timed.id), &timers_off_step)?;
                tx.put_record(&key(&answered.id), &outcome_while_active)
            })
            .expect("damaged");
    }

    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h
        .runtime
        .resume()
        .expect("records that disagree do not stop the start");
    assert_eq!(report.active, 1, "{report:?}");
    assert_eq!(report.set_aside.len(), 2, "{report:?}");
    for (id, field) in [
        (&timed.id, "field `tm` (timers)"),
        (&answered.id, "field `o` (outcome)"),
    ] {
        let (_, why) = report
            .set_aside
            .iter()
            .find(|(aside, _)| aside == id)
            .expect("set aside");
        assert!(why.contains("corrupt") && why.contains(field), "{why}");
        assert!(h
            .runtime
            .store()
            .get(&idflow_store::key(&["iq", id]))
            .expect("reads")
            .is_some());
    }
    let step = healthy.step.expect("at a step").step_id;
    h.runtime
        .answer(&healthy.id, &step, json!({"k": 1}))
        .expect("the healthy instance answers");
    // Answering a set-aside instance is refused as a store failure naming the field, not a panic.
    let step = answered.step.expect("at a step").step_id;
    let refused = h
        .runtime
        .answer(&answered.id, &step, json!({"k": 1}))
        .expect_err("refused");
    assert!(refused.is_failure(), "{refused}");
    assert!(
        refused.to_string().contains("field `o` (outcome)"),
        "{refused}"
    );
}

/// A store written before records were compressed (every value its version byte and plain
/// JSON) opens and reads as it did, and its instances go on; what is written from then on is
/// compressed beside the old values.
#[test]
fn a_store_written_before_compression_reads_and_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (resting, done, done_export) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let (resting, done, done_export) = one_resting_one_done(&h.runtime);

        // Rewrite every record in the old encoding, as the build before compression wrote it.
        let store = h.runtime.store();
        let rows: Vec<_> = store
            .scan_prefix(b"")
            .collect::<Result<_, _>>()
            .expect("scan");
        let mut compressed = 0;
        let mut plain_rows = Vec::new();
        for (key, value) in rows {
            if value.first() == Some(&idflow_store::ZSTD_DICTIONARY_1) {
                compressed += 1;
                let plain = idflow_store::plain_record(&key, &value).expect("expands");
                assert!(plain[0] < 0x80, "a version byte, then JSON");
                serde_json::from_slice::<serde_json::Value>(&plain[1..]).expect("plain JSON");
                plain_rows.push((key, plain));
            }
        }
        assert!(
            compressed >= 4,
            "instances and history chunks are compressed: {compressed}"
        );
        store
            .commit(|tx| {
                for (k, v) in &plain_rows {
                    tx.insert(k, v.clone())?;
                }
                Ok::<_, idflow_store::StoreError>(())
            })
            .expect("rewrites");
        (resting, done, done_export)
    };

    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.active, 1);
    assert!(report.repaired.is_empty(), "{:?}", report.repaired);
    assert_eq!(h.runtime.instance(&resting.id).expect("reads"), resting);
    assert_eq!(h.runtime.instance(&done.id).expect("reads"), done);
    let export = h.runtime.export_history(&done.id).expect("export");
    assert_eq!(
        serde_json::to_value(&export).expect("json"),
        serde_json::to_value(&done_export).expect("json")
    );
    let finished = answer_to_the_end(&h.runtime, &resting, json!({"k": 2}));
    assert_eq!(finished.status, Status::CompletedEndedSuccess);
    assert_eq!(
        h.runtime.history(&finished.id).expect("history").len(),
        h.runtime
            .export_history(&finished.id)
            .expect("export")
            .events
            .len()
    );
}

/// A store written before instance records held their history (each chain's events a record of
/// their own under `h/{id}/{first index:016x}`, instance records version 1, and, older still,
/// every value plain JSON) opens and reads as it did: instances, their history and its export;
/// resume finds the active one, which goes on, its new events held in its record after the
/// old chunks.
#[test]
fn a_store_written_before_records_held_their_history_reads_and_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let instance_keys = idflow_store::prefix(&["i"]);
    let history_keys = idflow_store::prefix(&["h"]);
    let (resting, done, done_export, resting_events) = {
        let h = on_disk(dir.path(), flows::six_node_script(true));
        deploy_all(&h.runtime);
        let (resting, done, done_export) = one_resting_one_done(&h.runtime);
        let resting_events = h.runtime.history(&resting.id).expect("history");

        let store = h.runtime.store();
        assert_eq!(
            store.scan_prefix(&history_keys).count(),
            0,
            "history is held in the instance records"
        );
        // Rewrite every instance in the layout before: its record version 1 without `h`, each
        // chunk it held a version-2 history record of its own; all of it plain JSON.
        let rows: Vec<_> = store
            .scan_prefix(&instance_keys)
            .collect::<Result<_, _>>()
            .expect("scan");
        let mut old_rows = Vec::new();
        for (key, value) in rows {
            let plain = idflow_store::plain_record(&key, &value).expect("expands");
            assert_eq!(plain[0], 2, "instance records are version 2");
            let mut record: serde_json::Value =
                serde_json::from_slice(&plain[1..]).expect("plain JSON");
            let held = record
                .as_object_mut()
                .expect("an object")
                .remove("h")
                .expect("the record holds its history");
            let id = String::from_utf8(idflow_store::last_segment(&key)).expect("UTF-8");
            for chunk in held.as_array().expect("a list of chunks") {
                let first = chunk["i"].as_u64().expect("first index");
                let chunk_key = idflow_store::key(&["h", id.as_str(), &format!("{first:016x}")]);
                let mut bytes = vec![2];
                bytes.extend(serde_json::to_vec(chunk).expect("json"));
                old_rows.push((chunk_key, bytes));
            }
            let mut bytes = vec![1];
            bytes.extend(serde_json::to_vec(&record).expect("json"));
            old_rows.push((key, bytes));
        }
        assert!(
            old_rows.len() >= 5,
            "two records and their chunks: {}",
            old_rows.len()
        );
        store
            .commit(|tx| {
                for (k, v) in &old_rows {
                    tx.insert(k, v.clone())?;
                }
                Ok::<_, idflow_store::StoreError>(())
            })
            .expect("rewrites");
        (resting, done, done_export, resting_events)
    };

    let h = on_disk(dir.path(), flows::six_node_script(true));
    let report = h.runtime.resume().expect("resumes");
    assert_eq!(report.active, 1);
    assert!(report.repaired.is_empty(), "{:?}", report.repaired);
    assert!(report.set_aside.is_empty(), "{:?}", report.set_aside);
    assert_eq!(h.runtime.instance(&resting.id).expect("reads"), resting);
    assert_eq!(h.runtime.instance(&done.id).expect("reads"), done);
    assert_eq!(
        h.runtime.history(&resting.id).expect("history"),
        resting_events
    );
    let export = h.runtime.export_history(&done.id).expect("export");
    assert_eq!(
        serde_json::to_value(&export).expect("json"),
        serde_json::to_value(&done_export).expect("json")
    );

    let finished = answer_to_the_end(&h.runtime, &resting, json!({"k": 2}));
    assert_eq!(finished.status, Status::CompletedEndedSuccess);
    let history = h.runtime.history(&finished.id).expect("history");
    assert_eq!(history[..resting_events.len()], resting_events[..]);
    assert!(history.len() > resting_events.len());
    assert!(history.iter().zip(0..).all(|(e, i)| e.index == i));
    let export = h.runtime.export_history(&finished.id).expect("export");
    assert_eq!(export.events.len(), history.len());
    // The old chunk stays where it was; what came after is in the record.
    let store = h.runtime.store();
    let old_chunks = store
        .scan_prefix(&idflow_store::prefix(&["h", resting.id.as_str()]))
        .count();
    assert_eq!(old_chunks, 1);

    let record_key = idflow_store::key(&["i", finished.id.as_str()]);
    let record = store.get(&record_key).expect("reads").expect("stored");
    let plain = idflow_store::plain_record(&record_key, &record).expect("expands");
    let record: serde_json::Value = serde_json::from_slice(&plain[1..]).expect("plain JSON");
    let held = record["h"].as_array().expect("new chunks held").len();
    assert!(held > 0);
    let chunk_keys = store.scan_prefix(&history_keys).count();

    // Past their retention both go, the chunks under their own keys with them.
    h.clock.advance(181 * 86_400_000);
    let report = h.runtime.purge_completed(1000).expect("purges");
    assert_eq!(report.instances, 2);
    assert_eq!(report.history_chunks, chunk_keys + held);
    assert_eq!(store.scan_prefix(&history_keys).count(), 0);
}

/// Two `two-steps` instances: one resting at its first step, one answered to its end (with its
/// history's export), as a store written by an older build would hold them.
fn one_resting_one_done(
    runtime: &idflow_runtime::Runtime,
) -> (
    idflow_runtime::InstanceView,
    idflow_runtime::InstanceView,
    idflow_runtime::HistoryExport,
) {
    let start = || {
        runtime
            .start_definition(TENANT, "two-steps", None, json!({}))
            .expect("starts")
    };
    let resting = start();
    let done = answer_to_the_end(runtime, &start(), json!({"k": 1}));
    let done_export = runtime.export_history(&done.id).expect("export");
    (resting, done, done_export)
}
