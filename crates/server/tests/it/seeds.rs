//! The eight passcode routes of the seeds (api.md): exact paths, permission names, bodies and
//! status codes, with the 404 and 400 cases of the seeds' tables. Each success is sent with a
//! token holding only the route's documented permission.

use base64::Engine;
use idflow_identity::{client, srp, wire};
use idflow_server::schema;
use serde_json::{json, Value};

use crate::common::{assert_documented_shape, TestServer};

const TENANT: &str = "acme";
const STORE: &str = "main";
const PASSCODE: &str = "Aa1!aaaa";
const NEW_PASSCODE: &str = "Bb2@bbbb";

fn store_path(tail: &str) -> String {
    format!("/api/identity-store/tenants/{TENANT}/stores/{STORE}{tail}")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Starts and completes a registration for `user_id` under `pp`; returns the start answer.
pub fn register(srv: &TestServer, user_id: &str, passcode: &str) -> wire::PasscodeSessionStart {
    let admin = srv.admin(TENANT);
    let answer = srv.post(
        &store_path(&format!("/users/{user_id}/passcodes/registrations/pp")),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    let start: wire::PasscodeSessionStart = answer.parse();
    let request = client::register(&start, passcode).expect("client builds the request");
    srv.post(
        &store_path(&format!(
            "/passcodes/registrations/sessions/{}",
            start.session_id
        )),
        Some(&admin),
        &serde_json::to_value(&request).expect("json"),
    )
    .expect(200);
    start
}

#[track_caller]
fn assert_seed_start_shape(body: &Value, user_id: &str, with_b: bool) {
    let start: schema::PasscodeSessionStart = assert_documented_shape(body);
    let req = &start.passcode_requirements;
    assert_eq!(
        (
            req.minimum_length.get(),
            req.maximum_length.get(),
            req.digit_count.get(),
            req.symbol_count.get(),
            req.lower_case_count.get(),
            req.upper_case_count.get(),
            req.character_variety.get(),
            req.passcode_history.get()
        ),
        (6, 12, 1, 1, 1, 1, 1, 1),
        "the policy's requirements"
    );
    let p = &start.algorithm_info.parameters;
    assert_eq!(start.algorithm_info.kind, "SRP");
    assert_eq!(p.i, user_id);
    assert_eq!(p.g, 2);
    assert_eq!(
        body["algorithmInfo"]["parameters"]["g"],
        json!(2),
        "g is a JSON number"
    );
    assert_eq!(p.hash_algorithm, "SHA-256");
    let n = base64::engine::general_purpose::STANDARD
        .decode(&p.n)
        .expect("n is standard base64");
    assert_eq!(
        n,
        srp::n_bytes(),
        "n is bytes(N) of RFC 5054's 2048-bit group"
    );
    assert!(
        !p.salt.contains(['=', '+', '/']),
        "salt is base64url without padding: {}",
        p.salt
    );
    let salt = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&p.salt)
        .expect("salt decodes");
    assert!(
        salt.len() >= 16 && salt[0] != 0,
        "salt: 16+ bytes, first non-zero"
    );
    assert_eq!(start.session_id.len(), 26);
    assert!(start
        .session_id
        .chars()
        .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    match (&p.server_public_key, with_b) {
        (Some(b), true) => {
            let b = base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("B is standard base64");
            assert!(
                !b.is_empty() && b.len() <= 256 && b[0] != 0,
                "B is bytes(B)"
            );
        }
        (None, false) => {}
        (b, _) => panic!(
            "serverPublicKey present: {}, expected {with_b}",
            b.is_some()
        ),
    }
}

#[test]
fn start_registration_by_id_and_by_external_id_answer_the_seed_shape() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");

    let by_id = srv.post(
        &store_path(&format!("/users/{alice}/passcodes/registrations/pp")),
        Some(&srv.token(TENANT, "createPasscodeRegistrationForUser")),
        &json!({}),
    );
    assert_seed_start_shape(&by_id.expect(201), &alice, false);

    let by_ext = srv.post(
        &store_path("/users/alice/passcodes/registrations/pp/ext"),
        Some(&srv.token(TENANT, "createUserPasscodeRegistrationForUserByExtUserId")),
        &json!({}),
    );
    assert_seed_start_shape(&by_ext.expect(201), &alice, false);

    // The seeds send `{}`; an empty body is as good.
    let empty = srv.send(
        srv.request(
            reqwest::Method::POST,
            &store_path(&format!("/users/{alice}/passcodes/registrations/pp")),
        )
        .bearer_auth(srv.admin(TENANT)),
    );
    assert_eq!(empty.status, 201, "{}", empty.text);
}

#[test]
fn start_routes_answer_404_for_what_does_not_exist_and_400_for_the_rest() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    let bob = srv.add_user(TENANT, STORE, "bob");
    register(&srv, &bob, PASSCODE);
    let admin = srv.admin(TENANT);
    let ghost_admin = srv.admin("ghost");
    let unknown_id = "AAAAAAAAAAAAAAAAAAAAAAAAAA";
    let cases: Vec<(String, &str, u16, &str)> = vec![
        // (path, token tenant, status, code)
        (
            format!("/api/identity-store/tenants/ghost/stores/{STORE}/users/{alice}/passcodes/registrations/pp"),
            "ghost",
            404,
            "TENANT_NOT_FOUND",
        ),
        (
            format!("/api/identity-store/tenants/{TENANT}/stores/nope/users/{alice}/passcodes/registrations/pp"),
            TENANT,
            404,
            "STORE_NOT_FOUND",
        ),
        (store_path(&format!("/users/{unknown_id}/passcodes/registrations/pp")), TENANT, 404, "USER_NOT_FOUND"),
        (store_path("/users/not-an-id/passcodes/registrations/pp"), TENANT, 404, "USER_NOT_FOUND"),
        (store_path("/users/nobody/passcodes/registrations/pp/ext"), TENANT, 404, "USER_NOT_FOUND"),
        (store_path(&format!("/users/{alice}/passcodes/registrations/nopolicy")), TENANT, 404, "POLICY_NOT_FOUND"),
        (store_path("/users/alice/passcodes/registrations/nopolicy/ext"), TENANT, 404, "POLICY_NOT_FOUND"),
        (store_path(&format!("/users/{bob}/passcodes/registrations/pp")), TENANT, 400, "PASSCODE_ALREADY_REGISTERED"),
        (store_path("/users/bob/passcodes/registrations/pp/ext"), TENANT, 400, "PASSCODE_ALREADY_REGISTERED"),
        // Renewal: the registration must exist.
        (store_path(&format!("/users/{alice}/passcodes/renewals/pp")), TENANT, 404, "PASSCODE_NOT_REGISTERED"),
        (store_path("/users/alice/passcodes/renewals/pp/ext"), TENANT, 404, "PASSCODE_NOT_REGISTERED"),
        (store_path(&format!("/users/{unknown_id}/passcodes/renewals/pp")), TENANT, 404, "USER_NOT_FOUND"),
        (store_path("/users/nobody/passcodes/renewals/pp/ext"), TENANT, 404, "USER_NOT_FOUND"),
        (store_path(&format!("/users/{bob}/passcodes/renewals/nopolicy")), TENANT, 404, "POLICY_NOT_FOUND"),
        (
            format!("/api/identity-store/tenants/{TENANT}/stores/nope/users/{bob}/passcodes/renewals/pp"),
            TENANT,
            404,
            "STORE_NOT_FOUND",
        ),
        // Deregistration: the registration must exist.
        (store_path(&format!("/users/{alice}/passcodes/deregistrations/pp")), TENANT, 404, "PASSCODE_NOT_REGISTERED"),
        (store_path("/users/alice/passcodes/deregistrations/pp/ext"), TENANT, 404, "PASSCODE_NOT_REGISTERED"),
        (store_path("/users/nobody/passcodes/deregistrations/pp/ext"), TENANT, 404, "USER_NOT_FOUND"),
        (store_path(&format!("/users/{bob}/passcodes/deregistrations/nopolicy")), TENANT, 404, "POLICY_NOT_FOUND"),
        (
            format!("/api/identity-store/tenants/{TENANT}/stores/nope/users/bob/passcodes/deregistrations/pp/ext"),
            TENANT,
            404,
            "STORE_NOT_FOUND",
        ),
    ];
    for (path, tenant, status, code) in cases {
        let token = if tenant == "ghost" {
            &ghost_admin
        } else {
            &admin
        };
        let answer = srv.post(&path, Some(token), &json!({}));
        assert_eq!(
            (answer.status, answer.body["code"].as_str().unwrap_or("")),
            (status, code),
            "POST {path}: {}",
            answer.text
        );
    }
}

