//! Passcode operations (SRP-6a): registration, authentication, renewal and deregistration.

use std::fmt;

use idflow_store::{Store, Tx};
use subtle::ConstantTimeEq;

use super::common::{
    activate_if_pending, corrupt, decode_field, ensure_may_authenticate, ensure_not_disabled,
    expires_at, load_passcode_policy, load_store, open_session, record_failure, record_success,
    remove_session, resolve_user, save_user, settle_status, srp_refusal, to_user,
};
use super::Entropy;
use crate::encoding;
use crate::error::{refuse, OpResult, Refusal, RefusalCode, Step};
use crate::model::UserRef;
use crate::policy::PasscodePolicy;
use crate::records::{
    self, Bytes, CurrentVerifierRecord, PasscodeCredentialRecord, SessionKind, SessionRecord,
    UserRecord,
};
use crate::srp::{self};
use crate::wire;

fn session_start_answer(
    policy: &PasscodePolicy,
    user_id: &str,
    salt: &[u8],
    server_public: Option<&[u8]>,
    session_id: String,
) -> wire::PasscodeSessionStart {
    wire::PasscodeSessionStart {
        passcode_requirements: wire::PasscodeRequirements::from(&policy.requirements),
        algorithm_info: wire::AlgorithmInfo {
            kind: srp::ALGORITHM_TYPE.to_string(),
            parameters: wire::SrpParameters {
                i: user_id.to_string(),
                n: encoding::encode_standard(srp::n_bytes()),
                g: srp::GENERATOR,
                hash_algorithm: srp::HASH_ALGORITHM.to_string(),
                salt: encoding::encode_url(salt),
                server_public_key: server_public.map(encoding::encode_standard),
            },
        },
        session_id,
    }
}

/// The failed-attempt counter of a passcode policy.
fn passcode_counter(policy: &str) -> String {
    format!("passcode/{policy}")
}

/// Starts a passcode registration: a session with the salt to use (the user's salt for this
/// policy if it ever had one, else a new one from `entropy`), answered with the requirements.
///
/// Refusals: store/user/policy lookups, `USER_DISABLED`, `PASSCODE_ALREADY_REGISTERED`.
pub fn start_passcode_registration(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
    entropy: &Entropy,
) -> OpResult<wire::PasscodeSessionStart> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let policy = load_passcode_policy(tx, tenant, store, policy_name)?;
        let record = resolve_user(tx, tenant, store, user)?;
        ensure_not_disabled(&record, now_ms)?;
        let existing = record.passcodes.get(policy_name);
        if existing.is_some_and(|c| c.current.is_some()) {
            return refuse(
                RefusalCode::PasscodeAlreadyRegistered,
                format!(
                    "user {} already has a passcode under policy {policy_name:?}",
                    record.id
                ),
            );
        }
        let salt = existing
            .map(|c| c.salt.0.clone())
            .unwrap_or_else(|| entropy.salt());
        let session_id = entropy.id();
        let session = SessionRecord {
            kind: SessionKind::PasscodeRegistration,
            user_id: record.id.clone(),
            policy_name: policy_name.to_string(),
            created_at_ms: now_ms,
            expires_at_ms: expires_at(now_ms, policy.session_lifetime_seconds),
            salt: Some(Bytes(salt.clone())),
            ephemeral: None,
            server_public: None,
            generation: None,
            totp_secret: None,
            failed_codes: 0,
        };
        tx.put_record(&records::session_key(tenant, store, &session_id), &session)?;
        Ok(session_start_answer(
            &policy, &record.id, &salt, None, session_id,
        ))
    })())
}

/// Whether `verifier` equals the current verifier or one of the last `keep` previous ones
/// (compared in constant time).
fn in_history(credential: &PasscodeCredentialRecord, verifier: &[u8], keep: u32) -> bool {
    let mut found = false;
    let candidates = credential
        .current
        .iter()
        .map(|c| &c.verifier)
        .chain(credential.history.iter().take(keep as usize));
    for stored in candidates {
        found |= stored.0.len() == verifier.len() && bool::from(stored.0.ct_eq(verifier));
    }
    found
}

