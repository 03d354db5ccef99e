//! The activity interface: how the runtime carries out the engine's `Next::RunActivity` and
//! `Next::PresentStep`. The activity catalogue registers behind [`ActivityHandler`]; tests,
//! benchmarks and `idflow run` use [`ScriptedActivities`].
//!
//! A handler runs *inside* the store transaction that records the activity's result, so the
//! identity writes an activity makes and the instance's transition commit together or not at
//! all. The transaction may be retried on conflict: a handler must touch the store only through
//! the [`Tx`] it is given, draw randomness only from [`ActivityContext::random_bytes`], and
//! propagate every [`StoreError`] the `Tx` returns (a swallowed conflict would commit a
//! transaction that should have been retried).
//!
//! Time spent in a handler is time the store is held: the store runs one transaction at a time
//! (sled takes a global lock for each), and the runtime runs many chains in one transaction, so
//! a slow activity delays every other transition. Keep `run` and `render_step` to reads,
//! writes and cheap computation.
//!
//! Expensive work that depends on stored state (SRP's `S = (A*v^u)^b`) goes in
//! [`ActivityHandler::prepare`]: before an answer's transaction the runtime rehearses the answer
//! with the engine on a copy of the instance, outside any transaction; when the first activity
//! the answer leads to is one the handler [`prepares`](ActivityHandler::prepares), the handler
//! reads what it needs from the store (no lock held) and does the work on the caller's thread.
//! `run` then finds the result in [`ActivityContext::prepared`] and uses it only if the inputs
//! it reads inside the transaction are the ones the work was done with; otherwise it does the
//! work itself. A rehearsal changes nothing and may be wrong (another request got there first):
//! the transaction decides.
//!
//! Expensive work that needs nothing stored (SRP's `g^b` for a session's `B`) goes in
//! [`ActivityHandler::work_ahead`]: before a start's or an answer's transaction, if an activity
//! the handler [`works ahead`](ActivityHandler::works_ahead) for can be reached from where the
//! chain begins without passing a step (through sequence flows and gateways, not error
//! boundaries), the runtime asks for it once, on the caller's thread.
//! The first such activity the chain runs finds it in [`ActivityContext::ahead`]; a chain whose
//! gateways lead elsewhere wastes it (work done outside the lock, nothing else). It is handed to
//! one activity of one chain only: it may hold secrets drawn for one use.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Check, CheckResult, Inputs, VarWrite};
use idflow_expr::VarPath;
use idflow_store::{Store, StoreError, Tx};
use serde_json::{Map, Value};

use crate::ids::RandomSource;
use crate::keys;

/// What an activity may know about where it runs.
pub struct ActivityContext<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) instance_id: &'a str,
    pub(crate) node: &'a str,
    pub(crate) step_id: Option<&'a str>,
    pub(crate) now_ms: i64,
    pub(crate) variables: &'a Value,
    pub(crate) random: &'a RandomSource,
    /// What [`ActivityHandler::prepare`] computed for this node before the transaction.
    pub(crate) prepared: Option<&'a (dyn Any + Send)>,
    /// What [`ActivityHandler::work_ahead`] computed for this chain, if this is the first activity
    /// of the chain the handler works ahead for.
    pub(crate) ahead: Option<&'a (dyn Any + Send)>,
}

/// What [`ActivityHandler::prepare`] hands to `run`: the handler's own type, which `run` finds
/// again with [`ActivityContext::prepared`].
pub type Prepared = Box<dyn Any + Send>;

