//! What the stored records ([`crate::records`]) and the export format ([`crate::export`]) share,
//! so that neither imports the other's: an instance's error, step seeds as hex, and serde's
//! "leave out when false".

use idflow_engine::{InstanceError, StepSeed};
use serde::{Deserialize, Serialize};

/// serde's `skip_serializing_if` for a flag written only when set.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// A step seed as persisted and exported: [`StepSeed::HmacSha256`] as its 32 lowercase hex
/// digits (the one form written before seeds had kinds, so a seed without a kind is of that
/// one), [`StepSeed::Blake3`] as `blake3:` and 64 lowercase hex digits.
pub(crate) fn seed_text(seed: &StepSeed) -> String {
    match seed {
        StepSeed::HmacSha256(bytes) => data_encoding::HEXLOWER.encode(bytes),
        StepSeed::Blake3(key) => format!("{BLAKE3_SEED}{}", data_encoding::HEXLOWER.encode(key)),
    }
}

/// The prefix of a [`StepSeed::Blake3`] seed in [`seed_text`].
const BLAKE3_SEED: &str = "blake3:";

/// Reads [`seed_text`] back; the error names what is wrong (never the seed's digits).
pub(crate) fn parse_seed(text: &str) -> Result<StepSeed, String> {
    let (kind, digits) = match text.split_once(':') {
        None => ("hmac-sha256", text),
        Some(("blake3", digits)) => ("blake3", digits),
        Some((kind, _)) => {
            // Only a kind that looks like one is named: the text may be a mangled seed.
            let shown = if !kind.is_empty()
                && kind.len() <= 16
                && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !kind.bytes().all(|b| b.is_ascii_hexdigit())
            {
                format!(" '{kind}'")
            } else {
                String::new()
            };
            return Err(format!(
                "the step seed's kind{shown} is unknown (known: 32 hex digits for hmac-sha256, \
                 `{BLAKE3_SEED}` and 64 hex digits for blake3)"
            ));
        }
    };
    let bytes = data_encoding::HEXLOWER.decode(digits.as_bytes()).ok();
    match kind {
        "blake3" => bytes
            .and_then(|b| <[u8; StepSeed::KEYED_LEN]>::try_from(b).ok())
            .map(StepSeed::keyed)
            .ok_or_else(|| {
                format!(
                    "the blake3 step seed is not {} lowercase hex digits",
                    2 * StepSeed::KEYED_LEN
                )
            }),
        _ => bytes
            .and_then(|b| <[u8; StepSeed::LEN]>::try_from(b).ok())
            .map(StepSeed::from_bytes)
            .ok_or_else(|| {
                format!(
                    "the step seed is not {} lowercase hex digits",
                    2 * StepSeed::LEN
                )
            }),
    }
}

/// The error an instance ended with: in its record and in its `ended` event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorRecord {
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub msg: String,
}

impl ErrorRecord {
    pub fn from_engine(e: &InstanceError) -> ErrorRecord {
        ErrorRecord {
            node: e.node.clone(),
            msg: e.message.clone(),
        }
    }

    pub fn to_engine(&self) -> InstanceError {
        InstanceError {
            node: self.node.clone(),
            message: self.msg.clone(),
        }
    }
}
