//! One `<process>`: its children sorted into what idflow runs (events, activities, exclusive
//! gateways, boundary events, sequence flows), what it reads past, and what it refuses.
//!
//! Refused elements that have an id still become opaque nodes of the graph, so flows touching
//! them do not also report dangling references: one mistake, one diagnostic.

use idflow_expr::Condition;

use crate::activity;
use crate::context::{Ctx, DocumentIndex};
use crate::diagnostic::{codes, truncate};
use crate::duration::parse_duration_ms;
use crate::graph;
use crate::model::{Definition, Flow, Node, NodeKind};
use crate::raw::{name_of, Catch, RawFlow, RawKind, RawNode};
use crate::xml::{Element, Ns, IDFLOW_NS};
use crate::Id;

/// The longest process id accepted: it is the definition's name in URLs.
pub const MAX_PROCESS_ID_LEN: usize = 128;
const MAX_ID_LEN: usize = 256;
/// Conditions longer than this are refused: a gateway condition is a short test.
const MAX_CONDITION_LEN: usize = 4096;
/// `&&` / `||` chains build trees as deep as they are long, and the condition parser does not
/// bound them; every walk of the tree (checks, evaluation, drop) recurses, so they are bounded
/// here before parsing.
const MAX_CONDITION_OPERATORS: usize = 64;

/// A checked process, ready to become a [`Definition`].
pub(crate) struct ProcessParts {
    pub(crate) process_id: String,
    name: Option<String>,
    nodes: Vec<Node>,
    flows: Vec<Flow>,
    error_ends: Vec<String>,
}

impl ProcessParts {
    pub(crate) fn assemble(self, content_hash: String) -> Result<Definition, String> {
        let mut definition = Definition::assemble(
            self.process_id,
            self.name,
            content_hash,
            self.nodes,
            self.flows,
        )?;
        for id in &self.error_ends {
            definition.mark_error_end(id)?;
        }
        Ok(definition)
    }
}

/// Process children idflow reads past without a word: documentation, pools' lanes, artifacts
/// and data declarations that nothing executes.
const PASSIVE: &[&str] = &[
    "documentation",
    "extensionElements",
    "laneSet",
    "textAnnotation",
    "association",
    "group",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "property",
    "auditing",
    "monitoring",
    "supports",
];

/// Children with data or resource semantics idflow does not apply: worth a warning, since a
/// designer may expect them to do something.
const IGNORED_WITH_WARNING: &[&str] = &[
    "ioSpecification",
    "ioBinding",
    "dataInputAssociation",
    "dataOutputAssociation",
    "resourceRole",
    "performer",
    "humanPerformer",
    "potentialOwner",
    "correlationSubscription",
    "dataInput",
    "dataOutput",
    "inputSet",
    "outputSet",
    "rendering",
];

