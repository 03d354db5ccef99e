//! The Rust SRP-6a client: turns the server's start answers and a passcode into the complete
//! requests, and checks the server's `M2`. Also a small TOTP code helper for tests and examples.
//!
//! The client enforces the policy's `passcodeRequirements` (see [`crate::policy::check_passcode`])
//! before it derives a verifier, for registration and for the new passcode of a renewal; the
//! server cannot, it never sees the passcode. Randomness (`a`) comes from the caller's RNG, so a
//! seeded RNG gives deterministic requests.

use rand::RngCore;

use crate::encoding;
use crate::policy::{self, TotpAlgorithm, UnmetRequirement};
use crate::srp::{self, SessionKeys, SrpError};
use crate::totp;
use crate::wire;

/// Why the client could not produce a request or accept the server's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The passcode misses these requirements of the policy (every one is listed).
    #[error("the passcode does not meet the policy: {}", .0.iter().map(|u| u.message.as_str()).collect::<Vec<_>>().join("; "))]
    Requirements(Vec<UnmetRequirement>),
    /// The server asked for something this client does not speak (another group, hash or type).
    #[error("unsupported SRP parameters: {0}")]
    UnsupportedParameters(String),
    #[error("{field} {problem}")]
    Encoding {
        field: &'static str,
        problem: String,
    },
    #[error("algorithmInfo.parameters.serverPublicKey is missing from a renewal or authentication answer")]
    MissingServerPublicKey,
    #[error(transparent)]
    Srp(#[from] SrpError),
    /// The server's `M2` does not match: it does not hold the verifier (or the answer was altered).
    #[error("the server's proof M2 does not match")]
    ServerProofMismatch,
}

/// Checks the start answer speaks srp.md's SRP and returns the salt.
fn check_parameters(start: &wire::PasscodeSessionStart) -> Result<Vec<u8>, ClientError> {
    let info = &start.algorithm_info;
    if info.kind != srp::ALGORITHM_TYPE {
        return Err(ClientError::UnsupportedParameters(format!(
            "algorithmInfo.type is {:?}, expected {:?}",
            info.kind,
            srp::ALGORITHM_TYPE
        )));
    }
    let p = &info.parameters;
    if p.g != srp::GENERATOR {
        return Err(ClientError::UnsupportedParameters(format!(
            "g is {}, expected 2",
            p.g
        )));
    }
    if !p.hash_algorithm.eq_ignore_ascii_case(srp::HASH_ALGORITHM) {
        return Err(ClientError::UnsupportedParameters(format!(
            "hashAlgorithm is {:?}, expected {:?}",
            p.hash_algorithm,
            srp::HASH_ALGORITHM
        )));
    }
    let n = decode("algorithmInfo.parameters.n", &p.n)?;
    if crate::bignum::strip_leading_zeros(&n) != srp::n_bytes() {
        return Err(ClientError::UnsupportedParameters(
            "n is not the RFC 5054 2048-bit group".into(),
        ));
    }
    let salt = decode("algorithmInfo.parameters.salt", &p.salt)?;
    if salt.is_empty() {
        return Err(ClientError::Srp(SrpError::Empty { field: "salt" }));
    }
    Ok(salt)
}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, ClientError> {
    encoding::decode_lenient(text).map_err(|problem| ClientError::Encoding { field, problem })
}

fn enforce(start: &wire::PasscodeSessionStart, passcode: &str) -> Result<(), ClientError> {
    let requirements = policy::PasscodeRequirements::from(&start.passcode_requirements);
    let unmet = policy::check_passcode(&requirements, passcode);
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(ClientError::Requirements(unmet))
    }
}

fn registration_data(
    start: &wire::PasscodeSessionStart,
    salt: &[u8],
    passcode: &str,
) -> wire::SrpRegistrationData {
    let verifier = srp::compute_verifier(salt, &start.algorithm_info.parameters.i, passcode);
    wire::SrpRegistrationData {
        verifier: encoding::encode_standard(&verifier),
    }
}

/// The complete-registration request for `passcode`, after checking it against the policy.
pub fn register(
    start: &wire::PasscodeSessionStart,
    passcode: &str,
) -> Result<wire::CompletePasscodeRegistrationRequest, ClientError> {
    let salt = check_parameters(start)?;
    enforce(start, passcode)?;
    Ok(wire::CompletePasscodeRegistrationRequest {
        srp_registration_data: registration_data(start, &salt, passcode),
    })
}

/// A request ready to send and the keys to check the server's answer with.
#[derive(Debug, Clone)]
pub struct PendingProof<R> {
    request: R,
    keys: SessionKeys,
}

impl<R> PendingProof<R> {
    /// The request body to send.
    pub fn request(&self) -> &R {
        &self.request
    }

    /// The shared session key `K` (secret).
    pub fn session_key(&self) -> &[u8; srp::DIGEST_BYTES] {
        self.keys.key()
    }

