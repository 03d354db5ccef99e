//! Deliberately changed copies of shipped definitions (`tests/replay/changed/*.bpmn`) against
//! the recorded corpus, as `tests/replay/changed/expectations.json` says: the divergent changes
//! (a flipped gateway condition, a removed activity, a re-routed error boundary, a changed
//! parameter) diverge at the listed event with the listed nodes; the harmless ones (renamed
//! labels, a new branch never taken, a moved diagram) replay every history of their flow.

use std::collections::BTreeMap;
use std::path::PathBuf;

use idflow_replay::{Against, Outcome, Relation, Replayer, VariableComparison};
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Deserialize)]
struct Expectations {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    definition: String,
    change: String,
    #[serde(default)]
    harmless: bool,
    #[serde(default)]
    diverges: BTreeMap<String, Expected>,
}

#[derive(Deserialize)]
struct Expected {
    event: u64,
    expected: String,
    reached: String,
    /// Event fields that must be among those that differ.
    #[serde(default)]
    fields: Vec<String>,
}

fn expectations() -> Expectations {
    let path = root().join("tests/replay/changed/expectations.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn changed_definitions_diverge_or_replay_as_expected() {
    let expectations = expectations();
    assert!(
        expectations.cases.iter().filter(|c| c.harmless).count() >= 3
            && expectations.cases.iter().filter(|c| !c.harmless).count() >= 3,
        "the manifest keeps harmless and divergent cases"
    );
    let histories = root().join("tests/replay");
    for case in &expectations.cases {
        assert!(
            case.harmless == case.diverges.is_empty(),
            "{}: a case is harmless exactly when it lists no divergence",
            case.definition
        );
        let file = root().join("tests/replay/changed").join(&case.definition);
        let replayer =
            Replayer::new(&Against::Definition(file)).expect("the changed definition loads");
        let flow = case
            .definition
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut seen = 0;
        for path in idflow_replay::history_files(&histories).expect("the corpus can be listed") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !name.starts_with(&format!("{flow}.")) {
                continue;
            }
            seen += 1;
            let report = replayer
                .replay_file(&path)
                .expect("the history can be read");
            let context = format!("{} ({}) on {name}", case.definition, case.change);
            assert!(
                matches!(
                    report.definition.as_ref().map(|d| &d.relation),
                    Some(Relation::Changed { .. })
                ),
                "{context}: replayed as a changed definition"
            );
            match (case.diverges.get(&name), &report.outcome) {
                (None, Outcome::Replayed(_)) => {}
                (Some(want), Outcome::Diverged(got)) => {
                    let node =
                        |n: &Option<idflow_replay::NodeRef>| n.as_ref().map(|n| n.id.clone());
                    assert_eq!(got.index, want.event, "{context}: event index\n{report}");
                    assert_eq!(
                        node(&got.expected_node).as_deref(),
                        Some(want.expected.as_str()),
                        "{context}: expected node\n{report}"
                    );
                    assert_eq!(
                        node(&got.reached_node).as_deref(),
                        Some(want.reached.as_str()),
                        "{context}: reached node\n{report}"
                    );
                    for field in &want.fields {
                        assert!(
                            got.event_differences.iter().any(|d| &d.path == field),
                            "{context}: field {field} differs\n{report}"
                        );
                    }
                    assert!(
                        matches!(got.variables, VariableComparison::Compared(_)),
                        "{context}: the embedded recorded definition lets variables be compared"
                    );
                    let text = report.to_string();
                    assert!(
                        text.contains(&format!("first divergence at event {}", want.event))
                            && text.contains(&format!("expected node: '{}'", want.expected))
                            && text.contains(&format!("reached node:  '{}'", want.reached)),
                        "{context}: the report says it\n{text}"
                    );
                }
                (want, _) => panic!(
                    "{context}: expected {}, got\n{report}",
                    if want.is_some() {
                        "a divergence"
                    } else {
                        "a replay"
                    }
                ),
            }
        }
        assert!(
            seen >= 3,
            "{}: the corpus has histories of {flow}",
            case.definition
        );
    }
}

#[test]
fn a_changed_definition_in_a_folder_is_used_when_the_recorded_version_is_not_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        root().join("tests/replay/changed/passcode-registration.gateway-flipped.bpmn"),
        dir.path().join("passcode-registration.bpmn"),
    )
    .expect("copy");
    let replayer =
        Replayer::new(&Against::Definitions(dir.path().to_path_buf())).expect("the folder loads");
    let histories = root().join("tests/replay");
    let report = replayer
        .replay_file(&histories.join("passcode-registration.new-user.json"))
        .expect("readable");
    assert_eq!(report.divergence().map(|d| d.index), Some(20), "{report}");
    // A history of a flow the folder does not hold is refused, naming the folder and the flow.
    let other = replayer
        .replay_file(&histories.join("current-totp.shown.json"))
        .expect("readable");
    let refusal = other.refusal().map(ToString::to_string).unwrap_or_default();
    assert!(
        refusal.contains("no definition with process ID 'current-totp'"),
        "{other}"
    );
    // With the recorded version beside it, the recorded version wins.
    std::fs::copy(
        root().join("definitions/passcode-registration.bpmn"),
        dir.path().join("shipped.bpmn"),
    )
    .expect("copy");
    let both =
        Replayer::new(&Against::Definitions(dir.path().to_path_buf())).expect("the folder loads");
    let report = both
        .replay_file(&histories.join("passcode-registration.new-user.json"))
        .expect("readable");
    assert!(report.is_replayed(), "{report}");
    assert_eq!(
        report.definition.map(|d| d.relation),
        Some(Relation::Recorded)
    );
}

#[test]
fn a_definition_of_another_process_is_refused() {
    let replayer = Replayer::new(&Against::Definition(
        root().join("tests/replay/changed/passcode-authentication.activity-removed.bpmn"),
    ))
    .expect("loads");
    let report = replayer
        .replay_file(&root().join("tests/replay/passcode-registration.new-user.json"))
        .expect("readable");
    assert_eq!(
        report.refusal().map(ToString::to_string).as_deref(),
        Some("the history ran definition 'passcode-registration', but the definition given is 'passcode-authentication'")
    );
}