impl<'a> ActivityContext<'a> {
    pub fn tenant(&self) -> &'a str {
        self.tenant
    }

    pub fn instance_id(&self) -> &'a str {
        self.instance_id
    }

    /// The BPMN ID of the activity's node.
    pub fn node(&self) -> &'a str {
        self.node
    }

    /// The step's ID when rendering a step (`render_step`), else `None`.
    pub fn step_id(&self) -> Option<&'a str> {
        self.step_id
    }

    /// The time of this transition chain (Unix ms), the same for every activity in it.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The instance's process variables, secrets included (forms and activities need them).
    pub fn variables(&self) -> &'a Value {
        self.variables
    }

    /// Fills `buf` from the runtime's random source (OS-seeded ChaCha20, or a fixed seed in tests).
    pub fn random_bytes(&self, buf: &mut [u8]) {
        self.random.fill(buf);
    }

    /// What [`ActivityHandler::prepare`] returned for this node before the transaction, if the
    /// runtime rehearsed it and it is of type `T`. `run` must check it was computed from the
    /// inputs it reads in the transaction before using it.
    pub fn prepared<T: Any>(&self) -> Option<&'a T> {
        self.prepared.and_then(|p| p.downcast_ref::<T>())
    }

    /// What [`ActivityHandler::work_ahead`] returned before this chain's transaction, if this
    /// activity is the chain's first the handler works ahead for and it is of type `T`.
    pub fn ahead<T: Any>(&self) -> Option<&'a T> {
        self.ahead.and_then(|p| p.downcast_ref::<T>())
    }
}

impl fmt::Debug for ActivityContext<'_> {
    // The variables may hold secrets: they are left out. The instance and step IDs answer the
    // step: their log tags only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityContext")
            .field("tenant", &self.tenant)
            .field("instance_id", &idflow_ids::log_tag(self.instance_id))
            .field("node", &self.node)
            .field("step_id", &self.step_id.map(idflow_ids::log_tag))
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// Executes activities and renders steps. Implemented by the activity catalogue and by
/// [`ScriptedActivities`]. See the module documentation for the rules a handler follows.
pub trait ActivityHandler: Send + Sync {
    /// Executes `activity` with its resolved `inputs`. Expected failures (a wrong passcode) are
    /// `ActivityResult::Refused`, unexpected ones `ActivityResult::Failed`; `Err` is only for the
    /// store, and aborts (or retries) the whole transaction.
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError>;

    /// Renders the view of the step the instance now rests at (plain JSON for the end user's
    /// page). `Ok(Err(message))` means the step cannot be shown (a missing form variable): the
    /// instance then ends `COMPLETED_PROCESS_ERROR` with that message.
    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError>;

    /// Whether [`ActivityHandler::prepare`] has work to do for `activity`: the runtime rehearses
    /// an answer outside the transaction only when its definition holds such an activity.
    fn prepares(&self, activity: ActivityType) -> bool {
        let _ = activity;
        false
    }

    /// Work for `activity` done before the transaction that runs it, outside the store's lock,
    /// on the caller's thread; see the module documentation. `store` is read outside any
    /// transaction; `ctx.variables()` are the instance's variables as the rehearsal left them.
    /// `None` when there is nothing to prepare (the transaction then does all the work).
    fn prepare(
        &self,
        store: &Store,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Option<Prepared> {
        let _ = (store, ctx, activity, inputs);
        None
    }

    /// Whether [`ActivityHandler::work_ahead`] has work to do for `activity`: the runtime asks
    /// for it before a chain that may reach such an activity before its next step.
    fn works_ahead(&self, activity: ActivityType) -> bool {
        let _ = activity;
        false
    }

    /// Work for `activity` that needs nothing stored and nothing of the instance, done before
    /// the transaction of a chain that may run it, outside the store's lock, on the caller's
    /// thread (see the module documentation). `ctx` gives the chain's instance, time and
    /// random source; its node is the first such activity found, and it has no variables
    /// (`Null`). `None` when there is nothing to do.
    fn work_ahead(&self, ctx: &ActivityContext<'_>, activity: ActivityType) -> Option<Prepared> {
        let _ = (ctx, activity);
        None
    }
}

/// The view [`ScriptedActivities`] renders for a step: what it is and its resolved inputs.
pub fn plain_step_view(
    ctx: &ActivityContext<'_>,
    activity: ActivityType,
    inputs: &Inputs,
) -> Value {
    let mut resolved = Map::new();
    for (name, value) in &inputs.0 {
        resolved.insert((*name).to_string(), Value::clone(value));
    }
    let mut view = Map::new();
    view.insert("node".into(), Value::String(ctx.node.to_string()));
    if let Some(step) = ctx.step_id {
        view.insert("stepId".into(), Value::String(step.to_string()));
    }
    view.insert("activity".into(), Value::String(activity.key().to_string()));
    view.insert("inputs".into(), Value::Object(resolved));
    Value::Object(view)
}

/// The results a scripted node gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// The same result on every visit (benchmarks, many instances of one flow).
    Every(ActivityResult),
    /// The n-th visit of the node *in one instance* gets the n-th result; a visit beyond the list
    /// fails the instance, naming the node. Visits are counted in the transaction (key
    /// `scr/{instance}/{node}`), so a retried transaction does not skip a result.
    Visits(Vec<ActivityResult>),
}