    /// Checks the server's `M2` (constant time): success proves the server holds the verifier.
    pub fn verify_server(&self, response: &wire::PasscodeProofResponse) -> Result<(), ClientError> {
        let m2 = decode(
            "algorithmInfo.parameters.m2",
            &response.algorithm_info.parameters.m2,
        )?;
        if self.keys.server_proof_matches(&m2) {
            Ok(())
        } else {
            Err(ClientError::ServerProofMismatch)
        }
    }
}

fn verification_data(
    start: &wire::PasscodeSessionStart,
    salt: &[u8],
    passcode: &str,
    a: &[u8],
) -> Result<(wire::SrpVerificationData, SessionKeys), ClientError> {
    let b_text = start
        .algorithm_info
        .parameters
        .server_public_key
        .as_deref()
        .ok_or(ClientError::MissingServerPublicKey)?;
    let b_pub = decode("algorithmInfo.parameters.serverPublicKey", b_text)?;
    let (a_pub, keys) = srp::client_keys(
        &start.algorithm_info.parameters.i,
        passcode,
        salt,
        a,
        &b_pub,
    )?;
    Ok((
        wire::SrpVerificationData {
            a: encoding::encode_standard(&a_pub),
            m1: encoding::encode_standard(keys.m1()),
        },
        keys,
    ))
}

fn draw_ephemeral(rng: &mut (impl RngCore + ?Sized)) -> [u8; srp::EPHEMERAL_BYTES] {
    let mut a = [0u8; srp::EPHEMERAL_BYTES];
    while a.iter().all(|b| *b == 0) {
        rng.fill_bytes(&mut a);
    }
    a
}

/// The complete-authentication request proving `passcode`, with a fresh `a` from `rng`.
pub fn authenticate(
    start: &wire::PasscodeSessionStart,
    passcode: &str,
    rng: &mut (impl RngCore + ?Sized),
) -> Result<PendingProof<wire::CompletePasscodeAuthenticationRequest>, ClientError> {
    authenticate_with_ephemeral(start, passcode, &draw_ephemeral(rng))
}

/// As [`authenticate`] with a given secret ephemeral `a` (interop vectors; never reuse an `a`).
pub fn authenticate_with_ephemeral(
    start: &wire::PasscodeSessionStart,
    passcode: &str,
    a: &[u8],
) -> Result<PendingProof<wire::CompletePasscodeAuthenticationRequest>, ClientError> {
    let salt = check_parameters(start)?;
    let (data, keys) = verification_data(start, &salt, passcode, a)?;
    Ok(PendingProof {
        request: wire::CompletePasscodeAuthenticationRequest {
            srp_verification_data: data,
        },
        keys,
    })
}

/// The complete-renewal request: a proof of `old_passcode` and the verifier of `new_passcode`
/// (checked against the policy first), both with the user's salt.
pub fn renew(
    start: &wire::PasscodeSessionStart,
    old_passcode: &str,
    new_passcode: &str,
    rng: &mut (impl RngCore + ?Sized),
) -> Result<PendingProof<wire::CompletePasscodeRenewalRequest>, ClientError> {
    let salt = check_parameters(start)?;
    enforce(start, new_passcode)?;
    let (data, keys) = verification_data(start, &salt, old_passcode, &draw_ephemeral(rng))?;
    Ok(PendingProof {
        request: wire::CompletePasscodeRenewalRequest {
            srp_registration_data: registration_data(start, &salt, new_passcode),
            srp_verification_data: data,
        },
        keys,
    })
}

/// The TOTP code at `unix_ms` for a base32 secret and the policy's parameters.
pub fn totp_code(
    secret_base32: &str,
    algorithm: &str,
    digits: u32,
    period_seconds: u32,
    unix_ms: i64,
) -> Result<String, ClientError> {
    let secret =
        totp::secret_from_base32(secret_base32).map_err(|problem| ClientError::Encoding {
            field: "secret",
            problem,
        })?;
    let algorithm = TotpAlgorithm::parse(algorithm).ok_or_else(|| {
        ClientError::UnsupportedParameters(format!("TOTP algorithm {algorithm:?}"))
    })?;
    Ok(totp::code_at(
        &secret,
        unix_ms,
        period_seconds,
        algorithm,
        digits,
    ))
}

/// The code an authenticator app set up from `start` shows at `unix_ms`.
pub fn totp_code_for_registration(
    start: &wire::TotpRegistrationStart,
    unix_ms: i64,
) -> Result<String, ClientError> {
    totp_code(
        &start.secret,
        &start.algorithm,
        start.digits,
        start.period,
        unix_ms,
    )
}

/// The code an authenticator app set up from `current` shows at `unix_ms`.
pub fn totp_code_for_current(
    current: &wire::CurrentTotp,
    unix_ms: i64,
) -> Result<String, ClientError> {
    totp_code(
        &current.secret,
        &current.algorithm,
        current.digits,
        current.period,
        unix_ms,
    )
}