/// Reads one process; returns its parts when it (and everything before it) had no error.
pub(crate) fn check_process(
    ctx: &mut Ctx<'_>,
    process: &Element,
    index: &DocumentIndex<'_>,
) -> Option<ProcessParts> {
    let errors_before = ctx.error_count();
    let process_id = check_process_id(ctx, process);
    if process.attr("isExecutable").map(str::trim) == Some("false") {
        ctx.warn(
            codes::NOT_EXECUTABLE,
            process,
            process.id(),
            "the process is marked isExecutable=\"false\"; idflow deploys it as executable".into(),
        );
    }

    let mut nodes = Vec::new();
    let mut flows = Vec::new();
    for child in &process.children {
        match &child.ns {
            Ns::Bpmn => match child.local.as_str() {
                "startEvent" => read_start(ctx, child, &mut nodes),
                "endEvent" => read_end(ctx, child, index, &mut nodes),
                "task" | "serviceTask" | "userTask" => read_activity(ctx, child, &mut nodes),
                "exclusiveGateway" => read_gateway(ctx, child, &mut nodes),
                "boundaryEvent" => read_boundary(ctx, child, index, &mut nodes),
                "sequenceFlow" => read_flow(ctx, child, &mut flows),
                local if PASSIVE.contains(&local) => {}
                local if IGNORED_WITH_WARNING.contains(&local) => ignored(ctx, child, None),
                local => {
                    ctx.error(
                        codes::UNSUPPORTED_ELEMENT,
                        child,
                        child.id(),
                        format!(
                            "<{}> is not run by idflow: {}",
                            child.qname,
                            unsupported_hint(local)
                        ),
                    );
                    if let Some(id) = child.id() {
                        nodes.push(RawNode {
                            el: child,
                            id,
                            kind: RawKind::Opaque,
                            flow_refs: Vec::new(),
                        });
                    }
                }
            },
            Ns::Diagram => {}
            _ => ignored(ctx, child, None),
        }
    }

    graph::check(ctx, process, &nodes, &flows, index);

    if ctx.error_count() > errors_before {
        return None;
    }
    let process_id = process_id?;
    let mut model_nodes = Vec::with_capacity(nodes.len());
    let mut error_ends = Vec::new();
    for node in nodes {
        let kind = match node.kind {
            RawKind::Start => NodeKind::StartEvent,
            RawKind::End { error } => {
                if error {
                    error_ends.push(node.id.to_string());
                }
                NodeKind::EndEvent
            }
            RawKind::Activity {
                activity: Some(activity),
                ..
            } => NodeKind::Activity(activity),
            RawKind::Gateway { default_flow } => NodeKind::ExclusiveGateway { default_flow },
            RawKind::Boundary {
                attached_to: Some(attached_to),
                catch: Catch::Error { code },
            } => NodeKind::ErrorBoundary {
                attached_to,
                error_code: code,
            },
            RawKind::Boundary {
                attached_to: Some(attached_to),
                catch: Catch::Timer { ms, text },
            } => NodeKind::TimerBoundary {
                attached_to,
                duration_ms: ms,
                duration_text: text,
            },
            // Every other case was reported as an error above, so this process never gets here
            // with one; skipping keeps the function total.
            RawKind::Activity { activity: None, .. }
            | RawKind::Boundary { .. }
            | RawKind::Opaque => continue,
        };
        model_nodes.push(Node {
            id: Id::from(node.id),
            name: name_of(node.el),
            kind,
            location: ctx.location(node.el),
        });
    }
    let model_flows = flows
        .into_iter()
        .filter_map(|f| {
            Some(Flow {
                id: Id::from(f.id),
                name: f.name,
                source: f.source?.to_string(),
                target: f.target?.to_string(),
                condition: f.condition,
                location: ctx.location(f.el),
            })
        })
        .collect();
    Some(ProcessParts {
        process_id,
        name: name_of(process),
        nodes: model_nodes,
        flows: model_flows,
        error_ends,
    })
}

fn check_process_id(ctx: &mut Ctx<'_>, process: &Element) -> Option<String> {
    let Some(id) = process.id() else {
        ctx.error(
            codes::INVALID_PROCESS_ID,
            process,
            None,
            "the process has no id: its id is the definition's name (e.g. id=\"passcode-registration\")"
                .into(),
        );
        return None;
    };
    if !is_valid_process_id(id) {
        ctx.error(
            codes::INVALID_PROCESS_ID,
            process,
            Some(id),
            format!(
                "process id '{id}' is the definition's name: it must start with a letter or '_' and hold only ASCII letters, digits, '_', '-' and '.' (at most {MAX_PROCESS_ID_LEN})"
            ),
        );
        return None;
    }
    Some(id.to_string())
}

/// Whether `id` is usable as a process id, the definition's name: [`is_valid_id`] up to
/// [`MAX_PROCESS_ID_LEN`].
pub fn is_valid_process_id(id: &str) -> bool {
    is_valid_id(id, MAX_PROCESS_ID_LEN)
}

