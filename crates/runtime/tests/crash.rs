//! Crash safety: the runtime runs in a child process under load (this test binary re-executed
//! with `IDFLOW_CRASH_CHILD` set), is killed with SIGKILL at random moments, and the store is
//! reopened each time. Every acknowledged start and answer must be there, no instance may be
//! half-advanced, and every `ACTIVE` instance must be able to go on.
//!
//! The child appends an acknowledgement line to a file only after the runtime call returned (so
//! after the durable commit): `S {instance} {step}` for a start, `A {instance} {step}` for an
//! answer. Rounds: 20 by default, `IDFLOW_CRASH_ROUNDS` to change.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idflow_engine::{EventKind, Status};
use idflow_runtime::flows;
use idflow_runtime::{InstanceQuery, Runtime, RuntimeConfig, SystemClock};
use idflow_store::Store;
use rand::Rng;
use serde_json::json;

const CHILD_ENV: &str = "IDFLOW_CRASH_CHILD";
const TENANT: &str = "crash";
const CHILD_THREADS: usize = 4;

fn open_runtime(store_dir: &Path) -> Runtime {
    Runtime::new(
        Store::open(store_dir).expect("open store"),
        Arc::new(flows::six_node_script(true)),
        RuntimeConfig {
            clock: Arc::new(SystemClock),
            rng_seed: None,
            limits: Default::default(),
            marker_key: None,
        },
    )
}

/// The child: start and answer instances on `THREADS` threads until killed.
fn child(store_dir: &Path, ack_path: &Path) -> ! {
    let runtime = Arc::new(open_runtime(store_dir));
    runtime.resume().expect("resume");
    runtime
        .deploy(TENANT, "six-node.bpmn", flows::SIX_NODE)
        .expect("deploy");
    let acks = Arc::new(Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(ack_path)
            .expect("ack file"),
    ));
    let ack = move |acks: &Mutex<File>, line: String| {
        // One write per line on an O_APPEND file: a kill cannot tear a line in two.
        let mut file = acks.lock().expect("ack lock");
        file.write_all(line.as_bytes()).expect("ack write");
    };
    let workers: Vec<_> = (0..CHILD_THREADS)
        .map(|t| {
            let runtime = Arc::clone(&runtime);
            let acks = Arc::clone(&acks);
            std::thread::spawn(move || {
                for n in 0u64.. {
                    let view = runtime
                        .start_definition(
                            TENANT,
                            "six-node",
                            None,
                            json!({"store": "s", "externalId": format!("{t}-{n}")}),
                        )
                        .expect("start");
                    let step = view.step.expect("rests at the form").step_id;
                    ack(&acks, format!("S {} {step}\n", view.id));
                    // Leave every third instance resting, to have ACTIVE instances at the kill.
                    if n % 3 == 2 {
                        continue;
                    }
                    let done = runtime
                        .answer(&view.id, &step, json!({ "n": n }))
                        .expect("answer");
                    assert_eq!(done.status, Status::CompletedEndedSuccess);
                    ack(&acks, format!("A {} {step}\n", view.id));
                }
            })
        })
        .collect();
    for w in workers {
        // Only a failure ends a worker: make it visible as a non-zero exit.
        if w.join().is_err() {
            std::process::exit(3);
        }
    }
    std::process::exit(4);
}

#[derive(Default)]
struct Acks {
    /// instance → step it was started at.
    started: BTreeMap<String, String>,
    /// instances whose answer was acknowledged, with the step.
    answered: BTreeMap<String, String>,
}

fn read_acks(path: &Path) -> Acks {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut acks = Acks::default();
    // A line is complete only with its newline.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let parts: Vec<&str> = line.trim_end().split(' ').collect();
        match parts.as_slice() {
            ["S", id, step] => {
                acks.started.insert(id.to_string(), step.to_string());
            }
            ["A", id, step] => {
                acks.answered.insert(id.to_string(), step.to_string());
            }
            other => panic!("malformed ack line {other:?}"),
        }
    }
    acks
}

/// Every instance in the store, from the tenant listing.
fn all_instances(runtime: &Runtime) -> Vec<String> {
    let mut ids = Vec::new();
    let mut query = InstanceQuery {
        limit: 1000,
        ..InstanceQuery::default()
    };
    loop {
        let page = runtime.list_instances(TENANT, &query).expect("list");
        ids.extend(page.items.into_iter().map(|s| s.id));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return ids,
        }
    }
}

