//! File-driven end-to-end cases: every `tests/flows/*.json` of the repository runs the shipped
//! definitions through the runtime and the real catalogue, with the Rust SRP and TOTP clients
//! acting as the browser, and checks the final status, outcome, decision, checks and variables.
//!
//! A case file:
//!
//! ```text
//! { "description": "...",
//!   "user": "alice",                                  external ID of the tokens (default)
//!   "setup": [ {"addUser": "alice"}, {"registerPasscode": {"user": "alice", "passcode": "..."}},
//!              {"registerTotp": "alice"}, {"setStatus": {"user": "alice", "status": "LOCKED"}} ],
//!   "runs": [ {
//!     "definition": "passcode-registration",
//!     "token": { ...overrides of the demo token parameters... },
//!     "steps": [ {"at": "<node>", "afterSeconds": 0, <one action>} ],
//!     "expect": {
//!       "status": "COMPLETED_ENDED_SUCCESS", "outcome": "<end event name>",
//!       "decision": "PASS" | null (absent),
//!       "checks": [ {"name": "...", "result": "PASS" | "FAIL", "detailContains": "..."} ],
//!       "variables": { "<JSON pointer>": <value> }, "present": [ptr], "absent": [ptr],
//!       "secret": ["processvar.a.b"]  (marked secret, or inside a secret object; redacted in
//!                                      API reads), "errorContains": "...",
//!       "user": { "status": "...", "registeredPasscodes": n, "totpRegistrations": n, "lockCount": n }
//!     } } ] }
//! ```
//!
//! Actions at a step: `"register": passcode`, `"renew": {"current", "new"}`, `"authenticate":
//! passcode` (the SRP client answers `{"browserResponse": ...}` from the step's data; the server's
//! `m2` is then verified), `"totpCode": "current" | "wrong"`, `"answer": <raw JSON>`.

use std::path::{Path, PathBuf};

use idflow_identity::{client, wire, UserStatus};
use idflow_runtime::InstanceView;
use idflow_testkit::demo_world::{passcode_start, totp_start, World};
use serde_json::{json, Value};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("tests")
        .join("flows")
}

/// A proof the client made, to check the server's `m2` against once the run is over.
enum Pending {
    Renewal(
        client::PendingProof<wire::CompletePasscodeRenewalRequest>,
        String,
    ),
    Authentication(
        client::PendingProof<wire::CompletePasscodeAuthenticationRequest>,
        String,
    ),
}

fn setup(world: &World, case: &str, op: &Value) {
    let (kind, arg) = op
        .as_object()
        .and_then(|m| m.iter().next())
        .unwrap_or_else(|| panic!("{case}: setup entry {op} is not {{\"op\": arg}}"));
    let user_of = |arg: &Value| -> String {
        arg.as_str()
            .or_else(|| arg["user"].as_str())
            .unwrap_or_else(|| panic!("{case}: {kind} needs a user"))
            .to_string()
    };
    match kind.as_str() {
        "addUser" => {
            world.add_user(&user_of(arg));
        }
        "registerPasscode" => {
            let passcode = arg["passcode"].as_str().expect("registerPasscode.passcode");
            world.register_passcode(&user_of(arg), passcode);
        }
        "registerTotp" => {
            world.register_totp(&user_of(arg));
        }
        "setStatus" => {
            let status = arg["status"]
                .as_str()
                .and_then(UserStatus::parse)
                .expect("setStatus.status");
            world.set_status(&user_of(arg), status);
        }
        other => panic!("{case}: unknown setup op {other}"),
    }
}

/// A TOTP code that is none of the codes valid around now (the drift window).
fn wrong_code(start: &wire::TotpRegistrationStart, now_ms: i64) -> String {
    let valid: Vec<String> = [-30_000, 0, 30_000]
        .iter()
        .map(|d| client::totp_code_for_registration(start, now_ms + d).expect("code"))
        .collect();
    ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !valid.iter().any(|v| v == c))
        .unwrap_or("444444")
        .to_string()
}

