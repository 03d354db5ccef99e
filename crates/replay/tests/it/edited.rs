//! Histories edited by hand are refused with a message naming the fault (truncated, an event
//! moved, a bad version, malformed JSON, a start event or embedded definition that contradicts
//! the file), or diverge when the edit still reads as a history; nothing panics, whatever the
//! bytes (a seeded fuzz of byte and structure mutations).

use std::path::PathBuf;

use idflow_replay::{Against, Outcome, Refusal, Replayer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A history with an answered step, a timer, boundaries and a gateway: 31 events.
fn original() -> Vec<u8> {
    let path = root().join("tests/replay/passcode-registration.already-registered-renews.json");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn document() -> Value {
    serde_json::from_slice(&original()).expect("the corpus history is JSON")
}

fn events(doc: &mut Value) -> &mut Vec<Value> {
    doc["events"].as_array_mut().expect("events")
}

fn bytes(doc: &Value) -> Vec<u8> {
    serde_json::to_vec(doc).expect("json")
}

fn edit(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut doc = document();
    f(&mut doc);
    bytes(&doc)
}

/// Renumbers `i` to match positions, so only the order is wrong.
fn renumber(doc: &mut Value) {
    for (i, event) in events(doc).iter_mut().enumerate() {
        event["i"] = json!(i);
    }
}

type Check = fn(&Refusal) -> bool;

#[test]
fn edited_histories_are_refused_with_a_message_naming_the_fault() {
    let replayer = Replayer::new(&Against::Recorded).expect("replayer");
    let full = original();
    let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
        (
            "cut in the middle of the file",
            full[..full.len() / 2].to_vec(),
            |r| matches!(r, Refusal::NotJson(_)),
            "EOF while parsing",
        ),
        (
            "empty file",
            Vec::new(),
            |r| matches!(r, Refusal::NotJson(_)),
            "not valid JSON",
        ),
        (
            "garbage",
            b"{\"format\": \"idflow-history\", \"version\": 1,, }".to_vec(),
            |r| matches!(r, Refusal::NotJson(_)),
            "line 1 column",
        ),
        (
            "an array",
            b"[1, 2]".to_vec(),
            |r| matches!(r, Refusal::NotAHistory(_)),
            "the document is an array",
        ),
        (
            "another format",
            edit(|d| d["format"] = json!("camunda-history")),
            |r| matches!(r, Refusal::NotAHistory(_)),
            "`format` is \"camunda-history\", expected \"idflow-history\"",
        ),
        (
            "format missing",
            edit(|d| {
                d.as_object_mut().map(|m| m.remove("format"));
            }),
            |r| matches!(r, Refusal::NotAHistory(_)),
            "`format` is missing",
        ),
        (
            "a future version",
            edit(|d| d["version"] = json!(2)),
            |r| matches!(r, Refusal::UnsupportedVersion(_)),
            "`version` is 2; this build reads version 1",
        ),
        (
            "a version as text",
            edit(|d| d["version"] = json!("1")),
            |r| matches!(r, Refusal::UnsupportedVersion(_)),
            "`version` is \"1\"",
        ),
        (
            "an unknown event kind",
            edit(|d| events(d)[3]["k"] = json!("teleported")),
            |r| matches!(r, Refusal::NotAHistory(_)),
            "teleported",
        ),
        (
            "two events swapped",
            edit(|d| events(d).swap(5, 6)),
            |r| matches!(r, Refusal::OutOfOrder(_)),
            "the event at position 5 has index 6",
        ),
        (
            "an event removed",
            edit(|d| {
                events(d).remove(9);
            }),
            |r| matches!(r, Refusal::OutOfOrder(_)),
            "position 9 has index 10 (an event before it is missing, or it was moved)",
        ),
        (
            "an event duplicated",
            edit(|d| {
                let copy = events(d)[4].clone();
                events(d).insert(5, copy);
            }),
            |r| matches!(r, Refusal::OutOfOrder(_)),
            "position 5 has index 4 (it was moved or duplicated)",
        ),
        (
            "cut inside a transition",
            edit(|d| events(d).truncate(23)),
            |r| matches!(r, Refusal::Truncated(_)),
            "it stops at event 22 (`scheduled`), inside a transition",
        ),
        (
            "its end removed",
            edit(|d| {
                events(d).pop();
            }),
            |r| matches!(r, Refusal::Truncated(_)),
            "it stops at event 29 (`entered`)",
        ),
        (
            "no events",
            edit(|d| events(d).clear()),
            |r| matches!(r, Refusal::Truncated(_)),
            "it has no events",
        ),
        (
            "the start moved",
            edit(|d| {
                events(d).swap(0, 1);
                renumber(d);
            }),
            |r| matches!(r, Refusal::Inconsistent(_)),
            "event 0 is `entered`; a history opens with `started`",
        ),
        (
            "another instance's start",
            edit(|d| events(d)[0]["id"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAA")),
            |r| matches!(r, Refusal::Inconsistent(_)),
            "its start event names instance AAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        (
            "events after the end",
            edit(|d| {
                let extra = json!({"i": 31, "t": 1, "k": "entered", "n": "start"});
                events(d).push(extra);
            }),
            |r| matches!(r, Refusal::Inconsistent(_)),
            "event 30 is `ended`, but 1 more event(s) follow it",
        ),
        (
            "the embedded definition edited",
            edit(|d| {
                let source = d["definition"]["source"].as_str().unwrap_or_default();
                d["definition"]["source"] = json!(source.replace("Passcode registered", "Done"));
            }),
            |r| matches!(r, Refusal::Inconsistent(_)),
            "it was edited",
        ),
        (
            "the embedded definition of another version",
            edit(|d| d["definition"]["hash"] = json!("0".repeat(64))),
            |r| matches!(r, Refusal::Inconsistent(_)),
            "but the start event names 'passcode-registration'",
        ),
        (
            "no embedded definition",
            edit(|d| {
                d.as_object_mut().map(|m| m.remove("definition"));
            }),
            |r| matches!(r, Refusal::DefinitionNotFound(_)),
            "the history embeds no definition",
        ),
        (
            "an embedded definition that does not load",
            edit(|d| {
                let bad = "<not-bpmn/>";
                d["definition"]["source"] = json!(bad);
                let hash = sha256_hex(bad.as_bytes());
                d["definition"]["hash"] = json!(hash);
                events(d)[0]["def"]["h"] = json!(hash);
            }),
            |r| matches!(r, Refusal::DefinitionInvalid { .. }),
            "does not load",
        ),
    ];
    for (what, bytes, check, needle) in cases {
        let report = replayer.replay_bytes(what, &bytes);
        let refusal = report
            .refusal()
            .unwrap_or_else(|| panic!("{what}: not refused:\n{report}"));
        assert!(check(refusal), "{what}: wrong kind of refusal: {refusal:?}");
        let message = refusal.to_string();
        assert!(message.contains(needle), "{what}: {message}");
        assert!(
            report.to_string().contains(&message),
            "{what}: the report shows it"
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

#[test]
fn edits_that_still_read_as_a_history_diverge_at_the_edit() {
    let replayer = Replayer::new(&Against::Recorded).expect("replayer");
    let cases: Vec<(&str, Vec<u8>, u64)> = vec![
        (
            "two events swapped and renumbered",
            edit(|d| {
                events(d).swap(1, 2);
                renumber(d);
            }),
            1,
        ),
        (
            "a gateway choice edited",
            edit(|d| events(d)[28]["f"] = json!("notPassed")),
            28,
        ),
        (
            "an answer to another step",
            edit(|d| events(d)[19]["s"] = json!("renewalForm-3")),
            19,
        ),
        (
            "the outcome relabelled",
            edit(|d| events(d)[30]["o"] = json!("Something else")),
            30,
        ),
    ];
    for (what, bytes, index) in cases {
        let report = replayer.replay_bytes(what, &bytes);
        let divergence = report
            .divergence()
            .unwrap_or_else(|| panic!("{what}: did not diverge:\n{report}"));
        assert_eq!(divergence.index, index, "{what}:\n{report}");
    }
}

/// Byte flips, cuts, insertions of JSON punctuation, and structural edits (fields replaced by
/// random JSON) of a real history: every outcome is a report, never a panic.
#[test]
fn no_mutation_of_a_history_panics() {
    let replayer = Replayer::new(&Against::Definitions(root().join("definitions")))
        .expect("definitions/ loads");
    let full = original();
    let doc = document();
    let mut rng = ChaCha20Rng::seed_from_u64(0xF022);
    let mut outcomes = [0usize; 3];
    for round in 0..400 {
        let bytes = if round % 2 == 0 {
            let mut bytes = full.clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bytes.len());
                match rng.gen_range(0..4) {
                    0 => bytes[at] ^= 1 << rng.gen_range(0..8),
                    1 => bytes.truncate(at),
                    2 => bytes.insert(at, b"{}[],:\"0\\"[rng.gen_range(0..9)]),
                    _ => {
                        bytes.remove(at.min(bytes.len().saturating_sub(1)));
                    }
                }
                if bytes.is_empty() {
                    break;
                }
            }
            bytes
        } else {
            let mut edited = doc.clone();
            let count = events(&mut edited).len();
            let event = rng.gen_range(0..count);
            let replacement = match rng.gen_range(0..6) {
                0 => json!(null),
                1 => json!(-1),
                2 => json!(u64::MAX),
                3 => json!("renewalForm-17"),
                4 => json!({"k": "ended"}),
                _ => json!([1, "x", {}]),
            };
            let fields: Vec<String> = events(&mut edited)[event]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let field = fields[rng.gen_range(0..fields.len())].clone();
            events(&mut edited)[event][field] = replacement;
            bytes_of(&edited)
        };
        let report = replayer.replay_bytes(&format!("mutation {round}"), &bytes);
        let _ = report.to_string();
        outcomes[match report.outcome {
            Outcome::Replayed(_) => 0,
            Outcome::Diverged(_) => 1,
            Outcome::Refused(_) => 2,
        }] += 1;
    }
    // The mutations reach past the parser: some diverge rather than being refused.
    assert!(
        outcomes[2] > 0 && outcomes[1] + outcomes[0] > 0,
        "{outcomes:?}"
    );
}

fn bytes_of(doc: &Value) -> Vec<u8> {
    bytes(doc)
}
