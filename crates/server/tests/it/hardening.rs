//! The hardening findings, each at the HTTP boundary: deep JSON refused before it is stored,
//! unreadable records set aside, degenerate verifiers refused, slow clients cut off, a private
//! data directory, a device sync before every acknowledgement, and a rate limit on starts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU32;
use std::time::Duration;

use base64::Engine;
use idflow_identity::{client, srp, wire};
use idflow_server::{ConnectionLimits, StartRate};
use serde_json::{json, Value};

use crate::common::TestServer;
use crate::seeds::register;

const PM: &str = "/api/process-manager";
const STORE: &str = "/api/identity-store/tenants/acme/stores/main";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn demo_token_id(srv: &TestServer, name: &str) -> String {
    let token = srv
        .get(
            &format!("{PM}/tenants/demo/process-tokens/{name}"),
            Some(&srv.admin("demo")),
        )
        .expect(200);
    token["id"].as_str().expect("token id").to_string()
}

fn start(srv: &TestServer, token_id: &str) -> Value {
    srv.post(
        &format!("{PM}/process-instances"),
        None,
        &json!({ "processToken": token_id }),
    )
    .expect(201)
}

fn step_path(instance: &Value) -> String {
    format!(
        "{PM}/process-instances/{}/steps/{}",
        instance["instanceId"].as_str().expect("instance id"),
        instance["currentStep"]["stepId"].as_str().expect("step id")
    )
}

/// `{"a": {"a": ... 1}}`, `depth` objects deep.
fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

fn list(srv: &TestServer) -> Value {
    srv.get(
        &format!("{PM}/tenants/demo/process-instances?limit=100"),
        Some(&srv.admin("demo")),
    )
    .expect(200)
}

#[test]
fn a_deep_answer_is_refused_naming_the_limit_and_the_server_restarts_with_its_instance() {
    let srv = TestServer::start();
    let token = demo_token_id(&srv, "demo-passcode-registration");
    let started = start(&srv, &token);
    let id = started["instanceId"].as_str().expect("id").to_string();

    // The finding: 127 levels, no bearer token, accepted and stored, then unreadable.
    let refused = srv
        .post(
            &step_path(&started),
            None,
            &json!({ "browserResponse": nested(126) }),
        )
        .expect_error(400, "JSON_TOO_DEEP");
    let message = refused["message"].as_str().unwrap_or("");
    assert!(
        message.contains("127") && message.contains("32"),
        "{message}"
    );
    // Every JSON input is bounded the same way: token parameters, forms.
    srv.post(
        &format!("{PM}/tenants/demo/process-tokens"),
        Some(&srv.admin("demo")),
        &json!({"name": "deep", "processDefnName": "passcode-registration", "type": "UNLIMITED",
                "parameters": {"p": nested(40)}}),
    )
    .expect_error(400, "JSON_TOO_DEEP");
    // At the limit the body is read (and judged on what it says).
    let at_limit = srv.post(
        &format!("{PM}/tenants/demo/process-tokens"),
        Some(&srv.admin("demo")),
        &json!({"name": "deepish", "processDefnName": "passcode-registration", "type": "UNLIMITED",
                "parameters": {"p": nested(20)}}),
    );
    assert_ne!(at_limit.status, 400, "{}", at_limit.text);

    // Nothing was stored: the instance, its history and the listing read as before.
    let admin = srv.admin("demo");
    let read = srv
        .get(
            &format!("{PM}/tenants/demo/process-instances/{id}"),
            Some(&admin),
        )
        .expect(200);
    assert_eq!(read["status"], "ACTIVE");
    srv.get(
        &format!("{PM}/tenants/demo/process-instances/{id}/history"),
        Some(&admin),
    )
    .expect(200);
    assert_eq!(list(&srv)["unreadable"], 0);

    // The server starts again on the same data directory and the instance goes on.
    let srv = TestServer::start_in(srv.stop(), |_| {});
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(started["currentStep"]["data"].clone()).expect("SRP start");
    let registration = client::register(&session, "Passw0rdX").expect("request");
    let done = srv
        .post(
            &step_path(&started),
            None,
            &json!({ "browserResponse": registration }),
        )
        .expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS", "{done}");
}

#[test]
fn an_unreadable_record_never_stops_a_start_or_hides_the_other_instances() {
    let srv = TestServer::start();
    let token = demo_token_id(&srv, "demo-passcode-registration");
    let broken = start(&srv, &token);
    let healthy = start(&srv, &token);
    let broken_id = broken["instanceId"].as_str().expect("id").to_string();
    let store = srv.store.clone();
    // A record this build cannot read (as a newer build's version would be).
    store
        .commit(|tx| {
            tx.insert(&idflow_store::key(&["i", &broken_id]), b"\x09{}".to_vec())
                .map_err(idflow_server::ServerError::from)
        })
        .expect("damaged");
    drop(store);

    let srv = TestServer::start_in(srv.stop(), |_| {});
    let page = list(&srv);
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, vec![healthy["instanceId"].as_str().expect("id")]);
    assert_eq!(page["unreadable"], 1);
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(healthy["currentStep"]["data"].clone()).expect("SRP start");
    let registration = client::register(&session, "Passw0rdX").expect("request");
    srv.post(
        &step_path(&healthy),
        None,
        &json!({ "browserResponse": registration }),
    )
    .expect(200);
}

