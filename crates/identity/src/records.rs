//! Persisted formats of the identity core (one [`Record`] type per stored shape) and their keys.
//!
//! Everything lives under keys whose first segment is `identity`, so the crate shares one sled
//! tree with the rest of idflow without colliding. Byte fields are stored as base64 and print
//! redacted in `Debug` (verifiers, ephemerals and TOTP seeds live here).

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idflow_store::{key, prefix, Record};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Failure;
use crate::model::{PasscodeRegistrationInfo, TotpRegistrationInfo, User, UserStatus};
use crate::policy::{PasscodePolicy, PasscodeRequirements, RegexRule, TotpAlgorithm, TotpPolicy};

const NS: &str = "identity";

pub(crate) fn tenant_key(tenant: &str) -> Vec<u8> {
    key(&[NS, "tenant", tenant])
}
pub(crate) fn store_key(tenant: &str, store: &str) -> Vec<u8> {
    key(&[NS, "store", tenant, store])
}
pub(crate) fn stores_prefix(tenant: &str) -> Vec<u8> {
    prefix(&[NS, "store", tenant])
}
pub(crate) fn passcode_policy_key(tenant: &str, store: &str, name: &str) -> Vec<u8> {
    key(&[NS, "passcode-policy", tenant, store, name])
}
pub(crate) fn passcode_policies_prefix(tenant: &str, store: &str) -> Vec<u8> {
    prefix(&[NS, "passcode-policy", tenant, store])
}
pub(crate) fn totp_policy_key(tenant: &str, store: &str, name: &str) -> Vec<u8> {
    key(&[NS, "totp-policy", tenant, store, name])
}
pub(crate) fn totp_policies_prefix(tenant: &str, store: &str) -> Vec<u8> {
    prefix(&[NS, "totp-policy", tenant, store])
}
pub(crate) fn user_key(tenant: &str, store: &str, id: &str) -> Vec<u8> {
    key(&[NS, "user", tenant, store, id])
}
pub(crate) fn users_prefix(tenant: &str, store: &str) -> Vec<u8> {
    prefix(&[NS, "user", tenant, store])
}
pub(crate) fn external_id_key(tenant: &str, store: &str, external_id: &str) -> Vec<u8> {
    key(&[NS, "external-id", tenant, store, external_id])
}
pub(crate) fn session_key(tenant: &str, store: &str, session_id: &str) -> Vec<u8> {
    key(&[NS, "session", tenant, store, session_id])
}
pub(crate) fn all_sessions_prefix() -> Vec<u8> {
    prefix(&[NS, "session"])
}

/// Bytes stored as standard base64; `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Bytes(pub(crate) Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// A tenant exists from the first store created in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TenantRecord {
    pub(crate) created_at_ms: i64,
}

