//! `idflow bench engine`: the sans-IO engine alone, in memory, on one core.
//!
//! Drives complete instances of `tests/bench/engine-flow.bpmn` (start → Get User → a form step
//! with a timer → Simple Decider → gateway → end) with inline test-double activity results and
//! answers, and reports instances per second and heap allocations per instance. Allocations are
//! counted by the binary's global allocator (`crate::alloc`), switched on only while this
//! benchmark runs. `--count N` sets the number of
//! instances (default 200,000, timed in five rounds after a warm-up); `--json` prints the figures
//! as JSON.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Context};
use idflow_defs::Definition;
use idflow_engine::redact::MarkerKey;
use idflow_engine::{
    apply, ActivityResult, Check, CheckResult, DefinitionRef, Input, Instance, Limits, Next,
    Status, StepSeed, VarPath, VarWrite,
};
use serde_json::{json, Value};

use super::Args;

/// The benchmark flow, built into the binary so the command runs from anywhere; `idflow bench
/// store` runs it too.
pub(super) const FLOW: &[u8] = include_bytes!("../../../../tests/bench/engine-flow.bpmn");
const DEFAULT_INSTANCES: u64 = 200_000;
const WARM_UP: u64 = 2_000;
const ROUNDS: u64 = 5;
const GOAL_PER_SECOND: f64 = 200_000.0;

/// Allocation counts gathered around the `apply` calls only.
#[derive(Default)]
struct InApply {
    allocations: u64,
    bytes: u64,
}

/// Applies `input`, counting the allocations made inside `apply`.
fn step(
    def: &Definition,
    instance: &mut Instance,
    input: Input,
    limits: &Limits,
    key: &MarkerKey,
    counted: &mut InApply,
) -> anyhow::Result<Next> {
    let (a0, b0) = crate::alloc::counters();
    let transition = apply(def, instance, input, limits, key)
        .with_context(|| format!("instance {} refused an input", instance.id))?;
    let (a1, b1) = crate::alloc::counters();
    counted.allocations += a1 - a0;
    counted.bytes += b1 - b0;
    Ok(transition.next)
}

/// The outside world of the benchmark, built once: the start's definition reference and token,
/// the activities' canned results (as the identity activities would return them) and the end
/// user's answer. Each instance gets clones, as a test double hands out canned values.
struct Doubles {
    definition: DefinitionRef,
    token: Value,
    /// The runtime's: one marker key, a step seed per instance (one for all will do here).
    key: MarkerKey,
    step_seed: StepSeed,
    get_user: ActivityResult,
    decide: ActivityResult,
    answer: Value,
}

impl Doubles {
    fn new(def: &Definition) -> Doubles {
        Doubles {
            definition: DefinitionRef {
                name: def.process_id.clone(),
                version: 1,
                content_hash: def.content_hash.clone(),
            },
            token: json!({"storeName": "people", "externalId": "alice"}),
            key: MarkerKey::from_bytes([7; MarkerKey::LEN]),
            step_seed: StepSeed::keyed([7; StepSeed::KEYED_LEN]),
            get_user: get_user_result(),
            decide: decide_result(),
            answer: json!({"colour": "blue", "newsletter": true}),
        }
    }

    fn result_for(&self, node: &str) -> anyhow::Result<ActivityResult> {
        match node {
            "getUser" => Ok(self.get_user.clone()),
            "decide" => Ok(self.decide.clone()),
            other => bail!("the benchmark flow has no activity '{other}'"),
        }
    }
}

/// What Get User gives in the benchmarks, as the identity activity would.
pub(super) fn get_user_result() -> ActivityResult {
    ActivityResult::Completed {
        writes: vec![VarWrite {
            path: VarPath::keys(&["user1"]),
            value: json!({"id": "01HUSERBENCH", "externalId": "alice", "status": "ACTIVE"}),
            secret: false,
        }],
        checks: Vec::new(),
    }
}

/// What Simple Decider gives in the benchmarks: `PASS`, with one passed check.
pub(super) fn decide_result() -> ActivityResult {
    ActivityResult::Completed {
        writes: vec![VarWrite {
            path: VarPath::keys(&["_decision"]),
            value: json!("PASS"),
            secret: false,
        }],
        checks: vec![Check {
            name: "profile".into(),
            result: CheckResult::Pass,
            detail: "complete".into(),
        }],
    }
}

/// Runs one instance to its end with the test doubles; returns its status.
fn run_instance(
    def: &Definition,
    doubles: &Doubles,
    limits: &Limits,
    now: i64,
    counted: &mut InApply,
) -> anyhow::Result<Status> {
    let mut instance = Instance::new("01HBENCHINSTANCE");
    let start = Input::Start {
        definition: doubles.definition.clone(),
        token_name: Some("bench".into()),
        token: doubles.token.clone(),
        step_seed: Some(doubles.step_seed),
        now_ms: now,
    };
    let mut next = step(def, &mut instance, start, limits, &doubles.key, counted)?;
    // Bounded: the flow needs four inputs; more means the engine went astray.
    for _ in 0..8 {
        // `next` is consumed, as a runtime would, so its IDs move into the next input. (The
        // form's deadline timer is armed in the instance's state; the answer cancels it.)
        let input = match next {
            Next::RunActivity { node, .. } => Input::ActivityDone {
                result: doubles.result_for(&node)?,
                node,
                now_ms: now + 1,
            },
            Next::PresentStep { step_id, .. } => Input::Answer {
                step_id,
                data: doubles.answer.clone(),
                now_ms: now + 2,
            },
            Next::Ended { status } => return Ok(status),
        };
        next = step(def, &mut instance, input, limits, &doubles.key, counted)?;
    }
    bail!("the benchmark flow did not end")
}