/// A test double for the activity catalogue: results given per node, never a silent default.
///
/// An activity node without a script fails the instance (`ActivityResult::Failed` naming the
/// node), unless a fallback handler was given with [`ScriptedActivities::with_fallback`]: then
/// scripted nodes override and everything else goes to the fallback (how `idflow run` plugs the
/// real catalogue in). Steps render [`plain_step_view`] (or the fallback's view), unless a render
/// failure was scripted with [`ScriptedActivities::fail_render`].
#[derive(Clone, Default)]
pub struct ScriptedActivities {
    scripts: HashMap<String, Script>,
    render_failures: HashMap<String, String>,
    fallback: Option<Arc<dyn ActivityHandler>>,
}

impl fmt::Debug for ScriptedActivities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut nodes: Vec<&String> = self.scripts.keys().collect();
        nodes.sort();
        f.debug_struct("ScriptedActivities")
            .field("nodes", &nodes)
            .field("render_failures", &self.render_failures.len())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

/// A script that could not be read (an `idflow run` answers file, a test fixture).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("activity script {at}: {reason}")]
pub struct ScriptError {
    /// Where in the script (`activities.addUser[1].completed.writes`).
    pub at: String,
    pub reason: String,
}

fn script_error(at: &str, reason: impl Into<String>) -> ScriptError {
    ScriptError {
        at: at.to_string(),
        reason: reason.into(),
    }
}

impl ScriptedActivities {
    pub fn new() -> ScriptedActivities {
        ScriptedActivities::default()
    }

    /// `node` gives `result` on every visit.
    pub fn on_every_visit(mut self, node: impl Into<String>, result: ActivityResult) -> Self {
        self.scripts.insert(node.into(), Script::Every(result));
        self
    }

    /// `node`'s n-th visit in an instance gives `results[n]`.
    pub fn on_visits(mut self, node: impl Into<String>, results: Vec<ActivityResult>) -> Self {
        self.scripts.insert(node.into(), Script::Visits(results));
        self
    }

    /// Rendering the step at `node` fails with `message` (the instance ends
    /// `COMPLETED_PROCESS_ERROR`).
    pub fn fail_render(mut self, node: impl Into<String>, message: impl Into<String>) -> Self {
        self.render_failures.insert(node.into(), message.into());
        self
    }