/// Completes a registration with the client's verifier, stored with the session's salt.
///
/// Malformed data is refused with nothing changed (`INVALID_ENCODING`, `INVALID_REGISTRATION_DATA`)
/// and the session stays open; any other outcome closes the session. Refusals also:
/// `SESSION_NOT_FOUND`, `SESSION_EXPIRED`, `USER_NOT_FOUND`, `POLICY_NOT_FOUND`, `USER_DISABLED`,
/// `PASSCODE_ALREADY_REGISTERED`, `PASSCODE_IN_HISTORY` (a re-registration after deregistration
/// meets the same history).
pub fn complete_passcode_registration(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    request: &wire::CompletePasscodeRegistrationRequest,
    now_ms: i64,
) -> OpResult<wire::UserEnvelope> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let session = open_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::PasscodeRegistration,
            now_ms,
        )?;
        let raw = decode_field(
            "srpRegistrationData.verifier",
            &request.srp_registration_data.verifier,
        )?;
        let verifier = srp::check_verifier(&raw).map_err(|e| {
            srp_refusal(
                RefusalCode::InvalidRegistrationData,
                "srpRegistrationData.verifier",
                e,
            )
        })?;
        // From here on the session is used up, whatever the outcome.
        remove_session(tx, tenant, store, session_id)?;
        let policy = load_passcode_policy(tx, tenant, store, &session.policy_name)?;
        let mut user = resolve_user(tx, tenant, store, UserRef::Id(&session.user_id))?;
        ensure_not_disabled(&user, now_ms)?;
        let salt = session.salt.clone().ok_or_else(|| {
            corrupt(
                format!("session {}", idflow_ids::log_tag(session_id)),
                "registration session without a salt",
            )
        })?;
        let generation = match user.passcodes.get(&session.policy_name) {
            Some(existing) if existing.current.is_some() => {
                return refuse(
                    RefusalCode::PasscodeAlreadyRegistered,
                    format!(
                        "user {} already has a passcode under policy {:?}",
                        user.id, session.policy_name
                    ),
                );
            }
            Some(existing) if existing.salt != salt => {
                return refuse(
                    RefusalCode::SessionExpired,
                    format!("session {session_id:?} was started before the user's salt for policy {:?} was fixed; start again", session.policy_name),
                );
            }
            Some(existing) => {
                if in_history(existing, &verifier, policy.requirements.passcode_history) {
                    return refuse(
                        RefusalCode::PasscodeInHistory,
                        format!(
                            "the passcode was used before under policy {:?}; choose another",
                            session.policy_name
                        ),
                    );
                }
                existing.generation.saturating_add(1)
            }
            None => 1,
        };
        settle_status(&mut user, now_ms)?;
        activate_if_pending(&mut user)?;
        let history = user
            .passcodes
            .get(&session.policy_name)
            .map(|c| c.history.clone())
            .unwrap_or_default();
        user.passcodes.insert(
            session.policy_name.clone(),
            PasscodeCredentialRecord {
                salt,
                current: Some(CurrentVerifierRecord {
                    verifier: Bytes(verifier),
                    registered_at_ms: now_ms,
                    renewed_at_ms: None,
                }),
                history,
                generation,
            },
        );
        user.failed_attempts
            .remove(&passcode_counter(&session.policy_name));
        save_user(tx, tenant, store, &user)?;
        Ok(wire::UserEnvelope {
            user: wire::User::from(&to_user(&user, now_ms)?),
        })
    })())
}

/// Where an operation acts: its transaction, tenant and store.
#[derive(Clone, Copy)]
struct Place<'a, 't> {
    tx: &'a Tx<'t>,
    tenant: &'a str,
    store: &'a str,
}

