//! What the operations share: lookups of stores, policies, users and sessions, the user status
//! rules every operation applies, and small conversions.

use idflow_store::Tx;

use crate::encoding;
use crate::error::{refuse, OpResult, Refusal, RefusalCode, Step};
use crate::model::{User, UserRef, UserStatus};
use crate::policy::{PasscodePolicy, TotpPolicy};
use crate::records::{
    self, ExternalIdRecord, PasscodePolicyRecord, SessionKind, SessionRecord, StoreRecord,
    TotpPolicyRecord, UserRecord,
};
use crate::srp::SrpError;
use crate::wire;
use idflow_ids as ids;

pub(super) fn load_store(tx: &Tx<'_>, tenant: &str, store: &str) -> Result<StoreRecord, Step> {
    if let Some(record) = tx.get_record::<StoreRecord>(&records::store_key(tenant, store))? {
        return Ok(record);
    }
    if tx.get(&records::tenant_key(tenant))?.is_none() {
        return refuse(
            RefusalCode::TenantNotFound,
            format!("tenant {tenant:?} has no identity store"),
        );
    }
    refuse(
        RefusalCode::StoreNotFound,
        format!("identity store {store:?} does not exist in tenant {tenant:?}"),
    )
}

pub(super) fn load_passcode_policy(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    name: &str,
) -> Result<PasscodePolicy, Step> {
    match tx
        .get_record::<PasscodePolicyRecord>(&records::passcode_policy_key(tenant, store, name))?
    {
        Some(record) => Ok(PasscodePolicy::from(&record)),
        None => refuse(
            RefusalCode::PolicyNotFound,
            format!("passcode policy {name:?} does not exist in identity store {store:?}"),
        ),
    }
}

pub(super) fn load_totp_policy(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    name: &str,
) -> Result<TotpPolicy, Step> {
    match tx.get_record::<TotpPolicyRecord>(&records::totp_policy_key(tenant, store, name))? {
        Some(record) => Ok(record.to_policy()?),
        None => refuse(
            RefusalCode::PolicyNotFound,
            format!("TOTP policy {name:?} does not exist in identity store {store:?}"),
        ),
    }
}

pub(super) fn load_user_by_id(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    id: &str,
) -> Result<Option<UserRecord>, Step> {
    if !ids::is_id(id) {
        return Ok(None);
    }
    Ok(tx.get_record::<UserRecord>(&records::user_key(tenant, store, id))?)
}

pub(super) fn resolve_user(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
) -> Result<UserRecord, Step> {
    let found = match user {
        UserRef::Id(id) => load_user_by_id(tx, tenant, store, id)?,
        UserRef::ExternalId(ext) => {
            match tx
                .get_record::<ExternalIdRecord>(&records::external_id_key(tenant, store, ext))?
            {
                Some(index) => {
                    let record = load_user_by_id(tx, tenant, store, &index.user_id)?;
                    if record.is_none() {
                        return Err(Step::Failed(crate::error::Failure::Corrupt {
                            what: format!("external ID index of store {store:?}"),
                            reason: format!("points at missing user {}", index.user_id),
                        }));
                    }
                    record
                }
                None => None,
            }
        }
    };
    match found {
        Some(record) => Ok(record),
        None => refuse(
            RefusalCode::UserNotFound,
            format!("{user} does not exist in identity store {store:?}"),
        ),
    }
}

pub(super) fn save_user(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: &UserRecord,
) -> Result<(), Step> {
    tx.put_record(&records::user_key(tenant, store, &user.id), user)?;
    Ok(())
}

/// The open session `session_id` of `kind`, refused as not found (unknown, or of another
/// kind) or as expired (and then closed).
pub(super) fn open_session(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    kind: SessionKind,
    now_ms: i64,
) -> Result<SessionRecord, Step> {
    let not_found = || {
        refuse(
            RefusalCode::SessionNotFound,
            format!(
                "no open {} session {session_id:?} in identity store {store:?}",
                kind.describe()
            ),
        )
    };
    if !ids::is_id(session_id) {
        return not_found();
    }
    let session =
        match tx.get_record::<SessionRecord>(&records::session_key(tenant, store, session_id))? {
            Some(session) if session.kind == kind => session,
            _ => return not_found(),
        };
    if now_ms >= session.expires_at_ms {
        remove_session(tx, tenant, store, session_id)?;
        return refuse(
            RefusalCode::SessionExpired,
            format!(
                "{} session {session_id:?} expired at {}",
                session.kind.describe(),
                wire::format_timestamp(session.expires_at_ms)
            ),
        );
    }
    Ok(session)
}

