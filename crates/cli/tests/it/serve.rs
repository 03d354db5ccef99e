//! End to end through the real binary: `idflow serve --listen 127.0.0.1:0` on a temporary data
//! directory prints its URL, demo tokens and an admin token; requests work; SIGTERM stops it
//! cleanly; a second start reuses the data; `idflow token` mints tokens the server accepts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::BIN;

/// A running `idflow serve` and what it printed.
struct Serve {
    child: Child,
    addr: String,
    banner: Vec<String>,
    admin: String,
    stderr: std::thread::JoinHandle<String>,
}

fn start(data: &std::path::Path) -> Serve {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("idflow serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let mut admin = None;
    while let Some(Ok(line)) = lines.next() {
        let is_admin_header = line.starts_with("Admin token for tenant demo");
        banner.push(line);
        if is_admin_header {
            admin = lines.next().and_then(Result::ok);
            break;
        }
    }
    let admin = admin.unwrap_or_else(|| panic!("no admin token printed: {banner:?}"));
    let addr = banner
        .first()
        .and_then(|l| l.strip_prefix("idflow listening on http://"))
        .unwrap_or_else(|| panic!("no URL printed first: {banner:?}"))
        .to_string();
    Serve {
        child,
        addr,
        banner,
        admin,
        stderr,
    }
}

impl Serve {
    /// Sends SIGTERM to this child (by its PID) and waits for it to exit.
    fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("idflow serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (exit, self.stderr.join().unwrap_or_default())
    }
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn token_of(banner: &[String], name: &str) -> String {
    let line = banner
        .iter()
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("{name} is printed: {banner:?}"));
    line.split("\"processToken\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a start command with a token: {line}"))
        .to_string()
}

#[test]
fn serve_seeds_serves_stops_on_sigterm_and_reuses_its_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    let first = start(&data);
    assert!(
        first
            .banner
            .iter()
            .any(|l| l.contains("new: demo tenant seeded")),
        "{:?}",
        first.banner
    );
    assert!(first.banner.iter().any(|l| l.contains("/openapi.json")));
    let (status, doc) = http(&first.addr, "GET", "/openapi.json", None, None);
    assert_eq!(status, 200);
    assert!(
        doc.contains("\"openapi\": \"3.1"),
        "an OpenAPI 3.1 document"
    );

    let (status, tokens) = http(
        &first.addr,
        "GET",
        "/api/process-manager/tenants/demo/process-tokens",
        Some(&first.admin),
        None,
    );
    assert_eq!(status, 200, "{tokens}");
    for flow in [
        "passcode-registration",
        "passcode-renewal",
        "passcode-authentication",
        "passcode-deregistration",
        "totp-registration",
        "current-totp",
    ] {
        assert!(
            tokens.contains(&format!("\"demo-{flow}\"")),
            "demo-{flow}: {tokens}"
        );
    }
    let registration = token_of(&first.banner, "demo-passcode-registration");
    // Each demo flow's link: its page on this server, the token in the fragment.
    let link = first
        .banner
        .iter()
        .find(|l| l.trim_start().starts_with("passcode-registration "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("a link for passcode-registration: {:?}", first.banner));
    assert_eq!(
        link,
        format!("http://{}/flow/#token={registration}", first.addr)
    );
    let (status, page) = http(&first.addr, "GET", "/flow/", None, None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<main id=\"main\""), "{page}");
    let (status, started) = http(
        &first.addr,
        "POST",
        "/api/process-manager/process-instances",
        None,
        Some(&format!("{{\"processToken\": \"{registration}\"}}")),
    );
    assert_eq!(status, 201, "{started}");
    assert!(
        started.contains("\"uiComponentId\":\"passcode-registration\""),
        "{started}"
    );
    let instance = started
        .split("\"instanceId\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("instance id")
        .to_string();

    let (exit, log) = first.terminate();
    assert!(exit.success(), "exit {exit:?}; log: {log}");
    assert!(log.contains("store flushed"), "{log}");
    assert!(
        !log.contains(&registration),
        "the log shows no process token"
    );

    // A second start reuses the data: no seeding, same tokens, the instance still there.
    let second = start(&data);
    assert!(
        !second.banner.iter().any(|l| l.contains("seeded")),
        "{:?}",
        second.banner
    );
    assert_eq!(
        token_of(&second.banner, "demo-passcode-registration"),
        registration
    );
    let (status, read) = http(
        &second.addr,
        "GET",
        &format!("/api/process-manager/tenants/demo/process-instances/{instance}"),
        Some(&second.admin),
        None,
    );
    assert_eq!(status, 200, "{read}");
    assert!(read.contains("\"status\":\"ACTIVE\""), "{read}");

    // `idflow token` mints from the same key: all permissions, or only those named.
    let minted = Command::new(BIN)
        .args(["token", "--tenant", "demo", "--data"])
        .arg(&data)
        .output()
        .expect("idflow token runs");
    assert!(minted.status.success());
    let stdout = String::from_utf8_lossy(&minted.stdout);
    let token = stdout
        .lines()
        .last()
        .expect("a token on the last line")
        .trim()
        .to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let (status, _) = http(
        &second.addr,
        "GET",
        "/api/process-manager/tenants/demo/process-tokens",
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    let narrow = Command::new(BIN)
        .args([
            "token",
            "--tenant",
            "demo",
            "--permission",
            "listStores",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("idflow token runs");
    let narrow = String::from_utf8_lossy(&narrow.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let (status, _) = http(
        &second.addr,
        "GET",
        "/api/identity-store/tenants/demo/stores",
        Some(&narrow),
        None,
    );
    assert_eq!(status, 200);
    let (status, body) = http(
        &second.addr,
        "GET",
        "/api/process-manager/tenants/demo/process-tokens",
        Some(&narrow),
        None,
    );
    assert_eq!(status, 403, "{body}");
    let refused = Command::new(BIN)
        .args([
            "token",
            "--tenant",
            "demo",
            "--permission",
            "everything",
            "--data",
        ])
        .arg(&data)
        .output()
        .expect("idflow token runs");
    assert!(
        !refused.status.success(),
        "an unknown permission is refused"
    );

    let (exit, _) = second.terminate();
    assert!(exit.success());
}

#[test]
fn serve_no_demo_seeds_nothing_and_prints_no_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut child = Command::new(BIN)
        .args(["serve", "--no-demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("idflow serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("banner line");
        let last = line.starts_with("No demo");
        banner.push(line);
        if last {
            break;
        }
    }
    let addr = banner
        .first()
        .and_then(|l| l.strip_prefix("idflow listening on http://"))
        .unwrap_or_else(|| panic!("no URL printed first: {banner:?}"))
        .to_string();
    let text = banner.join("\n");
    assert!(text.contains("idflow token"), "{text}");
    assert!(
        !text.contains("processToken") && !text.contains("Admin token") && !text.contains("eyJ"),
        "tokens printed with --no-demo: {text}"
    );
    // Nothing was seeded: minting a demo admin token works, but the demo tenant is empty.
    let minted = Command::new(BIN)
        .args(["token", "--tenant", "demo", "--data"])
        .arg(&data)
        .output()
        .expect("idflow token runs");
    let token = String::from_utf8_lossy(&minted.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let (status, body) = http(
        &addr,
        "GET",
        "/api/process-manager/tenants/demo/process-tokens",
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), r#"{"tokens":[]}"#, "{body}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
