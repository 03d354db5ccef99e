//! One-time sign-in codes: `idflow serve` prints a link `{server}/backoffice/#code={code}` (as
//! notebook servers do) and the backoffice page exchanges the code for the bearer token it
//! stands for, so the token itself never travels in a URL.
//!
//! Codes live in this process's memory only, keyed by their SHA-256 (a code is never kept in
//! the clear): a code is 128 random bits, used once (redeeming removes it), and expires after
//! [`CODE_TTL`]; a restart forgets every code. At most [`MAX_CODES`] wait at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a printed sign-in link works.
pub const CODE_TTL: Duration = Duration::from_secs(15 * 60);
/// The most codes kept at once; the oldest is dropped past this.
pub const MAX_CODES: usize = 64;

/// The codes waiting to be redeemed.
#[derive(Default)]
pub struct SignInCodes {
    waiting: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

fn digest(code: &str) -> [u8; 32] {
    Sha256::digest(code.trim().as_bytes()).into()
}

impl SignInCodes {
    /// A new code standing for `token`, valid for [`CODE_TTL`].
    pub fn issue(&self, token: String) -> String {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let code: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.retain(|_, (_, expires)| *expires > now);
        if waiting.len() >= MAX_CODES {
            if let Some(oldest) = waiting.iter().min_by_key(|(_, (_, e))| *e).map(|(k, _)| *k) {
                waiting.remove(&oldest);
            }
        }
        waiting.insert(digest(&code), (token, now + CODE_TTL));
        code
    }

    /// The token `code` stands for, once: the code is spent. `None` for an unknown, spent or
    /// expired code.
    pub fn redeem(&self, code: &str) -> Option<String> {
        if code.len() > 128 {
            return None;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let (token, expires) = waiting.remove(&digest(code))?;
        (expires > Instant::now()).then_some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_redeemed_once() {
        let codes = SignInCodes::default();
        let code = codes.issue("T".into());
        assert_eq!(code.len(), 32);
        assert_eq!(codes.redeem("nope"), None);
        assert_eq!(codes.redeem(&code), Some("T".into()));
        assert_eq!(codes.redeem(&code), None);
    }

    #[test]
    fn the_oldest_code_gives_way_past_the_limit() {
        let codes = SignInCodes::default();
        let first = codes.issue("first".into());
        let rest: Vec<String> = (0..MAX_CODES)
            .map(|i| codes.issue(format!("{i}")))
            .collect();
        assert_eq!(codes.redeem(&first), None);
        assert_eq!(
            codes.redeem(&rest[MAX_CODES - 1]),
            Some(format!("{}", MAX_CODES - 1))
        );
    }
}
