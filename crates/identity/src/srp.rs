//! SRP-6a exactly as `spec/srp.md`: the RFC 5054 2048-bit group, `g = 2`, SHA-256, and the
//! formulas for `k`, `x`, `v`, `A`, `B`, `u`, `S`, `K`, `M1` and `M2`, shared by the server
//! operations and the Rust client.
//!
//! Byte conventions: `bytes(n)` is the minimal big-endian encoding, `PAD(n)` the 256-byte one.
//! Every function here takes and returns `bytes(...)` forms; inputs with leading zero bytes are
//! accepted (a 255-byte `A` is as valid as a 256-byte one) and normalised before hashing.
//!
//! Secrets (`a`, `b`, `x`, `S`, `K`) only ever live in [`SessionKeys`], [`ServerEphemeral`]
//! and local variables; both types print redacted.

use std::fmt;
use std::sync::LazyLock;

use num_bigint::BigUint;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::bignum::{self, FixedBase, Limbs, Modulus, BYTES, LIMBS};

/// `hashAlgorithm` on the wire.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// `algorithmInfo.type` on the wire.
pub const ALGORITHM_TYPE: &str = "SRP";
/// The generator `g`.
pub const GENERATOR: u32 = 2;
/// Length of `PAD(N)`, `M1`, `M2` and `K`.
pub const MODULUS_BYTES: usize = BYTES;
pub const DIGEST_BYTES: usize = 32;
/// Length of the server's secret ephemeral `b` and of the client's `a` as drawn by this crate.
pub const EPHEMERAL_BYTES: usize = 32;

/// The RFC 5054 appendix A 2048-bit modulus, hex.
pub const N_HEX: &str = concat!(
    "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050",
    "A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50",
    "E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B8",
    "55F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773B",
    "CA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748",
    "544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6",
    "AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB6",
    "94B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73",
);

/// Why an SRP value was refused. Every variant names the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    #[error("{field} is {len} bytes long, longer than the 256 bytes of the group modulus N")]
    TooLong { field: &'static str, len: usize },
    #[error("{field} is not a valid group element: {field} mod N is 0")]
    ZeroModN { field: &'static str },
    #[error("{field} is not below the group modulus N")]
    NotBelowModulus { field: &'static str },
    #[error("{field} must be {expected} bytes, got {len}")]
    WrongLength {
        field: &'static str,
        expected: usize,
        len: usize,
    },
    #[error("the scrambling parameter u = H(PAD(A) | PAD(B)) is 0")]
    ZeroScrambler,
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is {value}, an element of order {order} that would accept a proof without the passcode")]
    Degenerate {
        field: &'static str,
        value: &'static str,
        order: u8,
    },
}

/// The group, with everything the hot path precomputes once per process.
pub(crate) struct Group {
    pub(crate) modulus: Modulus,
    n_bytes: Vec<u8>,
    g_fixed: FixedBase,
    k_mont: Limbs,
    /// `H(bytes(N)) XOR H(PAD(g))`, the first input of `M1`.
    n_xor_g: [u8; DIGEST_BYTES],
}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let n_bytes = decode_hex(N_HEX);
    let n_limbs = bignum::limbs_from_be(&n_bytes).unwrap_or([0; LIMBS]);
    let modulus = Modulus::new(n_limbs);
    let mut g = [0u64; LIMBS];
    g[0] = u64::from(GENERATOR);
    let g_mont = modulus.to_mont(&g);
    let g_fixed = FixedBase::new(&modulus, &g_mont);
    let g_padded = bignum::limbs_to_be_padded(&g);
    let k_digest = sha256(&[&n_bytes, &g_padded]);
    let k = bignum::limbs_from_be(&k_digest).unwrap_or([0; LIMBS]);
    let k_mont = modulus.to_mont(&k);
    let h_n = sha256(&[&n_bytes]);
    let h_g = sha256(&[&g_padded]);
    let mut n_xor_g = [0u8; DIGEST_BYTES];
    for i in 0..DIGEST_BYTES {
        n_xor_g[i] = h_n[i] ^ h_g[i];
    }
    Group {
        modulus,
        n_bytes,
        g_fixed,
        k_mont,
        n_xor_g,
    }
});

pub(crate) fn group() -> &'static Group {
    &GROUP
}

/// `bytes(N)`.
pub fn n_bytes() -> &'static [u8] {
    &group().n_bytes
}