pub(super) fn remove_session(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
) -> Result<(), Step> {
    tx.remove(&records::session_key(tenant, store, session_id))?;
    Ok(())
}

pub(super) fn ensure_not_disabled(user: &UserRecord, now_ms: i64) -> Result<(), Step> {
    if user.status_at(now_ms)? == UserStatus::Disabled {
        return refuse(
            RefusalCode::UserDisabled,
            format!("user {} is DISABLED", user.id),
        );
    }
    Ok(())
}

/// Authentication, renewal and TOTP verification need a user that is neither locked nor disabled.
pub(super) fn ensure_may_authenticate(user: &UserRecord, now_ms: i64) -> Result<(), Step> {
    match user.status_at(now_ms)? {
        UserStatus::Locked => refuse(
            RefusalCode::UserLocked,
            format!("user {} is LOCKED", user.id),
        ),
        UserStatus::TempLocked => refuse(
            RefusalCode::UserLocked,
            format!(
                "user {} is TEMP_LOCKED until {}",
                user.id,
                wire::format_timestamp(user.locked_until_ms.unwrap_or(now_ms))
            ),
        ),
        UserStatus::Disabled => refuse(
            RefusalCode::UserDisabled,
            format!("user {} is DISABLED", user.id),
        ),
        UserStatus::Active | UserStatus::PendingActive => Ok(()),
    }
}

/// Brings a lapsed `TEMP_LOCKED` back to `ACTIVE` before the record is written again.
pub(super) fn settle_status(user: &mut UserRecord, now_ms: i64) -> Result<(), Step> {
    let effective = user.status_at(now_ms)?;
    if effective != user.stored_status()? {
        user.set_status(effective);
    }
    Ok(())
}

/// Counts one failed attempt under `counter`; returns whether this attempt locked the user.
pub(super) fn record_failure(
    user: &mut UserRecord,
    counter: String,
    max_failed_attempts: u32,
    temporary_lock_seconds: u32,
    now_ms: i64,
) -> bool {
    let count = user.failed_attempts.entry(counter.clone()).or_insert(0);
    *count = count.saturating_add(1);
    if max_failed_attempts == 0 || *count < max_failed_attempts {
        return false;
    }
    // Locked: the counter starts over, so a lapsed temporary lock gives a full set of attempts.
    user.failed_attempts.remove(&counter);
    user.lock_count = user.lock_count.saturating_add(1);
    if temporary_lock_seconds > 0 {
        user.set_status(UserStatus::TempLocked);
        user.locked_until_ms =
            Some(now_ms.saturating_add(i64::from(temporary_lock_seconds) * 1000));
    } else {
        user.set_status(UserStatus::Locked);
    }
    true
}

pub(super) fn record_success(user: &mut UserRecord, counter: &str, now_ms: i64) {
    user.failed_attempts.remove(counter);
    user.last_successful_authentication_ms = Some(now_ms);
}

/// A pending user becomes active with its first completed registration.
pub(super) fn activate_if_pending(user: &mut UserRecord) -> Result<(), Step> {
    if user.stored_status()? == UserStatus::PendingActive {
        user.set_status(UserStatus::Active);
    }
    Ok(())
}

pub(super) fn expires_at(now_ms: i64, lifetime_seconds: u32) -> i64 {
    now_ms.saturating_add(i64::from(lifetime_seconds) * 1000)
}

pub(super) fn decode_field(field: &str, value: &str) -> Result<Vec<u8>, Step> {
    encoding::decode_lenient(value)
        .or_else(|problem| refuse(RefusalCode::InvalidEncoding, format!("{field} {problem}")))
}

pub(super) fn srp_refusal(code: RefusalCode, field_prefix: &str, e: SrpError) -> Step {
    Step::Refused(Refusal::new(code, format!("{field_prefix}: {e}")))
}

pub(super) fn corrupt(what: String, reason: impl Into<String>) -> Step {
    Step::Failed(crate::error::Failure::Corrupt {
        what,
        reason: reason.into(),
    })
}

pub(super) fn to_user(user: &UserRecord, now_ms: i64) -> Result<User, Step> {
    Ok(user.to_user(now_ms)?)
}

/// Removes the session under `key` if it is expired at `now_ms` (used by the facade's purge).
pub(crate) fn remove_if_expired(tx: &Tx<'_>, key: &[u8], now_ms: i64) -> OpResult<bool> {
    Step::split((|| match tx.get_record::<SessionRecord>(key)? {
        Some(session) if now_ms >= session.expires_at_ms => {
            tx.remove(key)?;
            Ok(true)
        }
        _ => Ok(false),
    })())
}
