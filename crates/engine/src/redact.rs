//! Secret redaction: values read from the process variables, with every secret replaced by a
//! commitment marker, so histories and API reads never hold a secret.
//!
//! A marker is `"secret:sha256:<64 hex>"`, the SHA-256 of a value's canonical JSON (serde_json's
//! escaping, object keys sorted, no whitespace). It commits to the value without revealing it,
//! and it is a fixed point: the marker of a marker is the marker itself.
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
//! not be updated that way.

use std::collections::BTreeSet;
use std::io;

use idflow_expr::{Segment, VarPath};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How every marker begins.
pub const MARKER_PREFIX: &str = "secret:sha256:";

const HEX_LEN: usize = 64;

/// Whether `s` is a commitment marker (`secret:sha256:` and 64 lowercase hex digits).
pub fn is_marker_str(s: &str) -> bool {
    s.strip_prefix(MARKER_PREFIX).is_some_and(|hex| {
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

/// The commitment marker of `value`; a marker is returned unchanged.
pub fn marker(value: &Value) -> Value {
    if is_marker(value) {
        return value.clone();
    }
    let mut hasher = HashWriter(Sha256::new());
    // Writing into a hasher cannot fail: HashWriter's write always succeeds.
    let _ = write_canonical(&mut hasher, value);
    let digest = hasher.0.finalize();
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

struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A secret value as history shows it: a scalar becomes its marker, an object or array keeps its
/// shape with every scalar inside replaced by its marker. Idempotent.
pub fn redact_value(value: &Value) -> Value {
    let mut out = value.clone();
    redact_in_place(&mut out);
    out
}

/// [`redact_value`] in place.
pub fn redact_in_place(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(redact_in_place),
        Value::Object(map) => map.values_mut().for_each(redact_in_place),
        scalar => {
            if !is_marker(scalar) {
                *scalar = marker(scalar);
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
pub fn redact_at(path: &VarPath, value: &Value, secrets: &BTreeSet<VarPath>) -> Option<Value> {
    if secrets.is_empty() {
        return None;
    }
    if is_secret_path(path, secrets) {
        return Some(redact_value(value));
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
            redact_in_place(slot);
            outer = Some(secret);
        }
    }
    redacted
}

/// The whole variable tree with every secret redacted.
pub fn redact_variables(variables: &Value, secrets: &BTreeSet<VarPath>) -> Value {
    let root = VarPath {
        segments: Vec::new(),
    };
    redact_at(&root, variables, secrets).unwrap_or_else(|| variables.clone())
}

/// The value at `segments` under `value`, if any (no message built on a miss).
pub(crate) fn get<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    segments
        .iter()
        .try_fold(value, |cur, seg| match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get(k),
            (Segment::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        })
}

fn get_mut<'v>(value: &'v mut Value, segments: &[Segment]) -> Option<&'v mut Value> {
    segments
        .iter()
        .try_fold(value, |cur, seg| match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k),
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

    fn marker_of(v: Value) -> Value {
        marker(&v)
    }

    #[test]
    fn marker_is_sha256_of_canonical_json() {
        // sha256(`"abc"`) and sha256(`{"a":1,"b":2}`), computed independently (sha256sum).
        let cases = [
            (
                json!("abc"),
                "secret:sha256:6cc43f858fbb763301637b5af970e2a46b46f461f27e5a0f41e009c59b827b25",
            ),
            (
                json!({"b": 2, "a": 1}),
                "secret:sha256:43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(marker(&value), json!(want), "{value}");
        }
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
            marker(&json!({"a": 1, "b": 2})),
            marker(&json!({"b": 2, "a": 1}))
        );
    }

    #[test]
    fn marker_is_a_fixed_point_and_recognised() {
        let m = marker(&json!({"seed": "JBSWY3DPEHPK3PXP"}));
        assert!(is_marker(&m));
        assert_eq!(marker(&m), m);
        let short = format!("{MARKER_PREFIX}{}", "a".repeat(63));
        for text in [
            "secret:sha256:",
            "secret:sha256:abcdef",
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
