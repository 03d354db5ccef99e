//! Graph checks of one process over a petgraph of its flow nodes: references resolve, one start
//! event, every node reachable from it, every node can reach an end, flows idflow can follow
//! (no implicit splits, conditions only on gateways), gateways with conditions or a default,
//! boundary events on activities that can fire them.
//!
//! Boundary events are joined to their activity by an implicit edge, so a path through an error
//! boundary counts as a path. Refused (opaque) nodes take part in the graph but are not reported
//! again.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed};

use crate::context::{Ctx, DocumentIndex};
use crate::diagnostic::codes;
use crate::raw::{name_of, Catch, RawFlow, RawKind, RawNode};
use crate::xml::Element;

/// What a boundary event catches, for duplicate detection.
#[derive(PartialEq, Eq)]
enum CatchKey {
    AnyError,
    Code(String),
    Timer,
}

pub(crate) fn check(
    ctx: &mut Ctx<'_>,
    process: &Element,
    nodes: &[RawNode<'_>],
    flows: &[RawFlow<'_>],
    index: &DocumentIndex<'_>,
) {
    let mut node_index: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        node_index.entry(n.id).or_insert(i);
    }
    let mut flow_index: HashMap<&str, usize> = HashMap::new();
    for (i, f) in flows.iter().enumerate() {
        flow_index.entry(f.id).or_insert(i);
    }
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(nodes.len(), flows.len());
    let graph_ix: Vec<NodeIndex> = (0..nodes.len()).map(|i| graph.add_node(i)).collect();
    let gx = |i: usize| graph_ix.get(i).copied().unwrap_or_default();

    // Sequence flows: resolve both ends, record them per node, check what may connect.
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (fi, flow) in flows.iter().enumerate() {
        let mut resolve = |attr: &str, target: Option<&str>| {
            let target = target?;
            match node_index.get(target) {
                Some(&i) => Some(i),
                None => {
                    let message = match (flow_index.contains_key(target), index.ids.get(target)) {
                        (true, _) => format!(
                            "{attr} '{target}' names a sequence flow; it must name a flow node (event, task or gateway)"
                        ),
                        (false, Some(other)) => format!(
                            "{attr} '{target}' names <{}>, which is not a flow node of this process",
                            other.qname
                        ),
                        (false, None) => {
                            format!("{attr} '{target}' names no element of this process")
                        }
                    };
                    ctx.error(codes::DANGLING_REFERENCE, flow.el, Some(flow.id), message);
                    None
                }
            }
        };
        let source = resolve("sourceRef", flow.source);
        let target = resolve("targetRef", flow.target);
        if let (Some(s), Some(t)) = (source, target) {
            graph.add_edge(gx(s), gx(t), ());
        }
        if let Some(s) = source {
            if let Some(list) = outgoing.get_mut(s) {
                list.push(fi);
            }
        }
        check_flow_ends(
            ctx,
            flow,
            source.and_then(|s| nodes.get(s)),
            target.and_then(|t| nodes.get(t)),
        );
    }

    // <incoming>/<outgoing> children are redundant with sourceRef/targetRef, but must not dangle.
    for node in nodes {
        for r in &node.flow_refs {
            let named = r.text.trim();
            if !flow_index.contains_key(named) {
                ctx.error(
                    codes::DANGLING_REFERENCE,
                    r,
                    Some(node.id),
                    format!(
                        "<{}> names '{}', which is no sequence flow of this process",
                        r.qname,
                        crate::diagnostic::truncate(named, 80)
                    ),
                );
            }
        }
    }

    check_boundaries(ctx, nodes, &node_index, &mut graph, &graph_ix);

    // A node whose id repeats an earlier one (reported as DUPLICATE_ID) cannot be connected, and
    // a boundary event without a host cannot be reached: neither is reported again.
    let reported: Vec<bool> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let duplicate = node_index.get(n.id) != Some(&i);
            let unanchored = matches!(&n.kind, RawKind::Boundary { attached_to, .. }
                if attached_to.as_deref().is_none_or(|h| !node_index.contains_key(h)));
            duplicate || unanchored
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        if reported.get(i).copied().unwrap_or(false) {
            continue;
        }
        let outs = outgoing.get(i).map(Vec::as_slice).unwrap_or_default();
        check_outgoing(ctx, node, outs, flows, &flow_index);
    }

    check_start_and_ends(ctx, process, nodes, &graph, &graph_ix, &reported);
}

