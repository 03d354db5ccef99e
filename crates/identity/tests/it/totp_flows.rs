//! TOTP through the operations: registration proved by the first code, the Key URI and QR code,
//! Get TOTP, verification accepted once per time step and only within the policy's drift, failed
//! codes counted towards the lock, deregistration.

use crate::common::*;
use idflow_identity::policy::{TotpAlgorithm, TotpPolicy};
use idflow_identity::{client, totp, wire, Error, RefusalCode, UserRef, UserStatus};

fn code_of<T: std::fmt::Debug>(result: Result<T, Error>) -> RefusalCode {
    match result {
        Err(Error::Refused(r)) => r.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A code `steps` time steps away from now for a registration's secret.
fn code_at(f: &Fixture, start: &wire::TotpRegistrationStart, steps: i64) -> String {
    client::totp_code_for_registration(start, f.now() + steps * i64::from(start.period) * 1000)
        .expect("code")
}

fn registered(f: &Fixture, external_id: &str) -> (String, wire::TotpRegistrationStart) {
    let id = add_user(f, external_id);
    let start = f
        .identity
        .start_totp_registration(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY)
        .expect("start");
    let code = code_at(f, &start, 0);
    f.identity
        .complete_totp_registration(TENANT, STORE, &start.session_id, &code)
        .expect("complete");
    (id, start)
}

#[test]
fn registration_answers_the_key_uri_secret_and_qr_code() {
    let f = fixture(20);
    let id = add_user(&f, "alice@example.com");
    let start = f
        .identity
        .start_totp_registration(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY)
        .expect("start");
    let secret = totp::secret_from_base32(&start.secret).expect("base32");
    assert_eq!(secret.len(), 20, "160-bit secret");
    assert!(!start.secret.contains('='));
    assert_eq!(
        start.qr_code_string,
        format!(
            "otpauth://totp/Acme:alice%40example.com?secret={}&issuer=Acme&algorithm=SHA1&digits=6&period=30",
            start.secret
        )
    );
    assert!(start.qr_code_svg.starts_with("<?xml") || start.qr_code_svg.starts_with("<svg"));
    assert!(
        !format!("{start:?}").contains(&start.secret),
        "Debug redacts the secret"
    );
    let json = wire::to_value(&start);
    for key in [
        "sessionId",
        "qrCodeString",
        "secret",
        "issuer",
        "algorithm",
        "digits",
        "period",
        "qrCodeSvg",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    // Not registered until a code proves the device.
    assert_eq!(
        code_of(
            f.identity
                .get_totp(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY)
        ),
        RefusalCode::TotpNotRegistered
    );
    let wrong = f
        .identity
        .complete_totp_registration(TENANT, STORE, &start.session_id, "000000");
    let right = code_at(&f, &start, 0);
    if right != "000000" {
        assert_eq!(code_of(wrong), RefusalCode::InvalidCode);
    }
    let done = f
        .identity
        .complete_totp_registration(TENANT, STORE, &start.session_id, &right)
        .expect("complete");
    assert_eq!(done.user.totp_registrations[0].policy_name, TOTP_POLICY);
    let current = f
        .identity
        .get_totp(
            TENANT,
            STORE,
            UserRef::ExternalId("alice@example.com"),
            TOTP_POLICY,
        )
        .expect("current");
    assert_eq!(current.secret, start.secret);
    assert_eq!(current.qr_code_string, start.qr_code_string);
    assert_eq!(
        (current.digits, current.period, current.algorithm.as_str()),
        (6, 30, "SHA1")
    );
    let again = f
        .identity
        .start_totp_registration(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY);
    assert_eq!(code_of(again), RefusalCode::TotpAlreadyRegistered);
}

#[test]
fn the_registration_code_is_used_and_codes_are_accepted_once() {
    let f = fixture(21);
    let (id, start) = registered(&f, "bob");
    let user = UserRef::Id(&id);
    // The registration's own code cannot be replayed.
    let replay = f
        .identity
        .verify_totp(TENANT, STORE, user, TOTP_POLICY, &code_at(&f, &start, 0));
    assert_eq!(code_of(replay), RefusalCode::InvalidCode);
    f.advance_ms(30_000);
    let code = code_at(&f, &start, 0);
    let ok = f
        .identity
        .verify_totp(TENANT, STORE, user, TOTP_POLICY, &code)
        .expect("fresh code");
    assert!(ok.user.last_successful_authentication.is_some());
    let replay = f
        .identity
        .verify_totp(TENANT, STORE, user, TOTP_POLICY, &code);
    assert_eq!(code_of(replay), RefusalCode::InvalidCode);
    // An older code still inside the drift window is refused once a later one was accepted.
    let older = code_at(&f, &start, -1);
    assert_eq!(
        code_of(
            f.identity
                .verify_totp(TENANT, STORE, user, TOTP_POLICY, &older)
        ),
        RefusalCode::InvalidCode
    );
    // The next step's code (drift 1) is fine, once.
    let next = code_at(&f, &start, 1);
    f.identity
        .verify_totp(TENANT, STORE, user, TOTP_POLICY, &next)
        .expect("next step");
    assert_eq!(
        code_of(
            f.identity
                .verify_totp(TENANT, STORE, user, TOTP_POLICY, &next)
        ),
        RefusalCode::InvalidCode
    );
}

#[test]
fn drift_is_accepted_only_within_the_policy() {
    // Table: (policy drift, offset in steps, accepted?)
    let table: &[(u32, i64, bool)] = &[
        (0, 0, true),
        (0, -1, false),
        (0, 1, false),
        (1, -1, true),
        (1, 1, true),
        (1, -2, false),
        (1, 2, false),
        (2, -2, true),
        (2, 2, true),
        (2, 3, false),
    ];
    for (i, (drift, offset, accepted)) in table.iter().enumerate() {
        let f = fixture_with(
            30 + i as u64,
            passcode_policy(),
            TotpPolicy {
                accepted_drift_steps: *drift,
                ..totp_policy()
            },
        );
        let (id, start) = registered(&f, "drifter");
        // Well past the registration step, so only drift decides.
        f.advance_ms(10 * 30_000);
        let code = code_at(&f, &start, *offset);
        let result = f
            .identity
            .verify_totp(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY, &code);
        if *accepted {
            result.unwrap_or_else(|e| panic!("drift {drift}, offset {offset}: {e}"));
        } else {
            // A neighbouring step can share the code by chance (1 in a million): skip then.
            let current = code_at(&f, &start, 0);
            if code != current {
                assert_eq!(
                    code_of(result),
                    RefusalCode::InvalidCode,
                    "drift {drift}, offset {offset}"
                );
            }
        }
    }
}

#[test]
fn failed_codes_lock_and_deregistration_removes() {
    let f = fixture(22);
    let (id, start) = registered(&f, "carol");
    let user = UserRef::Id(&id);
    f.advance_ms(60_000);
    let good = code_at(&f, &start, 0);
    let bad = if good == "123456" { "654321" } else { "123456" };
    for (attempt, malformed) in ["12345", "abcdef", ""].into_iter().enumerate() {
        let refusal = f
            .identity
            .verify_totp(TENANT, STORE, user, TOTP_POLICY, malformed)
            .expect_err(malformed);
        assert_eq!(
            refusal.code(),
            Some(RefusalCode::InvalidCode),
            "{malformed:?}"
        );
        assert_eq!(
            refusal.to_string().contains("now LOCKED"),
            attempt == 2,
            "{refusal}"
        );
    }
    // maxFailedAttempts = 3: the third failure locked the user.
    let state = f.identity.get_user(TENANT, STORE, user).expect("user");
    assert_eq!(state.status, UserStatus::Locked);
    assert_eq!(state.lock_count, 1);
    assert_eq!(
        code_of(
            f.identity
                .verify_totp(TENANT, STORE, user, TOTP_POLICY, &good)
        ),
        RefusalCode::UserLocked
    );
    f.identity.unlock_user(TENANT, STORE, user).expect("unlock");
    assert_eq!(
        code_of(
            f.identity
                .verify_totp(TENANT, STORE, user, TOTP_POLICY, bad)
        ),
        RefusalCode::InvalidCode
    );
    f.identity
        .verify_totp(TENANT, STORE, user, TOTP_POLICY, &good)
        .expect("good code after unlock");
    let after = f
        .identity
        .deregister_totp(TENANT, STORE, user, TOTP_POLICY)
        .expect("deregister");
    assert!(after.user.totp_registrations.is_empty());
    assert_eq!(
        code_of(
            f.identity
                .verify_totp(TENANT, STORE, user, TOTP_POLICY, &good)
        ),
        RefusalCode::TotpNotRegistered
    );
    assert_eq!(
        code_of(f.identity.deregister_totp(TENANT, STORE, user, TOTP_POLICY)),
        RefusalCode::TotpNotRegistered
    );
}

#[test]
fn a_registration_session_closes_after_five_wrong_codes_and_expires() {
    let f = fixture(23);
    let id = add_user(&f, "dan");
    let start = f
        .identity
        .start_totp_registration(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY)
        .expect("start");
    let good = code_at(&f, &start, 0);
    let bad = if good == "111111" { "222222" } else { "111111" };
    for attempt in 1..=5 {
        let result = f
            .identity
            .complete_totp_registration(TENANT, STORE, &start.session_id, bad);
        let refusal = result.expect_err("wrong code");
        assert_eq!(refusal.code(), Some(RefusalCode::InvalidCode));
        assert_eq!(
            refusal.to_string().contains("closed"),
            attempt == 5,
            "attempt {attempt}"
        );
    }
    assert_eq!(
        code_of(
            f.identity
                .complete_totp_registration(TENANT, STORE, &start.session_id, &good)
        ),
        RefusalCode::SessionNotFound
    );
    let start = f
        .identity
        .start_totp_registration(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY)
        .expect("start again");
    f.advance_ms(300_000);
    let late = code_at(&f, &start, 0);
    assert_eq!(
        code_of(
            f.identity
                .complete_totp_registration(TENANT, STORE, &start.session_id, &late)
        ),
        RefusalCode::SessionExpired
    );
}

#[test]
fn sha256_and_sha512_policies_with_eight_digits() {
    for (i, algorithm) in [TotpAlgorithm::Sha256, TotpAlgorithm::Sha512]
        .into_iter()
        .enumerate()
    {
        let f = fixture_with(
            40 + i as u64,
            passcode_policy(),
            TotpPolicy {
                algorithm,
                digits: 8,
                period_seconds: 60,
                ..totp_policy()
            },
        );
        let (id, start) = registered(&f, "eve");
        assert!(start
            .qr_code_string
            .contains(&format!("algorithm={algorithm}&digits=8&period=60")));
        f.advance_ms(60_000);
        let code = code_at(&f, &start, 0);
        assert_eq!(code.len(), 8);
        f.identity
            .verify_totp(TENANT, STORE, UserRef::Id(&id), TOTP_POLICY, &code)
            .expect("verifies");
    }
}
