//! Fixed-size 2048-bit Montgomery arithmetic for the SRP group: the server's hot path.
//!
//! Numbers are 32 little-endian 64-bit limbs. Multiplication is Montgomery's (R = 2^2048); on
//! x86-64 CPUs with BMI2 and ADX it runs an unrolled `mulx`/`adcx`/`adox` row (two independent
//! carry chains), elsewhere a portable product-scanning loop. Both are branch-free in the data and
//! are checked against each other and against `num-bigint` in the tests.
//!
//! Exponentiation comes in three shapes, chosen by who knows the exponent:
//! - [`Modulus::pow_secret`]: fixed 4-bit windows with a constant-time table scan, for the server's
//!   ephemeral `b` and the client's `a + u*x`;
//! - [`Modulus::pow_public`]: 5-bit sliding windows, for `u` (a hash of public values);
//! - [`FixedBase::pow`]: a per-position table of `g^(j * 16^i)` so `g^b` costs 64 multiplications
//!   and no squarings (the "fixed-base table" of the SRP benchmark).

#[cfg(target_arch = "x86_64")]
use std::sync::OnceLock;

pub(crate) const LIMBS: usize = 32;
pub(crate) const BYTES: usize = LIMBS * 8;
pub(crate) type Limbs = [u64; LIMBS];

/// Reads a big-endian number of at most [`BYTES`] bytes (leading zeros allowed).
pub(crate) fn limbs_from_be(bytes: &[u8]) -> Option<Limbs> {
    let significant = strip_leading_zeros(bytes);
    if significant.len() > BYTES {
        return None;
    }
    let mut out = [0u64; LIMBS];
    for (i, byte) in significant.iter().rev().enumerate() {
        out[i / 8] |= u64::from(*byte) << (8 * (i % 8));
    }
    Some(out)
}