/// How messages name a node: its kind and its name (or, without one, its id).
fn label(node: &RawNode<'_>) -> String {
    let kind = match node.el.local.as_str() {
        "startEvent" => "start event",
        "endEvent" => "end event",
        "boundaryEvent" => "boundary event",
        "exclusiveGateway" => "exclusive gateway",
        "task" | "serviceTask" | "userTask" => "task",
        _ => "element",
    };
    match name_of(node.el) {
        Some(name) => format!("{kind} '{name}'"),
        None => format!("{kind} '{}'", node.id),
    }
}

/// What may connect: nothing flows into a start or boundary event or out of an end event, and
/// only gateways test conditions.
fn check_flow_ends(
    ctx: &mut Ctx<'_>,
    flow: &RawFlow<'_>,
    source: Option<&RawNode<'_>>,
    target: Option<&RawNode<'_>>,
) {
    if let Some(t) = target {
        if matches!(t.kind, RawKind::Start | RawKind::Boundary { .. }) {
            ctx.error(
                codes::INVALID_FLOW,
                flow.el,
                Some(flow.id),
                format!("the flow enters {}: nothing may flow into it", label(t)),
            );
        }
    }
    if let Some(s) = source {
        match s.kind {
            RawKind::End { .. } => ctx.error(
                codes::INVALID_FLOW,
                flow.el,
                Some(flow.id),
                format!(
                    "the flow leaves {}: an end event has no outgoing flows",
                    label(s)
                ),
            ),
            RawKind::Gateway { .. } | RawKind::Opaque => {}
            _ if flow.has_condition => ctx.error(
                codes::INVALID_FLOW,
                flow.el,
                Some(flow.id),
                format!(
                    "a condition on a flow leaving {} is not supported: put an exclusive gateway after it and the condition on the gateway's flow",
                    label(s)
                ),
            ),
            _ => {}
        }
    }
}