/// Builds the process-wide tables now rather than on the first request (about a millisecond).
pub fn warm_up() {
    let _ = group();
}

fn decode_hex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter_map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    digits
        .chunks(2)
        .map(|p| p.iter().fold(0u8, |acc, d| (acc << 4) | d))
        .collect()
}

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; DIGEST_BYTES] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `k = H(bytes(N) | PAD(g))`, as 32 bytes.
pub fn k_bytes() -> [u8; DIGEST_BYTES] {
    let mut g = [0u64; LIMBS];
    g[0] = u64::from(GENERATOR);
    sha256(&[n_bytes(), &bignum::limbs_to_be_padded(&g)])
}

/// `x = H(s | H(I | ":" | P))`, as 32 bytes. Secret: derived from the passcode.
pub fn compute_x(salt: &[u8], identity: &str, passcode: &str) -> [u8; DIGEST_BYTES] {
    let inner = sha256(&[identity.as_bytes(), b":", passcode.as_bytes()]);
    sha256(&[salt, &inner])
}

/// `bytes(v)` with `v = g^x mod N`: the verifier the server stores.
pub fn compute_verifier(salt: &[u8], identity: &str, passcode: &str) -> Vec<u8> {
    let x = compute_x(salt, identity, passcode);
    let group = group();
    let v = fixed_g_pow(group, &x);
    bignum::limbs_to_be_minimal(&group.modulus.leave_mont(&v))
}

/// `bytes(A)` with `A = g^a mod N` for the client's secret ephemeral `a`.
pub fn client_public(a: &[u8]) -> Vec<u8> {
    let group = group();
    bignum::limbs_to_be_minimal(&group.modulus.leave_mont(&fixed_g_pow(group, a)))
}

pub(crate) fn fixed_g_pow(group: &Group, exp: &[u8]) -> Limbs {
    match group.g_fixed.pow(&group.modulus, exp) {
        Some(value) => value,
        None => {
            let mut g = [0u64; LIMBS];
            g[0] = u64::from(GENERATOR);
            group.modulus.pow_secret(&group.modulus.to_mont(&g), exp)
        }
    }
}

/// Parses a group element sent by the other side: at most 256 significant bytes, `0 < value < N`.
fn element(field: &'static str, bytes: &[u8]) -> Result<Limbs, SrpError> {
    let significant = bignum::strip_leading_zeros(bytes);
    if significant.len() > BYTES {
        return Err(SrpError::TooLong {
            field,
            len: significant.len(),
        });
    }
    let value = bignum::limbs_from_be(significant).ok_or(SrpError::TooLong {
        field,
        len: significant.len(),
    })?;
    if !bignum::less_than(&value, group().modulus.limbs()) {
        return Err(SrpError::NotBelowModulus { field });
    }
    if bignum::is_zero(&value) {
        return Err(SrpError::ZeroModN { field });
    }
    Ok(value)
}

/// Checks a verifier as a client sends it at registration or renewal: `1 < v < N - 1`.
///
/// `v mod N` of 0 (refused by [`element`]), 1 or `N - 1` generates a subgroup of order at most
/// 2: the server's `S = (A * v^u)^b` then takes at most two values whatever the passcode, so
/// a client could authenticate without knowing one.
pub fn check_verifier(verifier: &[u8]) -> Result<Vec<u8>, SrpError> {
    let v = element("verifier", verifier)?;
    let mut one = [0u64; LIMBS];
    one[0] = 1;
    if v == one {
        return Err(SrpError::Degenerate {
            field: "verifier",
            value: "1",
            order: 1,
        });
    }
    // N is odd, so N - 1 is N with its lowest bit cleared: no borrow.
    let mut n_minus_one = *group().modulus.limbs();
    n_minus_one[0] -= 1;
    if v == n_minus_one {
        return Err(SrpError::Degenerate {
            field: "verifier",
            value: "N - 1",
            order: 2,
        });
    }
    Ok(bignum::limbs_to_be_minimal(&v))
}

/// Checks a client public value `A` (`0 < A < N`) and returns `bytes(A)`.
pub fn check_client_public(a_pub: &[u8]) -> Result<Vec<u8>, SrpError> {
    element("A", a_pub).map(|a| bignum::limbs_to_be_minimal(&a))
}

