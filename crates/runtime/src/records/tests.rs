//! Round trips of the persisted shapes: every engine event through the history format and back,
//! instance state through its record, and the export reader's refusals.

use super::*;
use crate::export::*;
use idflow_engine::{
    Check, CheckResult, DefinitionRef, EventKind, HistoryEvent, InstanceError, RecordedInputs,
    RecordedWrite, StepSeed, VarWrite,
};
use serde_json::json;

fn every_event_kind() -> Vec<EventKind> {
    let write = RecordedWrite {
        path: VarPath::parse("processvar.user1[\"a b\"][0]").expect("path"),
        value: json!({"x": 1}),
        secret: true,
    };
    let check = Check {
        name: "passcode".into(),
        result: CheckResult::Fail,
        detail: "wrong".into(),
    };
    let _unused_write_shape = VarWrite {
        path: write.path.clone(),
        value: Value::Null,
        secret: false,
    };
    vec![
        EventKind::InstanceStarted {
            instance_id: "UGIRW7QN727EIV2XLXG4YH42N4".into(),
            definition: DefinitionRef {
                name: "reg".into(),
                version: 3,
                content_hash: "ab".repeat(32),
            },
            token_name: Some("tok".into()),
            token: json!({"store": "s"}),
            step_seed: Some(StepSeed::from_bytes([0xab; StepSeed::LEN])),
        },
        EventKind::InstanceStarted {
            instance_id: "X".into(),
            definition: DefinitionRef {
                name: "reg".into(),
                version: 1,
                content_hash: String::new(),
            },
            token_name: None,
            token: json!({}),
            step_seed: Some(StepSeed::from_bytes([1; StepSeed::LEN])),
        },
        // The kind new instances get.
        EventKind::InstanceStarted {
            instance_id: "Z".into(),
            definition: DefinitionRef {
                name: "reg".into(),
                version: 1,
                content_hash: String::new(),
            },
            token_name: None,
            token: json!({}),
            step_seed: Some(StepSeed::keyed([0xc3; StepSeed::KEYED_LEN])),
        },
        // Recorded before step seeds existed.
        EventKind::InstanceStarted {
            instance_id: "Y".into(),
            definition: DefinitionRef {
                name: "reg".into(),
                version: 1,
                content_hash: String::new(),
            },
            token_name: None,
            token: json!({}),
            step_seed: None,
        },
        EventKind::NodeEntered { node: "n".into() },
        EventKind::GatewayChose {
            gateway: "g".into(),
            flow: "f".into(),
            by_default: true,
        },
        EventKind::GatewayChose {
            gateway: "g".into(),
            flow: "f2".into(),
            by_default: false,
        },
        EventKind::ActivityScheduled {
            node: "a".into(),
            activity: ActivityType::AddUser,
            inputs: RecordedInputs::from_json(json!({"Store Name": "s"})).unwrap(),
        },
        EventKind::ActivityCompleted {
            node: "a".into(),
            writes: vec![write.clone()],
            checks: vec![check.clone()],
        },
        EventKind::ActivityCompleted {
            node: "a".into(),
            writes: vec![],
            checks: vec![],
        },
        EventKind::ActivityRefused {
            node: "a".into(),
            code: "EXT_ID_NOT_UNIQUE".into(),
            message: "taken".into(),
            writes: vec![write],
            checks: vec![check],
        },
        EventKind::ActivityFailed {
            node: "a".into(),
            message: "boom".into(),
        },
        EventKind::BoundaryTaken {
            boundary: "b".into(),
            attached_to: "a".into(),
            code: Some("C".into()),
        },
        EventKind::BoundaryTaken {
            boundary: "t".into(),
            attached_to: "s".into(),
            code: None,
        },
        EventKind::StepPresented {
            node: "s".into(),
            step_id: "s-7".into(),
            inputs: RecordedInputs::from_json(json!({"Form data Key": "f"})).unwrap(),
        },
        EventKind::StepAnswered {
            step_id: "s-7".into(),
            data: json!({"answer": [1, 2]}),
        },
        EventKind::TimerArmed {
            timer_id: "t1".into(),
            boundary: "t".into(),
            due_ms: 1_700_000_300_000,
        },
        EventKind::TimerFired {
            timer_id: "t1".into(),
        },
        EventKind::TimerCancelled {
            timer_id: "t1".into(),
        },
        EventKind::Cancelled {
            reason: "admin".into(),
        },
        EventKind::Aborted {
            node: Some("form".into()),
            message: "form variable missing".into(),
        },
        EventKind::Aborted {
            node: None,
            message: "m".into(),
        },
        EventKind::InstanceEnded {
            status: Status::CompletedProcessError,
            outcome: None,
            error: Some(InstanceError {
                node: Some("a".into()),
                message: "boom".into(),
            }),
        },
        EventKind::InstanceEnded {
            status: Status::CompletedEndedSuccess,
            outcome: Some("Done".into()),
            error: None,
        },
    ]
}

