//! Registration, renewal (with the history rule of srp.md), deregistration and re-registration,
//! the client's enforcement of requirements, and the wire shapes of the answers.

use crate::common::*;
use idflow_identity::client::{self, ClientError};
use idflow_identity::policy::Requirement;
use idflow_identity::{wire, Error, RefusalCode, RefusalKind, UserRef, UserStatus};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn code_of<T: std::fmt::Debug>(result: Result<T, Error>) -> RefusalCode {
    match result {
        Err(Error::Refused(r)) => r.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn register(f: &Fixture, user: UserRef<'_>, passcode: &str) -> Result<wire::UserEnvelope, Error> {
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, user, POLICY)?;
    let request = client::register(&start, passcode).expect("client");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
}

fn renew(
    f: &Fixture,
    user: UserRef<'_>,
    old: &str,
    new: &str,
    rng: &mut ChaCha20Rng,
) -> Result<wire::PasscodeProofResponse, Error> {
    let start = f
        .identity
        .start_passcode_renewal(TENANT, STORE, user, POLICY)?;
    let pending = client::renew(&start, old, new, rng).expect("client");
    let answer = f.identity.complete_passcode_renewal(
        TENANT,
        STORE,
        &start.session_id,
        pending.request(),
    )?;
    pending.verify_server(&answer).expect("M2");
    Ok(answer)
}

fn authenticate(
    f: &Fixture,
    user: UserRef<'_>,
    passcode: &str,
    rng: &mut ChaCha20Rng,
) -> Result<(), Error> {
    let start = f
        .identity
        .start_passcode_authentication(TENANT, STORE, user, POLICY)?;
    let pending = client::authenticate(&start, passcode, rng).expect("client");
    let answer = f.identity.complete_passcode_authentication(
        TENANT,
        STORE,
        &start.session_id,
        pending.request(),
    )?;
    pending.verify_server(&answer).expect("M2");
    Ok(())
}

#[test]
fn the_start_answer_has_the_api_shape() {
    let f = fixture(10);
    let user_id = add_user(&f, "alice");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::ExternalId("alice"), POLICY)
        .expect("start");
    let json = wire::to_value(&start);
    let params = &json["algorithmInfo"]["parameters"];
    assert_eq!(json["algorithmInfo"]["type"], "SRP");
    assert_eq!(params["i"], user_id.as_str());
    assert_eq!(params["g"], 2);
    assert_eq!(params["hashAlgorithm"], "SHA-256");
    assert!(
        params.get("serverPublicKey").is_none(),
        "no B at registration"
    );
    let salt = params["salt"].as_str().expect("salt");
    assert!(
        !salt.contains('=') && !salt.contains('+') && !salt.contains('/'),
        "base64url: {salt}"
    );
    assert_eq!(json["passcodeRequirements"]["minimumLength"], 6);
    assert_eq!(
        json["passcodeRequirements"]["requiredRegExes"][0]["pattern"],
        ""
    );
    assert_eq!(json["sessionId"].as_str().map(str::len), Some(26));
    let request = client::register(&start, "Abc!23").expect("client");
    let done = f
        .identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("complete");
    let user = wire::to_value(&done);
    assert_eq!(user["user"]["registeredPasscodes"][0]["policyName"], POLICY);
    assert_eq!(
        user["user"]["registeredPasscodes"][0]["renewedAt"],
        serde_json::Value::Null
    );
    assert_eq!(
        user["user"]["registeredPasscodes"][0]["registeredAt"],
        "2023-11-14T22:13:20.000Z"
    );
    let text = user.to_string();
    assert!(
        !text.contains(&request.srp_registration_data.verifier[..20]),
        "no verifier in the user"
    );

    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("renewal");
    let json = wire::to_value(&renewal);
    assert!(json["algorithmInfo"]["parameters"]["serverPublicKey"].is_string());
    assert_eq!(
        json["algorithmInfo"]["parameters"]["salt"], salt,
        "one salt per user and policy"
    );
}

