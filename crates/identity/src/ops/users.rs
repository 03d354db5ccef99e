//! Operations on users: add, get, unlock, set status.

use idflow_store::Tx;

use super::common::{load_store, resolve_user, save_user, to_user};
use super::Entropy;
use crate::error::{refuse, OpResult, RefusalCode, Step};
use crate::model::{User, UserRef, UserStatus};
use crate::records::{self, ExternalIdRecord, UserRecord};

/// Longest external user ID, in characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 256;

/// Adds a user with a new ID (from `entropy`) and `external_id`, unique in the store: of many
/// concurrent adds with one external ID exactly one succeeds. `status` may be `ACTIVE`,
/// `PENDING_ACTIVE` or `DISABLED`.
///
/// Refusals: store lookups, `FAILED_TO_ADD_USER` (an unusable external ID or status),
/// `EXT_ID_NOT_UNIQUE` (409).
pub fn add_user(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    external_id: &str,
    status: UserStatus,
    now_ms: i64,
    entropy: &Entropy,
) -> OpResult<User> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let chars = external_id.chars().count();
        if chars == 0 || external_id.trim().is_empty() {
            return refuse(RefusalCode::FailedToAddUser, "externalId is empty");
        }
        if chars > MAX_EXTERNAL_ID_CHARS {
            return refuse(
                RefusalCode::FailedToAddUser,
                format!("externalId is {chars} characters long; at most {MAX_EXTERNAL_ID_CHARS} are allowed"),
            );
        }
        if external_id.chars().any(char::is_control) {
            return refuse(
                RefusalCode::FailedToAddUser,
                "externalId contains a control character",
            );
        }
        if matches!(status, UserStatus::Locked | UserStatus::TempLocked) {
            return refuse(
                RefusalCode::FailedToAddUser,
                format!("status {status} cannot be given to a new user; use ACTIVE, PENDING_ACTIVE or DISABLED"),
            );
        }
        let index_key = records::external_id_key(tenant, store, external_id);
        if tx.contains(&index_key)? {
            return refuse(
                RefusalCode::ExtIdNotUnique,
                format!("external ID {external_id:?} is already taken in identity store {store:?}"),
            );
        }
        let id = entropy.id();
        let user_key = records::user_key(tenant, store, &id);
        if tx.contains(&user_key)? {
            return refuse(
                RefusalCode::FailedToAddUser,
                format!("user ID {id} is already taken; retry with fresh randomness"),
            );
        }
        let record = UserRecord {
            id: id.clone(),
            external_id: external_id.to_string(),
            status: status.as_str().to_string(),
            created_at_ms: now_ms,
            last_successful_authentication_ms: None,
            lock_count: 0,
            locked_until_ms: None,
            failed_attempts: Default::default(),
            passcodes: Default::default(),
            totps: Default::default(),
        };
        tx.put_record(&index_key, &ExternalIdRecord { user_id: id })?;
        tx.put_record(&user_key, &record)?;
        to_user(&record, now_ms)
    })())
}

/// Reads a user by ID or external ID. Refusals: store lookups, `USER_NOT_FOUND`.
pub fn get_user(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    now_ms: i64,
) -> OpResult<User> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let record = resolve_user(tx, tenant, store, user)?;
        to_user(&record, now_ms)
    })())
}

/// Unlocks a `LOCKED` or `TEMP_LOCKED` user (to `ACTIVE`) and clears its failed-attempt counters.
/// Other statuses are kept; the counters are cleared all the same. `lockCount` is kept.
pub fn unlock_user(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    now_ms: i64,
) -> OpResult<User> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let mut record = resolve_user(tx, tenant, store, user)?;
        if matches!(
            record.stored_status()?,
            UserStatus::Locked | UserStatus::TempLocked
        ) {
            record.set_status(UserStatus::Active);
        }
        record.failed_attempts.clear();
        save_user(tx, tenant, store, &record)?;
        to_user(&record, now_ms)
    })())
}

/// Sets a user's status by hand (`ACTIVE`, `LOCKED`, `DISABLED` or `PENDING_ACTIVE`; `TEMP_LOCKED`
/// only comes from failed attempts). Setting `ACTIVE` clears the failed-attempt counters.
pub fn set_user_status(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    user: UserRef<'_>,
    status: UserStatus,
    now_ms: i64,
) -> OpResult<User> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        if status == UserStatus::TempLocked {
            return refuse(
                RefusalCode::InvalidInput,
                "status TEMP_LOCKED is only set by failed attempts under a policy with temporaryLockSeconds",
            );
        }
        let mut record = resolve_user(tx, tenant, store, user)?;
        record.set_status(status);
        if status == UserStatus::Active {
            record.failed_attempts.clear();
        }
        save_user(tx, tenant, store, &record)?;
        to_user(&record, now_ms)
    })())
}