/// CPU microseconds (this thread's CPU clock) per instance of the benchmark flow over
/// `instances` instances after a warm-up, allocations not counted: what `bench http` divides
/// its server CPU per flow by, measured in the same process and sitting.
pub(super) fn microseconds_per_instance(instances: u64) -> anyhow::Result<f64> {
    let def = idflow_defs::load("tests/bench/engine-flow.bpmn", FLOW)
        .into_result()
        .context("the benchmark flow does not load")?;
    let doubles = Doubles::new(&def);
    let limits = Limits::default();
    let now = 1_700_000_000_000;
    let mut scratch = InApply::default();
    for _ in 0..WARM_UP {
        run_instance(&def, &doubles, &limits, now, &mut scratch)?;
    }
    let instances = instances.max(1);
    let clock = super::thread_clock::Stopwatch::new();
    let started = clock.now_ns();
    for _ in 0..instances {
        let status = run_instance(&def, &doubles, &limits, now, &mut scratch)?;
        if status != Status::CompletedEndedSuccess {
            bail!("an engine benchmark instance ended {status}, expected COMPLETED_ENDED_SUCCESS");
        }
    }
    Ok((clock.now_ns() - started) as f64 / 1e3 / instances as f64)
}

/// The machine's one-minute load average (Linux), reported with the figures: on a shared machine
/// it tells how much the other work weighed on them.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let loaded = idflow_defs::load("tests/bench/engine-flow.bpmn", FLOW);
    let def = loaded
        .into_result()
        .context("the benchmark flow does not load")?;
    let doubles = Doubles::new(&def);
    let limits = Limits::default();
    let instances = args.count.unwrap_or(DEFAULT_INSTANCES).max(1);
    let now = 1_700_000_000_000;

    crate::alloc::COUNTING.store(true, Ordering::Relaxed);
    let mut scratch = InApply::default();
    for _ in 0..WARM_UP {
        run_instance(&def, &doubles, &limits, now, &mut scratch)?;
    }

    // Timed in rounds: on a machine shared with other work, the best round shows what one
    // undisturbed core does, the overall rate what this run got.
    let rounds = ROUNDS.min(instances);
    let mut in_apply = InApply::default();
    let (a0, b0) = crate::alloc::counters();
    let mut seconds = 0.0;
    let mut best_round = 0.0_f64;
    let mut done = 0;
    for round in 0..rounds {
        let size = instances / rounds + u64::from(round < instances % rounds);
        let started = Instant::now();
        for _ in 0..size {
            let status = run_instance(&def, &doubles, &limits, now, &mut in_apply)?;
            if status != Status::CompletedEndedSuccess {
                bail!("instance {done} ended {status}, expected COMPLETED_ENDED_SUCCESS");
            }
            done += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        seconds += elapsed;
        best_round = best_round.max(size as f64 / elapsed.max(f64::EPSILON));
    }
    let (a1, b1) = crate::alloc::counters();
    crate::alloc::COUNTING.store(false, Ordering::Relaxed);
    let per_second = instances as f64 / seconds.max(f64::EPSILON);
    let n = instances as f64;
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    let figures = json!({
        "scenario": "engine",
        "instances": instances,
        "rounds": rounds,
        "seconds": seconds,
        "instances_per_second": per_second.round(),
        "best_round_instances_per_second": best_round.round(),
        "microseconds_per_instance": (seconds * 1e6 / n * 100.0).round() / 100.0,
        "allocations_per_instance_in_apply": round1(in_apply.allocations as f64 / n),
        "bytes_allocated_per_instance_in_apply": (in_apply.bytes as f64 / n).round(),
        "allocations_per_instance_total": round1((a1 - a0) as f64 / n),
        "bytes_allocated_per_instance_total": ((b1 - b0) as f64 / n).round(),
        "goal_instances_per_second": GOAL_PER_SECOND,
        "load_average_1m": load_average(),
        "meets_goal": per_second >= GOAL_PER_SECOND,
    });
    // Written through a locked handle with errors returned, not `println!`: a closed pipe
    // (`| head`) is an error message, not a panic.
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{figures:#}")?;
    } else {
        writeln!(
            out,
            "engine (in memory, one core): {instances} instances of a six-node flow with one step, {rounds} rounds, {seconds:.3} s"
        )?;
        writeln!(
            out,
            "  {per_second:.0} instances/s overall, {best_round:.0}/s in the best round ({:.2} µs per instance; goal ≥ {GOAL_PER_SECOND:.0}/s: {})",
            seconds * 1e6 / n,
            if per_second >= GOAL_PER_SECOND {
                "met"
            } else {
                "NOT met"
            }
        )?;
        writeln!(
            out,
            "  allocations per instance: {:.1} inside apply ({:.0} bytes), {:.1} in all (with the test doubles' results and answers)",
            in_apply.allocations as f64 / n,
            in_apply.bytes as f64 / n,
            (a1 - a0) as f64 / n
        )?;
        if let Some(load) = load_average() {
            writeln!(
                out,
                "  (machine load average over the last minute: {load:.2})"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
