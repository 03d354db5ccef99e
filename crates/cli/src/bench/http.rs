//! `idflow bench http`: a load generator against a server it starts on loopback in this process.
//!
//! First the in-memory engine's CPU per instance (`bench engine`'s flow, on this thread), then,
//! against three servers in turn — 1 worker and 1 blocking thread, 2 and 2 (the requests' store
//! work and SRP math run on the blocking threads), and 2 workers with tokio's default blocking
//! pool as `idflow serve` has — three phases, each `--count` operations (default 1000) spread
//! over 8 concurrent clients:
//!
//! 1. **Registration flows**: a process token per flow (created beforehand, not timed) starts an
//!    instance of the shipped `passcode-registration` flow through the end user's routes; the
//!    client derives a verifier from the step's SRP parameters with the Rust client and answers
//!    the form; the flow must end `COMPLETED_ENDED_SUCCESS`. One flow = two HTTP requests. Its
//!    server CPU per flow is divided by the engine's CPU per instance (issue 16's ratio).
//! 2. **Authentication flows** of the users just registered (the shipped
//!    `passcode-authentication` flow, a token each): start, client proof as the form's answer;
//!    the server's `M2` from the answer is checked. Two HTTP requests.
//! 3. **SRP authentications on the identity routes** of the same users: start (bearer token),
//!    client proof, complete; the server's `M2` is checked. Two HTTP requests.
//!
//! 4. **The HTTP stack alone**: two JSON POSTs of an answer's size to a path no route serves,
//!    each answered 404 by the router's fallback after the same middleware (body limit and
//!    buffering, tracing, metrics, panic catcher): a registration flow's two requests without
//!    the store, the engine, the activities or the step. Its server CPU per pair, divided by the
//!    engine's CPU per instance, is the least the ratio can be over HTTP/1.1.
//!
//! For each phase: operations per second, p50/p99/max latency of a whole operation, and the
//! server's CPU split between SRP math and everything else. The server's CPU is the CPU time of
//! every thread of the process but the main thread and the load generator's (each client thread
//! runs its small HTTP client and its SRP client math on itself), read per thread from
//! `/proc/self/task/*/schedstat` (Linux) before and after each phase. The SRP math share
//! is the number of server-side SRP computations each phase makes times their CPU cost measured
//! here on one thread (`B = k*v + g^b` at a start, `S = (A*v^u)^b` with `K`, `M1`, `M2` at a
//! completion, the verifier check at a registration).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use idflow_identity::{client, srp, wire};
use idflow_server::{Config, Server, DEMO_TENANT};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Args;

const CLIENTS: usize = 8;
const PASSCODE: &str = "BenchPass1";
const DEFAULT_COUNT: u64 = 1000;

/// CPU time of the calling thread, in nanoseconds (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The name of the load generator's threads: their CPU is not the server's.
const CLIENT_THREAD: &str = "bench-client";

/// CPU nanoseconds of every thread of this process that serves (all but the main thread and
/// the load generator's), by thread ID (`/proc/self/task/*/schedstat`). The server runtime keeps
/// its blocking threads alive for the whole run, so none exits between two readings.
fn server_threads_cpu_ns() -> std::collections::HashMap<u32, u64> {
    let mut out = std::collections::HashMap::new();
    let pid = std::process::id();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        if tid == pid {
            continue;
        }
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == CLIENT_THREAD {
            continue;
        }
        let ns = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|t| t.split_whitespace().next().and_then(|n| n.parse().ok()));
        if let Some(ns) = ns {
            out.insert(tid, ns);
        }
    }
    out
}

