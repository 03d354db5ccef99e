//! Helpers shared by the CLI's tests: the built binary, and `idflow serve` run as a child
//! process whose URL (and demo admin token) are read from what it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_idflow");

/// A running node: the process and its base URL.
pub struct Node {
    pub child: Child,
    pub base: String,
}

/// Starts `idflow serve` on `data` (sled), or on the PostgreSQL `store`; with `demo`, returns the admin token it prints.
pub fn node(store: Option<&str>, data: &std::path::Path, demo: bool) -> (Node, Option<String>) {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args([
            "--token-start-rate",
            "10000",
            "--token-start-burst",
            "10000",
        ]);
    if let Some(url) = store {
        command.args(["--store", url]);
    }
    if !demo {
        command.arg("--no-demo");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("idflow serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let base = first
        .strip_prefix("idflow listening on ")
        .unwrap_or_else(|| panic!("no URL printed first: {first}"))
        .to_string();
    let mut admin = None;
    if demo {
        while let Some(Ok(line)) = lines.next() {
            if line.starts_with("Admin token for tenant demo") {
                admin = lines.next().and_then(Result::ok);
                break;
            }
        }
    }
    // Keep reading what it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (Node { child, base }, admin)
}
