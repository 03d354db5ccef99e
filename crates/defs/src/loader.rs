//! The loader's front door: bytes in, a validated [`Definition`] and every diagnostic out.
//!
//! Document-level checks live here (root element, ids, `bpmn:error`s, which processes there are);
//! each process is read by `process`, its activities by `activity`, and its graph checked by
//! `graph` (what these share is in `context` and `raw`, so imports run one way: loader →
//! process → activity, graph). Nothing stops at the first problem: each pass records what it finds and goes on, and
//! a definition is only assembled when no pass found an error.

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::context::{BpmnError, Ctx, DocumentIndex};
use crate::diagnostic::{codes, one_line, Diagnostic, Severity};
use crate::model::Definition;
use crate::xml::{self, Element, Ns};

/// The outcome of loading one file: the definition when it has no error, and every diagnostic
/// (errors and warnings) sorted by position.
#[derive(Debug)]
pub struct Loaded {
    pub definition: Option<Definition>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// The definition, or the diagnostics that kept it from loading.
    pub fn into_result(self) -> Result<Definition, crate::InvalidDefinition> {
        match self.definition {
            Some(definition) => Ok(definition),
            None => Err(crate::InvalidDefinition {
                diagnostics: self.diagnostics,
            }),
        }
    }
}

/// Loads a definition from `bytes`; `source` is the path (or name) shown in diagnostics. Never
/// panics, whatever the bytes.
pub fn load(source: &str, bytes: &[u8]) -> Loaded {
    let content_hash = hex_sha256(bytes);
    let (document, problems) = match xml::parse(bytes) {
        Ok(parsed) => parsed,
        Err(problems) => {
            let diagnostics = problems
                .into_iter()
                .map(|p| xml_diagnostic(source, p))
                .collect();
            return finish(None, diagnostics);
        }
    };
    let mut ctx = Ctx::new(source, &document.lines);
    ctx.diagnostics
        .extend(problems.into_iter().map(|p| xml_diagnostic(source, p)));
    let definition = check_definitions(&mut ctx, &document.root, content_hash);
    let diagnostics = ctx.diagnostics;
    finish(definition, diagnostics)
}

