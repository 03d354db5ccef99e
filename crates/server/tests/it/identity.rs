//! The identity store over HTTP beyond the seeds: a whole passcode life with the Rust client,
//! TOTP with a replayed code, stores, policies, users, paging, locking and unlocking.

use idflow_identity::{client, wire};
use idflow_server::schema;
use serde_json::json;

use crate::common::{assert_documented_shape, TestServer};
use crate::seeds::register;

const TENANT: &str = "acme";
const STORE: &str = "main";

fn store_path(tail: &str) -> String {
    format!("/api/identity-store/tenants/{TENANT}/stores/{STORE}{tail}")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Starts and completes an authentication with `passcode`; returns the answer.
fn authenticate(srv: &TestServer, user_id: &str, passcode: &str) -> crate::common::Answer {
    let start_answer = srv.post(
        &store_path(&format!("/users/{user_id}/passcodes/authentications/pp")),
        Some(&srv.token(TENANT, "createPasscodeAuthentication")),
        &json!({}),
    );
    let start_body = start_answer.expect(201);
    let start: schema::PasscodeSessionStart = assert_documented_shape(&start_body);
    assert!(start.algorithm_info.parameters.server_public_key.is_some());
    let start: wire::PasscodeSessionStart = serde_json::from_value(start_body).expect("wire");
    let proof = client::authenticate(&start, passcode, &mut rand::rngs::OsRng).expect("proof");
    let answer = srv.post(
        &store_path(&format!(
            "/passcodes/authentications/sessions/{}",
            start.session_id
        )),
        Some(&srv.token(TENANT, "completePasscodeAuthentication")),
        &serde_json::to_value(proof.request()).expect("json"),
    );
    if answer.status == 200 {
        let response: wire::PasscodeProofResponse = answer.parse();
        proof
            .verify_server(&response)
            .expect("the server's M2 verifies");
        assert_documented_shape::<schema::PasscodeProofResponse>(&answer.body);
    } else {
        assert!(
            answer.body.get("algorithmInfo").is_none(),
            "no m2 on failure: {}",
            answer.text
        );
    }
    answer
}

#[test]
fn a_whole_passcode_life_with_the_rust_client() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    let old = "Aa1!aaaa";
    let new = "Bb2@bbbb";

    register(&srv, &alice, old);
    let ok = authenticate(&srv, &alice, old).expect(200);
    assert!(ok["user"]["lastSuccessfulAuthentication"].is_string());

    // Renew with the Rust client.
    let start: wire::PasscodeSessionStart = srv
        .post(
            &store_path(&format!("/users/{alice}/passcodes/renewals/pp")),
            Some(&srv.admin(TENANT)),
            &json!({}),
        )
        .parse();
    let renewal = client::renew(&start, old, new, &mut rand::rngs::OsRng).expect("renewal");
    let answer = srv.post(
        &store_path(&format!(
            "/passcodes/renewals/sessions/{}",
            start.session_id
        )),
        Some(&srv.admin(TENANT)),
        &serde_json::to_value(renewal.request()).expect("json"),
    );
    let response: wire::PasscodeProofResponse = answer.parse();
    assert_eq!(answer.status, 200, "{}", answer.text);
    renewal.verify_server(&response).expect("M2 verifies");

    // The new passcode works, the old one no longer does.
    authenticate(&srv, &alice, new).expect(200);
    authenticate(&srv, &alice, old).expect_error(400, "VERIFICATION_FAILED");

    // Deregister: then there is nothing to authenticate against.
    srv.post(
        &store_path(&format!("/users/{alice}/passcodes/deregistrations/pp")),
        Some(&srv.admin(TENANT)),
        &json!({}),
    )
    .expect(200);
    srv.post(
        &store_path(&format!("/users/{alice}/passcodes/authentications/pp")),
        Some(&srv.admin(TENANT)),
        &json!({}),
    )
    .expect_error(404, "PASSCODE_NOT_REGISTERED");
}

