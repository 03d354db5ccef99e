//! `idflow run DEFINITION --answers FILE [--trace json]`: a designer's dry run of a definition on
//! an in-memory store, its steps answered from a JSON file.
//!
//! Activities are the real catalogue, acting on a throwaway identity store seeded like
//! `idflow serve`'s demo tenant (store `demo`, passcode and TOTP policies `default`, the shipped
//! forms), unless the answers file scripts a node's results: scripted nodes take their results
//! from the file instead.
//!
//! It prints every node visited, every activity's result, every step presented (with its
//! resolved inputs) and answer received, the final status, outcome and variables (secrets
//! redacted); `--trace json` prints the same as one JSON document for tools.
//!
//! Exit codes: 0 when the run ends as modelled (`COMPLETED_ENDED_SUCCESS`,
//! `COMPLETED_ENDED_ERROR`, `COMPLETED_TERMINATED`); 1 when it ends `COMPLETED_PROCESS_ERROR` (an
//! error the designer did not model), when the answers run out at a step, when an answer is
//! refused, or when the definition or the answers file is invalid; 2 for usage errors.
//!
//! The answers file is documented in [`ANSWERS_FORMAT`] (also printed by `idflow run --help`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use idflow_activities::demo::DEMO_EXTERNAL_ID;
use idflow_activities::forms::Forms;
use idflow_activities::{seed_demo, Catalogue, DemoOptions};
use idflow_engine::{EventKind, Status};
use idflow_identity::{client, wire, Identity};
use idflow_runtime::{
    ActivityHandler, Clock, ExportedEvent, InstanceView, ManualClock, Runtime, RuntimeConfig,
    RuntimeError, ScriptedActivities, SystemClock,
};
use idflow_store::Store;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Map, Value};

/// The answers file, as `idflow run --help` shows it.
pub const ANSWERS_FORMAT: &str = r#"ANSWERS FILE (JSON):
  {
    "token":      {"storeName": "people"},
    "answers":    [ {"colour": "blue"}, {"code": "123456"} ],
    "activities": {
      "addUser": [ {"completed": {"writes": {"user1": {"id": "U1"}}, "checks": []}} ],
      "checkCode": [ {"refused": {"code": "INVALID_CODE", "message": "wrong code"}},
                     {"completed": {}} ],
      "notify": [ {"failed": "mail server down"} ]
    },
    "timers":     [ {"at_step": 2, "boundary": "late"} ]
  }

  token       the process token's parameters, copied into processvar.token. Defaults, for
              the shipped flows: {"storeName": "demo", "passcodePolicy": "default",
              "totpPolicy": "default", "externalId": "demo-user"}; given keys override them.
  answers     step answers, in order: each step presented takes the next one (a JSON object).
              On passcode and TOTP forms an answer may name what the end user types, and the
              Rust SRP/TOTP client computes the browser's response from the step's data:
                {"$register": "passcode"}           passcode registration form
                {"$authenticate": "passcode"}       passcode authentication form
                {"$renew": {"current": "old", "new": "new"}}   passcode renewal form
                {"$totp": "current"}                TOTP registration form (the current code)
  activities  scripted results per activity node, one per visit of that node in the run:
                {"completed": {"writes": {path: value}, "secrets": {path: value},
                               "checks": [{"name", "result": "PASS"|"FAIL", "detail"}]}}
                {"refused": {"code": ..., "message": ..., "writes", "secrets", "checks"}}
                {"failed": "message"}
              write paths may omit the leading `processvar.`; `secrets` are writes marked
              secret. A node without scripted results runs the real activity; a scripted node
              whose results run out fails the instance, naming the node.
  timers      instead of answering the at_step-th step presented (counting from 1), move the
              clock to its timer's due time (the one of `boundary`, else the earliest) and
              let it fire.

  Every field is optional; unknown fields are refused."#;

#[derive(clap::Args)]
#[command(after_long_help = ANSWERS_FORMAT)]
pub struct Args {
    /// The BPMN definition file to run.
    #[arg(value_name = "DEFINITION")]
    pub definition: PathBuf,
    /// The answers file: step answers, token parameters, scripted activity results, timers
    /// (format: see --help).
    #[arg(long, value_name = "FILE")]
    pub answers: PathBuf,
    /// How to print the run: lines for people, or one JSON document for tools.
    #[arg(long, value_enum, default_value_t = Trace::Text)]
    pub trace: Trace,
    /// Seed the random source (instance ID, activity randomness) for a reproducible run.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A folder of custom data forms (`*.json`) to deploy besides the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub forms: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Trace {
    Text,
    Json,
}