#[test]
fn every_event_survives_the_history_format() {
    let events: Vec<HistoryEvent> = every_event_kind()
        .into_iter()
        .enumerate()
        .map(|(i, kind)| HistoryEvent {
            index: i as u64 + 5,
            // One event at another time than the chunk's, to exercise the per-event override.
            at_ms: if i == 3 { 2_000 } else { 1_000 },
            kind,
        })
        .collect();
    let chunk = HistoryChunkRecord::from_engine(&events).expect("non-empty");
    let bytes = idflow_store::encode_record(&chunk).expect("encode");
    let plain = idflow_store::plain_record(b"k", &bytes).expect("expands");
    assert_eq!(plain[0], 2, "history chunks are record version 2");
    let decoded: HistoryChunkRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
    assert_eq!(decoded, chunk);
    assert_eq!(decoded.events, events);

    // Version 1 (the export's object layout) is upgraded on read.
    let v1 = json!({
        "i": 5,
        "t": 1_000,
        "e": events.iter().map(|e| {
            let mut obj = serde_json::to_value(EventKindRecord::from_engine(&e.kind)).expect("json");
            if e.at_ms != 1_000 {
                obj["t"] = json!(e.at_ms);
            }
            obj
        }).collect::<Vec<_>>(),
    });
    let mut v1_bytes = vec![1u8];
    v1_bytes.extend(serde_json::to_vec(&v1).expect("json"));
    let upgraded: HistoryChunkRecord =
        idflow_store::decode_record(b"k", &v1_bytes).expect("upgrades");
    assert_eq!(upgraded.events, events);

    let export = HistoryExport {
        format: HISTORY_FORMAT.into(),
        version: HISTORY_VERSION,
        instance: "I".into(),
        tenant: "t".into(),
        events: events.iter().map(ExportedEvent::from_engine).collect(),
        definition: None,
    };
    let text = serde_json::to_vec(&export).expect("json");
    let read = HistoryExport::from_json(&text).expect("reads back");
    assert_eq!(read, export);
    // Numbered from 5 here, so the gap check refuses it as a whole history...
    assert!(read
        .events()
        .expect_err("gap")
        .contains("index 5, expected 0"));
}