/// Checks the reopened store against the acknowledgements; answers the active instances when
/// `finish` is set. Returns (instances, active).
fn verify(store_dir: &Path, acks: &Acks, finish: bool) -> (usize, usize) {
    let runtime = open_runtime(store_dir);
    let report = runtime.resume().expect("resume after the kill");
    assert!(
        report.repaired.is_empty(),
        "half-advanced instances after a kill: {:?}",
        report.repaired
    );
    assert_eq!(
        report.active, report.at_step,
        "an active instance not at a step"
    );

    let ids = all_instances(&runtime);
    let known: BTreeSet<&String> = ids.iter().collect();
    for id in acks.started.keys() {
        assert!(known.contains(id), "acknowledged start {id} is missing");
    }
    let mut active = Vec::new();
    for id in &ids {
        let view = runtime.instance(id).expect("instance reads");
        let history = runtime
            .history(id)
            .expect("history is whole and contiguous");
        assert!(
            matches!(
                history.first().map(|e| &e.kind),
                Some(EventKind::InstanceStarted { .. })
            ),
            "{id}: history does not begin with the start"
        );
        let answered: Vec<&String> = history
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::StepAnswered { step_id, .. } => Some(step_id),
                _ => None,
            })
            .collect();
        match view.status {
            Status::Active => {
                let step = view
                    .step
                    .as_ref()
                    .unwrap_or_else(|| panic!("{id}: active without a step"));
                assert!(answered.is_empty(), "{id}: answered yet still at a step");
                assert!(
                    !acks.answered.contains_key(id),
                    "{id}: acknowledged answer is missing"
                );
                if let Some(started_at) = acks.started.get(id) {
                    assert_eq!(&step.step_id, started_at);
                }
                active.push((id.clone(), step.step_id.clone()));
            }
            Status::CompletedEndedSuccess => {
                assert_eq!(
                    answered.len(),
                    1,
                    "{id}: completed with {} answers",
                    answered.len()
                );
                if let Some(step) = acks.answered.get(id) {
                    assert_eq!(answered[0], step);
                }
                assert!(
                    matches!(
                        history.last().map(|e| &e.kind),
                        Some(EventKind::InstanceEnded { .. })
                    ),
                    "{id}: completed but the history does not end"
                );
                assert_eq!(view.outcome.as_deref(), Some("Approved"));
            }
            other => panic!("{id}: unexpected status {other}"),
        }
    }
    if finish {
        for (id, step) in &active {
            let done = runtime
                .answer(id, step, json!({"after": "crash"}))
                .unwrap_or_else(|e| panic!("{id}: cannot continue after the crashes: {e}"));
            assert_eq!(done.status, Status::CompletedEndedSuccess);
        }
    }
    (ids.len(), active.len())
}

fn parent() {
    let rounds: usize = std::env::var("IDFLOW_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let work = tempfile::tempdir().expect("tempdir");
    let store_dir: PathBuf = work.path().join("store");
    let ack_path = work.path().join("acks");
    let exe = std::env::current_exe().expect("own path");
    let mut rng = rand::thread_rng();
    let began = Instant::now();
    let mut lines_before = 0usize;
    let mut mid_load_kills = 0;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, &store_dir)
            .env("IDFLOW_CRASH_ACKS", &ack_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn child");
        // Wait until the child is under load (new acknowledgements), then kill it at a random
        // moment in the following 0-150 ms.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let lines = std::fs::read_to_string(&ack_path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if lines > lines_before {
                break;
            }
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!("round {round}: the child exited on its own: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the child made no progress in 20 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..150)));
        if child.try_wait().expect("poll child").is_none() {
            mid_load_kills += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");

        let acks = read_acks(&ack_path);
        lines_before = acks.started.len() + acks.answered.len();
        let last = round + 1 == rounds;
        let (instances, active) = verify(&store_dir, &acks, last);
        if last {
            println!(
                "crash test: {rounds} SIGKILLs ({mid_load_kills} under load), {instances} instances, \
                 {} acknowledged starts, {} acknowledged answers, {active} active instances continued, {:.1} s",
                acks.started.len(),
                acks.answered.len(),
                began.elapsed().as_secs_f64()
            );
        }
    }
    assert_eq!(
        mid_load_kills, rounds,
        "every kill must land while the child runs"
    );
    // After the last round every active instance was answered: nothing is left active.
    let runtime = open_runtime(&store_dir);
    let report = runtime.resume().expect("resume");
    assert_eq!(report.active, 0);
}

fn main() -> ExitCode {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let acks = std::env::var_os("IDFLOW_CRASH_ACKS").expect("ack path");
        child(Path::new(&dir), Path::new(&acks));
    }
    // `cargo test -- --list` and filters: this file has one test, run unless filtered out.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("crash_safety: test");
        return ExitCode::SUCCESS;
    }
    if args
        .iter()
        .any(|a| !a.starts_with('-') && !"crash_safety".contains(a.as_str()))
    {
        return ExitCode::SUCCESS;
    }
    parent();
    println!("test crash_safety ... ok");
    ExitCode::SUCCESS
}
