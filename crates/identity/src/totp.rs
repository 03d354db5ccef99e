//! TOTP (RFC 6238) over HOTP (RFC 4226): codes, the `otpauth://` Key URI, and its QR code as SVG.
//!
//! A code is accepted for time step `T` only if `T` lies within the policy's drift of the current
//! step and is later than the last step accepted for that registration, so a code (or an older
//! one still inside the drift window) cannot be used twice. The registration's first code, which
//! proves the device, counts as used.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::error::Failure;
use crate::policy::{TotpAlgorithm, TotpPolicy};

/// Length of a newly drawn TOTP secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
    m.update(message);
    Some(m.finalize().into_bytes().to_vec())
}

/// HOTP (RFC 4226 section 5.3) with the given hash: the numeric code for `counter`, before
/// zero-padding. `digits` is 6 or 8 in policies; anything from 1 to 9 works here.
pub fn hotp(secret: &[u8], counter: u64, algorithm: TotpAlgorithm, digits: u32) -> u32 {
    let message = counter.to_be_bytes();
    let digest = match algorithm {
        TotpAlgorithm::Sha1 => mac::<Hmac<Sha1>>(secret, &message),
        TotpAlgorithm::Sha256 => mac::<Hmac<Sha256>>(secret, &message),
        TotpAlgorithm::Sha512 => mac::<Hmac<Sha512>>(secret, &message),
    }
    .unwrap_or_default();
    let Some(last) = digest.last() else {
        return 0;
    };
    let offset = usize::from(last & 0x0f);
    let Some(window) = digest.get(offset..offset + 4) else {
        return 0;
    };
    let binary = (u32::from(window[0] & 0x7f) << 24)
        | (u32::from(window[1]) << 16)
        | (u32::from(window[2]) << 8)
        | u32::from(window[3]);
    binary % 10u32.pow(digits.clamp(1, 9))
}

/// A code as typed: zero-padded to `digits`.
pub fn format_code(code: u32, digits: u32) -> String {
    format!("{code:0width$}", width = digits as usize)
}

/// The RFC 6238 time step of `unix_ms` (`T = floor(t / period)`, 0 before the epoch).
pub fn time_step(unix_ms: i64, period_seconds: u32) -> u64 {
    let seconds = unix_ms.div_euclid(1000).max(0) as u64;
    seconds / u64::from(period_seconds.max(1))
}

/// The TOTP code at `unix_ms`.
pub fn code_at(
    secret: &[u8],
    unix_ms: i64,
    period_seconds: u32,
    algorithm: TotpAlgorithm,
    digits: u32,
) -> String {
    format_code(
        hotp(
            secret,
            time_step(unix_ms, period_seconds),
            algorithm,
            digits,
        ),
        digits,
    )
}