/// The server's secret ephemeral `b` with `g^b mod N`, the expensive half of `B` (about 0.07 ms):
/// it does not depend on the verifier, so it can be computed before the transaction that reads
/// the verifier and stores the session, with no lock held. Secret: `Debug` shows nothing.
#[derive(Clone)]
pub struct ServerEphemeral {
    b: Vec<u8>,
    /// `g^b mod N`, in Montgomery form.
    g_b: Limbs,
}

impl ServerEphemeral {
    /// Computes `g^b mod N` for `b` (not empty).
    pub fn new(b: &[u8]) -> Result<ServerEphemeral, SrpError> {
        if b.is_empty() {
            return Err(SrpError::Empty { field: "b" });
        }
        Ok(ServerEphemeral {
            b: b.to_vec(),
            g_b: fixed_g_pow(group(), b),
        })
    }

    /// `b`. Secret.
    pub fn b(&self) -> &[u8] {
        &self.b
    }

    /// `bytes(B)` with `B = (k*v + g^b) mod N`: one modular multiplication and an addition.
    pub fn server_public(&self, verifier: &[u8]) -> Result<Vec<u8>, SrpError> {
        let group = group();
        let m = &group.modulus;
        let v = element("verifier", verifier)?;
        let kv = m.mul(&group.k_mont, &m.to_mont(&v));
        Ok(bignum::limbs_to_be_minimal(
            &m.leave_mont(&m.add(&kv, &self.g_b)),
        ))
    }
}

impl fmt::Debug for ServerEphemeral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerEphemeral(<redacted>)")
    }
}

/// `bytes(B)` with `B = (k*v + g^b) mod N`.
pub fn server_public(verifier: &[u8], b: &[u8]) -> Result<Vec<u8>, SrpError> {
    element("verifier", verifier)?;
    ServerEphemeral::new(b)?.server_public(verifier)
}

/// `u = H(PAD(A) | PAD(B))`, refusing 0.
pub fn scrambler(a_pub: &[u8], b_pub: &[u8]) -> Result<[u8; DIGEST_BYTES], SrpError> {
    let a = element("A", a_pub)?;
    let b = element("B", b_pub)?;
    let u = sha256(&[
        &bignum::limbs_to_be_padded(&a),
        &bignum::limbs_to_be_padded(&b),
    ]);
    if u.iter().all(|byte| *byte == 0) {
        return Err(SrpError::ZeroScrambler);
    }
    Ok(u)
}

/// The shared key and both proofs of one exchange. `key` is secret; the proofs are what travels.
#[derive(Clone)]
pub struct SessionKeys {
    key: [u8; DIGEST_BYTES],
    m1: [u8; DIGEST_BYTES],
    m2: [u8; DIGEST_BYTES],
}

impl SessionKeys {
    /// `K = H(bytes(S))`. Secret.
    pub fn key(&self) -> &[u8; DIGEST_BYTES] {
        &self.key
    }

    /// `M1`, the client's proof.
    pub fn m1(&self) -> &[u8; DIGEST_BYTES] {
        &self.m1
    }

    /// `M2`, the server's proof.
    pub fn m2(&self) -> &[u8; DIGEST_BYTES] {
        &self.m2
    }

    /// Whether `candidate` is `M1`, compared in constant time.
    pub fn client_proof_matches(&self, candidate: &[u8]) -> bool {
        candidate.len() == DIGEST_BYTES && bool::from(self.m1.ct_eq(candidate))
    }

    /// Whether `candidate` is `M2`, compared in constant time.
    pub fn server_proof_matches(&self, candidate: &[u8]) -> bool {
        candidate.len() == DIGEST_BYTES && bool::from(self.m2.ct_eq(candidate))
    }
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("key", &"<redacted>")
            .field("m1", &"<redacted>")
            .field("m2", &"<redacted>")
            .finish()
    }
}

fn proofs(identity: &str, salt: &[u8], a_pub: &[u8], b_pub: &[u8], s: &Limbs) -> SessionKeys {
    let key = sha256(&[&bignum::limbs_to_be_minimal(s)]);
    let h_i = sha256(&[identity.as_bytes()]);
    let m1 = sha256(&[&group().n_xor_g, &h_i, salt, a_pub, b_pub, &key]);
    let m2 = sha256(&[a_pub, &m1, &key]);
    SessionKeys { key, m1, m2 }
}

