//! TOTP operations: registration, getting and verifying a code, deregistration.

use idflow_store::Tx;

use super::common::{
    activate_if_pending, corrupt, ensure_may_authenticate, ensure_not_disabled, expires_at,
    load_store, load_totp_policy, open_session, record_failure, record_success, remove_session,
    resolve_user, save_user, settle_status, to_user,
};
use super::Entropy;
use crate::error::{refuse, OpResult, Refusal, RefusalCode, Step};
use crate::model::UserRef;
use crate::policy::TotpPolicy;
use crate::records::{self, Bytes, SessionKind, SessionRecord, TotpCredentialRecord, UserRecord};
use crate::totp::{self, StepMatch};
use crate::wire;

fn account_label(user: &UserRecord) -> &str {
    &user.external_id
}

fn totp_views(
    policy: &TotpPolicy,
    user: &UserRecord,
    secret: &[u8],
) -> Result<(String, String, String), Step> {
    let uri = totp::key_uri(
        &policy.issuer,
        account_label(user),
        secret,
        policy.algorithm,
        policy.digits,
        policy.period_seconds,
    );
    let svg = totp::qr_svg(&uri)?;
    Ok((uri, totp::secret_to_base32(secret), svg))
}

/// Wrong codes a TOTP registration session takes before it is closed.
const MAX_REGISTRATION_CODE_ATTEMPTS: u32 = 5;

/// The failed-attempt counter of a TOTP policy.
fn totp_counter(policy: &str) -> String {
    format!("totp/{policy}")
}

/// Starts a TOTP registration: a new 160-bit secret (from `entropy`) kept in a session, answered
/// with the Key URI, the base32 secret and the QR code as SVG.
///
/// Refusals: store/user/policy lookups, `USER_DISABLED`, `TOTP_ALREADY_REGISTERED`.
pub fn start_totp_registration(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
    entropy: &Entropy,
) -> OpResult<wire::TotpRegistrationStart> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let policy = load_totp_policy(tx, tenant, store, policy_name)?;
        let record = resolve_user(tx, tenant, store, user)?;
        ensure_not_disabled(&record, now_ms)?;
        if record.totps.contains_key(policy_name) {
            return refuse(
                RefusalCode::TotpAlreadyRegistered,
                format!(
                    "user {} already has a TOTP under policy {policy_name:?}",
                    record.id
                ),
            );
        }
        let secret = entropy.totp_secret();
        let (uri, secret_text, svg) = totp_views(&policy, &record, &secret)?;
        let session_id = entropy.id();
        let session = SessionRecord {
            kind: SessionKind::TotpRegistration,
            user_id: record.id.clone(),
            policy_name: policy_name.to_string(),
            created_at_ms: now_ms,
            expires_at_ms: expires_at(now_ms, policy.session_lifetime_seconds),
            salt: None,
            ephemeral: None,
            server_public: None,
            generation: None,
            totp_secret: Some(Bytes(secret)),
            failed_codes: 0,
        };
        tx.put_record(&records::session_key(tenant, store, &session_id), &session)?;
        Ok(wire::TotpRegistrationStart {
            session_id,
            qr_code_string: uri,
            secret: secret_text,
            issuer: policy.issuer.clone(),
            algorithm: policy.algorithm.as_str().to_string(),
            digits: policy.digits,
            period: policy.period_seconds,
            qr_code_svg: svg,
        })
    })())
}

fn check_code_shape(code: &str, digits: u32) -> Result<(), Refusal> {
    if code.len() != digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::new(
            RefusalCode::InvalidCode,
            format!("code must be {digits} digits"),
        ));
    }
    Ok(())
}

/// Completes a TOTP registration with the first code from the device (within the policy's
/// drift); that code's time step counts as used. A wrong code is `INVALID_CODE` and is counted
/// on the session (commit it): after 5 the session is closed.
///
/// Refusals also: `SESSION_NOT_FOUND`, `SESSION_EXPIRED`, `USER_NOT_FOUND`, `POLICY_NOT_FOUND`,
/// `USER_DISABLED`, `TOTP_ALREADY_REGISTERED`.
pub fn complete_totp_registration(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    code: &str,
    now_ms: i64,
) -> OpResult<wire::UserEnvelope> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let mut session = open_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::TotpRegistration,
            now_ms,
        )?;
        let policy = load_totp_policy(tx, tenant, store, &session.policy_name)?;
        let mut user = resolve_user(tx, tenant, store, UserRef::Id(&session.user_id))?;
        ensure_not_disabled(&user, now_ms)?;
        if user.totps.contains_key(&session.policy_name) {
            remove_session(tx, tenant, store, session_id)?;
            return refuse(
                RefusalCode::TotpAlreadyRegistered,
                format!(
                    "user {} already has a TOTP under policy {:?}",
                    user.id, session.policy_name
                ),
            );
        }
        let secret = session.totp_secret.clone().ok_or_else(|| {
            corrupt(
                format!("session {}", idflow_ids::log_tag(session_id)),
                "TOTP session without a secret",
            )
        })?;
        let outcome = match check_code_shape(code, policy.digits) {
            Err(refusal) => Err(refusal),
            Ok(()) => match totp::matching_step(&secret.0, code, now_ms, &policy, None) {
                StepMatch::Accepted(step) => Ok(step),
                StepMatch::AlreadyUsed | StepMatch::NoMatch => Err(Refusal::new(
                    RefusalCode::InvalidCode,
                    "code does not match the new TOTP secret at this time",
                )),
            },
        };
        let step = match outcome {
            Ok(step) => step,
            Err(mut refusal) => {
                session.failed_codes = session.failed_codes.saturating_add(1);
                if session.failed_codes >= MAX_REGISTRATION_CODE_ATTEMPTS {
                    remove_session(tx, tenant, store, session_id)?;
                    refusal
                        .message
                        .push_str("; too many wrong codes, the registration session is closed");
                } else {
                    tx.put_record(&records::session_key(tenant, store, session_id), &session)?;
                }
                return Err(Step::Refused(refusal));
            }
        };
        remove_session(tx, tenant, store, session_id)?;
        settle_status(&mut user, now_ms)?;
        activate_if_pending(&mut user)?;
        user.totps.insert(
            session.policy_name.clone(),
            TotpCredentialRecord {
                secret,
                registered_at_ms: now_ms,
                last_used_step: Some(step),
            },
        );
        user.failed_attempts
            .remove(&totp_counter(&session.policy_name));
        save_user(tx, tenant, store, &user)?;
        Ok(wire::UserEnvelope {
            user: wire::User::from(&to_user(&user, now_ms)?),
        })
    })())
}

