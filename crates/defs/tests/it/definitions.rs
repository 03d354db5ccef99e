//! File-driven tests over `tests/definitions/`: every `valid/*.bpmn` loads without a single
//! diagnostic, every `invalid/*.bpmn` fails with the diagnostics in its snapshot. Adding a case
//! is adding a file (and accepting its snapshot with `cargo insta review`).

use std::path::{Path, PathBuf};

use idflow_defs::{code_info, load, Definition, Diagnostic, Loaded, NodeKind, ParamType};
use idflow_expr::ParamExpr;
use serde_json::json;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads a file under its repository-relative path, so snapshots do not depend on where the
/// checkout lives.
fn load_repo_file(path: &Path) -> (String, Loaded) {
    let root = repo_root().canonicalize().expect("repo root");
    let relative = path
        .strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let bytes = std::fs::read(path).expect("test file readable");
    let loaded = load(&relative, &bytes);
    (relative, loaded)
}

/// The invariants every load keeps, valid or not.
fn assert_well_formed(name: &str, loaded: &Loaded) {
    assert_eq!(
        loaded.definition.is_some(),
        !loaded.has_errors(),
        "{name}: a definition exactly when there is no error"
    );
    for d in &loaded.diagnostics {
        let info =
            code_info(d.code).unwrap_or_else(|| panic!("{name}: code {} not in CODES", d.code));
        assert_eq!(info.severity, d.severity, "{name}: {d}");
        assert!(d.line >= 1 && d.column >= 1, "{name}: {d}");
        assert!(
            !d.to_string().contains('\n'),
            "{name}: multi-line diagnostic {d:?}"
        );
        assert_eq!(d.source, name);
    }
    let mut sorted = loaded.diagnostics.clone();
    sorted.sort_by_key(|d: &Diagnostic| (d.line, d.column));
    assert_eq!(
        sorted, loaded.diagnostics,
        "{name}: diagnostics sorted by position"
    );
}

#[test]
fn invalid_definitions_report_what_their_snapshots_say() {
    insta::glob!("../../../../tests/definitions/invalid", "*.bpmn", |path| {
        let (name, loaded) = load_repo_file(path);
        assert_well_formed(&name, &loaded);
        assert!(loaded.has_errors(), "{name} should not load");
        insta::assert_snapshot!(idflow_defs::render_text(&loaded.diagnostics));
    });
}

#[test]
fn every_diagnostic_code_is_exercised_by_an_invalid_case() {
    // Covered elsewhere: READ_ERROR and NO_DEFINITIONS by the CLI tests (they concern paths),
    // TOO_LARGE by limits.rs (the files would be megabytes), INTERNAL cannot be reached.
    let elsewhere = ["READ_ERROR", "NO_DEFINITIONS", "TOO_LARGE", "INTERNAL"];
    let dir = repo_root().join("tests/definitions/invalid");
    let mut seen = std::collections::BTreeSet::new();
    for path in idflow_defs::find_definition_files(&dir).expect("invalid/ is readable") {
        let (_, loaded) = load_repo_file(&path);
        seen.extend(loaded.diagnostics.iter().map(|d| d.code));
    }
    let missing: Vec<&str> = idflow_defs::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !seen.contains(c) && !elsewhere.contains(c))
        .collect();
    assert_eq!(
        missing,
        Vec::<&str>::new(),
        "codes no invalid case produces"
    );
}

#[test]
fn valid_definitions_load_without_any_diagnostic() {
    let dir = repo_root().join("tests/definitions/valid");
    let files = idflow_defs::find_definition_files(&dir).expect("valid/ is readable");
    assert!(
        files.len() >= 6,
        "expected the valid cases, found {files:?}"
    );
    for path in files {
        let (name, loaded) = load_repo_file(&path);
        assert_well_formed(&name, &loaded);
        assert_eq!(
            loaded.diagnostics,
            Vec::new(),
            "{name}:\n{}",
            idflow_defs::render_text(&loaded.diagnostics)
        );
    }
}

fn load_valid(file: &str) -> Definition {
    let (name, loaded) = load_repo_file(&repo_root().join("tests/definitions/valid").join(file));
    loaded
        .definition
        .unwrap_or_else(|| panic!("{name}:\n{}", idflow_defs::render_text(&loaded.diagnostics)))
}

#[test]
fn encodings_are_decoded_per_bom_and_declaration() {
    let cases = [
        ("latin1.bpmn", "latin1", "Enregistrement créé"),
        ("utf8-bom.bpmn", "utf8-bom", "Mit BOM ü"),
        ("utf16.bpmn", "utf16", "UTF-16 ✓"),
        ("minimal.bpmn", "minimal", "Minimal"),
    ];
    for (file, id, name) in cases {
        let d = load_valid(file);
        assert_eq!(d.process_id, id, "{file}");
        assert_eq!(d.name.as_deref(), Some(name), "{file}");
        assert_eq!(d.start().id, "start", "{file}");
    }
}