#[test]
fn failed_proofs_lock_the_user_and_unlock_restores_it() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");
    register(&srv, &alice, "Aa1!aaaa");
    for _ in 0..5 {
        authenticate(&srv, &alice, "Wrong1!x").expect_error(400, "VERIFICATION_FAILED");
    }
    let user = srv
        .get(
            &store_path(&format!("/users/{alice}")),
            Some(&srv.token(TENANT, "getUser")),
        )
        .expect(200);
    assert_eq!(user["user"]["status"], "LOCKED");
    assert_eq!(user["user"]["lockCount"], 1);
    srv.post(
        &store_path(&format!("/users/{alice}/passcodes/authentications/pp")),
        Some(&srv.admin(TENANT)),
        &json!({}),
    )
    .expect_error(400, "USER_LOCKED");
    let unlocked = srv
        .post(
            &store_path(&format!("/users/{alice}/unlock")),
            Some(&srv.token(TENANT, "unlockUser")),
            &json!({}),
        )
        .expect(200);
    assert_eq!(unlocked["user"]["status"], "ACTIVE");
    authenticate(&srv, &alice, "Aa1!aaaa").expect(200);
}

#[test]
fn totp_register_with_a_code_read_it_back_and_a_replayed_code_is_refused() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, STORE);
    let alice = srv.add_user(TENANT, STORE, "alice");

    let start_answer = srv.post(
        &store_path(&format!("/users/{alice}/totps/registrations/tp")),
        Some(&srv.token(TENANT, "createTotpRegistration")),
        &json!({}),
    );
    let start_body = start_answer.expect(201);
    let shown: schema::TotpRegistrationStart = assert_documented_shape(&start_body);
    assert!(shown.qr_code_string.starts_with("otpauth://totp/"));
    assert!(shown.qr_code_svg.contains("<svg"));
    let start: wire::TotpRegistrationStart = serde_json::from_value(start_body).expect("wire");
    let session = store_path(&format!(
        "/totps/registrations/sessions/{}",
        start.session_id
    ));

    // A wrong code is refused; the right one registers.
    srv.post(
        &session,
        Some(&srv.admin(TENANT)),
        &json!({"code": "000000x"}),
    )
    .expect_error(400, "INVALID_CODE");
    let t0 = now_ms();
    let code = client::totp_code_for_registration(&start, t0).expect("code");
    let registered = srv
        .post(
            &session,
            Some(&srv.token(TENANT, "completeTotpRegistration")),
            &json!({ "code": code }),
        )
        .expect(200);
    assert_eq!(
        registered["user"]["totpRegistrations"][0]["policyName"],
        "tp"
    );

    // The current TOTP shows the same secret and URI.
    let current = srv
        .get(
            &store_path(&format!("/users/{alice}/totps/registrations/tp")),
            Some(&srv.token(TENANT, "getCurrentTotp")),
        )
        .expect(200);
    let current: schema::CurrentTotp = assert_documented_shape(&current);
    assert_eq!(current.secret, start.secret);
    assert_eq!(current.qr_code_string, start.qr_code_string);

    // The next time step's code (within the accepted drift) authenticates once; replayed, it
    // is refused.
    let next = client::totp_code_for_registration(&start, t0 + i64::from(start.period) * 1000)
        .expect("code");
    let auth = store_path(&format!("/users/{alice}/totps/authentications/tp"));
    srv.post(
        &auth,
        Some(&srv.token(TENANT, "authenticateTotp")),
        &json!({ "code": next }),
    )
    .expect(200);
    srv.post(&auth, Some(&srv.admin(TENANT)), &json!({ "code": next }))
        .expect_error(400, "INVALID_CODE");

    // Deregister; then it is gone.
    srv.post(
        &store_path(&format!("/users/{alice}/totps/deregistrations/tp")),
        Some(&srv.token(TENANT, "deregisterTotp")),
        &json!({}),
    )
    .expect(200);
    srv.get(
        &store_path(&format!("/users/{alice}/totps/registrations/tp")),
        Some(&srv.admin(TENANT)),
    )
    .expect_error(404, "TOTP_NOT_REGISTERED");
}