/// An XML NCName restricted to ASCII, so ids are safe in URLs and messages.
fn is_valid_id(id: &str, max_len: usize) -> bool {
    let mut chars = id.chars();
    id.len() <= max_len
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The element's id, or a MISSING_ID / INVALID_ID error.
fn element_id<'d>(ctx: &mut Ctx<'_>, el: &'d Element) -> Option<&'d str> {
    match el.id() {
        Some(id) => {
            if !is_valid_id(id, MAX_ID_LEN) {
                ctx.error(
                    codes::INVALID_ID,
                    el,
                    Some(id),
                    format!(
                        "id '{}' must start with a letter or '_' and hold only ASCII letters, digits, '_', '-' and '.' (at most {MAX_ID_LEN})",
                        truncate(id, 80)
                    ),
                );
            }
            Some(id)
        }
        None => {
            let what = name_of(el).map_or(String::new(), |n| format!(" (named '{n}')"));
            ctx.error(
                codes::MISSING_ID,
                el,
                None,
                format!("<{}>{what} has no id", el.qname),
            );
            None
        }
    }
}

fn ignored(ctx: &mut Ctx<'_>, el: &Element, owner_id: Option<&str>) {
    let why = match (&el.ns, el.local.as_str()) {
        (Ns::Bpmn, "ioSpecification" | "ioBinding" | "dataInputAssociation" | "dataOutputAssociation"
            | "dataInput" | "dataOutput" | "inputSet" | "outputSet" | "property") => {
            "idflow passes data through process variables and <idflow:param>"
        }
        (Ns::Bpmn, "resourceRole" | "performer" | "humanPerformer" | "potentialOwner") => {
            "idflow does not assign work to people or roles: a step is answered by the token's end user"
        }
        (Ns::Bpmn, _) => "idflow does not use it",
        _ => "it is not BPMN; extensions belong in <extensionElements>",
    };
    ctx.warn(
        codes::IGNORED_ELEMENT,
        el,
        owner_id.or(el.id()),
        format!("<{}> is read past: {why}", el.qname),
    );
}

fn unsupported_hint(local: &str) -> &'static str {
    match local {
        "parallelGateway" | "inclusiveGateway" | "complexGateway" => {
            "idflow runs one path at a time; branch with an exclusive gateway"
        }
        "eventBasedGateway" => "idflow does not wait for events; branch with an exclusive gateway",
        "subProcess" | "adHocSubProcess" | "transaction" => {
            "sub-processes are not supported; draw their content in the process itself"
        }
        "callActivity" => "idflow does not call other processes or global tasks",
        "sendTask" | "receiveTask" | "scriptTask" | "businessRuleTask" | "manualTask" => {
            "use a task, serviceTask or userTask carrying an <idflow:activity>"
        }
        "intermediateCatchEvent" | "intermediateThrowEvent" => {
            "idflow waits only at steps (forms), bounded by timer boundary events"
        }
        _ => "idflow runs start and end events, tasks carrying an <idflow:activity>, exclusive gateways, error and timer boundary events, and sequence flows",
    }
}

/// The children every flow node may have, handled here: `incoming`/`outgoing` are collected,
/// documentation and extensions read past, loops refused, anything else warned about. Event
/// definitions are left to the caller.
fn node_children<'d>(ctx: &mut Ctx<'_>, el: &'d Element, id: &str) -> Vec<&'d Element> {
    let mut flow_refs = Vec::new();
    for child in &el.children {
        match (&child.ns, child.local.as_str()) {
            (Ns::Bpmn, "incoming" | "outgoing") => flow_refs.push(child),
            (Ns::Bpmn, "documentation" | "extensionElements") => {}
            (Ns::Bpmn, local) if is_event_definition(local) => {}
            (Ns::Bpmn, "multiInstanceLoopCharacteristics" | "standardLoopCharacteristics") => ctx
                .error(
                    codes::UNSUPPORTED_ELEMENT,
                    child,
                    Some(id),
                    format!(
                        "<{}> is not run by idflow: activities run once; loop with an exclusive gateway and a flow back",
                        child.qname
                    ),
                ),
            _ => ignored(ctx, child, Some(id)),
        }
    }
    flow_refs
}

fn is_event_definition(local: &str) -> bool {
    local.ends_with("EventDefinition") || local == "eventDefinitionRef"
}

fn event_definitions(el: &Element) -> Vec<&Element> {
    el.children
        .iter()
        .filter(|c| c.ns == Ns::Bpmn && is_event_definition(&c.local))
        .collect()
}

