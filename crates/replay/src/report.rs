//! What a replay found: per history a [`ReplayReport`] (replayed, diverged with the first
//! [`Divergence`], or refused), and for many a [`DirReport`] with its [`Summary`].

use std::fmt;

use idflow_engine::Status;
use serde_json::Value;

use crate::error::Refusal;

/// Which definition a history was replayed against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionUsed {
    /// The process ID.
    pub name: String,
    /// The file's path, or `<history>#definition` for the copy embedded in the history.
    pub source: String,
    pub content_hash: String,
    /// The recorded version itself, or a changed one.
    pub relation: Relation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// The definition has the recorded content hash: the very version the instance ran.
    Recorded,
    /// Another content under the same process ID: a changed definition.
    Changed {
        /// The content hash the history recorded.
        recorded_hash: String,
        /// The version number the history recorded.
        recorded_version: u32,
    },
}

/// One history's replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayReport {
    /// The history's path (or the label it was given).
    pub history: String,
    /// The instance ID, once the history was read.
    pub instance: Option<String>,
    /// The definition replayed against, once one was found.
    pub definition: Option<DefinitionUsed>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every event was reproduced.
    Replayed(Replayed),
    /// The re-run differs from the history; the first difference.
    Diverged(Box<Divergence>),
    /// The history could not be replayed at all.
    Refused(Refusal),
}

/// A successful replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Events reproduced.
    pub events: usize,
    /// The replayed instance's status (`ACTIVE` for a history of an instance resting at a step).
    pub status: Status,
    /// The end event reached, when ended at one.
    pub end_node: Option<String>,
}

/// A node of the definitions, by BPMN ID, with its label when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub id: String,
    pub name: Option<String>,
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "'{}' ({name})", self.id),
            None => write!(f, "'{}'", self.id),
        }
    }
}

/// One value that differs between the recorded and the replayed side. `None` is "absent".
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where: `processvar.a.b[0]` for variables, `f` or `in.Store Name` for event fields.
    pub path: String,
    pub recorded: Option<Value>,
    pub replayed: Option<Value>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| match v {
            Some(v) => shorten(&v.to_string(), 120),
            None => "(absent)".to_string(),
        };
        write!(
            f,
            "{}: {} -> {}",
            self.path,
            show(&self.recorded),
            show(&self.replayed)
        )
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// The process variables of both runs at the divergence, or why they could not be compared.
#[derive(Debug, Clone, PartialEq)]
pub enum VariableComparison {
    /// The recorded definition and the one replayed were each run on the recorded inputs up to
    /// the diverging transition; these variables differ (values redacted: secrets are markers).
    Compared(Vec<Difference>),
    /// No recorded definition was at hand (the history embeds none and no folder has it).
    Unavailable(String),
}

/// Where a replay first differs from the recorded history.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The index of the first event that differs (or is missing, or is extra).
    pub index: u64,
    /// The engine's account of it.
    pub reason: String,
    /// The node the history was at with this event (`None`: the history ends here).
    pub expected_node: Option<NodeRef>,
    /// The node the replay reached instead (`None`: the replay ended or stopped here).
    pub reached_node: Option<NodeRef>,
    /// The recorded event in the export format, if any.
    pub recorded_event: Option<Value>,
    /// The replayed event in the export format, if any.
    pub replayed_event: Option<Value>,
    /// The fields of the two events that differ.
    pub event_differences: Vec<Difference>,
    pub variables: VariableComparison,
}

/// How many histories replayed, diverged and were refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub replayed: usize,
    pub diverged: usize,
    pub refused: usize,
}

impl Summary {
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Replayed(_) => self.replayed += 1,
            Outcome::Diverged(_) => self.diverged += 1,
            Outcome::Refused(_) => self.refused += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.replayed + self.diverged + self.refused
    }

    /// Every history replayed (and there was at least one).
    pub fn all_replayed(&self) -> bool {
        self.total() > 0 && self.replayed == self.total()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} replayed, {} diverged, {} refused",
            self.replayed, self.diverged, self.refused
        )
    }
}

/// The reports of many histories (a folder, a list of files).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirReport {
    pub reports: Vec<ReplayReport>,
}

