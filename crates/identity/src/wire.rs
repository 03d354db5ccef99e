//! The JSON shapes of `spec/api.md`, as serde types kept apart from the domain types.
//!
//! The HTTP server sends and receives these; the activities crate puts the same shapes into process
//! variables (`serde_json::to_value(&x)`, or [`to_value`]). Field names are exactly the API's
//! (`passcodeRequirements`, `algorithmInfo`, `srpVerificationData`, ...). Timestamps are RFC 3339
//! strings in UTC with milliseconds (`2023-11-14T22:13:20.000Z`), `null` when unset.
//!
//! Types holding a secret (a verifier, a TOTP seed or its URI) print redacted in `Debug`.
//!
//! Request shapes refuse unknown fields: a misspelt optional field (`maxFailedAtempts`) would
//! otherwise be dropped silently and its default used.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Refusal, RefusalCode};
use crate::model;
use crate::policy;

/// Any of these types as a JSON value (they cannot fail to serialize; `Null` if one ever did).
pub fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Unix milliseconds as RFC 3339 (`YYYY-MM-DDTHH:MM:SS.mmmZ`), clamped to years 0000-9999.
pub fn format_timestamp(unix_ms: i64) -> String {
    const MIN_MS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let clamped = unix_ms.clamp(MIN_MS, MAX_MS);
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(clamped) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// The inverse of [`format_timestamp`] (any RFC 3339 offset accepted).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads an unsigned integer field of a request the way JSON Schema defines `integer`: any JSON
/// number without a fractional part, so `30`, `30.0` and `3e1` are all 30 (as Jackson-based
/// clients, which Camunda and Keycloak users bring, may write them). Out of range is an error.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error as _;
    let number = serde_json::Number::deserialize(deserializer)?;
    let value = match (number.as_u64(), number.as_f64()) {
        (Some(n), _) => Some(n),
        (None, Some(f)) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => {
            Some(f as u64)
        }
        _ => None,
    };
    value
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number in range")))
}

/// [`whole_number`] for an optional field (`null` or absent: `None`).
pub fn optional_whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] u64);
    match Option::<Whole>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Whole(n)) => T::try_from(n)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is out of range"))),
    }
}

/// One regex rule of the requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RegExRule {
    pub pattern: String,
    pub error: String,
}

/// `passcodeRequirements`. Omitted fields take the defaults of
/// [`policy::PasscodeRequirements::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PasscodeRequirements {
    #[serde(deserialize_with = "whole_number")]
    pub minimum_length: u32,
    #[serde(deserialize_with = "whole_number")]
    pub maximum_length: u32,
    #[serde(deserialize_with = "whole_number")]
    pub digit_count: u32,
    #[serde(deserialize_with = "whole_number")]
    pub symbol_count: u32,
    #[serde(deserialize_with = "whole_number")]
    pub lower_case_count: u32,
    #[serde(deserialize_with = "whole_number")]
    pub upper_case_count: u32,
    #[serde(deserialize_with = "whole_number")]
    pub character_variety: u32,
    #[serde(deserialize_with = "whole_number")]
    pub passcode_history: u32,
    #[serde(rename = "requiredRegExes")]
    pub required_reg_exes: Vec<RegExRule>,
    #[serde(rename = "allowedRegExes")]
    pub allowed_reg_exes: Vec<RegExRule>,
    #[serde(rename = "disallowedRegExes")]
    pub disallowed_reg_exes: Vec<RegExRule>,
}

impl Default for PasscodeRequirements {
    fn default() -> Self {
        PasscodeRequirements::from(&policy::PasscodeRequirements::default())
    }
}

fn rules_to_wire(rules: &[policy::RegexRule]) -> Vec<RegExRule> {
    rules
        .iter()
        .map(|r| RegExRule {
            pattern: r.pattern.clone(),
            error: r.error.clone(),
        })
        .collect()
}

fn rules_from_wire(rules: &[RegExRule]) -> Vec<policy::RegexRule> {
    rules
        .iter()
        .map(|r| policy::RegexRule {
            pattern: r.pattern.clone(),
            error: r.error.clone(),
        })
        .collect()
}

impl From<&policy::PasscodeRequirements> for PasscodeRequirements {
    fn from(r: &policy::PasscodeRequirements) -> Self {
        PasscodeRequirements {
            minimum_length: r.minimum_length,
            maximum_length: r.maximum_length,
            digit_count: r.digit_count,
            symbol_count: r.symbol_count,
            lower_case_count: r.lower_case_count,
            upper_case_count: r.upper_case_count,
            character_variety: r.character_variety,
            passcode_history: r.passcode_history,
            required_reg_exes: rules_to_wire(&r.required_regexes),
            allowed_reg_exes: rules_to_wire(&r.allowed_regexes),
            disallowed_reg_exes: rules_to_wire(&r.disallowed_regexes),
        }
    }
}

