//! Races: many threads adding users with one external ID, completing one session, or failing
//! proofs at once. Each must come out as if the operations ran one after another.

use std::sync::{Arc, Barrier};
use std::thread;

use crate::common::*;
use idflow_identity::policy::PasscodePolicy;
use idflow_identity::{client, Error, Identity, RefusalCode, UserRef, UserStatus};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const THREADS: usize = 64;

/// Runs `work` on THREADS threads released together; returns their results in thread order.
fn race<T: Send + 'static>(work: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(THREADS));
    let work = Arc::new(work);
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let barrier = barrier.clone();
            let work = work.clone();
            thread::spawn(move || {
                barrier.wait();
                work(i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

fn codes<T>(results: &[Result<T, Error>]) -> (usize, Vec<Option<RefusalCode>>) {
    let successes = results.iter().filter(|r| r.is_ok()).count();
    let refusals = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.code())
        .collect();
    (successes, refusals)
}

#[test]
fn sixty_four_adds_with_one_external_id_yield_exactly_one_user() {
    // On disk, so every add goes through the durable commit path.
    let dir = tempfile::tempdir().expect("tempdir");
    let identity = Arc::new(identity_over(
        idflow_pgtest::store_at(dir.path()),
        60,
        Arc::new(idflow_clock::ManualClock::new(START_MS)),
    ));
    identity.create_store(TENANT, STORE).expect("store");
    let shared = identity.clone();
    let results = race(move |_| shared.add_user(TENANT, STORE, "same-person", UserStatus::Active));
    let (successes, refusals) = codes(&results);
    assert_eq!(successes, 1);
    assert_eq!(refusals.len(), THREADS - 1);
    assert!(
        refusals
            .iter()
            .all(|c| *c == Some(RefusalCode::ExtIdNotUnique)),
        "{refusals:?}"
    );
    let page = identity.list_users(TENANT, STORE, None, 100).expect("list");
    assert_eq!(page.users.len(), 1);
    let winner = results
        .iter()
        .find_map(|r| r.as_ref().ok())
        .expect("winner");
    assert_eq!(page.users[0].id, winner.id);
    let by_ext = identity
        .get_user(TENANT, STORE, UserRef::ExternalId("same-person"))
        .expect("by external ID");
    assert_eq!(by_ext.id, winner.id);
}

#[test]
fn sixty_four_completions_of_one_session_yield_exactly_one_success() {
    let f = fixture(61);
    let user_id = add_user(&f, "racer");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start registration");
    let registration = client::register(&start, "Rac3-condition").expect("client");
    let identity = Arc::new(f.identity);
    let shared = identity.clone();
    let session = start.session_id.clone();
    let results = race(move |_| {
        shared.complete_passcode_registration(TENANT, STORE, &session, &registration)
    });
    let (successes, refusals) = codes(&results);
    assert_eq!(successes, 1, "registration");
    assert!(
        refusals
            .iter()
            .all(|c| *c == Some(RefusalCode::SessionNotFound)),
        "{refusals:?}"
    );

    let start = identity
        .start_passcode_authentication(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start authentication");
    let mut rng = ChaCha20Rng::seed_from_u64(61);
    let pending =
        Arc::new(client::authenticate(&start, "Rac3-condition", &mut rng).expect("client"));
    let shared = identity.clone();
    let proof = pending.clone();
    let session = start.session_id.clone();
    let results = race(move |_| {
        shared.complete_passcode_authentication(TENANT, STORE, &session, proof.request())
    });
    let (successes, refusals) = codes(&results);
    assert_eq!(successes, 1, "authentication");
    assert!(
        refusals
            .iter()
            .all(|c| *c == Some(RefusalCode::SessionNotFound)),
        "{refusals:?}"
    );
    let answer = results
        .iter()
        .find_map(|r| r.as_ref().ok())
        .expect("the success");
    pending.verify_server(answer).expect("its M2 verifies");
}

#[test]
fn concurrent_failures_are_all_counted() {
    let f = fixture_with(
        62,
        PasscodePolicy {
            max_failed_attempts: 8,
            ..passcode_policy()
        },
        totp_policy(),
    );
    let user_id = add_user(&f, "target");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user_id), POLICY)
        .expect("start registration");
    let request = client::register(&start, "R1ght-passcode").expect("client");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("registered");
    // One session and one wrong proof per thread, prepared before the race.
    let mut rng = ChaCha20Rng::seed_from_u64(62);
    let attempts: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = f
                .identity
                .start_passcode_authentication(TENANT, STORE, UserRef::Id(&user_id), POLICY)
                .expect("start");
            let pending = client::authenticate(&start, "Wr0ng-passcode", &mut rng).expect("client");
            (start.session_id, pending.request().clone())
        })
        .collect();
    let identity = Arc::new(f.identity);
    let shared = identity.clone();
    let attempts = Arc::new(attempts);
    let results = race(move |i| {
        let (session, request) = &attempts[i];
        shared.complete_passcode_authentication(TENANT, STORE, session, request)
    });
    let (successes, refusals) = codes(&results);
    assert_eq!(successes, 0);
    let failed = refusals
        .iter()
        .filter(|c| **c == Some(RefusalCode::VerificationFailed))
        .count();
    let locked = refusals
        .iter()
        .filter(|c| **c == Some(RefusalCode::UserLocked))
        .count();
    assert_eq!(
        (failed, locked),
        (8, THREADS - 8),
        "no lost or extra counts: {refusals:?}"
    );
    let user = identity
        .get_user(TENANT, STORE, UserRef::Id(&user_id))
        .expect("user");
    assert_eq!((user.status, user.lock_count), (UserStatus::Locked, 1));
}

#[test]
fn identity_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Identity>();
}
