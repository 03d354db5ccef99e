//! `idflow validate` end to end: the built binary on the shipped definitions, broken files,
//! folders, JSON output and usage errors, checked against the loader's own diagnostics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Runs `idflow validate ARGS` from the repository root.
fn validate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idflow"))
        .arg("validate")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("idflow runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn the_shipped_definitions_are_valid() {
    let out = validate(&["definitions/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "6 files checked: 6 valid, 0 invalid (0 errors, 0 warnings)\n"
    );
}

#[test]
fn a_broken_file_gets_the_loaders_located_diagnostics_and_exit_1() {
    let file = "tests/definitions/invalid/gateways.bpmn";
    let out = validate(&[file, "definitions/current-totp.bpmn"]);
    assert_eq!(out.status.code(), Some(1));
    let loaded = idflow_defs::load_file(&repo_root().join(file));
    let expected: String = loaded
        .diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.source = file.to_string();
            format!("{d}\n")
        })
        .collect();
    let errors = loaded.errors().count();
    let warnings = loaded.warnings().count();
    assert!(errors > 0 && warnings > 0);
    assert_eq!(
        stdout(&out),
        format!(
            "{expected}2 files checked: 1 valid, 1 invalid ({errors} errors, {warnings} warning{})\n",
            if warnings == 1 { "" } else { "s" }
        )
    );
    assert!(stdout(&out)
        .starts_with("tests/definitions/invalid/gateways.bpmn:6:5: error[INVALID_DEFAULT]: "));
}

#[test]
fn json_output_carries_the_same_diagnostics() {
    let file = "tests/definitions/invalid/boundaries.bpmn";
    let out = validate(&[
        "--format",
        "json",
        file,
        "definitions/passcode-renewal.bpmn",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let loaded = idflow_defs::load_file(&repo_root().join(file));
    let bodies: Vec<_> = loaded
        .diagnostics
        .iter()
        .map(idflow_server::DiagnosticBody::from)
        .collect();
    let mut diagnostics = serde_json::to_value(bodies).expect("serializable");
    for d in diagnostics.as_array_mut().expect("array") {
        d["source"] = serde_json::json!(file);
    }
    assert_eq!(report["files"][0]["path"], file);
    assert_eq!(report["files"][0]["valid"], false);
    assert_eq!(report["files"][0]["diagnostics"], diagnostics);
    assert_eq!(report["files"][1]["valid"], true);
    assert_eq!(report["files"][1]["process_id"], "passcode-renewal");
    assert_eq!(report["files"][1]["diagnostics"], serde_json::json!([]));
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["invalid"], 1);
    assert_eq!(
        report["summary"]["errors"],
        serde_json::json!(loaded.errors().count())
    );
    let first = &report["files"][0]["diagnostics"][0];
    for field in [
        "severity",
        "code",
        "message",
        "source",
        "line",
        "column",
        "element_id",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
}

#[test]
fn folders_are_searched_recursively_for_bpmn_files_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let valid =
        std::fs::read(repo_root().join("tests/definitions/valid/minimal.bpmn")).expect("read");
    std::fs::write(nested.join("z.BPMN"), &valid).expect("write");
    std::fs::write(dir.path().join("a/y.bpmn"), b"<not-closed").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"not a definition").expect("write");
    std::fs::create_dir_all(dir.path().join(".hidden")).expect("mkdir");
    std::fs::write(dir.path().join(".hidden/x.bpmn"), b"ignored").expect("write");
    let root = dir.path().to_string_lossy().into_owned();
    let out = validate(&[&root]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let broken = dir.path().join("a/y.bpmn").display().to_string();
    assert!(
        text.starts_with(&format!("{broken}:1:1: error[XML_SYNTAX]: ")),
        "{text}"
    );
    assert!(
        text.ends_with("2 files checked: 1 valid, 1 invalid (1 error, 0 warnings)\n"),
        "{text}"
    );
    let json = validate(&["--format", "json", &root]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    let paths: Vec<String> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        paths,
        [nested.join("z.BPMN").display().to_string(), broken],
        "sorted by path components, hidden folders and other files skipped"
    );
}

#[test]
fn warnings_alone_keep_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo_root().join("tests/definitions/valid/minimal.bpmn"))
        .expect("read")
        .replace("isExecutable=\"true\"", "isExecutable=\"false\"");
    let file = dir.path().join("draft.bpmn");
    std::fs::write(&file, text).expect("write");
    let out = validate(&[&file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("warning[NOT_EXECUTABLE]"));
    assert!(stdout(&out).ends_with("1 file checked: 1 valid, 0 invalid (0 errors, 1 warning)\n"));
}

#[test]
fn unreadable_paths_and_empty_folders_are_errors() {
    let empty = tempfile::tempdir().expect("temp dir");
    let empty_path = empty.path().to_string_lossy().into_owned();
    let cases: [(&str, &str); 2] = [
        ("no/such/file.bpmn", "error[READ_ERROR]"),
        (&empty_path, "error[NO_DEFINITIONS]"),
    ];
    for (path, expected) in cases {
        let out = validate(&[path]);
        assert_eq!(out.status.code(), Some(1), "{path}");
        assert!(
            stdout(&out).starts_with(&format!("{path}:1:1: {expected}: ")),
            "{path}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let cases: [&[&str]; 3] = [
        &[],
        &["--format", "yaml", "definitions/"],
        &["--frobnicate", "definitions/"],
    ];
    for args in cases {
        let out = validate(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
