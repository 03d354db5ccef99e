//! Located diagnostics (`path:line:column: error[CODE]: message (element 'id')`) and the table
//! of every diagnostic code the loader emits.
//!
//! Codes are stable and machine-readable; messages are for the designer and may change. Each code
//! is declared once in [`CODES`] with its default severity and meaning, so documentation and tests
//! read the same table.

use std::fmt;

/// How serious a diagnostic is: an error keeps the file from loading, a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a definition file, located by 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One of the codes in [`CODES`].
    pub code: &'static str,
    pub message: String,
    /// The path (or name) of the file as the caller gave it.
    pub source: String,
    pub line: u32,
    pub column: u32,
    /// The BPMN `id` of the element at fault, when it has one.
    pub element_id: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.source, self.line, self.column, self.severity, self.code, self.message
        )?;
        if let Some(id) = &self.element_id {
            write!(f, " (element '{id}')")?;
        }
        Ok(())
    }
}

/// One row of the code table: the code, the severity it is emitted with, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    pub meaning: &'static str,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $sev:ident, $meaning:literal;)*) => {
        /// The diagnostic codes, as constants so a typo is a compile error.
        pub mod codes {
            $($(#[$doc])* pub const $name: &str = stringify!($name);)*
        }
        /// Every code the loader emits, its severity and its meaning.
        pub const CODES: &[CodeInfo] = &[
            $(CodeInfo { code: codes::$name, severity: Severity::$sev, meaning: $meaning },)*
        ];
    };
}