/// The tenant a dry run deploys into (the store is thrown away afterwards).
const TENANT: &str = "dry-run";

/// A timer to let fire instead of answering a step.
#[derive(Debug, Clone, PartialEq)]
struct TimerAt {
    at_step: usize,
    boundary: Option<String>,
}

/// The answers file, read.
struct DryRun {
    token: Value,
    answers: Vec<Value>,
    activities: ScriptedActivities,
    timers: Vec<TimerAt>,
}

fn parse_answers(text: &str) -> anyhow::Result<DryRun> {
    let doc: Value = serde_json::from_str(text).context("the answers file is not JSON")?;
    let Value::Object(fields) = doc else {
        bail!("the answers file must be a JSON object (see `idflow run --help`)");
    };
    for key in fields.keys() {
        if !["token", "answers", "activities", "timers"].contains(&key.as_str()) {
            bail!("the answers file has an unknown field `{key}` (token, answers, activities, timers)");
        }
    }
    let token = match fields.get("token") {
        None => Value::Object(Map::new()),
        Some(t @ Value::Object(_)) => t.clone(),
        Some(_) => bail!("`token` must be an object of parameters"),
    };
    let answers = match fields.get("answers") {
        None => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => bail!("`answers` must be a list of step answers"),
    };
    let activities = match fields.get("activities") {
        None => ScriptedActivities::new(),
        Some(v) => ScriptedActivities::from_json(v, "activities")?,
    };
    let timers = match fields.get("timers") {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let at_step = t
                    .get("at_step")
                    .and_then(Value::as_u64)
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .with_context(|| format!("timers[{i}].at_step must be a step number from 1"))?;
                let boundary = match t.get("boundary") {
                    None => None,
                    Some(Value::String(b)) => Some(b.clone()),
                    Some(_) => bail!("timers[{i}].boundary must be a boundary event ID"),
                };
                Ok(TimerAt { at_step, boundary })
            })
            .collect::<anyhow::Result<_>>()?,
        Some(_) => bail!("`timers` must be a list"),
    };
    Ok(DryRun {
        token,
        answers,
        activities,
        timers,
    })
}

/// The activity handler of a dry run: the answers file's scripted results for the nodes it
/// scripts, the real catalogue for every other node.
fn activity_handler(scripted: ScriptedActivities) -> Arc<dyn ActivityHandler> {
    Arc::new(scripted.with_fallback(Arc::new(Catalogue::new())))
}

/// The token parameters the shipped flows read, pointing at the seeded demo store.
fn default_token_parameters() -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("storeName".into(), json!("demo"));
    params.insert("passcodePolicy".into(), json!("default"));
    params.insert("totpPolicy".into(), json!("default"));
    params.insert("externalId".into(), json!(DEMO_EXTERNAL_ID));
    params
}

/// Turns a `$register` / `$authenticate` / `$renew` / `$totp` answer into the browser response
/// the Rust client computes from the step's data; any other answer is sent as it is.
fn browser_answer(
    view: &Value,
    answer: Value,
    now_ms: i64,
    rng: &mut dyn rand::RngCore,
) -> anyhow::Result<Value> {
    let Some(fields) = answer.as_object() else {
        return Ok(answer);
    };
    let data = view.get("data").cloned().unwrap_or(Value::Null);
    let passcode_start = || -> anyhow::Result<wire::PasscodeSessionStart> {
        serde_json::from_value(data.clone())
            .context("this step's data is not a passcode session start (is it a passcode form?)")
    };
    let text = |key: &str, v: &Value| -> anyhow::Result<String> {
        v.as_str()
            .map(str::to_string)
            .with_context(|| format!("`{key}` must be a string"))
    };
    let response = if let Some(p) = fields.get("$register") {
        json!(client::register(
            &passcode_start()?,
            &text("$register", p)?
        )?)
    } else if let Some(p) = fields.get("$authenticate") {
        json!(client::authenticate(&passcode_start()?, &text("$authenticate", p)?, rng)?.request())
    } else if let Some(r) = fields.get("$renew") {
        let current = text("$renew.current", &r["current"])?;
        let new = text("$renew.new", &r["new"])?;
        json!(client::renew(&passcode_start()?, &current, &new, rng)?.request())
    } else if let Some(which) = fields.get("$totp") {
        if which != "current" {
            bail!("`$totp` must be \"current\"");
        }
        let start: wire::TotpRegistrationStart = serde_json::from_value(data)
            .context("this step's data is not a TOTP registration start (is it a TOTP form?)")?;
        json!({ "code": client::totp_code_for_registration(&start, now_ms)? })
    } else {
        return Ok(answer);
    };
    Ok(json!({ "browserResponse": response }))
}

