//! Versioned record encoding: one version byte, then the record's JSON.
//!
//! Each persisted shape is its own type implementing [`Record`] (never a derive on a core domain
//! type), with a `KIND` for error messages and a `VERSION`. A reader meets older versions through
//! [`Record::upgrade`], which sees the raw JSON of the old version; a newer version than this build
//! knows is refused, never guessed at.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{render_key, StoreError};

/// A persisted shape.
pub trait Record: Serialize + DeserializeOwned {
    /// A short name for messages: "user", "instance", "history-event".
    const KIND: &'static str;
    /// The version written by this build. Starts at 1.
    const VERSION: u8;

    /// Turns the JSON of an older `version` into the current shape. The default refuses.
    fn upgrade(version: u8, _json: serde_json::Value) -> Result<Self, String> {
        Err(format!(
            "no upgrade from {} version {version} to {}",
            Self::KIND,
            Self::VERSION
        ))
    }
}

pub fn encode_record<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(128);
    out.push(R::VERSION);
    serde_json::to_writer(&mut out, record).map_err(|e| StoreError::Encode {
        kind: R::KIND,
        reason: e.to_string(),
    })?;
    Ok(out)
}

pub fn decode_record<R: Record>(key: &[u8], bytes: &[u8]) -> Result<R, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: render_key(key),
        reason,
    };
    let (&version, body) = bytes
        .split_first()
        .ok_or_else(|| corrupt(format!("empty {} record", R::KIND)))?;
    if version == R::VERSION {
        serde_json::from_slice(body).map_err(|e| corrupt(format!("{} record: {e}", R::KIND)))
    } else if version == 0 || version > R::VERSION {
        Err(StoreError::UnsupportedVersion {
            kind: R::KIND,
            found: version,
            supported: R::VERSION,
        })
    } else {
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| corrupt(format!("{} record: {e}", R::KIND)))?;
        R::upgrade(version, json).map_err(corrupt)
    }
}
