//! `idflow bench store`: the benchmark flow on a real sled store, every transition durable
//! before it is acknowledged, driven by many concurrent clients.
//!
//! The flow is `idflow bench engine`'s (`tests/bench/engine-flow.bpmn`: start → Get User → a
//! form step with a 15-minute timer → Simple Decider → gateway → end), run through the
//! [`Runtime`] with scripted activity results: each instance is two transitions (the start runs
//! to the step and arms its timer; the answer runs to the end and disarms it), each one durable
//! commit. Reported: completed instances per second, p50/p99 latency of a transition as its
//! client sees it, flushes per transition (group commit), and bytes per completed instance with
//! its history — on disk (sled's files, growth over the run) and logical (keys and values) —
//! and the process's CPU per completed instance (every thread, the clients' included) over the
//! in-memory engine's CPU per instance, measured first in the same run.
//!
//! It runs twice on fresh stores: as the server runs (every flush followed by a device sync, so
//! an acknowledged transition survives power loss) and with sled's own flush alone (survives a
//! crash of the process only), and reports the ratio.
//!
//! `--count N` instances (default 20,000); `IDFLOW_BENCH_CLIENTS` client threads (default 96);
//! `IDFLOW_BENCH_DUMP=<dir>` writes the JSON of every record the store holds after the run into
//! `<dir>`, one file each: the samples the store's compression dictionary is trained on
//! (`crates/store/src/dictionaries/README.md`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use idflow_engine::Status;
use idflow_runtime::{ActivityHandler, Runtime, RuntimeConfig, ScriptedActivities};
use idflow_store::{Durability, Store};
use serde_json::{json, Value};

use super::engine::{decide_result, get_user_result, FLOW};
use super::thread_clock::process_cpu_ns;
use super::Args;

const FLOW_NAME: &str = "bench-engine";
const TENANT: &str = "bench";
const DEFAULT_INSTANCES: u64 = 20_000;
const DEFAULT_CLIENTS: usize = 96;
const WARM_UP: u64 = 200;
/// Instances the in-memory engine runs for the CPU ratio (after its warm-up).
const ENGINE_INSTANCES: u64 = 50_000;
const GOAL_PER_SECOND: f64 = 5_000.0;
/// Issue 16, goal 4: at most 2 KB on disk per completed instance, history included, as growth
/// during the run.
const GOAL_BYTES: f64 = 2_048.0;

/// The activity results of the flow, as the identity activities would give them (the same as
/// `idflow bench engine`'s test doubles).
fn scripted_activities() -> ScriptedActivities {
    ScriptedActivities::new()
        .on_every_visit("getUser", get_user_result())
        .on_every_visit("decide", decide_result())
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
    run_instance_in(runtime, TENANT, token)
}