/// How the run stopped.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// The instance ended (see its status).
    Ended,
    /// Still active at a step and no answer left.
    AnswersRanOut { step_id: String, node: String },
    /// An answer (or a timer) could not be applied.
    Refused { step_id: String, reason: String },
}

/// Everything a dry run observed.
struct Report {
    definition: String,
    version: u32,
    source: String,
    view: InstanceView,
    /// The view's variables with secrets redacted (markers keyed with the run's key).
    variables: Value,
    events: Vec<ExportedEvent>,
    stop: Stop,
    unused_answers: usize,
}

impl Report {
    fn failed(&self) -> bool {
        self.stop != Stop::Ended || self.view.status == Status::CompletedProcessError
    }
}

/// The armed timers of the instance, from its history: (timer ID, boundary, due).
fn armed_timers(runtime: &Runtime, id: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
    let mut armed = Vec::new();
    for event in runtime.history(id)? {
        match event.kind {
            EventKind::TimerArmed {
                timer_id,
                boundary,
                due_ms,
            } => armed.push((timer_id, boundary.into(), due_ms)),
            EventKind::TimerFired { timer_id } | EventKind::TimerCancelled { timer_id } => {
                armed.retain(|(t, _, _)| *t != timer_id)
            }
            _ => {}
        }
    }
    Ok(armed)
}

