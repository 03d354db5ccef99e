//! A process as read, before the graph checks: its flow nodes and sequence flows with the
//! elements they came from, what `process` and `activity` produce and `graph` checks.

use idflow_expr::Condition;

use crate::catalogue::ActivitySpec;
use crate::model::Activity;
use crate::xml::Element;

/// A flow node as read, before the graph checks.
pub(crate) struct RawNode<'d> {
    pub(crate) el: &'d Element,
    pub(crate) id: &'d str,
    pub(crate) kind: RawKind,
    /// `<incoming>`/`<outgoing>` children: each must name a sequence flow of the process.
    pub(crate) flow_refs: Vec<&'d Element>,
}

pub(crate) enum RawKind {
    Start,
    End {
        error: bool,
    },
    /// `activity` is `None` when its configuration had errors (already reported); `spec` is
    /// known whenever the type is.
    Activity {
        activity: Option<Activity>,
        spec: Option<&'static ActivitySpec>,
    },
    Gateway {
        default_flow: Option<String>,
    },
    Boundary {
        attached_to: Option<String>,
        catch: Catch,
    },
    /// An element idflow refuses (already reported); kept so references to it resolve.
    Opaque,
}

pub(crate) enum Catch {
    /// `code` is `None` for a catch-all (no `errorRef`).
    Error {
        code: Option<String>,
    },
    Timer {
        ms: u64,
        text: String,
    },
    /// The event definition was refused or broken (already reported).
    Invalid,
}

pub(crate) struct RawFlow<'d> {
    pub(crate) el: &'d Element,
    pub(crate) id: &'d str,
    pub(crate) name: Option<String>,
    pub(crate) source: Option<&'d str>,
    pub(crate) target: Option<&'d str>,
    /// Whether a `<conditionExpression>` is present, parsed or not.
    pub(crate) has_condition: bool,
    pub(crate) condition: Option<Condition>,
}

/// The `name` attribute with whitespace runs (modelers' line breaks) collapsed to one space.
pub(crate) fn name_of(el: &Element) -> Option<String> {
    el.attr("name")
        .map(crate::diagnostic::one_line)
        .filter(|n| !n.is_empty())
}
