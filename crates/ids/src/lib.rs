//! IDs: 128 random bits written as 26 characters of RFC 4648 base32 without padding.
//!
//! One definition for every ID the product hands out (users, sessions, instances, process
//! tokens; product.md, "IDs"), shared by the identity crate and the runtime, which may not
//! depend on each other. [`is_id`] is the one validity check: an ID must decode to exactly 16
//! bytes, so non-canonical spellings (trailing bits set) are refused everywhere alike.
//!
//! Several of these IDs are capabilities: an instance ID with its step ID answers a step, a
//! session ID completes an authentication, a process token ID starts instances. They never go
//! into logs or error messages that may be logged; [`log_tag`] is what goes there instead.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Length of an ID in characters.
pub const ID_LENGTH: usize = 26;

/// A new ID from `rng`, e.g. `UGIRW7QN727EIV2XLXG4YH42N4`.
pub fn new_id(rng: &mut (impl RngCore + ?Sized)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    id_from_bytes(&bytes)
}

/// The ID of 16 given bytes (for values drawn ahead of a transaction).
pub fn id_from_bytes(bytes: &[u8; 16]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// Whether `text` has the shape of an ID (26 base32 characters that decode to 16 bytes).
pub fn is_id(text: &str) -> bool {
    text.len() == ID_LENGTH
        && data_encoding::BASE32_NOPAD
            .decode(text.as_bytes())
            .is_ok_and(|b| b.len() == 16)
}

/// How an ID (or any other capability, such as a step ID) appears in logs and log-bound error
/// messages: `#` and the first 8 hex digits of its SHA-256. Whoever holds the ID can find its
/// log lines (the same ID always gives the same tag), and lines about one ID correlate; nobody
/// can go from the tag back to the ID (an ID has 128 random bits) or use the tag in its place.
pub fn log_tag(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    format!("#{}", data_encoding::HEXLOWER.encode(&digest[..4]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_are_26_base32_characters() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        for _ in 0..100 {
            let id = new_id(&mut rng);
            assert_eq!(id.len(), ID_LENGTH);
            assert!(id
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
            assert!(is_id(&id));
        }
        assert!(is_id("UGIRW7QN727EIV2XLXG4YH42N4"));
        assert!(!is_id("UGIRW7QN727EIV2XLXG4YH42N"));
        assert!(!is_id("ugirw7qn727eiv2xlxg4yh42n4"));
        assert!(!is_id("UGIRW7QN727EIV2XLXG4YH42N1"));
        for bad in [
            "",
            "short",
            "UGIRW7QN727EIV2XLXG4YH42N41",
            "UGIRW7QN727EIV2XLXG4YH42N\u{e9}",
        ] {
            assert!(!is_id(bad), "{bad:?}");
        }
        assert_eq!(id_from_bytes(&[0; 16]), "AAAAAAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn log_tags_are_short_stable_and_do_not_show_the_id() {
        let id = "UGIRW7QN727EIV2XLXG4YH42N4";
        let tag = log_tag(id);
        // sha256("UGIRW7QN727EIV2XLXG4YH42N4") begins with these 4 bytes (sha256sum).
        assert_eq!(tag, "#82dcef50");
        assert_eq!(log_tag(id), tag);
        assert_ne!(log_tag("UGIRW7QN727EIV2XLXG4YH42N5"), tag);
        assert!(!tag.contains("UGIRW"));
    }
}