impl DirReport {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for report in &self.reports {
            summary.add(&report.outcome);
        }
        summary
    }

    /// Every history replayed (and there was at least one): what a test asserts.
    pub fn all_replayed(&self) -> bool {
        self.summary().all_replayed()
    }

    /// The reports of histories that did not replay.
    pub fn failures(&self) -> impl Iterator<Item = &ReplayReport> {
        self.reports
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Replayed(_)))
    }
}

/// The failures in full, then the summary: what `assert!(report.all_replayed(), "{report}")`
/// prints.
impl fmt::Display for DirReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for report in self.failures() {
            writeln!(f, "{}", report.to_string().trim_end())?;
        }
        write!(f, "{}", self.summary())
    }
}

impl ReplayReport {
    /// The divergence, if the history diverged.
    pub fn divergence(&self) -> Option<&Divergence> {
        match &self.outcome {
            Outcome::Diverged(d) => Some(d),
            _ => None,
        }
    }

    /// The refusal, if the history was refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.outcome {
            Outcome::Refused(r) => Some(r),
            _ => None,
        }
    }

    pub fn is_replayed(&self) -> bool {
        matches!(self.outcome, Outcome::Replayed(_))
    }
}

impl fmt::Display for DefinitionUsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.relation {
            Relation::Recorded => write!(
                f,
                "the recorded version of '{}' ({})",
                self.name, self.source
            ),
            Relation::Changed {
                recorded_version, ..
            } => write!(
                f,
                "a changed '{}' ({}; the history ran version {recorded_version}, whose content differs)",
                self.name, self.source
            ),
        }
    }
}

/// Most differences listed per section; a whole subtree that differs is listed as one anyway.
const MAX_LISTED: usize = 20;

fn write_differences(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    differences: &[Difference],
) -> fmt::Result {
    if differences.is_empty() {
        return writeln!(f, "    {title}: none");
    }
    writeln!(f, "    {title}:")?;
    for d in differences.iter().take(MAX_LISTED) {
        writeln!(f, "      {d}")?;
    }
    if differences.len() > MAX_LISTED {
        writeln!(f, "      … and {} more", differences.len() - MAX_LISTED)?;
    }
    Ok(())
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match &self.outcome {
            Outcome::Replayed(_) => "REPLAYED",
            Outcome::Diverged(_) => "DIVERGED",
            Outcome::Refused(_) => "REFUSED",
        };
        write!(f, "{verdict} {}", self.history)?;
        if let Some(instance) = &self.instance {
            write!(f, " (instance {instance})")?;
        }
        writeln!(f)?;
        if let Some(definition) = &self.definition {
            writeln!(f, "  against {definition}")?;
        }
        match &self.outcome {
            Outcome::Replayed(done) => {
                write!(f, "  {} events reproduced; {}", done.events, done.status)?;
                if let Some(end) = &done.end_node {
                    write!(f, " at '{end}'")?;
                }
                Ok(())
            }
            Outcome::Refused(refusal) => write!(f, "  {refusal}"),
            Outcome::Diverged(d) => {
                writeln!(f, "  first divergence at event {}: {}", d.index, d.reason)?;
                let node = |n: &Option<NodeRef>, none: &str| match n {
                    Some(n) => n.to_string(),
                    None => none.to_string(),
                };
                writeln!(
                    f,
                    "    expected node: {}",
                    node(&d.expected_node, "(the history ends here)")
                )?;
                writeln!(
                    f,
                    "    reached node:  {}",
                    node(&d.reached_node, "(the replay ends here)")
                )?;
                let event = |e: &Option<Value>| match e {
                    Some(v) => shorten(&v.to_string(), 400),
                    None => "(none)".to_string(),
                };
                writeln!(f, "    recorded event: {}", event(&d.recorded_event))?;
                writeln!(f, "    replayed event: {}", event(&d.replayed_event))?;
                if d.recorded_event.is_some() && d.replayed_event.is_some() {
                    write_differences(f, "event fields that differ", &d.event_differences)?;
                }
                match &d.variables {
                    VariableComparison::Compared(differences) => {
                        write_differences(f, "variables that differ", differences)?
                    }
                    VariableComparison::Unavailable(why) => {
                        writeln!(f, "    variables not compared: {why}")?
                    }
                }
                Ok(())
            }
        }
    }
}
