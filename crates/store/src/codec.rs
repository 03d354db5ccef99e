//! Versioned record encoding: one version byte, then the record's JSON.
//!
//! Each persisted shape is its own type implementing [`Record`] (never a derive on a core domain
//! type), with a `KIND` for error messages and a `VERSION`. A reader meets older versions through
//! [`Record::upgrade`], which sees the raw JSON of the old version; a newer version than this build
//! knows is refused, never guessed at.
//!
//! The store reads back everything it writes: a record nested deeper than [`MAX_RECORD_DEPTH`]
//! is refused when it is *encoded* (an `Encode` error, nothing written), because serde_json would
//! refuse it when decoding (its recursion limit is 128) and the record would be lost.

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

/// The deepest nesting of arrays and objects a stored record may have. serde_json refuses to
/// decode past 128 levels; this leaves room for readers that wrap a record in an envelope.
pub const MAX_RECORD_DEPTH: usize = 100;

pub fn encode_record<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(128);
    out.push(R::VERSION);
    serde_json::to_writer(&mut out, record).map_err(|e| StoreError::Encode {
        kind: R::KIND,
        reason: e.to_string(),
    })?;
    let depth = json_depth(&out[1..]);
    if depth > MAX_RECORD_DEPTH {
        return Err(StoreError::Encode {
            kind: R::KIND,
            reason: format!(
                "it nests {depth} levels deep, over the limit of {MAX_RECORD_DEPTH} a record can be read back with"
            ),
        });
    }
    Ok(out)
}

/// The deepest nesting of arrays and objects in a JSON text (0 for a scalar), counted without
/// parsing it, so a caller can refuse a document before handing it to a recursive parser.
/// Brackets inside strings do not count; the text need not be valid JSON.
pub fn json_depth(json: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
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