/// One instance of the flow in `tenant`: its two transitions' latencies.
fn run_instance_in(
    runtime: &Runtime,
    tenant: &str,
    token: &Value,
) -> anyhow::Result<[Duration; 2]> {
    let t0 = Instant::now();
    let view = runtime.start_definition(tenant, FLOW_NAME, None, token.clone())?;
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

/// Writes the JSON of every record in `store` longer than a few bytes (not the empty index
/// values or counters) to `dir`, one file each.
fn dump_records(store: &Store, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut n = 0usize;
    for row in store.scan_prefix(b"") {
        let (key, value) = row?;
        if value.len() < 16 {
            continue;
        }
        let plain = idflow_store::plain_record(&key, &value)?;
        let path = dir.join(format!("{n:08}.json"));
        std::fs::write(&path, &plain[1..])
            .with_context(|| format!("cannot write {}", path.display()))?;
        n += 1;
    }
    eprintln!("wrote {n} records to {}", dir.display());
    Ok(())
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

    // Both durabilities in one run, so the cost of the device sync is a ratio on one machine:
    // sled's own flush (survives a crash of the process), then the default (survives power loss).
    // The in-memory engine's CPU per instance, the yardstick of `bench http`'s ratio: the CPU
    // figure below over it is what the runtime and a durable store cost around it, without HTTP.
    let engine_us = super::engine::microseconds_per_instance(ENGINE_INSTANCES)?;
    let crash_only = measure(instances, clients, Durability::ProcessCrash)?;
    let power_loss = measure(instances, clients, Durability::PowerLoss)?;
    let postgres = match &args.store {
        Some(url) => (1..=3)
            .map(|nodes| measure_postgres(url, nodes, instances, clients))
            .collect::<anyhow::Result<Vec<Value>>>()?,
        None => Vec::new(),
    };
    let backlogs = match &args.store {
        Some(url) => [1, 3]
            .into_iter()
            .map(|nodes| measure_timer_backlog(url, nodes, BACKLOG_TIMERS))
            .collect::<anyhow::Result<Vec<Value>>>()?,
        None => Vec::new(),
    };
    let per_second = power_loss["completed_per_second"].as_f64().unwrap_or(0.0);
    let disk_per_instance = power_loss["bytes_on_disk_per_instance"]
        .as_f64()
        .unwrap_or(f64::MAX);
    let figures = json!({
        "scenario": "store",
        "instances": instances,
        "clients": clients,
        "power_loss_safe": power_loss,
        "process_crash_safe": crash_only,
        "postgres": postgres,
        "timer_backlog": backlogs,
        "engine_cpu_us_per_instance": engine_us,
        "power_loss_cost": crash_only["completed_per_second"].as_f64().unwrap_or(0.0) / per_second.max(f64::EPSILON),
        "goals": {
            "completed_per_second": GOAL_PER_SECOND,
            "bytes_per_instance": GOAL_BYTES,
            "met": per_second >= GOAL_PER_SECOND && disk_per_instance <= GOAL_BYTES,
        },
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("idflow bench store: {instances} instances of {FLOW_NAME} on sled, {clients} clients, every transition durable before it is acknowledged");
    for (label, f) in [
        (
            "survives power loss (default: sled's flush, then fdatasync)",
            &power_loss,
        ),
        (
            "survives a process crash only (sled's flush alone)",
            &crash_only,
        ),
    ] {
        let get = |k: &str| f[k].as_f64().unwrap_or(0.0);
        println!("  {label}:");
        println!(
            "    completed instances/s: {:.0} (goal ≥ {GOAL_PER_SECOND:.0})",
            get("completed_per_second")
        );
        println!(
            "    transition latency: p50 {:.2} ms, p99 {:.2} ms",
            f["transition_latency_ms"]["p50"].as_f64().unwrap_or(0.0),
            f["transition_latency_ms"]["p99"].as_f64().unwrap_or(0.0)
        );
        println!(
            "    chains per store transaction: {:.1}; {:.1} transitions per flush, {:.2} ms per flush, {:.0}% of the run; {} device syncs",
            get("chains_per_transaction"),
            get("transitions_per_flush"),
            get("flush_seconds") * 1e3 / get("flushes").max(1.0),
            get("flush_seconds") * 100.0 / get("seconds").max(f64::EPSILON),
            f["device_syncs"]
        );
        println!(
            "    bytes per completed instance with its history: {:.0} on disk (growth over the run, goal ≤ {GOAL_BYTES:.0}), {:.0} once compacted, {:.0} logical in {:.1} keys",
            get("bytes_on_disk_per_instance"),
            get("compacted_bytes_per_instance"),
            get("logical_bytes_per_instance"),
            get("keys_per_instance")
        );
        println!(
            "    CPU per completed instance (every thread of the process, clients included): {:.0} us, {:.0}x the in-memory engine's {engine_us:.2} us",
            get("cpu_us_per_instance"),
            get("cpu_us_per_instance") / engine_us.max(1e-9)
        );
        println!("    run time: {:.2} s", get("seconds"));
    }
    println!(
        "  the device sync costs {:.2}x in completed instances/s",
        figures["power_loss_cost"].as_f64().unwrap_or(0.0)
    );
    for f in &postgres {
        println!(
            "  PostgreSQL, {} node(s) on one database: {:.0} completed instances/s, transition p50 {:.2} ms, p99 {:.2} ms, {:.1} chains per transaction (commit), {:.0} bytes per instance in the table (growth), {} serialization retries",
            f["nodes"],
            f["completed_per_second"].as_f64().unwrap_or(0.0),
            f["transition_latency_ms"]["p50"].as_f64().unwrap_or(0.0),
            f["transition_latency_ms"]["p99"].as_f64().unwrap_or(0.0),
            f["chains_per_transaction"].as_f64().unwrap_or(0.0),
            f["bytes_per_instance"].as_f64().unwrap_or(0.0),
            f["retries"]
        );
    }
    for f in &backlogs {
        println!(
            "  PostgreSQL timer backlog, {} node(s) firing {} due timers at once: {:.0} timers/s, fired per node {}, {} found already fired by another node, {} serialization retries",
            f["nodes"],
            f["timers"],
            f["timers_per_second"].as_f64().unwrap_or(0.0),
            f["fired_per_node"],
            f["stale"],
            f["retries"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `nodes` runtimes on the database at `url`, each with its own store handle (its own
/// connection pool), as several `idflow serve` processes on one database have.
fn postgres_nodes(
    url: &str,
    nodes: usize,
    config: RuntimeConfig,
) -> anyhow::Result<Vec<Arc<Runtime>>> {
    (0..nodes)
        .map(|_| -> anyhow::Result<Arc<Runtime>> {
            let store = Store::open_at(&idflow_store::StoreLocation::Postgres(url.to_string()))
                .with_context(|| format!("opening {}", crate::store_arg::shown(url)))?;
            let handler: Arc<dyn ActivityHandler> = Arc::new(scripted_activities());
            Ok(Arc::new(Runtime::new(store, handler, config.clone())))
        })
        .collect()
}

/// Due timers in the backlog scenario.
const BACKLOG_TIMERS: u64 = 2_000;

/// A backlog of `timers` due timers (instances resting at the flow's form, its 15-minute timer
/// passed) fired by `nodes` runtimes at once, each one timer pass, as the survivors of a dead
/// node do: how the work is shared and how often nodes collide on one timer.
fn measure_timer_backlog(url: &str, nodes: usize, timers: u64) -> anyhow::Result<Value> {
    let tenant = format!("bench-timers-{nodes}-{}", std::process::id());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let clock = Arc::new(idflow_runtime::ManualClock::new(now));
    let runtimes = postgres_nodes(
        url,
        nodes,
        RuntimeConfig {
            clock: clock.clone(),
            ..RuntimeConfig::default()
        },
    )?;
    runtimes[0]
        .deploy(&tenant, "tests/bench/engine-flow.bpmn", FLOW)
        .context("the benchmark flow does not deploy")?;
    let token = json!({"storeName": "people", "externalId": "alice"});
    let next = Arc::new(AtomicU64::new(0));
    let starters: Vec<_> = (0..8)
        .map(|i| {
            let runtime = Arc::clone(&runtimes[i % nodes]);
            let (next, token, tenant) = (Arc::clone(&next), token.clone(), tenant.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                while next.fetch_add(1, Ordering::Relaxed) < timers {
                    runtime.start_definition(&tenant, FLOW_NAME, None, token.clone())?;
                }
                Ok(())
            })
        })
        .collect();
    for starter in starters {
        starter
            .join()
            .map_err(|_| anyhow::anyhow!("a starting thread panicked"))??;
    }
    clock.advance(16 * 60 * 1000);
    let retries_before = idflow_store::serialization_retries();
    let barrier = Arc::new(std::sync::Barrier::new(nodes));
    let started = Instant::now();
    let passes: Vec<_> = runtimes
        .iter()
        .map(|runtime| {
            let (runtime, barrier) = (Arc::clone(runtime), Arc::clone(&barrier));
            std::thread::spawn(move || -> anyhow::Result<(usize, usize)> {
                barrier.wait();
                let pass = runtime.fire_due_timers()?;
                if let Some((_, e)) = pass.failed.first() {
                    bail!("a timer could not fire: {e}");
                }
                Ok((pass.fired.len(), pass.stale))
            })
        })
        .collect();
    let mut fired_per_node = Vec::new();
    let mut stale = 0;
    for pass in passes {
        let (fired, found_fired) = pass
            .join()
            .map_err(|_| anyhow::anyhow!("a timer thread panicked"))??;
        fired_per_node.push(fired);
        stale += found_fired;
    }
    let seconds = started.elapsed().as_secs_f64();
    let fired: usize = fired_per_node.iter().sum();
    if fired as u64 != timers {
        bail!("{fired} timers fired of {timers} due: each must fire exactly once");
    }
    Ok(json!({
        "nodes": nodes,
        "timers": timers,
        "seconds": seconds,
        "timers_per_second": timers as f64 / seconds.max(f64::EPSILON),
        "fired_per_node": fired_per_node,
        "stale": stale,
        "retries": idflow_store::serialization_retries() - retries_before,
    }))
}

/// One run on the PostgreSQL database at `url` with `nodes` runtimes, each with its own store
/// handle (its own connection pool), the clients spread over them: what several `idflow serve`
/// processes on one database do, on one machine.
fn measure_postgres(
    url: &str,
    nodes: usize,
    instances: u64,
    clients: usize,
) -> anyhow::Result<Value> {
    let tenant = format!("bench-pg-{nodes}-{}", std::process::id());
    let runtimes = postgres_nodes(url, nodes, RuntimeConfig::default())?;
    runtimes[0]
        .deploy(&tenant, "tests/bench/engine-flow.bpmn", FLOW)
        .context("the benchmark flow does not deploy")?;
    let token = json!({"storeName": "people", "externalId": "alice"});
    for runtime in &runtimes {
        for _ in 0..WARM_UP / 4 {
            run_instance_in(runtime, &tenant, &token)?;
        }
    }
    let size_before = runtimes[0].store().size_on_disk()?;
    let retries_before = idflow_store::serialization_retries();
    let batches = |runtimes: &[Arc<Runtime>]| {
        runtimes
            .iter()
            .map(|r| r.batch_stats())
            .fold((0, 0), |(b, c), (rb, rc)| (b + rb, c + rc))
    };
    let (batches_before, chains_before) = batches(&runtimes);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let runtime = Arc::clone(&runtimes[i % nodes]);
            let next = Arc::clone(&next);
            let token = token.clone();
            let tenant = tenant.clone();
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < instances {
                    latencies.extend(run_instance_in(&runtime, &tenant, &token)?);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        match worker.join() {
            Ok(result) => latencies.extend(result?),
            Err(_) => bail!("a benchmark client panicked"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let size_after = runtimes[0].store().size_on_disk()?;
    let (batches_after, chains_after) = batches(&runtimes);
    latencies.sort_unstable();
    let n = instances as f64;
    Ok(json!({
        "nodes": nodes,
        // Group commit: chains (transitions) sharing one transaction, one commit, one WAL flush.
        "chains_per_transaction": (chains_after - chains_before) as f64 / ((batches_after - batches_before).max(1) as f64),
        "seconds": seconds,
        "completed_per_second": n / seconds.max(f64::EPSILON),
        "transition_latency_ms": {"p50": ms(percentile(&latencies, 0.50)), "p99": ms(percentile(&latencies, 0.99))},
        "bytes_per_instance": size_after.saturating_sub(size_before) as f64 / n,
        "retries": idflow_store::serialization_retries() - retries_before,
    }))
}

/// One run of `instances` instances on a fresh store opened with `durability`.
fn measure(instances: u64, clients: usize, durability: Durability) -> anyhow::Result<Value> {
    let scratch = ScratchDir::new()?;
    let store =
        Store::open_with(&scratch.0, durability).context("cannot open the benchmark store")?;
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
    let syncs_before = runtime.store().device_syncs();

    let next = Arc::new(AtomicU64::new(0));
    let cpu_before = process_cpu_ns();
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
    let cpu_ns = process_cpu_ns()
        .zip(cpu_before)
        .map_or(0, |(after, before)| after.saturating_sub(before));
    let (flushes_after, flush_time_after) = runtime.flush_stats();
    let flushes = flushes_after - flushes_before;
    let flush_seconds = (flush_time_after - flush_time_before).as_secs_f64();
    let (batches_after, chains_after) = runtime.batch_stats();
    let chains_per_transaction =
        (chains_after - chains_before) as f64 / ((batches_after - batches_before).max(1) as f64);
    let device_syncs = runtime.store().device_syncs() - syncs_before;

    runtime.store().flush()?;
    let disk_after = runtime.store().size_on_disk()?;
    let compacted = compacted_size(runtime.store())?;
    let logical_after = runtime.instance_storage()?;
    if durability == Durability::PowerLoss {
        if let Some(dir) = std::env::var_os("IDFLOW_BENCH_DUMP") {
            dump_records(runtime.store(), &PathBuf::from(dir))?;
        }
    }
    latencies.sort_unstable();
    let n = instances as f64;
    let total = n + WARM_UP as f64;
    let transitions = latencies.len() as f64;
    let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
    Ok(json!({
        "durability": format!("{durability:?}"),
        "seconds": seconds,
        "completed_per_second": n / seconds.max(f64::EPSILON),
        "cpu_us_per_instance": cpu_ns as f64 / 1e3 / n,
        "transitions_per_second": transitions / seconds.max(f64::EPSILON),
        "transition_latency_ms": {"p50": ms(p50), "p99": ms(p99), "max": ms(latencies.last().copied().unwrap_or_default())},
        "flushes": flushes,
        "device_syncs": device_syncs,
        "transitions_per_flush": transitions / (flushes.max(1) as f64),
        "flush_seconds": flush_seconds,
        "chains_per_transaction": chains_per_transaction,
        "bytes_on_disk_per_instance": disk_after.saturating_sub(disk_before) as f64 / n,
        "compacted_bytes_per_instance": compacted as f64 / total,
        "logical_bytes_per_instance": logical_after.bytes.saturating_sub(logical_before.bytes) as f64 / n,
        "keys_per_instance": logical_after.keys.saturating_sub(logical_before.keys) as f64 / n,
    }))
}
