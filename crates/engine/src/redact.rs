//! Secret redaction: values read from the process variables, with every secret replaced by a
//! commitment marker, so histories and API reads never hold a secret.
//!
//! A marker is `"secret:hmac-sha256:<64 hex>"`, the HMAC-SHA256 of a value's canonical JSON
//! (serde_json's escaping, object keys sorted, no whitespace) under a [`MarkerKey`]. It commits to
//! the value without revealing it, and, because it is keyed, whoever reads a history or an API
//! read cannot test a guess against it (a passcode against a verifier's marker, the 10^6 TOTP
//! codes against a code's marker) without the key, which never leaves the server's data
//! directory. It is a fixed point: the marker of a marker is the marker itself, whatever the key.
//! Markers made before keys (`"secret:sha256:<64 hex>"`, unkeyed) are still recognised as
//! markers, so histories recorded then replay; they are not made any more.
//!
//! Which values are secret is decided by paths ([`crate::Instance::secret_paths`]): a value at
//! or under a secret path is secret; a value read at a prefix of a secret path (a whole form
//! object) keeps its shape with the secret parts replaced. Only secret paths are ever walked, so
//! an instance without secrets pays nothing.
//!
//! A secret scalar (a TOTP seed, a verifier, a code) becomes its marker. A secret object or array
//! keeps its shape, field names and length, with each scalar inside replaced by its marker
//! ([`redact_value`]). Keeping the shape is what makes replay exact: a replay re-runs the engine
//! on the *redacted* recorded inputs, so its variables hold the redacted view, and later steps
//! may still write into a secret object, append to it, or store a secret form's answer (an
//! object) there, and redact to the very same view. A single marker for a whole container could
//! not be updated that way. Since every secret a replay meets already is a marker, a replay needs
//! no key ([`MarkerKey::for_replay`]).

use std::collections::BTreeSet;
use std::io;

use std::fmt;

use hmac::{Hmac, Mac};
use idflow_expr::{Segment, VarPath};
use serde_json::Value;
use sha2::Sha256;

/// How every marker made now begins.
pub const MARKER_PREFIX: &str = "secret:hmac-sha256:";

/// How the unkeyed markers of histories recorded before [`MarkerKey`] existed begin: still
/// recognised (fixed points, so those histories replay), never made.
pub const LEGACY_MARKER_PREFIX: &str = "secret:sha256:";

const HEX_LEN: usize = 64;

/// What Debug output shows in place of a secret value (it computes no marker: Debug has no key).
pub const MASK: &str = "<secret>";

/// The secret that markers are keyed with: 32 bytes, one per data directory (the server keeps it
/// in a file of mode 0600 there, never exported); temporary runtimes draw a random one. Markers
/// are stable for as long as the key is, which is all anything needs: replay compares recorded
/// markers with reproduced ones, and every marker it meets is a fixed point.
///
/// The engine never draws or stores it: the caller hands it to [`crate::apply`]. `Debug` does not
/// show it and there is no `Display`.
#[derive(Clone)]
pub struct MarkerKey {
    bytes: [u8; MarkerKey::LEN],
    /// The MAC keyed with `bytes`, cloned for each marker (its key schedule is done once).
    mac: Hmac<Sha256>,
}

impl MarkerKey {
    /// Length of a key, in bytes.
    pub const LEN: usize = 32;

    pub fn from_bytes(bytes: [u8; MarkerKey::LEN]) -> MarkerKey {
        // HMAC pads a key shorter than SHA-256's 64-byte block with zeros; padding it here gives
        // the same MAC through the constructor that cannot fail.
        let mut block = [0u8; 64];
        block[..MarkerKey::LEN].copy_from_slice(&bytes);
        let mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into());
        MarkerKey { bytes, mac }
    }

    /// The key a replay runs under. It is public (all zeros), and that is safe: a recorded
    /// history holds markers where the run held secrets, markers are fixed points, so a replay
    /// never marks a secret with it. A value a replay would mark anew is one the history shows
    /// in clear already, and the new marker differs from the recorded one: a divergence.
    pub fn for_replay() -> MarkerKey {
        MarkerKey::from_bytes([0; MarkerKey::LEN])
    }
}

impl PartialEq for MarkerKey {
    fn eq(&self, other: &MarkerKey) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for MarkerKey {}

impl fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarkerKey(<redacted>)")
    }
}

