//! What reads and exports give away: no commitment marker that a reader without the server's
//! marker key can recompute from a guess (a passcode's verifier, a TOTP code), no step ID that
//! can be derived from the node and the event index. (The marker key's file and the logs of a
//! restart are tested in `tests/data_dir.rs`, a binary of its own: it captures log lines.)

use std::collections::BTreeSet;

use idflow_engine::redact::canonical_json;
use idflow_identity::{client, wire};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::TestServer;
use crate::flows::{answer, demo_token_id, deploy_two_steps, now_ms, start};

const DEMO: &str = "demo";
const PM: &str = "/api/process-manager";

/// Every string and number inside `value`.
fn scalars(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::String(_) | Value::Number(_) => out.push(value.clone()),
        Value::Null | Value::Bool(_) => {}
    }
}

/// The hex SHA-256 of a value's canonical JSON: what anyone can compute from a guessed value,
/// and what a marker was before markers were keyed.
fn keyless_digest(value: &Value) -> String {
    Sha256::digest(canonical_json(value).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every `secret:...` marker in `text`.
fn markers(text: &str) -> BTreeSet<String> {
    text.match_indices("secret:")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
                .collect()
        })
        .collect()
}

fn admin_reads(srv: &TestServer, id: &str) -> String {
    let admin = srv.admin(DEMO);
    let read = srv
        .get(
            &format!("{PM}/tenants/{DEMO}/process-instances/{id}"),
            Some(&admin),
        )
        .expect(200);
    let history = srv
        .get(
            &format!("{PM}/tenants/{DEMO}/process-instances/{id}/history"),
            Some(&admin),
        )
        .expect(200);
    format!("{read}\n{history}")
}

#[test]
fn no_marker_in_instance_reads_or_exports_can_be_recomputed_from_a_guess() {
    let srv = TestServer::start();
    // A passcode registration: the reads show the salt and the verifier's marker.
    let started = start(&srv, &demo_token_id(&srv, "demo-passcode-registration"));
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(started["currentStep"]["data"].clone()).expect("SRP start");
    let registration = client::register(&session, "Passw0rdX").expect("client request");
    let response = serde_json::to_value(&registration).expect("json");
    let done = answer(&srv, &started, &json!({ "browserResponse": response })).expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS", "{done}");
    let mut exposed = admin_reads(&srv, started["instanceId"].as_str().expect("id"));

    // A TOTP registration: the reads show the marker of a six-digit code.
    let started = start(&srv, &demo_token_id(&srv, "demo-totp-registration"));
    let secret = started["currentStep"]["data"]["secret"]
        .as_str()
        .expect("the step shows the secret")
        .to_string();
    let code = client::totp_code(&secret, "SHA1", 6, 30, now_ms()).expect("code");
    let done = answer(&srv, &started, &json!({"browserResponse": {"code": code}})).expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS", "{done}");
    exposed.push_str(&admin_reads(
        &srv,
        started["instanceId"].as_str().expect("id"),
    ));

    // Secrets did reach the reads and the history as markers, all of them keyed.
    let found = markers(&exposed);
    assert!(found.len() >= 3, "markers expected in the reads: {found:?}");
    for m in &found {
        let hex = m.strip_prefix("secret:hmac-sha256:").unwrap_or_default();
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "not a keyed marker: {m}"
        );
    }
    // An attacker holding the right guess (the registered verifier, the code that was sent:
    // the end of any dictionary or of the table of 10^6 codes) recomputes nothing.
    let mut guesses = Vec::new();
    scalars(&response, &mut guesses);
    guesses.push(json!(code));
    guesses.push(json!(secret));
    assert!(guesses.len() >= 3, "{guesses:?}");
    for guess in &guesses {
        let digest = keyless_digest(guess);
        assert!(
            !exposed.contains(&digest),
            "the key-less digest of {guess} is in the reads: a guess can be checked offline"
        );
        let plain = guess
            .as_str()
            .map_or_else(|| guess.to_string(), str::to_string);
        assert!(!exposed.contains(&plain), "{guess} itself is in the reads");
    }
}

#[test]
fn step_ids_cannot_be_guessed_from_the_node_and_the_event_index() {
    let srv = TestServer::start_empty();
    let token = deploy_two_steps(
        &srv,
        "acme",
        json!({"name": "notes", "processDefnName": "two-steps"}),
    );
    let started = start(&srv, &token);
    let id = started["instanceId"].as_str().expect("id");
    let step_id = started["currentStep"]["stepId"].as_str().expect("step id");
    assert_eq!(step_id.len(), 26, "{step_id}");
    assert!(
        step_id
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{step_id}"
    );
    // Whoever knows the instance ID (from a log line, say) tries the IDs steps used to get,
    // `{node}-{event index}`: none answers the step, and nothing changes.
    for n in 0..64 {
        srv.post(
            &format!("{PM}/process-instances/{id}/steps/first-{n}"),
            None,
            &json!({"note": "forged"}),
        )
        .expect_error(409, "STALE_STEP");
    }
    let read = srv
        .get(
            &format!("{PM}/tenants/acme/process-instances/{id}"),
            Some(&srv.admin("acme")),
        )
        .expect(200);
    assert_eq!(read["status"], "ACTIVE");
    assert_eq!(read["currentStep"]["node"], "first");
    assert_eq!(read["variables"].get("firstNote"), None);
    // The real step ID still answers.
    let next = answer(&srv, &started, &json!({"note": "mine"})).expect(200);
    assert_eq!(next["currentStep"]["uiComponentId"], "second-note");
}