fn act(
    world: &mut World,
    case: &str,
    instance: &InstanceView,
    step: &Value,
    pending: &mut Vec<Pending>,
) -> Value {
    if let Some(at) = step["at"].as_str() {
        let node = instance.step.as_ref().map(|s| s.node.as_str());
        assert_eq!(
            node,
            Some(at),
            "{case}: the instance rests at the wrong node"
        );
    }
    if let Some(seconds) = step["afterSeconds"].as_i64() {
        world.advance_seconds(seconds);
    }
    if let Some(passcode) = step["register"].as_str() {
        let request = client::register(&passcode_start(instance), passcode).expect("register");
        return json!({ "browserResponse": request });
    }
    if let Some(renew) = step.get("renew") {
        let start = passcode_start(instance);
        let proof = client::renew(
            &start,
            renew["current"].as_str().expect("renew.current"),
            renew["new"].as_str().expect("renew.new"),
            &mut world.rng,
        )
        .expect("the client makes a renewal");
        let answer = json!({ "browserResponse": proof.request() });
        pending.push(Pending::Renewal(proof, start.session_id));
        return answer;
    }
    if let Some(passcode) = step["authenticate"].as_str() {
        let start = passcode_start(instance);
        let proof = client::authenticate(&start, passcode, &mut world.rng).expect("authenticate");
        let answer = json!({ "browserResponse": proof.request() });
        pending.push(Pending::Authentication(proof, start.session_id));
        return answer;
    }
    if let Some(which) = step["totpCode"].as_str() {
        let start = totp_start(instance);
        let code = match which {
            "current" => client::totp_code_for_registration(&start, world.now_ms()).expect("code"),
            "wrong" => wrong_code(&start, world.now_ms()),
            other => panic!("{case}: totpCode {other}"),
        };
        return json!({ "browserResponse": { "code": code } });
    }
    if let Some(raw) = step.get("answer") {
        return raw.clone();
    }
    panic!("{case}: step {step} has no action")
}

/// Checks the server's `m2` of every proof that ended in a completed session.
fn verify_server_proofs(case: &str, vars: &Value, pending: &[Pending]) {
    let completed_with = |session_id: &str| -> Option<wire::PasscodeProofResponse> {
        let holder = vars.as_object()?.values().find(|v| {
            v["sessionId"] == session_id && v["status"] == "COMPLETED" && v["m2"].is_string()
        })?;
        Some(wire::PasscodeProofResponse {
            algorithm_info: wire::ProofAlgorithmInfo {
                kind: "SRP".into(),
                parameters: wire::ProofParameters {
                    hash_algorithm: "SHA-256".into(),
                    m2: holder["m2"].as_str()?.to_string(),
                },
            },
            user: serde_json::from_value(holder["user"].clone()).ok()?,
        })
    };
    for p in pending {
        let (result, session) = match p {
            Pending::Renewal(proof, session) => (
                completed_with(session).map(|r| proof.verify_server(&r)),
                session,
            ),
            Pending::Authentication(proof, session) => (
                completed_with(session).map(|r| proof.verify_server(&r)),
                session,
            ),
        };
        if let Some(verified) = result {
            assert_eq!(
                verified,
                Ok(()),
                "{case}: server proof m2 of session {session}"
            );
        }
    }
}