fn start_proof_session(
    place: Place<'_, '_>,
    user: UserRef<'_>,
    policy_name: &str,
    kind: SessionKind,
    now_ms: i64,
    entropy: &Entropy,
) -> Result<wire::PasscodeSessionStart, Step> {
    let Place { tx, tenant, store } = place;
    load_store(tx, tenant, store)?;
    let policy = load_passcode_policy(tx, tenant, store, policy_name)?;
    let record = resolve_user(tx, tenant, store, user)?;
    ensure_may_authenticate(&record, now_ms)?;
    let credential = record.passcodes.get(policy_name);
    let Some((credential, current)) =
        credential.and_then(|c| c.current.as_ref().map(|current| (c, current)))
    else {
        return refuse(
            RefusalCode::PasscodeNotRegistered,
            format!(
                "user {} has no passcode under policy {policy_name:?}",
                record.id
            ),
        );
    };
    // `g^b` was computed before the transaction when the caller prepared `entropy`.
    let ephemeral = entropy
        .server_ephemeral()
        .and_then(|e| e.server_public(&current.verifier.0).map(|b_pub| (e, b_pub)));
    let (ephemeral, server_public) =
        ephemeral.map_err(|e| corrupt(format!("verifier of user {}", record.id), e.to_string()))?;
    let b = ephemeral.b().to_vec();
    let session_id = entropy.id();
    let session = SessionRecord {
        kind,
        user_id: record.id.clone(),
        policy_name: policy_name.to_string(),
        created_at_ms: now_ms,
        expires_at_ms: expires_at(now_ms, policy.session_lifetime_seconds),
        salt: None,
        ephemeral: Some(Bytes(b)),
        server_public: Some(Bytes(server_public.clone())),
        generation: Some(credential.generation),
        totp_secret: None,
        failed_codes: 0,
    };
    tx.put_record(&records::session_key(tenant, store, &session_id), &session)?;
    Ok(session_start_answer(
        &policy,
        &record.id,
        &credential.salt.0,
        Some(&server_public),
        session_id,
    ))
}

/// Starts a passcode authentication: `B` from a fresh `b` (from `entropy`), kept in the session.
///
/// Refusals: store/user/policy lookups, `USER_LOCKED`, `USER_DISABLED`, `PASSCODE_NOT_REGISTERED`.
pub fn start_passcode_authentication(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
    entropy: &Entropy,
) -> OpResult<wire::PasscodeSessionStart> {
    Step::split(start_proof_session(
        Place { tx, tenant, store },
        user,
        policy_name,
        SessionKind::PasscodeAuthentication,
        now_ms,
        entropy,
    ))
}

/// Starts a passcode renewal: as an authentication, answered with the requirements the new
/// passcode must meet. Refusals as [`start_passcode_authentication`].
pub fn start_passcode_renewal(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
    entropy: &Entropy,
) -> OpResult<wire::PasscodeSessionStart> {
    Step::split(start_proof_session(
        Place { tx, tenant, store },
        user,
        policy_name,
        SessionKind::PasscodeRenewal,
        now_ms,
        entropy,
    ))
}

/// The checked parts of `srpVerificationData`.
struct ClientProof {
    a_pub: Vec<u8>,
    m1: Vec<u8>,
}

/// Decodes and checks `A` and `M1` against the session's `B`; no writes.
fn check_client_proof(
    data: &wire::SrpVerificationData,
    session: &SessionRecord,
    session_id: &str,
) -> Result<ClientProof, Step> {
    let raw_a = decode_field("srpVerificationData.a", &data.a)?;
    let m1 = decode_field("srpVerificationData.m1", &data.m1)?;
    if m1.len() != srp::DIGEST_BYTES {
        return refuse(
            RefusalCode::InvalidVerificationData,
            format!(
                "srpVerificationData.m1 must be {} bytes, got {}",
                srp::DIGEST_BYTES,
                m1.len()
            ),
        );
    }
    let a_pub = srp::check_client_public(&raw_a).map_err(|e| {
        srp_refusal(
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
            e,
        )
    })?;
    let server_public = session.server_public.as_ref().ok_or_else(|| {
        corrupt(
            format!("session {}", idflow_ids::log_tag(session_id)),
            "proof session without B",
        )
    })?;
    srp::scrambler(&a_pub, &server_public.0).map_err(|e| {
        srp_refusal(
            RefusalCode::InvalidVerificationData,
            "srpVerificationData.a",
            e,
        )
    })?;
    Ok(ClientProof { a_pub, m1 })
}

