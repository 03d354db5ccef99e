//! The server's SRP arithmetic one operation at a time, for the CLI's benchmark (`idflow bench
//! srp`) to time with its own clock: `g^b`, `v^u` and `(A*v^u)^b` exactly as a server
//! authentication computes them, and one Montgomery multiplication and squaring. Nothing here is
//! used by the operations; it exposes the private arithmetic without exposing its types.

use rand::RngCore;

use crate::bignum::{self, Limbs, LIMBS};
use crate::srp;

/// A group element in whatever form the arithmetic left it (only for `std::hint::black_box`).
#[derive(Debug, Clone, Copy)]
pub struct Element(Limbs);

/// Random operands of one server authentication: a verifier `v`, a client's `A`, the server's
/// ephemeral `b` and the scrambler `u`.
#[derive(Debug, Clone)]
pub struct Operands {
    v: Limbs,
    a_pub: Limbs,
    b: [u8; srp::EPHEMERAL_BYTES],
    u: [u8; srp::DIGEST_BYTES],
}

/// A random element below `N`.
fn random_element(rng: &mut impl RngCore) -> Limbs {
    let mut bytes = [0u8; bignum::BYTES];
    rng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f; // below N, whose top byte is 0xAC
    bignum::limbs_from_be(&bytes).unwrap_or([1; LIMBS])
}

impl Operands {
    /// Draws `v` and `A` below `N`, and `b` and `u`, from `rng`.
    pub fn draw(rng: &mut impl RngCore) -> Operands {
        let v = random_element(rng);
        let a_pub = random_element(rng);
        let mut b = [0u8; srp::EPHEMERAL_BYTES];
        rng.fill_bytes(&mut b);
        let mut u = [0u8; srp::DIGEST_BYTES];
        rng.fill_bytes(&mut u);
        Operands { v, a_pub, b, u }
    }

    /// `g^b` with the fixed-base table.
    pub fn g_pow_b(&self) -> Element {
        Element(srp::fixed_g_pow(srp::group(), &self.b))
    }

    /// `v^u` (a public exponent: sliding windows), in Montgomery form.
    pub fn v_pow_u(&self) -> Element {
        let m = &srp::group().modulus;
        Element(m.pow_public(&m.to_mont(&self.v), &self.u))
    }

    /// `(A * v^u)^b` (a secret exponent: fixed windows), given [`Operands::v_pow_u`]'s result.
    pub fn premaster(&self, v_pow_u: &Element) -> Element {
        let m = &srp::group().modulus;
        let base = m.mul(&m.to_mont(&self.a_pub), &v_pow_u.0);
        Element(m.leave_mont(&m.pow_secret(&base, &self.b)))
    }
}

/// Two random elements in Montgomery form, multiplied or squared in place.
#[derive(Debug, Clone)]
pub struct MontgomeryPair {
    x: Limbs,
    y: Limbs,
}

impl MontgomeryPair {
    pub fn draw(rng: &mut impl RngCore) -> MontgomeryPair {
        let m = &srp::group().modulus;
        let x = m.to_mont(&random_element(rng));
        let y = m.to_mont(&random_element(rng));
        MontgomeryPair { x, y }
    }

    /// `x = x * y`: one 2048-bit Montgomery multiplication.
    pub fn multiply(&mut self) {
        self.x = srp::group().modulus.mul(&self.x, &self.y);
    }

    /// `x = x * x`: one 2048-bit Montgomery squaring.
    pub fn square(&mut self) {
        self.x = srp::group().modulus.sqr(&self.x);
    }

    /// The current `x`.
    pub fn value(&self) -> Element {
        Element(self.x)
    }
}

/// Which Montgomery multiplication runs on this CPU: `mulx/adx` or `portable`.
pub fn multiplication() -> &'static str {
    if srp::group().modulus.uses_adx() {
        "mulx/adx"
    } else {
        "portable"
    }
}
