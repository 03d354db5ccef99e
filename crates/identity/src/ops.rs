//! Every identity operation as a function over a store transaction, for callers that commit an
//! identity change together with their own writes (the activities crate).
//!
//! Each function takes `tx: &Tx`, plain inputs, the current time `now_ms` (Unix milliseconds) and,
//! where it needs randomness, an [`Entropy`] drawn *before* the transaction (the transaction
//! closure may run more than once; drawing inside it would give each retry different values).
//!
//! Each returns an [`OpResult`]: `Err(failure)` means abort; `Ok(Err(refusal))` means the
//! operation said no and **the caller should still commit**, because some refusals carry writes
//! that must stay (a failed proof counted towards the lock, a session consumed, a wrong TOTP code
//! counted). Refusals that must change nothing (malformed or hostile input, unknown objects) make
//! no writes before refusing, so committing them is harmless.
//!
//! The protocol operations return the API's JSON shapes from [`crate::wire`]; the administrative
//! ones return domain types from [`crate::model`] and [`crate::policy`].

use std::fmt;

use idflow_store::Tx;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::encoding;
use crate::error::{refuse, OpResult, Refusal, RefusalCode, Step};
use crate::model::{IdentityStore, User, UserRef, UserStatus};
use crate::policy::{self, PasscodePolicy, TotpPolicy};
use crate::records::{
    self, Bytes, CurrentVerifierRecord, ExternalIdRecord, PasscodeCredentialRecord,
    PasscodePolicyRecord, SessionKind, SessionRecord, StoreRecord, TenantRecord,
    TotpCredentialRecord, TotpPolicyRecord, UserRecord,
};
use crate::srp::{self, SrpError};
use crate::totp::{self, StepMatch};
use crate::wire;
use idflow_ids as ids;

/// Random values for one operation, drawn before the transaction starts.
///
/// Layout of the 96 bytes: `[0..16]` a new user or session ID, `[16..32]` a new salt,
/// `[32..64]` the server's SRP ephemeral `b`, `[64..84]` a new TOTP secret; the rest is spare.
/// An operation uses only the parts it needs. `Debug` shows nothing.
#[derive(Clone)]
pub struct Entropy {
    bytes: [u8; Entropy::LEN],
}

impl Entropy {
    pub const LEN: usize = 96;

    /// Draws fresh values from `rng`.
    pub fn draw(rng: &mut (impl RngCore + ?Sized)) -> Entropy {
        let mut bytes = [0u8; Entropy::LEN];
        rng.fill_bytes(&mut bytes);
        Entropy { bytes }
    }

    /// Uses the given bytes (tests, replays).
    pub fn from_bytes(bytes: [u8; Entropy::LEN]) -> Entropy {
        Entropy { bytes }
    }

    fn id(&self) -> String {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.bytes[0..16]);
        ids::id_from_bytes(&id)
    }

    /// 16 bytes, the first non-zero (some clients read the salt as an integer).
    fn salt(&self) -> Vec<u8> {
        let mut salt = self.bytes[16..32].to_vec();
        if salt[0] == 0 {
            salt[0] = 1;
        }
        salt
    }

    /// 256 bits, never all zero.
    fn ephemeral(&self) -> Vec<u8> {
        let mut b = self.bytes[32..64].to_vec();
        if b.iter().all(|x| *x == 0) {
            b[31] = 1;
        }
        b
    }

    fn totp_secret(&self) -> Vec<u8> {
        self.bytes[64..64 + totp::SECRET_BYTES].to_vec()
    }
}

impl fmt::Debug for Entropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Entropy(<redacted>)")
    }
}

/// Longest external user ID, in characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 256;
/// Wrong codes a TOTP registration session takes before it is closed.
const MAX_REGISTRATION_CODE_ATTEMPTS: u32 = 5;

fn passcode_counter(policy: &str) -> String {
    format!("passcode/{policy}")
}

fn totp_counter(policy: &str) -> String {
    format!("totp/{policy}")
}

// ---------------------------------------------------------------------------------------------
// Lookups shared by the operations
// ---------------------------------------------------------------------------------------------