fn check_expectations(
    world: &World,
    case: &str,
    run: usize,
    instance: &InstanceView,
    external_id: &str,
    expect: &Value,
) {
    let at = format!("{case} run {run}");
    let vars = &instance.variables;
    if let Some(status) = expect["status"].as_str() {
        assert_eq!(
            instance.status.as_str(),
            status,
            "{at}: status (error: {:?}, checks: {})",
            instance.error,
            vars["_checks"]
        );
    }
    if let Some(outcome) = expect["outcome"].as_str() {
        assert_eq!(instance.outcome.as_deref(), Some(outcome), "{at}: outcome");
    }
    if let Some(decision) = expect.get("decision") {
        let got = vars.get("_decision").cloned().unwrap_or(Value::Null);
        assert_eq!(&got, decision, "{at}: processvar._decision");
    }
    if let Some(Value::Array(checks)) = expect.get("checks") {
        let got = vars["_checks"].as_array().cloned().unwrap_or_default();
        assert_eq!(got.len(), checks.len(), "{at}: checks {}", vars["_checks"]);
        for (i, (want, have)) in checks.iter().zip(&got).enumerate() {
            for field in ["name", "result"] {
                if let Some(w) = want.get(field) {
                    assert_eq!(&have[field], w, "{at}: _checks[{i}].{field}");
                }
            }
            if let Some(needle) = want["detailContains"].as_str() {
                let detail = have["detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains(needle),
                    "{at}: _checks[{i}].detail {detail:?} lacks {needle:?}"
                );
            }
        }
    }
    if let Some(Value::Object(expected)) = expect.get("variables") {
        for (pointer, want) in expected {
            assert_eq!(
                vars.pointer(pointer),
                Some(want),
                "{at}: variable {pointer}"
            );
        }
    }
    for pointer in expect["present"].as_array().into_iter().flatten() {
        let pointer = pointer.as_str().unwrap_or_default();
        assert!(
            vars.pointer(pointer).is_some(),
            "{at}: variable {pointer} is missing"
        );
    }
    for pointer in expect["absent"].as_array().into_iter().flatten() {
        let pointer = pointer.as_str().unwrap_or_default();
        assert!(
            vars.pointer(pointer).is_none(),
            "{at}: variable {pointer} should be absent"
        );
    }
    for path in expect["secret"].as_array().into_iter().flatten() {
        let path = path.as_str().unwrap_or_default();
        let parsed = idflow_expr::VarPath::parse(path).expect("a variable path");
        assert!(
            instance.secret_paths.iter().any(|p| parsed.starts_with(p)),
            "{at}: {path} is not marked secret (nor is any object holding it)"
        );
        let redacted = world.runtime.redacted_variables(instance);
        let pointer = format!(
            "/{}",
            path.trim_start_matches("processvar.").replace('.', "/")
        );
        assert_ne!(
            redacted.pointer(&pointer),
            vars.pointer(&pointer),
            "{at}: {path} is not redacted in API reads"
        );
    }
    if let Some(needle) = expect["errorContains"].as_str() {
        let message = instance
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains(needle),
            "{at}: error {message:?} lacks {needle:?}"
        );
    }
    if let Some(Value::Object(user)) = expect.get("user") {
        let found = world.user(external_id);
        for (field, want) in user {
            let got = match field.as_str() {
                "status" => json!(found.status),
                "registeredPasscodes" => json!(found.registered_passcodes.len()),
                "renewed" => json!(found
                    .registered_passcodes
                    .iter()
                    .any(|p| p.renewed_at.is_some())),
                "totpRegistrations" => json!(found.totp_registrations.len()),
                "lockCount" => json!(found.lock_count),
                other => panic!("{at}: unknown user expectation {other}"),
            };
            assert_eq!(&got, want, "{at}: user.{field}");
        }
    }
}

fn run_case(path: &Path) {
    let case = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{case}: {e}"));
    let spec: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut world = World::new();
    for op in spec["setup"].as_array().into_iter().flatten() {
        setup(&world, &case, op);
    }
    let default_user = spec["user"].as_str().unwrap_or("case-user").to_string();
    let runs = spec["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: no runs"));
    assert!(!runs.is_empty(), "{case}: no runs");
    for (n, run) in runs.iter().enumerate() {
        let definition = run["definition"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: run {n} names no definition"));
        let params = World::parameters(&default_user, run.get("token"));
        let external_id = params["externalId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut instance = world.start(definition, params);
        let mut pending = Vec::new();
        for step in run["steps"].as_array().into_iter().flatten() {
            assert!(
                instance.step.is_some(),
                "{case} run {n}: expected a step, the instance is {} ({:?})",
                instance.status,
                instance.error
            );
            let answer = act(&mut world, &case, &instance, step, &mut pending);
            instance = world.answer(&instance, answer);
        }
        verify_server_proofs(&case, &instance.variables, &pending);
        check_expectations(&world, &case, n, &instance, &external_id, &run["expect"]);
    }
}

#[test]
fn every_flow_case_runs_as_specified() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/flows exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the flow cases, found {}",
        files.len()
    );
    // Every case runs even when an earlier one fails, so one run reports them all.
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(file))).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(failed.is_empty(), "failed flow cases: {failed:#?}");
}