fn read_start<'d>(ctx: &mut Ctx<'_>, el: &'d Element, nodes: &mut Vec<RawNode<'d>>) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let flow_refs = node_children(ctx, el, id);
    for def in event_definitions(el) {
        ctx.error(
            codes::UNSUPPORTED_EVENT,
            def,
            Some(id),
            format!(
                "a start event with <{}> is not supported: instances start from a process token, so the start event has no trigger",
                def.qname
            ),
        );
    }
    nodes.push(RawNode {
        el,
        id,
        kind: RawKind::Start,
        flow_refs,
    });
}

fn read_end<'d>(
    ctx: &mut Ctx<'_>,
    el: &'d Element,
    index: &DocumentIndex<'_>,
    nodes: &mut Vec<RawNode<'d>>,
) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let flow_refs = node_children(ctx, el, id);
    let defs = event_definitions(el);
    let error = match defs.as_slice() {
        [] => false,
        [def] if def.local == "errorEventDefinition" => {
            // The code of an error end is informative only; the reference must still resolve.
            let _ = error_code_of(ctx, def, id, index);
            true
        }
        _ => {
            for def in defs.iter().filter(|d| d.local != "errorEventDefinition") {
                ctx.error(
                    codes::UNSUPPORTED_EVENT,
                    def,
                    Some(id),
                    format!(
                        "an end event with <{}> is not supported: idflow ends with a plain end event or an error end event (<errorEventDefinition/>)",
                        def.qname
                    ),
                );
            }
            if defs.len() > 1 {
                ctx.error(
                    codes::UNSUPPORTED_EVENT,
                    el,
                    Some(id),
                    "an end event with several event definitions is not supported".into(),
                );
            }
            false
        }
    };
    nodes.push(RawNode {
        el,
        id,
        kind: RawKind::End { error },
        flow_refs,
    });
}

/// Resolves an errorEventDefinition's `errorRef` to its `errorCode`: `Ok(None)` catches every
/// code; `Err` when the reference is broken (reported).
fn error_code_of(
    ctx: &mut Ctx<'_>,
    def: &Element,
    owner: &str,
    index: &DocumentIndex<'_>,
) -> Result<Option<String>, ()> {
    let Some(error_ref) = def
        .attr("errorRef")
        .map(str::trim)
        .filter(|r| !r.is_empty())
    else {
        return Ok(None);
    };
    match index.errors.get(error_ref) {
        Some(error) => match &error.code {
            Some(code) => Ok(Some(code.clone())),
            None => {
                let at = ctx.location(error.element);
                ctx.error(
                    codes::INVALID_ERROR,
                    def,
                    Some(owner),
                    format!(
                        "errorRef '{error_ref}' names a <bpmn:error> (at {}:{}) without an errorCode: give it the code to catch, e.g. errorCode=\"USER_NOT_FOUND\"",
                        at.line, at.column
                    ),
                );
                Err(())
            }
        },
        None => {
            let message = match index.ids.get(error_ref) {
                Some(other) => format!(
                    "errorRef '{error_ref}' names a <{}>, not a <bpmn:error>",
                    other.qname
                ),
                None => format!(
                    "errorRef '{error_ref}' names no <bpmn:error> in this file; declare <bpmn:error id=\"{error_ref}\" errorCode=\"...\"/> under <definitions>"
                ),
            };
            ctx.error(codes::DANGLING_REFERENCE, def, Some(owner), message);
            Err(())
        }
    }
}

fn read_activity<'d>(ctx: &mut Ctx<'_>, el: &'d Element, nodes: &mut Vec<RawNode<'d>>) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let flow_refs = node_children(ctx, el, id);
    let (activity, spec) = activity::read(ctx, el, id);
    if let Some(spec) = spec {
        if spec.is_step() && el.local == "serviceTask" {
            ctx.warn(
                codes::STEP_ON_SERVICE_TASK,
                el,
                Some(id),
                format!(
                    "'{}' is a step (a form the end user answers) drawn as a serviceTask; a userTask shows that in the diagram",
                    spec.name
                ),
            );
        }
    }
    nodes.push(RawNode {
        el,
        id,
        kind: RawKind::Activity { activity, spec },
        flow_refs,
    });
}

