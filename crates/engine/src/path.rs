//! [`path_taken`]: the path a history took through its definition, in BPMN element IDs — the
//! nodes entered, the sequence flows taken, the boundary events fired, where the instance rests
//! or where it ended — for drawing a run on its diagram.
//!
//! History records a gateway's chosen flow (`GatewayChose`) but not the flow any other node
//! leaves by, because the engine always leaves such a node by its first outgoing flow (document
//! order). So the flow between two consecutive elements is read from the definition's graph: the
//! first outgoing flow of the element left whose target is the node entered next. Nothing is
//! added to history for it, so recorded histories keep their format and replay as they are.

use idflow_defs::{Definition, NodeKind};

use crate::{EventKind, HistoryEvent, Status};

/// The path of one run, each element once, in the order first reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTaken {
    /// Nodes entered, with how many times each was entered.
    pub nodes: Vec<(String, u32)>,
    /// Sequence flows taken.
    pub flows: Vec<String>,
    /// Boundary events that fired (error codes caught, timers that fell due).
    pub boundaries: Vec<String>,
    /// The step the instance rests at (while it does).
    pub resting_at: Option<String>,
    /// The end event it ended at (none when it ended otherwise: cancelled, a process error, a
    /// timer without an outgoing flow).
    pub ended_at: Option<String>,
    /// `Active` until an `InstanceEnded` event.
    pub status: Status,
}

fn push_once(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|x| x == id) {
        list.push(id.to_string());
    }
}

/// The path `events` took through `def`. Elements the definition does not have (a history
/// read against another version) still appear as nodes and boundaries; only the flows, which
/// come from the graph, need the definition to know them.
pub fn path_taken(def: &Definition, events: &[HistoryEvent]) -> PathTaken {
    let mut path = PathTaken {
        nodes: Vec::new(),
        flows: Vec::new(),
        boundaries: Vec::new(),
        resting_at: None,
        ended_at: None,
        status: Status::Active,
    };
    // The element the next flow leaves from; `None` right after a gateway's recorded choice.
    let mut leaving: Option<String> = None;
    let mut last_entered: Option<String> = None;
    for event in events {
        match &event.kind {
            EventKind::NodeEntered { node } => {
                if let Some(from) = leaving.take() {
                    if let Some(flow) = def.outgoing(&from).find(|f| f.target == **node) {
                        push_once(&mut path.flows, &flow.id);
                    }
                }
                match path.nodes.iter_mut().find(|(id, _)| id == node) {
                    Some((_, count)) => *count = count.saturating_add(1),
                    None => path.nodes.push((node.to_string(), 1)),
                }
                leaving = Some(node.to_string());
                last_entered = Some(node.to_string());
            }
            EventKind::GatewayChose { flow, .. } => {
                push_once(&mut path.flows, flow);
                leaving = None;
            }
            EventKind::BoundaryTaken { boundary, .. } => {
                push_once(&mut path.boundaries, boundary);
                leaving = Some(boundary.to_string());
                path.resting_at = None;
            }
            EventKind::StepPresented { node, .. } => path.resting_at = Some(node.to_string()),
            EventKind::StepAnswered { .. } | EventKind::Cancelled { .. } => path.resting_at = None,
            EventKind::InstanceEnded { status, .. } => {
                path.status = *status;
                path.resting_at = None;
                path.ended_at = last_entered
                    .as_deref()
                    .filter(|id| {
                        def.node(id)
                            .is_some_and(|n| matches!(n.kind, NodeKind::EndEvent))
                    })
                    .map(str::to_string);
            }
            _ => {}
        }
    }
    path
}