/// Everything `S`, `K`, `M1` and `M2` are computed from.
struct ProofInputs<'a> {
    user_id: &'a str,
    salt: &'a [u8],
    verifier: &'a [u8],
    b: &'a [u8],
    a_pub: &'a [u8],
    b_pub: &'a [u8],
}

impl ProofInputs<'_> {
    fn server_keys(&self) -> Result<srp::SessionKeys, srp::SrpError> {
        srp::server_keys(
            self.user_id,
            self.salt,
            self.verifier,
            self.b,
            self.a_pub,
            self.b_pub,
        )
    }

    /// SHA-256 of every input, each preceded by its length: equal digests, equal inputs.
    fn digest(&self) -> [u8; srp::DIGEST_BYTES] {
        let parts = [
            self.user_id.as_bytes(),
            self.salt,
            self.verifier,
            self.b,
            self.a_pub,
            self.b_pub,
        ];
        let lengths: Vec<[u8; 8]> = parts
            .iter()
            .map(|p| (p.len() as u64).to_be_bytes())
            .collect();
        let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() * 2);
        for (length, part) in lengths.iter().zip(parts) {
            all.push(length);
            all.push(part);
        }
        srp::sha256(&all)
    }
}

/// The server's keys of one proof (`S = (A*v^u)^b`, `K`, `M1`, `M2`), computed before the
/// transaction that completes the session, from a read outside it, so that the exponentiations
/// hold no lock. The completion uses them only if the session, the user's verifier and salt and
/// the client's `A` it reads inside the transaction are exactly those they were computed from
/// (a digest of all of them); otherwise it computes the keys itself. They decide nothing on
/// their own: `M1` is still compared, in constant time, inside the transaction. `Debug` shows
/// nothing.
pub struct PreparedProof {
    inputs: [u8; srp::DIGEST_BYTES],
    keys: srp::SessionKeys,
}

impl PreparedProof {
    fn computed_from(&self, inputs: &ProofInputs<'_>) -> bool {
        bool::from(self.inputs.ct_eq(&inputs.digest()))
    }
}

impl fmt::Debug for PreparedProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedProof(<redacted>)")
    }
}

/// Computes the keys a completion of proof session `session_id` (an authentication or a
/// renewal) with the client's `data` will need, reading the session and its user from `db`
/// outside any transaction. `None` when there is nothing to compute ahead (no such session, a
/// malformed `A`, no current passcode...): the completion then finds out and answers as usual.
/// Changes nothing.
pub fn prepare_passcode_proof(
    db: &Store,
    tenant: &str,
    store: &str,
    session_id: &str,
    data: &wire::SrpVerificationData,
) -> Option<PreparedProof> {
    if !idflow_ids::is_id(session_id) {
        return None;
    }
    let session = db
        .get_record::<SessionRecord>(&records::session_key(tenant, store, session_id))
        .ok()??;
    if !matches!(
        session.kind,
        SessionKind::PasscodeAuthentication | SessionKind::PasscodeRenewal
    ) {
        return None;
    }
    let proof = check_client_proof(data, &session, session_id).ok()?;
    let user = db
        .get_record::<UserRecord>(&records::user_key(tenant, store, &session.user_id))
        .ok()??;
    let credential = user.passcodes.get(&session.policy_name)?;
    let current = credential.current.as_ref()?;
    let inputs = ProofInputs {
        user_id: &user.id,
        salt: &credential.salt.0,
        verifier: &current.verifier.0,
        b: &session.ephemeral.as_ref()?.0,
        a_pub: &proof.a_pub,
        b_pub: &session.server_public.as_ref()?.0,
    };
    let keys = inputs.server_keys().ok()?;
    Some(PreparedProof {
        inputs: inputs.digest(),
        keys,
    })
}