fn read_gateway<'d>(ctx: &mut Ctx<'_>, el: &'d Element, nodes: &mut Vec<RawNode<'d>>) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let flow_refs = node_children(ctx, el, id);
    let default_flow = el
        .attr("default")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    nodes.push(RawNode {
        el,
        id,
        kind: RawKind::Gateway { default_flow },
        flow_refs,
    });
}

fn read_boundary<'d>(
    ctx: &mut Ctx<'_>,
    el: &'d Element,
    index: &DocumentIndex<'_>,
    nodes: &mut Vec<RawNode<'d>>,
) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let flow_refs = node_children(ctx, el, id);
    let attached_to = match el.attr("attachedToRef").map(str::trim) {
        Some(host) if !host.is_empty() => Some(host.to_string()),
        _ => {
            ctx.error(
                codes::MISSING_ATTRIBUTE,
                el,
                Some(id),
                "a boundary event needs attachedToRef, the id of the activity it sits on".into(),
            );
            None
        }
    };
    let mut refused = false;
    if el.attr("cancelActivity").map(str::trim) == Some("false") {
        ctx.error(
            codes::UNSUPPORTED_EVENT,
            el,
            Some(id),
            "non-interrupting boundary events (cancelActivity=\"false\") are not supported: idflow runs one path at a time"
                .into(),
        );
        refused = true;
    }
    let defs = event_definitions(el);
    let catch = match defs.as_slice() {
        [def] if def.local == "errorEventDefinition" => match error_code_of(ctx, def, id, index) {
            Ok(code) => Catch::Error { code },
            Err(()) => Catch::Invalid,
        },
        [def] if def.local == "timerEventDefinition" => read_timer(ctx, def, id),
        [] => {
            ctx.error(
                codes::UNSUPPORTED_EVENT,
                el,
                Some(id),
                "a boundary event needs an <errorEventDefinition> or a <timerEventDefinition>"
                    .into(),
            );
            Catch::Invalid
        }
        [def] => {
            ctx.error(
                codes::UNSUPPORTED_EVENT,
                def,
                Some(id),
                format!(
                    "a boundary event with <{}> is not supported: idflow catches errors and timers",
                    def.qname
                ),
            );
            Catch::Invalid
        }
        [_, second, ..] => {
            ctx.error(
                codes::UNSUPPORTED_EVENT,
                second,
                Some(id),
                "a boundary event with several event definitions is not supported: use one boundary event per error or timer"
                    .into(),
            );
            Catch::Invalid
        }
    };
    let catch = if refused { Catch::Invalid } else { catch };
    nodes.push(RawNode {
        el,
        id,
        kind: RawKind::Boundary { attached_to, catch },
        flow_refs,
    });
}

fn read_timer(ctx: &mut Ctx<'_>, def: &Element, owner: &str) -> Catch {
    if let Some(other) = def
        .children
        .iter()
        .find(|c| c.is_bpmn("timeDate") || c.is_bpmn("timeCycle"))
    {
        ctx.error(
            codes::UNSUPPORTED_EVENT,
            other,
            Some(owner),
            format!(
                "<{}> timers are not supported: give a <timeDuration> such as PT10M",
                other.qname
            ),
        );
        return Catch::Invalid;
    }
    let Some(duration) = def.bpmn_children("timeDuration").next() else {
        ctx.error(
            codes::INVALID_DURATION,
            def,
            Some(owner),
            "the timer has no <timeDuration> (an ISO 8601 duration such as PT10M)".into(),
        );
        return Catch::Invalid;
    };
    let text = duration.text.trim();
    match parse_duration_ms(text) {
        Ok(ms) => Catch::Timer {
            ms,
            text: text.to_string(),
        },
        Err(reason) => {
            ctx.error(codes::INVALID_DURATION, duration, Some(owner), reason);
            Catch::Invalid
        }
    }
}

