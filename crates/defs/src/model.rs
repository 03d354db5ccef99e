//! The validated process graph a definition file becomes: nodes and flows addressed by their
//! BPMN element IDs, never by graph indices.
//!
//! A [`Definition`] only exists once the loader has checked it (one start event, reachability,
//! parameters against the catalogue, ...), so the engine may rely on those invariants and still
//! reports, rather than panics, if one were ever broken.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use idflow_expr::{Condition, ParamExpr};
use serde_json::Value;

use crate::catalogue::{ActivitySpec, ActivityType};
use crate::Id;

/// The definition's maps from BPMN IDs, hashed with foldhash rather than SipHash: the engine
/// looks nodes and flows up by ID at every node it walks, ~270 instructions a lookup with SipHash
/// and ~110 with foldhash (`idflow bench engine`, BENCHMARKS.md). Still randomly seeded.
type IdMap<V> = HashMap<Id, V, foldhash::fast::RandomState>;

/// A position in a definition file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// A validated process definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The process `id`: the definition's name when deployed.
    pub process_id: String,
    /// The process `name` attribute, if any.
    pub name: Option<String>,
    /// Hex SHA-256 of the file's bytes: identical content is the same version.
    pub content_hash: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) node_index: IdMap<usize>,
    pub(crate) flow_index: IdMap<usize>,
    /// Indices into `flows`, per node, in document order.
    pub(crate) outgoing: Vec<Vec<usize>>,
    /// Indices into `nodes` of the boundary events attached to each node.
    pub(crate) boundaries: Vec<Vec<usize>>,
    /// Index into `nodes` of each flow's target.
    pub(crate) flow_targets: Vec<usize>,
    pub(crate) start: usize,
    /// Indices into `nodes` of the end events holding an `<errorEventDefinition>`.
    pub(crate) error_ends: HashSet<usize, foldhash::fast::RandomState>,
}

/// One executable element.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: Id,
    pub name: Option<String>,
    pub kind: NodeKind,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    StartEvent,
    /// Reaching it ends the instance; its name is recorded as the outcome.
    EndEvent,
    Activity(Activity),
    ExclusiveGateway {
        /// The `default` flow's ID.
        default_flow: Option<String>,
    },
    ErrorBoundary {
        attached_to: String,
        /// The `errorCode` of the referenced `bpmn:error`; `None` catches every code.
        error_code: Option<String>,
    },
    TimerBoundary {
        attached_to: String,
        /// The ISO 8601 `timeDuration`, in milliseconds.
        duration_ms: u64,
        /// The ISO 8601 text as written, for messages.
        duration_text: String,
    },
}

/// An activity node: its catalogue type and every parameter of that type, defaults filled in.
#[derive(Debug, Clone)]
pub struct Activity {
    pub activity_type: ActivityType,
    /// One entry per catalogue parameter that has a value (given or default), in catalogue order,
    /// under the catalogue's canonical name.
    pub params: Vec<Param>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub value: ParamExpr,
    /// A constant parameter's value (plain text or a typed literal) as the engine resolved it,
    /// coerced to its catalogue type: set the first time the engine resolves the parameter, then
    /// shared by every instance's inputs and history instead of copied for each. Empty for
    /// parameters that read variables.
    pub constant: OnceLock<Arc<Value>>,
}

impl Param {
    pub fn new(name: &'static str, value: ParamExpr) -> Param {
        Param {
            name,
            value,
            constant: OnceLock::new(),
        }
    }
}

impl Activity {
    pub fn spec(&self) -> &'static ActivitySpec {
        self.activity_type.spec()
    }

    pub fn param(&self, name: &str) -> Option<&ParamExpr> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    }
}

/// A sequence flow.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: Id,
    pub name: Option<String>,
    pub source: String,
    pub target: String,
    pub condition: Option<Condition>,
    pub location: Location,
}

