//! BPMN 2.0 definition files into validated idflow process graphs, with located diagnostics.
//!
//! [`load`] turns a file's bytes into a [`Loaded`]: the validated [`Definition`] the engine walks
//! (addressed by BPMN element IDs only) when the file has no error, and every diagnostic found,
//! each `path:line:column: error[CODE]: message (element 'id')`. `catalogue` declares every
//! activity type as data; `model` is the validated graph.
//!
//! # The idflow namespace
//!
//! Activities carry their type and inputs in `extensionElements` under
//! `https://idflow.dev/schema/bpmn/1.0` (conventionally prefixed `idflow:`):
//!
//! ```xml
//! <bpmn:serviceTask id="startReg" name="Start Passcode Registration">
//!   <bpmn:extensionElements>
//!     <idflow:activity type="startPasscodeRegistration">
//!       <idflow:param name="Passcode Key">&lt;&lt;processvar.token.passcodePolicy&gt;&gt;</idflow:param>
//!       <idflow:param name="Store Name"><![CDATA[<<processvar.token.storeName>>]]></idflow:param>
//!     </idflow:activity>
//!   </bpmn:extensionElements>
//! </bpmn:serviceTask>
//! ```
//!
//! `type` is a catalogue key; parameter names are the catalogue's (or an alias). A value's
//! surrounding whitespace is trimmed and an empty value counts as not given (the default applies).
//!
//! The Camunda Modeler element templates of [`templates`] write the same activity with Camunda 7
//! bindings instead (`<camunda:property name="idflow:activity" value="type">` and
//! `<camunda:inputParameter name="...">`); the loader reads that form too.
//!
//! # What is executed
//!
//! Start event (no trigger), end event (plain, or error end with `<errorEventDefinition/>`),
//! `task`/`serviceTask`/`userTask` with an idflow activity, sequence flows, exclusive gateways
//! (`<conditionExpression>` in idflow's condition language, `default` flow), interrupting error
//! boundary events (`errorRef` to a `<bpmn:error errorCode>`, none = catch all) and interrupting
//! timer boundary events on steps (`<timeDuration>`, ISO 8601 `PnW`/`PnDTnHnMnS`). Diagram
//! interchange, documentation, lanes and artifacts are read past; every other executable element
//! is refused with its location and id.
//!
//! # Limits
//!
//! Input is at most 8 MiB, 200,000 elements and attributes, and 256 levels deep; a gateway
//! condition at most 4096 characters and 64 `&&`/`||`; a `<!DOCTYPE>` is refused (no entity
//! expansion); the encoding follows the BOM or the XML declaration; invalid or binary input gives
//! a diagnostic, never a panic.

mod activity;
pub mod catalogue;
mod context;
mod diagnostic;
pub mod duration;
mod files;
mod graph;
mod id;
mod loader;
pub mod model;
mod process;
mod raw;
pub mod templates;
mod xml;

use std::path::PathBuf;

pub use activity::{CAMUNDA_NS, TEMPLATE_TYPE_PROPERTY};
pub use catalogue::{
    catalogue, ActivitySpec, ActivityType, ParamSpec, ParamType, Role, StepSpec, DECISION_FAIL,
    DECISION_VARIABLE,
};
pub use diagnostic::{code_info, codes, render_text, CodeInfo, Diagnostic, Severity, CODES};
pub use files::{find_definition_files, load_file};
pub use id::Id;
pub use loader::{load, Loaded};
pub use model::{Activity, Definition, Flow, Location, Node, NodeKind, Param};
pub use process::{is_valid_process_id, MAX_PROCESS_ID_LEN};
pub use xml::{IDFLOW_NS, MAX_DEPTH, MAX_INPUT_BYTES, MAX_NODES};

/// A definition file that does not load: an expected outcome for a designer's file, carrying
/// every diagnostic (errors and warnings).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", summary(.diagnostics))]
pub struct InvalidDefinition {
    pub diagnostics: Vec<Diagnostic>,
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    match diagnostics.iter().find(|d| d.is_error()) {
        Some(first) if errors > 1 => format!("{first} (and {} more errors)", errors - 1),
        Some(first) => first.to_string(),
        None => "invalid definition".to_string(),
    }
}

/// A failure below the definitions themselves: a folder that cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum DefsError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