impl From<&PasscodeRequirements> for policy::PasscodeRequirements {
    fn from(r: &PasscodeRequirements) -> Self {
        policy::PasscodeRequirements {
            minimum_length: r.minimum_length,
            maximum_length: r.maximum_length,
            digit_count: r.digit_count,
            symbol_count: r.symbol_count,
            lower_case_count: r.lower_case_count,
            upper_case_count: r.upper_case_count,
            character_variety: r.character_variety,
            passcode_history: r.passcode_history,
            required_regexes: rules_from_wire(&r.required_reg_exes),
            allowed_regexes: rules_from_wire(&r.allowed_reg_exes),
            disallowed_regexes: rules_from_wire(&r.disallowed_reg_exes),
        }
    }
}

/// `algorithmInfo.parameters` of a start answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrpParameters {
    /// The SRP identity `I`: the user's 26-character ID.
    pub i: String,
    /// Standard base64 of `bytes(N)`.
    pub n: String,
    pub g: u32,
    pub hash_algorithm: String,
    /// base64url (no padding) of the raw salt.
    pub salt: String,
    /// `B`, standard base64: present in renewal and authentication answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_public_key: Option<String>,
}

/// `algorithmInfo` of a start answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlgorithmInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub parameters: SrpParameters,
}

/// The answer to starting a passcode registration, renewal or authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasscodeSessionStart {
    pub passcode_requirements: PasscodeRequirements,
    pub algorithm_info: AlgorithmInfo,
    pub session_id: String,
}

/// `srpRegistrationData`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrpRegistrationData {
    /// Standard base64 of `bytes(v)` (any base64 spelling is accepted).
    pub verifier: String,
}

impl fmt::Debug for SrpRegistrationData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpRegistrationData")
            .field("verifier", &"<redacted>")
            .finish()
    }
}

/// `srpVerificationData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SrpVerificationData {
    /// Standard base64 of `bytes(A)`.
    pub a: String,
    /// Standard base64 of the 32-byte `M1`.
    pub m1: String,
}

/// Body of complete registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeRegistrationRequest {
    pub srp_registration_data: SrpRegistrationData,
}

/// Body of complete renewal: the old passcode's proof and the new verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeRenewalRequest {
    pub srp_registration_data: SrpRegistrationData,
    pub srp_verification_data: SrpVerificationData,
}

/// Body of complete authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeAuthenticationRequest {
    pub srp_verification_data: SrpVerificationData,
}

/// `algorithmInfo.parameters` of a completed proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofParameters {
    pub hash_algorithm: String,
    /// Standard base64 of the 32-byte `M2`.
    pub m2: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofAlgorithmInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub parameters: ProofParameters,
}

/// The answer to a completed renewal or authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasscodeProofResponse {
    pub algorithm_info: ProofAlgorithmInfo,
    pub user: User,
}

/// `{"user": {...}}`: the answer to complete registration, deregistration and TOTP operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEnvelope {
    pub user: User,
}

/// `registeredPasscodes[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredPasscode {
    pub policy_name: String,
    pub registered_at: String,
    pub renewed_at: Option<String>,
}

/// `totpRegistrations[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpRegistration {
    pub policy_name: String,
    pub registered_at: String,
}

/// A user as the API shows it. Never a verifier, salt, history or TOTP seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub external_id: String,
    /// `ACTIVE`, `LOCKED`, `TEMP_LOCKED`, `DISABLED` or `PENDING_ACTIVE`.
    pub status: String,
    pub created_at: String,
    pub last_successful_authentication: Option<String>,
    pub lock_count: u32,
    pub registered_passcodes: Vec<RegisteredPasscode>,
    pub totp_registrations: Vec<TotpRegistration>,
}

impl From<&model::User> for User {
    fn from(u: &model::User) -> Self {
        User {
            id: u.id.clone(),
            external_id: u.external_id.clone(),
            status: u.status.as_str().to_string(),
            created_at: format_timestamp(u.created_at_ms),
            last_successful_authentication: u
                .last_successful_authentication_ms
                .map(format_timestamp),
            lock_count: u.lock_count,
            registered_passcodes: u
                .registered_passcodes
                .iter()
                .map(|p| RegisteredPasscode {
                    policy_name: p.policy_name.clone(),
                    registered_at: format_timestamp(p.registered_at_ms),
                    renewed_at: p.renewed_at_ms.map(format_timestamp),
                })
                .collect(),
            totp_registrations: u
                .totp_registrations
                .iter()
                .map(|t| TotpRegistration {
                    policy_name: t.policy_name.clone(),
                    registered_at: format_timestamp(t.registered_at_ms),
                })
                .collect(),
        }
    }
}

