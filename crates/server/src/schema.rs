//! OpenAPI schemas of the identity-store JSON shapes.
//!
//! The handlers send and receive `idflow_identity::wire` types (the one serde definition of each
//! shape, shared with the activities); those cannot implement utoipa's `ToSchema` here (orphan
//! rule), so each gets a mirror type for the document. The mirrors refuse unknown fields, and
//! the HTTP tests parse every real answer into its mirror and serialize it back to the same
//! JSON: a shape that drifts from its documentation fails a test.
//!
//! Constrained fields are typed with their `constraints` types, so the document shows the same
//! bounds and patterns the domain crates enforce (their limits are what the rules are built
//! from); request mirrors refuse unknown fields exactly as the `wire` request types do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::constraints::{
    CharacterCount, CharacterVariety, DriftSteps, ExternalUserId, Issuer, MaxFailedAttempts,
    MinimumLength, NewUserStatus, PasscodeHistory, PolicyName, RegexError, RegexPattern,
    SessionLifetimeSeconds, StoreName, TemporaryLockSeconds, TotpAlgorithmName, TotpDigits,
    TotpPeriod,
};
use idflow_identity::policy::{DEFAULT_MAX_FAILED_ATTEMPTS, DEFAULT_SESSION_LIFETIME_SECONDS};

/// One regex rule of the passcode requirements: a Rust `regex` pattern and the message shown
/// when it is not met (both may be omitted: empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegExRule {
    #[schema(inline, required = false)]
    pub pattern: RegexPattern,
    #[schema(inline, required = false)]
    pub error: RegexError,
}

/// A list of regex rules, at most `MAX_RULES` long.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RegExRules(pub Vec<RegExRule>);

impl<'de> Deserialize<'de> for RegExRules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rules = Vec::<RegExRule>::deserialize(d)?;
        if rules.len() > idflow_identity::policy::MAX_RULES {
            return Err(serde::de::Error::custom(format!(
                "{} rules; at most {} are allowed",
                rules.len(),
                idflow_identity::policy::MAX_RULES
            )));
        }
        Ok(RegExRules(rules))
    }
}

impl utoipa::PartialSchema for RegExRules {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(<RegExRule as utoipa::PartialSchema>::schema())
            .max_items(Some(idflow_identity::policy::MAX_RULES))
            .into()
    }
}

impl ToSchema for RegExRules {}

/// What a passcode must satisfy; checked by the client where the passcode is typed (the server
/// never sees it). `passcodeHistory` is enforced by the server on verifiers. In a request every
/// field may be omitted: the counts default to 0, `minimumLength` to 1, `maximumLength` to 0 (no
/// maximum). Beyond each field's range, the counts together must fit in `maximumLength` (when it
/// is not 0), `maximumLength` must not be below `minimumLength`, and every pattern must compile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodeRequirements {
    #[schema(inline, required = false, example = 6)]
    pub minimum_length: MinimumLength,
    /// 0: no maximum.
    #[schema(inline, required = false, example = 12)]
    pub maximum_length: CharacterCount,
    #[schema(inline, required = false)]
    pub digit_count: CharacterCount,
    #[schema(inline, required = false)]
    pub symbol_count: CharacterCount,
    #[schema(inline, required = false)]
    pub lower_case_count: CharacterCount,
    #[schema(inline, required = false)]
    pub upper_case_count: CharacterCount,
    #[schema(inline, required = false)]
    pub character_variety: CharacterVariety,
    #[schema(inline, required = false)]
    pub passcode_history: PasscodeHistory,
    #[serde(rename = "requiredRegExes")]
    #[schema(inline, required = false)]
    pub required_reg_exes: RegExRules,
    #[serde(rename = "allowedRegExes")]
    #[schema(inline, required = false)]
    pub allowed_reg_exes: RegExRules,
    #[serde(rename = "disallowedRegExes")]
    #[schema(inline, required = false)]
    pub disallowed_reg_exes: RegExRules,
}

/// SRP-6a parameters (srp.md): the group, the user's identity and salt, and `B` once known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SrpParameters {
    /// The SRP identity `I`: the user's 26-character ID.
    #[schema(example = "UGIRW7QN727EIV2XLXG4YH42N4")]
    pub i: String,
    /// Standard base64 of `bytes(N)`.
    pub n: String,
    #[schema(example = 2)]
    pub g: u32,
    #[schema(example = "SHA-256")]
    pub hash_algorithm: String,
    /// base64url (no padding) of the raw salt.
    #[schema(example = "vrJTedGoWB61pydnOiRB7g")]
    pub salt: String,
    /// `B`, standard base64: in renewal and authentication answers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmInfo {
    /// Always `SRP`.
    #[serde(rename = "type")]
    #[schema(example = "SRP")]
    pub kind: String,
    pub parameters: SrpParameters,
}

/// The answer to starting a passcode registration, renewal or authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodeSessionStart {
    pub passcode_requirements: PasscodeRequirements,
    pub algorithm_info: AlgorithmInfo,
    #[schema(example = "UGIRW7QN727EIV2XLXG4YH42N4")]
    pub session_id: String,
}

/// `srpRegistrationData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SrpRegistrationData {
    /// `v = g^x mod N`, standard base64 of `bytes(v)` (any base64 spelling accepted).
    pub verifier: String,
}