/// The server's side of the proof: `S = (A * v^u)^b mod N`, then `K`, `M1`, `M2`.
///
/// `b_pub` must be the `bytes(B)` this server sent for the same `b` and `verifier`.
pub fn server_keys(
    identity: &str,
    salt: &[u8],
    verifier: &[u8],
    b: &[u8],
    a_pub: &[u8],
    b_pub: &[u8],
) -> Result<SessionKeys, SrpError> {
    let group = group();
    let m = &group.modulus;
    let a = element("A", a_pub)?;
    let v = element("verifier", verifier)?;
    let u = scrambler(a_pub, b_pub)?;
    let vu = m.pow_public(&m.to_mont(&v), &u);
    let base = m.mul(&m.to_mont(&a), &vu);
    let s = m.leave_mont(&m.pow_secret(&base, b));
    let a_min = bignum::limbs_to_be_minimal(&a);
    let b_min = bignum::strip_leading_zeros(b_pub);
    Ok(proofs(identity, salt, &a_min, b_min, &s))
}

/// The client's side: given the server's `B` and salt, the passcode and the secret ephemeral `a`,
/// returns `bytes(A)` and the session keys (`S = (B - k*v)^(a + u*x) mod N`).
pub fn client_keys(
    identity: &str,
    passcode: &str,
    salt: &[u8],
    a: &[u8],
    b_pub: &[u8],
) -> Result<(Vec<u8>, SessionKeys), SrpError> {
    let group = group();
    let m = &group.modulus;
    if a.is_empty() {
        return Err(SrpError::Empty { field: "a" });
    }
    let b_value = element("B", b_pub)?;
    let a_pub = client_public(a);
    let u = scrambler(&a_pub, b_pub)?;
    let x = compute_x(salt, identity, passcode);
    let v = fixed_g_pow(group, &x);
    let kv = m.mul(&group.k_mont, &v);
    let base = m.sub(&m.to_mont(&b_value), &kv);
    let exponent =
        BigUint::from_bytes_be(a) + BigUint::from_bytes_be(&u) * BigUint::from_bytes_be(&x);
    // Fixed length so the work does not depend on the secret exponent's value.
    let width = 2 * DIGEST_BYTES + a.len() + 1;
    let raw = exponent.to_bytes_be();
    let raw = &raw[raw.len().saturating_sub(width)..];
    let mut exp_bytes = vec![0u8; width];
    exp_bytes[width - raw.len()..].copy_from_slice(raw);
    let s = m.leave_mont(&m.pow_secret(&base, &exp_bytes));
    let b_min = bignum::strip_leading_zeros(b_pub);
    let keys = proofs(identity, salt, &a_pub, b_min, &s);
    Ok((a_pub, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        decode_hex(s)
    }

    #[test]
    fn k_matches_the_interop_vector() {
        // The vector prints k without its leading zero nibble.
        let expected = hex("05b9e8ef059c6b32ea59fc1d322d37f04aa30bae5aa9003b8321e21ddb04e300");
        assert_eq!(k_bytes().to_vec(), expected);
    }

    #[test]
    fn hostile_client_values_are_refused() {
        let n = n_bytes().to_vec();
        assert_eq!(
            check_client_public(&[0]),
            Err(SrpError::ZeroModN { field: "A" })
        );
        assert_eq!(
            check_client_public(&n),
            Err(SrpError::NotBelowModulus { field: "A" })
        );
        assert!(matches!(
            check_client_public(&[1u8; 257]),
            Err(SrpError::TooLong {
                field: "A",
                len: 257
            })
        ));
        assert!(check_client_public(&[0u8; 300]).is_err());
        assert!(check_verifier(&[1]).is_err());
        assert!(check_verifier(&[2]).is_ok());
        let mut n_minus_one = n.clone();
        *n_minus_one.last_mut().unwrap() -= 1;
        assert_eq!(
            check_verifier(&n_minus_one),
            Err(SrpError::Degenerate {
                field: "verifier",
                value: "N - 1",
                order: 2
            })
        );
        let mut n_minus_two = n.clone();
        *n_minus_two.last_mut().unwrap() -= 2;
        assert!(check_verifier(&n_minus_two).is_ok());
    }

    #[test]
    fn session_keys_debug_is_redacted() {
        let keys = SessionKeys {
            key: [7; 32],
            m1: [8; 32],
            m2: [9; 32],
        };
        let shown = format!("{keys:?}");
        assert!(!shown.contains('7') && !shown.contains('8') && !shown.contains('9'));
    }
}
