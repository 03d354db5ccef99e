//! Every shipped flow run 100 times through the runtime (real activities, temporary stores),
//! cycling through its paths with a different seed and clock each time: every exported history
//! replays exactly, against the shipped definition and against the copy it embeds, and holds
//! none of the secrets the run created (passcodes, SRP verifiers, the client's ephemeral `a`,
//! proofs, session keys, TOTP seeds) in any encoding.

use std::collections::BTreeSet;
use std::path::PathBuf;

use idflow_replay::{Against, Outcome, Replayer};
use idflow_testkit::corpus::{self, record, scenarios_of};

const RUNS_PER_FLOW: u64 = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_flow(flow: &str, flow_number: u64) {
    let shipped = Replayer::new(&Against::Definitions(root().join("definitions")))
        .expect("definitions/ loads");
    let embedded = Replayer::new(&Against::Recorded).expect("no files to load");
    let paths = scenarios_of(flow);
    assert!(!paths.is_empty(), "{flow} has recorded paths");
    let mut instances = BTreeSet::new();
    let mut starts = BTreeSet::new();
    let mut secrets_searched = 0;
    for run in 0..RUNS_PER_FLOW {
        let scenario = paths[(run as usize) % paths.len()];
        let seed = 0x5EED_0000 + flow_number * 1_000 + run;
        let recording =
            record(scenario, seed).unwrap_or_else(|e| panic!("{} seed {seed}: {e}", scenario.id()));
        let text = recording
            .to_json()
            .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", scenario.id()));
        let leaks = recording.leaks(&text);
        assert!(
            leaks.is_empty(),
            "{} seed {seed}: the export holds {leaks:?}",
            scenario.id()
        );
        secrets_searched += recording.secrets().len();
        let label = format!("{} seed {seed}", scenario.id());
        for replayer in [&shipped, &embedded] {
            let report = replayer.replay_bytes(&label, text.as_bytes());
            match &report.outcome {
                Outcome::Replayed(done) => {
                    assert_eq!(done.status, scenario.status, "{report}");
                    assert_eq!(done.end_node.as_deref(), scenario.end, "{report}");
                    assert_eq!(done.events, recording.export.events.len(), "{report}");
                }
                _ => panic!("{report}"),
            }
        }
        instances.insert(recording.export.instance.clone());
        if let Some(first) = recording.export.events.first() {
            starts.insert(first.at_ms);
        }
    }
    assert_eq!(
        instances.len() as u64,
        RUNS_PER_FLOW,
        "{flow}: every seed draws its own IDs"
    );
    assert_eq!(
        starts.len() as u64,
        RUNS_PER_FLOW,
        "{flow}: every seed has its own clock"
    );
    assert!(
        secrets_searched > 0,
        "{flow}: the runs created secrets to search for"
    );
}

#[test]
fn passcode_registration_runs_replay() {
    run_flow("passcode-registration", 1);
}

#[test]
fn passcode_renewal_runs_replay() {
    run_flow("passcode-renewal", 2);
}

#[test]
fn passcode_authentication_runs_replay() {
    run_flow("passcode-authentication", 3);
}

#[test]
fn passcode_deregistration_runs_replay() {
    run_flow("passcode-deregistration", 4);
}

#[test]
fn totp_registration_runs_replay() {
    run_flow("totp-registration", 5);
}

#[test]
fn current_totp_runs_replay() {
    run_flow("current-totp", 6);
}

#[test]
fn every_flow_is_run() {
    let tested = [
        "passcode-registration",
        "passcode-renewal",
        "passcode-authentication",
        "passcode-deregistration",
        "totp-registration",
        "current-totp",
    ];
    assert_eq!(corpus::flows(), tested);
}

/// The secret search is not vacuous: the recordings hold the secrets of their paths, and a
/// secret planted in an export in any of its spellings is found.
#[test]
fn the_secret_search_finds_planted_secrets() {
    let renewal = corpus::scenarios()
        .iter()
        .find(|s| s.id() == "passcode-registration.already-registered-renews")
        .expect("scenario");
    let recording = record(renewal, 7).expect("records");
    let kinds: BTreeSet<&str> = recording.secrets().iter().map(|s| s.what).collect();
    for kind in [
        "a passcode",
        "an SRP verifier",
        "the SRP client's ephemeral a",
        "an SRP session key",
        "an SRP proof M1",
    ] {
        assert!(
            kinds.contains(kind),
            "the renewal run keeps {kind}: {kinds:?}"
        );
    }
    let totp = corpus::scenarios()
        .iter()
        .find(|s| s.id() == "current-totp.shown")
        .expect("scenario");
    let shown = record(totp, 7).expect("records");
    assert!(shown.secrets().iter().any(|s| s.what == "a TOTP seed"));

    let text = recording.to_json().expect("json");
    assert!(recording.leaks(&text).is_empty());
    for secret in recording.secrets() {
        let spellings = secret.spellings();
        assert!(!spellings.is_empty(), "{secret:?} has spellings");
        for spelling in spellings {
            let planted = text.replacen("\"secret:hmac-sha256:", &format!("\"{spelling}"), 1);
            assert_eq!(
                recording.leaks(&planted).first().copied(),
                Some(secret.what),
                "{secret:?} planted in one of its spellings is found"
            );
        }
    }
    // Debug output of recordings and secrets shows no secret.
    let debug = format!("{recording:?} {:?}", recording.secrets());
    assert!(recording.leaks(&debug).is_empty(), "{debug}");
}