impl From<model::User> for User {
    fn from(u: model::User) -> Self {
        User::from(&u)
    }
}

/// A page of users; `nextAfter` goes back as the `after` argument for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<String>,
}

impl From<&model::UserPage> for UserPage {
    fn from(p: &model::UserPage) -> Self {
        UserPage {
            users: p.users.iter().map(User::from).collect(),
            next_after: p.next_after.clone(),
        }
    }
}

/// Body of add user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddUserRequest {
    pub external_id: String,
    /// `ACTIVE` (default), `PENDING_ACTIVE` or `DISABLED`.
    #[serde(default)]
    pub status: Option<String>,
}

/// An identity store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityStore {
    pub name: String,
    pub created_at: String,
}

impl From<&model::IdentityStore> for IdentityStore {
    fn from(s: &model::IdentityStore) -> Self {
        IdentityStore {
            name: s.name.clone(),
            created_at: format_timestamp(s.created_at_ms),
        }
    }
}

/// Body of create store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreRequest {
    pub name: String,
}

fn default_max_failed_attempts() -> u32 {
    policy::DEFAULT_MAX_FAILED_ATTEMPTS
}
fn default_session_lifetime() -> u32 {
    policy::DEFAULT_SESSION_LIFETIME_SECONDS
}

/// A passcode policy: the requirements plus locking and session settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodePolicy {
    pub name: String,
    #[serde(default)]
    pub passcode_requirements: PasscodeRequirements,
    #[serde(default = "default_max_failed_attempts")]
    #[serde(deserialize_with = "whole_number")]
    pub max_failed_attempts: u32,
    #[serde(default = "default_session_lifetime")]
    #[serde(deserialize_with = "whole_number")]
    pub session_lifetime_seconds: u32,
    #[serde(default)]
    #[serde(deserialize_with = "whole_number")]
    pub temporary_lock_seconds: u32,
}

impl From<&policy::PasscodePolicy> for PasscodePolicy {
    fn from(p: &policy::PasscodePolicy) -> Self {
        PasscodePolicy {
            name: p.name.clone(),
            passcode_requirements: PasscodeRequirements::from(&p.requirements),
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
            temporary_lock_seconds: p.temporary_lock_seconds,
        }
    }
}

impl From<&PasscodePolicy> for policy::PasscodePolicy {
    fn from(p: &PasscodePolicy) -> Self {
        policy::PasscodePolicy {
            name: p.name.clone(),
            requirements: policy::PasscodeRequirements::from(&p.passcode_requirements),
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
            temporary_lock_seconds: p.temporary_lock_seconds,
        }
    }
}

fn default_algorithm() -> String {
    "SHA1".into()
}
fn default_digits() -> u32 {
    6
}
fn default_period() -> u32 {
    30
}
fn default_drift() -> u32 {
    1
}

/// A TOTP policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpPolicy {
    pub name: String,
    pub issuer: String,
    /// `SHA1` (default), `SHA256` or `SHA512`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// 6 (default) or 8.
    #[serde(default = "default_digits")]
    #[serde(deserialize_with = "whole_number")]
    pub digits: u32,
    /// Seconds per time step (default 30).
    #[serde(default = "default_period")]
    #[serde(deserialize_with = "whole_number")]
    pub period: u32,
    /// Time steps of drift accepted either way (default 1).
    #[serde(default = "default_drift")]
    #[serde(deserialize_with = "whole_number")]
    pub accepted_drift_steps: u32,
    #[serde(default = "default_max_failed_attempts")]
    #[serde(deserialize_with = "whole_number")]
    pub max_failed_attempts: u32,
    #[serde(default = "default_session_lifetime")]
    #[serde(deserialize_with = "whole_number")]
    pub session_lifetime_seconds: u32,
}

impl From<&policy::TotpPolicy> for TotpPolicy {
    fn from(p: &policy::TotpPolicy) -> Self {
        TotpPolicy {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            algorithm: p.algorithm.as_str().to_string(),
            digits: p.digits,
            period: p.period_seconds,
            accepted_drift_steps: p.accepted_drift_steps,
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
        }
    }
}

impl TryFrom<&TotpPolicy> for policy::TotpPolicy {
    type Error = Refusal;

    fn try_from(p: &TotpPolicy) -> Result<Self, Refusal> {
        let algorithm = policy::TotpAlgorithm::parse(&p.algorithm).ok_or_else(|| {
            Refusal::new(
                RefusalCode::InvalidPolicy,
                format!(
                    "algorithm is {:?}; it must be SHA1, SHA256 or SHA512",
                    p.algorithm
                ),
            )
        })?;
        Ok(policy::TotpPolicy {
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            algorithm,
            digits: p.digits,
            period_seconds: p.period,
            accepted_drift_steps: p.accepted_drift_steps,
            max_failed_attempts: p.max_failed_attempts,
            session_lifetime_seconds: p.session_lifetime_seconds,
        })
    }
}