fn finish(definition: Option<Definition>, mut diagnostics: Vec<Diagnostic>) -> Loaded {
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let definition = definition.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    Loaded {
        definition,
        diagnostics,
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Children of `<definitions>` that declare things without running anything.
const PASSIVE_ROOT_ELEMENTS: &[&str] = &[
    "documentation",
    "extensionElements",
    "import",
    "itemDefinition",
    "message",
    "signal",
    "escalation",
    "error",
    "dataStore",
    "resource",
    "interface",
    "endPoint",
    "partnerEntity",
    "partnerRole",
    "category",
    "correlationProperty",
    "relationship",
    "extension",
    "eventDefinition",
    "cancelEventDefinition",
    "compensateEventDefinition",
    "conditionalEventDefinition",
    "errorEventDefinition",
    "escalationEventDefinition",
    "linkEventDefinition",
    "messageEventDefinition",
    "signalEventDefinition",
    "terminateEventDefinition",
    "timerEventDefinition",
];

/// Children of `<collaboration>` that only describe the diagram's pools.
const PASSIVE_COLLABORATION_ELEMENTS: &[&str] = &[
    "participant",
    "documentation",
    "extensionElements",
    "textAnnotation",
    "association",
    "group",
    "participantAssociation",
];

fn check_definitions(
    ctx: &mut Ctx<'_>,
    root: &Element,
    content_hash: String,
) -> Option<Definition> {
    if !root.is_bpmn("definitions") {
        let message = if root.local == "definitions" {
            format!(
                "the root <{}> is not in the BPMN 2.0 model namespace; declare xmlns=\"{}\" (or a prefix bound to it)",
                root.qname,
                xml::BPMN_MODEL_NS
            )
        } else {
            format!(
                "the root element <{}> is not a BPMN 2.0 <definitions> element",
                root.qname
            )
        };
        ctx.error(codes::NOT_BPMN, root, None, message);
        return None;
    }
    let mut ids = HashMap::new();
    collect_ids(ctx, root, &mut ids);
    let mut errors = HashMap::new();
    for el in root.bpmn_children("error") {
        if let Some(id) = el.id() {
            errors.entry(id).or_insert(BpmnError {
                element: el,
                code: el
                    .attr("errorCode")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            });
        }
    }
    let index = DocumentIndex { ids, errors };

    let mut processes = Vec::new();
    for child in &root.children {
        match &child.ns {
            Ns::Bpmn => match child.local.as_str() {
                "process" => processes.push(child),
                "collaboration" => check_collaboration(ctx, child),
                local if PASSIVE_ROOT_ELEMENTS.contains(&local) => {}
                _ => ctx.error(
                    codes::UNSUPPORTED_ELEMENT,
                    child,
                    child.id(),
                    format!(
                        "<{}> is not run by idflow: a definition is one process of events, tasks, exclusive gateways and sequence flows",
                        child.qname
                    ),
                ),
            },
            Ns::Diagram => {}
            _ => warn_not_bpmn(ctx, child),
        }
    }

    let first = match processes.as_slice() {
        [] => {
            ctx.error(
                codes::NO_PROCESS,
                root,
                root.id(),
                "the file holds no <process>: a definition is one BPMN process".into(),
            );
            return None;
        }
        [first, rest @ ..] => {
            for extra in rest {
                ctx.error(
                    codes::MULTIPLE_PROCESSES,
                    extra,
                    extra.id(),
                    format!(
                        "a second <process> (the first is '{}'): an idflow definition holds exactly one process",
                        first.id().unwrap_or("without id")
                    ),
                );
            }
            *first
        }
    };
    let mut parts = None;
    for process in &processes {
        let checked = crate::process::check_process(ctx, process, &index);
        if std::ptr::eq(*process, first) {
            parts = checked;
        }
    }
    if ctx.error_count() > 0 {
        return None;
    }
    let parts = parts?;
    let process_id = parts.process_id.clone();
    match parts.assemble(content_hash) {
        Ok(definition) => Some(definition),
        Err(reason) => {
            ctx.error(
                codes::INTERNAL,
                first,
                Some(&process_id),
                format!("the loader accepted a process its model then refused ({reason}); please report this"),
            );
            None
        }
    }
}

/// Records every `id` of the document's semantic and diagram elements and reports duplicates.
/// Extension elements and foreign namespaces have their own id rules and are skipped.
fn collect_ids<'d>(ctx: &mut Ctx<'_>, el: &'d Element, ids: &mut HashMap<&'d str, &'d Element>) {
    if !matches!(el.ns, Ns::Bpmn | Ns::Diagram) || el.is_bpmn("extensionElements") {
        return;
    }
    if let Some(id) = el.id() {
        match ids.get(id) {
            Some(first) => {
                let at = ctx.location(first);
                ctx.error(
                    codes::DUPLICATE_ID,
                    el,
                    Some(id),
                    format!(
                        "id '{id}' is already used by <{}> at {}:{}",
                        first.qname, at.line, at.column
                    ),
                );
            }
            None => {
                ids.insert(id, el);
            }
        }
    }
    for child in &el.children {
        collect_ids(ctx, child, ids);
    }
}

/// An XML problem (not well-formed, or a limit reached) as the diagnostic the loader reports.
fn xml_diagnostic(source: &str, p: xml::XmlProblem) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: p.code,
        message: one_line(&p.message),
        source: source.to_string(),
        line: p.line,
        column: p.column,
        element_id: None,
    }
}

/// An element of another namespace (a modeler's extension) where BPMN is expected: read past,
/// with a warning.
fn warn_not_bpmn(ctx: &mut Ctx<'_>, child: &Element) {
    ctx.warn(
        codes::IGNORED_ELEMENT,
        child,
        child.id(),
        format!("<{}> is not BPMN; idflow reads past it", child.qname),
    );
}

/// Pools are fine (modelers add a collaboration when a designer draws one); message flows and
/// conversations are not run.
fn check_collaboration(ctx: &mut Ctx<'_>, collaboration: &Element) {
    for child in &collaboration.children {
        match &child.ns {
            Ns::Bpmn if PASSIVE_COLLABORATION_ELEMENTS.contains(&child.local.as_str()) => {}
            Ns::Bpmn => ctx.error(
                codes::UNSUPPORTED_ELEMENT,
                child,
                child.id(),
                format!(
                    "<{}> is not run by idflow: a definition is one process and does not exchange messages",
                    child.qname
                ),
            ),
            Ns::Diagram => {}
            _ => warn_not_bpmn(ctx, child),
        }
    }
}