#[test]
fn complete_registration_answers_the_user_and_refuses_unusable_data_changing_nothing() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    let admin = srv.admin(TENANT);
    let start: wire::PasscodeSessionStart = srv
        .post(
            &store_path(&format!("/users/{alice}/passcodes/registrations/pp")),
            Some(&admin),
            &json!({}),
        )
        .parse();
    let session = store_path(&format!(
        "/passcodes/registrations/sessions/{}",
        start.session_id
    ));
    let n_bytes = srp::n_bytes().to_vec();
    let hostile: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"srpRegistrationData": {"verifier": "@@not base64@@"}}),
            400,
            "INVALID_ENCODING",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": ""}}),
            400,
            "INVALID_ENCODING",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": b64(&[0])}}),
            400,
            "INVALID_REGISTRATION_DATA",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": b64(&[1])}}),
            400,
            "INVALID_REGISTRATION_DATA",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": b64(&n_bytes)}}),
            400,
            "INVALID_REGISTRATION_DATA",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": b64(&[0xff; 300])}}),
            400,
            "INVALID_REGISTRATION_DATA",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {}}),
            400,
            "INVALID_BODY",
            "verifier",
        ),
        (
            json!({"srpRegistrationData": {"verifier": 7}}),
            400,
            "INVALID_BODY",
            "verifier",
        ),
        (json!({}), 400, "INVALID_BODY", "srpRegistrationData"),
    ];
    for (body, status, code, named) in hostile {
        let answer = srv.post(&session, Some(&admin), &body);
        assert_eq!(
            (answer.status, answer.body["code"].as_str().unwrap_or("")),
            (status, code),
            "{body}: {}",
            answer.text
        );
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap_or("")
                .contains(named),
            "the message names {named}: {}",
            answer.text
        );
    }
    // Unknown session, and one of another store.
    srv.post(
        &store_path("/passcodes/registrations/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(&admin),
        &json!({"srpRegistrationData": {"verifier": b64(&[5])}}),
    )
    .expect_error(400, "SESSION_NOT_FOUND");
    srv.post(
        &format!(
            "/api/identity-store/tenants/{TENANT}/stores/nope/passcodes/registrations/sessions/{}",
            start.session_id
        ),
        Some(&admin),
        &json!({"srpRegistrationData": {"verifier": b64(&[5])}}),
    )
    .expect_error(404, "STORE_NOT_FOUND");

    // Nothing above changed anything: the session still completes.
    let request = client::register(&start, PASSCODE).expect("request");
    let done = srv.post(
        &session,
        Some(&srv.token(TENANT, "completePasscodeRegistration")),
        &serde_json::to_value(&request).expect("json"),
    );
    let text = done.text.clone();
    let envelope: schema::UserEnvelope = assert_documented_shape(&done.expect(200));
    assert_eq!(envelope.user.id, alice);
    assert_eq!(envelope.user.external_id, "alice");
    assert_eq!(envelope.user.status, "ACTIVE");
    assert_eq!(envelope.user.registered_passcodes.len(), 1);
    assert_eq!(envelope.user.registered_passcodes[0].policy_name, "pp");
    assert_eq!(envelope.user.registered_passcodes[0].renewed_at, None);
    for secret in ["verifier", "salt", &request.srp_registration_data.verifier] {
        assert!(!text.contains(secret), "the answer shows {secret}");
    }
    // A session is single-use.
    srv.post(
        &session,
        Some(&admin),
        &serde_json::to_value(&request).expect("json"),
    )
    .expect_error(400, "SESSION_NOT_FOUND");
}

