//! Hostile and failing passcode proofs: bad `A` values and encodings change nothing; a wrong
//! `M1` gets no `M2`, consumes the session and counts towards the lock; sessions are single-use,
//! expire, and are bound to their store and kind; locked users cannot prove.

use crate::common::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idflow_identity::policy::PasscodePolicy;
use idflow_identity::{client, srp, wire, Error, RefusalCode, RefusalKind, UserRef, UserStatus};
use num_bigint::BigUint;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const PASSCODE: &str = "Corr3ct-Horse";

fn register(f: &Fixture, user_id: &str, passcode: &str) {
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(user_id), POLICY)
        .expect("start registration");
    let request = client::register(&start, passcode).expect("register");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("complete registration");
}

fn start_auth(f: &Fixture, user_id: &str) -> wire::PasscodeSessionStart {
    f.identity
        .start_passcode_authentication(TENANT, STORE, UserRef::Id(user_id), POLICY)
        .expect("start authentication")
}

fn prove(
    f: &Fixture,
    start: &wire::PasscodeSessionStart,
    passcode: &str,
    rng: &mut ChaCha20Rng,
) -> Result<wire::PasscodeProofResponse, Error> {
    let pending = client::authenticate(start, passcode, rng).expect("client");
    let answer = f.identity.complete_passcode_authentication(
        TENANT,
        STORE,
        &start.session_id,
        pending.request(),
    )?;
    pending.verify_server(&answer).expect("M2 verifies");
    Ok(answer)
}

/// Every key and value in the store: "nothing changed" means this is equal before and after.
fn snapshot(f: &Fixture) -> Vec<(Vec<u8>, Vec<u8>)> {
    f.identity
        .store()
        .scan_prefix(b"")
        .collect::<Result<_, _>>()
        .expect("scan")
}