#[test]
fn stores_policies_and_users_can_be_created_read_and_listed() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    let stores = format!("/api/identity-store/tenants/{TENANT}/stores");
    // A new tenant has no stores.
    assert_eq!(
        srv.get(&stores, Some(&admin)).expect(200),
        json!({"stores": []})
    );
    srv.identity_fixture(TENANT, STORE);
    srv.post(&stores, Some(&admin), &json!({"name": STORE}))
        .expect_error(409, "STORE_ALREADY_EXISTS");
    let listed = srv
        .get(&stores, Some(&srv.token(TENANT, "listStores")))
        .expect(200);
    assert_documented_shape::<schema::StoreList>(&listed);
    assert_eq!(listed["stores"][0]["name"], STORE);
    let store = srv
        .get(&store_path(""), Some(&srv.token(TENANT, "getStore")))
        .expect(200);
    assert_documented_shape::<schema::IdentityStore>(&store);

    // Policies: defaults filled in, names unique, bad fields named.
    let policies = srv
        .get(
            &store_path("/passcode-policies"),
            Some(&srv.token(TENANT, "listPasscodePolicies")),
        )
        .expect(200);
    assert_documented_shape::<schema::PasscodePolicyList>(&policies);
    assert_eq!(policies["policies"][0]["name"], "pp");
    let totp_policies = srv
        .get(
            &store_path("/totp-policies"),
            Some(&srv.token(TENANT, "listTotpPolicies")),
        )
        .expect(200);
    let list: schema::TotpPolicyList = assert_documented_shape(&totp_policies);
    assert_eq!(
        (
            list.policies[0].algorithm.as_str(),
            *list.policies[0].digits.get(),
            list.policies[0].period.get()
        ),
        ("SHA1", 6, 30)
    );
    srv.post(
        &store_path("/passcode-policies"),
        Some(&admin),
        &json!({"name": "pp"}),
    )
    .expect_error(409, "POLICY_ALREADY_EXISTS");
    let bad = srv
        .post(
            &store_path("/totp-policies"),
            Some(&admin),
            &json!({"name": "t2", "issuer": "A", "algorithm": "MD5"}),
        )
        .expect_error(400, "INVALID_POLICY");
    assert!(bad["message"].as_str().unwrap_or("").contains("algorithm"));

    // Users: 409 on a taken external ID, read by ID and by external ID, paged listing.
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(srv.add_user(TENANT, STORE, &format!("user{i}")));
    }
    srv.post(
        &store_path("/users"),
        Some(&admin),
        &json!({"externalId": "user0"}),
    )
    .expect_error(409, "EXT_ID_NOT_UNIQUE");
    srv.post(
        &store_path("/users"),
        Some(&admin),
        &json!({"externalId": "x", "status": "SLEEPING"}),
    )
    .expect_error(400, "INVALID_INPUT");
    let by_ext = srv
        .get(
            &store_path("/users/user3/ext"),
            Some(&srv.token(TENANT, "getUserByExtUserId")),
        )
        .expect(200);
    assert_documented_shape::<schema::UserEnvelope>(&by_ext);
    assert_eq!(by_ext["user"]["id"], ids[3].as_str());
    srv.get(&store_path("/users/nobody/ext"), Some(&admin))
        .expect_error(404, "USER_NOT_FOUND");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("/users?limit=2&after={a}"),
            None => "/users?limit=2".to_string(),
        };
        let page = srv
            .get(&store_path(&query), Some(&srv.token(TENANT, "listUsers")))
            .expect(200);
        let page: schema::UserPage = assert_documented_shape(&page);
        assert!(page.users.len() <= 2);
        seen.extend(page.users.iter().map(|u| u.id.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "every user once, in ID order");
    srv.get(&store_path("/users?limit=0"), Some(&admin))
        .expect_error(400, "INVALID_PARAMETER");
    srv.get(&store_path("/users?limit=many"), Some(&admin))
        .expect_error(400, "INVALID_PARAMETER");
}