/// Server CPU nanoseconds spent between two readings.
fn server_cpu_between(
    before: &std::collections::HashMap<u32, u64>,
    after: &std::collections::HashMap<u32, u64>,
) -> u64 {
    after
        .iter()
        .map(|(tid, ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

#[derive(Debug, Clone, serde::Serialize)]
struct PhaseReport {
    operations: usize,
    wall_seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    server_cpu_seconds: f64,
    server_cpu_ms_per_op: f64,
    srp_cpu_ms_per_op: f64,
    srp_share_percent: f64,
    client_cpu_seconds: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
struct SrpCosts {
    server_public_b_us: f64,
    server_keys_s_us: f64,
    verifier_check_us: f64,
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

/// CPU microseconds of the server's SRP computations, measured on this thread.
fn calibrate_srp() -> anyhow::Result<SrpCosts> {
    let salt = [0x5au8; 16];
    let identity = "UGIRW7QN727EIV2XLXG4YH42N4";
    let verifier = srp::compute_verifier(&salt, identity, PASSCODE);
    let a = [0x11u8; 32];
    let a_pub = srp::client_public(&a);
    let rounds = 200u32;
    let mut bs = Vec::with_capacity(rounds as usize);
    let time = |f: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<f64> {
        let start = thread_cpu_ns().ok_or_else(|| anyhow!("no thread CPU clock"))?;
        for _ in 0..rounds {
            f()?;
        }
        let end = thread_cpu_ns().ok_or_else(|| anyhow!("no thread CPU clock"))?;
        Ok(end.saturating_sub(start) as f64 / 1000.0 / f64::from(rounds))
    };
    let mut i = 0u8;
    let server_public_b_us = time(&mut || {
        i = i.wrapping_add(1);
        let b = [i | 1; 32];
        let b_pub = srp::server_public(&verifier, &b).map_err(|e| anyhow!("{e}"))?;
        bs.push((b, b_pub));
        Ok(())
    })?;
    let mut j = 0usize;
    let server_keys_s_us = time(&mut || {
        let (b, b_pub) = &bs[j % bs.len()];
        j += 1;
        srp::server_keys(identity, &salt, &verifier, b, &a_pub, b_pub)
            .map(|_| ())
            .map_err(|e| anyhow!("{e}"))
    })?;
    let verifier_check_us = time(&mut || {
        srp::check_verifier(&verifier)
            .map(|_| ())
            .map_err(|e| anyhow!("{e}"))
    })?;
    Ok(SrpCosts {
        server_public_b_us,
        server_keys_s_us,
        verifier_check_us,
    })
}

/// What one client thread did.
struct ClientRun {
    latencies_ms: Vec<f64>,
    cpu_ns: u64,
    /// Users registered (phase 1) as `(user ID)`.
    users: Vec<String>,
}

/// A minimal HTTP/1.1 client on one keep-alive connection: enough for JSON requests to the
/// server under test, and cheap, so the load generator leaves the CPU to the server.
struct Http {
    addr: std::net::SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    fn new(addr: std::net::SocketAddr) -> Http {
        Http { addr, conn: None }
    }

    async fn post(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let body = serde_json::to_vec(body)?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        head.push_str("\r\n");
        // One retry on a fresh connection: the server may have closed an idle one.
        for attempt in 0..2 {
            if self.conn.is_none() {
                let tcp = TcpStream::connect(self.addr).await?;
                tcp.set_nodelay(true)?;
                self.conn = Some(BufReader::new(tcp));
            }
            match self.exchange(head.as_bytes(), &body).await {
                Ok(answer) => return Ok(answer),
                Err(e) if attempt == 0 => {
                    self.conn = None;
                    tracing::debug!(error = %e, "reconnecting");
                }
                Err(e) => return Err(e),
            }
        }
        bail!("unreachable: two attempts made")
    }

    async fn exchange(&mut self, head: &[u8], body: &[u8]) -> anyhow::Result<(u16, Value)> {
        let conn = self.conn.as_mut().ok_or_else(|| anyhow!("no connection"))?;
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head);
        request.extend_from_slice(body);
        conn.get_mut().write_all(&request).await?;
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            bail!("connection closed");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("bad status line {line:?}"))?;
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            conn.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked answers are not expected from this server");
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                close = true;
            }
        }
        let mut buf = vec![0u8; length];
        conn.read_exact(&mut buf).await?;
        if close {
            self.conn = None;
        }
        Ok((status, serde_json::from_slice(&buf).unwrap_or(Value::Null)))
    }
}

/// What the load generator does with each item of its work.
#[derive(Clone)]
enum Phase {
    /// Items are process token IDs; each runs a registration flow.
    Register,
    /// Items are user IDs; each is authenticated with the admin token.
    Authenticate { admin: String },
    /// Items are process token IDs of the authentication flow; each runs one.
    AuthenticateInFlow,
    /// Items are only counted; each is two requests the router answers without a handler.
    HttpAlone,
}

fn run_clients(
    addr: std::net::SocketAddr,
    work: Vec<Vec<String>>,
    phase: Phase,
) -> anyhow::Result<(Vec<ClientRun>, Duration)> {
    let barrier = Arc::new(std::sync::Barrier::new(work.len() + 1));
    let handles: Vec<_> = work
        .into_iter()
        .map(|items| {
            let barrier = Arc::clone(&barrier);
            let phase = phase.clone();
            std::thread::Builder::new()
                .name(CLIENT_THREAD.into())
                .spawn(move || -> anyhow::Result<ClientRun> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let mut http = Http::new(addr);
                    barrier.wait();
                    let cpu_start = thread_cpu_ns().unwrap_or(0);
                    let mut latencies_ms = Vec::with_capacity(items.len());
                    let mut users = Vec::with_capacity(items.len());
                    for item in items {
                        let started = Instant::now();
                        let user = rt.block_on(async {
                            match &phase {
                                Phase::Register => registration_flow(&mut http, &item).await,
                                Phase::Authenticate { admin } => {
                                    authentication(&mut http, admin, &item).await
                                }
                                Phase::AuthenticateInFlow => {
                                    authentication_flow(&mut http, &item).await
                                }
                                Phase::HttpAlone => http_alone(&mut http, &item).await,
                            }
                        })?;
                        latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                        users.push(user);
                    }
                    let cpu_ns = thread_cpu_ns().unwrap_or(0).saturating_sub(cpu_start);
                    Ok(ClientRun {
                        latencies_ms,
                        cpu_ns,
                        users,
                    })
                })
        })
        .collect::<Result<_, _>>()?;
    barrier.wait();
    let started = Instant::now();
    let mut runs = Vec::new();
    for h in handles {
        runs.push(
            h.join()
                .map_err(|_| anyhow!("a load generator thread panicked"))??,
        );
    }
    Ok((runs, started.elapsed()))
}