impl Record for TenantRecord {
    const KIND: &'static str = "identity-tenant";
    const VERSION: u8 = 1;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoreRecord {
    pub(crate) name: String,
    pub(crate) created_at_ms: i64,
}

impl Record for StoreRecord {
    const KIND: &'static str = "identity-store";
    const VERSION: u8 = 1;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RegexRuleRecord {
    pub(crate) pattern: String,
    pub(crate) error: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PasscodePolicyRecord {
    pub(crate) name: String,
    pub(crate) minimum_length: u32,
    pub(crate) maximum_length: u32,
    pub(crate) digit_count: u32,
    pub(crate) symbol_count: u32,
    pub(crate) lower_case_count: u32,
    pub(crate) upper_case_count: u32,
    pub(crate) character_variety: u32,
    pub(crate) passcode_history: u32,
    pub(crate) required_regexes: Vec<RegexRuleRecord>,
    pub(crate) allowed_regexes: Vec<RegexRuleRecord>,
    pub(crate) disallowed_regexes: Vec<RegexRuleRecord>,
    pub(crate) max_failed_attempts: u32,
    pub(crate) session_lifetime_seconds: u32,
    pub(crate) temporary_lock_seconds: u32,
}

impl Record for PasscodePolicyRecord {
    const KIND: &'static str = "identity-passcode-policy";
    const VERSION: u8 = 1;
}

fn rules_to_record(rules: &[RegexRule]) -> Vec<RegexRuleRecord> {
    rules
        .iter()
        .map(|r| RegexRuleRecord {
            pattern: r.pattern.clone(),
            error: r.error.clone(),
        })
        .collect()
}

fn rules_from_record(rules: &[RegexRuleRecord]) -> Vec<RegexRule> {
    rules
        .iter()
        .map(|r| RegexRule {
            pattern: r.pattern.clone(),
            error: r.error.clone(),
        })
        .collect()
}

impl From<&PasscodePolicy> for PasscodePolicyRecord {
    fn from(p: &PasscodePolicy) -> Self {
        let r = &p.requirements;
        PasscodePolicyRecord {
            name: p.name.clone(),
            minimum_length: r.minimum_length,
            maximum_length: r.maximum_length,
            digit_count: r.digit_count,
            symbol_count: r.symbol_count,
            lower_case_count: r.lower_case_count,
            upper_case_count: r.upper_case_count,
            character_variety: r.character_variety,
            passcode_history: r.passcode_history,
            required_regexes: rules_to_record(&r.required_regexes),
            allowed_regexes: rules_to_record(&r.allowed_regexes),
            disallowed_regexes: rules_to_record(&r.disallowed_regexes),
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
            temporary_lock_seconds: p.temporary_lock_seconds,
        }
    }
}

impl From<&PasscodePolicyRecord> for PasscodePolicy {
    fn from(r: &PasscodePolicyRecord) -> Self {
        PasscodePolicy {
            name: r.name.clone(),
            requirements: PasscodeRequirements {
                minimum_length: r.minimum_length,
                maximum_length: r.maximum_length,
                digit_count: r.digit_count,
                symbol_count: r.symbol_count,
                lower_case_count: r.lower_case_count,
                upper_case_count: r.upper_case_count,
                character_variety: r.character_variety,
                passcode_history: r.passcode_history,
                required_regexes: rules_from_record(&r.required_regexes),
                allowed_regexes: rules_from_record(&r.allowed_regexes),
                disallowed_regexes: rules_from_record(&r.disallowed_regexes),
            },
            max_failed_attempts: r.max_failed_attempts,
            session_lifetime_seconds: r.session_lifetime_seconds,
            temporary_lock_seconds: r.temporary_lock_seconds,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TotpPolicyRecord {
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) algorithm: String,
    pub(crate) digits: u32,
    pub(crate) period_seconds: u32,
    pub(crate) accepted_drift_steps: u32,
    pub(crate) max_failed_attempts: u32,
    pub(crate) session_lifetime_seconds: u32,
}

impl Record for TotpPolicyRecord {
    const KIND: &'static str = "identity-totp-policy";
    const VERSION: u8 = 1;
}

impl From<&TotpPolicy> for TotpPolicyRecord {
    fn from(p: &TotpPolicy) -> Self {
        TotpPolicyRecord {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            algorithm: p.algorithm.as_str().to_string(),
            digits: p.digits,
            period_seconds: p.period_seconds,
            accepted_drift_steps: p.accepted_drift_steps,
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
        }
    }
}

impl TotpPolicyRecord {
    pub(crate) fn to_policy(&self) -> Result<TotpPolicy, Failure> {
        let algorithm = TotpAlgorithm::parse(&self.algorithm).ok_or_else(|| Failure::Corrupt {
            what: format!("TOTP policy {:?}", self.name),
            reason: format!("unknown algorithm {:?}", self.algorithm),
        })?;
        Ok(TotpPolicy {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            algorithm,
            digits: self.digits,
            period_seconds: self.period_seconds,
            accepted_drift_steps: self.accepted_drift_steps,
            max_failed_attempts: self.max_failed_attempts,
            session_lifetime_seconds: self.session_lifetime_seconds,
        })
    }
}

/// The unique index from external ID to user ID.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExternalIdRecord {
    pub(crate) user_id: String,
}

impl Record for ExternalIdRecord {
    const KIND: &'static str = "identity-external-id";
    const VERSION: u8 = 1;
}

/// The verifier currently registered under a policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CurrentVerifierRecord {
    pub(crate) verifier: Bytes,
    pub(crate) registered_at_ms: i64,
    pub(crate) renewed_at_ms: Option<i64>,
}

/// Everything kept for one user and one passcode policy. The salt and history outlive a
/// deregistration, so a re-registration uses the same salt and meets the same history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PasscodeCredentialRecord {
    pub(crate) salt: Bytes,
    pub(crate) current: Option<CurrentVerifierRecord>,
    /// Previous verifiers, most recent first, at most the policy's `passcodeHistory`.
    pub(crate) history: Vec<Bytes>,
    /// Bumped by every registration and renewal; a session remembers the value it started with.
    pub(crate) generation: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TotpCredentialRecord {
    pub(crate) secret: Bytes,
    pub(crate) registered_at_ms: i64,
    /// The last time step whose code was accepted; codes of this step or earlier are refused.
    pub(crate) last_used_step: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub(crate) id: String,
    pub(crate) external_id: String,
    pub(crate) status: String,
    pub(crate) created_at_ms: i64,
    pub(crate) last_successful_authentication_ms: Option<i64>,
    pub(crate) lock_count: u32,
    /// Set while `TEMP_LOCKED`.
    pub(crate) locked_until_ms: Option<i64>,
    /// Failed attempts in a row per credential (`passcode/<policy>`, `totp/<policy>`).
    pub(crate) failed_attempts: BTreeMap<String, u32>,
    pub(crate) passcodes: BTreeMap<String, PasscodeCredentialRecord>,
    pub(crate) totps: BTreeMap<String, TotpCredentialRecord>,
}

impl Record for UserRecord {
    const KIND: &'static str = "identity-user";
    const VERSION: u8 = 1;
}

impl UserRecord {
    pub(crate) fn stored_status(&self) -> Result<UserStatus, Failure> {
        UserStatus::parse(&self.status).ok_or_else(|| Failure::Corrupt {
            what: format!("user {}", self.id),
            reason: format!("unknown status {:?}", self.status),
        })
    }

    /// The status in effect at `now_ms`: a `TEMP_LOCKED` whose time has passed is `ACTIVE`.
    pub(crate) fn status_at(&self, now_ms: i64) -> Result<UserStatus, Failure> {
        let stored = self.stored_status()?;
        Ok(match (stored, self.locked_until_ms) {
            (UserStatus::TempLocked, Some(until)) if until <= now_ms => UserStatus::Active,
            (UserStatus::TempLocked, None) => UserStatus::Active,
            (status, _) => status,
        })
    }

    pub(crate) fn set_status(&mut self, status: UserStatus) {
        self.status = status.as_str().to_string();
        if status != UserStatus::TempLocked {
            self.locked_until_ms = None;
        }
    }

    pub(crate) fn to_user(&self, now_ms: i64) -> Result<User, Failure> {
        Ok(User {
            id: self.id.clone(),
            external_id: self.external_id.clone(),
            status: self.status_at(now_ms)?,
            created_at_ms: self.created_at_ms,
            last_successful_authentication_ms: self.last_successful_authentication_ms,
            lock_count: self.lock_count,
            registered_passcodes: self
                .passcodes
                .iter()
                .filter_map(|(policy, cred)| {
                    cred.current.as_ref().map(|c| PasscodeRegistrationInfo {
                        policy_name: policy.clone(),
                        registered_at_ms: c.registered_at_ms,
                        renewed_at_ms: c.renewed_at_ms,
                    })
                })
                .collect(),
            totp_registrations: self
                .totps
                .iter()
                .map(|(policy, t)| TotpRegistrationInfo {
                    policy_name: policy.clone(),
                    registered_at_ms: t.registered_at_ms,
                })
                .collect(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SessionKind {
    PasscodeRegistration,
    PasscodeRenewal,
    PasscodeAuthentication,
    TotpRegistration,
}

impl SessionKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            SessionKind::PasscodeRegistration => "passcode registration",
            SessionKind::PasscodeRenewal => "passcode renewal",
            SessionKind::PasscodeAuthentication => "passcode authentication",
            SessionKind::TotpRegistration => "TOTP registration",
        }
    }
}

/// An open session: single-use, bound to its tenant and store (by its key), user and policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub(crate) kind: SessionKind,
    pub(crate) user_id: String,
    pub(crate) policy_name: String,
    pub(crate) created_at_ms: i64,
    pub(crate) expires_at_ms: i64,
    /// Registration: the salt the verifier must be derived with.
    pub(crate) salt: Option<Bytes>,
    /// Renewal and authentication: the server's secret ephemeral `b`.
    pub(crate) ephemeral: Option<Bytes>,
    /// Renewal and authentication: `bytes(B)` as sent.
    pub(crate) server_public: Option<Bytes>,
    /// Renewal and authentication: the credential generation `B` was computed for.
    pub(crate) generation: Option<u64>,
    /// TOTP registration: the secret being registered.
    pub(crate) totp_secret: Option<Bytes>,
    /// TOTP registration: wrong codes so far.
    pub(crate) failed_codes: u32,
}

impl Record for SessionRecord {
    const KIND: &'static str = "identity-session";
    const VERSION: u8 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let session = SessionRecord {
            kind: SessionKind::PasscodeAuthentication,
            user_id: "U".into(),
            policy_name: "p".into(),
            created_at_ms: 0,
            expires_at_ms: 1,
            salt: None,
            ephemeral: Some(Bytes(vec![0xAB; 32])),
            server_public: None,
            generation: Some(1),
            totp_secret: Some(Bytes(b"JBSWY3DPEHPK3PXP".to_vec())),
            failed_codes: 0,
        };
        let shown = format!("{session:?}");
        assert!(shown.contains("<redacted 32 bytes>"));
        assert!(!shown.contains("171") && !shown.contains("AB") && !shown.contains("JBSW"));
    }

    #[test]
    fn bytes_round_trip_as_base64() {
        let b = Bytes(vec![0, 1, 2, 255]);
        let json = serde_json::to_string(&b).unwrap_or_default();
        assert_eq!(json, "\"AAEC/w==\"");
        let back: Result<Bytes, _> = serde_json::from_str(&json);
        assert!(back.is_ok_and(|x| x == b));
        assert!(serde_json::from_str::<Bytes>("\"%%\"").is_err());
    }
}