#[test]
fn verifiers_of_small_order_are_refused_at_registration_and_renewal() {
    let srv = TestServer::start_empty();
    srv.identity_fixture("acme", "main");
    let admin = srv.admin("acme");
    let alice = srv.add_user("acme", "main", "alice");
    let mut n_minus_one = srp::n_bytes().to_vec();
    *n_minus_one.last_mut().expect("N") -= 1;

    let start: wire::PasscodeSessionStart = srv
        .post(
            &format!("{STORE}/users/{alice}/passcodes/registrations/pp"),
            Some(&admin),
            &json!({}),
        )
        .parse();
    for bad in [vec![1u8], n_minus_one.clone()] {
        let answer = srv
            .post(
                &format!(
                    "{STORE}/passcodes/registrations/sessions/{}",
                    start.session_id
                ),
                Some(&admin),
                &json!({"srpRegistrationData": {"verifier": b64(&bad)}}),
            )
            .expect_error(400, "INVALID_REGISTRATION_DATA");
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or("")
                .contains("verifier"),
            "{answer}"
        );
    }
    let user = srv
        .get(&format!("{STORE}/users/{alice}"), Some(&admin))
        .expect(200);
    assert_eq!(user["user"]["registeredPasscodes"], json!([]));

    // Renewal: a genuine proof of the old passcode does not carry a degenerate new verifier.
    register(&srv, &alice, "Aa1!aaaa");
    let start: wire::PasscodeSessionStart = srv
        .post(
            &format!("{STORE}/users/{alice}/passcodes/renewals/pp"),
            Some(&admin),
            &json!({}),
        )
        .parse();
    let proof = client::renew(&start, "Aa1!aaaa", "Bb2@bbbb", &mut rand::rngs::OsRng)
        .expect("renewal request");
    let mut body = serde_json::to_value(proof.request()).expect("json");
    body["srpRegistrationData"]["verifier"] = json!(b64(&n_minus_one));
    srv.post(
        &format!("{STORE}/passcodes/renewals/sessions/{}", start.session_id),
        Some(&admin),
        &body,
    )
    .expect_error(400, "INVALID_REGISTRATION_DATA");
}

/// Whether the server closed `stream` (EOF or reset) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let srv = TestServer::start_configured(|c| {
        c.seed_demo = false;
        c.limits = ConnectionLimits {
            max_connections: 64,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(2),
        };
    });
    // Half-sent headers: closed once the header deadline passes.
    let mut slow: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut s = TcpStream::connect(srv.addr).expect("connect");
            s.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
            s
        })
        .collect();
    for s in &mut slow {
        assert!(
            closed_within(s, Duration::from_secs(10)),
            "a slow client was not cut off"
        );
    }
    // A keep-alive connection left idle after its answer: closed too.
    let mut idle = TcpStream::connect(srv.addr).expect("connect");
    idle.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).expect("answered");
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(closed_within(&mut idle, Duration::from_secs(30)));
    // A client that sends its headers and then stalls in the body is answered 408 or closed.
    let mut stalled = TcpStream::connect(srv.addr).expect("connect");
    stalled
        .write_all(b"POST /api/process-manager/process-instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    assert!(closed_within(&mut stalled, Duration::from_secs(40)));
    // The server still answers.
    srv.get("/openapi.json", None).expect(200);
}

#[test]
fn connections_past_the_cap_wait_until_one_closes() {
    let srv = TestServer::start_configured(|c| {
        c.seed_demo = false;
        c.limits = ConnectionLimits {
            max_connections: 2,
            header_read_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
        };
    });
    let holders: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(srv.addr).expect("connect");
            s.write_all(b"GET /openapi.json HTTP/1.1\r\n")
                .expect("write");
            s
        })
        .collect();
    let mut third = TcpStream::connect(srv.addr).expect("the kernel queues it");
    third
        .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    third
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut head = [0u8; 12];
    assert!(
        third.read_exact(&mut head).is_err(),
        "a third connection was served past a cap of two"
    );
    drop(holders);
    third
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    third
        .read_exact(&mut head)
        .expect("served once a slot is free");
    assert_eq!(&head, b"HTTP/1.1 200");
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private_and_a_shared_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("lists") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            }
            out.push(p);
        }
    }
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    // About the files of a data directory: on sled in the PostgreSQL run too.
    let srv = TestServer::start_configured(|config| config.store = None);
    let token = demo_token_id(&srv, "demo-passcode-registration");
    start(&srv, &token);
    let data = srv.data_dir();
    let dir = srv.stop();
    assert_eq!(mode(&data), 0o700);
    let mut paths = Vec::new();
    walk(&data, &mut paths);
    assert!(
        paths.iter().any(|p| p.ends_with("signing.key")),
        "{paths:?}"
    );
    for p in &paths {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(p), want, "{}", p.display());
    }

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = idflow_server::Config::new("127.0.0.1:0".parse().expect("addr"), &data);
    let refused = runtime
        .block_on(idflow_server::Server::bind(config))
        .err()
        .expect("a data directory others may write is refused");
    let text = refused.to_string();
    assert!(text.contains("777") && text.contains("chmod 700"), "{text}");
    drop(dir);
}