/// `A` values the server must refuse with 400, nothing changed.
fn hostile_a_values() -> Vec<(String, &'static str)> {
    let n = srp::n_bytes().to_vec();
    let mut two_n = vec![0u8; 257];
    // 2N = N shifted left by one bit.
    let mut carry = 0u8;
    for (i, byte) in n.iter().enumerate().rev() {
        two_n[i + 1] = (byte << 1) | carry;
        carry = byte >> 7;
    }
    two_n[0] = carry;
    vec![
        (b64(&[0]), "A = 0"),
        (b64(&[0; 256]), "A = 0 (padded)"),
        (b64(&n), "A = N"),
        (b64(&two_n), "A = 2N"),
        ("***".to_string(), "A not base64"),
    ]
}

#[test]
fn renewal_start_and_complete_with_m2_and_every_refusal() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    register(&srv, &alice, PASSCODE);
    let admin = srv.admin(TENANT);
    let mut rng = rand::rngs::OsRng;

    let by_ext = srv.post(
        &store_path("/users/alice/passcodes/renewals/pp/ext"),
        Some(&srv.token(TENANT, "createUserPasscodeRenewalForUserByExtUserId")),
        &json!({}),
    );
    assert_seed_start_shape(&by_ext.expect(201), &alice, true);

    let start_renewal = || -> wire::PasscodeSessionStart {
        let answer = srv.post(
            &store_path(&format!("/users/{alice}/passcodes/renewals/pp")),
            Some(&srv.token(TENANT, "createPasscodeRenewalForUser")),
            &json!({}),
        );
        assert_seed_start_shape(&answer.body, &alice, true);
        answer.parse()
    };
    let complete = |start: &wire::PasscodeSessionStart, body: &Value| {
        srv.post(
            &store_path(&format!(
                "/passcodes/renewals/sessions/{}",
                start.session_id
            )),
            Some(&srv.token(TENANT, "completePasscodeRenewal")),
            body,
        )
    };

    // Hostile A and bad base64: refused, the session left open.
    let start = start_renewal();
    let good = client::renew(&start, PASSCODE, NEW_PASSCODE, &mut rng).expect("request");
    for (a, what) in hostile_a_values() {
        let mut body = serde_json::to_value(good.request()).expect("json");
        body["srpVerificationData"]["a"] = json!(a);
        let answer = complete(&start, &body);
        assert_eq!(answer.status, 400, "{what}: {}", answer.text);
        assert!(
            answer.body["message"].as_str().unwrap_or("").contains('A')
                || answer.body["message"].as_str().unwrap_or("").contains("a "),
            "{what}: the message names A: {}",
            answer.text
        );
    }
    let mut body = serde_json::to_value(good.request()).expect("json");
    body["srpVerificationData"]["m1"] = json!("%%%");
    complete(&start, &body).expect_error(400, "INVALID_ENCODING");
    body["srpVerificationData"]["m1"] = json!(b64(&[1, 2, 3]));
    complete(&start, &body).expect_error(400, "INVALID_VERIFICATION_DATA");

    // The well-formed request on the same session succeeds, with M2 the client accepts.
    let answer = complete(&start, &serde_json::to_value(good.request()).expect("json"));
    let text = answer.text.clone();
    let value = answer.expect(200);
    let proof: schema::PasscodeProofResponse = assert_documented_shape(&value);
    assert_eq!(proof.algorithm_info.kind, "SRP");
    assert_eq!(proof.algorithm_info.parameters.hash_algorithm, "SHA-256");
    let response: wire::PasscodeProofResponse = serde_json::from_value(value).expect("wire");
    good.verify_server(&response)
        .unwrap_or_else(|e| panic!("M2 from the server does not verify: {e}; {text}"));
    assert!(proof.user.registered_passcodes[0].renewed_at.is_some());

    // Wrong old passcode: VERIFICATION_FAILED, no m2.
    let start = start_renewal();
    let wrong = client::renew(&start, "Zz9#zzzz", "Cc3$cccc", &mut rng).expect("request");
    let refused = complete(
        &start,
        &serde_json::to_value(wrong.request()).expect("json"),
    )
    .expect_error(400, "VERIFICATION_FAILED");
    assert!(!refused.to_string().contains("m2"));

    // The new passcode equal to the current one: PASSCODE_IN_HISTORY.
    let start = start_renewal();
    let same = client::renew(&start, NEW_PASSCODE, NEW_PASSCODE, &mut rng).expect("request");
    complete(&start, &serde_json::to_value(same.request()).expect("json"))
        .expect_error(400, "PASSCODE_IN_HISTORY");

    // Unknown session.
    srv.post(
        &store_path("/passcodes/renewals/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(&admin),
        &serde_json::to_value(good.request()).expect("json"),
    )
    .expect_error(400, "SESSION_NOT_FOUND");
}

