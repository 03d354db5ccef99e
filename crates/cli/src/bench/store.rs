//! `idflow bench store`: the benchmark flow on a real sled store, every transition durable
//! before it is acknowledged, driven by many concurrent clients.
//!
//! The flow is `idflow bench engine`'s (`tests/bench/engine-flow.bpmn`: start → Get User → a
//! form step with a 15-minute timer → Simple Decider → gateway → end), run through the
//! [`Runtime`] with scripted activity results: each instance is two transitions (the start runs
//! to the step and arms its timer; the answer runs to the end and disarms it), each one durable
//! commit. Reported: completed instances per second, p50/p99 latency of a transition as its
//! client sees it, flushes per transition (group commit), and bytes per completed instance with
//! its history — on disk (sled's files, growth over the run) and logical (keys and values).
//!
//! `--count N` instances (default 20,000); `IDFLOW_BENCH_CLIENTS` client threads (default 96).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use idflow_engine::{ActivityResult, Check, CheckResult, Status, VarPath, VarWrite};
use idflow_runtime::{ActivityHandler, Runtime, RuntimeConfig, ScriptedActivities};
use idflow_store::Store;
use serde_json::{json, Value};

use super::Args;

/// The benchmark flow, shared with `idflow bench engine`.
const FLOW: &[u8] = include_bytes!("../../../../tests/bench/engine-flow.bpmn");
const FLOW_NAME: &str = "bench-engine";
const TENANT: &str = "bench";
const DEFAULT_INSTANCES: u64 = 20_000;
const DEFAULT_CLIENTS: usize = 96;
const WARM_UP: u64 = 200;
const GOAL_PER_SECOND: f64 = 5_000.0;
const GOAL_BYTES: f64 = 4_096.0;

/// The activity results of the flow, as the identity activities would give them (the same as
/// `idflow bench engine`'s test doubles).
fn scripted_activities() -> ScriptedActivities {
    ScriptedActivities::new()
        .on_every_visit(
            "getUser",
            ActivityResult::Completed {
                writes: vec![VarWrite {
                    path: VarPath::keys(&["user1"]),
                    value: json!({"id": "01HUSERBENCH", "externalId": "alice", "status": "ACTIVE"}),
                    secret: false,
                }],
                checks: Vec::new(),
            },
        )
        .on_every_visit(
            "decide",
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
            },
        )
}

/// A scratch directory removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<ScratchDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("idflow-bench-store-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One complete instance: start (to the step), answer (to the end). Returns both latencies.
fn run_instance(runtime: &Runtime, token: &Value) -> anyhow::Result<[Duration; 2]> {
    let t0 = Instant::now();
    let view = runtime.start_definition(TENANT, FLOW_NAME, None, token.clone())?;
    let t1 = Instant::now();
    let step = match view.step {
        Some(step) => step.step_id,
        None => bail!(
            "instance {} did not rest at the form ({})",
            view.id,
            view.status
        ),
    };
    let done = runtime.answer(
        &view.id,
        &step,
        json!({"colour": "blue", "newsletter": true}),
    )?;
    let t2 = Instant::now();
    if done.status != Status::CompletedEndedSuccess {
        bail!(
            "instance {} ended {}, expected COMPLETED_ENDED_SUCCESS",
            done.id,
            done.status
        );
    }
    Ok([t1 - t0, t2 - t1])
}

