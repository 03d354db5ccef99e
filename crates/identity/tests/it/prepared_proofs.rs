//! SRP keys prepared before the transaction (`ops::prepare_passcode_proof`): a completion uses
//! them only when they were computed from the session, verifier and `A` it reads itself, so a
//! stale or mismatched preparation can neither let a wrong passcode in nor lock a right one out,
//! and a session still completes once. And the server's `g^b` computed before a session starts
//! (`Entropy::with_server_ephemeral`): each session its own `b`, its `B` the one that `b` makes.

use crate::common::*;
use idflow_identity::client;
use idflow_identity::ops::{self, Entropy, PreparedProof};
use idflow_identity::srp;
use idflow_identity::{wire, OpResult, RefusalCode, UserRef};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const PASSCODE: &str = "Secret#1a";

fn registered_user(f: &Fixture) -> String {
    let user = add_user(f, "prepared-person");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user), POLICY)
        .expect("start registration");
    let request = client::register(&start, PASSCODE).expect("client");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("registered");
    user
}

fn started(
    f: &Fixture,
    user: &str,
    passcode: &str,
    rng: &mut ChaCha20Rng,
) -> (
    wire::PasscodeSessionStart,
    client::PendingProof<wire::CompletePasscodeAuthenticationRequest>,
) {
    let start = f
        .identity
        .start_passcode_authentication(TENANT, STORE, UserRef::Id(user), POLICY)
        .expect("start authentication");
    let pending = client::authenticate(&start, passcode, rng).expect("client");
    (start, pending)
}

fn prepare(
    f: &Fixture,
    start: &wire::PasscodeSessionStart,
    pending: &client::PendingProof<wire::CompletePasscodeAuthenticationRequest>,
) -> PreparedProof {
    ops::prepare_passcode_proof(
        f.identity.store(),
        TENANT,
        STORE,
        &start.session_id,
        &pending.request().srp_verification_data,
    )
    .expect("a proof session with a registered passcode is prepared")
}

fn complete(
    f: &Fixture,
    start: &wire::PasscodeSessionStart,
    pending: &client::PendingProof<wire::CompletePasscodeAuthenticationRequest>,
    prepared: &PreparedProof,
) -> OpResult<wire::PasscodeProofResponse> {
    let now = f.now();
    f.identity.store().commit(|tx| {
        ops::complete_passcode_authentication_prepared(
            tx,
            TENANT,
            STORE,
            &start.session_id,
            pending.request(),
            now,
            Some(prepared),
        )
    })
}

#[test]
fn prepared_keys_serve_only_the_exchange_they_were_computed_for() {
    let f = fixture(71);
    let mut rng = ChaCha20Rng::seed_from_u64(72);
    let user = registered_user(&f);
    let (start1, pending1) = started(&f, &user, PASSCODE, &mut rng);
    let (start2, pending2) = started(&f, &user, PASSCODE, &mut rng);
    let prepared1 = prepare(&f, &start1, &pending1);

    // Handed to another session's completion, the keys are not used: it computes its own and
    // the right passcode is accepted (had they been used, M1 would not match).
    let answer = complete(&f, &start2, &pending2, &prepared1)
        .expect("no failure")
        .expect("the right passcode is accepted");
    pending2.verify_server(&answer).expect("M2 of session 2");

    // For their own session they are the keys, and the session completes once.
    let answer = complete(&f, &start1, &pending1, &prepared1)
        .expect("no failure")
        .expect("accepted");
    pending1.verify_server(&answer).expect("M2 of session 1");
    let again = complete(&f, &start1, &pending1, &prepared1).expect("no failure");
    assert_eq!(
        again.expect_err("a session completes once").code,
        RefusalCode::SessionNotFound
    );
}

#[test]
fn prepared_keys_let_no_wrong_passcode_in_and_go_stale_with_the_passcode() {
    let f = fixture(73);
    let mut rng = ChaCha20Rng::seed_from_u64(74);
    let user = registered_user(&f);

    let (start, wrong) = started(&f, &user, "Wrong#1pass", &mut rng);
    let prepared = prepare(&f, &start, &wrong);
    let refused = complete(&f, &start, &wrong, &prepared).expect("no failure");
    assert_eq!(
        refused.expect_err("a wrong passcode").code,
        RefusalCode::VerificationFailed
    );

    // Keys prepared before the passcode changed are not used after: the session is stale.
    let (start, pending) = started(&f, &user, PASSCODE, &mut rng);
    let prepared = prepare(&f, &start, &pending);
    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, UserRef::Id(&user), POLICY)
        .expect("start renewal");
    let renewing = client::renew(&renewal, PASSCODE, "Other#2pass", &mut rng).expect("client");
    f.identity
        .complete_passcode_renewal(TENANT, STORE, &renewal.session_id, renewing.request())
        .expect("renewed");
    let stale = complete(&f, &start, &pending, &prepared).expect("no failure");
    assert_eq!(
        stale.expect_err("the passcode changed").code,
        RefusalCode::SessionExpired
    );
}

