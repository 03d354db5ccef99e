//! The TOTP activities: Start / Complete TOTP Registration and Get TOTP.
//!
//! The TOTP seed is secret, and so is everything that carries it: the base32 `secret`, the
//! `otpauth://` Key URI in `qrCodeString` (its `secret=` parameter) and the QR code drawn from it.
//! Each is written marked secret: redacted in history and API reads, still rendered by forms.

use idflow_engine::{ActivityResult, VarWrite};
use idflow_identity::model::UserRef;
use idflow_identity::ops;
use idflow_identity::wire;
use idflow_identity::{Refusal, RefusalCode};
use serde_json::Value;

use super::browser;
use super::common::{put, put_secret, Flow, Run};
use super::passcode::{started_policy, started_session, started_session_value};

/// The fields of a TOTP view that carry the seed.
const SECRET_FIELDS: [&str; 3] = ["secret", "qrCodeString", "qrCodeSvg"];

/// Writes `value` at `processvar.<keys>` with its seed-carrying fields marked secret.
fn secret_view_writes(keys: &[&str], value: Value) -> Vec<VarWrite> {
    let mut writes = Vec::with_capacity(1 + SECRET_FIELDS.len());
    for field in SECRET_FIELDS {
        if let Some(v) = value.get(field) {
            let mut path: Vec<&str> = keys.to_vec();
            path.push(field);
            writes.push(put_secret(&path, v.clone()));
        }
    }
    // The parent write comes first so the secret writes land in the object it creates; the
    // engine marks every secret path of the batch before it records any value.
    writes.insert(0, put(keys, value));
    writes
}

/// Start TOTP Registration: a new secret in an identity session; writes `sessionId`,
/// `qrCodeString`, `secret`, `issuer`, `algorithm`, `digits`, `period` and `qrCodeSvg` (with
/// `storeName`, `policyName`, `userId`, `status: STARTED`) under the registration key.
pub(crate) fn start_registration(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let policy = run.required_text("TOTP Policy")?;
    let key = run.required_text("TOTP Registration Key")?;
    let store = run.required_text("Store Name")?;
    let (user, user_write) = run.resolve_user(&store)?;
    let mut writes: Vec<_> = user_write.into_iter().collect();
    let started = ops::start_totp_registration(
        run.tx,
        run.tenant(),
        &store,
        UserRef::Id(&user.id),
        &policy,
        run.now_ms(),
        &run.entropy(),
    );
    match run.op(started)? {
        Ok(answer) => {
            let value = started_session_value(wire::to_value(&answer), store, policy, &user.id);
            writes.extend(secret_view_writes(&[&key], value));
            Ok(ActivityResult::Completed {
                writes,
                checks: Vec::new(),
            })
        }
        Err(refusal) => Err(run.refused(refusal, writes)),
    }
}

/// Complete TOTP Registration: checks the first code from the end user's device against the
/// session's secret. PASS check and `status: COMPLETED` and the user under the key on success.
pub(crate) fn complete_registration(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    const PARAM: &str = "TOTP Registration Browser Response";
    let key = run.required_text("TOTP Registration Key")?;
    let (session_id, store) = started_session(run, &key, "Start TOTP Registration")?;
    let code = browser::totp_code(run.inputs.get(PARAM), PARAM).map_err(|reason| {
        run.refused_at(
            Refusal::new(RefusalCode::InvalidCode, reason),
            Vec::new(),
            Some(&key),
        )
    })?;
    let done = ops::complete_totp_registration(
        run.tx,
        run.tenant(),
        &store,
        &session_id,
        &code,
        run.now_ms(),
    );
    match run.op(done)? {
        Ok(envelope) => {
            let policy = started_policy(run, &key);
            let detail = format!(
                "TOTP registered under policy {policy:?} for user {}",
                envelope.user.id
            );
            Ok(ActivityResult::Completed {
                writes: vec![
                    put(&[&key, "status"], Value::String("COMPLETED".into())),
                    put(&[&key, "user"], wire::to_value(&envelope.user)),
                ],
                checks: vec![run.pass(detail)],
            })
        }
        Err(refusal) => Err(run.refused_at(refusal, Vec::new(), Some(&key))),
    }
}

/// Get TOTP: the user's current TOTP under the policy, written to
/// `processvar._identityStore.currentTOTP` (`qrCodeString`, `secret`, `issuer`, `algorithm`,
/// `digits`, `period`, `qrCodeSvg`).
pub(crate) fn get_totp(run: &Run<'_, '_>) -> Flow<ActivityResult> {
    let store = run.required_text("Store Name")?;
    let policy = run.required_text("TOTP Policy")?;
    let (user, user_write) = run.resolve_user(&store)?;
    let mut writes: Vec<_> = user_write.into_iter().collect();
    let current = ops::get_totp(run.tx, run.tenant(), &store, UserRef::Id(&user.id), &policy);
    match run.op(current)? {
        Ok(current) => {
            writes.extend(secret_view_writes(
                &["_identityStore", "currentTOTP"],
                wire::to_value(&current),
            ));
            Ok(ActivityResult::Completed {
                writes,
                checks: Vec::new(),
            })
        }
        Err(refusal) => Err(run.refused(refusal, writes)),
    }
}