#[test]
fn chunks_are_stored_in_the_compact_layout() {
    let events = vec![
        HistoryEvent {
            index: 8,
            at_ms: 7,
            kind: EventKind::StepAnswered {
                step_id: "form-6".into(),
                data: json!({"colour": "blue"}),
            },
        },
        HistoryEvent {
            index: 9,
            at_ms: 7,
            kind: EventKind::NodeEntered {
                node: "decide".into(),
            },
        },
        HistoryEvent {
            index: 10,
            at_ms: 9,
            kind: EventKind::InstanceEnded {
                status: Status::CompletedProcessError,
                outcome: None,
                error: Some(InstanceError {
                    node: None,
                    message: "boom".into(),
                }),
            },
        },
    ];
    let chunk = HistoryChunkRecord::new(events).expect("non-empty");
    assert_eq!(
        serde_json::to_value(&chunk).expect("json"),
        json!({"i": 8, "t": 7, "e": [["q", "form-6", {"colour": "blue"}], ["n", "decide"],
               ["e", "COMPLETED_PROCESS_ERROR", null, ["boom"]]], "ts": [[2, 9]]})
    );
    // A start without a token name keeps its place (`null`) before the step seed; one recorded
    // before seeds has neither.
    let started = |step_seed| HistoryEvent {
        index: 0,
        at_ms: 7,
        kind: EventKind::InstanceStarted {
            instance_id: "I".into(),
            definition: DefinitionRef {
                name: "d".into(),
                version: 1,
                content_hash: "h".into(),
            },
            token_name: None,
            token: json!({}),
            step_seed,
        },
    };
    let seeded = HistoryChunkRecord::new(vec![started(Some(StepSeed::from_bytes([0x0f; 16])))])
        .expect("non-empty");
    assert_eq!(
        serde_json::to_value(&seeded).expect("json")["e"][0],
        json!(["s", "I", "d", 1, "h", {}, null, "0f".repeat(16)])
    );
    let legacy = HistoryChunkRecord::new(vec![started(None)]).expect("non-empty");
    assert_eq!(
        serde_json::to_value(&legacy).expect("json")["e"][0],
        json!(["s", "I", "d", 1, "h", {}])
    );
    for chunk in [seeded, legacy] {
        let bytes = idflow_store::encode_record(&chunk).expect("encode");
        let back: HistoryChunkRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
        assert_eq!(back, chunk);
    }
    let bad = json!({"i": 0, "t": 1, "e": [["s", "I", "d", 1, "h", {}, null, "xyz"]]});
    let mut bytes = vec![2u8];
    bytes.extend(serde_json::to_vec(&bad).expect("json"));
    let err = idflow_store::decode_record::<HistoryChunkRecord>(b"k", &bytes).expect_err("refused");
    assert!(err.to_string().contains("step seed"), "{err}");
    // A BLAKE3 seed is written with its kind; a seed of a kind this build does not know is
    // refused by name, without its digits.
    let keyed =
        HistoryChunkRecord::new(vec![started(Some(StepSeed::keyed([0x0f; 32])))]).expect("one");
    assert_eq!(
        serde_json::to_value(&keyed).expect("json")["e"][0],
        json!([
            "s",
            "I",
            "d",
            1,
            "h",
            {},
            null,
            format!("blake3:{}", "0f".repeat(32))
        ])
    );
    let bytes = idflow_store::encode_record(&keyed).expect("encode");
    let back: HistoryChunkRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
    assert_eq!(back, keyed);
    for (seed, needle) in [
        (
            format!("sha3:{}", "0f".repeat(32)),
            "the step seed's kind 'sha3' is unknown",
        ),
        (
            format!(":{}", "0f".repeat(32)),
            "the step seed's kind is unknown",
        ),
        (
            format!("blake3:{}", "0f".repeat(16)),
            "blake3 step seed is not 64",
        ),
    ] {
        let bad = json!({"i": 0, "t": 1, "e": [["s", "I", "d", 1, "h", {}, null, seed]]});
        let mut bytes = vec![2u8];
        bytes.extend(serde_json::to_vec(&bad).expect("json"));
        let err =
            idflow_store::decode_record::<HistoryChunkRecord>(b"k", &bytes).expect_err("refused");
        assert!(err.to_string().contains(needle), "{err}");
        assert!(!err.to_string().contains("0f0f"), "{err}");
    }
}