#[test]
fn deregistration_by_id_and_by_external_id_answer_the_user() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    let bob = srv.add_user(TENANT, STORE, "bob");
    register(&srv, &alice, PASSCODE);
    register(&srv, &bob, PASSCODE);

    let by_id = srv.post(
        &store_path(&format!("/users/{alice}/passcodes/deregistrations/pp")),
        Some(&srv.token(TENANT, "deregisterPasscodeForUser")),
        &json!({}),
    );
    let envelope: schema::UserEnvelope = assert_documented_shape(&by_id.expect(200));
    assert_eq!(envelope.user.id, alice);
    assert!(envelope.user.registered_passcodes.is_empty());

    let by_ext = srv.post(
        &store_path("/users/bob/passcodes/deregistrations/pp/ext"),
        Some(&srv.token(TENANT, "deregisterPasscodeForUserByExtUserId")),
        &json!({}),
    );
    let envelope: schema::UserEnvelope = assert_documented_shape(&by_ext.expect(200));
    assert_eq!(envelope.user.id, bob);
    assert!(envelope.user.registered_passcodes.is_empty());

    // Gone now: 404 the second time.
    srv.post(
        &store_path(&format!("/users/{alice}/passcodes/deregistrations/pp")),
        Some(&srv.admin(TENANT)),
        &json!({}),
    )
    .expect_error(404, "PASSCODE_NOT_REGISTERED");
}
