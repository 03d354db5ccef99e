//! Domain types of the identity core: stores, users and their registrations, as callers see them.
//!
//! These never hold secrets: a [`User`] lists which passcode and TOTP policies it is registered
//! under and when, never a verifier, salt, history or TOTP seed. Timestamps are Unix milliseconds;
//! the JSON shapes of the API (RFC 3339 strings) are in [`crate::wire`].

use std::fmt;

/// A user's status. See the crate documentation for how locking moves between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// May register, authenticate and renew.
    Active,
    /// Locked after too many failed attempts (or by an administrator) until unlocked.
    Locked,
    /// Locked after too many failed attempts under a policy with `temporaryLockSeconds`; becomes
    /// `ACTIVE` again by itself when that time has passed.
    TempLocked,
    /// Switched off by an administrator: no registration, authentication, renewal or TOTP.
    Disabled,
    /// Added but not yet registered: becomes `ACTIVE` when its first passcode or TOTP
    /// registration completes.
    PendingActive,
}

impl UserStatus {
    pub const ALL: [UserStatus; 5] = [
        UserStatus::Active,
        UserStatus::Locked,
        UserStatus::TempLocked,
        UserStatus::Disabled,
        UserStatus::PendingActive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Locked => "LOCKED",
            UserStatus::TempLocked => "TEMP_LOCKED",
            UserStatus::Disabled => "DISABLED",
            UserStatus::PendingActive => "PENDING_ACTIVE",
        }
    }

    pub fn parse(text: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identity store of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStore {
    pub tenant: String,
    pub name: String,
    pub created_at_ms: i64,
}

/// A passcode registration as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodeRegistrationInfo {
    pub policy_name: String,
    pub registered_at_ms: i64,
    /// When the passcode was last renewed; `None` until the first renewal.
    pub renewed_at_ms: Option<i64>,
}

/// A TOTP registration as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRegistrationInfo {
    pub policy_name: String,
    pub registered_at_ms: i64,
}

/// A user of an identity store, without any secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// 26 characters of base32: the SRP identity `I`.
    pub id: String,
    /// Unique within the store.
    pub external_id: String,
    /// The status in effect at the time of reading (a lapsed `TEMP_LOCKED` reads `ACTIVE`).
    pub status: UserStatus,
    pub created_at_ms: i64,
    pub last_successful_authentication_ms: Option<i64>,
    /// How many times failed attempts have locked this user (never reset).
    pub lock_count: u32,
    /// In policy-name order.
    pub registered_passcodes: Vec<PasscodeRegistrationInfo>,
    /// In policy-name order.
    pub totp_registrations: Vec<TotpRegistrationInfo>,
}

/// One page of users in ID order; pass `next_after` back as `after` for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<String>,
}

/// How an operation names its user: by ID or by external ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRef<'a> {
    Id(&'a str),
    ExternalId(&'a str),
}

impl fmt::Display for UserRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserRef::Id(id) => write!(f, "user {id:?}"),
            UserRef::ExternalId(ext) => write!(f, "user with external ID {ext:?}"),
        }
    }
}
