//! Base64 on the SRP wire: what the server writes (standard with padding; base64url without padding
//! for the salt) and the lenient reading srp.md asks for (padded or not, standard or URL-safe).

use base64::alphabet;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD,
};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

/// Standard base64 with padding: `n`, `serverPublicKey`, `verifier`, `a`, `m1`, `m2`.
pub fn encode_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// base64url without padding: the salt.
pub fn encode_url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes any of standard/URL-safe, padded/unpadded base64. Surrounding whitespace is ignored.
/// The error says what is wrong without repeating the input (it may be a secret).
pub fn decode_lenient(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    let normalised: String = trimmed
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    LENIENT
        .decode(normalised.as_bytes())
        .map_err(|e| format!("is not base64 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_spelling_decodes_to_the_same_bytes() {
        let bytes: Vec<u8> = vec![0xfb, 0xff, 0x00, 0x3e, 0x3f];
        let spellings = [
            encode_standard(&bytes),
            encode_standard(&bytes).trim_end_matches('=').to_string(),
            encode_url(&bytes),
            format!("{}=", encode_url(&bytes)),
            format!("  {}\n", encode_standard(&bytes)),
        ];
        for s in spellings {
            assert_eq!(decode_lenient(&s), Ok(bytes.clone()), "{s}");
        }
    }

    #[test]
    fn garbage_is_refused_without_echoing_it() {
        for bad in ["", "   ", "abc$", "a", "ab=c", "!!!!"] {
            let err = decode_lenient(bad).expect_err(bad);
            if bad.trim().len() >= 4 {
                assert!(!err.contains(bad.trim()), "{err}");
            }
        }
    }
}