/// Bytes on disk of a fresh store holding only what `store` holds now: the footprint once the
/// garbage of superseded versions (the first state of each instance, disarmed timers) is
/// reclaimed.
fn compacted_size(store: &Store) -> anyhow::Result<u64> {
    let scratch = ScratchDir::new()?;
    let copy = Store::open(&scratch.0).context("cannot open the compaction store")?;
    let mut rows = Vec::new();
    let copy_rows = |rows: &mut Vec<(Vec<u8>, Vec<u8>)>| -> anyhow::Result<()> {
        copy.transact(|tx| {
            for (k, v) in rows.iter() {
                tx.insert(k, v.clone())?;
            }
            Ok::<_, idflow_store::StoreError>(())
        })?;
        rows.clear();
        Ok(())
    };
    for row in store.scan_prefix(b"") {
        rows.push(row?);
        if rows.len() == 1000 {
            copy_rows(&mut rows)?;
        }
    }
    copy_rows(&mut rows)?;
    copy.flush()?;
    Ok(copy.size_on_disk()?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let instances = args.count.unwrap_or(DEFAULT_INSTANCES).max(1);
    let clients = std::env::var("IDFLOW_BENCH_CLIENTS")
        .ok()
        .map(|c| c.parse::<usize>())
        .transpose()
        .context("IDFLOW_BENCH_CLIENTS must be a number")?
        .unwrap_or(DEFAULT_CLIENTS)
        .max(1);

    let scratch = ScratchDir::new()?;
    let store = Store::open(&scratch.0).context("cannot open the benchmark store")?;
    let handler: Arc<dyn ActivityHandler> = Arc::new(scripted_activities());
    let runtime = Arc::new(Runtime::new(store, handler, RuntimeConfig::default()));
    runtime
        .deploy(TENANT, "tests/bench/engine-flow.bpmn", FLOW)
        .context("the benchmark flow does not deploy")?;
    let token = json!({"storeName": "people", "externalId": "alice"});
    for _ in 0..WARM_UP {
        run_instance(&runtime, &token)?;
    }
    runtime.store().flush()?;
    let disk_before = runtime.store().size_on_disk()?;
    let logical_before = runtime.instance_storage()?;
    let (flushes_before, flush_time_before) = runtime.flush_stats();
    let (batches_before, chains_before) = runtime.batch_stats();

    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let runtime = Arc::clone(&runtime);
            let next = Arc::clone(&next);
            let token = token.clone();
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < instances {
                    latencies.extend(run_instance(&runtime, &token)?);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(usize::try_from(instances * 2).unwrap_or(0));
    for worker in workers {
        match worker.join() {
            Ok(result) => latencies.extend(result?),
            Err(_) => bail!("a benchmark client panicked"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let (flushes_after, flush_time_after) = runtime.flush_stats();
    let flushes = flushes_after - flushes_before;
    let flush_seconds = (flush_time_after - flush_time_before).as_secs_f64();
    let (batches_after, chains_after) = runtime.batch_stats();
    let chains_per_transaction =
        (chains_after - chains_before) as f64 / ((batches_after - batches_before).max(1) as f64);

    runtime.store().flush()?;
    let disk_after = runtime.store().size_on_disk()?;
    let compacted = compacted_size(runtime.store())?;
    let logical_after = runtime.instance_storage()?;
    latencies.sort_unstable();
    let n = instances as f64;
    let per_second = n / seconds.max(f64::EPSILON);
    let disk_per_instance = disk_after.saturating_sub(disk_before) as f64 / n;
    let total = n + WARM_UP as f64;
    let compacted_per_instance = compacted as f64 / total;
    let logical_per_instance = logical_after.bytes.saturating_sub(logical_before.bytes) as f64 / n;
    let keys_per_instance = logical_after.keys.saturating_sub(logical_before.keys) as f64 / n;
    let transitions = latencies.len() as f64;
    let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));

    let figures = json!({
        "scenario": "store",
        "instances": instances,
        "clients": clients,
        "seconds": seconds,
        "completed_per_second": per_second,
        "transitions_per_second": transitions / seconds.max(f64::EPSILON),
        "transition_latency_ms": {"p50": ms(p50), "p99": ms(p99), "max": ms(latencies.last().copied().unwrap_or_default())},
        "flushes": flushes,
        "transitions_per_flush": transitions / (flushes.max(1) as f64),
        "flush_seconds": flush_seconds,
        "chains_per_transaction": chains_per_transaction,
        "bytes_on_disk_per_instance": disk_per_instance,
        "compacted_bytes_per_instance": compacted_per_instance,
        "logical_bytes_per_instance": logical_per_instance,
        "keys_per_instance": keys_per_instance,
        "goals": {
            "completed_per_second": GOAL_PER_SECOND,
            "bytes_per_instance": GOAL_BYTES,
            "met": per_second >= GOAL_PER_SECOND && disk_per_instance <= GOAL_BYTES,
        },
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        println!("idflow bench store: {instances} instances of {FLOW_NAME} on sled, {clients} clients, every transition durable");
        println!("  completed instances/s: {per_second:.0} (goal ≥ {GOAL_PER_SECOND:.0})");
        println!(
            "  transition latency: p50 {:.2} ms, p99 {:.2} ms",
            ms(p50),
            ms(p99)
        );
        println!("  chains per store transaction: {chains_per_transaction:.1} (combined)");
        println!(
            "  flushes: {flushes} for {transitions:.0} transitions ({:.1} per flush, group commit), {:.2} ms each, {:.0}% of the run",
            transitions / (flushes.max(1) as f64),
            flush_seconds * 1e3 / (flushes.max(1) as f64),
            flush_seconds * 100.0 / seconds.max(f64::EPSILON)
        );
        println!(
            "  bytes per completed instance with its history: {disk_per_instance:.0} on disk (store growth over the run, goal ≤ {GOAL_BYTES:.0}), {compacted_per_instance:.0} on disk once compacted, {logical_per_instance:.0} logical in {keys_per_instance:.1} keys"
        );
        println!("  run time: {seconds:.2} s");
    }
    Ok(ExitCode::SUCCESS)
}
