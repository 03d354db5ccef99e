//! Every identity operation as a function over a store transaction, for callers that commit an
//! identity change together with their own writes (the activities crate).
//!
//! Each function takes `tx: &Tx`, plain inputs, the current time `now_ms` (Unix milliseconds) and,
//! where it needs randomness, an [`Entropy`] drawn *before* the transaction (the transaction
//! closure may run more than once; drawing inside it would give each retry different values).
//!
//! Each returns an [`OpResult`]: `Err(failure)` means abort; `Ok(Err(refusal))` means the
//! operation said no and **the caller should still commit**, because some refusals carry writes
//! that must stay (a failed proof counted towards the lock, a session consumed, a wrong TOTP code
//! counted). Refusals that must change nothing (malformed or hostile input, unknown objects) make
//! no writes before refusing, so committing them is harmless.
//!
//! The protocol operations return the API's JSON shapes from [`crate::wire`]; the administrative
//! ones return domain types from [`crate::model`] and [`crate::policy`].
//!
//! One module per kind of operation (`stores`, `users`, `passcodes`, `totp`), all re-exported
//! here; what they share (lookups, the user status rules) is in `common`.

use std::fmt;

use rand::RngCore;

use idflow_ids as ids;

use crate::srp;

mod common;
mod passcodes;
mod stores;
mod totp;
mod users;

pub(crate) use common::remove_if_expired;
pub use passcodes::*;
pub use stores::*;
pub use totp::*;
pub use users::*;

/// Random values for one operation, drawn before the transaction starts.
///
/// Layout of the 96 bytes: `[0..16]` a new user or session ID, `[16..32]` a new salt,
/// `[32..64]` the server's SRP ephemeral `b`, `[64..84]` a new TOTP secret; the rest is spare.
/// An operation uses only the parts it needs. `Debug` shows nothing.
///
/// [`Entropy::with_server_ephemeral`] also computes `g^b` from its `b` before the transaction
/// (the expensive half of a passcode session's `B`); an operation then computes only
/// `k*v + g^b` under the store's lock. Without it, the operation computes `g^b` itself.
#[derive(Clone)]
pub struct Entropy {
    bytes: [u8; Entropy::LEN],
    /// `b` and `g^b`, computed from `bytes[32..64]` by [`Entropy::with_server_ephemeral`].
    server_ephemeral: Option<srp::ServerEphemeral>,
}

impl Entropy {
    pub const LEN: usize = 96;

    /// Draws fresh values from `rng`.
    pub fn draw(rng: &mut (impl RngCore + ?Sized)) -> Entropy {
        let mut bytes = [0u8; Entropy::LEN];
        rng.fill_bytes(&mut bytes);
        Entropy::from_bytes(bytes)
    }

    /// Uses the given bytes (tests, replays).
    pub fn from_bytes(bytes: [u8; Entropy::LEN]) -> Entropy {
        Entropy {
            bytes,
            server_ephemeral: None,
        }
    }

    /// Computes the server's SRP ephemeral (`b` and `g^b`) now, so that a passcode session
    /// started with this entropy computes only `B = k*v + g^b` in its transaction. Call it
    /// outside the transaction, on the request's own thread.
    pub fn with_server_ephemeral(mut self) -> Entropy {
        self.server_ephemeral = srp::ServerEphemeral::new(&self.ephemeral()).ok();
        self
    }

    /// Whether [`Entropy::with_server_ephemeral`] computed `g^b` already.
    pub fn has_server_ephemeral(&self) -> bool {
        self.server_ephemeral.is_some()
    }

    fn id(&self) -> String {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.bytes[0..16]);
        ids::id_from_bytes(&id)
    }

    /// 16 bytes, the first non-zero (some clients read the salt as an integer).
    fn salt(&self) -> Vec<u8> {
        let mut salt = self.bytes[16..32].to_vec();
        if salt[0] == 0 {
            salt[0] = 1;
        }
        salt
    }

    /// `b` with `g^b`: the one computed before the transaction, or computed now.
    fn server_ephemeral(&self) -> Result<srp::ServerEphemeral, srp::SrpError> {
        match &self.server_ephemeral {
            Some(prepared) => Ok(prepared.clone()),
            None => srp::ServerEphemeral::new(&self.ephemeral()),
        }
    }

    /// 256 bits, never all zero.
    fn ephemeral(&self) -> Vec<u8> {
        let mut b = self.bytes[32..64].to_vec();
        if b.iter().all(|x| *x == 0) {
            b[31] = 1;
        }
        b
    }

    fn totp_secret(&self) -> Vec<u8> {
        self.bytes[64..64 + crate::totp::SECRET_BYTES].to_vec()
    }
}

impl fmt::Debug for Entropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Entropy(<redacted>)")
    }
}