/// What a proof check decided, after the session is consumed.
enum ProofOutcome {
    Verified(srp::SessionKeys),
    /// Counted; the refusal to return.
    Failed(Refusal),
}

/// The part an authentication and a renewal share once the session is loaded and not expired:
/// checks `A` and `M1`'s form, consumes the session, and verifies the proof (counting a
/// failure) for the session's user under its policy.
fn prove(
    place: Place<'_, '_>,
    session_id: &str,
    session: &SessionRecord,
    data: &wire::SrpVerificationData,
    now_ms: i64,
    prepared: Option<&PreparedProof>,
) -> Result<(PasscodePolicy, UserRecord, ProofOutcome), Step> {
    let Place { tx, tenant, store } = place;
    let proof = check_client_proof(data, session, session_id)?;
    remove_session(tx, tenant, store, session_id)?;
    let policy = load_passcode_policy(tx, tenant, store, &session.policy_name)?;
    let mut user = resolve_user(tx, tenant, store, UserRef::Id(&session.user_id))?;
    let outcome = verify_proof(
        place, session_id, session, &proof, &policy, &mut user, now_ms, prepared,
    )?;
    Ok((policy, user, outcome))
}

/// Consumes the session, checks the user may still prove, and checks `M1` (counting a failure).
#[allow(clippy::too_many_arguments)]
fn verify_proof(
    place: Place<'_, '_>,
    session_id: &str,
    session: &SessionRecord,
    proof: &ClientProof,
    policy: &PasscodePolicy,
    user: &mut UserRecord,
    now_ms: i64,
    prepared: Option<&PreparedProof>,
) -> Result<ProofOutcome, Step> {
    let Place { tx, tenant, store } = place;
    ensure_may_authenticate(user, now_ms)?;
    let Some(credential) = user.passcodes.get(&session.policy_name) else {
        return refuse(
            RefusalCode::PasscodeNotRegistered,
            format!(
                "user {} has no passcode under policy {:?}",
                user.id, session.policy_name
            ),
        );
    };
    let Some(current) = credential.current.as_ref() else {
        return refuse(
            RefusalCode::PasscodeNotRegistered,
            format!(
                "user {} has no passcode under policy {:?}",
                user.id, session.policy_name
            ),
        );
    };
    if Some(credential.generation) != session.generation {
        return refuse(
            RefusalCode::SessionExpired,
            format!("the passcode changed after session {session_id:?} started; start again"),
        );
    }
    let (Some(b), Some(server_public)) = (&session.ephemeral, &session.server_public) else {
        return Err(corrupt(
            format!("session {}", idflow_ids::log_tag(session_id)),
            "proof session without b or B",
        ));
    };
    let inputs = ProofInputs {
        user_id: &user.id,
        salt: &credential.salt.0,
        verifier: &current.verifier.0,
        b: &b.0,
        a_pub: &proof.a_pub,
        b_pub: &server_public.0,
    };
    let keys = match prepared.filter(|p| p.computed_from(&inputs)) {
        Some(prepared) => prepared.keys.clone(),
        None => inputs.server_keys().map_err(|e| {
            srp_refusal(
                RefusalCode::InvalidVerificationData,
                "srpVerificationData",
                e,
            )
        })?,
    };
    if keys.client_proof_matches(&proof.m1) {
        return Ok(ProofOutcome::Verified(keys));
    }
    settle_status(user, now_ms)?;
    let locked = record_failure(
        user,
        passcode_counter(&session.policy_name),
        policy.max_failed_attempts,
        policy.temporary_lock_seconds,
        now_ms,
    );
    save_user(tx, tenant, store, user)?;
    let mut message = "srpVerificationData.m1 does not match: the passcode is wrong".to_string();
    if locked {
        message.push_str(&format!("; user {} is now {}", user.id, user.status));
    }
    Ok(ProofOutcome::Failed(Refusal::new(
        RefusalCode::VerificationFailed,
        message,
    )))
}