#[test]
fn the_complete_case_becomes_the_expected_model() {
    let d = load_valid("complete.bpmn");
    assert_eq!(d.process_id, "complete");
    assert_eq!(d.content_hash.len(), 64);

    // Activities: typed literals, defaults filled in, aliases resolved, templates kept.
    let NodeKind::Activity(form) = &d.node("form").expect("form").kind else {
        panic!("form is an activity");
    };
    assert_eq!(
        form.param("Data form version"),
        Some(&ParamExpr::Literal(json!(2)))
    );
    assert_eq!(
        form.param("Form data Key"),
        Some(&ParamExpr::Text("passcodeAuthForm1".into()))
    );
    assert_eq!(
        form.param("Starting Component ID"),
        Some(&ParamExpr::Text("passcode-authentication".into()))
    );
    let names: Vec<_> = form.params.iter().map(|p| p.name).collect();
    let catalogue: Vec<_> = form.spec().params.iter().map(|p| p.name).collect();
    assert_eq!(
        names, catalogue,
        "every form parameter has a value, in catalogue order"
    );
    let NodeKind::Activity(decide) = &d.node("decide").expect("decide").kind else {
        panic!("decide is an activity");
    };
    assert_eq!(
        decide.param("Decision on Any Failure"),
        Some(&ParamExpr::Literal(json!("REVIEW")))
    );
    assert_eq!(
        decide.param("Derive Decision From"),
        None,
        "optional, no default"
    );
    let NodeKind::Activity(start_auth) = &d.node("startAuth").expect("startAuth").kind else {
        panic!("startAuth is an activity");
    };
    assert!(matches!(
        start_auth.param("User External ID"),
        Some(ParamExpr::Template(_))
    ));
    assert!(matches!(
        start_auth.param("Store Name"),
        Some(ParamExpr::Whole(_))
    ));
    assert!(start_auth
        .spec()
        .params
        .iter()
        .all(|p| p.ty == ParamType::String));

    // Boundaries: a coded error, a catch-all, a timer in milliseconds.
    let boundaries: Vec<_> = d.boundaries("startAuth").map(|n| n.id.as_str()).collect();
    assert_eq!(boundaries, ["locked", "anyError"]);
    assert!(matches!(
        &d.node("locked").expect("locked").kind,
        NodeKind::ErrorBoundary { attached_to, error_code: Some(code) }
            if attached_to == "startAuth" && code == "USER_LOCKED"
    ));
    assert!(matches!(
        &d.node("anyError").expect("anyError").kind,
        NodeKind::ErrorBoundary {
            error_code: None,
            ..
        }
    ));
    assert!(matches!(
        &d.node("timeout").expect("timeout").kind,
        NodeKind::TimerBoundary { duration_ms: 90_500, duration_text, .. } if duration_text == "PT1M30.5S"
    ));

    // The gateway: conditions in document order, then the default.
    assert!(matches!(
        &d.node("decision").expect("decision").kind,
        NodeKind::ExclusiveGateway { default_flow: Some(f) } if f == "otherwise"
    ));
    let outgoing: Vec<_> = d
        .outgoing("decision")
        .map(|f| (f.id.as_str(), f.condition.is_some()))
        .collect();
    assert_eq!(
        outgoing,
        [("passed", true), ("review", true), ("otherwise", false)]
    );
    let vars = json!({"_decision": "REVIEW"});
    let review = d
        .flow("review")
        .and_then(|f| f.condition.as_ref())
        .expect("condition");
    let passed = d
        .flow("passed")
        .and_then(|f| f.condition.as_ref())
        .expect("condition");
    assert_eq!(review.eval(&vars), Ok(true));
    assert_eq!(passed.eval(&vars), Ok(false));

    // Error ends, and only those.
    assert!(d.is_error_end("endFailed"));
    for plain in ["endPassed", "endReview", "endTimedOut", "start", "nope"] {
        assert!(!d.is_error_end(plain), "{plain}");
    }
    // Read-past elements are not in the model.
    for absent in ["note", "noteLink", "lane", "participant", "pool"] {
        assert!(
            d.node(absent).is_none() && d.flow(absent).is_none(),
            "{absent}"
        );
    }
    // Locations point at the element's `<`, found here independently in the text.
    let text = std::fs::read_to_string(repo_root().join("tests/definitions/valid/complete.bpmn"))
        .expect("readable");
    let (line_index, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("id=\"decision\""))
        .expect("the gateway is in the file");
    let column = line.find('<').expect("an element") + 1;
    let location = d.node("decision").expect("decision").location;
    assert_eq!(
        (location.line as usize, location.column as usize),
        (line_index + 1, column)
    );
}