fn code_of<T: std::fmt::Debug>(result: Result<T, Error>) -> RefusalCode {
    match result {
        Err(Error::Refused(r)) => r.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn auth_request(a: &str, m1: &str) -> wire::CompletePasscodeAuthenticationRequest {
    wire::CompletePasscodeAuthenticationRequest {
        srp_verification_data: wire::SrpVerificationData {
            a: a.into(),
            m1: m1.into(),
        },
    }
}

#[test]
fn hostile_values_are_refused_with_nothing_changed() {
    let f = fixture(1);
    let user_id = add_user(&f, "alice");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let start = start_auth(&f, &user_id);
    let honest = client::authenticate(&start, PASSCODE, &mut rng).expect("client");
    let m1 = honest.request().srp_verification_data.m1.clone();
    let a = honest.request().srp_verification_data.a.clone();

    let n = BigUint::from_bytes_be(srp::n_bytes());
    let enc = |x: &BigUint| STANDARD.encode(x.to_bytes_be());
    let table: Vec<(&str, String, String, RefusalCode, &str)> = vec![
        (
            "A = 0",
            STANDARD.encode([0u8]),
            m1.clone(),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
        ),
        (
            "A = N",
            enc(&n),
            m1.clone(),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
        ),
        (
            "A = 2N",
            enc(&(&n * 2u8)),
            m1.clone(),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
        ),
        (
            "A = N + 1",
            enc(&(&n + 1u8)),
            m1.clone(),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
        ),
        (
            "A of 300 bytes",
            STANDARD.encode([7u8; 300]),
            m1.clone(),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
        ),
        (
            "A not base64",
            "not base64!".into(),
            m1.clone(),
            RefusalCode::InvalidEncoding,
            "srpVerificationData.a",
        ),
        (
            "A empty",
            String::new(),
            m1.clone(),
            RefusalCode::InvalidEncoding,
            "srpVerificationData.a",
        ),
        (
            "M1 of 31 bytes",
            a.clone(),
            STANDARD.encode([1u8; 31]),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.m1",
        ),
        (
            "M1 of 33 bytes",
            a.clone(),
            STANDARD.encode([1u8; 33]),
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.m1",
        ),
        (
            "M1 not base64",
            a.clone(),
            "%%%".into(),
            RefusalCode::InvalidEncoding,
            "srpVerificationData.m1",
        ),
    ];
    for (case, a_value, m1_value, expected, field) in table {
        let before = snapshot(&f);
        let result = f.identity.complete_passcode_authentication(
            TENANT,
            STORE,
            &start.session_id,
            &auth_request(&a_value, &m1_value),
        );
        let refusal = match result {
            Err(Error::Refused(r)) => r,
            other => panic!("{case}: expected a refusal, got {other:?}"),
        };
        assert_eq!(refusal.code, expected, "{case}");
        assert_eq!(refusal.kind(), RefusalKind::Invalid, "{case}");
        assert!(
            refusal.message.contains(field),
            "{case}: {}",
            refusal.message
        );
        assert_eq!(snapshot(&f), before, "{case}: the store changed");
    }
    let user = f
        .identity
        .get_user(TENANT, STORE, UserRef::Id(&user_id))
        .expect("user");
    assert_eq!(user.status, UserStatus::Active);
    // The session survived all of that: the honest proof still completes it.
    let answer = f
        .identity
        .complete_passcode_authentication(TENANT, STORE, &start.session_id, honest.request())
        .expect("honest proof after hostile ones");
    honest.verify_server(&answer).expect("M2");
}

#[test]
fn a_wrong_m1_gets_no_m2_consumes_the_session_and_counts() {
    let f = fixture(2);
    let user_id = add_user(&f, "bob");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let start = start_auth(&f, &user_id);
    let pending = client::authenticate(&start, PASSCODE, &mut rng).expect("client");
    let mut m1 = STANDARD
        .decode(&pending.request().srp_verification_data.m1)
        .expect("m1");
    m1[0] ^= 1;
    let tampered = auth_request(
        &pending.request().srp_verification_data.a,
        &STANDARD.encode(&m1),
    );
    let refusal = f
        .identity
        .complete_passcode_authentication(TENANT, STORE, &start.session_id, &tampered)
        .expect_err("tampered M1");
    assert_eq!(refusal.code(), Some(RefusalCode::VerificationFailed));
    assert!(!refusal.to_string().contains("m2\""));
    // The session is gone: the right proof now finds nothing.
    let again = f.identity.complete_passcode_authentication(
        TENANT,
        STORE,
        &start.session_id,
        pending.request(),
    );
    assert_eq!(code_of(again), RefusalCode::SessionNotFound);
    // A wrong passcode is the same as a tampered M1.
    let start = start_auth(&f, &user_id);
    assert_eq!(
        code_of(prove(&f, &start, "Wr0ng-Horse", &mut rng)),
        RefusalCode::VerificationFailed
    );
    let user = f
        .identity
        .get_user(TENANT, STORE, UserRef::Id(&user_id))
        .expect("user");
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(user.lock_count, 0);
    assert_eq!(user.last_successful_authentication_ms, None);
    // The third failure (maxFailedAttempts = 3) locks.
    let start = start_auth(&f, &user_id);
    let refusal = prove(&f, &start, "Wr0ng-Horse", &mut rng).expect_err("third failure");
    assert!(refusal.to_string().contains("now LOCKED"), "{refusal}");
    let user = f
        .identity
        .get_user(TENANT, STORE, UserRef::Id(&user_id))
        .expect("user");
    assert_eq!(user.status, UserStatus::Locked);
    assert_eq!(user.lock_count, 1);
}

#[test]
fn a_success_resets_the_failure_count() {
    let f = fixture(3);
    let user_id = add_user(&f, "carol");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for _ in 0..5 {
        for _ in 0..2 {
            let start = start_auth(&f, &user_id);
            assert_eq!(
                code_of(prove(&f, &start, "nope", &mut rng)),
                RefusalCode::VerificationFailed
            );
        }
        let start = start_auth(&f, &user_id);
        prove(&f, &start, PASSCODE, &mut rng).expect("success after two failures");
    }
    let user = f
        .identity
        .get_user(TENANT, STORE, UserRef::Id(&user_id))
        .expect("user");
    assert_eq!((user.status, user.lock_count), (UserStatus::Active, 0));
}

#[test]
fn a_locked_user_cannot_authenticate_or_renew_until_unlocked() {
    let f = fixture(4);
    let user_id = add_user(&f, "dave");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    // A session opened before the lock cannot be completed after it.
    let early = start_auth(&f, &user_id);
    for _ in 0..3 {
        let start = start_auth(&f, &user_id);
        let _ = prove(&f, &start, "nope", &mut rng);
    }
    let user_ref = UserRef::Id(&user_id);
    let start = f
        .identity
        .start_passcode_authentication(TENANT, STORE, user_ref, POLICY);
    assert_eq!(code_of(start), RefusalCode::UserLocked);
    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, user_ref, POLICY);
    assert_eq!(code_of(renewal), RefusalCode::UserLocked);
    assert_eq!(
        code_of(prove(&f, &early, PASSCODE, &mut rng)),
        RefusalCode::UserLocked
    );
    // The refusal consumed that session as well.
    assert_eq!(
        code_of(prove(&f, &early, PASSCODE, &mut rng)),
        RefusalCode::SessionNotFound
    );

    let unlocked = f
        .identity
        .unlock_user(TENANT, STORE, user_ref)
        .expect("unlock");
    assert_eq!(unlocked.status, UserStatus::Active);
    assert_eq!(unlocked.lock_count, 1, "lockCount survives the unlock");
    let start = start_auth(&f, &user_id);
    prove(&f, &start, PASSCODE, &mut rng).expect("authenticates after unlock");
}

#[test]
fn a_temporary_lock_lapses_by_itself() {
    let f = fixture_with(
        5,
        PasscodePolicy {
            temporary_lock_seconds: 60,
            ..passcode_policy()
        },
        totp_policy(),
    );
    let user_id = add_user(&f, "erin");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for _ in 0..3 {
        let start = start_auth(&f, &user_id);
        let _ = prove(&f, &start, "nope", &mut rng);
    }
    let user_ref = UserRef::Id(&user_id);
    let user = f.identity.get_user(TENANT, STORE, user_ref).expect("user");
    assert_eq!(user.status, UserStatus::TempLocked);
    assert_eq!(
        code_of(
            f.identity
                .start_passcode_authentication(TENANT, STORE, user_ref, POLICY)
        ),
        RefusalCode::UserLocked
    );
    f.advance_ms(59_999);
    assert_eq!(
        f.identity
            .get_user(TENANT, STORE, user_ref)
            .expect("user")
            .status,
        UserStatus::TempLocked
    );
    f.advance_ms(1);
    assert_eq!(
        f.identity
            .get_user(TENANT, STORE, user_ref)
            .expect("user")
            .status,
        UserStatus::Active
    );
    let start = start_auth(&f, &user_id);
    let answer =
        prove(&f, &start, PASSCODE, &mut rng).expect("authenticates after the lock lapsed");
    assert_eq!(answer.user.status, "ACTIVE");
    assert_eq!(answer.user.lock_count, 1);
}

#[test]
fn sessions_are_single_use_expire_and_stay_in_their_store_and_kind() {
    let f = fixture(6);
    let user_id = add_user(&f, "frank");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(6);

    // Reused.
    let start = start_auth(&f, &user_id);
    prove(&f, &start, PASSCODE, &mut rng).expect("first use");
    assert_eq!(
        code_of(prove(&f, &start, PASSCODE, &mut rng)),
        RefusalCode::SessionNotFound
    );

    // Expired: at exactly sessionLifetimeSeconds, and then gone.
    let start = start_auth(&f, &user_id);
    f.advance_ms(300_000);
    assert_eq!(
        code_of(prove(&f, &start, PASSCODE, &mut rng)),
        RefusalCode::SessionExpired
    );
    assert_eq!(
        code_of(prove(&f, &start, PASSCODE, &mut rng)),
        RefusalCode::SessionNotFound
    );
    // Just before the end it still works.
    let start = start_auth(&f, &user_id);
    f.advance_ms(299_999);
    prove(&f, &start, PASSCODE, &mut rng).expect("inside the lifetime");

    // Another store of the same tenant does not see the session.
    f.identity
        .create_store(TENANT, "other")
        .expect("other store");
    let start = start_auth(&f, &user_id);
    let pending = client::authenticate(&start, PASSCODE, &mut rng).expect("client");
    let elsewhere = f.identity.complete_passcode_authentication(
        TENANT,
        "other",
        &start.session_id,
        pending.request(),
    );
    assert_eq!(code_of(elsewhere), RefusalCode::SessionNotFound);
    // An authentication session is not a renewal session.
    let renewal = f.identity.complete_passcode_renewal(
        TENANT,
        STORE,
        &start.session_id,
        &wire::CompletePasscodeRenewalRequest {
            srp_registration_data: wire::SrpRegistrationData {
                verifier: STANDARD.encode([5u8; 256]),
            },
            srp_verification_data: pending.request().srp_verification_data.clone(),
        },
    );
    assert_eq!(code_of(renewal), RefusalCode::SessionNotFound);
    // Still usable where it belongs.
    let answer = f
        .identity
        .complete_passcode_authentication(TENANT, STORE, &start.session_id, pending.request())
        .expect("in its own store");
    pending.verify_server(&answer).expect("M2");
    // Not an ID at all.
    let bogus =
        f.identity
            .complete_passcode_authentication(TENANT, STORE, "../../etc", pending.request());
    assert_eq!(code_of(bogus), RefusalCode::SessionNotFound);
}

#[test]
fn a_renewal_in_between_expires_an_open_authentication_session() {
    let f = fixture(7);
    let user_id = add_user(&f, "gina");
    register(&f, &user_id, PASSCODE);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let open = start_auth(&f, &user_id);
    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start renewal");
    let pending = client::renew(&renewal, PASSCODE, "N3w-Passcode", &mut rng).expect("client");
    f.identity
        .complete_passcode_renewal(TENANT, STORE, &renewal.session_id, pending.request())
        .expect("renewed");
    // The old passcode against a session started before the renewal: refused, not counted.
    assert_eq!(
        code_of(prove(&f, &open, PASSCODE, &mut rng)),
        RefusalCode::SessionExpired
    );
    let start = start_auth(&f, &user_id);
    assert_eq!(
        code_of(prove(&f, &start, PASSCODE, &mut rng)),
        RefusalCode::VerificationFailed
    );
    let start = start_auth(&f, &user_id);
    prove(&f, &start, "N3w-Passcode", &mut rng).expect("the new passcode works");
}

#[test]
fn hostile_verifiers_are_refused_at_registration() {
    let f = fixture(8);
    let user_id = add_user(&f, "hank");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start");
    let n = BigUint::from_bytes_be(srp::n_bytes());
    let table: Vec<(&str, String, RefusalCode)> = vec![
        (
            "v = 0",
            STANDARD.encode([0u8]),
            RefusalCode::InvalidRegistrationData,
        ),
        (
            "v = 1",
            STANDARD.encode([1u8]),
            RefusalCode::InvalidRegistrationData,
        ),
        (
            "v = N",
            STANDARD.encode(n.to_bytes_be()),
            RefusalCode::InvalidRegistrationData,
        ),
        (
            "v too long",
            STANDARD.encode([9u8; 257]),
            RefusalCode::InvalidRegistrationData,
        ),
        ("v not base64", "***".into(), RefusalCode::InvalidEncoding),
    ];
    for (case, verifier, expected) in table {
        let before = snapshot(&f);
        let result = f.identity.complete_passcode_registration(
            TENANT,
            STORE,
            &start.session_id,
            &wire::CompletePasscodeRegistrationRequest {
                srp_registration_data: wire::SrpRegistrationData { verifier },
            },
        );
        let refusal = result.expect_err(case);
        assert_eq!(refusal.code(), Some(expected), "{case}");
        assert!(
            refusal.to_string().contains("srpRegistrationData.verifier"),
            "{case}: {refusal}"
        );
        assert_eq!(snapshot(&f), before, "{case}: the store changed");
    }
    let request = client::register(&start, PASSCODE).expect("register");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("the session is still open for a good verifier");
}