fn report(
    runs: &[ClientRun],
    wall: Duration,
    server_cpu_ns: u64,
    srp_us_per_op: f64,
) -> PhaseReport {
    let mut latencies: Vec<f64> = runs.iter().flat_map(|r| r.latencies_ms.clone()).collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let operations = latencies.len();
    let client_cpu_ns: u64 = runs.iter().map(|r| r.cpu_ns).sum();
    let server_cpu_ms_per_op = server_cpu_ns as f64 / 1e6 / operations.max(1) as f64;
    let srp_cpu_ms_per_op = srp_us_per_op / 1000.0;
    PhaseReport {
        operations,
        wall_seconds: wall.as_secs_f64(),
        per_second: operations as f64 / wall.as_secs_f64().max(1e-9),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
        server_cpu_seconds: server_cpu_ns as f64 / 1e9,
        server_cpu_ms_per_op,
        srp_cpu_ms_per_op,
        srp_share_percent: if server_cpu_ms_per_op > 0.0 {
            100.0 * srp_cpu_ms_per_op / server_cpu_ms_per_op
        } else {
            0.0
        },
        client_cpu_seconds: client_cpu_ns as f64 / 1e9,
    }
}

fn split<T: Clone>(items: &[T], parts: usize) -> Vec<Vec<T>> {
    let mut out = vec![Vec::new(); parts.max(1)];
    for (i, item) in items.iter().enumerate() {
        out[i % parts.max(1)].push(item.clone());
    }
    out.retain(|v| !v.is_empty());
    out
}

/// Starts an instance of `token_id` whose first step is an SRP form: the step's session and the
/// path its answer goes to.
async fn start_at_srp_step(
    http: &mut Http,
    token_id: &str,
    kind: &str,
) -> anyhow::Result<(wire::PasscodeSessionStart, String)> {
    let (status, started) = http
        .post(
            "/api/process-manager/process-instances",
            None,
            &json!({ "processToken": token_id }),
        )
        .await?;
    if status != 201 {
        bail!("start answered {status}: {started}");
    }
    let step = &started["currentStep"];
    let session = serde_json::from_value(step["data"].clone())
        .with_context(|| format!("the {kind} step carries no SRP parameters"))?;
    let path = format!(
        "/api/process-manager/process-instances/{}/steps/{}",
        started["instanceId"].as_str().unwrap_or_default(),
        step["stepId"].as_str().unwrap_or_default()
    );
    Ok((session, path))
}

