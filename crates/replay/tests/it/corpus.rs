//! The recorded corpus (`tests/replay`) replays against the shipped definitions
//! (`definitions/`): CI runs this on every build, so a change to a shipped flow that alters a
//! path some recorded instance took fails here, at the event where it diverges.

use std::collections::BTreeSet;
use std::path::PathBuf;

use idflow_replay::{history_files, replay_dir, Against, Outcome};
use idflow_testkit::corpus::{self, scenarios};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn histories() -> PathBuf {
    root().join("tests/replay")
}

#[test]
fn corpus_replays_against_the_shipped_definitions() {
    let report = replay_dir(
        histories(),
        &Against::Definitions(root().join("definitions")),
    )
    .expect("the corpus and definitions/ can be read");
    assert!(report.all_replayed(), "{report}");
    assert_eq!(report.reports.len(), scenarios().len(), "{report}");
}

#[test]
fn corpus_replays_against_the_definitions_it_embeds() {
    let report = replay_dir(histories(), &Against::Recorded).expect("the corpus can be read");
    assert!(report.all_replayed(), "{report}");
}

#[test]
fn corpus_holds_one_history_per_path_of_every_shipped_flow() {
    let on_disk: BTreeSet<String> = history_files(&histories())
        .expect("the corpus can be listed")
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let expected: BTreeSet<String> = scenarios().iter().map(|s| s.file_name()).collect();
    assert_eq!(
        on_disk, expected,
        "the corpus is out of date: cargo run -p idflow-testkit --example regenerate -- tests/replay"
    );
    let shipped: BTreeSet<String> = idflow_defs::find_definition_files(&root().join("definitions"))
        .expect("definitions/ can be listed")
        .iter()
        .filter_map(|p| p.file_stem().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let walked: BTreeSet<String> = corpus::flows().into_iter().map(String::from).collect();
    assert_eq!(walked, shipped, "every shipped flow has recorded paths");
}

#[test]
fn each_history_ends_where_its_path_says() {
    let report = replay_dir(histories(), &Against::Recorded).expect("the corpus can be read");
    for scenario in scenarios() {
        let file = scenario.file_name();
        let replayed = report
            .reports
            .iter()
            .find(|r| r.history.ends_with(&file))
            .unwrap_or_else(|| panic!("{file} is missing"));
        match &replayed.outcome {
            Outcome::Replayed(done) => {
                assert_eq!(done.status, scenario.status, "{file}: {}", scenario.path);
                assert_eq!(
                    done.end_node.as_deref(),
                    scenario.end,
                    "{file}: {}",
                    scenario.path
                );
            }
            other => panic!("{file} did not replay: {other:?}"),
        }
    }
}