/// Finds the time step within the policy's drift of `unix_ms` whose code is `code`, later than
/// `last_used_step`. Every candidate step is compared (in constant time), match or not.
pub(crate) fn matching_step(
    secret: &[u8],
    code: &str,
    unix_ms: i64,
    policy: &TotpPolicy,
    last_used_step: Option<u64>,
) -> StepMatch {
    let (algorithm, digits) = (policy.algorithm, policy.digits);
    let current = time_step(unix_ms, policy.period_seconds);
    let drift = u64::from(policy.accepted_drift_steps);
    let first = current.saturating_sub(drift);
    let last = current.saturating_add(drift);
    let mut found: Option<u64> = None;
    for step in first..=last {
        let candidate = format_code(hotp(secret, step, algorithm, digits), digits);
        let equal = candidate.len() == code.len()
            && bool::from(candidate.as_bytes().ct_eq(code.as_bytes()));
        if equal && found.is_none() {
            found = Some(step);
        }
    }
    match (found, last_used_step) {
        (None, _) => StepMatch::NoMatch,
        (Some(step), Some(used)) if step <= used => StepMatch::AlreadyUsed,
        (Some(step), _) => StepMatch::Accepted(step),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepMatch {
    Accepted(u64),
    AlreadyUsed,
    NoMatch,
}

/// The secret as authenticator apps take it: RFC 4648 base32, no padding.
pub fn secret_to_base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Reads a base32 secret as people type it: any case, spaces and `=` padding ignored.
pub fn secret_from_base32(text: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .map_err(|e| format!("the TOTP secret is not base32: {e}"))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The Key URI (`otpauth://totp/Issuer:account?secret=...&issuer=...&algorithm=...&digits=...&period=...`).
pub fn key_uri(
    issuer: &str,
    account: &str,
    secret: &[u8],
    algorithm: TotpAlgorithm,
    digits: u32,
    period_seconds: u32,
) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&period={}",
        percent_encode(issuer),
        percent_encode(account),
        secret_to_base32(secret),
        percent_encode(issuer),
        algorithm.as_str(),
        digits,
        period_seconds
    )
}

/// The QR code of `text` (an `otpauth://` URI) as a standalone SVG document, 200 pixels square.
pub fn qr_svg(text: &str) -> Result<String, Failure> {
    crate::qr::svg(text, 200).map_err(|e| Failure::QrCode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        let expected = [
            755224u32, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(
                hotp(SEED_SHA1, counter as u64, TotpAlgorithm::Sha1, 6),
                *code
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_every_row() {
        // (time in seconds, SHA1, SHA256, SHA512), 8 digits, 30 s steps.
        let rows: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in rows {
            let ms = time * 1000;
            assert_eq!(
                code_at(SEED_SHA1, ms, 30, TotpAlgorithm::Sha1, 8),
                sha1,
                "{time}"
            );
            assert_eq!(
                code_at(SEED_SHA256, ms, 30, TotpAlgorithm::Sha256, 8),
                sha256,
                "{time}"
            );
            assert_eq!(
                code_at(SEED_SHA512, ms, 30, TotpAlgorithm::Sha512, 8),
                sha512,
                "{time}"
            );
        }
    }

    #[test]
    fn drift_and_reuse_are_enforced() {
        let now = 1_700_000_000_000i64;
        let step = time_step(now, 30);
        let code_for = |s: u64| format_code(hotp(SEED_SHA1, s, TotpAlgorithm::Sha1, 6), 6);
        let check = |code: &str, drift: u32, used: Option<u64>| {
            let policy = TotpPolicy {
                name: "t".into(),
                issuer: "i".into(),
                algorithm: TotpAlgorithm::Sha1,
                digits: 6,
                period_seconds: 30,
                accepted_drift_steps: drift,
                max_failed_attempts: 0,
                session_lifetime_seconds: 300,
            };
            matching_step(SEED_SHA1, code, now, &policy, used)
        };
        assert_eq!(check(&code_for(step), 0, None), StepMatch::Accepted(step));
        assert_eq!(
            check(&code_for(step - 1), 1, None),
            StepMatch::Accepted(step - 1)
        );
        assert_eq!(
            check(&code_for(step + 1), 1, None),
            StepMatch::Accepted(step + 1)
        );
        assert_eq!(check(&code_for(step - 1), 0, None), StepMatch::NoMatch);
        assert_eq!(check(&code_for(step - 2), 1, None), StepMatch::NoMatch);
        assert_eq!(
            check(&code_for(step), 1, Some(step)),
            StepMatch::AlreadyUsed
        );
        assert_eq!(
            check(&code_for(step - 1), 1, Some(step)),
            StepMatch::AlreadyUsed
        );
        assert_eq!(
            check(&code_for(step + 1), 1, Some(step)),
            StepMatch::Accepted(step + 1)
        );
        assert_eq!(check("12345", 1, None), StepMatch::NoMatch);
    }

    #[test]
    fn key_uri_follows_the_key_uri_format() {
        let uri = key_uri(
            "Acme Co",
            "alice@example.com",
            SEED_SHA1,
            TotpAlgorithm::Sha256,
            8,
            60,
        );
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA256&digits=8&period=60"
        );
        assert_eq!(
            secret_from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").ok(),
            Some(SEED_SHA1.to_vec())
        );
        assert!(secret_from_base32("not base32!").is_err());
    }

    #[test]
    fn qr_code_is_an_svg_document() {
        let svg = qr_svg("otpauth://totp/A:b?secret=GEZDGNBV&issuer=A").unwrap_or_default();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("</svg>"));
        assert!(qr_svg(&"x".repeat(10_000)).is_err());
    }
}