/// One whole registration flow; returns the registered user's ID.
async fn registration_flow(http: &mut Http, token_id: &str) -> anyhow::Result<String> {
    let (session, path) = start_at_srp_step(http, token_id, "registration").await?;
    let request = client::register(&session, PASSCODE)?;
    let (status, done) = http
        .post(&path, None, &json!({ "browserResponse": request }))
        .await?;
    if status != 200 || done["status"] != "COMPLETED_ENDED_SUCCESS" {
        bail!("answer answered {status}: {done}");
    }
    Ok(session.algorithm_info.parameters.i)
}

/// One whole authentication flow (`passcode-authentication`: Get User, Start Passcode
/// Authentication, the form, Complete Passcode Authentication); returns the token ID.
async fn authentication_flow(http: &mut Http, token_id: &str) -> anyhow::Result<String> {
    let (session, path) = start_at_srp_step(http, token_id, "authentication").await?;
    let proof = client::authenticate(&session, PASSCODE, &mut rand::rngs::OsRng)?;
    let (status, done) = http
        .post(&path, None, &json!({ "browserResponse": proof.request() }))
        .await?;
    if status != 200 || done["status"] != "COMPLETED_ENDED_SUCCESS" {
        bail!("answer answered {status}: {done}");
    }
    let m2 = done["passcodeProofs"][0]["m2"].as_str().unwrap_or_default();
    // The flow answers `M2` alone; the client checks it as it checks the identity route's.
    let response = wire::PasscodeProofResponse {
        algorithm_info: wire::ProofAlgorithmInfo {
            kind: srp::ALGORITHM_TYPE.to_string(),
            parameters: wire::ProofParameters {
                hash_algorithm: srp::HASH_ALGORITHM.to_string(),
                m2: m2.to_string(),
            },
        },
        user: wire::User {
            id: String::new(),
            external_id: String::new(),
            status: String::new(),
            created_at: String::new(),
            last_successful_authentication: None,
            lock_count: 0,
            registered_passcodes: Vec::new(),
            totp_registrations: Vec::new(),
        },
    };
    proof.verify_server(&response)?;
    Ok(token_id.to_string())
}

/// Two JSON POSTs of a registration answer's size that no route serves: the router's fallback
/// answers each 404 after the whole middleware stack, with no store, engine or step behind it.
async fn http_alone(http: &mut Http, item: &str) -> anyhow::Result<String> {
    // An answer's shape and size (a base64 verifier of a 2048-bit group, a salt).
    let body = json!({"browserResponse": {
        "salt": "gaWNCW5ixeZapQQfpEOooQ",
        "verifier": "A".repeat(344),
    }});
    for _ in 0..2 {
        let (status, answer) = http.post("/api/bench/no-such-route", None, &body).await?;
        if status != 404 {
            bail!("a path no route serves answered {status}: {answer}");
        }
    }
    Ok(item.to_string())
}