fn dry_run(
    definition: &Path,
    answers: &Path,
    forms: Option<&Path>,
    seed: Option<u64>,
) -> anyhow::Result<Report> {
    let source = definition.display().to_string();
    let bytes = std::fs::read(definition).with_context(|| format!("cannot read {source}"))?;
    let answers_text = std::fs::read_to_string(answers)
        .with_context(|| format!("cannot read {}", answers.display()))?;
    let plan = parse_answers(&answers_text).with_context(|| format!("in {}", answers.display()))?;

    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let store = Store::temporary()?;
    let runtime = Runtime::new(
        store.clone(),
        activity_handler(plan.activities),
        RuntimeConfig {
            clock: clock.clone(),
            rng_seed: seed,
            limits: Default::default(),
            marker_key: None,
        },
    );
    let mut rng: Box<dyn rand::RngCore + Send> = match seed {
        Some(seed) => Box::new(StdRng::seed_from_u64(seed)),
        None => Box::new(StdRng::from_entropy()),
    };
    let identity = Identity::new(
        store.clone(),
        clock.clone(),
        Box::new(StdRng::seed_from_u64(rng.next_u64())),
    );
    seed_demo(&runtime, &identity, TENANT, &DemoOptions::default())
        .context("seeding the dry run's identity store")?;
    if let Some(dir) = forms {
        Forms::new(store.clone())
            .deploy_dir(TENANT, dir)
            .with_context(|| format!("deploying the forms in {}", dir.display()))?;
    }
    let deployment = match runtime.deploy(TENANT, &source, &bytes) {
        Ok(d) => d,
        Err(RuntimeError::InvalidDefinition { diagnostics, .. }) => {
            let lines: Vec<String> = diagnostics.0.iter().map(ToString::to_string).collect();
            bail!("{source} does not load:\n{}", lines.join("\n"));
        }
        Err(e) => return Err(e.into()),
    };
    let mut token = default_token_parameters();
    if let Value::Object(given) = plan.token {
        token.extend(given);
    }
    let mut view = runtime.start_definition(
        TENANT,
        &deployment.name,
        Some(deployment.version),
        Value::Object(token),
    )?;
    let id = view.id.clone();
    let mut answers = plan.answers.into_iter();
    let mut steps = 0usize;
    let stop = loop {
        if view.status != Status::Active {
            break Stop::Ended;
        }
        let Some(step) = view.step.clone() else {
            bail!("instance {id} is active but rests at no step");
        };
        steps += 1;
        if let Some(timer) = plan.timers.iter().find(|t| t.at_step == steps) {
            let armed = armed_timers(&runtime, &id)?;
            let chosen = armed
                .iter()
                .filter(|(_, b, _)| timer.boundary.as_ref().is_none_or(|want| want == b))
                .min_by_key(|(_, _, due)| *due);
            let Some((_, _, due)) = chosen else {
                break Stop::Refused {
                    step_id: step.step_id,
                    reason: format!(
                        "timers: no timer{} is armed at step {steps}",
                        timer
                            .boundary
                            .as_ref()
                            .map(|b| format!(" of boundary '{b}'"))
                            .unwrap_or_default()
                    ),
                };
            };
            clock.set(*due);
            runtime.fire_due_timers()?;
            view = runtime.instance(&id)?;
            continue;
        }
        let Some(answer) = answers.next() else {
            break Stop::AnswersRanOut {
                step_id: step.step_id,
                node: step.node,
            };
        };
        let answer = browser_answer(&step.view, answer, clock.now_ms(), &mut *rng)
            .with_context(|| format!("answering step '{}' ({})", step.step_id, step.node))?;
        match runtime.answer(&id, &step.step_id, answer) {
            Ok(next) => view = next,
            Err(RuntimeError::Engine(e)) => {
                break Stop::Refused {
                    step_id: step.step_id,
                    reason: e.to_string(),
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(Report {
        definition: deployment.name,
        version: deployment.version,
        source,
        events: runtime.export_history(&id)?.events,
        variables: runtime.redacted_variables(&view),
        view,
        stop,
        unused_answers: answers.len(),
    })
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// One line per event worth showing, for people.
fn describe(kind: &idflow_runtime::export::EventKindRecord) -> Option<String> {
    use idflow_runtime::export::EventKindRecord as K;
    Some(match kind {
        K::Started { tok, par, .. } => format!(
            "start     token {}{}",
            compact(par),
            tok.as_ref().map(|t| format!(" ({t})")).unwrap_or_default()
        ),
        K::Entered { n } => format!("node      {n}"),
        K::Chose { gw, f, dflt } => format!(
            "gateway   {gw} -> {f}{}",
            if *dflt { " (default)" } else { "" }
        ),
        K::Scheduled { n, a, inputs } => format!("activity  {n} [{a}] {}", compact(inputs)),
        K::Completed { n, w, c } => {
            let mut line = format!("  done    {n}");
            for write in w {
                line.push_str(&format!(" {}={}", write.p, compact(&write.v)));
            }
            for check in c {
                line.push_str(&format!(" check {}:{}", check.name, check.r));
            }
            line
        }
        K::Refused { n, code, msg, .. } => format!("  refused {n} {code}: {msg}"),
        K::Failed { n, msg } => format!("  failed  {n}: {msg}"),
        K::Boundary { b, on, code } => format!(
            "boundary  {b} on {on}{}",
            code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
        ),
        K::Presented { n, s, inputs } => format!("step      {n} (step {s}) {}", compact(inputs)),
        K::Answered { s, data } => format!("answer    {s} {}", compact(data)),
        K::Armed { b, due, .. } => format!("timer     {b} armed, due {due}"),
        K::Fired { tm } => format!("timer     {tm} fired"),
        K::Disarmed { .. } => return None,
        K::Cancelled { why } => format!("cancelled {why}"),
        K::Aborted { n, msg } => format!(
            "aborted   {}{msg}",
            n.as_ref().map(|n| format!("{n}: ")).unwrap_or_default()
        ),
        K::Ended { st, o, .. } => format!(
            "end       {st}{}",
            o.as_ref().map(|o| format!(" \"{o}\"")).unwrap_or_default()
        ),
    })
}

fn print_text(report: &Report) {
    let view = &report.view;
    println!(
        "run {} v{} ({}) instance {}",
        report.definition, report.version, report.source, view.id
    );
    for event in &report.events {
        if let Some(line) = describe(&event.kind) {
            println!("  {line}");
        }
    }
    match &report.stop {
        Stop::Ended => {}
        Stop::AnswersRanOut { step_id, node } => {
            println!("stopped: the answers ran out at step {node} ({step_id})")
        }
        Stop::Refused { step_id, reason } => {
            println!("stopped: step {step_id} could not go on: {reason}")
        }
    }
    println!("status    {}", view.status);
    if let Some(outcome) = &view.outcome {
        println!("outcome   {outcome}");
    }
    if let Some(error) = &view.error {
        match &error.node {
            Some(node) => println!("error     {node}: {}", error.message),
            None => println!("error     {}", error.message),
        }
    }
    let variables = serde_json::to_string_pretty(&report.variables).unwrap_or_default();
    println!("variables {variables}");
    if report.unused_answers > 0 {
        eprintln!("note: {} answer(s) were not used", report.unused_answers);
    }
}

/// The run as one JSON document (`--trace json`).
fn trace_json(report: &Report) -> Value {
    let view = &report.view;
    let visited: Vec<&str> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            idflow_runtime::export::EventKindRecord::Entered { n } => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let steps: Vec<Value> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            idflow_runtime::export::EventKindRecord::Presented { n, s, inputs } => {
                Some(json!({"node": n, "step": s, "inputs": inputs}))
            }
            _ => None,
        })
        .collect();
    let stop = match &report.stop {
        Stop::Ended => Value::Null,
        Stop::AnswersRanOut { step_id, node } => {
            json!({"reason": "answers ran out", "node": node, "step": step_id})
        }
        Stop::Refused { step_id, reason } => {
            json!({"reason": reason, "step": step_id})
        }
    };
    json!({
        "definition": {"name": report.definition, "version": report.version, "source": report.source},
        "instance": view.id,
        "visited": visited,
        "steps": steps,
        "events": report.events,
        "status": view.status.as_str(),
        "outcome": view.outcome,
        "error": view.error.as_ref().map(|e| json!({"node": e.node, "message": e.message})),
        "variables": report.variables,
        "stopped": stop,
        "unused_answers": report.unused_answers,
        "ok": !report.failed(),
    })
}

pub fn main(args: Args) -> anyhow::Result<ExitCode> {
    let report = dry_run(
        &args.definition,
        &args.answers,
        args.forms.as_deref(),
        args.seed,
    )?;
    match args.trace {
        Trace::Text => print_text(&report),
        Trace::Json => println!("{}", serde_json::to_string_pretty(&trace_json(&report))?),
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    //! File-driven: each folder of `tests/run/` holds `definition.bpmn` (or `definition.path`,
    //! naming a definition file relative to the repository root, e.g. a shipped flow),
    //! `answers.json` and `expected.json` (the parts of the `--trace json` document that must
    //! match: visited nodes, steps, status, outcome, error, variables, stop, and `ok`, the exit
    //! status).

    use super::*;

    fn cases_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/run")
    }

    #[test]
    fn answer_files_replay_to_their_expected_runs() {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
            .expect("tests/run exists")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        assert!(
            cases.len() >= 5,
            "expected the run cases, found {}",
            cases.len()
        );
        for case in cases {
            let name = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let definition = match std::fs::read_to_string(case.join("definition.path")) {
                Ok(path) => cases_dir().join("../..").join(path.trim()),
                Err(_) => case.join("definition.bpmn"),
            };
            let forms = case.join("forms");
            let report = dry_run(
                &definition,
                &case.join("answers.json"),
                forms.is_dir().then_some(forms.as_path()),
                Some(1),
            )
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let trace = trace_json(&report);
            let expected: Value = serde_json::from_slice(
                &std::fs::read(case.join("expected.json")).expect("expected.json"),
            )
            .expect("expected.json is JSON");
            let Value::Object(fields) = &expected else {
                panic!("{name}: expected.json must be an object");
            };
            for (field, want) in fields {
                let got = if field == "steps" {
                    // Compared by node: step IDs carry event indices.
                    Value::Array(
                        trace["steps"]
                            .as_array()
                            .map(|s| s.iter().map(|x| x["node"].clone()).collect())
                            .unwrap_or_default(),
                    )
                } else if field == "stopped" {
                    trace["stopped"]
                        .get("reason")
                        .cloned()
                        .unwrap_or(Value::Null)
                } else {
                    trace[field.as_str()].clone()
                };
                assert_eq!(&got, want, "{name}: `{field}` differs");
            }
        }
    }

    #[test]
    fn bad_answer_files_are_refused_with_a_reason() {
        let cases = [
            ("[]", "must be a JSON object"),
            ("{\"answer\": []}", "unknown field `answer`"),
            ("{\"token\": 3}", "`token` must be an object"),
            ("{\"answers\": {}}", "`answers` must be a list"),
            (
                "{\"activities\": {\"a\": [{\"done\": {}}]}}",
                "activities.a[0]",
            ),
            ("{\"timers\": [{\"at_step\": 0}]}", "timers[0].at_step"),
            ("not json", "not JSON"),
        ];
        for (text, needle) in cases {
            let err = match parse_answers(text) {
                Ok(_) => panic!("{text}: accepted"),
                Err(e) => format!("{e:#}"),
            };
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