#[test]
fn the_client_enforces_every_requirement_before_deriving_a_verifier() {
    let f = fixture(11);
    add_user(&f, "bob");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::ExternalId("bob"), POLICY)
        .expect("start");
    match client::register(&start, "abc") {
        Err(ClientError::Requirements(unmet)) => {
            let kinds: Vec<Requirement> = unmet.iter().map(|u| u.requirement).collect();
            assert_eq!(
                kinds,
                vec![
                    Requirement::MinimumLength,
                    Requirement::DigitCount,
                    Requirement::SymbolCount,
                    Requirement::UpperCaseCount
                ]
            );
        }
        other => panic!("expected unmet requirements, got {other:?}"),
    }
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    register(&f, UserRef::ExternalId("bob"), "G00d-one").expect("registered");
    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, UserRef::ExternalId("bob"), POLICY)
        .expect("renewal");
    assert!(matches!(
        client::renew(&renewal, "G00d-one", "weak", &mut rng),
        Err(ClientError::Requirements(_))
    ));
}

#[test]
fn a_second_registration_is_refused_and_not_found_codes_name_the_object() {
    let f = fixture(12);
    let user_id = add_user(&f, "carol");
    register(&f, UserRef::Id(&user_id), "Fir5t-pass").expect("first");
    let again =
        f.identity
            .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY);
    assert_eq!(code_of(again), RefusalCode::PasscodeAlreadyRegistered);

    let missing = "AAAAAAAAAAAAAAAAAAAAAAAAAA";
    let cases: Vec<(
        &str,
        Result<wire::PasscodeSessionStart, Error>,
        RefusalCode,
        RefusalKind,
    )> = vec![
        (
            "tenant",
            f.identity.start_passcode_authentication(
                "nobody",
                STORE,
                UserRef::Id(&user_id),
                POLICY,
            ),
            RefusalCode::TenantNotFound,
            RefusalKind::NotFound,
        ),
        (
            "store",
            f.identity.start_passcode_authentication(
                TENANT,
                "nowhere",
                UserRef::Id(&user_id),
                POLICY,
            ),
            RefusalCode::StoreNotFound,
            RefusalKind::NotFound,
        ),
        (
            "user by ID",
            f.identity
                .start_passcode_authentication(TENANT, STORE, UserRef::Id(missing), POLICY),
            RefusalCode::UserNotFound,
            RefusalKind::NotFound,
        ),
        (
            "user by external ID",
            f.identity.start_passcode_authentication(
                TENANT,
                STORE,
                UserRef::ExternalId("zed"),
                POLICY,
            ),
            RefusalCode::UserNotFound,
            RefusalKind::NotFound,
        ),
        (
            "malformed user ID",
            f.identity
                .start_passcode_authentication(TENANT, STORE, UserRef::Id("x"), POLICY),
            RefusalCode::UserNotFound,
            RefusalKind::NotFound,
        ),
        (
            "policy",
            f.identity
                .start_passcode_authentication(TENANT, STORE, UserRef::Id(&user_id), "nope"),
            RefusalCode::PolicyNotFound,
            RefusalKind::NotFound,
        ),
    ];
    for (what, result, code, kind) in cases {
        let err = result.expect_err(what);
        assert_eq!(err.code(), Some(code), "{what}");
        assert_eq!(err.kind(), Some(kind), "{what}");
        let message = err.refusal().map(|r| r.message.clone()).unwrap_or_default();
        assert!(!message.is_empty(), "{what}");
    }
    let other = add_user(&f, "dora");
    let not_registered =
        f.identity
            .start_passcode_renewal(TENANT, STORE, UserRef::Id(&other), POLICY);
    assert_eq!(code_of(not_registered), RefusalCode::PasscodeNotRegistered);
    let dereg = f
        .identity
        .deregister_passcode(TENANT, STORE, UserRef::Id(&other), POLICY);
    assert_eq!(code_of(dereg), RefusalCode::PasscodeNotRegistered);
}