    /// Unscripted nodes go to `fallback` instead of failing.
    pub fn with_fallback(mut self, fallback: Arc<dyn ActivityHandler>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// Whether `node` has a script.
    pub fn scripts(&self, node: &str) -> bool {
        self.scripts.contains_key(node)
    }

    /// Reads `{"nodeId": [result, ...], ...}`: per-visit results for each node (see
    /// [`ScriptedActivities::parse_result`] for one result). `at` names the object in errors.
    pub fn from_json(value: &Value, at: &str) -> Result<ScriptedActivities, ScriptError> {
        let nodes = value
            .as_object()
            .ok_or_else(|| script_error(at, "expected an object of node IDs"))?;
        let mut scripted = ScriptedActivities::new();
        for (node, results) in nodes {
            let here = format!("{at}.{node}");
            let list = results
                .as_array()
                .ok_or_else(|| script_error(&here, "expected a list of results, one per visit"))?;
            let parsed = list
                .iter()
                .enumerate()
                .map(|(i, r)| ScriptedActivities::parse_result(r, &format!("{here}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            scripted = scripted.on_visits(node.clone(), parsed);
        }
        Ok(scripted)
    }

    /// Reads one result:
    ///
    /// - `{"completed": {"writes": {"a.b": 1}, "secrets": {"s": "x"}, "checks": [check, ...]}}`
    ///   (every field optional),
    /// - `{"refused": {"code": "EXT_ID_NOT_UNIQUE", "message": "...", "writes": ..., "secrets": ...,
    ///   "checks": ...}}` (`code` required),
    /// - `{"failed": "message"}`.
    ///
    /// Write paths may be written with or without the leading `processvar.`; `secrets` are
    /// writes marked secret. A check is `{"name": "...", "result": "PASS" | "FAIL", "detail": "..."}`.
    pub fn parse_result(value: &Value, at: &str) -> Result<ActivityResult, ScriptError> {
        let obj = value.as_object().ok_or_else(|| {
            script_error(
                at,
                "expected {\"completed\": ...}, {\"refused\": ...} or {\"failed\": ...}",
            )
        })?;
        if obj.len() != 1 {
            return Err(script_error(
                at,
                "expected exactly one of `completed`, `refused`, `failed`",
            ));
        }
        let (kind, body) = obj
            .iter()
            .next()
            .ok_or_else(|| script_error(at, "empty result"))?;
        let here = format!("{at}.{kind}");
        match kind.as_str() {
            "completed" => {
                let body = optional_object(body, &here)?;
                Ok(ActivityResult::Completed {
                    writes: parse_writes(&body, &here)?,
                    checks: parse_checks(&body, &here)?,
                })
            }
            "refused" => {
                let body = optional_object(body, &here)?;
                let code = body
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or_else(|| script_error(&here, "`code` (a string) is required"))?;
                let message = match body.get("message") {
                    None => format!("refused with {code}"),
                    Some(Value::String(m)) => m.clone(),
                    Some(_) => return Err(script_error(&here, "`message` must be a string")),
                };
                Ok(ActivityResult::Refused {
                    code: code.to_string(),
                    message,
                    writes: parse_writes(&body, &here)?,
                    checks: parse_checks(&body, &here)?,
                })
            }
            "failed" => match body {
                Value::String(m) => Ok(ActivityResult::Failed { message: m.clone() }),
                _ => Err(script_error(
                    &here,
                    "expected the failure message as a string",
                )),
            },
            other => Err(script_error(
                at,
                format!("unknown result `{other}` (expected completed, refused or failed)"),
            )),
        }
    }

    fn scripted_result(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        script: &Script,
    ) -> Result<ActivityResult, StoreError> {
        match script {
            Script::Every(result) => Ok(result.clone()),
            Script::Visits(results) => {
                let visit = tx.increment(&keys::scripted_visits(ctx.instance_id, ctx.node), 1)?;
                let found = usize::try_from(visit - 1).ok().and_then(|i| results.get(i));
                Ok(match found {
                    Some(result) => result.clone(),
                    None => ActivityResult::Failed {
                        message: format!(
                            "no scripted result for visit {visit} of node '{}' ({} scripted)",
                            ctx.node,
                            results.len()
                        ),
                    },
                })
            }
        }
    }
}

fn optional_object(body: &Value, at: &str) -> Result<Map<String, Value>, ScriptError> {
    match body {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m.clone()),
        _ => Err(script_error(at, "expected an object")),
    }
}

fn parse_path(text: &str, at: &str) -> Result<VarPath, ScriptError> {
    let full = if text
        .get(..10)
        .is_some_and(|head| head.eq_ignore_ascii_case("processvar"))
    {
        text.to_string()
    } else if text.starts_with('[') {
        format!("processvar{text}")
    } else {
        format!("processvar.{text}")
    };
    VarPath::parse(&full).map_err(|e| script_error(at, format!("bad variable path `{text}`: {e}")))
}

fn parse_writes(body: &Map<String, Value>, at: &str) -> Result<Vec<VarWrite>, ScriptError> {
    let mut writes = Vec::new();
    for (field, secret) in [("writes", false), ("secrets", true)] {
        match body.get(field) {
            None => {}
            Some(Value::Object(m)) => {
                for (path, value) in m {
                    writes.push(VarWrite {
                        path: parse_path(path, &format!("{at}.{field}"))?,
                        value: value.clone(),
                        secret,
                    });
                }
            }
            Some(_) => {
                return Err(script_error(
                    at,
                    format!("`{field}` must be an object of path: value"),
                ))
            }
        }
    }
    Ok(writes)
}

fn parse_checks(body: &Map<String, Value>, at: &str) -> Result<Vec<Check>, ScriptError> {
    let list = match body.get("checks") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(script_error(at, "`checks` must be a list")),
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let here = format!("{at}.checks[{i}]");
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| script_error(&here, "`name` (a string) is required"))?;
            let result = match c.get("result").and_then(Value::as_str) {
                Some("PASS") => CheckResult::Pass,
                Some("FAIL") => CheckResult::Fail,
                _ => return Err(script_error(&here, "`result` must be \"PASS\" or \"FAIL\"")),
            };
            let detail = match c.get("detail") {
                None => String::new(),
                Some(Value::String(d)) => d.clone(),
                Some(_) => return Err(script_error(&here, "`detail` must be a string")),
            };
            Ok(Check {
                name: name.to_string(),
                result,
                detail,
            })
        })
        .collect()
}

