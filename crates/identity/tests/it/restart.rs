//! Restart: everything written before the store is closed is there after it is reopened, and
//! flows started before the restart complete after it.

use std::sync::Arc;

use crate::common::*;
use idflow_identity::{client, UserRef, UserStatus};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

#[test]
fn data_written_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(idflow_clock::ManualClock::new(START_MS));
    let mut rng = ChaCha20Rng::seed_from_u64(70);

    let (alice, bob, carol, open_session, pending, totp_start, users_before) = {
        let identity = identity_over(idflow_pgtest::store_at(dir.path()), 70, clock.clone());
        identity.create_store(TENANT, STORE).expect("store");
        identity
            .create_passcode_policy(TENANT, STORE, &passcode_policy())
            .expect("policy");
        identity
            .create_totp_policy(TENANT, STORE, &totp_policy())
            .expect("totp policy");
        let alice = identity
            .add_user(TENANT, STORE, "alice", UserStatus::Active)
            .expect("alice")
            .id;
        let bob = identity
            .add_user(TENANT, STORE, "bob", UserStatus::Active)
            .expect("bob")
            .id;
        let carol = identity
            .add_user(TENANT, STORE, "carol", UserStatus::PendingActive)
            .expect("carol")
            .id;
        let start = identity
            .start_passcode_registration(TENANT, STORE, UserRef::Id(&alice), POLICY)
            .expect("start");
        let request = client::register(&start, "Bef0re-restart").expect("client");
        identity
            .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
            .expect("registered");
        let totp_start = identity
            .start_totp_registration(TENANT, STORE, UserRef::Id(&bob), TOTP_POLICY)
            .expect("totp start");
        let code = client::totp_code_for_registration(&totp_start, START_MS).expect("code");
        identity
            .complete_totp_registration(TENANT, STORE, &totp_start.session_id, &code)
            .expect("totp registered");
        identity
            .set_user_status(TENANT, STORE, UserRef::Id(&carol), UserStatus::Locked)
            .expect("lock carol");
        // An authentication left open across the restart.
        let open = identity
            .start_passcode_authentication(TENANT, STORE, UserRef::Id(&alice), POLICY)
            .expect("open session");
        let pending = client::authenticate(&open, "Bef0re-restart", &mut rng).expect("client");
        let users = identity.list_users(TENANT, STORE, None, 10).expect("users");
        (alice, bob, carol, open, pending, totp_start, users)
        // `identity` and its store are dropped here.
    };

    let identity = identity_over(idflow_pgtest::store_at(dir.path()), 71, clock.clone());
    assert_eq!(
        identity
            .list_stores(TENANT)
            .expect("stores")
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
        vec![STORE.to_string()]
    );
    assert_eq!(
        identity
            .get_passcode_policy(TENANT, STORE, POLICY)
            .expect("policy"),
        passcode_policy()
    );
    assert_eq!(
        identity
            .get_totp_policy(TENANT, STORE, TOTP_POLICY)
            .expect("totp"),
        totp_policy()
    );
    assert_eq!(
        identity.list_users(TENANT, STORE, None, 10).expect("users"),
        users_before
    );
    assert_eq!(
        identity
            .get_user(TENANT, STORE, UserRef::ExternalId("carol"))
            .expect("carol")
            .status,
        UserStatus::Locked
    );
    assert_eq!(
        identity
            .get_user(TENANT, STORE, UserRef::Id(&carol))
            .expect("carol")
            .id,
        carol
    );

    // The session opened before the restart completes after it.
    let answer = identity
        .complete_passcode_authentication(
            TENANT,
            STORE,
            &open_session.session_id,
            pending.request(),
        )
        .expect("completes after restart");
    pending.verify_server(&answer).expect("M2");
    // And the passcode registered before works in a fresh session.
    let start = identity
        .start_passcode_authentication(TENANT, STORE, UserRef::Id(&alice), POLICY)
        .expect("start");
    let pending = client::authenticate(&start, "Bef0re-restart", &mut rng).expect("client");
    identity
        .complete_passcode_authentication(TENANT, STORE, &start.session_id, pending.request())
        .expect("authenticates");
    // TOTP: same secret, and the step used before the restart stays used.
    let current = identity
        .get_totp(TENANT, STORE, UserRef::Id(&bob), TOTP_POLICY)
        .expect("current totp");
    assert_eq!(current.secret, totp_start.secret);
    let used = client::totp_code_for_current(&current, START_MS).expect("code");
    assert!(identity
        .verify_totp(TENANT, STORE, UserRef::Id(&bob), TOTP_POLICY, &used)
        .is_err());
    let next = client::totp_code_for_current(&current, START_MS + 30_000).expect("code");
    identity
        .verify_totp(TENANT, STORE, UserRef::Id(&bob), TOTP_POLICY, &next)
        .expect("next step verifies");
}
