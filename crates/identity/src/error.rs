//! Outcomes of identity operations: expected refusals (with stable codes) kept apart from failures.
//!
//! A [`Refusal`] is an answer, not a fault: a wrong passcode, a taken external ID, an expired
//! session. It carries a stable [`RefusalCode`], a message naming the field or object at fault,
//! and (through the code) a [`RefusalKind`]: not found, invalid, or a conflict with existing data
//! (the server maps kinds to HTTP statuses; this crate knows no HTTP). A [`Failure`] is something
//! below the domain going wrong (storage I/O, a corrupt record).
//!
//! Operations in [`crate::ops`] return [`OpResult`], `Result<Result<T, Refusal>, Failure>`: the
//! outer `Err` aborts the caller's transaction, the inner `Err` does not. That is how a refusal
//! keeps the writes that must survive it (a failed proof counted towards the lock, a consumed
//! session): the operation makes them and returns `Ok(Err(refusal))`, and the caller commits.

use std::fmt;

use idflow_store::StoreError;
use serde::{Deserialize, Serialize};

/// The class of a refusal, which is all a boundary (the HTTP server) needs to choose its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The tenant, store, user, policy or registration does not exist.
    NotFound,
    /// Anything else the caller sent or asked for that cannot be done.
    Invalid,
    /// The request collides with existing data (a taken external ID or name).
    Conflict,
}

macro_rules! refusal_codes {
    ($($variant:ident => $text:literal, $kind:ident, $doc:literal;)*) => {
        /// The stable, machine-readable code of a refusal (`code` in error bodies, the BPMN error
        /// code an activity raises).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RefusalCode {
            $(#[doc = $doc] $variant,)*
        }

        impl RefusalCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [RefusalCode] = &[$(RefusalCode::$variant,)*];

            /// The code as it appears on the wire, e.g. `USER_NOT_FOUND`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RefusalCode::$variant => $text,)*
                }
            }

            /// The class of this code.
            pub fn kind(self) -> RefusalKind {
                match self {
                    $(RefusalCode::$variant => RefusalKind::$kind,)*
                }
            }

            /// The code for its wire text.
            pub fn parse(text: &str) -> Option<RefusalCode> {
                match text {
                    $($text => Some(RefusalCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

refusal_codes! {
    TenantNotFound => "TENANT_NOT_FOUND", NotFound, "No identity store was ever created in the tenant.";
    StoreNotFound => "STORE_NOT_FOUND", NotFound, "The identity store does not exist in the tenant.";
    UserNotFound => "USER_NOT_FOUND", NotFound, "No user with that ID or external ID in the store.";
    PolicyNotFound => "POLICY_NOT_FOUND", NotFound, "No passcode or TOTP policy of that name in the store.";
    PasscodeNotRegistered => "PASSCODE_NOT_REGISTERED", NotFound, "The user has no passcode under that policy.";
    TotpNotRegistered => "TOTP_NOT_REGISTERED", NotFound, "The user has no TOTP under that policy.";
    StoreAlreadyExists => "STORE_ALREADY_EXISTS", Conflict, "A store of that name exists in the tenant.";
    PolicyAlreadyExists => "POLICY_ALREADY_EXISTS", Conflict, "A policy of that name exists in the store.";
    ExtIdNotUnique => "EXT_ID_NOT_UNIQUE", Conflict, "Another user of the store has that external ID.";
    FailedToAddUser => "FAILED_TO_ADD_USER", Invalid, "The user could not be added (an unusable external ID or status).";
    PasscodeAlreadyRegistered => "PASSCODE_ALREADY_REGISTERED", Invalid, "The user already has a passcode under that policy.";
    TotpAlreadyRegistered => "TOTP_ALREADY_REGISTERED", Invalid, "The user already has a TOTP under that policy.";
    InvalidRegistrationData => "INVALID_REGISTRATION_DATA", Invalid, "The registration data is missing or not a usable verifier.";
    InvalidVerificationData => "INVALID_VERIFICATION_DATA", Invalid, "A or M1 is malformed or hostile (A mod N = 0, A >= N, u = 0, wrong length); nothing was changed.";
    InvalidEncoding => "INVALID_ENCODING", Invalid, "A field is not valid base64; the message names it.";
    SessionNotFound => "SESSION_NOT_FOUND", Invalid, "No open session of that ID and kind in the store (never existed, or already used).";
    SessionExpired => "SESSION_EXPIRED", Invalid, "The session's lifetime ran out, or the registration it was started for has changed.";
    PasscodeInHistory => "PASSCODE_IN_HISTORY", Invalid, "The new passcode is the current one or among the remembered previous ones.";
    VerificationFailed => "VERIFICATION_FAILED", Invalid, "The passcode proof M1 did not match; counted towards the lock.";
    UserLocked => "USER_LOCKED", Invalid, "The user is locked (LOCKED, or TEMP_LOCKED and not yet expired).";
    UserDisabled => "USER_DISABLED", Invalid, "The user is DISABLED.";
    InvalidCode => "INVALID_CODE", Invalid, "The TOTP code is wrong, outside the accepted drift, or already used.";
    InvalidPolicy => "INVALID_POLICY", Invalid, "A policy definition is unusable; the message names the field.";
    InvalidInput => "INVALID_INPUT", Invalid, "A name, ID or paging argument is unusable; the message names it.";
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RefusalCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefusalCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RefusalCode::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown refusal code {text:?}")))
    }
}

/// An expected "no": a stable code and a message that names the field or object at fault.
/// Messages never contain secrets (verifiers, ephemerals, TOTP seeds, passcodes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> RefusalKind {
        self.code.kind()
    }
}

/// Something went wrong below the domain. Never caused by what a client sent.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record decoded but does not make sense (a dangling index, an undecodable field).
    #[error("stored {what} is inconsistent: {reason}")]
    Corrupt { what: String, reason: String },
    /// Rendering the TOTP QR code failed (the URI is too long for a QR code).
    #[error("could not render the QR code: {0}")]
    QrCode(String),
}