#[test]
fn renewal_enforces_the_history_and_replaces_the_passcode_atomically() {
    // passcodeHistory = 2: the current passcode and the two before it are refused.
    let f = fixture(13);
    let user = add_user(&f, "erin");
    let user = UserRef::Id(&user);
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let p = ["Passc0de-1", "Passc0de-2", "Passc0de-3", "Passc0de-4"];
    register(&f, user, p[0]).expect("register");

    assert_eq!(
        code_of(renew(&f, user, p[0], p[0], &mut rng)),
        RefusalCode::PasscodeInHistory
    );
    let answer = renew(&f, user, p[0], p[1], &mut rng).expect("p0 -> p1");
    let registered = &answer.user.registered_passcodes[0];
    assert_eq!(
        registered.renewed_at.as_deref(),
        Some("2023-11-14T22:13:20.000Z")
    );
    assert!(answer.user.last_successful_authentication.is_some());
    renew(&f, user, p[1], p[2], &mut rng).expect("p1 -> p2");
    // p1 and p0 are the two remembered, p2 the current.
    for old in [p[0], p[1], p[2]] {
        assert_eq!(
            code_of(renew(&f, user, p[2], old, &mut rng)),
            RefusalCode::PasscodeInHistory,
            "{old}"
        );
    }
    // A refused renewal changed nothing: p2 still authenticates, p1 does not.
    authenticate(&f, user, p[2], &mut rng).expect("p2 still current");
    assert_eq!(
        code_of(authenticate(&f, user, p[1], &mut rng)),
        RefusalCode::VerificationFailed
    );
    renew(&f, user, p[2], p[3], &mut rng).expect("p2 -> p3");
    // p0 has now dropped out of the two remembered.
    renew(&f, user, p[3], p[0], &mut rng).expect("p3 -> p0 once p0 left the history");
    authenticate(&f, user, p[0], &mut rng).expect("p0 current again");

    // Renewal with the wrong old passcode: counted, nothing replaced.
    assert_eq!(
        code_of(renew(&f, user, "Wr0ng-old", p[1], &mut rng)),
        RefusalCode::VerificationFailed
    );
    authenticate(&f, user, p[0], &mut rng).expect("p0 still current");
}

#[test]
fn deregistration_keeps_the_salt_and_history_for_a_re_registration() {
    let f = fixture(14);
    let id = add_user(&f, "fay");
    let user = UserRef::Id(&id);
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    register(&f, user, "First-0ne").expect("register");
    let salt_before = f
        .identity
        .start_passcode_renewal(TENANT, STORE, user, POLICY)
        .expect("renewal")
        .algorithm_info
        .parameters
        .salt;
    let after = f
        .identity
        .deregister_passcode(TENANT, STORE, user, POLICY)
        .expect("deregister");
    assert!(after.user.registered_passcodes.is_empty());
    assert_eq!(
        code_of(
            f.identity
                .start_passcode_authentication(TENANT, STORE, user, POLICY)
        ),
        RefusalCode::PasscodeNotRegistered
    );
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, user, POLICY)
        .expect("register again");
    assert_eq!(
        start.algorithm_info.parameters.salt, salt_before,
        "same salt"
    );
    let request = client::register(&start, "First-0ne").expect("client");
    let refused =
        f.identity
            .complete_passcode_registration(TENANT, STORE, &start.session_id, &request);
    assert_eq!(code_of(refused), RefusalCode::PasscodeInHistory);
    register(&f, user, "Sec0nd-one").expect("a new passcode registers");
    authenticate(&f, user, "Sec0nd-one", &mut rng).expect("and authenticates");
}

