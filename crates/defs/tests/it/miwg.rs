//! The OMG BPMN MIWG reference files (`tests/definitions/miwg/`, CC BY 3.0): each parses
//! without an XML or encoding error (some are ISO-8859-1), nothing panics, and every executable
//! element idflow does not run is reported on its line with its id. The full diagnostics of each
//! file are snapshotted.
//!
//! The unsupported elements are found here with a separate quick-xml pass and a list written
//! from the BPMN specification, not from the loader's own tables.

use std::path::{Path, PathBuf};

use idflow_defs::{codes, load, Diagnostic};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

const BPMN: &[u8] = b"http://www.omg.org/spec/BPMN/20100524/MODEL";

/// Flow elements of BPMN 2.0 that idflow does not execute.
const UNSUPPORTED_FLOW_ELEMENTS: &[&str] = &[
    "sendTask",
    "receiveTask",
    "scriptTask",
    "businessRuleTask",
    "manualTask",
    "subProcess",
    "adHocSubProcess",
    "transaction",
    "callActivity",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
];

/// Root elements that are callable, hence executable.
const UNSUPPORTED_ROOT_ELEMENTS: &[&str] = &[
    "globalTask",
    "globalUserTask",
    "globalManualTask",
    "globalScriptTask",
    "globalBusinessRuleTask",
    "choreography",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/definitions/miwg")
}

/// An element the loader must report: its id and 1-based line, and what it is.
struct Expected {
    id: String,
    line: usize,
    what: String,
}

/// Walks the raw file and lists the elements idflow must refuse, with the id the diagnostic
/// must carry (the element's own, or its owner's for event definitions and loops).
fn expected_refusals(bytes: &[u8]) -> Vec<Expected> {
    let mut reader = NsReader::from_reader(bytes);
    // (is BPMN, local name, id) of the open elements.
    let mut stack: Vec<(bool, String, Option<String>)> = Vec::new();
    let mut found = Vec::new();
    loop {
        let at = usize::try_from(reader.buffer_position()).expect("offset");
        let event = reader.read_event().expect("the corpus is well-formed");
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(e) = start else { continue };
        let (ns, local) = reader.resolve_element(e.name());
        let is_bpmn = matches!(ns, ResolveResult::Bound(n) if n.into_inner() == BPMN);
        let local = String::from_utf8_lossy(local.as_ref()).into_owned();
        let id = e
            .try_get_attribute("id")
            .ok()
            .flatten()
            .map(|a| String::from_utf8_lossy(&a.value).into_owned());
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let parent = stack.last();
        let parent_is = |name: &str| parent.is_some_and(|(b, l, _)| *b && l == name);
        if is_bpmn {
            let what = format!("<{local}>");
            if parent_is("process") && UNSUPPORTED_FLOW_ELEMENTS.contains(&local.as_str()) {
                found.push(Expected {
                    id: id.clone().expect("flow elements have ids"),
                    line,
                    what,
                });
            } else if parent_is("definitions")
                && UNSUPPORTED_ROOT_ELEMENTS.contains(&local.as_str())
            {
                found.push(Expected {
                    id: id.clone().expect("root elements have ids"),
                    line,
                    what,
                });
            } else if parent_is("collaboration") && local == "messageFlow" {
                found.push(Expected {
                    id: id.clone().expect("message flows have ids"),
                    line,
                    what,
                });
            } else if local.ends_with("LoopCharacteristics") || local.ends_with("EventDefinition") {
                // Reported under the id of the process-level element that holds it.
                let owner = stack.last();
                let on_process_child = stack
                    .len()
                    .checked_sub(2)
                    .and_then(|i| stack.get(i))
                    .is_some_and(|(b, l, _)| *b && l == "process");
                let owner_kind = owner.map_or("", |(_, l, _)| l.as_str());
                let supported = matches!(
                    (owner_kind, local.as_str()),
                    ("endEvent" | "boundaryEvent", "errorEventDefinition")
                        | ("boundaryEvent", "timerEventDefinition")
                );
                let owner_runs = matches!(
                    owner_kind,
                    "startEvent"
                        | "endEvent"
                        | "boundaryEvent"
                        | "task"
                        | "userTask"
                        | "serviceTask"
                );
                if on_process_child && owner_runs && !supported {
                    if let Some((_, _, Some(owner_id))) = owner {
                        found.push(Expected {
                            id: owner_id.clone(),
                            line,
                            what,
                        });
                    }
                }
            }
        }
        if !empty {
            stack.push((is_bpmn, local, id));
        }
    }
    found
}

#[test]
fn every_reference_file_parses_and_reports_what_idflow_does_not_run() {
    let files = idflow_defs::find_definition_files(&corpus_dir()).expect("corpus readable");
    assert_eq!(files.len(), 21, "the 21 MIWG reference files");
    let mut refusals_checked = 0;
    for path in &files {
        let name = format!(
            "tests/definitions/miwg/{}",
            path.file_name().expect("file name").to_string_lossy()
        );
        let bytes = std::fs::read(path).expect("readable");
        let loaded = load(&name, &bytes);
        let fatal: Vec<&Diagnostic> = loaded
            .diagnostics
            .iter()
            .filter(|d| {
                [
                    codes::XML_SYNTAX,
                    codes::ENCODING,
                    codes::NOT_BPMN,
                    codes::TOO_LARGE,
                    codes::TOO_DEEP,
                ]
                .contains(&d.code)
            })
            .collect();
        assert!(fatal.is_empty(), "{name}: {fatal:?}");
        assert!(
            loaded.definition.is_none(),
            "{name}: reference files use elements idflow does not run"
        );
        for expected in expected_refusals(&bytes) {
            let reported = loaded.diagnostics.iter().any(|d| {
                d.is_error()
                    && d.element_id.as_deref() == Some(expected.id.as_str())
                    && d.line as usize == expected.line
                    && matches!(
                        d.code,
                        codes::UNSUPPORTED_ELEMENT | codes::UNSUPPORTED_EVENT
                    )
            });
            assert!(
                reported,
                "{name}: {} '{}' on line {} is not reported",
                expected.what, expected.id, expected.line
            );
            refusals_checked += 1;
        }
    }
    // The check above must not pass vacuously.
    assert!(
        refusals_checked > 100,
        "only {refusals_checked} refusals found"
    );
}

#[test]
fn reference_file_diagnostics_match_their_snapshots() {
    insta::glob!("../../../../tests/definitions/miwg", "*.bpmn", |path| {
        let name = format!(
            "tests/definitions/miwg/{}",
            path.file_name().expect("file name").to_string_lossy()
        );
        let bytes = std::fs::read(path).expect("readable");
        let loaded = load(&name, &bytes);
        insta::assert_snapshot!(idflow_defs::render_text(&loaded.diagnostics));
    });
}
