//! The rate limit on instance starts per process token: a process token is a public link, and
//! without a limit whoever holds an unlimited one can start instances as fast as the server
//! answers, each a durable record.
//!
//! Each token gets a GCRA bucket (governor): `per_second` starts sustained, `burst` at once. A
//! start over the limit is 429 with `Retry-After`, and consumes nothing (no token use, no
//! instance). Buckets exist only for real token IDs (the runtime is asked first), so made-up IDs
//! cannot grow the table, and idle buckets are dropped by [`StartLimiter::forget_idle`].

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How fast one process token may start instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRate {
    /// Starts per second, sustained.
    pub per_second: NonZeroU32,
    /// Starts allowed at once before the sustained rate applies.
    pub burst: NonZeroU32,
}

impl Default for StartRate {
    fn default() -> Self {
        StartRate {
            per_second: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// The buckets of every process token that started something recently.
pub(crate) struct StartLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl StartLimiter {
    pub(crate) fn new(rate: StartRate) -> StartLimiter {
        let quota = Quota::per_second(rate.per_second).allow_burst(rate.burst);
        StartLimiter {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one start from `token_id`'s bucket, or says how long until one is free.
    pub(crate) fn check(&self, token_id: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&token_id.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops the buckets of tokens that are back to full (idle): memory stays bounded by the
    /// tokens in active use.
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