impl ActivityHandler for ScriptedActivities {
    fn run(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<ActivityResult, StoreError> {
        match (self.scripts.get(ctx.node), &self.fallback) {
            (Some(script), _) => self.scripted_result(tx, ctx, script),
            (None, Some(fallback)) => fallback.run(tx, ctx, activity, inputs),
            (None, None) => Ok(ActivityResult::Failed {
                message: format!(
                    "no scripted result for node '{}' ({})",
                    ctx.node,
                    activity.key()
                ),
            }),
        }
    }

    fn render_step(
        &self,
        tx: &Tx<'_>,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Result<Result<Value, String>, StoreError> {
        if let Some(message) = self.render_failures.get(ctx.node) {
            return Ok(Err(message.clone()));
        }
        match &self.fallback {
            Some(fallback) => fallback.render_step(tx, ctx, activity, inputs),
            None => Ok(Ok(plain_step_view(ctx, activity, inputs))),
        }
    }

    fn prepares(&self, activity: ActivityType) -> bool {
        self.fallback.as_ref().is_some_and(|f| f.prepares(activity))
    }

    fn prepare(
        &self,
        store: &Store,
        ctx: &ActivityContext<'_>,
        activity: ActivityType,
        inputs: &Inputs,
    ) -> Option<Prepared> {
        if self.scripts.contains_key(ctx.node) {
            return None;
        }
        self.fallback
            .as_ref()
            .and_then(|f| f.prepare(store, ctx, activity, inputs))
    }

    fn works_ahead(&self, activity: ActivityType) -> bool {
        self.fallback
            .as_ref()
            .is_some_and(|f| f.works_ahead(activity))
    }

    fn work_ahead(&self, ctx: &ActivityContext<'_>, activity: ActivityType) -> Option<Prepared> {
        self.fallback
            .as_ref()
            .and_then(|f| f.work_ahead(ctx, activity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_parse_from_json() {
        let completed = ScriptedActivities::parse_result(
            &json!({"completed": {"writes": {"a.b": 1, "processvar.c": "x"}, "secrets": {"s": "k"},
                "checks": [{"name": "n", "result": "FAIL", "detail": "d"}]}}),
            "r",
        )
        .expect("parses");
        match completed {
            ActivityResult::Completed { writes, checks } => {
                assert_eq!(writes.len(), 3);
                assert_eq!(writes[0].path, VarPath::keys(&["a", "b"]));
                assert_eq!(writes[1].path, VarPath::keys(&["c"]));
                assert!(!writes[0].secret);
                assert!(writes[2].secret);
                assert_eq!(checks[0].result, CheckResult::Fail);
            }
            other => panic!("expected completed, got {other:?}"),
        }
        assert_eq!(
            ScriptedActivities::parse_result(&json!({"failed": "boom"}), "r"),
            Ok(ActivityResult::Failed {
                message: "boom".into()
            })
        );
        assert!(matches!(
            ScriptedActivities::parse_result(&json!({"refused": {"code": "X"}}), "r"),
            Ok(ActivityResult::Refused { code, .. }) if code == "X"
        ));
        assert!(matches!(
            ScriptedActivities::parse_result(&json!({"completed": null}), "r"),
            Ok(ActivityResult::Completed { writes, checks }) if writes.is_empty() && checks.is_empty()
        ));
    }

    fn completed(n: i64) -> ActivityResult {
        ActivityResult::Completed {
            writes: vec![VarWrite {
                path: VarPath::keys(&["n"]),
                value: json!(n),
                secret: false,
            }],
            checks: vec![],
        }
    }

    #[test]
    fn visits_are_counted_per_instance_and_node_and_run_out_loudly() {
        let store = idflow_store::Store::temporary().expect("store");
        let random = RandomSource::new(Some(1));
        let vars = json!({});
        let scripted = ScriptedActivities::new().on_visits("a", vec![completed(1), completed(2)]);
        let run = |instance: &str, node: &str| {
            store
                .transact(|tx| {
                    let ctx = ActivityContext {
                        tenant: "t",
                        instance_id: instance,
                        node,
                        step_id: None,
                        now_ms: 0,
                        variables: &vars,
                        random: &random,
                        prepared: None,
                        ahead: None,
                    };
                    scripted.run(tx, &ctx, ActivityType::AddUser, &Inputs::default())
                })
                .expect("runs")
        };
        assert_eq!(run("I1", "a"), completed(1));
        assert_eq!(run("I2", "a"), completed(1));
        assert_eq!(run("I1", "a"), completed(2));
        match run("I1", "a") {
            ActivityResult::Failed { message } => {
                assert!(message.contains("visit 3 of node 'a'"), "{message}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        match run("I1", "b") {
            ActivityResult::Failed { message } => assert!(message.contains("'b'"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        // A transaction that aborts does not use up a visit.
        let aborted: Result<(), StoreError> = store.transact(|tx| {
            let ctx = ActivityContext {
                tenant: "t",
                instance_id: "I3",
                node: "a",
                step_id: None,
                now_ms: 0,
                variables: &vars,
                random: &random,
                prepared: None,
                ahead: None,
            };
            scripted.run(tx, &ctx, ActivityType::AddUser, &Inputs::default())?;
            Err(StoreError::Io("abort on purpose".into()))
        });
        assert!(aborted.is_err());
        assert_eq!(run("I3", "a"), completed(1));
    }

    #[test]
    fn bad_results_name_the_place() {
        let cases = [
            (json!("completed"), "r", "expected"),
            (json!({"completed": {}, "failed": "x"}), "r", "exactly one"),
            (json!({"refused": {}}), "r.refused", "`code`"),
            (json!({"failed": 3}), "r.failed", "string"),
            (json!({"done": {}}), "r", "unknown result `done`"),
            (
                json!({"completed": {"writes": {"a..b": 1}}}),
                "r.completed.writes",
                "bad variable path",
            ),
            (
                json!({"completed": {"writes": [1]}}),
                "r.completed",
                "`writes`",
            ),
            (
                json!({"completed": {"checks": [{"name": "n", "result": "MAYBE"}]}}),
                "r.completed.checks[0]",
                "PASS",
            ),
        ];
        for (input, at, needle) in cases {
            let err = ScriptedActivities::parse_result(&input, "r").expect_err("refused");
            assert_eq!(err.at, at, "{input}");
            assert!(err.reason.contains(needle), "{input}: {}", err.reason);
        }
        let err = ScriptedActivities::from_json(&json!({"n1": {"failed": "x"}}), "activities")
            .expect_err("not a list");
        assert_eq!(err.at, "activities.n1");
    }
}
