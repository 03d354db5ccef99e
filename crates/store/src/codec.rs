//! Versioned record encoding: one version byte, then the record's JSON; or, for a record whose
//! JSON is long enough to gain from it, a format byte, the version byte, and the JSON compressed
//! with zstd against the store's dictionary.
//!
//! | first byte | then |
//! |---|---|
//! | `1..=0x7f` | the record's version is this byte; the record's JSON follows as it is (a [`Record::VERSION`] stays below `0x80`: the bytes above are formats) |
//! | [`ZSTD_DICTIONARY_1`] (`0xc1`) | the record's version byte, then one zstd frame (content size in its header, a checksum, no dictionary ID) of the JSON, compressed with `dictionaries/records-1.zdict` |
//!
//! Compression happens where the record is encoded: in the caller's transaction closure, which
//! sled runs outside its commit lock (sled's own `use_compression` compresses under that lock and
//! halved the durable throughput). A dictionary file, once released, never changes: records
//! written with it are read with it; a better dictionary gets a new first byte. Stores written
//! before compression (every value plain JSON) read as they are.
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

/// First byte of a record compressed with zstd against `dictionaries/records-1.zdict`.
pub const ZSTD_DICTIONARY_1: u8 = 0xc1;

/// The dictionary: zstd's `--train` over the records `idflow bench store` leaves behind (how it
/// was made: `crates/store/src/dictionaries/README.md`). Never to change.
static DICTIONARY_1: &[u8] = include_bytes!("dictionaries/records-1.zdict");

/// JSON shorter than this is stored as it is: the frame header and the version byte would eat
/// what compression saves.
const COMPRESS_FROM: usize = 96;

/// zstd's level: the fast end, as this runs on every transition.
const LEVEL: i32 = 3;

/// The most bytes a compressed record may expand to; a corrupt length field above it is refused
/// before anything is allocated.
const MAX_EXPANDED: u64 = 256 << 20;

mod zstd_dictionary {
    //! One prepared dictionary and a compressor and decompressor per thread: preparing a
    //! dictionary costs far more than compressing a record with it.

    use std::cell::RefCell;
    use std::sync::OnceLock;

    use zstd::bulk::{Compressor, Decompressor};
    use zstd::dict::{DecoderDictionary, EncoderDictionary};

    fn encoder() -> &'static EncoderDictionary<'static> {
        static E: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
        E.get_or_init(|| EncoderDictionary::copy(super::DICTIONARY_1, super::LEVEL))
    }

    fn decoder() -> &'static DecoderDictionary<'static> {
        static D: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
        D.get_or_init(|| DecoderDictionary::copy(super::DICTIONARY_1))
    }

    thread_local! {
        static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
        static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
    }

    /// Appends the zstd frame of `data` to `out`.
    pub(super) fn compress(data: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        COMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            let compressor = match slot.as_mut() {
                Some(c) => c,
                None => {
                    let mut c = Compressor::with_prepared_dictionary(encoder())?;
                    // The tag byte names the dictionary; its ID in every frame would be 4 bytes.
                    c.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))?;
                    // 4 bytes that make a damaged value an error rather than another record.
                    c.include_checksum(true)?;
                    c.include_contentsize(true)?;
                    slot.insert(c)
                }
            };
            // zstd fills a buffer from its start, so the frame is made apart and appended.
            let frame = compressor.compress(data)?;
            out.extend_from_slice(&frame);
            Ok(())
        })
    }

    /// The bytes of the frame `data`, which says it holds `size` bytes.
    pub(super) fn decompress(data: &[u8], size: usize) -> std::io::Result<Vec<u8>> {
        DECOMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            let decompressor = match slot.as_mut() {
                Some(d) => d,
                None => slot.insert(Decompressor::with_prepared_dictionary(decoder())?),
            };
            decompressor.decompress(data, size)
        })
    }
}

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

/// The stored bytes of `record`: compressed when its JSON is long enough (see the module's table).
pub fn encode_record<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    let plain = encode_plain(record)?;
    if plain.len() - 1 < COMPRESS_FROM {
        return Ok(plain);
    }
    let mut out = Vec::with_capacity(plain.len() / 2);
    out.push(ZSTD_DICTIONARY_1);
    out.push(R::VERSION);
    zstd_dictionary::compress(&plain[1..], &mut out).map_err(|e| StoreError::Encode {
        kind: R::KIND,
        reason: format!("compression failed: {e}"),
    })?;
    // Incompressible JSON (random-looking strings) stays plain rather than grow.
    Ok(if out.len() < plain.len() { out } else { plain })
}

/// The uncompressed encoding of `record`: its version byte, then its JSON. What every store held
/// before compression, and what a short record still is.
pub fn encode_plain<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
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
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    while let Some(&b) = json.get(at) {
        at += 1;
        match b {
            // Most of a record's bytes are inside strings: skip each to its closing quote with
            // memchr (a few bytes per instruction) rather than a byte at a time.
            b'"' => loop {
                let rest = json.get(at..).unwrap_or_default();
                match memchr::memchr2(b'"', b'\\', rest) {
                    // An escape: the byte after the backslash is never the string's end.
                    Some(i) if rest[i] == b'\\' => at += i + 2,
                    Some(i) => {
                        at += i + 1;
                        break;
                    }
                    // An unterminated string: nothing after its quote counts.
                    None => return deepest,
                }
            },
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
    let (&first, rest) = bytes
        .split_first()
        .ok_or_else(|| corrupt(format!("empty {} record", R::KIND)))?;
    if first != ZSTD_DICTIONARY_1 {
        return decode_json(key, first, rest);
    }
    let (&version, frame) = rest
        .split_first()
        .ok_or_else(|| corrupt(format!("compressed {} record has no version", R::KIND)))?;
    let json = expand(frame).map_err(|e| corrupt(format!("{} record: {e}", R::KIND)))?;
    decode_json(key, version, &json)
}

/// The version byte and JSON of a stored record, whatever its encoding: what a tool that reads
/// records without knowing their type sees (the benchmark's sample dump, tests).
pub fn plain_record(key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: render_key(key),
        reason,
    };
    match bytes {
        [] => Err(corrupt("empty record".to_string())),
        [ZSTD_DICTIONARY_1, rest @ ..] => {
            let (&version, frame) = rest
                .split_first()
                .ok_or_else(|| corrupt("compressed record has no version".to_string()))?;
            let json = expand(frame).map_err(corrupt)?;
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(version);
            out.extend_from_slice(&json);
            Ok(out)
        }
        plain => Ok(plain.to_vec()),
    }
}

/// The JSON inside a zstd frame of [`ZSTD_DICTIONARY_1`]; a bad frame is an explanation.
fn expand(frame: &[u8]) -> Result<Vec<u8>, String> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_EXPANDED => size as usize,
        Ok(Some(size)) => {
            return Err(format!(
                "compressed record claims {size} bytes, over the limit of {MAX_EXPANDED}"
            ))
        }
        _ => return Err("compressed record has no readable zstd frame header".to_string()),
    };
    let json = zstd_dictionary::decompress(frame, size)
        .map_err(|e| format!("compressed record does not expand: {e}"))?;
    if json.len() != size {
        return Err(format!(
            "compressed record expands to {} bytes, its header says {size}",
            json.len()
        ));
    }
    Ok(json)
}

/// A record from its version byte and its JSON.
fn decode_json<R: Record>(key: &[u8], version: u8, body: &[u8]) -> Result<R, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: render_key(key),
        reason,
    };
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
