//! [`Identity`]: the operations of [`crate::ops`] each wrapped in its own durable commit, plus the
//! reads that scan (lists), for callers that do not share a transaction (the HTTP server).

use std::fmt;
use std::sync::{Arc, Mutex};

use idflow_clock::{Clock, SystemClock};
use idflow_store::{Store, Tx};
use rand::{RngCore, SeedableRng};

use crate::error::{Error, Failure, OpResult};
use crate::model::{IdentityStore, User, UserPage, UserRef, UserStatus};
use crate::ops::{self, Entropy};
use crate::policy::{PasscodePolicy, TotpPolicy};
use crate::records::{self, PasscodePolicyRecord, StoreRecord, TotpPolicyRecord, UserRecord};
use crate::wire;

/// Largest page [`Identity::list_users`] returns.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The identity core over one [`Store`], with a clock and a source of randomness.
///
/// Every state-changing method is one [`Store::commit`]: atomic, and durable before it returns.
/// A refusal that carries writes (a counted failure, a consumed session) is committed too, then
/// returned as [`Error::Refused`].
pub struct Identity {
    store: Store,
    clock: Arc<dyn Clock>,
    rng: Mutex<Box<dyn RngCore + Send>>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

fn flatten<T>(result: Result<Result<T, crate::error::Refusal>, Failure>) -> Result<T, Error> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(refusal)) => Err(Error::Refused(refusal)),
        Err(failure) => Err(Error::Failed(failure)),
    }
}

impl Identity {
    /// An identity core with the given clock and randomness (tests pass a fixed clock and a seeded
    /// RNG and get deterministic IDs, salts, ephemerals and secrets).
    pub fn new(store: Store, clock: Arc<dyn Clock>, rng: Box<dyn RngCore + Send>) -> Identity {
        crate::srp::warm_up();
        Identity {
            store,
            clock,
            rng: Mutex::new(rng),
        }
    }