fn load_store(tx: &Tx<'_>, tenant: &str, store: &str) -> Result<StoreRecord, Step> {
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

fn load_passcode_policy(
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

fn load_totp_policy(
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

fn load_user_by_id(
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

fn resolve_user(
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

fn save_user(tx: &Tx<'_>, tenant: &str, store: &str, user: &UserRecord) -> Result<(), Step> {
    tx.put_record(&records::user_key(tenant, store, &user.id), user)?;
    Ok(())
}

fn load_session(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    kind: SessionKind,
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
    match tx.get_record::<SessionRecord>(&records::session_key(tenant, store, session_id))? {
        Some(session) if session.kind == kind => Ok(session),
        _ => not_found(),
    }
}

fn remove_session(tx: &Tx<'_>, tenant: &str, store: &str, session_id: &str) -> Result<(), Step> {
    tx.remove(&records::session_key(tenant, store, session_id))?;
    Ok(())
}

/// Refuses (and closes) an expired session.
fn check_not_expired(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    session_id: &str,
    session: &SessionRecord,
    now_ms: i64,
) -> Result<(), Step> {
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
    Ok(())
}

fn ensure_not_disabled(user: &UserRecord, now_ms: i64) -> Result<(), Step> {
    if user.status_at(now_ms)? == UserStatus::Disabled {
        return refuse(
            RefusalCode::UserDisabled,
            format!("user {} is DISABLED", user.id),
        );
    }
    Ok(())
}

/// Authentication, renewal and TOTP verification need a user that is neither locked nor disabled.
fn ensure_may_authenticate(user: &UserRecord, now_ms: i64) -> Result<(), Step> {
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
fn settle_status(user: &mut UserRecord, now_ms: i64) -> Result<(), Step> {
    let effective = user.status_at(now_ms)?;
    if effective != user.stored_status()? {
        user.set_status(effective);
    }
    Ok(())
}

/// Counts one failed attempt under `counter`; returns whether this attempt locked the user.
fn record_failure(
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

fn record_success(user: &mut UserRecord, counter: &str, now_ms: i64) {
    user.failed_attempts.remove(counter);
    user.last_successful_authentication_ms = Some(now_ms);
}

/// A pending user becomes active with its first completed registration.
fn activate_if_pending(user: &mut UserRecord) -> Result<(), Step> {
    if user.stored_status()? == UserStatus::PendingActive {
        user.set_status(UserStatus::Active);
    }
    Ok(())
}

fn expires_at(now_ms: i64, lifetime_seconds: u32) -> i64 {
    now_ms.saturating_add(i64::from(lifetime_seconds) * 1000)
}

fn decode_field(field: &str, value: &str) -> Result<Vec<u8>, Step> {
    encoding::decode_lenient(value)
        .or_else(|problem| refuse(RefusalCode::InvalidEncoding, format!("{field} {problem}")))
}

fn srp_refusal(code: RefusalCode, field_prefix: &str, e: SrpError) -> Step {
    Step::Refused(Refusal::new(code, format!("{field_prefix}: {e}")))
}

fn corrupt(what: String, reason: impl Into<String>) -> Step {
    Step::Failed(crate::error::Failure::Corrupt {
        what,
        reason: reason.into(),
    })
}

fn to_user(user: &UserRecord, now_ms: i64) -> Result<User, Step> {
    Ok(user.to_user(now_ms)?)
}

// ---------------------------------------------------------------------------------------------
// Stores and policies
// ---------------------------------------------------------------------------------------------

/// Creates identity store `store` in `tenant` (and the tenant with its first store).
/// Refusals: `INVALID_INPUT` (a name), `STORE_ALREADY_EXISTS`.
pub fn create_store(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    now_ms: i64,
) -> OpResult<IdentityStore> {
    Step::split((|| {
        policy::check_name("tenant", tenant).or_else(|e| refuse(RefusalCode::InvalidInput, e))?;
        policy::check_name("store name", store)
            .or_else(|e| refuse(RefusalCode::InvalidInput, e))?;
        let key = records::store_key(tenant, store);
        if tx.contains(&key)? {
            return refuse(
                RefusalCode::StoreAlreadyExists,
                format!("identity store {store:?} already exists in tenant {tenant:?}"),
            );
        }
        let tenant_key = records::tenant_key(tenant);
        if !tx.contains(&tenant_key)? {
            tx.put_record(
                &tenant_key,
                &TenantRecord {
                    created_at_ms: now_ms,
                },
            )?;
        }
        tx.put_record(
            &key,
            &StoreRecord {
                name: store.to_string(),
                created_at_ms: now_ms,
            },
        )?;
        Ok(IdentityStore {
            tenant: tenant.to_string(),
            name: store.to_string(),
            created_at_ms: now_ms,
        })
    })())
}

/// Reads a store. Refusals: `TENANT_NOT_FOUND`, `STORE_NOT_FOUND`.
pub fn get_store(tx: &Tx<'_>, tenant: &str, store: &str) -> OpResult<IdentityStore> {
    Step::split(load_store(tx, tenant, store).map(|r| IdentityStore {
        tenant: tenant.to_string(),
        name: r.name,
        created_at_ms: r.created_at_ms,
    }))
}

/// Creates a passcode policy. Refusals: store lookups, `INVALID_POLICY`, `POLICY_ALREADY_EXISTS`.
pub fn create_passcode_policy(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    policy: &PasscodePolicy,
) -> OpResult<PasscodePolicy> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        policy
            .validate()
            .or_else(|e| refuse(RefusalCode::InvalidPolicy, e))?;
        let key = records::passcode_policy_key(tenant, store, &policy.name);
        if tx.contains(&key)? {
            return refuse(
                RefusalCode::PolicyAlreadyExists,
                format!(
                    "passcode policy {:?} already exists in identity store {store:?}",
                    policy.name
                ),
            );
        }
        tx.put_record(&key, &PasscodePolicyRecord::from(policy))?;
        Ok(policy.clone())
    })())
}

/// Reads a passcode policy. Refusals: store lookups, `POLICY_NOT_FOUND`.
pub fn get_passcode_policy(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    name: &str,
) -> OpResult<PasscodePolicy> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        load_passcode_policy(tx, tenant, store, name)
    })())
}