/// Whether `s` is a commitment marker: `secret:hmac-sha256:` (or the legacy `secret:sha256:`)
/// and 64 lowercase hex digits.
pub fn is_marker_str(s: &str) -> bool {
    s.strip_prefix(MARKER_PREFIX)
        .or_else(|| s.strip_prefix(LEGACY_MARKER_PREFIX))
        .is_some_and(|hex| {
            hex.len() == HEX_LEN
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Whether `value` is a commitment marker.
pub fn is_marker(value: &Value) -> bool {
    matches!(value, Value::String(s) if is_marker_str(s))
}

/// The commitment marker of `value` under `key`; a marker is returned unchanged.
pub fn marker(value: &Value, key: &MarkerKey) -> Value {
    if is_marker(value) {
        return value.clone();
    }
    let mut hasher = HashWriter(key.mac.clone());
    // Writing into a MAC cannot fail: HashWriter's write always succeeds.
    let _ = write_canonical(&mut hasher, value);
    let digest = hasher.0.finalize().into_bytes();
    let mut out = String::with_capacity(MARKER_PREFIX.len() + HEX_LEN);
    out.push_str(MARKER_PREFIX);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Value::String(out)
}

/// The canonical JSON text of `value`: object keys sorted, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_canonical(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

fn write_canonical<W: io::Write>(w: &mut W, value: &Value) -> io::Result<()> {
    match value {
        Value::Array(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_canonical(w, item)?;
            }
            w.write_all(b"]")
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            w.write_all(b"{")?;
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut *w, key).map_err(io::Error::other)?;
                w.write_all(b":")?;
                write_canonical(w, item)?;
            }
            w.write_all(b"}")
        }
        scalar => serde_json::to_writer(w, scalar).map_err(io::Error::other),
    }
}

struct HashWriter(Hmac<Sha256>);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a secret scalar is replaced with.
#[derive(Clone, Copy)]
enum Cover<'k> {
    /// Its commitment marker (history, API reads).
    Marker(&'k MarkerKey),
    /// [`MASK`] (Debug output).
    Mask,
}

/// A secret value as history shows it: a scalar becomes its marker, an object or array keeps its
/// shape with every scalar inside replaced by its marker. Idempotent.
pub fn redact_value(value: &Value, key: &MarkerKey) -> Value {
    let mut out = value.clone();
    redact_in_place(&mut out, key);
    out
}

/// [`redact_value`] in place.
pub fn redact_in_place(value: &mut Value, key: &MarkerKey) {
    cover_in_place(value, Cover::Marker(key));
}

fn cover_in_place(value: &mut Value, cover: Cover<'_>) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| cover_in_place(v, cover)),
        Value::Object(map) => map.values_mut().for_each(|v| cover_in_place(v, cover)),
        scalar => {
            if !is_marker(scalar) {
                *scalar = match cover {
                    Cover::Marker(key) => marker(scalar, key),
                    Cover::Mask => Value::String(MASK.to_string()),
                };
            }
        }
    }
}

/// Whether `path` is at or under a secret path.
pub fn is_secret_path(path: &VarPath, secrets: &BTreeSet<VarPath>) -> bool {
    secrets.iter().any(|s| path.starts_with(s))
}

/// Whether reading `path` may touch a secret: it is at or under a secret path, or a secret path
/// lies under it.
pub fn touches_secret(path: &VarPath, secrets: &BTreeSet<VarPath>) -> bool {
    secrets
        .iter()
        .any(|s| path.starts_with(s) || s.starts_with(path))
}

/// The redacted form of `value`, read from the variables at `path`, or `None` when no secret is
/// involved (the value may then be recorded as it is).
///
/// `Some` is returned whenever a secret path applies, even if the value already is redacted:
/// callers use it to know that a secret was involved, identically in a run and in its replay.
pub fn redact_at(
    path: &VarPath,
    value: &Value,
    secrets: &BTreeSet<VarPath>,
    key: &MarkerKey,
) -> Option<Value> {
    cover_at(path, value, secrets, Cover::Marker(key))
}

fn cover_at(
    path: &VarPath,
    value: &Value,
    secrets: &BTreeSet<VarPath>,
    cover: Cover<'_>,
) -> Option<Value> {
    if secrets.is_empty() {
        return None;
    }
    if is_secret_path(path, secrets) {
        let mut out = value.clone();
        cover_in_place(&mut out, cover);
        return Some(out);
    }
    let depth = path.segments.len();
    let mut redacted: Option<Value> = None;
    // BTreeSet order puts a path before its extensions: a secret inside one already redacted is
    // skipped (redacting it again would change nothing).
    let mut outer: Option<&VarPath> = None;
    for secret in secrets
        .iter()
        .filter(|s| s.segments.len() > depth && s.starts_with(path))
    {
        if outer.is_some_and(|o| secret.starts_with(o)) {
            continue;
        }
        let Some(relative) = secret.segments.get(depth..) else {
            continue;
        };
        if get(redacted.as_ref().unwrap_or(value), relative).is_none() {
            continue;
        }
        let target = redacted.get_or_insert_with(|| value.clone());
        if let Some(slot) = get_mut(target, relative) {
            cover_in_place(slot, cover);
            outer = Some(secret);
        }
    }
    redacted
}