#[test]
fn nothing_is_prepared_for_what_a_completion_would_refuse() {
    let f = fixture(75);
    let mut rng = ChaCha20Rng::seed_from_u64(76);
    let user = registered_user(&f);
    let (start, pending) = started(&f, &user, PASSCODE, &mut rng);
    let data = &pending.request().srp_verification_data;
    let store = f.identity.store();
    assert!(ops::prepare_passcode_proof(store, TENANT, STORE, "not-an-id", data).is_none());
    let unknown = idflow_identity::new_id(&mut rng);
    assert!(ops::prepare_passcode_proof(store, TENANT, STORE, &unknown, data).is_none());
    let hostile = wire::SrpVerificationData {
        a: "AA==".into(),
        m1: data.m1.clone(),
    };
    assert!(
        ops::prepare_passcode_proof(store, TENANT, STORE, &start.session_id, &hostile).is_none()
    );
    assert!(ops::prepare_passcode_proof(store, TENANT, STORE, &start.session_id, data).is_some());
}

/// `B` of a start answer, decoded.
fn server_public(start: &wire::PasscodeSessionStart) -> Vec<u8> {
    let text = start.algorithm_info.parameters.server_public_key.as_deref();
    idflow_identity::base64_wire::decode_lenient(text.expect("B in the answer")).expect("base64")
}

/// A full authentication of `start` with the right passcode: the server accepts `M1` (so its
/// `S`, from the `b` it stored, matches the client's, from `B`) and the client accepts `M2`.
fn authenticates(f: &Fixture, start: &wire::PasscodeSessionStart, rng: &mut ChaCha20Rng) {
    let pending = client::authenticate(start, PASSCODE, rng).expect("client");
    let answer = f
        .identity
        .complete_passcode_authentication(TENANT, STORE, &start.session_id, pending.request())
        .expect("the right passcode is accepted");
    pending.verify_server(&answer).expect("M2 verifies");
}

#[test]
fn sessions_on_the_identity_route_each_draw_their_own_b_computed_before_the_commit() {
    let f = fixture(77);
    let mut rng = ChaCha20Rng::seed_from_u64(78);
    let user = registered_user(&f);
    let (first, _) = started(&f, &user, PASSCODE, &mut rng);
    let (second, _) = started(&f, &user, PASSCODE, &mut rng);
    assert_ne!(first.session_id, second.session_id);
    assert_ne!(
        server_public(&first),
        server_public(&second),
        "two sessions never share b"
    );
    authenticates(&f, &second, &mut rng);
    authenticates(&f, &first, &mut rng);

    // Renewal starts the same way: its B serves the old passcode's proof.
    let renewal = f
        .identity
        .start_passcode_renewal(TENANT, STORE, UserRef::Id(&user), POLICY)
        .expect("start renewal");
    assert_ne!(server_public(&renewal), server_public(&first));
    let renewing = client::renew(&renewal, PASSCODE, "Other#2pass", &mut rng).expect("client");
    let answer = f
        .identity
        .complete_passcode_renewal(TENANT, STORE, &renewal.session_id, renewing.request())
        .expect("renewed");
    renewing.verify_server(&answer).expect("M2 verifies");
}

#[test]
fn a_session_b_is_k_v_plus_g_to_the_b_whether_g_to_the_b_was_computed_before_or_inside() {
    let f = fixture(79);
    let mut rng = ChaCha20Rng::seed_from_u64(80);
    let user = add_user(&f, "ephemeral-person");
    let start = f
        .identity
        .start_passcode_registration(TENANT, STORE, UserRef::Id(&user), POLICY)
        .expect("start registration");
    let request = client::register(&start, PASSCODE).expect("client");
    let verifier =
        idflow_identity::base64_wire::decode_lenient(&request.srp_registration_data.verifier)
            .expect("base64");
    f.identity
        .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
        .expect("registered");

    let mut starts = Vec::new();
    for (seed, prepared) in [(81u8, true), (82, false)] {
        let entropy = Entropy::from_bytes([seed; Entropy::LEN]);
        let entropy = if prepared {
            entropy.with_server_ephemeral()
        } else {
            entropy
        };
        assert_eq!(entropy.has_server_ephemeral(), prepared);
        let now = f.now();
        let start = f
            .identity
            .store()
            .commit(|tx| {
                ops::start_passcode_authentication(
                    tx,
                    TENANT,
                    STORE,
                    UserRef::Id(&user),
                    POLICY,
                    now,
                    &entropy,
                )
            })
            .expect("no failure")
            .expect("started");
        // b is bytes 32..64 of the entropy.
        let expected = srp::server_public(&verifier, &[seed; 32]).expect("B");
        assert_eq!(server_public(&start), expected, "prepared: {prepared}");
        starts.push(start);
    }
    for start in &starts {
        authenticates(&f, start, &mut rng);
    }
}