    /// The system clock and an OS-seeded cryptographic RNG.
    pub fn with_system_clock(store: Store) -> Identity {
        Identity::new(
            store,
            Arc::new(SystemClock),
            Box::new(rand::rngs::StdRng::from_entropy()),
        )
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current time by this core's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Draws the random values for one operation.
    pub fn entropy(&self) -> Entropy {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Entropy::draw(rng.as_mut())
    }

    fn commit<T>(&self, op: impl Fn(&Tx<'_>) -> OpResult<T>) -> Result<T, Error> {
        flatten(self.store.commit(op))
    }

    /// A transaction without the durable flush: for reads (and writes that may be lost on a
    /// crash without harm).
    fn transact<T>(&self, op: impl Fn(&Tx<'_>) -> OpResult<T>) -> Result<T, Error> {
        flatten(self.store.transact(op))
    }

    // -- stores and policies --------------------------------------------------------------------

    pub fn create_store(&self, tenant: &str, store: &str) -> Result<IdentityStore, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::create_store(tx, tenant, store, now))
    }

    pub fn get_store(&self, tenant: &str, store: &str) -> Result<IdentityStore, Error> {
        self.transact(|tx| ops::get_store(tx, tenant, store))
    }

    /// The tenant's stores in name order (empty for a tenant without any).
    pub fn list_stores(&self, tenant: &str) -> Result<Vec<IdentityStore>, Error> {
        let mut out = Vec::new();
        for entry in self
            .store
            .scan_records::<StoreRecord>(&records::stores_prefix(tenant))
        {
            let (_, record) = entry?;
            out.push(IdentityStore {
                tenant: tenant.to_string(),
                name: record.name,
                created_at_ms: record.created_at_ms,
            });
        }
        Ok(out)
    }

    pub fn create_passcode_policy(
        &self,
        tenant: &str,
        store: &str,
        policy: &PasscodePolicy,
    ) -> Result<PasscodePolicy, Error> {
        self.commit(|tx| ops::create_passcode_policy(tx, tenant, store, policy))
    }

    pub fn get_passcode_policy(
        &self,
        tenant: &str,
        store: &str,
        name: &str,
    ) -> Result<PasscodePolicy, Error> {
        self.transact(|tx| ops::get_passcode_policy(tx, tenant, store, name))
    }

    /// The store's passcode policies in name order.
    pub fn list_passcode_policies(
        &self,
        tenant: &str,
        store: &str,
    ) -> Result<Vec<PasscodePolicy>, Error> {
        self.get_store(tenant, store)?;
        let mut out = Vec::new();
        for entry in self
            .store
            .scan_records::<PasscodePolicyRecord>(&records::passcode_policies_prefix(tenant, store))
        {
            let (_, record) = entry?;
            out.push(PasscodePolicy::from(&record));
        }
        Ok(out)
    }

    pub fn create_totp_policy(
        &self,
        tenant: &str,
        store: &str,
        policy: &TotpPolicy,
    ) -> Result<TotpPolicy, Error> {
        self.commit(|tx| ops::create_totp_policy(tx, tenant, store, policy))
    }

    pub fn get_totp_policy(
        &self,
        tenant: &str,
        store: &str,
        name: &str,
    ) -> Result<TotpPolicy, Error> {
        self.transact(|tx| ops::get_totp_policy(tx, tenant, store, name))
    }

    /// The store's TOTP policies in name order.
    pub fn list_totp_policies(&self, tenant: &str, store: &str) -> Result<Vec<TotpPolicy>, Error> {
        self.get_store(tenant, store)?;
        let mut out = Vec::new();
        for entry in self
            .store
            .scan_records::<TotpPolicyRecord>(&records::totp_policies_prefix(tenant, store))
        {
            let (_, record) = entry?;
            out.push(record.to_policy()?);
        }
        Ok(out)
    }

    // -- users -------------------------------------------------------------------------------------

    pub fn add_user(
        &self,
        tenant: &str,
        store: &str,
        external_id: &str,
        status: UserStatus,
    ) -> Result<User, Error> {
        let now = self.now_ms();
        let entropy = self.entropy();
        self.commit(|tx| ops::add_user(tx, tenant, store, external_id, status, now, &entropy))
    }

    pub fn get_user(&self, tenant: &str, store: &str, user: UserRef<'_>) -> Result<User, Error> {
        let now = self.now_ms();
        self.transact(|tx| ops::get_user(tx, tenant, store, user, now))
    }

    /// Users in ID order, at most `limit` (1 to [`MAX_PAGE_SIZE`]), starting after user ID `after`.
    pub fn list_users(
        &self,
        tenant: &str,
        store: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<UserPage, Error> {
        self.get_store(tenant, store)?;
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(Error::Refused(crate::error::Refusal::new(
                crate::error::RefusalCode::InvalidInput,
                format!("limit is {limit}; it must be between 1 and {MAX_PAGE_SIZE}"),
            )));
        }
        let prefix = records::users_prefix(tenant, store);
        let start = match after {
            // The smallest key after `after`'s own: its key with one more byte.
            Some(id) => {
                let mut k = records::user_key(tenant, store, id);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        let now = self.now_ms();
        // One extra row tells whether another page follows.
        let rows = self.store.scan_from(&prefix, &start, limit + 1)?;
        let mut users = Vec::with_capacity(limit);
        for (key, bytes) in rows.iter().take(limit) {
            let record: UserRecord = idflow_store::decode_record(key, bytes)?;
            users.push(record.to_user(now)?);
        }
        let next_after = if rows.len() > limit {
            users.last().map(|u| u.id.clone())
        } else {
            None
        };
        Ok(UserPage { users, next_after })
    }

    pub fn unlock_user(&self, tenant: &str, store: &str, user: UserRef<'_>) -> Result<User, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::unlock_user(tx, tenant, store, user, now))
    }

    pub fn set_user_status(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        status: UserStatus,
    ) -> Result<User, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::set_user_status(tx, tenant, store, user, status, now))
    }

    // -- passcodes ---------------------------------------------------------------------------------

    pub fn start_passcode_registration(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::PasscodeSessionStart, Error> {
        let now = self.now_ms();
        let entropy = self.entropy();
        self.commit(|tx| {
            ops::start_passcode_registration(tx, tenant, store, user, policy, now, &entropy)
        })
    }

    pub fn complete_passcode_registration(
        &self,
        tenant: &str,
        store: &str,
        session_id: &str,
        request: &wire::CompletePasscodeRegistrationRequest,
    ) -> Result<wire::UserEnvelope, Error> {
        let now = self.now_ms();
        self.commit(|tx| {
            ops::complete_passcode_registration(tx, tenant, store, session_id, request, now)
        })
    }

    pub fn start_passcode_authentication(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::PasscodeSessionStart, Error> {
        let now = self.now_ms();
        // `g^b` before the commit, with no lock held: the commit computes only `k*v + g^b`.
        let entropy = self.entropy().with_server_ephemeral();
        self.commit(|tx| {
            ops::start_passcode_authentication(tx, tenant, store, user, policy, now, &entropy)
        })
    }

    pub fn complete_passcode_authentication(
        &self,
        tenant: &str,
        store: &str,
        session_id: &str,
        request: &wire::CompletePasscodeAuthenticationRequest,
    ) -> Result<wire::PasscodeProofResponse, Error> {
        let now = self.now_ms();
        // The exponentiations before the commit, with no lock held (see `PreparedProof`).
        let prepared = ops::prepare_passcode_proof(
            &self.store,
            tenant,
            store,
            session_id,
            &request.srp_verification_data,
        );
        self.commit(|tx| {
            ops::complete_passcode_authentication_prepared(
                tx,
                tenant,
                store,
                session_id,
                request,
                now,
                prepared.as_ref(),
            )
        })
    }

    pub fn start_passcode_renewal(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::PasscodeSessionStart, Error> {
        let now = self.now_ms();
        // `g^b` before the commit, with no lock held: the commit computes only `k*v + g^b`.
        let entropy = self.entropy().with_server_ephemeral();
        self.commit(|tx| {
            ops::start_passcode_renewal(tx, tenant, store, user, policy, now, &entropy)
        })
    }

    pub fn complete_passcode_renewal(
        &self,
        tenant: &str,
        store: &str,
        session_id: &str,
        request: &wire::CompletePasscodeRenewalRequest,
    ) -> Result<wire::PasscodeProofResponse, Error> {
        let now = self.now_ms();
        let prepared = ops::prepare_passcode_proof(
            &self.store,
            tenant,
            store,
            session_id,
            &request.srp_verification_data,
        );
        self.commit(|tx| {
            ops::complete_passcode_renewal_prepared(
                tx,
                tenant,
                store,
                session_id,
                request,
                now,
                prepared.as_ref(),
            )
        })
    }

    pub fn deregister_passcode(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::UserEnvelope, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::deregister_passcode(tx, tenant, store, user, policy, now))
    }

    // -- TOTP ----------------------------------------------------------------------------------------

    pub fn start_totp_registration(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::TotpRegistrationStart, Error> {
        let now = self.now_ms();
        let entropy = self.entropy();
        self.commit(|tx| {
            ops::start_totp_registration(tx, tenant, store, user, policy, now, &entropy)
        })
    }

    pub fn complete_totp_registration(
        &self,
        tenant: &str,
        store: &str,
        session_id: &str,
        code: &str,
    ) -> Result<wire::UserEnvelope, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::complete_totp_registration(tx, tenant, store, session_id, code, now))
    }

    pub fn get_totp(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::CurrentTotp, Error> {
        self.transact(|tx| ops::get_totp(tx, tenant, store, user, policy))
    }

    pub fn verify_totp(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
        code: &str,
    ) -> Result<wire::UserEnvelope, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::verify_totp(tx, tenant, store, user, policy, code, now))
    }

    pub fn deregister_totp(
        &self,
        tenant: &str,
        store: &str,
        user: UserRef<'_>,
        policy: &str,
    ) -> Result<wire::UserEnvelope, Error> {
        let now = self.now_ms();
        self.commit(|tx| ops::deregister_totp(tx, tenant, store, user, policy, now))
    }

    // -- housekeeping --------------------------------------------------------------------------------

    /// Removes every expired session of every tenant and store; returns how many. Expired
    /// sessions are refused whether or not they were purged: this only reclaims space.
    pub fn purge_expired_sessions(&self) -> Result<usize, Error> {
        let now = self.now_ms();
        let mut keys = Vec::new();
        for entry in self.store.scan_prefix(&records::all_sessions_prefix()) {
            let (key, _) = entry?;
            keys.push(key);
        }
        let mut removed = 0;
        for key in keys {
            if self.transact(|tx| ops::remove_if_expired(tx, &key, now))? {
                removed += 1;
            }
        }
        // One flush for the lot: each removal is atomic on its own, durability can be shared.
        self.store.flush()?;
        Ok(removed)
    }
}