/// One SRP authentication of `user_id` under the demo policy, M2 checked.
async fn authentication(http: &mut Http, admin: &str, user_id: &str) -> anyhow::Result<String> {
    let store = format!("/api/identity-store/tenants/{DEMO_TENANT}/stores/demo");
    let (status, start) = http
        .post(
            &format!("{store}/users/{user_id}/passcodes/authentications/default"),
            Some(admin),
            &json!({}),
        )
        .await?;
    if status != 201 {
        bail!("start authentication answered {status}: {start}");
    }
    let start: wire::PasscodeSessionStart = serde_json::from_value(start)?;
    let proof = client::authenticate(&start, PASSCODE, &mut rand::rngs::OsRng)?;
    let (status, done) = http
        .post(
            &format!(
                "{store}/passcodes/authentications/sessions/{}",
                start.session_id
            ),
            Some(admin),
            &serde_json::to_value(proof.request())?,
        )
        .await?;
    if status != 200 {
        bail!("complete authentication answered {status}: {done}");
    }
    let response: wire::PasscodeProofResponse = serde_json::from_value(done)?;
    proof.verify_server(&response)?;
    Ok(user_id.to_string())
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let count = usize::try_from(args.count.unwrap_or(DEFAULT_COUNT))?.max(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("idflow-bench-http-{}-{nanos}", std::process::id()));
    let result = run_in(args, count, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Instances the in-memory engine runs for the ratio (after its warm-up).
const ENGINE_INSTANCES: u64 = 50_000;
/// The servers the phases run against: worker threads, and the most blocking threads (where
/// the requests' store work and SRP math run; `None`: tokio's default of 512, as `idflow serve`,
/// so up to all 8 clients' chains share one transaction and flush).
const SERVERS: [(usize, Option<usize>); 3] = [(1, Some(1)), (2, Some(2)), (2, None)];

/// Everything measured against one server.
struct ServerRun {
    threads: usize,
    blocking: Option<usize>,
    registration: PhaseReport,
    flow_authentication: PhaseReport,
    route_authentication: PhaseReport,
    http_alone: PhaseReport,
}

/// Creates `count` single-use process tokens of `definition`, token `i` for `bench-user-{i}`.
fn create_tokens(
    addr: std::net::SocketAddr,
    admin: &str,
    definition: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let setup_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut setup = Http::new(addr);
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let (status, body) = setup_rt.block_on(setup.post(
            &format!("/api/process-manager/tenants/{DEMO_TENANT}/process-tokens"),
            Some(admin),
            &json!({
                "name": format!("bench-{definition}-{i}"),
                "processDefnName": definition,
                "type": "MULTI_USE_COUNT_LIMITED",
                "maxUses": 1,
                "parameters": {"storeName": "demo", "externalId": format!("bench-user-{i}"),
                               "passcodePolicy": "default"}
            }),
        ))?;
        if status != 201 {
            bail!("creating a token answered {status}: {body}");
        }
        tokens.push(body["id"].as_str().unwrap_or_default().to_string());
    }
    Ok(tokens)
}

/// Runs one phase and reports it with the server CPU it took.
fn measured_phase(
    addr: std::net::SocketAddr,
    items: &[String],
    phase: Phase,
    srp_us_per_op: f64,
) -> anyhow::Result<(PhaseReport, Vec<String>)> {
    let cpu0 = server_threads_cpu_ns();
    let (runs, wall) = run_clients(addr, split(items, CLIENTS), phase)?;
    let cpu1 = server_threads_cpu_ns();
    let report = report(&runs, wall, server_cpu_between(&cpu0, &cpu1), srp_us_per_op);
    Ok((report, runs.into_iter().flat_map(|r| r.users).collect()))
}

/// A server with `threads` worker threads and at most `blocking` blocking threads (where the
/// requests' store work runs) on a data directory of its own, and the three phases against it.
fn run_server(
    threads: usize,
    blocking: Option<usize>,
    count: usize,
    costs: &SrpCosts,
    dir: &std::path::Path,
) -> anyhow::Result<ServerRun> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(threads);
    if let Some(blocking) = blocking {
        builder.max_blocking_threads(blocking);
    }
    let server_rt = builder
        .thread_name("bench-server")
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    let mut config = Config::new("127.0.0.1:0".parse()?, dir);
    config.seed_demo = true;
    let server = server_rt.block_on(Server::bind(config))?;
    let addr = server.local_addr();
    let admin = server.admin_token(DEMO_TENANT, Duration::from_secs(3600))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = server_rt.spawn(server.run(async move {
        let _ = stopped.await;
    }));

    // Setup, not timed: one single-use token per flow, each for its own user.
    eprintln!(
        "[{threads} server thread(s)] creating {} process tokens...",
        2 * count
    );
    let registrations = create_tokens(addr, &admin, "passcode-registration", count)?;
    let authentications = create_tokens(addr, &admin, "passcode-authentication", count)?;

    eprintln!("[{threads} worker thread(s)] {count} registration flows over {CLIENTS} clients...");
    let (registration, users) = measured_phase(
        addr,
        &registrations,
        Phase::Register,
        costs.verifier_check_us,
    )?;
    let srp_per_authentication = costs.server_public_b_us + costs.server_keys_s_us;
    eprintln!(
        "[{threads} server thread(s)] {count} authentication flows over {CLIENTS} clients..."
    );
    let (flow_authentication, _) = measured_phase(
        addr,
        &authentications,
        Phase::AuthenticateInFlow,
        srp_per_authentication,
    )?;
    eprintln!(
        "[{threads} worker thread(s)] {} authentications on the identity routes over {CLIENTS} clients...",
        users.len()
    );
    let (route_authentication, _) = measured_phase(
        addr,
        &users,
        Phase::Authenticate {
            admin: admin.clone(),
        },
        srp_per_authentication,
    )?;

    eprintln!("[{threads} server thread(s)] {count} pairs of requests no route serves over {CLIENTS} clients...");
    let pairs: Vec<String> = (0..count).map(|i| i.to_string()).collect();
    let (http_alone, _) = measured_phase(addr, &pairs, Phase::HttpAlone, 0.0)?;

    let _ = stop.send(());
    server_rt
        .block_on(served)
        .map_err(|e| anyhow!("server task: {e}"))??;
    Ok(ServerRun {
        threads,
        blocking,
        registration,
        flow_authentication,
        route_authentication,
        http_alone,
    })
}

