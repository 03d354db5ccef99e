//! Shared fixtures for the identity integration tests: an `Identity` over a temporary (or on-disk)
//! store with a clock the test moves by hand and a seeded RNG.
#![allow(dead_code)]

use std::sync::Arc;

use idflow_clock::{Clock, ManualClock};

use idflow_identity::policy::{
    PasscodePolicy, PasscodeRequirements, RegexRule, TotpAlgorithm, TotpPolicy,
};
use idflow_identity::{Identity, UserStatus};
use idflow_store::Store;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub const TENANT: &str = "acme";
pub const STORE: &str = "customers";
pub const POLICY: &str = "pin";
pub const TOTP_POLICY: &str = "otp";
pub const START_MS: i64 = 1_700_000_000_000;

pub struct Fixture {
    pub identity: Identity,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock.advance(ms);
    }
}

pub fn identity_over(store: Store, seed: u64, clock: Arc<ManualClock>) -> Identity {
    Identity::new(store, clock, Box::new(ChaCha20Rng::seed_from_u64(seed)))
}

/// A fixture with a store, a passcode policy and a TOTP policy.
pub fn fixture(seed: u64) -> Fixture {
    fixture_with(seed, passcode_policy(), totp_policy())
}

pub fn fixture_with(seed: u64, passcode: PasscodePolicy, totp: TotpPolicy) -> Fixture {
    let clock = Arc::new(ManualClock::new(START_MS));
    let identity = identity_over(idflow_pgtest::temporary_store(), seed, clock.clone());
    identity.create_store(TENANT, STORE).expect("store");
    identity
        .create_passcode_policy(TENANT, STORE, &passcode)
        .expect("passcode policy");
    identity
        .create_totp_policy(TENANT, STORE, &totp)
        .expect("totp policy");
    Fixture { identity, clock }
}

/// The seeds' example requirements (regex placeholders included), history 2, 3 attempts.
pub fn passcode_policy() -> PasscodePolicy {
    PasscodePolicy {
        name: POLICY.into(),
        requirements: PasscodeRequirements {
            minimum_length: 6,
            maximum_length: 24,
            digit_count: 1,
            symbol_count: 1,
            lower_case_count: 1,
            upper_case_count: 1,
            character_variety: 1,
            passcode_history: 2,
            required_regexes: vec![RegexRule::default()],
            allowed_regexes: vec![],
            disallowed_regexes: vec![],
        },
        max_failed_attempts: 3,
        session_lifetime_seconds: 300,
        temporary_lock_seconds: 0,
    }
}

pub fn totp_policy() -> TotpPolicy {
    TotpPolicy {
        name: TOTP_POLICY.into(),
        issuer: "Acme".into(),
        algorithm: TotpAlgorithm::Sha1,
        digits: 6,
        period_seconds: 30,
        accepted_drift_steps: 1,
        max_failed_attempts: 3,
        session_lifetime_seconds: 300,
    }
}

/// Adds an ACTIVE user and returns its ID.
pub fn add_user(f: &Fixture, external_id: &str) -> String {
    f.identity
        .add_user(TENANT, STORE, external_id, UserStatus::Active)
        .expect("add user")
        .id
}