fn proof_answer(
    keys: &srp::SessionKeys,
    user: &UserRecord,
    now_ms: i64,
) -> Result<wire::PasscodeProofResponse, Step> {
    Ok(wire::PasscodeProofResponse {
        algorithm_info: wire::ProofAlgorithmInfo {
            kind: srp::ALGORITHM_TYPE.to_string(),
            parameters: wire::ProofParameters {
                hash_algorithm: srp::HASH_ALGORITHM.to_string(),
                m2: encoding::encode_standard(keys.m2()),
            },
        },
        user: wire::User::from(&to_user(user, now_ms)?),
    })
}

/// Completes an authentication: checks `A` and `M1` and answers `M2` only on success.
///
/// Malformed or hostile input (`INVALID_ENCODING`, `INVALID_VERIFICATION_DATA`: `A mod N = 0`,
/// `A >= N`, `u = 0`, wrong lengths) changes nothing and leaves the session open. Otherwise the
/// session is consumed: a wrong `M1` is `VERIFICATION_FAILED` and counts towards the policy's
/// lock (commit it!); success resets the count and sets `lastSuccessfulAuthentication`.
/// Refusals also: `SESSION_NOT_FOUND`, `SESSION_EXPIRED`, `USER_LOCKED`, `USER_DISABLED`,
/// `PASSCODE_NOT_REGISTERED`, `USER_NOT_FOUND`, `POLICY_NOT_FOUND`.
pub fn complete_passcode_authentication(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    request: &wire::CompletePasscodeAuthenticationRequest,
    now_ms: i64,
) -> OpResult<wire::PasscodeProofResponse> {
    complete_passcode_authentication_prepared(tx, tenant, store, session_id, request, now_ms, None)
}

/// [`complete_passcode_authentication`] with the keys [`prepare_passcode_proof`] computed
/// before the transaction: used if they were computed from the very session, verifier and `A`
/// read here, else computed here.
pub fn complete_passcode_authentication_prepared(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    request: &wire::CompletePasscodeAuthenticationRequest,
    now_ms: i64,
    prepared: Option<&PreparedProof>,
) -> OpResult<wire::PasscodeProofResponse> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let session = open_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::PasscodeAuthentication,
            now_ms,
        )?;
        let (_, mut user, outcome) = prove(
            Place { tx, tenant, store },
            session_id,
            &session,
            &request.srp_verification_data,
            now_ms,
            prepared,
        )?;
        match outcome {
            ProofOutcome::Failed(refusal) => Err(Step::Refused(refusal)),
            ProofOutcome::Verified(keys) => {
                settle_status(&mut user, now_ms)?;
                record_success(&mut user, &passcode_counter(&session.policy_name), now_ms);
                save_user(tx, tenant, store, &user)?;
                proof_answer(&keys, &user, now_ms)
            }
        }
    })())
}

/// Completes a renewal in one atomic step: proves the current passcode (as an authentication)
/// and stores the new verifier, derived with the same salt.
///
/// The history rule of srp.md: the new verifier must differ from the current one and from the
/// last `passcodeHistory` previous ones, else `PASSCODE_IN_HISTORY` (session consumed, passcode
/// unchanged). On success the old verifier joins the history, `renewedAt` and
/// `lastSuccessfulAuthentication` are set, and `M2` is answered. Refusals also as
/// [`complete_passcode_authentication`], plus `INVALID_REGISTRATION_DATA` for the new verifier.
pub fn complete_passcode_renewal(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    request: &wire::CompletePasscodeRenewalRequest,
    now_ms: i64,
) -> OpResult<wire::PasscodeProofResponse> {
    complete_passcode_renewal_prepared(tx, tenant, store, session_id, request, now_ms, None)
}