codes! {
    READ_ERROR = Error, "the file or folder cannot be read";
    NO_DEFINITIONS = Error, "a folder given to `idflow validate` holds no *.bpmn file";
    TOO_LARGE = Error, "the file is larger than the loader accepts (8 MiB, or 200,000 elements and attributes)";
    ENCODING = Error, "the bytes are not valid in the file's declared encoding, or the encoding is unsupported";
    XML_SYNTAX = Error, "the file is not well-formed XML (or has no single root element)";
    DTD_NOT_ALLOWED = Error, "a <!DOCTYPE> is present: DTDs and entity declarations are refused";
    TOO_DEEP = Error, "elements nest deeper than the loader accepts (256 levels)";
    NOT_BPMN = Error, "the root element is not a BPMN 2.0 <definitions> element";
    NO_PROCESS = Error, "the file holds no <process>";
    MULTIPLE_PROCESSES = Error, "the file holds more than one <process>: a definition is one process";
    INVALID_PROCESS_ID = Error, "the process id (the definition's name) is missing or not made of letters, digits, '-', '_' and '.'";
    NOT_EXECUTABLE = Warning, "the process is marked isExecutable=\"false\"";
    UNSUPPORTED_ELEMENT = Error, "an executable BPMN element that idflow does not run (parallel gateway, sub-process, script task, ...)";
    UNSUPPORTED_EVENT = Error, "an event definition idflow does not run (message, signal, timer start, timeDate, non-interrupting, ...)";
    IGNORED_ELEMENT = Warning, "an element idflow reads past without running it (data associations, resources, foreign elements)";
    MISSING_ID = Error, "an executable element has no id";
    INVALID_ID = Error, "an id is not an XML name of ASCII letters, digits, '_', '-' and '.' (at most 256 characters)";
    DUPLICATE_ID = Error, "two elements share an id";
    MISSING_ATTRIBUTE = Error, "a required attribute is missing (sourceRef, targetRef, attachedToRef, type, name)";
    DANGLING_REFERENCE = Error, "a reference names an id that does not exist (or is not the right kind of element)";
    MISSING_ACTIVITY = Error, "a task has no <idflow:activity> in its extensionElements";
    DUPLICATE_ACTIVITY = Error, "a task has more than one <idflow:activity>";
    UNKNOWN_ACTIVITY_TYPE = Error, "the activity type is not in the catalogue";
    UNKNOWN_EXTENSION = Error, "an element in the idflow namespace that the loader does not know";
    UNKNOWN_PARAMETER = Error, "a parameter the activity type does not have";
    DUPLICATE_PARAMETER = Error, "a parameter is given twice (possibly under an alias)";
    MISSING_PARAMETER = Error, "a required parameter without a default is not given";
    PARAMETER_TYPE = Error, "a literal parameter value of the wrong type";
    EXPRESSION_SYNTAX = Error, "a malformed <<processvar...>>, ${...} or condition expression (or a condition over 4096 characters or 64 && / || operators)";
    CONDITION_LANGUAGE = Error, "a conditionExpression declares a language other than idflow's";
    CONDITION_TYPE = Error, "a condition (or an operand of !, && or ||) is a literal that is not a boolean";
    STEP_ON_SERVICE_TASK = Warning, "a step (a form the end user answers) is drawn as a serviceTask";
    BOUNDARY_NOT_ON_ACTIVITY = Error, "a boundary event is attached to something other than an activity";
    UNKNOWN_ERROR_CODE = Error, "an error boundary catches a code its activity cannot raise";
    INVALID_ERROR = Error, "a referenced <bpmn:error> has no errorCode";
    DUPLICATE_BOUNDARY = Error, "two boundary events on one activity catch the same thing";
    TIMER_NOT_ON_STEP = Error, "a timer boundary event sits on an activity that is not a step";
    INVALID_DURATION = Error, "a timer's timeDuration is missing or not a supported ISO 8601 duration";
    NO_START_EVENT = Error, "the process has no start event";
    MULTIPLE_START_EVENTS = Error, "the process has more than one start event";
    NO_END_EVENT = Error, "the process has no end event";
    UNREACHABLE = Error, "an element cannot be reached from the start event";
    NO_PATH_TO_END = Error, "no path leads from an element to an end event";
    NO_OUTGOING = Error, "an element other than an end event has no outgoing sequence flow";
    INVALID_FLOW = Error, "a sequence flow idflow cannot run (into a start or boundary event, out of an end, a split outside a gateway, a condition outside a gateway)";
    MISSING_CONDITION = Error, "a flow leaving a branching gateway has no condition and is not its default";
    INVALID_DEFAULT = Error, "a gateway's default flow does not leave that gateway, or carries a condition";
    INTERNAL = Error, "the loader accepted something its model refused: a bug to report";
    NO_DEFAULT = Warning, "every flow leaving a gateway is conditional and none is the default: when no condition holds the instance fails";
}

/// The row of [`CODES`] for `code`.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// `text` on one line: control characters (newlines in names from modelers) become spaces and
/// runs of whitespace collapse, so every diagnostic stays one line of output.
pub(crate) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders diagnostics one per line, as `idflow validate` prints them.
pub fn render_text(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

/// `text` cut to `max_chars` characters, with `…` when cut: how messages quote what they were given.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_the_documented_format() {
        let mut d = Diagnostic {
            severity: Severity::Error,
            code: codes::UNKNOWN_ACTIVITY_TYPE,
            message: "unknown activity type 'addUsr'".into(),
            source: "defs/a.bpmn".into(),
            line: 12,
            column: 5,
            element_id: Some("addUser".into()),
        };
        assert_eq!(
            d.to_string(),
            "defs/a.bpmn:12:5: error[UNKNOWN_ACTIVITY_TYPE]: unknown activity type 'addUsr' (element 'addUser')"
        );
        d.severity = Severity::Warning;
        d.element_id = None;
        assert_eq!(
            d.to_string(),
            "defs/a.bpmn:12:5: warning[UNKNOWN_ACTIVITY_TYPE]: unknown activity type 'addUsr'"
        );
    }

    #[test]
    fn codes_are_unique() {
        let mut seen: Vec<_> = CODES.iter().map(|c| c.code).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), CODES.len());
        assert_eq!(
            code_info("NO_DEFAULT").map(|c| c.severity),
            Some(Severity::Warning)
        );
    }
}