/// The number as exactly [`BYTES`] big-endian bytes (the `PAD` of srp.md).
pub(crate) fn limbs_to_be_padded(x: &Limbs) -> [u8; BYTES] {
    let mut out = [0u8; BYTES];
    for (i, limb) in x.iter().enumerate() {
        let at = BYTES - 8 * (i + 1);
        out[at..at + 8].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// The number as minimal big-endian bytes (the `bytes` of srp.md; zero is the empty string).
pub(crate) fn limbs_to_be_minimal(x: &Limbs) -> Vec<u8> {
    strip_leading_zeros(&limbs_to_be_padded(x)).to_vec()
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

pub(crate) fn is_zero(x: &Limbs) -> bool {
    x.iter().fold(0u64, |acc, limb| acc | limb) == 0
}

/// `a < b` (variable time: only used on public values).
pub(crate) fn less_than(a: &Limbs, b: &Limbs) -> bool {
    for i in (0..LIMBS).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// `r - n` if `hi:r >= n`, else `r`; constant time. `hi` is the limb above `r` (0 or 1).
fn reduce_once(r: &mut Limbs, hi: u64, n: &Limbs) {
    let mut diff = [0u64; LIMBS];
    let mut borrow = 0u64;
    for j in 0..LIMBS {
        let (d1, b1) = r[j].overflowing_sub(n[j]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        diff[j] = d2;
        borrow = u64::from(b1 | b2);
    }
    // hi:r >= n exactly when the subtraction did not need to borrow from hi.
    let (_, under) = hi.overflowing_sub(borrow);
    let keep_diff = 0u64.wrapping_sub(u64::from(!under));
    for j in 0..LIMBS {
        r[j] = (diff[j] & keep_diff) | (r[j] & !keep_diff);
    }
}

/// Constant-time select of `table[index]`: every entry is read, whatever the index.
fn select(table: &[Limbs], index: usize) -> Limbs {
    let mut out = [0u64; LIMBS];
    for (i, entry) in table.iter().enumerate() {
        let equal = ((i ^ index) as u64).wrapping_sub(1) >> 63; // 1 when i == index
        let mask = 0u64.wrapping_sub(equal);
        for j in 0..LIMBS {
            out[j] |= entry[j] & mask;
        }
    }
    out
}

/// The bits of a big-endian exponent, most significant first, in windows of `w` bits (the first
/// window may be shorter). Leading zero bytes are kept, so the work depends only on the length
/// the caller passes, never on the secret's value.
fn windows(exp: &[u8], w: usize) -> Vec<usize> {
    let bits = exp.len() * 8;
    let bit = |i: usize| -> usize {
        // i counts from the least significant bit
        let byte = exp[exp.len() - 1 - i / 8];
        usize::from((byte >> (i % 8)) & 1)
    };
    let count = bits.div_ceil(w);
    let mut out = Vec::with_capacity(count);
    for k in (0..count).rev() {
        let mut value = 0usize;
        for b in (0..w).rev() {
            let i = k * w + b;
            value <<= 1;
            if i < bits {
                value |= bit(i);
            }
        }
        out.push(value);
    }
    out
}

/// An odd 2048-bit modulus with the top bit set, and what Montgomery multiplication needs of it.
pub(crate) struct Modulus {
    n: Limbs,
    /// `-n^-1 mod 2^64`
    n0: u64,
    /// `R^2 mod n`, to enter Montgomery form.
    r2: Limbs,
    /// `R mod n`: one in Montgomery form.
    one: Limbs,
    use_adx: bool,
}

impl Modulus {
    /// `n` must be odd with its top bit set (true of every SRP group of this size).
    pub(crate) fn new(n: Limbs) -> Modulus {
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let n0 = inv.wrapping_neg();
        // R mod n = 2^2048 - n, since n < 2^2048 < 2n.
        let mut one = [0u64; LIMBS];
        let mut borrow = 0u64;
        for j in 0..LIMBS {
            let (d1, b1) = 0u64.overflowing_sub(n[j]);
            let (d2, b2) = d1.overflowing_sub(borrow);
            one[j] = d2;
            borrow = u64::from(b1 | b2);
        }
        let mut modulus = Modulus {
            n,
            n0,
            r2: [0u64; LIMBS],
            one,
            use_adx: adx_available(),
        };
        // R^2 mod n: double R mod n 2048 times.
        let mut r2 = one;
        for _ in 0..BYTES * 8 {
            r2 = modulus.add(&r2, &r2);
        }
        modulus.r2 = r2;
        modulus
    }

    pub(crate) fn limbs(&self) -> &Limbs {
        &self.n
    }

    /// The same modulus forced onto the portable multiplication (tests compare the two paths).
    #[cfg(test)]
    pub(crate) fn portable(&self) -> Modulus {
        Modulus {
            n: self.n,
            n0: self.n0,
            r2: self.r2,
            one: self.one,
            use_adx: false,
        }
    }

    pub(crate) fn uses_adx(&self) -> bool {
        self.use_adx
    }

    /// Montgomery product `a * b / R mod n` (inputs below n).
    // Calls the BMI2/ADX assembly once the CPU is known to have it (BENCHMARKS.md, `bench srp`).
    #[allow(unsafe_code)]
    pub(crate) fn mul(&self, a: &Limbs, b: &Limbs) -> Limbs {
        #[cfg(target_arch = "x86_64")]
        if self.use_adx {
            // SAFETY: `use_adx` is only set after the CPU reported BMI2 and ADX.
            return unsafe { adx::mont_mul(a, b, &self.n, self.n0) };
        }
        portable::mont_mul(a, b, &self.n, self.n0)
    }

    /// Montgomery square `a * a / R mod n`.
    #[allow(unsafe_code)] // As `mul`: the BMI2/ADX assembly once the CPU is known to have it.
    pub(crate) fn sqr(&self, a: &Limbs) -> Limbs {
        #[cfg(target_arch = "x86_64")]
        if self.use_adx {
            // SAFETY: as in `mul`.
            return unsafe { adx::mont_sqr(a, &self.n, self.n0) };
        }
        portable::mont_sqr(a, &self.n, self.n0)
    }

    pub(crate) fn to_mont(&self, a: &Limbs) -> Limbs {
        self.mul(a, &self.r2)
    }

    /// Out of Montgomery form: `a / R mod n`.
    pub(crate) fn leave_mont(&self, a: &Limbs) -> Limbs {
        let mut one = [0u64; LIMBS];
        one[0] = 1;
        self.mul(a, &one)
    }

    pub(crate) fn one_mont(&self) -> Limbs {
        self.one
    }

    /// `(a + b) mod n` for `a, b < n`, constant time.
    pub(crate) fn add(&self, a: &Limbs, b: &Limbs) -> Limbs {
        let mut sum = [0u64; LIMBS];
        let mut carry = 0u64;
        for j in 0..LIMBS {
            let (s1, c1) = a[j].overflowing_add(b[j]);
            let (s2, c2) = s1.overflowing_add(carry);
            sum[j] = s2;
            carry = u64::from(c1 | c2);
        }
        reduce_once(&mut sum, carry, &self.n);
        sum
    }

    /// `(a - b) mod n` for `a, b < n`, constant time.
    pub(crate) fn sub(&self, a: &Limbs, b: &Limbs) -> Limbs {
        let mut diff = [0u64; LIMBS];
        let mut borrow = 0u64;
        for j in 0..LIMBS {
            let (d1, b1) = a[j].overflowing_sub(b[j]);
            let (d2, b2) = d1.overflowing_sub(borrow);
            diff[j] = d2;
            borrow = u64::from(b1 | b2);
        }
        // Add n back when the subtraction went below zero.
        let mask = 0u64.wrapping_sub(borrow);
        let mut carry = 0u64;
        for (limb, n) in diff.iter_mut().zip(self.n.iter()) {
            let (s1, c1) = limb.overflowing_add(n & mask);
            let (s2, c2) = s1.overflowing_add(carry);
            *limb = s2;
            carry = u64::from(c1 | c2);
        }
        diff
    }

    /// `base^exp` (Montgomery form in and out) for a secret exponent: fixed 4-bit windows, every
    /// window costs the same and the table is scanned whole.
    pub(crate) fn pow_secret(&self, base: &Limbs, exp: &[u8]) -> Limbs {
        let mut table = [[0u64; LIMBS]; 16];
        table[0] = self.one;
        table[1] = *base;
        for i in 2..16 {
            table[i] = if i % 2 == 0 {
                self.sqr(&table[i / 2])
            } else {
                self.mul(&table[i - 1], base)
            };
        }
        let mut acc = self.one;
        for (k, window) in windows(exp, 4).into_iter().enumerate() {
            if k > 0 {
                for _ in 0..4 {
                    acc = self.sqr(&acc);
                }
            }
            acc = self.mul(&acc, &select(&table, window));
        }
        acc
    }

    /// `base^exp` (Montgomery form in and out) for a public exponent: 5-bit sliding windows.
    pub(crate) fn pow_public(&self, base: &Limbs, exp: &[u8]) -> Limbs {
        const W: usize = 5;
        // odd[i] = base^(2i+1)
        let mut odd = [[0u64; LIMBS]; 1 << (W - 1)];
        odd[0] = *base;
        let base_sq = self.sqr(base);
        for i in 1..odd.len() {
            odd[i] = self.mul(&odd[i - 1], &base_sq);
        }
        let exp = strip_leading_zeros(exp);
        let bits = exp.len() * 8;
        let bit = |i: usize| -> u8 { (exp[exp.len() - 1 - i / 8] >> (i % 8)) & 1 };
        let mut acc: Option<Limbs> = None;
        let mut i = bits;
        while i > 0 {
            let top = i - 1;
            if bit(top) == 0 {
                if let Some(a) = acc.as_mut() {
                    *a = self.sqr(a);
                }
                i -= 1;
                continue;
            }
            // The longest window of at most W bits from `top` down that ends in a one bit.
            let mut low = top.saturating_sub(W - 1);
            while bit(low) == 0 {
                low += 1;
            }
            let mut value = 0usize;
            for b in (low..=top).rev() {
                value = (value << 1) | usize::from(bit(b));
            }
            let len = top - low + 1;
            acc = Some(match acc {
                None => odd[value >> 1],
                Some(mut a) => {
                    for _ in 0..len {
                        a = self.sqr(&a);
                    }
                    self.mul(&a, &odd[value >> 1])
                }
            });
            i = low;
        }
        acc.unwrap_or(self.one)
    }
}

/// Precomputed `g^(j * 16^i)` for one generator: exponents up to [`FixedBase::MAX_EXPONENT_BYTES`]
/// cost one multiplication per 4 bits and a constant-time scan of 16 entries each.
pub(crate) struct FixedBase {
    /// positions[i][j] = g^(j * 16^i), Montgomery form
    positions: Vec<[Limbs; 16]>,
}

impl FixedBase {
    pub(crate) const MAX_EXPONENT_BYTES: usize = 32;

    pub(crate) fn new(modulus: &Modulus, generator_mont: &Limbs) -> FixedBase {
        let count = Self::MAX_EXPONENT_BYTES * 2;
        let mut positions = Vec::with_capacity(count);
        let mut base = *generator_mont; // g^(16^i)
        for _ in 0..count {
            let mut row = [[0u64; LIMBS]; 16];
            row[0] = modulus.one_mont();
            row[1] = base;
            for j in 2..16 {
                row[j] = modulus.mul(&row[j - 1], &base);
            }
            base = modulus.mul(&row[15], &base);
            positions.push(row);
        }
        FixedBase { positions }
    }

    /// `g^exp` in Montgomery form; `None` when the exponent is longer than the table covers.
    pub(crate) fn pow(&self, modulus: &Modulus, exp: &[u8]) -> Option<Limbs> {
        let exp = strip_leading_zeros(exp);
        if exp.len() > Self::MAX_EXPONENT_BYTES {
            return None;
        }
        let mut acc = modulus.one_mont();
        // Always walk every position so the cost does not depend on the exponent's length.
        let mut padded = [0u8; Self::MAX_EXPONENT_BYTES];
        padded[Self::MAX_EXPONENT_BYTES - exp.len()..].copy_from_slice(exp);
        for (i, row) in self.positions.iter().enumerate() {
            let byte = padded[Self::MAX_EXPONENT_BYTES - 1 - i / 2];
            let nibble = usize::from((byte >> (4 * (i % 2))) & 0x0f);
            acc = modulus.mul(&acc, &select(row, nibble));
        }
        Some(acc)
    }
}

#[cfg(target_arch = "x86_64")]
fn adx_available() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx")
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn adx_available() -> bool {
    false
}

/// Portable Montgomery multiplication: product scanning with a three-limb accumulator.
mod portable {
    use super::{reduce_once, Limbs, LIMBS};

    #[derive(Clone, Copy, Default)]
    struct Accumulator {
        lo: u64,
        mid: u64,
        hi: u64,
    }

    impl Accumulator {
        #[inline(always)]
        fn add_product(&mut self, a: u64, b: u64) {
            let product = u128::from(a) * u128::from(b);
            let current = u128::from(self.lo) | (u128::from(self.mid) << 64);
            let (sum, overflow) = current.overflowing_add(product);
            self.lo = sum as u64;
            self.mid = (sum >> 64) as u64;
            self.hi = self.hi.wrapping_add(u64::from(overflow));
        }

        #[inline(always)]
        fn shift(&mut self) {
            self.lo = self.mid;
            self.mid = self.hi;
            self.hi = 0;
        }
    }

    pub(super) fn mont_mul(a: &Limbs, b: &Limbs, n: &Limbs, n0: u64) -> Limbs {
        let mut m = [0u64; LIMBS];
        let mut r = [0u64; LIMBS];
        let mut acc = Accumulator::default();
        for i in 0..LIMBS {
            for j in 0..i {
                acc.add_product(a[j], b[i - j]);
                acc.add_product(m[j], n[i - j]);
            }
            acc.add_product(a[i], b[0]);
            let mi = acc.lo.wrapping_mul(n0);
            m[i] = mi;
            acc.add_product(mi, n[0]);
            acc.shift();
        }
        for i in LIMBS..2 * LIMBS {
            for j in (i - LIMBS + 1)..LIMBS {
                acc.add_product(a[j], b[i - j]);
                acc.add_product(m[j], n[i - j]);
            }
            r[i - LIMBS] = acc.lo;
            acc.shift();
        }
        reduce_once(&mut r, acc.lo, n);
        r
    }

    pub(super) fn mont_sqr(a: &Limbs, n: &Limbs, n0: u64) -> Limbs {
        mont_mul(a, a, n, n0)
    }
}

/// Montgomery multiplication with BMI2/ADX: each row `t += a * w` is 32 `mulx` with the low
/// halves summed on the CF chain (`adcx`) and the running limbs on the OF chain (`adox`).
#[cfg(target_arch = "x86_64")]
// Inline assembly: the SRP server's exponentiations are this loop (BENCHMARKS.md, `bench srp`).
#[allow(unsafe_code)]
mod adx {
    use super::{reduce_once, Limbs, LIMBS};
    use std::arch::asm;

    macro_rules! row_step {
        ($offset:literal, $hi:literal, $previous_hi:literal) => {
            concat!(
                "mulx {",
                $hi,
                "}, {lo}, qword ptr [{a} + ",
                $offset,
                "]\n",
                "adcx {lo}, {",
                $previous_hi,
                "}\n",
                "adox {lo}, qword ptr [{t} + ",
                $offset,
                "]\n",
                "mov qword ptr [{t} + ",
                $offset,
                "], {lo}\n"
            )
        };
    }

    macro_rules! row_pair {
        ($first:literal, $second:literal) => {
            concat!(
                row_step!($first, "h0", "h1"),
                row_step!($second, "h1", "h0")
            )
        };
    }

    /// `t[0..32] += a[0..32] * w`, returning the limb that carries out.
    ///
    /// # Safety
    /// The CPU must support BMI2 and ADX; `t` and `a` must point at 32 readable limbs, `t`
    /// writable.
    #[inline(always)]
    unsafe fn add_row(t: *mut u64, a: *const u64, w: u64) -> u64 {
        let carry: u64;
        asm!(
            "xor {h1:e}, {h1:e}",
            row_pair!(0, 8),
            row_pair!(16, 24),
            row_pair!(32, 40),
            row_pair!(48, 56),
            row_pair!(64, 72),
            row_pair!(80, 88),
            row_pair!(96, 104),
            row_pair!(112, 120),
            row_pair!(128, 136),
            row_pair!(144, 152),
            row_pair!(160, 168),
            row_pair!(176, 184),
            row_pair!(192, 200),
            row_pair!(208, 216),
            row_pair!(224, 232),
            row_pair!(240, 248),
            "mov {lo}, 0",
            "adcx {h1}, {lo}",
            "adox {h1}, {lo}",
            h0 = out(reg) _,
            h1 = out(reg) carry,
            lo = out(reg) _,
            a = in(reg) a,
            t = in(reg) t,
            in("rdx") w,
            options(nostack),
        );
        carry
    }

    /// `t[0..len] += a[0..len] * w` for any `len >= 1`, returning the carry limb: `len % 4`
    /// single steps, then blocks of four. Loop control uses only `lea`/`jrcxz`/`jmp`/`mov`,
    /// which leave CF and OF (the two carry chains) alone.
    ///
    /// # Safety
    /// As [`add_row`], with `len` limbs behind each pointer.
    #[inline(always)]
    unsafe fn add_row_short(t: *mut u64, a: *const u64, len: usize, w: u64) -> u64 {
        let carry: u64;
        asm!(
            "xor {c:e}, {c:e}",
            "jrcxz 3f",
            "2:",
            "mulx {hi}, {lo}, qword ptr [{a}]",
            "adcx {lo}, {c}",
            "adox {lo}, qword ptr [{t}]",
            "mov qword ptr [{t}], {lo}",
            "mov {c}, {hi}",
            "lea {a}, [{a} + 8]",
            "lea {t}, [{t} + 8]",
            "lea rcx, [rcx - 1]",
            "jrcxz 3f",
            "jmp 2b",
            "3:",
            "mov rcx, {blocks}",
            "jrcxz 5f",
            "4:",
            "mulx {hi}, {lo}, qword ptr [{a}]",
            "adcx {lo}, {c}",
            "adox {lo}, qword ptr [{t}]",
            "mov qword ptr [{t}], {lo}",
            "mulx {c}, {lo}, qword ptr [{a} + 8]",
            "adcx {lo}, {hi}",
            "adox {lo}, qword ptr [{t} + 8]",
            "mov qword ptr [{t} + 8], {lo}",
            "mulx {hi}, {lo}, qword ptr [{a} + 16]",
            "adcx {lo}, {c}",
            "adox {lo}, qword ptr [{t} + 16]",
            "mov qword ptr [{t} + 16], {lo}",
            "mulx {c}, {lo}, qword ptr [{a} + 24]",
            "adcx {lo}, {hi}",
            "adox {lo}, qword ptr [{t} + 24]",
            "mov qword ptr [{t} + 24], {lo}",
            "lea {a}, [{a} + 32]",
            "lea {t}, [{t} + 32]",
            "lea rcx, [rcx - 1]",
            "jrcxz 5f",
            "jmp 4b",
            "5:",
            "mov {lo}, 0",
            "adcx {c}, {lo}",
            "adox {c}, {lo}",
            c = out(reg) carry,
            hi = out(reg) _,
            lo = out(reg) _,
            a = inout(reg) a => _,
            t = inout(reg) t => _,
            blocks = in(reg) len / 4,
            inout("rcx") len % 4 => _,
            in("rdx") w,
            options(nostack),
        );
        carry
    }

    /// Montgomery reduction of the 64-limb `t` (value below n * R), in place; returns `t / R mod n`.
    ///
    /// # Safety
    /// BMI2 and ADX must be available.
    #[inline(always)]
    unsafe fn reduce(t: &mut [u64; 2 * LIMBS], n: &Limbs, n0: u64) -> Limbs {
        let mut extra = 0u64;
        for i in 0..LIMBS {
            let m = t[i].wrapping_mul(n0);
            let carry = add_row(t.as_mut_ptr().add(i), n.as_ptr(), m);
            let (s1, o1) = t[i + LIMBS].overflowing_add(carry);
            let (s2, o2) = s1.overflowing_add(extra);
            t[i + LIMBS] = s2;
            extra = u64::from(o1) + u64::from(o2);
        }
        let mut r = [0u64; LIMBS];
        r.copy_from_slice(&t[LIMBS..]);
        reduce_once(&mut r, extra, n);
        r
    }

    /// # Safety
    /// BMI2 and ADX must be available.
    pub(super) unsafe fn mont_mul(a: &Limbs, b: &Limbs, n: &Limbs, n0: u64) -> Limbs {
        // Interleaved rows (CIOS): after row i the running value t[i+1..] stays below 2n; it
        // measured a little faster than the whole product followed by the reduction.
        let mut t = [0u64; 2 * LIMBS + 2];
        for (i, limb) in b.iter().enumerate() {
            let c1 = add_row(t.as_mut_ptr().add(i), a.as_ptr(), *limb);
            let (s, o1) = t[i + LIMBS].overflowing_add(c1);
            t[i + LIMBS] = s;
            let m = t[i].wrapping_mul(n0);
            let c2 = add_row(t.as_mut_ptr().add(i), n.as_ptr(), m);
            let (s, o2) = t[i + LIMBS].overflowing_add(c2);
            t[i + LIMBS] = s;
            t[i + LIMBS + 1] = u64::from(o1) + u64::from(o2);
        }
        let mut r = [0u64; LIMBS];
        r.copy_from_slice(&t[LIMBS..2 * LIMBS]);
        reduce_once(&mut r, t[2 * LIMBS], n);
        r
    }

    /// # Safety
    /// BMI2 and ADX must be available.
    pub(super) unsafe fn mont_sqr(a: &Limbs, n: &Limbs, n0: u64) -> Limbs {
        let mut t = [0u64; 2 * LIMBS];
        // Products a_i * a_j for i < j, each row landing at limb 2i + 1.
        for i in 0..LIMBS - 1 {
            let carry = add_row_short(
                t.as_mut_ptr().add(2 * i + 1),
                a.as_ptr().add(i + 1),
                LIMBS - 1 - i,
                a[i],
            );
            t[i + LIMBS] = carry;
        }
        // Double them, then add the squares a_i^2 on the diagonal.
        let mut top_bit = 0u64;
        for limb in t.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | top_bit;
            top_bit = next;
        }
        let mut carry = 0u64;
        for i in 0..LIMBS {
            let square = u128::from(a[i]) * u128::from(a[i]);
            let low = u128::from(t[2 * i]) + u128::from(square as u64) + u128::from(carry);
            t[2 * i] = low as u64;
            let high = u128::from(t[2 * i + 1]) + u128::from((square >> 64) as u64) + (low >> 64);
            t[2 * i + 1] = high as u64;
            carry = (high >> 64) as u64;
        }
        reduce(&mut t, n, n0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn group_modulus() -> (Modulus, BigUint) {
        let n_bytes = crate::srp::n_bytes();
        let limbs = limbs_from_be(n_bytes).unwrap_or([0; LIMBS]);
        (Modulus::new(limbs), BigUint::from_bytes_be(n_bytes))
    }

    fn big(x: &Limbs) -> BigUint {
        BigUint::from_bytes_be(&limbs_to_be_padded(x))
    }

    fn random_below(rng: &mut ChaCha20Rng, n: &BigUint) -> Limbs {
        let mut bytes = [0u8; BYTES];
        rng.fill_bytes(&mut bytes);
        let value = BigUint::from_bytes_be(&bytes) % n;
        limbs_from_be(&value.to_bytes_be()).unwrap_or([0; LIMBS])
    }

    #[test]
    fn byte_conversions_round_trip_and_refuse_long_input() {
        let mut bytes = [0u8; BYTES];
        bytes[0] = 0x80;
        bytes[BYTES - 1] = 7;
        let limbs = limbs_from_be(&bytes).unwrap_or([0; LIMBS]);
        assert_eq!(limbs_to_be_padded(&limbs), bytes);
        assert_eq!(limbs_from_be(&[0, 0, 1]).map(|l| l[0]), Some(1));
        assert!(limbs_to_be_minimal(&[0; LIMBS]).is_empty());
        let mut long = vec![1u8];
        long.extend_from_slice(&bytes);
        assert!(limbs_from_be(&long).is_none());
        let mut long_with_zero = vec![0u8];
        long_with_zero.extend_from_slice(&bytes);
        assert!(limbs_from_be(&long_with_zero).is_some());
    }

    #[test]
    fn montgomery_products_match_num_bigint_on_both_paths() {
        let (modulus, n) = group_modulus();
        let portable = modulus.portable();
        let r: BigUint = BigUint::from(1u8) << 2048usize;
        let r_inv = r.modinv(&n).expect("R is invertible mod an odd N");
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut cases = vec![
            ([0u64; LIMBS], [0u64; LIMBS]),
            (modulus.one_mont(), modulus.one_mont()),
        ];
        let n_minus_one = modulus.sub(&[0u64; LIMBS], &modulus.one_mont());
        let n_minus_one = modulus.leave_mont(&n_minus_one);
        let top = modulus.sub(&[0; LIMBS], &{
            let mut one = [0u64; LIMBS];
            one[0] = 1;
            one
        });
        cases.push((top, top));
        cases.push((n_minus_one, top));
        for _ in 0..200 {
            cases.push((random_below(&mut rng, &n), random_below(&mut rng, &n)));
        }
        for (a, b) in cases {
            let expected = (big(&a) * big(&b) * &r_inv) % &n;
            assert_eq!(big(&modulus.mul(&a, &b)), expected);
            assert_eq!(big(&portable.mul(&a, &b)), expected);
            let expected_sq = (big(&a) * big(&a) * &r_inv) % &n;
            assert_eq!(big(&modulus.sqr(&a)), expected_sq);
            assert_eq!(big(&portable.sqr(&a)), expected_sq);
            assert_eq!(big(&modulus.add(&a, &b)), (big(&a) + big(&b)) % &n);
            assert_eq!(big(&modulus.sub(&a, &b)), (big(&a) + &n - big(&b)) % &n);
        }
    }

    #[test]
    fn exponentiations_match_num_bigint() {
        let (modulus, n) = group_modulus();
        let mut g = [0u64; LIMBS];
        g[0] = 2;
        let g_mont = modulus.to_mont(&g);
        let fixed = FixedBase::new(&modulus, &g_mont);
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for len in [0usize, 1, 2, 31, 32, 33, 64, 65] {
            let mut exp = vec![0u8; len];
            rng.fill_bytes(&mut exp);
            let e = BigUint::from_bytes_be(&exp);
            let base = random_below(&mut rng, &n);
            let base_mont = modulus.to_mont(&base);
            let expected = big(&base).modpow(&e, &n);
            assert_eq!(
                big(&modulus.leave_mont(&modulus.pow_secret(&base_mont, &exp))),
                expected
            );
            assert_eq!(
                big(&modulus.leave_mont(&modulus.pow_public(&base_mont, &exp))),
                expected
            );
            let g_expected = BigUint::from(2u8).modpow(&e, &n);
            match fixed.pow(&modulus, &exp) {
                Some(value) => assert_eq!(big(&modulus.leave_mont(&value)), g_expected),
                None => assert!(len > FixedBase::MAX_EXPONENT_BYTES),
            }
        }
        // Exponents with runs of zero bits exercise the sliding window's edges.
        for exp in [
            vec![0x80u8, 0, 0, 1],
            vec![0xffu8; 40],
            vec![1u8, 0, 0, 0, 0x10],
        ] {
            let e = BigUint::from_bytes_be(&exp);
            let base = random_below(&mut rng, &n);
            let base_mont = modulus.to_mont(&base);
            assert_eq!(
                big(&modulus.leave_mont(&modulus.pow_public(&base_mont, &exp))),
                big(&base).modpow(&e, &n)
            );
        }
    }

    #[test]
    fn adx_path_is_taken_where_the_cpu_has_it() {
        let (modulus, _) = group_modulus();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            modulus.uses_adx(),
            std::arch::is_x86_feature_detected!("bmi2")
                && std::arch::is_x86_feature_detected!("adx")
        );
        #[cfg(not(target_arch = "x86_64"))]
        assert!(!modulus.uses_adx());
    }
}