/// [`complete_passcode_renewal`] with keys prepared before the transaction, as
/// [`complete_passcode_authentication_prepared`].
pub fn complete_passcode_renewal_prepared(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    request: &wire::CompletePasscodeRenewalRequest,
    now_ms: i64,
    prepared: Option<&PreparedProof>,
) -> OpResult<wire::PasscodeProofResponse> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let session = open_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::PasscodeRenewal,
            now_ms,
        )?;
        let raw = decode_field(
            "srpRegistrationData.verifier",
            &request.srp_registration_data.verifier,
        )?;
        let new_verifier = srp::check_verifier(&raw).map_err(|e| {
            srp_refusal(
                RefusalCode::InvalidRegistrationData,
                "srpRegistrationData.verifier",
                e,
            )
        })?;
        let (policy, mut user, outcome) = prove(
            Place { tx, tenant, store },
            session_id,
            &session,
            &request.srp_verification_data,
            now_ms,
            prepared,
        )?;
        let keys = match outcome {
            ProofOutcome::Failed(refusal) => return Err(Step::Refused(refusal)),
            ProofOutcome::Verified(keys) => keys,
        };
        let keep = policy.requirements.passcode_history;
        let Some(credential) = user.passcodes.get_mut(&session.policy_name) else {
            return Err(corrupt(
                format!("user {}", user.id),
                "credential vanished during renewal",
            ));
        };
        if in_history(credential, &new_verifier, keep) {
            return refuse(
                RefusalCode::PasscodeInHistory,
                format!(
                    "the new passcode is the current one or one of the last {keep} under policy {:?}; choose another",
                    session.policy_name
                ),
            );
        }
        let Some(current) = credential.current.take() else {
            return Err(corrupt(
                format!("user {}", user.id),
                "registration vanished during renewal",
            ));
        };
        credential.history.insert(0, current.verifier.clone());
        credential.history.truncate(keep as usize);
        credential.current = Some(CurrentVerifierRecord {
            verifier: Bytes(new_verifier),
            registered_at_ms: current.registered_at_ms,
            renewed_at_ms: Some(now_ms),
        });
        credential.generation = credential.generation.saturating_add(1);
        settle_status(&mut user, now_ms)?;
        record_success(&mut user, &passcode_counter(&session.policy_name), now_ms);
        save_user(tx, tenant, store, &user)?;
        proof_answer(&keys, &user, now_ms)
    })())
}

/// Removes the user's passcode under `policy_name`. Its salt and history are kept, so a later
/// registration under the same policy meets the same history rule; open sessions for it fail.
///
/// Refusals: store/user/policy lookups, `PASSCODE_NOT_REGISTERED`.
pub fn deregister_passcode(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
) -> OpResult<wire::UserEnvelope> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let policy = load_passcode_policy(tx, tenant, store, policy_name)?;
        let mut record = resolve_user(tx, tenant, store, user)?;
        let user_id = record.id.clone();
        let Some(credential) = record.passcodes.get_mut(policy_name) else {
            return refuse(
                RefusalCode::PasscodeNotRegistered,
                format!("user {user_id} has no passcode under policy {policy_name:?}"),
            );
        };
        let Some(current) = credential.current.take() else {
            return refuse(
                RefusalCode::PasscodeNotRegistered,
                format!("user {user_id} has no passcode under policy {policy_name:?}"),
            );
        };
        credential.history.insert(0, current.verifier);
        credential
            .history
            .truncate(policy.requirements.passcode_history as usize);
        credential.generation = credential.generation.saturating_add(1);
        record
            .failed_attempts
            .remove(&passcode_counter(policy_name));
        settle_status(&mut record, now_ms)?;
        save_user(tx, tenant, store, &record)?;
        Ok(wire::UserEnvelope {
            user: wire::User::from(&to_user(&record, now_ms)?),
        })
    })())
}