impl Definition {
    /// Assembles a definition from checked parts. Used by the loader after validation and by
    /// tests that build graphs by hand; returns an error naming the first broken reference.
    pub fn assemble(
        process_id: String,
        name: Option<String>,
        content_hash: String,
        nodes: Vec<Node>,
        flows: Vec<Flow>,
    ) -> Result<Definition, String> {
        let mut node_index = IdMap::with_capacity_and_hasher(nodes.len(), Default::default());
        for (i, n) in nodes.iter().enumerate() {
            if node_index.insert(n.id.clone(), i).is_some() {
                return Err(format!("duplicate node id '{}'", n.id));
            }
        }
        let mut flow_index = IdMap::with_capacity_and_hasher(flows.len(), Default::default());
        let mut outgoing = vec![Vec::new(); nodes.len()];
        let mut flow_targets = Vec::with_capacity(flows.len());
        for (i, f) in flows.iter().enumerate() {
            if flow_index.insert(f.id.clone(), i).is_some()
                || node_index.contains_key(f.id.as_str())
            {
                return Err(format!("duplicate id '{}'", f.id));
            }
            let src = *node_index
                .get(f.source.as_str())
                .ok_or_else(|| format!("flow '{}' has unknown source '{}'", f.id, f.source))?;
            let target = *node_index
                .get(f.target.as_str())
                .ok_or_else(|| format!("flow '{}' has unknown target '{}'", f.id, f.target))?;
            flow_targets.push(target);
            outgoing[src].push(i);
        }
        let mut boundaries = vec![Vec::new(); nodes.len()];
        let mut starts = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            match &n.kind {
                NodeKind::ErrorBoundary { attached_to, .. }
                | NodeKind::TimerBoundary { attached_to, .. } => {
                    let host = *node_index.get(attached_to.as_str()).ok_or_else(|| {
                        format!("boundary '{}' attached to unknown '{}'", n.id, attached_to)
                    })?;
                    boundaries[host].push(i);
                }
                NodeKind::StartEvent => starts.push(i),
                _ => {}
            }
        }
        let start = match starts.as_slice() {
            [s] => *s,
            _ => {
                return Err(format!(
                    "{} start events, expected exactly one",
                    starts.len()
                ))
            }
        };
        Ok(Definition {
            process_id,
            name,
            content_hash,
            nodes,
            flows,
            node_index,
            flow_index,
            outgoing,
            boundaries,
            flow_targets,
            start,
            error_ends: HashSet::default(),
        })
    }

    /// The start event.
    pub fn start(&self) -> &Node {
        &self.nodes[self.start]
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.node_index.get(id).map(|&i| &self.nodes[i])
    }

    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flow_index.get(id).map(|&i| &self.flows[i])
    }

    /// Every node, in document order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    /// Every flow, in document order.
    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.iter()
    }

    /// The flows leaving `node_id`, in document order (the order gateways test conditions in).
    pub fn outgoing(&self, node_id: &str) -> impl Iterator<Item = &Flow> {
        self.node_index
            .get(node_id)
            .map(|&i| self.outgoing[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&f| &self.flows[f])
    }

    /// Whether `node_id` is an error end event (an `<endEvent>` holding an
    /// `<errorEventDefinition>`): reaching it ends the instance as COMPLETED_ENDED_ERROR.
    pub fn is_error_end(&self, node_id: &str) -> bool {
        self.node_index
            .get(node_id)
            .is_some_and(|i| self.error_ends.contains(i))
    }

    /// Marks end event `node_id` as an error end. The loader calls it for every end event with
    /// an `<errorEventDefinition>`; tests that assemble graphs by hand may call it too.
    pub fn mark_error_end(&mut self, node_id: &str) -> Result<(), String> {
        let &i = self
            .node_index
            .get(node_id)
            .ok_or_else(|| format!("no node '{node_id}'"))?;
        match self.nodes.get(i).map(|n| &n.kind) {
            Some(NodeKind::EndEvent) => {
                self.error_ends.insert(i);
                Ok(())
            }
            _ => Err(format!("'{node_id}' is not an end event")),
        }
    }

    /// The boundary events attached to `node_id`, in document order.
    pub fn boundaries(&self, node_id: &str) -> impl Iterator<Item = &Node> {
        self.node_index
            .get(node_id)
            .map(|&i| self.boundaries[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&n| &self.nodes[n])
    }

    // The same questions asked of a node or flow this definition handed out (`node`, `start`,
    // a flow of `outgoing_from`, ...), answered by its position rather than by hashing its ID:
    // the engine asks them at every node it walks (`idflow bench engine`, BENCHMARKS.md). A node
    // or flow of another definition is looked up by its ID.

    /// [`Definition::outgoing`] of `node`.
    pub fn outgoing_from(&self, node: &Node) -> impl Iterator<Item = &Flow> {
        self.node_position(node)
            .map(|i| self.outgoing[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&f| &self.flows[f])
    }

    /// [`Definition::boundaries`] of `node`.
    pub fn boundaries_on(&self, node: &Node) -> impl Iterator<Item = &Node> {
        self.node_position(node)
            .map(|i| self.boundaries[i].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|&n| &self.nodes[n])
    }

    /// [`Definition::is_error_end`] of `node`.
    pub fn is_error_end_node(&self, node: &Node) -> bool {
        self.node_position(node)
            .is_some_and(|i| self.error_ends.contains(&i))
    }

    /// The node `flow` leads to.
    pub fn target(&self, flow: &Flow) -> Option<&Node> {
        match position(&self.flows, flow) {
            Some(i) => self.flow_targets.get(i).map(|&n| &self.nodes[n]),
            None => self.node(&flow.target),
        }
    }

    fn node_position(&self, node: &Node) -> Option<usize> {
        position(&self.nodes, node).or_else(|| self.node_index.get(node.id.as_str()).copied())
    }
}

/// The index of `item` in `items` when it is one of them (found from its address).
fn position<T>(items: &[T], item: &T) -> Option<usize> {
    let size = std::mem::size_of::<T>();
    let offset = (item as *const T as usize).checked_sub(items.as_ptr() as usize)?;
    let index = offset / size.max(1);
    (offset % size.max(1) == 0 && index < items.len()).then_some(index)
}
