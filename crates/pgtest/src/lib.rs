//! Test support: a throwaway PostgreSQL server for this test process, and a fresh database for
//! each test, so the store, runtime, identity and HTTP suites run against PostgreSQL as well as
//! sled without anyone setting a server up.
//!
//! The server is Debian's PostgreSQL (`postgresql` package; `.ci/run` installs it), started in a
//! temporary directory on a free loopback port with `fsync` off (the tests check idflow's
//! guarantees, not the disk's). Run as root, it runs as the `postgres` user (`initdb` refuses
//! root). It is stopped, and its directory removed, when the test process exits: a shell holds
//! the server and waits for the end of its standard input, which closes with the process.
//!
//! `IDFLOW_TEST_POSTGRES=postgres://user@host:port` uses a server of yours instead (each test
//! still gets a database of its own).
//!
//! Whole suites run on both stores without being copied: a suite's test binary holds one test,
//! [`every_test_again_on_postgresql`], that runs the same binary again with
//! `IDFLOW_TEST_STORE=postgres`; in that run the suite's harness asks [`database_for`] for the
//! database standing in for each data directory, and opens that instead of sled. Without PostgreSQL and without that variable the
//! PostgreSQL tests fail, saying so: they are never skipped silently.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use idflow_store::{Store, StoreLocation};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The server of this test process: its base URL (no database), and the shell keeping it alive.
struct Server {
    base: String,
    _keeper: Option<Mutex<Child>>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database on this process's server (started on first use).
///
/// # Panics
///
/// When no PostgreSQL server can be had: the message says why and what to install.
pub fn database() -> String {
    let server = match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(why) => panic!("{why}"),
    };
    let name = format!(
        "idflow_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin =
        postgres::Client::connect(&format!("{}/postgres", server.base), postgres::NoTls)
            .unwrap_or_else(|e| {
                panic!("connecting to the test PostgreSQL at {}: {e}", server.base)
            });
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    format!("{}/{name}", server.base)
}

/// Set (to `postgres`) in the second run of a suite, the one on PostgreSQL.
const STORE_VARIABLE: &str = "IDFLOW_TEST_STORE";

/// Whether this test process runs its suite on PostgreSQL (the second run of
/// [`every_test_again_on_postgresql`]).
pub fn on_postgresql() -> bool {
    std::env::var(STORE_VARIABLE).is_ok_and(|v| v == "postgres")
}

/// On PostgreSQL runs: the database standing in for the data directory `dir`, the same one
/// each time `dir` is asked for, so a test that stops a server and starts another on its data
/// directory finds its data again. On sled runs: `None` (open `dir` itself).
pub fn database_for(dir: &Path) -> Option<String> {
    if !on_postgresql() {
        return None;
    }
    static BY_DIR: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut by_dir = BY_DIR
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(
        by_dir
            .entry(dir.to_path_buf())
            .or_insert_with(database)
            .clone(),
    )
}

/// A store for one test: sled in a temporary directory, or a new database on a suite's
/// PostgreSQL run.
///
/// # Panics
///
/// When the store cannot be opened.
pub fn temporary_store() -> Store {
    if on_postgresql() {
        Store::open_at(&StoreLocation::Postgres(database())).expect("a test database")
    } else {
        Store::temporary().expect("a temporary store")
    }
}

/// The store of the data directory `dir`: sled in `dir`, or on a suite's PostgreSQL run the
/// database standing in for it (the same one each time, so reopening finds the data again).
///
/// # Panics
///
/// When the store cannot be opened.
pub fn store_at(dir: &Path) -> Store {
    let url = database_for(dir);
    Store::open_at(&StoreLocation::from_url_or(
        url.as_deref(),
        dir.to_path_buf(),
    ))
    .unwrap_or_else(|e| panic!("opening the store of {}: {e}", dir.display()))
}

/// Runs every other test of this test binary again, on PostgreSQL, and fails naming the tests
/// that failed there. Call it from a test named `every_test_again_on_postgresql` (the name it
/// skips in the second run); in the second run itself it does nothing.
///
/// # Panics
///
/// When the second run fails, or PostgreSQL cannot be had.
pub fn every_test_again_on_postgresql() {
    if on_postgresql() {
        return;
    }
    let server = match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(why) => panic!("{why}"),
    };
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(&exe)
        // `cluster` modules are on PostgreSQL already.
        .args([
            "--skip",
            "every_test_again_on_postgresql",
            "--skip",
            "cluster::",
        ])
        .env(STORE_VARIABLE, "postgres")
        .env("IDFLOW_TEST_POSTGRES", &server.base)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {} again: {e}", exe.display()));
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The failures and libtest's summary are at the end; the passing tests' lines are noise.
        let report: Vec<&str> = stdout.lines().filter(|l| !l.ends_with("... ok")).collect();
        panic!(
            "the suite failed on PostgreSQL ({}):\n{}\n{}",
            out.status,
            report.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("IDFLOW_TEST_POSTGRES") {
        return Ok(Server {
            base: url.trim_end_matches('/').to_string(),
            _keeper: None,
        });
    }
    let bin = binaries().ok_or_else(|| {
        "PostgreSQL is needed for these tests and was not found (no initdb and postgres under \
         /usr/lib/postgresql/*/bin or on PATH): install Debian's `postgresql` package (as \
         .ci/run does), or set IDFLOW_TEST_POSTGRES=postgres://user@host:port to use a server \
         of yours"
            .to_string()
    })?;
    let as_root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("idflow-pgtest-")
        .tempdir()
        .map_err(|e| format!("creating the test server's directory: {e}"))?
        .keep();
    let data = dir.join("data");
    if as_root {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir))?;
    }
    let mut initdb = user_command(as_root, &bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
    run(&mut initdb)?;
    let port = free_port()?;
    let postgres = bin.join("postgres");
    // The shell starts the server, then waits for its standard input to close (this process
    // exiting), then stops the server fast and removes its files.
    let script = format!(
        "{} -D {} -p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
         -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB & pid=$!; \
         read -r _; kill -INT $pid; wait $pid; rm -rf {}",
        quote(&postgres),
        quote(&data),
        quote(&dir),
        quote(&dir),
    );
    let mut shell = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let mut child = shell
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting PostgreSQL: {e}"))?;
    let base = format!("postgres://postgres@127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls) {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = child
                        .stderr
                        .take()
                        .map(|s| {
                            BufReader::new(s)
                                .lines()
                                .map_while(Result::ok)
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default();
                    return Err(format!("PostgreSQL exited ({status}) at start: {log}"));
                }
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(format!(
                    "PostgreSQL did not accept connections in 60 s: {e}"
                ))
            }
        }
    }
    Ok(Server {
        base,
        _keeper: Some(Mutex::new(child)),
    })
}

/// The directory with `initdb` and `postgres`: the newest of Debian's, else whatever PATH has.
fn binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("postgres").exists() && b.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("postgres").exists() && d.join("initdb").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// `path` quoted for `sh`.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