/// Creates a TOTP policy. Refusals: store lookups, `INVALID_POLICY`, `POLICY_ALREADY_EXISTS`.
pub fn create_totp_policy(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    policy: &TotpPolicy,
) -> OpResult<TotpPolicy> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        policy
            .validate()
            .or_else(|e| refuse(RefusalCode::InvalidPolicy, e))?;
        let key = records::totp_policy_key(tenant, store, &policy.name);
        if tx.contains(&key)? {
            return refuse(
                RefusalCode::PolicyAlreadyExists,
                format!(
                    "TOTP policy {:?} already exists in identity store {store:?}",
                    policy.name
                ),
            );
        }
        tx.put_record(&key, &TotpPolicyRecord::from(policy))?;
        Ok(policy.clone())
    })())
}

/// Reads a TOTP policy. Refusals: store lookups, `POLICY_NOT_FOUND`.
pub fn get_totp_policy(tx: &Tx<'_>, tenant: &str, store: &str, name: &str) -> OpResult<TotpPolicy> {
    Step::split((|| {
        load_store(tx, tenant, store)?;
        load_totp_policy(tx, tenant, store, name)
    })())
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Passcodes (SRP-6a)
// ---------------------------------------------------------------------------------------------

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
        let session = load_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::PasscodeRegistration,
        )?;
        check_not_expired(tx, tenant, store, session_id, &session, now_ms)?;
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
    let b = entropy.ephemeral();
    let server_public = srp::server_public(&current.verifier.0, &b)
        .map_err(|e| corrupt(format!("verifier of user {}", record.id), e.to_string()))?;
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

/// What a proof check decided, after the session is consumed.
enum ProofOutcome {
    Verified(srp::SessionKeys),
    /// Counted; the refusal to return.
    Failed(Refusal),
}

/// Consumes the session, checks the user may still prove, and checks `M1` (counting a failure).
fn verify_proof(
    place: Place<'_, '_>,
    session_id: &str,
    session: &SessionRecord,
    proof: &ClientProof,
    policy: &PasscodePolicy,
    user: &mut UserRecord,
    now_ms: i64,
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
    let keys = srp::server_keys(
        &user.id,
        &credential.salt.0,
        &current.verifier.0,
        &b.0,
        &proof.a_pub,
        &server_public.0,
    )
    .map_err(|e| {
        srp_refusal(
            RefusalCode::InvalidVerificationData,
            "srpVerificationData",
            e,
        )
    })?;
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
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let session = load_session(
            tx,
            tenant,
            store,
            session_id,
            SessionKind::PasscodeAuthentication,
        )?;
        check_not_expired(tx, tenant, store, session_id, &session, now_ms)?;
        let proof = check_client_proof(&request.srp_verification_data, &session, session_id)?;
        remove_session(tx, tenant, store, session_id)?;
        let policy = load_passcode_policy(tx, tenant, store, &session.policy_name)?;
        let mut user = resolve_user(tx, tenant, store, UserRef::Id(&session.user_id))?;
        match verify_proof(
            Place { tx, tenant, store },
            session_id,
            &session,
            &proof,
            &policy,
            &mut user,
            now_ms,
        )? {
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
    Step::split((|| {
        load_store(tx, tenant, store)?;
        let session = load_session(tx, tenant, store, session_id, SessionKind::PasscodeRenewal)?;
        check_not_expired(tx, tenant, store, session_id, &session, now_ms)?;
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
        let proof = check_client_proof(&request.srp_verification_data, &session, session_id)?;
        remove_session(tx, tenant, store, session_id)?;
        let policy = load_passcode_policy(tx, tenant, store, &session.policy_name)?;
        let mut user = resolve_user(tx, tenant, store, UserRef::Id(&session.user_id))?;
        let keys = match verify_proof(
            Place { tx, tenant, store },
            session_id,
            &session,
            &proof,
            &policy,
            &mut user,
            now_ms,
        )? {
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

// ---------------------------------------------------------------------------------------------
// TOTP
// ---------------------------------------------------------------------------------------------

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
        let mut session =
            load_session(tx, tenant, store, session_id, SessionKind::TotpRegistration)?;
        check_not_expired(tx, tenant, store, session_id, &session, now_ms)?;
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
