//! Operations on identity stores and their passcode and TOTP policies.

use idflow_store::Tx;

use super::common::{load_passcode_policy, load_store, load_totp_policy};
use crate::error::{refuse, OpResult, RefusalCode, Step};
use crate::model::IdentityStore;
use crate::policy::{self, PasscodePolicy, TotpPolicy};
use crate::records::{self, PasscodePolicyRecord, StoreRecord, TenantRecord, TotpPolicyRecord};

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