fn read_flow<'d>(ctx: &mut Ctx<'_>, el: &'d Element, flows: &mut Vec<RawFlow<'d>>) {
    let Some(id) = element_id(ctx, el) else {
        return;
    };
    let mut endpoint = |attr: &str, what: &str| match el.attr(attr).map(str::trim) {
        Some(r) if !r.is_empty() => Some(r),
        _ => {
            ctx.error(
                codes::MISSING_ATTRIBUTE,
                el,
                Some(id),
                format!("a sequence flow needs {attr}, the id of its {what}"),
            );
            None
        }
    };
    let source = endpoint("sourceRef", "source");
    let target = endpoint("targetRef", "target");
    let mut condition_el = None;
    for child in &el.children {
        match (&child.ns, child.local.as_str()) {
            (Ns::Bpmn, "conditionExpression") if condition_el.is_none() => {
                condition_el = Some(child)
            }
            (Ns::Bpmn, "documentation" | "extensionElements") => {}
            _ => ignored(ctx, child, Some(id)),
        }
    }
    let condition = condition_el.and_then(|c| read_condition(ctx, c, id));
    flows.push(RawFlow {
        el,
        id,
        name: name_of(el),
        source,
        target,
        has_condition: condition_el.is_some(),
        condition,
    });
}

/// Parses a `<conditionExpression>` in idflow's condition language.
fn read_condition(ctx: &mut Ctx<'_>, el: &Element, flow_id: &str) -> Option<Condition> {
    if let Some(language) = el.attr("language").map(str::trim) {
        let ours =
            language.is_empty() || language.eq_ignore_ascii_case("idflow") || language == IDFLOW_NS;
        if !ours {
            ctx.error(
                codes::CONDITION_LANGUAGE,
                el,
                Some(flow_id),
                format!(
                    "condition language '{}' is not supported: leave language out (or write language=\"idflow\") and use idflow conditions such as <<processvar._decision>> == \"PASS\"",
                    truncate(language, 80)
                ),
            );
            return None;
        }
    }
    let text = el.text.trim();
    if text.is_empty() {
        ctx.error(
            codes::EXPRESSION_SYNTAX,
            el,
            Some(flow_id),
            "the condition is empty".into(),
        );
        return None;
    }
    let operators = text.matches("&&").count() + text.matches("||").count();
    if text.len() > MAX_CONDITION_LEN || operators > MAX_CONDITION_OPERATORS {
        ctx.error(
            codes::EXPRESSION_SYNTAX,
            el,
            Some(flow_id),
            format!(
                "the condition is too long ({} characters, {operators} && / || operators; at most {MAX_CONDITION_LEN} and {MAX_CONDITION_OPERATORS}): split the decision over several gateways",
                text.chars().count()
            ),
        );
        return None;
    }
    match Condition::parse(text) {
        Ok(condition) => {
            if let Some(problem) = non_boolean_literal(&condition) {
                ctx.error(
                    codes::CONDITION_TYPE,
                    el,
                    Some(flow_id),
                    format!("condition `{}`: {problem}", truncate(text, 120)),
                );
                return None;
            }
            Some(condition)
        }
        Err(e) => {
            ctx.error(
                codes::EXPRESSION_SYNTAX,
                el,
                Some(flow_id),
                format!("condition: {}", truncate(&e.to_string(), 240)),
            );
            None
        }
    }
}

/// A literal standing where a boolean is needed (alone, or under `!`, `&&`, `||`) can never
/// evaluate: report it at load time rather than on the first instance.
fn non_boolean_literal(condition: &Condition) -> Option<String> {
    match condition {
        Condition::Literal(v) if !v.is_boolean() => Some(format!(
            "the literal {v} is not a boolean; compare it with ==, != or <"
        )),
        Condition::Not(inner) => non_boolean_literal(inner),
        Condition::And(a, b) | Condition::Or(a, b) => {
            non_boolean_literal(a).or_else(|| non_boolean_literal(b))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ascii_xml_names() {
        for ok in ["addUser", "_1373649849716", "sid-EA2A.4BE7", "WFP-6-", "a"] {
            assert!(is_valid_id(ok, MAX_ID_LEN), "{ok}");
        }
        for bad in ["", "1abc", "-x", "a b", "a:b", "añ", "a/b"] {
            assert!(!is_valid_id(bad, MAX_ID_LEN), "{bad}");
        }
        assert!(!is_valid_id(&"a".repeat(129), MAX_PROCESS_ID_LEN));
    }
}