/// The user's current TOTP (`qrCodeString`, `secret`, ...) so another device can be set up.
///
/// Refusals: store/user/policy lookups, `TOTP_NOT_REGISTERED`.
pub fn get_totp(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
) -> OpResult<wire::CurrentTotp> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let policy = load_totp_policy(tx, tenant, store, policy_name)?;
        let record = resolve_user(tx, tenant, store, user)?;
        let Some(registration) = record.totps.get(policy_name) else {
            return refuse(
                RefusalCode::TotpNotRegistered,
                format!(
                    "user {} has no TOTP under policy {policy_name:?}",
                    record.id
                ),
            );
        };
        let (uri, secret_text, svg) = totp_views(&policy, &record, &registration.secret.0)?;
        Ok(wire::CurrentTotp {
            qr_code_string: uri,
            secret: secret_text,
            issuer: policy.issuer.clone(),
            algorithm: policy.algorithm.as_str().to_string(),
            digits: policy.digits,
            period: policy.period_seconds,
            qr_code_svg: svg,
        })
    })())
}

/// Verifies a TOTP code (TOTP authentication). A code is accepted once: its time step must be
/// within the policy's drift and later than the last accepted one. Success records the step and
/// `lastSuccessfulAuthentication`; a wrong or replayed code is `INVALID_CODE` and counts towards
/// the policy's lock (commit it!).
///
/// Refusals also: store/user/policy lookups, `USER_LOCKED`, `USER_DISABLED`, `TOTP_NOT_REGISTERED`.
pub fn verify_totp(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    code: &str,
    now_ms: i64,
) -> OpResult<wire::UserEnvelope> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let policy = load_totp_policy(tx, tenant, store, policy_name)?;
        let mut record = resolve_user(tx, tenant, store, user)?;
        ensure_may_authenticate(&record, now_ms)?;
        let Some(registration) = record.totps.get(policy_name) else {
            return refuse(
                RefusalCode::TotpNotRegistered,
                format!(
                    "user {} has no TOTP under policy {policy_name:?}",
                    record.id
                ),
            );
        };
        let outcome = match check_code_shape(code, policy.digits) {
            Err(refusal) => Err(refusal),
            Ok(()) => match totp::matching_step(
                &registration.secret.0,
                code,
                now_ms,
                &policy,
                registration.last_used_step,
            ) {
                StepMatch::Accepted(step) => Ok(step),
                StepMatch::AlreadyUsed => Err(Refusal::new(
                    RefusalCode::InvalidCode,
                    "code was already used (or an earlier one than the last accepted)",
                )),
                StepMatch::NoMatch => Err(Refusal::new(
                    RefusalCode::InvalidCode,
                    "code does not match at this time",
                )),
            },
        };
        settle_status(&mut record, now_ms)?;
        match outcome {
            Ok(step) => {
                if let Some(registration) = record.totps.get_mut(policy_name) {
                    registration.last_used_step = Some(step);
                }
                record_success(&mut record, &totp_counter(policy_name), now_ms);
                save_user(tx, tenant, store, &record)?;
                Ok(wire::UserEnvelope {
                    user: wire::User::from(&to_user(&record, now_ms)?),
                })
            }
            Err(mut refusal) => {
                let locked = record_failure(
                    &mut record,
                    totp_counter(policy_name),
                    policy.max_failed_attempts,
                    0,
                    now_ms,
                );
                if locked {
                    refusal
                        .message
                        .push_str(&format!("; user {} is now LOCKED", record.id));
                }
                save_user(tx, tenant, store, &record)?;
                Err(Step::Refused(refusal))
            }
        }
    })())
}

/// Removes the user's TOTP under `policy_name`. Refusals: lookups, `TOTP_NOT_REGISTERED`.
pub fn deregister_totp(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    policy_name: &str,
    now_ms: i64,
) -> OpResult<wire::UserEnvelope> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        load_totp_policy(tx, tenant, store, policy_name)?;
        let mut record = resolve_user(tx, tenant, store, user)?;
        if record.totps.remove(policy_name).is_none() {
            return refuse(
                RefusalCode::TotpNotRegistered,
                format!(
                    "user {} has no TOTP under policy {policy_name:?}",
                    record.id
                ),
            );
        }
        record.failed_attempts.remove(&totp_counter(policy_name));
        settle_status(&mut record, now_ms)?;
        save_user(tx, tenant, store, &record)?;
        Ok(wire::UserEnvelope {
            user: wire::User::from(&to_user(&record, now_ms)?),
        })
    })())
}