fn run_in(args: &Args, count: usize, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    eprintln!("calibrating the server's SRP computations on one thread...");
    let costs = calibrate_srp()?;
    eprintln!("running the in-memory engine ({ENGINE_INSTANCES} instances)...");
    let engine_us = super::engine::microseconds_per_instance(ENGINE_INSTANCES)?;

    let mut servers = Vec::new();
    for (i, (threads, blocking)) in SERVERS.into_iter().enumerate() {
        servers.push(run_server(
            threads,
            blocking,
            count,
            &costs,
            &dir.join(format!("server-{i}")),
        )?);
    }
    let ratio = |r: &PhaseReport| r.server_cpu_ms_per_op * 1000.0 / engine_us.max(1e-9);

    if args.json {
        let figures = json!({
            "scenario": "http",
            "clients": CLIENTS,
            "srp_cpu_us": costs,
            "engine_cpu_us_per_instance": engine_us,
            "servers": servers.iter().map(|s| json!({
                "server_threads": s.threads,
                "server_blocking_threads": s.blocking,
                "registration_flows": s.registration,
                "registration_cpu_per_flow_over_engine": ratio(&s.registration),
                "authentication_flows": s.flow_authentication,
                "route_authentications": s.route_authentication,
                "http_alone_pairs": s.http_alone,
                "http_alone_cpu_per_pair_over_engine": ratio(&s.http_alone),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "idflow bench http: {count} operations per phase, {CLIENTS} concurrent clients, servers on loopback"
    );
    println!(
        "server SRP CPU per computation: B = k*v + g^b {:.0} us, S/K/M1/M2 {:.0} us, verifier check {:.1} us",
        costs.server_public_b_us, costs.server_keys_s_us, costs.verifier_check_us
    );
    println!("in-memory engine (same process, one thread): {engine_us:.2} us CPU per instance");
    for s in &servers {
        match s.blocking {
            Some(blocking) => println!(
                "--- server with {} worker thread(s) and {blocking} blocking thread(s) ---",
                s.threads
            ),
            None => println!(
                "--- server with {} worker thread(s) and the default blocking pool (as idflow serve) ---",
                s.threads
            ),
        }
        for (name, r) in [
            ("registration flows (start + answer)", &s.registration),
            (
                "authentication flows (start + answer, SRP)",
                &s.flow_authentication,
            ),
            (
                "SRP authentications on the identity routes (start + complete)",
                &s.route_authentication,
            ),
        ] {
            println!("{name}:");
            println!(
                "  {:.1}/s  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  ({} in {:.2} s)",
                r.per_second, r.p50_ms, r.p99_ms, r.max_ms, r.operations, r.wall_seconds
            );
            println!(
                "  server CPU {:.2} ms per operation: SRP math {:.2} ms ({:.1}%), everything else {:.2} ms ({:.1}%)",
                r.server_cpu_ms_per_op,
                r.srp_cpu_ms_per_op,
                r.srp_share_percent,
                (r.server_cpu_ms_per_op - r.srp_cpu_ms_per_op).max(0.0),
                100.0 - r.srp_share_percent
            );
            println!(
                "  load generator CPU {:.2} s (excluded)",
                r.client_cpu_seconds
            );
        }
        println!(
            "registration flow server CPU / engine CPU per instance: {:.1}x (goal <= 25x)",
            ratio(&s.registration)
        );
        let alone = &s.http_alone;
        println!(
            "the HTTP stack alone (two POSTs the router answers 404): {:.0} us server CPU per pair, {:.1}x the engine; {:.0} pairs/s",
            alone.server_cpu_ms_per_op * 1000.0,
            ratio(alone),
            alone.per_second
        );
    }
    Ok(ExitCode::SUCCESS)
}