#[test]
fn user_administration() {
    let f = fixture(15);
    let first = f
        .identity
        .add_user(TENANT, STORE, "gus", UserStatus::PendingActive)
        .expect("add");
    assert_eq!(first.status, UserStatus::PendingActive);
    assert_eq!(first.id.len(), 26);
    assert_eq!(first.created_at_ms, START_MS);
    let taken = f
        .identity
        .add_user(TENANT, STORE, "gus", UserStatus::Active);
    let err = taken.expect_err("taken");
    assert_eq!(
        (err.code(), err.kind()),
        (
            Some(RefusalCode::ExtIdNotUnique),
            Some(RefusalKind::Conflict)
        )
    );
    for (ext, status) in [
        ("", UserStatus::Active),
        ("tab\there", UserStatus::Active),
        ("locked", UserStatus::Locked),
    ] {
        let err = f
            .identity
            .add_user(TENANT, STORE, ext, status)
            .expect_err(ext);
        assert_eq!(err.code(), Some(RefusalCode::FailedToAddUser), "{ext:?}");
    }
    // By ID and by external ID.
    let by_ext = f
        .identity
        .get_user(TENANT, STORE, UserRef::ExternalId("gus"))
        .expect("by ext");
    assert_eq!(by_ext.id, first.id);
    // Pending becomes active with its first registration.
    let done = register(&f, UserRef::Id(&first.id), "Reg1stered!").expect("register");
    assert_eq!(done.user.status, "ACTIVE");
    // Disabled users can do nothing credential-related.
    f.identity
        .set_user_status(TENANT, STORE, UserRef::Id(&first.id), UserStatus::Disabled)
        .expect("disable");
    let start =
        f.identity
            .start_passcode_authentication(TENANT, STORE, UserRef::Id(&first.id), POLICY);
    assert_eq!(code_of(start), RefusalCode::UserDisabled);
    let temp = f.identity.set_user_status(
        TENANT,
        STORE,
        UserRef::Id(&first.id),
        UserStatus::TempLocked,
    );
    assert_eq!(code_of(temp), RefusalCode::InvalidInput);
    // Conflicts for stores and policies.
    assert_eq!(
        code_of(f.identity.create_store(TENANT, STORE)),
        RefusalCode::StoreAlreadyExists
    );
    assert_eq!(
        code_of(
            f.identity
                .create_passcode_policy(TENANT, STORE, &passcode_policy())
        ),
        RefusalCode::PolicyAlreadyExists
    );
    assert_eq!(
        code_of(f.identity.create_store(TENANT, "")),
        RefusalCode::InvalidInput
    );
    let stores = f.identity.list_stores(TENANT).expect("stores");
    assert_eq!(
        stores.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec![STORE]
    );
    assert!(f.identity.list_stores("nobody").expect("empty").is_empty());
    let policies = f
        .identity
        .list_passcode_policies(TENANT, STORE)
        .expect("policies");
    assert_eq!(policies, vec![passcode_policy()]);
    assert_eq!(
        f.identity.list_totp_policies(TENANT, STORE).expect("totp"),
        vec![totp_policy()]
    );
}

#[test]
fn users_list_in_pages() {
    let f = fixture(16);
    let mut ids: Vec<String> = (0..25)
        .map(|i| add_user(&f, &format!("user-{i:02}")))
        .collect();
    ids.sort();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = f
            .identity
            .list_users(TENANT, STORE, after.as_deref(), 10)
            .expect("page");
        pages += 1;
        seen.extend(page.users.iter().map(|u| u.id.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    let exact = f.identity.list_users(TENANT, STORE, None, 25).expect("all");
    assert_eq!((exact.users.len(), exact.next_after), (25, None));
    assert_eq!(
        code_of(f.identity.list_users(TENANT, STORE, None, 0)),
        RefusalCode::InvalidInput
    );
    assert_eq!(
        code_of(f.identity.list_users(TENANT, "nowhere", None, 5)),
        RefusalCode::StoreNotFound
    );
}

#[test]
fn expired_sessions_are_purged_and_live_ones_kept() {
    let f = fixture(17);
    let id = add_user(&f, "hal");
    let user = UserRef::Id(&id);
    let old: Vec<_> = (0..3)
        .map(|_| {
            f.identity
                .start_passcode_registration(TENANT, STORE, user, POLICY)
                .expect("start")
        })
        .collect();
    f.advance_ms(300_000);
    let live = f
        .identity
        .start_passcode_registration(TENANT, STORE, user, POLICY)
        .expect("start");
    assert_eq!(f.identity.purge_expired_sessions().expect("purge"), 3);
    assert_eq!(f.identity.purge_expired_sessions().expect("purge again"), 0);
    let request = client::register(&old[0], "Purg3d-one").expect("client");
    let gone =
        f.identity
            .complete_passcode_registration(TENANT, STORE, &old[0].session_id, &request);
    assert_eq!(code_of(gone), RefusalCode::SessionNotFound);
    let request = client::register(&live, "L1ve-one").expect("client");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &live.session_id, &request)
        .expect("the live session is kept");
}