#[test]
fn damaged_chunks_name_the_event_at_fault() {
    let cases = [
        (json!({"t": 1, "e": []}), "`i`"),
        (
            json!({"i": 0, "t": 1, "e": [["zz"]]}),
            "event 0: unknown event tag 'zz'",
        ),
        (
            json!({"i": 3, "t": 1, "e": [["n", "a"], ["n"]]}),
            "event 4: `n` event lacks its node",
        ),
        (
            json!({"i": 0, "t": 1, "e": [["a", "x", "teleport", {}]]}),
            "unknown activity type 'teleport'",
        ),
        (
            json!({"i": 0, "t": 1, "e": [["e", "DONE"]]}),
            "unknown status 'DONE'",
        ),
        (
            json!({"i": 0, "t": 1, "e": [["c", "x", [["processvar..a", 1]]]]}),
            "bad variable path",
        ),
        (
            json!({"i": 0, "t": 1, "e": [["n", "a"]], "ts": [[5, 2]]}),
            "`ts` entry [5,2] names no event",
        ),
        (json!({"i": 0, "t": 1, "e": [7]}), "is not a list"),
    ];
    for (doc, needle) in cases {
        let mut bytes = vec![2u8];
        bytes.extend(serde_json::to_vec(&doc).expect("json"));
        match idflow_store::decode_record::<HistoryChunkRecord>(b"h/x", &bytes) {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "h/x");
                assert!(reason.contains(needle), "{doc}: {reason}");
            }
            other => panic!("{doc}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn exported_events_carry_index_time_and_kind_tag() {
    let event = HistoryEvent {
        index: 0,
        at_ms: 42,
        kind: EventKind::NodeEntered { node: "n".into() },
    };
    let json = serde_json::to_value(ExportedEvent::from_engine(&event)).expect("json");
    assert_eq!(json, json!({"i": 0, "t": 42, "k": "entered", "n": "n"}));
}

#[test]
fn export_reader_refuses_other_formats_and_versions() {
    let cases = [
        (
            json!({"format": "other", "version": 1}),
            "`format` is \"other\"",
        ),
        (json!({"version": 1}), "`format` is missing"),
        (
            json!({"format": "idflow-history", "version": 2}),
            "`version` is 2",
        ),
        (
            json!({"format": "idflow-history", "version": 1, "instance": "I", "tenant": "t",
                   "events": [{"i": 0, "t": 1, "k": "teleported"}]}),
            "not an idflow history",
        ),
    ];
    for (doc, needle) in cases {
        let err = HistoryExport::from_json(doc.to_string().as_bytes()).expect_err("refused");
        assert!(err.contains(needle), "{doc}: {err}");
    }
    let bad_status = HistoryExport::from_json(
        json!({"format": "idflow-history", "version": 1, "instance": "I", "tenant": "t",
               "events": [{"i": 0, "t": 1, "k": "ended", "st": "DONE"}]})
        .to_string()
        .as_bytes(),
    )
    .expect("shape is fine");
    assert!(bad_status
        .events()
        .expect_err("status")
        .contains("unknown status 'DONE'"));
}

#[test]
fn instance_state_round_trips_through_its_record() {
    let mut instance = Instance::new("UGIRW7QN727EIV2XLXG4YH42N4");
    instance.variables = json!({"token": {"a": 1}, "s": "secret"});
    instance.secret_paths.insert(VarPath::keys(&["s"]));
    instance.lifecycle = Lifecycle::AtStep {
        node: "form".into(),
        step_id: "form-6".into(),
        timers: vec![ArmedTimer {
            timer_id: "t".into(),
            boundary: "b".into(),
            due_ms: 99,
        }],
        path_mark: PathMark::TimedOut,
    };
    instance.next_event = 7;
    let meta = InstanceMeta {
        tenant: "acme".into(),
        definition: "reg".into(),
        version: 2,
        token_name: None,
        started_ms: 5,
    };
    // Stored before step seeds existed: none comes back.
    let record = InstanceRecord::from_engine(&instance, &meta, 6, None, None);
    let bytes = idflow_store::encode_record(&record).expect("encode");
    let decoded: InstanceRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
    assert_eq!(
        decoded.to_engine(&instance.id, b"k").expect("engine"),
        instance
    );
    assert_eq!(decoded.meta(), meta);
    instance.step_seed = Some(StepSeed::from_bytes([0x5a; StepSeed::LEN]));
    let record = InstanceRecord::from_engine(&instance, &meta, 6, None, None);
    assert_eq!(record.step_seed.as_deref(), Some("5a".repeat(16).as_str()));
    let bytes = idflow_store::encode_record(&record).expect("encode");
    let decoded: InstanceRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
    assert_eq!(
        decoded.to_engine(&instance.id, b"k").expect("engine"),
        instance
    );
    let mut damaged = decoded.clone();
    damaged.step_seed = Some("not hex".into());
    let err = damaged.to_engine(&instance.id, b"k").expect_err("refused");
    assert!(err.to_string().contains("step seed"), "{err}");
    // The kind new instances get round-trips with its kind; an unknown kind is refused by name.
    instance.step_seed = Some(StepSeed::keyed([0x5a; StepSeed::KEYED_LEN]));
    let record = InstanceRecord::from_engine(&instance, &meta, 6, None, None);
    let text = format!("blake3:{}", "5a".repeat(32));
    assert_eq!(record.step_seed.as_deref(), Some(text.as_str()));
    let bytes = idflow_store::encode_record(&record).expect("encode");
    let decoded: InstanceRecord = idflow_store::decode_record(b"k", &bytes).expect("decode");
    assert_eq!(
        decoded.to_engine(&instance.id, b"k").expect("engine"),
        instance
    );
    let mut unknown = decoded.clone();
    unknown.step_seed = Some(format!("chacha:{}", "5a".repeat(32)));
    match unknown.to_engine(&instance.id, b"i/I") {
        Err(StoreError::Corrupt { key, reason }) => {
            assert_eq!(key, "i/I");
            assert!(
                reason.contains("the step seed's kind 'chacha' is unknown"),
                "{reason}"
            );
            assert!(!reason.contains("5a5a"), "{reason}");
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("an unknown seed kind was read"),
    }

    // Every other stage of the lifecycle, every ending with what its status has.
    let error = InstanceError {
        node: None,
        message: "m".into(),
    };
    let outcome = || "Done".to_string();
    for lifecycle in [
        Lifecycle::NotStarted,
        Lifecycle::AwaitingActivity {
            node: "add".into(),
            path_mark: PathMark::ErrorPath,
        },
        Lifecycle::Ended {
            ending: Ending::ProcessError { error },
            path_mark: PathMark::ErrorPath,
        },
        Lifecycle::Ended {
            ending: Ending::EndedSuccess { outcome: outcome() },
            path_mark: PathMark::Normal,
        },
        Lifecycle::Ended {
            ending: Ending::EndedError { outcome: outcome() },
            path_mark: PathMark::ErrorPath,
        },
        Lifecycle::Ended {
            ending: Ending::Terminated {
                outcome: Some(outcome()),
            },
            path_mark: PathMark::TimedOut,
        },
        Lifecycle::Ended {
            ending: Ending::Terminated { outcome: None },
            path_mark: PathMark::Normal,
        },
    ] {
        let mut other = instance.clone();
        other.lifecycle = lifecycle;
        let r = InstanceRecord::from_engine(&other, &meta, 6, None, None);
        assert_eq!(r.to_engine(&other.id, b"k").expect("engine"), other);
    }
}

/// The lifecycle is stored in the fields it always was (`s`, `p`, `tm`, `o`, `e`, `m`), each
/// written only when it has something to say.
#[test]
fn the_lifecycle_is_stored_in_the_instance_record_layout() {
    let meta = InstanceMeta {
        tenant: "t".into(),
        definition: "d".into(),
        version: 1,
        token_name: None,
        started_ms: 0,
    };
    let mut instance = Instance::new("I");
    let fields = |instance: &Instance| {
        let record = InstanceRecord::from_engine(instance, &meta, 0, None, None);
        let mut json = serde_json::to_value(&record).expect("json");
        let map = json.as_object_mut().expect("object");
        map.retain(|k, _| ["s", "p", "tm", "o", "e", "m"].contains(&k.as_str()));
        json
    };
    assert_eq!(fields(&instance), json!({"s": "ACTIVE", "p": {"k": "new"}}));
    instance.lifecycle = Lifecycle::AtStep {
        node: "form".into(),
        step_id: "S".into(),
        timers: vec![ArmedTimer {
            timer_id: "t-4".into(),
            boundary: "t".into(),
            due_ms: 99,
        }],
        path_mark: PathMark::ErrorPath,
    };
    assert_eq!(
        fields(&instance),
        json!({"s": "ACTIVE", "p": {"k": "step", "n": "form", "s": "S"},
               "tm": [{"tm": "t-4", "b": "t", "due": 99}], "m": "e"})
    );
    instance.lifecycle = Lifecycle::Ended {
        ending: Ending::ProcessError {
            error: InstanceError {
                node: Some("add".into()),
                message: "boom".into(),
            },
        },
        path_mark: PathMark::TimedOut,
    };
    assert_eq!(
        fields(&instance),
        json!({"s": "COMPLETED_PROCESS_ERROR", "p": {"k": "end"},
               "e": {"n": "add", "msg": "boom"}, "m": "t"})
    );
    instance.lifecycle = Lifecycle::Ended {
        ending: Ending::Terminated {
            outcome: Some("Timed out".into()),
        },
        path_mark: PathMark::TimedOut,
    };
    assert_eq!(
        fields(&instance),
        json!({"s": "COMPLETED_TERMINATED", "p": {"k": "end"}, "o": "Timed out", "m": "t"})
    );
}

#[test]
fn damaged_instance_records_are_named_not_guessed() {
    let meta = InstanceMeta {
        tenant: "t".into(),
        definition: "d".into(),
        version: 1,
        token_name: None,
        started_ms: 0,
    };
    let good = InstanceRecord::from_engine(&Instance::new("I"), &meta, 0, None, None);
    let mut bad_status = good.clone();
    bad_status.status = "RUNNING".into();
    let mut bad_path = good.clone();
    bad_path.secret_paths = vec!["processvar..x".into()];
    let mut bad_mark = good;
    bad_mark.path_mark = Some("z".into());
    for (record, needle) in [
        (bad_status, "unknown instance status 'RUNNING'"),
        (bad_path, "bad variable path"),
        (bad_mark, "unknown path mark 'z'"),
    ] {
        match record.to_engine("I", b"i/I") {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "i/I");
                assert!(reason.contains(needle), "{reason}");
            }
            Err(other) => panic!("expected Corrupt, got {other}"),
            Ok(_) => panic!("expected Corrupt for {needle}"),
        }
    }
}