/// `srpVerificationData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SrpVerificationData {
    /// The client's public ephemeral `A`, standard base64 of `bytes(A)`.
    pub a: String,
    /// The client's proof `M1`, standard base64 of 32 bytes.
    pub m1: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeRegistrationRequest {
    pub srp_registration_data: SrpRegistrationData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeRenewalRequest {
    /// The new passcode's verifier (same salt).
    pub srp_registration_data: SrpRegistrationData,
    /// The proof of the current passcode.
    pub srp_verification_data: SrpVerificationData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompletePasscodeAuthenticationRequest {
    pub srp_verification_data: SrpVerificationData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofParameters {
    #[schema(example = "SHA-256")]
    pub hash_algorithm: String,
    /// The server's proof `M2`, standard base64 of 32 bytes.
    pub m2: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofAlgorithmInfo {
    #[serde(rename = "type")]
    #[schema(example = "SRP")]
    pub kind: String,
    pub parameters: ProofParameters,
}

/// The answer to a completed renewal or authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodeProofResponse {
    pub algorithm_info: ProofAlgorithmInfo,
    pub user: User,
}

/// `{"user": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEnvelope {
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisteredPasscode {
    pub policy_name: String,
    /// RFC 3339.
    pub registered_at: String,
    /// RFC 3339; `null` until the first renewal.
    pub renewed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpRegistration {
    pub policy_name: String,
    /// RFC 3339.
    pub registered_at: String,
}

/// A user as the API shows it: never a verifier, salt history or TOTP seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    #[schema(example = "UGIRW7QN727EIV2XLXG4YH42N4")]
    pub id: String,
    #[schema(example = "alice@example.com")]
    pub external_id: String,
    /// `ACTIVE`, `LOCKED`, `TEMP_LOCKED`, `DISABLED` or `PENDING_ACTIVE`.
    #[schema(example = "ACTIVE")]
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, `null` before the first success.
    pub last_successful_authentication: Option<String>,
    pub lock_count: u32,
    pub registered_passcodes: Vec<RegisteredPasscode>,
    pub totp_registrations: Vec<TotpRegistration>,
}

/// A page of users in ID order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Pass back as `after` for the next page; `null` on the last page.
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddUserRequest {
    /// Unique within the store.
    #[schema(inline)]
    pub external_id: ExternalUserId,
    /// The new user's status; absent or `null`: `ACTIVE`.
    #[serde(default)]
    #[schema(inline)]
    pub status: Option<NewUserStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityStore {
    #[schema(inline)]
    pub name: StoreName,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreRequest {
    #[schema(inline, example = "main")]
    pub name: StoreName,
}

/// A passcode policy: the requirements plus locking and session settings. In a request every
/// field but `name` may be omitted and takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodePolicy {
    #[schema(inline, example = "default")]
    pub name: PolicyName,
    #[schema(required = false)]
    pub passcode_requirements: PasscodeRequirements,
    /// Failed proofs in a row that lock the user (0: never).
    #[schema(inline, required = false, default = json!(DEFAULT_MAX_FAILED_ATTEMPTS))]
    pub max_failed_attempts: MaxFailedAttempts,
    /// How long a started registration, renewal or authentication session stays usable.
    #[schema(inline, required = false, default = json!(DEFAULT_SESSION_LIFETIME_SECONDS))]
    pub session_lifetime_seconds: SessionLifetimeSeconds,
    /// 0: a lock is `LOCKED` until unlocked; otherwise `TEMP_LOCKED` for this long.
    #[schema(inline, required = false, default = 0)]
    pub temporary_lock_seconds: TemporaryLockSeconds,
}

/// A TOTP policy (RFC 6238). In a request `name` and `issuer` are required, the rest default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpPolicy {
    #[schema(inline, example = "totp")]
    pub name: PolicyName,
    #[schema(inline, example = "Acme")]
    pub issuer: Issuer,
    /// `SHA1`, `SHA256` or `SHA512` (any case, `SHA-256` too).
    #[schema(inline, required = false, default = "SHA1")]
    pub algorithm: TotpAlgorithmName,
    #[schema(inline, required = false, default = 6)]
    pub digits: TotpDigits,
    /// Seconds per time step.
    #[schema(inline, required = false, default = 30)]
    pub period: TotpPeriod,
    /// Time steps of drift accepted either way.
    #[schema(inline, required = false, default = 1)]
    pub accepted_drift_steps: DriftSteps,
    /// Failed codes in a row that lock the user (0: never).
    #[schema(inline, required = false, default = json!(DEFAULT_MAX_FAILED_ATTEMPTS))]
    pub max_failed_attempts: MaxFailedAttempts,
    /// How long a started TOTP registration stays usable.
    #[schema(inline, required = false, default = json!(DEFAULT_SESSION_LIFETIME_SECONDS))]
    pub session_lifetime_seconds: SessionLifetimeSeconds,
}

/// What an authenticator app needs, and the session to complete with the first code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// A user's current TOTP registration, to show again on another device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CurrentTotp {
    pub qr_code_string: String,
    pub secret: String,
    pub issuer: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    pub qr_code_svg: String,
}

/// A TOTP code as the authenticator app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeRequest {
    #[schema(example = "287082")]
    pub code: String,
}

/// The stores of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreList {
    pub stores: Vec<IdentityStore>,
}

/// The passcode policies of a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasscodePolicyList {
    pub policies: Vec<PasscodePolicy>,
}

/// The TOTP policies of a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpPolicyList {
    pub policies: Vec<TotpPolicy>,
}

// The process manager's and the end user's shapes are the server's own, defined beside their
// routes; re-exported here so every documented shape is reachable from one place.
pub use crate::routes::branding::BrandingBody;
pub use crate::routes::enduser::{CurrentStep, EndUserInstance, PasscodeProof, StartRequest};
pub use crate::routes::process::{
    CreateProcessToken, CustomFormDefinition, DefinitionInfo, DefinitionList, DefinitionRefBody,
    DefinitionVersions, Deployed, FormDeployed, FormList, FormSummary, FormVersion,
    InstanceErrorBody, InstancePageBody, InstanceSummaryBody, ProcessInstanceBody,
    ProcessTokenBody, ProcessTokenList, StepSummary,
};