/// The outcome of an operation in [`crate::ops`]: `Ok(Ok(value))`, `Ok(Err(refusal))` (commit
/// the transaction: the operation's writes, if any, are meant to stay) or `Err(failure)` (abort).
pub type OpResult<T> = Result<Result<T, Refusal>, Failure>;

/// The error of the [`crate::Identity`] facade and of the client: a refusal or a failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Failed(Failure::Store(e))
    }
}

impl Error {
    /// The refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused(r) => Some(r),
            Error::Failed(_) => None,
        }
    }

    /// The refusal code, if this is a refusal.
    pub fn code(&self) -> Option<RefusalCode> {
        self.refusal().map(|r| r.code)
    }

    /// The refusal's class, if this is a refusal.
    pub fn kind(&self) -> Option<RefusalKind> {
        self.refusal().map(Refusal::kind)
    }
}

/// Shorthand used inside the operations.
pub(crate) fn refuse<T>(code: RefusalCode, message: impl Into<String>) -> Result<T, Step> {
    Err(Step::Refused(Refusal::new(code, message)))
}

/// The inner error of an operation body: lets `?` carry both refusals and failures, then
/// [`Step::split`] turns it into an [`OpResult`] at the operation's boundary.
#[derive(Debug)]
pub(crate) enum Step {
    Refused(Refusal),
    Failed(Failure),
}

impl From<StoreError> for Step {
    fn from(e: StoreError) -> Self {
        Step::Failed(Failure::Store(e))
    }
}

impl From<Failure> for Step {
    fn from(e: Failure) -> Self {
        Step::Failed(e)
    }
}

impl From<Refusal> for Step {
    fn from(r: Refusal) -> Self {
        Step::Refused(r)
    }
}

impl Step {
    pub(crate) fn split<T>(result: Result<T, Step>) -> OpResult<T> {
        match result {
            Ok(v) => Ok(Ok(v)),
            Err(Step::Refused(r)) => Ok(Err(r)),
            Err(Step::Failed(f)) => Err(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_have_their_kinds() {
        for code in RefusalCode::ALL {
            assert_eq!(RefusalCode::parse(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        let expectations = [
            ("USER_NOT_FOUND", RefusalKind::NotFound),
            ("POLICY_NOT_FOUND", RefusalKind::NotFound),
            ("STORE_NOT_FOUND", RefusalKind::NotFound),
            ("TENANT_NOT_FOUND", RefusalKind::NotFound),
            ("PASSCODE_NOT_REGISTERED", RefusalKind::NotFound),
            ("EXT_ID_NOT_UNIQUE", RefusalKind::Conflict),
            ("PASSCODE_ALREADY_REGISTERED", RefusalKind::Invalid),
            ("INVALID_REGISTRATION_DATA", RefusalKind::Invalid),
            ("SESSION_EXPIRED", RefusalKind::Invalid),
            ("SESSION_NOT_FOUND", RefusalKind::Invalid),
            ("PASSCODE_IN_HISTORY", RefusalKind::Invalid),
            ("VERIFICATION_FAILED", RefusalKind::Invalid),
            ("USER_LOCKED", RefusalKind::Invalid),
            ("FAILED_TO_ADD_USER", RefusalKind::Invalid),
            ("TOTP_ALREADY_REGISTERED", RefusalKind::Invalid),
            ("TOTP_NOT_REGISTERED", RefusalKind::NotFound),
            ("INVALID_CODE", RefusalKind::Invalid),
            ("INVALID_ENCODING", RefusalKind::Invalid),
        ];
        for (text, kind) in expectations {
            let code = RefusalCode::parse(text);
            assert_eq!(code.map(RefusalCode::kind), Some(kind), "{text}");
        }
    }

    #[test]
    fn split_keeps_refusals_inside_ok() {
        let refused: Result<(), Step> = refuse(RefusalCode::InvalidCode, "code is wrong");
        assert!(matches!(Step::split(refused), Ok(Err(r)) if r.code == RefusalCode::InvalidCode));
        let failed: Result<(), Step> = Err(Step::Failed(Failure::QrCode("x".into())));
        assert!(Step::split(failed).is_err());
    }
}