/// A stored instance record whose lifecycle fields disagree (a record the engine cannot have
/// written) is refused on its way into the engine, naming the field at fault, instead of
/// becoming a state the engine cannot be in.
#[test]
fn an_instance_record_whose_lifecycle_fields_disagree_is_refused_naming_the_field() {
    let timer = json!([{"tm": "t-4", "b": "t", "due": 99}]);
    let step = json!({"k": "step", "n": "form", "s": "S"});
    let error = json!({"n": "add", "msg": "boom"});
    let cases = [
        (
            json!({"s": "COMPLETED_TERMINATED", "p": {"k": "end"}, "tm": timer}),
            LifecycleMismatch::TimersOffStep {
                count: 1,
                position: "has ended",
            },
        ),
        (
            json!({"s": "ACTIVE", "p": {"k": "act", "n": "add"}, "tm": timer}),
            LifecycleMismatch::TimersOffStep {
                count: 1,
                position: "awaits an activity",
            },
        ),
        (
            json!({"s": "COMPLETED_ENDED_SUCCESS", "p": {"k": "end"}, "o": "Done", "e": error}),
            LifecycleMismatch::UnexpectedError {
                status: Status::CompletedEndedSuccess,
            },
        ),
        (
            json!({"s": "ACTIVE", "p": step, "e": error}),
            LifecycleMismatch::UnexpectedError {
                status: Status::Active,
            },
        ),
        (
            json!({"s": "COMPLETED_PROCESS_ERROR", "p": {"k": "end"}}),
            LifecycleMismatch::MissingError,
        ),
        (
            json!({"s": "COMPLETED_PROCESS_ERROR", "p": {"k": "end"}, "o": "Done", "e": error}),
            LifecycleMismatch::UnexpectedOutcome {
                status: Status::CompletedProcessError,
            },
        ),
        (
            json!({"s": "ACTIVE", "p": step, "o": "Done"}),
            LifecycleMismatch::UnexpectedOutcome {
                status: Status::Active,
            },
        ),
        (
            json!({"s": "COMPLETED_ENDED_ERROR", "p": {"k": "end"}}),
            LifecycleMismatch::MissingOutcome {
                status: Status::CompletedEndedError,
            },
        ),
        (
            json!({"s": "ACTIVE", "p": {"k": "end"}}),
            LifecycleMismatch::Status {
                status: Status::Active,
                position: "has ended",
            },
        ),
        (
            json!({"s": "COMPLETED_TERMINATED", "p": step}),
            LifecycleMismatch::Status {
                status: Status::CompletedTerminated,
                position: "rests at a step",
            },
        ),
        (
            json!({"s": "ACTIVE", "p": {"k": "new"}, "m": "t"}),
            LifecycleMismatch::PathMarkBeforeStart,
        ),
    ];
    for (fields, expected) in cases {
        let mut stored = json!({"t": "acme", "d": "reg", "v": 1, "x": {}, "n": 9, "c": 5, "u": 6});
        for (k, v) in fields.as_object().expect("object") {
            stored[k] = v.clone();
        }
        // As it lies in the store: the record's version byte, then its JSON.
        let mut bytes = vec![InstanceRecord::VERSION];
        bytes.extend(serde_json::to_vec(&stored).expect("json"));
        let record: InstanceRecord = idflow_store::decode_record(b"i/I", &bytes).expect("decodes");

        let status = record.status(b"i/I").expect("status");
        let mark = match record.path_mark.as_deref() {
            Some("t") => PathMark::TimedOut,
            _ => PathMark::Normal,
        };
        assert_eq!(
            record.lifecycle(status, mark),
            Err(expected.clone()),
            "{fields}"
        );
        match record.to_engine("I", b"i/I") {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "i/I");
                assert_eq!(reason, expected.to_string());
                let field = format!("field `{}`", expected.field());
                assert!(reason.starts_with(&field), "{reason} names {field}");
            }
            Err(other) => panic!("{fields}: expected Corrupt, got {other}"),
            Ok(_) => panic!("{fields}: expected Corrupt naming `{}`", expected.field()),
        }
    }
}