/// The whole variable tree with every secret redacted.
pub fn redact_variables(variables: &Value, secrets: &BTreeSet<VarPath>, key: &MarkerKey) -> Value {
    cover_variables(variables, secrets, Cover::Marker(key))
}

/// The whole variable tree with every secret scalar replaced by [`MASK`]: for Debug output, which
/// has no key (and needs no marker).
pub fn masked_variables(variables: &Value, secrets: &BTreeSet<VarPath>) -> Value {
    cover_variables(variables, secrets, Cover::Mask)
}

fn cover_variables(variables: &Value, secrets: &BTreeSet<VarPath>, cover: Cover<'_>) -> Value {
    let root = VarPath {
        segments: Vec::new(),
    };
    cover_at(&root, variables, secrets, cover).unwrap_or_else(|| variables.clone())
}

/// The value at `segments` under `value`, if any (no message built on a miss).
pub(crate) fn get<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(value, |cur, seg| match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => idflow_expr::member(m, k),
            (Segment::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        })
}

fn get_mut<'v>(value: &'v mut Value, segments: &[Segment]) -> Option<&'v mut Value> {
    segments
        .iter()
        .try_fold(value, |cur, seg| match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => idflow_expr::member_mut(m, k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> VarPath {
        VarPath::parse(text).unwrap()
    }

    fn secrets(paths: &[&str]) -> BTreeSet<VarPath> {
        paths.iter().map(|p| path(p)).collect()
    }

    /// The key of these tests: bytes 0, 1, ..., 31.
    fn key() -> MarkerKey {
        let mut bytes = [0u8; MarkerKey::LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        MarkerKey::from_bytes(bytes)
    }

    fn marker_of(v: Value) -> Value {
        marker(&v, &key())
    }

    fn redact_value(v: &Value) -> Value {
        super::redact_value(v, &key())
    }

    fn redact_at(path: &VarPath, value: &Value, secrets: &BTreeSet<VarPath>) -> Option<Value> {
        super::redact_at(path, value, secrets, &key())
    }

    fn redact_variables(vars: &Value, secrets: &BTreeSet<VarPath>) -> Value {
        super::redact_variables(vars, secrets, &key())
    }

    #[test]
    fn marker_is_hmac_sha256_of_canonical_json() {
        // HMAC-SHA256 under the key 00 01 .. 1f of `"abc"` and of `{"a":1,"b":2}`, computed
        // independently (Python's hmac module).
        let cases = [
            (
                json!("abc"),
                "secret:hmac-sha256:b4a09427dd702011f996ed4a1ac712c35f38eb7cef393ec453a90b9ec450fd33",
            ),
            (
                json!({"b": 2, "a": 1}),
                "secret:hmac-sha256:6ce55e41c8232dc4edfd1d08161b3bc911de3792d2a3e60923780f702b1394af",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(marker_of(value.clone()), json!(want), "{value}");
        }
    }

    #[test]
    fn markers_depend_on_the_key_and_reveal_nothing_without_it() {
        let code = json!("492039");
        let other = MarkerKey::from_bytes([7; MarkerKey::LEN]);
        assert_ne!(marker(&code, &key()), marker(&code, &other));
        // The unkeyed digest of the value, what a key-less guesser computes, is not the marker.
        let unkeyed = {
            use sha2::Digest;
            let digest = Sha256::digest(canonical_json(&code).as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            json!(format!("{LEGACY_MARKER_PREFIX}{hex}"))
        };
        assert_ne!(marker_of(code.clone()), unkeyed);
        assert!(!marker_of(code)
            .to_string()
            .contains(&unkeyed.as_str().unwrap()[14..]));
        assert_eq!(format!("{:?}", key()), "MarkerKey(<redacted>)");
    }

    #[test]
    fn legacy_markers_are_fixed_points_too() {
        let legacy = json!(format!("{LEGACY_MARKER_PREFIX}{}", "0a".repeat(32)));
        assert!(is_marker(&legacy));
        assert_eq!(marker_of(legacy.clone()), legacy);
        assert_eq!(marker(&legacy, &MarkerKey::for_replay()), legacy);
    }

    #[test]
    fn masked_variables_hide_secrets_without_a_key() {
        let s = secrets(&["processvar.totp.seed"]);
        let vars = json!({"totp": {"seed": "S3CR3T", "issuer": "idflow"}});
        assert_eq!(
            masked_variables(&vars, &s),
            json!({"totp": {"seed": MASK, "issuer": "idflow"}})
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"z": [ {"y": 1, "x": "é\"q"} ], "a": null, "m": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":null,"m":1.5,"z":[{"x":"é\"q","y":1}]}"#
        );
        // Key order in the input does not change the marker.
        assert_eq!(
            marker_of(json!({"a": 1, "b": 2})),
            marker_of(json!({"b": 2, "a": 1}))
        );
    }

    #[test]
    fn marker_is_a_fixed_point_and_recognised() {
        let m = marker_of(json!({"seed": "JBSWY3DPEHPK3PXP"}));
        assert!(is_marker(&m));
        assert_eq!(marker_of(m.clone()), m);
        assert_eq!(marker(&m, &MarkerKey::for_replay()), m, "whatever the key");
        let short = format!("{MARKER_PREFIX}{}", "a".repeat(63));
        for text in [
            "secret:sha256:",
            "secret:hmac-sha256:",
            "secret:hmac-sha256:abcdef",
            short.as_str(),
            "plain",
        ] {
            assert!(!is_marker_str(text), "{text}");
        }
        let upper = format!("{MARKER_PREFIX}{}", "A".repeat(64));
        assert!(!is_marker_str(&upper), "uppercase hex is not canonical");
        let long = format!("{MARKER_PREFIX}{}", "a".repeat(65));
        assert!(!is_marker_str(&long));
    }

    #[test]
    fn secret_containers_keep_their_shape() {
        let v = json!({"a": "A", "list": [1, null, true], "empty": {}});
        let want = json!({
            "a": marker_of(json!("A")),
            "list": [marker_of(json!(1)), marker_of(json!(null)), marker_of(json!(true))],
            "empty": {}
        });
        assert_eq!(redact_value(&v), want);
        assert_eq!(redact_value(&want), want, "idempotent");
        assert_eq!(redact_value(&json!("S")), marker_of(json!("S")));
    }

    #[test]
    fn redaction_table() {
        let form = json!({"browserResponse": {"verifier": "V", "a": "A"}, "note": "hi"});
        let s = secrets(&["processvar.form.browserResponse", "processvar.totp.seed"]);
        let response = json!({"verifier": marker_of(json!("V")), "a": marker_of(json!("A"))});
        let cases: Vec<(&str, Value, Option<Value>)> = vec![
            // Not involved.
            ("processvar.user1", json!({"id": "U"}), None),
            // At a secret path.
            (
                "processvar.totp.seed",
                json!("S3CR3T"),
                Some(marker_of(json!("S3CR3T"))),
            ),
            // Under a secret path.
            (
                "processvar.form.browserResponse.verifier",
                json!("V"),
                Some(marker_of(json!("V"))),
            ),
            // At a secret path holding an object: its shape stays.
            (
                "processvar.form.browserResponse",
                json!({"verifier": "V", "a": "A"}),
                Some(response.clone()),
            ),
            // A prefix of a secret path: the secret part is redacted, the rest shown.
            (
                "processvar.form",
                form.clone(),
                Some(json!({"browserResponse": response.clone(), "note": "hi"})),
            ),
            // A prefix of a secret path that is absent from the value: nothing to hide.
            ("processvar.totp", json!({"issuer": "idflow"}), None),
            // The root.
            (
                "processvar",
                json!({"form": form.clone(), "totp": {"seed": "S"}, "x": 1}),
                Some(json!({
                    "form": {"browserResponse": response.clone(), "note": "hi"},
                    "totp": {"seed": marker_of(json!("S"))},
                    "x": 1
                })),
            ),
        ];
        for (at, value, want) in cases {
            assert_eq!(redact_at(&path(at), &value, &s), want, "{at}");
        }
    }

    #[test]
    fn redaction_is_idempotent_so_replay_sees_the_same_markers() {
        let s = secrets(&["processvar.form.pin", "processvar.form.pin.inner"]);
        let vars = json!({"form": {"pin": {"inner": "1234"}, "other": 1}});
        let once = redact_variables(&vars, &s);
        assert_eq!(
            once,
            json!({"form": {"pin": {"inner": marker_of(json!("1234"))}, "other": 1}})
        );
        assert_eq!(redact_variables(&once, &s), once);
        // Involvement is reported for an already redacted value too.
        assert!(redact_at(&path("processvar.form.pin"), &once["form"]["pin"], &s).is_some());
    }

    #[test]
    fn touching_is_symmetric_in_prefixes() {
        let s = secrets(&["processvar.a.b"]);
        assert!(touches_secret(&path("processvar.a"), &s));
        assert!(touches_secret(&path("processvar.a.b.c"), &s));
        assert!(!touches_secret(&path("processvar.ab"), &s));
        assert!(!touches_secret(&path("processvar.c"), &s));
        assert!(is_secret_path(&path("processvar.a.b[0]"), &s));
        assert!(!is_secret_path(&path("processvar.a"), &s));
    }
}
