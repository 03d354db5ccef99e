//! What the stored records ([`crate::records`]) and the export format ([`crate::export`]) share,
//! so that neither imports the other's: an instance's error, step seeds as hex, and serde's
//! "leave out when false".

use idflow_engine::{InstanceError, StepSeed};
use serde::{Deserialize, Serialize};

/// serde's `skip_serializing_if` for a flag written only when set.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// A step seed as persisted and exported: 32 lowercase hex digits.
pub(crate) fn seed_text(seed: &StepSeed) -> String {
    data_encoding::HEXLOWER.encode(seed.as_bytes())
}

/// Reads [`seed_text`] back; the error names what is wrong (not the text).
pub(crate) fn parse_seed(text: &str) -> Result<StepSeed, String> {
    let bytes = data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .ok()
        .and_then(|b| <[u8; StepSeed::LEN]>::try_from(b).ok())
        .ok_or_else(|| {
            format!(
                "the step seed is not {} lowercase hex digits",
                2 * StepSeed::LEN
            )
        })?;
    Ok(StepSeed::from_bytes(bytes))
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
