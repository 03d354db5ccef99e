//! The identity core of idflow: tenants, identity stores, users, passcode policies, SRP-6a
//! passcodes and TOTP, persisted through `idflow-store`, independent of the engine and of HTTP.
//!
//! # Using it
//!
//! - [`ops`]: every operation as a function over a store transaction (`tx: &Tx`), taking the time
//!   (`now_ms`, Unix milliseconds) and pre-drawn randomness ([`ops::Entropy`]). The activities
//!   crate calls these inside its own transaction so an identity change and a process transition
//!   commit together.
//! - [`Identity`]: the same operations, each in its own durable commit, plus the listing reads;
//!   it owns the [`idflow_store::Store`], a clock and an RNG. The HTTP server uses this.
//! - [`wire`]: the JSON shapes of the API (start answers, complete requests, the user, policies,
//!   TOTP), serde types apart from the domain types in [`model`] and [`policy`].
//! - [`client`]: the Rust SRP client (and a TOTP code helper) used by tests, examples and the CLI.
//! - [`srp`], [`totp`]: the protocols themselves. [`timing`]: the server's SRP arithmetic one
//!   operation at a time, for the CLI's SRP benchmark to time.
//! - [`new_id`]: the ID format (128 random bits as 26 base32 characters).
//!
//! # Outcomes
//!
//! Operations return [`OpResult`]: a [`Failure`] (storage, corruption: abort) or an inner
//! `Result` whose error is a [`Refusal`]: an expected "no" with a stable [`RefusalCode`]
//! (`USER_NOT_FOUND`, `VERIFICATION_FAILED`, ...), a message naming the field or object at fault,
//! and a [`RefusalKind`] (NotFound, Invalid, Conflict; the server maps them to 404, 400, 409). A refusal may carry writes that
//! must be committed (see "Locking" and "Sessions"), so callers commit on `Ok(Err(_))`.
//! The facade does exactly that and then returns [`Error::Refused`].
//!
//! # Passcodes: SRP-6a
//!
//! As `spec/srp.md`: the server stores only the verifier `v = g^x` (with the user's salt for the
//! policy) and proves knowledge with `B`, `A`, `M1`, `M2`. Hostile values are refused before any
//! write: `A mod N == 0`, `A >= N`, `u == 0`, undecodable base64 (`INVALID_ENCODING`, naming the
//! field), wrong lengths (`INVALID_VERIFICATION_DATA`, `INVALID_REGISTRATION_DATA`). `M1` is
//! compared in constant time and `M2` is only returned on success.
//!
//! **Renewal and history** (srp.md "Passcode history without seeing passcodes"). A user keeps one
//! salt per passcode policy, for good: it survives renewals and deregistration. A renewal proves
//! the current passcode and stores the new verifier in one atomic step. Because the salt is fixed,
//! a repeated passcode gives an identical verifier: the new verifier is refused with
//! `PASSCODE_IN_HISTORY` if it equals the current verifier or one of the last `passcodeHistory`
//! previous verifiers kept for the user under that policy. Renewal and deregistration push the
//! outgoing verifier onto that history (trimmed to `passcodeHistory`), and a re-registration after
//! a deregistration meets the same rule. The other requirements (lengths, character classes,
//! `characterVariety`, regexes; see [`policy`]) can only be checked where the passcode is typed:
//! the server returns them with every start answer and [`client`] enforces them.
//!
//! # Sessions
//!
//! Starting a registration, renewal, authentication or TOTP registration opens a session with a
//! 26-character ID, bound to its tenant and store (it is only found under them), its user, its
//! policy and its kind (a registration session cannot complete an authentication). It expires
//! `sessionLifetimeSeconds` after it started (policy setting, default 300 s): completing it at or
//! after that instant is `SESSION_EXPIRED` and closes it. A session is single-use: a completion
//! whose input is well-formed consumes it whatever the outcome (success, wrong proof, locked user,
//! passcode in history), so of many concurrent completions of one session exactly one gets past
//! this point and the rest are `SESSION_NOT_FOUND`. Malformed or hostile input is refused with
//! nothing changed and leaves the session open. The server's ephemeral `b` lives only in its
//! session and is used for that session only. A proof session also remembers which registration
//! it was started for: if the passcode was renewed or deregistered since, completing it is
//! `SESSION_EXPIRED` (or `PASSCODE_NOT_REGISTERED`). A TOTP registration session accepts up to
//! five wrong codes before it closes. [`Identity::purge_expired_sessions`] reclaims the space of
//! sessions nobody completed.
//!
//! # Locking
//!
//! Each user counts failed attempts in a row per credential: per passcode policy (a wrong `M1` in
//! an authentication or renewal) and per TOTP policy (a wrong or replayed code). A success under
//! that policy resets its count. When a count reaches the policy's `maxFailedAttempts` (0 means
//! never), the user is locked and the count starts over:
//!
//! - `LOCKED` if the passcode policy has no `temporaryLockSeconds` (always so for TOTP policies):
//!   until an administrator unlocks it;
//! - `TEMP_LOCKED` for `temporaryLockSeconds` otherwise, after which it reads and acts `ACTIVE`.
//!
//! `lockCount` is how many times failed attempts have locked the user; it only grows. A locked
//! user cannot start or complete an authentication or renewal, nor verify a TOTP code
//! (`USER_LOCKED`); registering a credential under another policy stays possible. Unlocking
//! ([`ops::unlock_user`]) sets `ACTIVE` and clears every failed-attempt count; `lockCount` stays.
//! `DISABLED` users can do nothing credential-related (`USER_DISABLED`); `PENDING_ACTIVE` users
//! become `ACTIVE` with their first completed registration.
//!
//! # TOTP
//!
//! RFC 6238 with a 160-bit random secret per registration, SHA1/SHA256/SHA512, 6 or 8 digits,
//! the policy's period and drift (in steps, either way). The Key URI is
//! `otpauth://totp/{issuer}:{externalId}?secret=...&issuer=...&algorithm=...&digits=...&period=...`
//! and is also returned as an SVG QR code. A code is accepted once: its time step must be later
//! than the last accepted step (the registration's first code included), atomically with the
//! write that records it.
//!
//! # Persistence
//!
//! Every state-changing operation is one transaction on the store (`identity/...` keys, one
//! [`idflow_store::Record`] type per stored shape in a private module), durable before
//! [`Identity`] returns. External IDs are unique per store through an index key claimed in the
//! same transaction as the user.

mod bignum;
mod encoding;
mod error;
mod facade;
mod records;

pub mod client;
pub mod model;
pub mod ops;
pub mod policy;
pub mod qr;
pub mod srp;
pub mod timing;
pub mod totp;
pub mod wire;

pub use error::{Error, Failure, OpResult, Refusal, RefusalCode, RefusalKind};
pub use facade::{Identity, MAX_PAGE_SIZE};
pub use idflow_ids::{id_from_bytes, is_id, new_id, ID_LENGTH};
pub use model::{IdentityStore, User, UserPage, UserRef, UserStatus};
pub use ops::Entropy;
pub use policy::{PasscodePolicy, PasscodeRequirements, TotpAlgorithm, TotpPolicy};

/// Base64 as the SRP wire uses it (for clients in tests and tools).
pub mod base64_wire {
    pub use crate::encoding::{decode_lenient, encode_standard, encode_url};
}
