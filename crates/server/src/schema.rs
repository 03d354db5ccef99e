//! OpenAPI schemas of the identity-store JSON shapes.
//!
//! The handlers send and receive `idflow_identity::wire` types (the one serde definition of each
//! shape, shared with the activities); those cannot implement utoipa's `ToSchema` here (orphan
//! rule), so each gets a mirror type for the document. The mirrors refuse unknown fields, and
//! the HTTP tests parse every real answer into its mirror and serialize it back to the same
//! JSON: a shape that drifts from its documentation fails a test.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One regex rule of the passcode requirements.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegExRule {
    pub pattern: String,
    pub error: String,
}

/// What a passcode must satisfy; checked by the client where the passcode is typed (the server
/// never sees it). `passcodeHistory` is enforced by the server on verifiers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PasscodeRequirements {
    #[schema(example = 6)]
    pub minimum_length: u32,
    #[schema(example = 12)]
    pub maximum_length: u32,
    pub digit_count: u32,
    pub symbol_count: u32,
    pub lower_case_count: u32,
    pub upper_case_count: u32,
    pub character_variety: u32,
    pub passcode_history: u32,
    #[serde(rename = "requiredRegExes")]
    pub required_reg_exes: Vec<RegExRule>,
    #[serde(rename = "allowedRegExes")]
    pub allowed_reg_exes: Vec<RegExRule>,
    #[serde(rename = "disallowedRegExes")]
    pub disallowed_reg_exes: Vec<RegExRule>,
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
    pub external_id: String,
    /// `ACTIVE` (default), `PENDING_ACTIVE` or `DISABLED`.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityStore {
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreRequest {
    #[schema(example = "main")]
    pub name: String,
}

/// A passcode policy: the requirements plus locking and session settings. In a request every
/// field but `name` may be omitted and takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodePolicy {
    #[schema(example = "default")]
    pub name: String,
    #[serde(default)]
    pub passcode_requirements: PasscodeRequirements,
    /// Failed proofs in a row that lock the user.
    #[serde(default)]
    #[schema(example = 5)]
    pub max_failed_attempts: u32,
    /// How long a started registration, renewal or authentication session stays usable.
    #[serde(default)]
    #[schema(example = 300)]
    pub session_lifetime_seconds: u32,
    /// 0: a lock is `LOCKED` until unlocked; otherwise `TEMP_LOCKED` for this long.
    #[serde(default)]
    pub temporary_lock_seconds: u32,
}

/// A TOTP policy (RFC 6238). In a request `name` and `issuer` are required, the rest default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TotpPolicy {
    #[schema(example = "totp")]
    pub name: String,
    #[schema(example = "Acme")]
    pub issuer: String,
    /// `SHA1` (default), `SHA256` or `SHA512`.
    #[serde(default)]
    #[schema(example = "SHA1")]
    pub algorithm: String,
    /// 6 (default) or 8.
    #[serde(default)]
    #[schema(example = 6)]
    pub digits: u32,
    /// Seconds per time step (default 30).
    #[serde(default)]
    #[schema(example = 30)]
    pub period: u32,
    /// Time steps of drift accepted either way (default 1).
    #[serde(default)]
    #[schema(example = 1)]
    pub accepted_drift_steps: u32,
    /// Failed codes in a row that lock the user.
    #[serde(default)]
    pub max_failed_attempts: u32,
    /// How long a started TOTP registration stays usable.
    #[serde(default)]
    pub session_lifetime_seconds: u32,
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
    CreateProcessToken, DefinitionInfo, DefinitionList, DefinitionRefBody, DefinitionVersions,
    Deployed, FormDeployed, FormList, FormSummary, FormVersion, InstanceErrorBody,
    InstancePageBody, InstanceSummaryBody, ProcessInstanceBody, ProcessTokenBody, ProcessTokenList,
    StepSummary,
};
