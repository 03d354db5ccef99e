//! What the loader's passes share while they read one file: where diagnostics are collected
//! ([`Ctx`]) and what every process of the document may refer to ([`DocumentIndex`]).

use std::collections::HashMap;

use crate::diagnostic::{one_line, Diagnostic, Severity};
use crate::model::Location;
use crate::xml::{Element, LineIndex};

/// Where diagnostics are collected while the passes run.
pub(crate) struct Ctx<'d> {
    source: &'d str,
    lines: &'d LineIndex,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'d> Ctx<'d> {
    pub(crate) fn new(source: &'d str, lines: &'d LineIndex) -> Ctx<'d> {
        Ctx {
            source,
            lines,
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn location(&self, el: &Element) -> Location {
        let (line, column) = self.lines.locate(el.offset);
        Location { line, column }
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        el: &Element,
        element_id: Option<&str>,
        message: String,
    ) {
        let (line, column) = self.lines.locate(el.offset);
        self.diagnostics.push(Diagnostic {
            severity,
            code,
            message: one_line(&message),
            source: self.source.to_string(),
            line,
            column,
            element_id: element_id.map(one_line),
        });
    }

    /// Records an error at `el`, naming the element `element_id` (often `el`'s own id, or the
    /// id of the task a parameter belongs to).
    pub(crate) fn error(
        &mut self,
        code: &'static str,
        el: &Element,
        element_id: Option<&str>,
        message: String,
    ) {
        self.push(Severity::Error, code, el, element_id, message);
    }

    pub(crate) fn warn(
        &mut self,
        code: &'static str,
        el: &Element,
        element_id: Option<&str>,
        message: String,
    ) {
        self.push(Severity::Warning, code, el, element_id, message);
    }

    pub(crate) fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// A `<bpmn:error>`: its code, when it has one.
pub(crate) struct BpmnError<'d> {
    pub(crate) element: &'d Element,
    pub(crate) code: Option<String>,
}

/// What every process of the document may refer to.
pub(crate) struct DocumentIndex<'d> {
    /// Every id in the document (semantic and diagram), first occurrence.
    pub(crate) ids: HashMap<&'d str, &'d Element>,
    pub(crate) errors: HashMap<&'d str, BpmnError<'d>>,
}