/// Boundary events: attached to an existing activity, catching something that activity can
/// raise, timers only on steps, no two catching the same thing.
fn check_boundaries(
    ctx: &mut Ctx<'_>,
    nodes: &[RawNode<'_>],
    node_index: &HashMap<&str, usize>,
    graph: &mut DiGraph<usize, ()>,
    graph_ix: &[NodeIndex],
) {
    let mut caught: HashMap<usize, Vec<CatchKey>> = HashMap::new();
    for (bi, boundary) in nodes.iter().enumerate() {
        let RawKind::Boundary {
            attached_to: Some(host_id),
            catch,
        } = &boundary.kind
        else {
            continue;
        };
        let Some(&hi) = node_index.get(host_id.as_str()) else {
            ctx.error(
                codes::DANGLING_REFERENCE,
                boundary.el,
                Some(boundary.id),
                format!(
                    "attachedToRef '{}' names no activity of this process",
                    crate::diagnostic::truncate(host_id, 80)
                ),
            );
            continue;
        };
        if let (Some(&h), Some(&b)) = (graph_ix.get(hi), graph_ix.get(bi)) {
            graph.add_edge(h, b, ());
        }
        let Some(host) = nodes.get(hi) else {
            continue;
        };
        let spec = match &host.kind {
            RawKind::Activity { spec, .. } => *spec,
            RawKind::Opaque => continue,
            _ => {
                ctx.error(
                    codes::BOUNDARY_NOT_ON_ACTIVITY,
                    boundary.el,
                    Some(boundary.id),
                    format!(
                        "the boundary event is attached to {}; boundary events sit on activities (tasks)",
                        label(host)
                    ),
                );
                continue;
            }
        };
        let key = match catch {
            Catch::Error { code: None } => CatchKey::AnyError,
            Catch::Error { code: Some(code) } => CatchKey::Code(code.clone()),
            Catch::Timer { .. } => CatchKey::Timer,
            Catch::Invalid => continue,
        };
        if let Some(spec) = spec {
            match &key {
                CatchKey::Code(code) if !spec.raises(code) => {
                    let raises = if spec.error_codes.is_empty() {
                        "it raises no error codes".to_string()
                    } else {
                        format!("it raises {}", spec.error_codes.join(", "))
                    };
                    ctx.error(
                        codes::UNKNOWN_ERROR_CODE,
                        boundary.el,
                        Some(boundary.id),
                        format!(
                            "'{}' cannot raise error code '{}'; {raises}",
                            spec.name,
                            crate::diagnostic::truncate(code, 80)
                        ),
                    );
                }
                CatchKey::Timer if !spec.is_step() => ctx.error(
                    codes::TIMER_NOT_ON_STEP,
                    boundary.el,
                    Some(boundary.id),
                    format!(
                        "'{}' is not a step: a timer can only bound a wait for the end user (a form)",
                        spec.name
                    ),
                ),
                _ => {}
            }
        }
        let seen = caught.entry(hi).or_default();
        if seen.contains(&key) {
            let what = match &key {
                CatchKey::AnyError => "every error (no errorRef)".to_string(),
                CatchKey::Code(code) => format!("error code '{code}'"),
                CatchKey::Timer => "a timer".to_string(),
            };
            ctx.error(
                codes::DUPLICATE_BOUNDARY,
                boundary.el,
                Some(boundary.id),
                format!(
                    "another boundary event on {} already catches {what}",
                    label(host)
                ),
            );
        } else {
            seen.push(key);
        }
    }
}

/// A node's outgoing flows: one path out of events and activities, conditions or a default out
/// of gateways, and some way out of everything but an end.
fn check_outgoing(
    ctx: &mut Ctx<'_>,
    node: &RawNode<'_>,
    outs: &[usize],
    flows: &[RawFlow<'_>],
    flow_index: &HashMap<&str, usize>,
) {
    match &node.kind {
        RawKind::End { .. } | RawKind::Opaque => return,
        RawKind::Start | RawKind::Activity { .. } | RawKind::Boundary { .. } if outs.len() > 1 => {
            let ids: Vec<&str> = outs
                .iter()
                .filter_map(|&f| flows.get(f).map(|f| f.id))
                .collect();
            ctx.error(
                codes::INVALID_FLOW,
                node.el,
                Some(node.id),
                format!(
                    "{} has {} outgoing sequence flows ({}): idflow follows one path at a time; branch with an exclusive gateway",
                    label(node),
                    outs.len(),
                    ids.join(", ")
                ),
            );
        }
        RawKind::Gateway { default_flow } => {
            check_gateway(ctx, node, default_flow.as_deref(), outs, flows, flow_index)
        }
        _ => {}
    }
    if outs.is_empty() {
        ctx.error(
            codes::NO_OUTGOING,
            node.el,
            Some(node.id),
            format!(
                "{} has no outgoing sequence flow: connect it to the next element or to an end event",
                label(node)
            ),
        );
    }
}

fn check_gateway(
    ctx: &mut Ctx<'_>,
    node: &RawNode<'_>,
    default_flow: Option<&str>,
    outs: &[usize],
    flows: &[RawFlow<'_>],
    flow_index: &HashMap<&str, usize>,
) {
    let mut valid_default = None;
    if let Some(default) = default_flow {
        match flow_index.get(default) {
            None => ctx.error(
                codes::DANGLING_REFERENCE,
                node.el,
                Some(node.id),
                format!(
                    "default '{}' names no sequence flow of this process",
                    crate::diagnostic::truncate(default, 80)
                ),
            ),
            Some(fi) if !outs.contains(fi) => ctx.error(
                codes::INVALID_DEFAULT,
                node.el,
                Some(node.id),
                format!("default flow '{default}' does not leave this gateway"),
            ),
            Some(&fi) => {
                if flows.get(fi).is_some_and(|f| f.has_condition) {
                    let flow_el = flows.get(fi).map_or(node.el, |f| f.el);
                    ctx.error(
                        codes::INVALID_DEFAULT,
                        flow_el,
                        Some(default),
                        "the gateway's default flow carries a condition; the default is taken when no other condition holds, so it has none"
                            .into(),
                    );
                }
                valid_default = Some(fi);
            }
        }
    }
    if outs.len() >= 2 {
        for &fi in outs {
            let Some(flow) = flows.get(fi) else {
                continue;
            };
            if !flow.has_condition && valid_default != Some(fi) && default_flow != Some(flow.id) {
                ctx.error(
                    codes::MISSING_CONDITION,
                    flow.el,
                    Some(flow.id),
                    format!(
                        "the flow leaves {}, which branches, without a condition and is not its default",
                        label(node)
                    ),
                );
            }
        }
    }
    let all_conditional = outs
        .iter()
        .all(|&fi| flows.get(fi).is_some_and(|f| f.has_condition));
    if !outs.is_empty() && default_flow.is_none() && all_conditional {
        ctx.warn(
            codes::NO_DEFAULT,
            node.el,
            Some(node.id),
            format!(
                "every flow leaving {} has a condition and none is the default: when no condition holds the instance ends with a process error",
                label(node)
            ),
        );
    }
}

/// Exactly one start event, at least one end event, every node reachable from the start, and a
/// way from every reachable node to an end.
fn check_start_and_ends(
    ctx: &mut Ctx<'_>,
    process: &Element,
    nodes: &[RawNode<'_>],
    graph: &DiGraph<usize, ()>,
    graph_ix: &[NodeIndex],
    already_reported: &[bool],
) {
    let starts: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.kind, RawKind::Start))
        .map(|(i, _)| i)
        .collect();
    match starts.as_slice() {
        [] => ctx.error(
            codes::NO_START_EVENT,
            process,
            process.id(),
            "the process has no start event".into(),
        ),
        [_] => {}
        [first, rest @ ..] => {
            let first_label = nodes.get(*first).map(label).unwrap_or_default();
            for &extra in rest {
                if let Some(n) = nodes.get(extra) {
                    ctx.error(
                        codes::MULTIPLE_START_EVENTS,
                        n.el,
                        Some(n.id),
                        format!(
                            "a second start event (the first is {first_label}): a process has exactly one"
                        ),
                    );
                }
            }
        }
    }
    if !nodes.iter().any(|n| matches!(n.kind, RawKind::End { .. })) {
        ctx.error(
            codes::NO_END_EVENT,
            process,
            process.id(),
            "the process has no end event".into(),
        );
    }

    // Forward: what the start events reach.
    let mut reached = vec![starts.is_empty(); nodes.len()];
    if !starts.is_empty() {
        let mut dfs = Dfs::empty(graph);
        dfs.stack
            .extend(starts.iter().filter_map(|&s| graph_ix.get(s).copied()));
        while let Some(nx) = dfs.next(graph) {
            if let Some(r) = graph.node_weight(nx).and_then(|&i| reached.get_mut(i)) {
                *r = true;
            }
        }
    }
    // Backward: what reaches an end, or a dead end (reported on its own as NO_OUTGOING, so the
    // nodes leading to it are not reported again).
    let mut finishes = vec![false; nodes.len()];
    let mut dfs = Dfs::empty(Reversed(graph));
    dfs.stack.extend(graph.node_indices().filter(|&nx| {
        let is_end = graph
            .node_weight(nx)
            .and_then(|&i| nodes.get(i))
            .is_some_and(|n| matches!(n.kind, RawKind::End { .. }));
        is_end || graph.neighbors(nx).next().is_none()
    }));
    while let Some(nx) = dfs.next(Reversed(graph)) {
        if let Some(f) = graph.node_weight(nx).and_then(|&i| finishes.get_mut(i)) {
            *f = true;
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        if matches!(node.kind, RawKind::Opaque) || already_reported.get(i).copied().unwrap_or(false)
        {
            continue;
        }
        let is_reached = reached.get(i).copied().unwrap_or(true);
        if !is_reached {
            ctx.error(
                codes::UNREACHABLE,
                node.el,
                Some(node.id),
                format!("{} cannot be reached from the start event", label(node)),
            );
        } else if !finishes.get(i).copied().unwrap_or(true) {
            ctx.error(
                codes::NO_PATH_TO_END,
                node.el,
                Some(node.id),
                format!(
                    "no path leads from {} to an end event: it loops without a way out",
                    label(node)
                ),
            );
        }
    }
}