/// The answer to starting a TOTP registration: what the authenticator app needs, and the session
/// to complete with the first code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpRegistrationStart {
    pub session_id: String,
    /// The `otpauth://totp/...` Key URI.
    pub qr_code_string: String,
    /// The secret, base32 without padding.
    pub secret: String,
    pub issuer: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    /// The QR code of `qrCodeString`, an SVG document.
    pub qr_code_svg: String,
}

impl fmt::Debug for TotpRegistrationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpRegistrationStart")
            .field("session_id", &self.session_id)
            .field("qr_code_string", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .field("qr_code_svg", &"<redacted>")
            .finish()
    }
}

/// The current TOTP of a user (`processvar._identityStore.currentTOTP`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentTotp {
    pub qr_code_string: String,
    pub secret: String,
    pub issuer: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    pub qr_code_svg: String,
}

impl fmt::Debug for CurrentTotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentTotp")
            .field("qr_code_string", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .field("qr_code_svg", &"<redacted>")
            .finish()
    }
}

/// Body of complete TOTP registration and of TOTP authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeRequest {
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_timestamp(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(format_timestamp(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn the_seed_start_answer_parses_and_round_trips() {
        let seed = json!({ "passcodeRequirements": { "minimumLength": 6, "maximumLength": 12, "digitCount": 1, "symbolCount": 1,
            "lowerCaseCount": 1, "upperCaseCount": 1, "characterVariety": 1, "passcodeHistory": 1,
            "requiredRegExes": [{"pattern": "", "error": ""}], "allowedRegExes": [], "disallowedRegExes": [] },
          "algorithmInfo": { "type": "SRP", "parameters": { "i": "UGIRW7QN727EIV2XLXG4YH42N4", "n": "AQ==", "g": 2,
            "hashAlgorithm": "SHA-256", "salt": "vrJTedGoWB61pydnOiRB7g" } },
          "sessionId": "UGIRW7QN727EIV2XLXG4YH42N4" });
        let parsed: PasscodeSessionStart =
            serde_json::from_value(seed.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.passcode_requirements.maximum_length, 12);
        assert_eq!(parsed.algorithm_info.parameters.server_public_key, None);
        assert_eq!(to_value(&parsed), seed);
    }

    #[test]
    fn a_user_shows_null_for_unset_timestamps() {
        let user = model::User {
            id: "UGIRW7QN727EIV2XLXG4YH42N4".into(),
            external_id: "alice".into(),
            status: model::UserStatus::Active,
            created_at_ms: 0,
            last_successful_authentication_ms: None,
            lock_count: 0,
            registered_passcodes: vec![model::PasscodeRegistrationInfo {
                policy_name: "p".into(),
                registered_at_ms: 1000,
                renewed_at_ms: None,
            }],
            totp_registrations: vec![],
        };
        assert_eq!(
            to_value(&User::from(&user)),
            json!({"id": "UGIRW7QN727EIV2XLXG4YH42N4", "externalId": "alice", "status": "ACTIVE",
                "createdAt": "1970-01-01T00:00:00.000Z", "lastSuccessfulAuthentication": null,
                "lockCount": 0,
                "registeredPasscodes": [{"policyName": "p", "registeredAt": "1970-01-01T00:00:01.000Z", "renewedAt": null}],
                "totpRegistrations": []})
        );
    }

    #[test]
    fn policies_take_defaults_and_totp_algorithms_are_checked() {
        let p: PasscodePolicy =
            serde_json::from_value(json!({"name": "p"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.max_failed_attempts, policy::DEFAULT_MAX_FAILED_ATTEMPTS);
        assert_eq!(p.passcode_requirements.minimum_length, 1);
        let t: TotpPolicy =
            serde_json::from_value(json!({"name": "t", "issuer": "Acme", "algorithm": "MD5"}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(policy::TotpPolicy::try_from(&t).is_err_and(|r| r.message.contains("algorithm")));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let reg = SrpRegistrationData {
            verifier: "c2VjcmV0".into(),
        };
        assert!(!format!("{reg:?}").contains("c2VjcmV0"));
        let current = CurrentTotp {
            qr_code_string: "otpauth://totp/A:b?secret=JBSWY3DP".into(),
            secret: "JBSWY3DP".into(),
            issuer: "A".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            qr_code_svg: "<svg/>".into(),
        };
        assert!(!format!("{current:?}").contains("JBSWY3DP"));
    }
}