#[test]
fn every_acknowledged_change_was_synced_to_the_device_before_the_answer() {
    let srv = TestServer::start();
    let token = demo_token_id(&srv, "demo-passcode-registration");
    let before = srv.store.device_syncs();
    let started = start(&srv, &token);
    let after_start = srv.store.device_syncs();
    assert!(after_start > before, "a start was answered before any sync");
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(started["currentStep"]["data"].clone()).expect("SRP start");
    let registration = client::register(&session, "Passw0rdX").expect("request");
    srv.post(
        &step_path(&started),
        None,
        &json!({ "browserResponse": registration }),
    )
    .expect(200);
    let after_answer = srv.store.device_syncs();
    assert!(
        after_answer > after_start,
        "an answer was acknowledged before any sync"
    );
    // The identity routes outside a process commit one by one: each synced too.
    srv.post(
        "/api/identity-store/tenants/demo/stores/demo/users",
        Some(&srv.admin("demo")),
        &json!({"externalId": "synced"}),
    )
    .expect(201);
    assert!(srv.store.device_syncs() > after_answer);
}

#[test]
fn a_process_token_starting_too_fast_gets_429_and_starts_nothing() {
    let srv = TestServer::start_configured(|c| {
        c.start_rate = StartRate {
            per_second: NonZeroU32::new(1).expect("1"),
            burst: NonZeroU32::new(3).expect("3"),
        };
    });
    let token = demo_token_id(&srv, "demo-passcode-registration");
    for _ in 0..3 {
        start(&srv, &token);
    }
    let answer = srv.send(
        srv.request(reqwest::Method::POST, &format!("{PM}/process-instances"))
            .json(&json!({ "processToken": token })),
    );
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.body["code"], "TOO_MANY_STARTS");
    let response = srv
        .request(reqwest::Method::POST, &format!("{PM}/process-instances"))
        .json(&json!({ "processToken": token }))
        .send()
        .expect("answered");
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // Nothing was started by the refused requests; another token has its own budget.
    assert_eq!(list(&srv)["items"].as_array().map(Vec::len), Some(3));
    let other = demo_token_id(&srv, "demo-passcode-authentication");
    start(&srv, &other);
    // A made-up token is still simply unknown.
    srv.post(
        &format!("{PM}/process-instances"),
        None,
        &json!({ "processToken": "AAAAAAAAAAAAAAAAAAAAAAAAAA" }),
    )
    .expect_error(404, "PROCESS_TOKEN_NOT_FOUND");
}

#[test]
fn the_retention_policy_is_read_and_set_per_tenant() {
    let srv = TestServer::start_empty();
    let admin = srv.admin("acme");
    let path = format!("{PM}/tenants/acme/retention-policy");
    let put = |body: Value| {
        srv.send(
            srv.request(reqwest::Method::PUT, &path)
                .bearer_auth(&admin)
                .json(&body),
        )
    };
    assert_eq!(
        srv.get(&path, Some(&admin)).expect(200),
        json!({"completedInstanceDays": 180})
    );
    put(json!({"completedInstanceDays": 0})).expect_error(400, "INVALID_RETENTION_POLICY");
    put(json!({"completedInstanceDays": 3661})).expect_error(400, "INVALID_RETENTION_POLICY");
    put(json!({"completedInstanceDays": "x"})).expect_error(400, "INVALID_BODY");
    assert_eq!(
        put(json!({"completedInstanceDays": 30})).expect(200),
        json!({"completedInstanceDays": 30})
    );
    assert_eq!(
        put(json!({"completedInstanceDays": null})).expect(200),
        json!({"completedInstanceDays": null})
    );
    assert_eq!(
        srv.get(&path, Some(&admin)).expect(200),
        json!({"completedInstanceDays": null})
    );
    // Another tenant keeps the default.
    assert_eq!(
        srv.get(
            &format!("{PM}/tenants/other/retention-policy"),
            Some(&srv.admin("other"))
        )
        .expect(200),
        json!({"completedInstanceDays": 180})
    );
}
