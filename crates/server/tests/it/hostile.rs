//! Hostile input: malformed JSON, a 10 MiB body, wrong content types, bad base64, `A = 0` and
//! `A = N`, unknown sessions, unusable paths, and a sweep of odd bodies over every documented
//! route: always a JSON error with a stable code, never a 500.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use idflow_identity::{client, srp, wire};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestServer;
use crate::permissions::{concrete, operations};
use crate::seeds::register;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const STORE: &str = "/api/identity-store/tenants/acme/stores/main";

#[test]
fn malformed_json_wrong_types_and_big_bodies_are_json_errors() {
    let srv = TestServer::start_empty();
    srv.identity_fixture("acme", "main");
    let admin = srv.admin("acme");
    let raw = |path: &str, content_type: &str, body: Vec<u8>| {
        srv.send(
            srv.request(Method::POST, path)
                .bearer_auth(&admin)
                .header("Content-Type", content_type)
                .body(body),
        )
    };
    let users = format!("{STORE}/users");
    raw(&users, "application/json", b"{\"externalId\": ".to_vec())
        .expect_error(400, "MALFORMED_JSON");
    raw(&users, "application/json", b"\xff\xfe{}".to_vec()).expect_error(400, "MALFORMED_JSON");
    raw(&users, "application/json", b"".to_vec()).expect_error(400, "MALFORMED_JSON");
    // Nesting past the server's depth limit is refused before any parser recurses into it,
    // where any JSON value is taken and where a typed body is.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    raw(
        "/api/process-manager/process-instances/AAAAAAAAAAAAAAAAAAAAAAAAAA/steps/x",
        "application/json",
        nested.clone().into_bytes(),
    )
    .expect_error(400, "JSON_TOO_DEEP");
    raw(&users, "application/json", nested.into_bytes()).expect_error(400, "JSON_TOO_DEEP");
    raw(&users, "application/json", b"{\"externalId\": 5}".to_vec())
        .expect_error(400, "INVALID_BODY");
    raw(&users, "text/plain", b"{\"externalId\": \"x\"}".to_vec())
        .expect_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let missing_type = srv.send(
        srv.request(Method::POST, &users)
            .bearer_auth(&admin)
            .body("{}"),
    );
    assert_eq!(missing_type.status, 415);
    // A `{}`-route refuses a non-JSON body it cannot ignore.
    raw(
        &format!("{STORE}/users/alice/passcodes/registrations/pp/ext"),
        "text/plain",
        b"hello".to_vec(),
    )
    .expect_error(415, "UNSUPPORTED_MEDIA_TYPE");
    raw(
        &format!("{STORE}/users/alice/passcodes/registrations/pp/ext"),
        "application/json",
        b"{".to_vec(),
    )
    .expect_error(400, "MALFORMED_JSON");

    // 10 MiB bodies, JSON, XML and the end user's routes: 413.
    let big = vec![b' '; 10 * 1024 * 1024];
    raw(&users, "application/json", big.clone()).expect_error(413, "PAYLOAD_TOO_LARGE");
    raw(
        "/api/process-manager/tenants/acme/process-definitions",
        "application/xml",
        big.clone(),
    )
    .expect_error(413, "PAYLOAD_TOO_LARGE");
    let public = srv.send(
        srv.request(Method::POST, "/api/process-manager/process-instances")
            .header("Content-Type", "application/json")
            .body(big),
    );
    assert_eq!(
        (public.status, public.body["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
    // Just under the limit is read (and then refused for what it is, not for its size).
    let mut near = b"{\"externalId\": \"".to_vec();
    near.extend(std::iter::repeat_n(b'x', 1024 * 1024 - 64));
    near.extend(b"\"}");
    let answer = raw(&users, "application/json", near);
    assert_ne!(answer.status, 413, "{}", answer.text);

    // Unknown routes and wrong methods.
    srv.get("/api/nothing", None)
        .expect_error(404, "ROUTE_NOT_FOUND");
    srv.get("/", None).expect_error(404, "ROUTE_NOT_FOUND");
    srv.send(srv.request(Method::DELETE, &users).bearer_auth(&admin))
        .expect_error(405, "METHOD_NOT_ALLOWED");
    srv.send(srv.request(Method::PUT, "/api/process-manager/process-instances"))
        .expect_error(405, "METHOD_NOT_ALLOWED");
}

#[test]
fn srp_hostile_values_and_unknown_sessions_are_400_changing_nothing() {
    let srv = TestServer::start_empty();
    srv.identity_fixture("acme", "main");
    let admin = srv.admin("acme");
    let alice = srv.add_user("acme", "main", "alice");
    register(&srv, &alice, "Aa1!aaaa");

    let start: wire::PasscodeSessionStart = srv
        .post(
            &format!("{STORE}/users/{alice}/passcodes/authentications/pp"),
            Some(&admin),
            &json!({}),
        )
        .parse();
    let session = format!(
        "{STORE}/passcodes/authentications/sessions/{}",
        start.session_id
    );
    let proof = client::authenticate(&start, "Aa1!aaaa", &mut rand::rngs::OsRng).expect("proof");
    let good = serde_json::to_value(proof.request()).expect("json");
    let n = srp::n_bytes().to_vec();
    let hostile = [
        ("a", b64(&[0]), "INVALID_VERIFICATION_DATA"),
        ("a", b64(&n), "INVALID_VERIFICATION_DATA"),
        ("a", b64(&[0xff; 257]), "INVALID_VERIFICATION_DATA"),
        ("a", "not base64!".to_string(), "INVALID_ENCODING"),
        ("a", String::new(), "INVALID_ENCODING"),
        ("m1", "====".to_string(), "INVALID_ENCODING"),
        ("m1", b64(&[7; 31]), "INVALID_VERIFICATION_DATA"),
    ];
    for (field, value, code) in hostile {
        let mut body = good.clone();
        body["srpVerificationData"][field] = json!(value);
        let answer = srv
            .post(&session, Some(&admin), &body)
            .expect_error(400, code);
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or("")
                .contains(&field.to_string())
                || answer["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&field.to_uppercase()),
            "{field}: {answer}"
        );
    }
    // The session is still open, the user not locked: the real proof passes.
    srv.post(&session, Some(&admin), &good).expect(200);

    for path in [
        format!("{STORE}/passcodes/registrations/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("{STORE}/passcodes/renewals/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("{STORE}/passcodes/authentications/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!(
            "{STORE}/passcodes/authentications/sessions/{}",
            start.session_id
        ),
        format!(
            "{STORE}/passcodes/registrations/sessions/{}",
            start.session_id
        ),
        format!("{STORE}/passcodes/authentications/sessions/..%2F..%2Fx"),
    ] {
        let body = if path.contains("registrations") {
            json!({"srpRegistrationData": {"verifier": b64(&[9])}})
        } else if path.contains("renewals") {
            json!({"srpRegistrationData": {"verifier": b64(&[9])}, "srpVerificationData": good["srpVerificationData"]})
        } else {
            good.clone()
        };
        srv.post(&path, Some(&admin), &body)
            .expect_error(400, "SESSION_NOT_FOUND");
    }
    srv.post(
        &format!("{STORE}/totps/registrations/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(&admin),
        &json!({"code": "123456"}),
    )
    .expect_error(400, "SESSION_NOT_FOUND");
}

/// Sends raw HTTP/1.1 and returns the status and body.
fn raw_http(srv: &TestServer, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(srv.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn unusable_paths_and_headers_are_client_errors() {
    let srv = TestServer::start_empty();
    let admin = srv.admin("acme");
    // Invalid UTF-8 in a path parameter, with and without a token.
    for auth in [String::new(), format!("Authorization: Bearer {admin}\r\n")] {
        let request = format!(
            "GET /api/identity-store/tenants/acme/stores/%FF%FE HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
        );
        let (status, text) = raw_http(&srv, request.as_bytes());
        assert!(status == 400 || status == 401, "{text}");
        assert!(text.contains("\"code\""), "a JSON error: {text}");
    }
    let request = format!(
        "GET /api/identity-store/tenants/%FF/stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nConnection: close\r\n\r\n"
    );
    let (status, text) = raw_http(&srv, request.as_bytes());
    assert_eq!(status, 400, "{text}");
    // Odd Authorization headers.
    for header in [
        "Basic abc",
        "Bearer",
        "Bearer    ",
        "bearer x.y.z",
        "Token abc",
    ] {
        let answer = srv.send(
            srv.request(Method::GET, "/api/identity-store/tenants/acme/stores")
                .header("Authorization", header),
        );
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{header}"
        );
    }
    // Tenant IDs that could forge a permission string.
    let answer = srv.get("/api/identity-store/tenants/acme%23x/stores", Some(&admin));
    assert_eq!(answer.status, 403, "{}", answer.text);
    // A very long path parameter.
    let long = "x".repeat(16 * 1024);
    let answer = srv.get(
        &format!("/api/identity-store/tenants/acme/stores/{long}"),
        Some(&admin),
    );
    assert!(
        answer.status == 404 || answer.status == 400 || answer.status == 414,
        "{}",
        answer.status
    );
}

#[test]
fn a_sweep_of_odd_bodies_over_every_documented_route_never_yields_a_500() {
    let srv = TestServer::start();
    srv.identity_fixture("acme", "main");
    let admin = srv.admin("acme");
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", b"-1e999".to_vec()),
        ("application/json", b"{\"name\": \"\\u0000\"}".to_vec()),
        ("application/json", br#"{"name": "x", "externalId": "", "processToken": "", "code": "", "srpRegistrationData": {"verifier": "=="}, "srpVerificationData": {"a": "AA==", "m1": ""}}"#.to_vec()),
        ("application/json", br#"{"name": "a/b/../c", "externalId": "a#b", "processDefnName": "two-steps", "type": "UNLIMITED", "parameters": {}}"#.to_vec()),
        ("application/json", json!({"externalId": "x".repeat(100_000)}).to_string().into_bytes()),
        ("application/xml", b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>".to_vec()),
        ("application/xml", b"\x00\x01\x02".to_vec()),
    ];
    for op in operations(&srv) {
        let path = concrete(&op.template, "acme");
        for (content_type, body) in &bodies {
            let answer = srv.send(
                srv.request(op.method.clone(), &path)
                    .bearer_auth(&admin)
                    .header("Content-Type", *content_type)
                    .body(body.clone()),
            );
            // `send` asserts < 500 and the JSON error shape.
            assert!(answer.status > 0);
        }
    }
    // The server still answers normally afterwards.
    let ok: Value = srv
        .get("/api/identity-store/tenants/acme/stores", Some(&admin))
        .expect(200);
    assert!(ok["stores"].is_array());
}

#[test]
fn shutdown_drains_a_request_in_flight_and_refuses_new_connections() {
    let mut srv = TestServer::start_empty();
    let body = br#"{"processToken": "AAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
    let mut stream = TcpStream::connect(srv.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "POST /api/process-manager/process-instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(&body[..10]).expect("first part");
    std::thread::sleep(Duration::from_millis(200));
    srv.begin_shutdown();
    std::thread::sleep(Duration::from_millis(200));
    // The listener is closed: nothing new is accepted.
    let refused = (0..20).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        TcpStream::connect(srv.addr).is_err()
    });
    assert!(refused, "no new connections after shutdown began");
    // The request in flight is answered in full.
    stream.write_all(&body[10..]).expect("rest");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(response.contains("PROCESS_TOKEN_NOT_FOUND"), "{response}");
}
