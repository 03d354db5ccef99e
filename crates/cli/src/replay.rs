//! `idflow replay`: re-runs recorded instance histories (`idflow history export` output) against
//! their recorded definition version or a changed one, and reports each history that does not
//! replay with its first divergence, then a summary. Exit code 0 only when every history replays.
//!
//! The work is `idflow_replay`'s (its crate documentation says what counts as a divergence);
//! this module reads the arguments, shows progress and prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use idflow_replay::{history_files, Against, Outcome, Replayer, Summary};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
#[command(after_help = "\
Without --definition or --definitions each history is replayed against the definition embedded \
in it (the version it ran). With --definitions DIR, against the file in DIR with the recorded \
content hash if there is one (the recorded version), else against DIR's definition of the same \
process ID (a changed version). With --definition FILE, every history against FILE.

Renamed labels, moved diagrams and branches a history never took replay; a flipped gateway \
condition, a removed activity or a re-routed boundary diverges at the first event that differs.

Exit status: 0 when every history replays, 1 when one diverges or is refused (or the replay \
cannot run), 2 on a usage error.")]
pub struct Args {
    /// History files, or folders of them (every `*.json` directly inside).
    #[arg(required = true, value_name = "HISTORY")]
    histories: Vec<PathBuf>,
    /// Replay every history against this definition file (a changed version of its flow).
    #[arg(long, value_name = "FILE", conflicts_with = "definitions")]
    definition: Option<PathBuf>,
    /// Replay each history against the definition of the same process ID in this folder.
    #[arg(long, value_name = "DIR")]
    definitions: Option<PathBuf>,
    /// Also print a line for each history that replays.
    #[arg(short, long)]
    verbose: bool,
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    run(args, &mut std::io::stdout().lock())
}

/// The command, writing its report to `out`.
fn run(args: Args, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let against = match (args.definition, args.definitions) {
        (Some(file), _) => Against::Definition(file),
        (None, Some(dir)) => Against::Definitions(dir),
        (None, None) => Against::Recorded,
    };
    let replayer = Replayer::new(&against)?;
    let mut files = Vec::new();
    for path in &args.histories {
        if path.is_dir() {
            let found = history_files(path)?;
            if found.is_empty() {
                anyhow::bail!("{} holds no *.json history", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }

    let progress = if files.len() > 1 && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(files.len() as u64);
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .context("progress bar template")?;
        bar.set_style(style);
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut summary = Summary::default();
    for path in &files {
        progress.set_message(path.display().to_string());
        let text = match replayer.replay_file(path) {
            Ok(report) => {
                summary.add(&report.outcome);
                let replayed = matches!(report.outcome, Outcome::Replayed(_));
                (!replayed || args.verbose).then(|| report.to_string())
            }
            Err(e) => {
                // An unreadable file cannot replay: it counts as refused.
                summary.refused += 1;
                Some(format!("REFUSED {}\n  {e}", path.display()))
            }
        };
        if let Some(text) = text {
            progress
                .suspend(|| writeln!(out, "{}", text.trim_end()))
                .context("writing the report to stdout")?;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    writeln!(out, "{summary}").context("writing the report to stdout")?;
    Ok(if summary.all_replayed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use super::{run, Args};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn args(histories: Vec<PathBuf>, definition: Option<&str>, definitions: Option<&str>) -> Args {
        Args {
            histories,
            definition: definition.map(|d| root().join(d)),
            definitions: definitions.map(|d| root().join(d)),
            verbose: true,
        }
    }

    fn registration_histories() -> Vec<PathBuf> {
        idflow_replay::history_files(&root().join("tests/replay"))
            .expect("the corpus can be listed")
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("passcode-registration."))
            })
            .collect()
    }

    #[test]
    fn exit_status_says_whether_every_history_replays() {
        let corpus = vec![root().join("tests/replay")];
        let corpus_size = idflow_testkit::corpus::scenarios().len();
        let all = format!("{corpus_size} replayed, 0 diverged, 0 refused");
        let registrations = registration_histories().len();
        let renamed = format!("{registrations} replayed, 0 diverged, 0 refused");
        // How many registration histories the flipped gateway diverges: the manifest says.
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(root().join("tests/replay/changed/expectations.json"))
                .expect("the manifest can be read"),
        )
        .expect("the manifest is JSON");
        let flipped_diverged = manifest["cases"]
            .as_array()
            .and_then(|cases| {
                cases
                    .iter()
                    .find(|c| c["definition"] == "passcode-registration.gateway-flipped.bpmn")
            })
            .and_then(|c| c["diverges"].as_object())
            .map_or(0, |d| d.len());
        let flipped = format!(
            "{} replayed, {flipped_diverged} diverged, 0 refused",
            registrations - flipped_diverged
        );
        let cases: Vec<(&str, Args, ExitCode, Vec<&str>)> = vec![
            (
                "the corpus, embedded definitions",
                args(corpus.clone(), None, None),
                ExitCode::SUCCESS,
                vec![all.as_str()],
            ),
            (
                "the corpus against definitions/",
                args(corpus.clone(), None, Some("definitions")),
                ExitCode::SUCCESS,
                vec![
                    all.as_str(),
                    "REPLAYED",
                    "against the recorded version of 'current-totp'",
                ],
            ),
            (
                "a harmless change",
                args(
                    registration_histories(),
                    Some("tests/replay/changed/passcode-registration.label-renamed.bpmn"),
                    None,
                ),
                ExitCode::SUCCESS,
                vec![
                    renamed.as_str(),
                    "against a changed 'passcode-registration'",
                ],
            ),
            (
                "a flipped gateway",
                args(
                    registration_histories(),
                    Some("tests/replay/changed/passcode-registration.gateway-flipped.bpmn"),
                    None,
                ),
                ExitCode::from(1),
                vec![
                    flipped.as_str(),
                    "DIVERGED",
                    "first divergence at event 20",
                    "expected node: 'endRegistered' (Passcode registered)",
                    "reached node:  'endFailed' (Registration failed)",
                    "f: \"passed\" -> \"notPassed\"",
                ],
            ),
            (
                "a file that is no history",
                args(
                    vec![root().join("tests/replay/changed/expectations.json")],
                    None,
                    None,
                ),
                ExitCode::from(1),
                vec![
                    "REFUSED",
                    "`format` is missing",
                    "0 replayed, 0 diverged, 1 refused",
                ],
            ),
            (
                "a missing file",
                args(vec![root().join("tests/replay/no-such.json")], None, None),
                ExitCode::from(1),
                vec![
                    "REFUSED",
                    "no-such.json",
                    "0 replayed, 0 diverged, 1 refused",
                ],
            ),
        ];
        for (what, args, want, lines) in cases {
            let mut out = Vec::new();
            let got = run(args, &mut out).unwrap_or_else(|e| panic!("{what}: {e:#}"));
            let text = String::from_utf8_lossy(&out);
            assert_eq!(got, want, "{what}:\n{text}");
            for line in lines {
                assert!(text.contains(line), "{what}: no {line:?} in\n{text}");
            }
        }
    }

    #[test]
    fn a_definition_that_does_not_load_stops_the_replay_with_its_diagnostic() {
        let err = run(
            args(
                vec![root().join("tests/replay")],
                Some("tests/definitions/invalid/no-end.bpmn"),
                None,
            ),
            &mut Vec::new(),
        )
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(err.contains("no-end.bpmn does not load"), "{err}");
    }
}
