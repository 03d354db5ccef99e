//! The process-variable tree: writes by activities, appended checks, and its serialized size.
//!
//! Failures here are process failures (an activity writing through a non-object, say): they are
//! returned as messages and end the instance `COMPLETED_PROCESS_ERROR`; they never panic.

use std::collections::BTreeSet;
use std::io;
use std::sync::OnceLock;

use idflow_expr::{json_kind, member, member_mut, Segment, VarPath};
use serde_json::{Map, Value};

use crate::Check;

/// Checks that an activity's write path is usable: at least one segment, plain keys only.
pub(crate) fn check_write_path(path: &VarPath) -> Result<(), String> {
    if path.segments.is_empty() {
        return Err("a write must name a key under processvar, not processvar itself".into());
    }
    if path.segments.iter().any(|s| matches!(s, Segment::Index(_))) {
        return Err(format!(
            "write path `{path}` contains an array index; writes take plain keys only"
        ));
    }
    Ok(())
}

/// Sets the value at `path` (plain keys, see [`check_write_path`]), creating intermediate objects.
pub(crate) fn write(vars: &mut Value, path: &VarPath, value: Value) -> Result<(), String> {
    check_write_path(path)?;
    let Some((last, parents)) = path.segments.split_last() else {
        return Err("a write must name a key under processvar".into());
    };
    let mut cur = vars;
    for (depth, seg) in parents.iter().enumerate() {
        let Segment::Key(key) = seg else {
            return Err(format!("write path `{path}` contains an array index"));
        };
        let map = as_object(cur, path, depth)?;
        // Look up before inserting: `entry` would allocate the key on every visit.
        if member(map, key).is_none() {
            map.insert(key.clone(), Value::Object(Map::new()));
        }
        cur = member_mut(map, key)
            .ok_or_else(|| format!("cannot write `{path}`: `{key}` vanished"))?;
    }
    let Segment::Key(key) = last else {
        return Err(format!("write path `{path}` contains an array index"));
    };
    let map = as_object(cur, path, parents.len())?;
    // Replacing in place keeps the key where it was, as `insert` would, without a new key.
    match member_mut(map, key) {
        Some(slot) => *slot = value,
        None => {
            map.insert(key.clone(), value);
        }
    }
    Ok(())
}

fn as_object<'v>(
    value: &'v mut Value,
    path: &VarPath,
    depth: usize,
) -> Result<&'v mut Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => {
            let parent = VarPath {
                segments: path.segments.get(..depth).unwrap_or_default().to_vec(),
            };
            Err(format!(
                "cannot write `{path}`: `{parent}` is {}, not an object",
                json_kind(other)
            ))
        }
    }
}

/// Appends checks to `processvar._checks` as `{name, result, detail}` objects.
pub(crate) fn append_checks(vars: &mut Value, checks: &[Check]) -> Result<(), String> {
    if checks.is_empty() {
        return Ok(());
    }
    let Value::Object(root) = vars else {
        return Err(format!("processvar is {}, not an object", json_kind(vars)));
    };
    let entries = checks.iter().map(check_object);
    // One lookup when the list exists, one insert when it does not (`entry` would allocate the
    // key on every call).
    match member_mut(root, "_checks") {
        Some(Value::Array(list)) => list.extend(entries),
        Some(other) => {
            return Err(format!(
                "processvar._checks is {}, not an array: checks cannot be appended",
                json_kind(other)
            ))
        }
        None => {
            root.insert("_checks".into(), Value::Array(entries.collect()));
        }
    }
    Ok(())
}

/// A check as `processvar._checks` holds it: `{name, result, detail}`.
///
/// Cloned from a template of the three keys with empty texts and filled in: a clone copies the
/// keys' hashes, where building the object would hash each key again (SipHash: serde_json fixes
/// its maps' hasher), and an empty text is cloned without an allocation, then replaced.
fn check_object(check: &Check) -> Value {
    static TEMPLATE: OnceLock<Map<String, Value>> = OnceLock::new();
    let mut entry = TEMPLATE
        .get_or_init(|| {
            CHECK_KEYS
                .into_iter()
                .map(|key| (key.to_string(), Value::String(String::new())))
                .collect()
        })
        .clone();
    // The template's values in CHECK_KEYS order.
    let texts = [
        check.name.as_str(),
        check.result.as_str(),
        check.detail.as_str(),
    ];
    for (slot, text) in entry.values_mut().zip(texts) {
        if let Value::String(slot) = slot {
            // Allocated to size: `push_str` onto the empty text would take the growth path.
            *slot = text.to_owned();
        }
    }
    Value::Object(entry)
}

/// The keys of a check's object, in the order it is written.
const CHECK_KEYS: [&str; 3] = ["name", "result", "detail"];

/// The size of `value` serialized as compact JSON, counted without building the text.
pub(crate) fn serialized_size(value: &Value) -> usize {
    let mut counter = ByteCounter(0);
    // Counting cannot fail: ByteCounter's write always succeeds.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The serialized length of a commitment marker: `"secret:hmac-sha256:` + 64 hex digits + `"`
/// (legacy markers are shorter, and only ever kept, never made).
pub(crate) const MARKER_JSON_LEN: usize = 2 + crate::redact::MARKER_PREFIX.len() + 64;

/// The serialized size of the variables' redacted view (see [`crate::redact`]) when it exceeds
/// `limit`. A cheap upper bound is tried first (each scalar inside a secret may grow to a
/// marker); the view is only built for trees near the limit. (Its size does not depend on `key`:
/// every marker made has the same length.)
pub(crate) fn redacted_over_limit(
    vars: &Value,
    secrets: &BTreeSet<VarPath>,
    limit: usize,
    key: &crate::redact::MarkerKey,
) -> Option<usize> {
    let mut bound = size_upper_bound(vars);
    let mut outer: Option<&VarPath> = None;
    // BTreeSet order puts a path before its extensions: inner secrets are counted with the
    // outer one.
    for secret in secrets {
        if outer.is_some_and(|o| secret.starts_with(o)) {
            continue;
        }
        if let Some(value) = crate::redact::get(vars, &secret.segments) {
            bound = bound.saturating_add(scalar_count(value).saturating_mul(MARKER_JSON_LEN));
            outer = Some(secret);
        }
    }
    if bound <= limit {
        return None;
    }
    let size = if secrets.is_empty() {
        serialized_size(vars)
    } else {
        serialized_size(&crate::redact::redact_variables(vars, secrets, key))
    };
    (size > limit).then_some(size)
}

fn scalar_count(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(scalar_count).sum(),
        Value::Object(map) => map.values().map(scalar_count).sum(),
        _ => 1,
    }
}

/// An upper bound of [`serialized_size`] that does not look inside strings: each character may
/// need a 6-byte `\u00XX` escape, a number at most 24 bytes.
///
/// Walked once per transition over the whole tree, so it recurses only into arrays and objects:
/// a scalar member is bounded in place (most of a tree's nodes are scalars, and a call per node
/// cost more than the bound itself).
pub(crate) fn size_upper_bound(value: &Value) -> usize {
    match value {
        Value::Array(items) => items
            .iter()
            .fold(2 + items.len(), |n, v| n.saturating_add(member_bound(v))),
        Value::Object(map) => map.iter().fold(2 + 2 * map.len(), |n, (k, v)| {
            n.saturating_add(string_bound(k))
                .saturating_add(member_bound(v))
        }),
        scalar => scalar_bound(scalar),
    }
}

/// [`size_upper_bound`] of an array's or object's member, without a call for a scalar.
#[inline(always)]
fn member_bound(value: &Value) -> usize {
    match value {
        Value::Array(_) | Value::Object(_) => size_upper_bound(value),
        scalar => scalar_bound(scalar),
    }
}

#[inline(always)]
fn scalar_bound(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => string_bound(s),
        // Not scalars: never reached from the callers above, but bounded all the same.
        Value::Array(_) | Value::Object(_) => size_upper_bound(value),
    }
}

#[inline(always)]
fn string_bound(s: &str) -> usize {
    s.len().saturating_mul(6).saturating_add(2)
}

struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckResult;
    use serde_json::json;

    fn path(text: &str) -> VarPath {
        VarPath::parse(text).unwrap()
    }

    #[test]
    fn writes_create_intermediate_objects_and_replace_leaves() {
        let mut vars = json!({"user1": {"id": "U"}});
        write(&mut vars, &path("processvar.a.b.c"), json!(1)).unwrap();
        write(&mut vars, &path("processvar.user1.status"), json!("ACTIVE")).unwrap();
        write(&mut vars, &path("processvar.user1.id"), json!("U2")).unwrap();
        write(&mut vars, &path("processvar[\"odd key\"]"), json!(true)).unwrap();
        assert_eq!(
            vars,
            json!({"user1": {"id": "U2", "status": "ACTIVE"}, "a": {"b": {"c": 1}}, "odd key": true})
        );
    }

    #[test]
    fn bad_writes_name_the_problem() {
        let cases = [
            ("processvar", "not processvar itself"),
            ("processvar.list[0]", "array index"),
            (
                "processvar.s.x",
                "`processvar.s` is a string, not an object",
            ),
            ("processvar.n.x.y", "`processvar.n` is a number"),
        ];
        for (at, want) in cases {
            let mut vars = json!({"s": "text", "n": 3, "list": [1]});
            let before = vars.clone();
            let err = write(&mut vars, &path(at), json!(1)).unwrap_err();
            assert!(err.contains(want), "{at}: {err}");
            assert_eq!(vars, before, "{at}: a refused write changes nothing");
        }
    }

    #[test]
    fn checks_append_in_order() {
        let mut vars = json!({});
        let check = |name: &str, result| Check {
            name: name.into(),
            result,
            detail: format!("{name} detail"),
        };
        append_checks(&mut vars, &[check("a", CheckResult::Pass)]).unwrap();
        append_checks(&mut vars, &[check("b", CheckResult::Fail)]).unwrap();
        assert_eq!(
            vars,
            json!({"_checks": [
                {"name": "a", "result": "PASS", "detail": "a detail"},
                {"name": "b", "result": "FAIL", "detail": "b detail"}
            ]})
        );
        // In this order when written out, as stored histories and exports hold them.
        assert_eq!(
            serde_json::to_string(&vars).unwrap(),
            r#"{"_checks":[{"name":"a","result":"PASS","detail":"a detail"},{"name":"b","result":"FAIL","detail":"b detail"}]}"#
        );
        let mut broken = json!({"_checks": "oops"});
        let err = append_checks(&mut broken, &[check("c", CheckResult::Pass)]).unwrap_err();
        assert!(err.contains("_checks is a string"), "{err}");
    }

    #[test]
    fn the_redacted_view_is_measured_exactly_near_the_limit() {
        let vars = json!({
            "a": {"seed": "a long secret value, longer than a marker could ever be, truly longer", "x": 1},
            "b": {"pin": "12", "inner": {"deep": true}},
            "c": "plain"
        });
        let secrets: BTreeSet<VarPath> = [
            "processvar.a.seed",
            "processvar.b",
            "processvar.b.inner.deep",
            "processvar.missing.path",
        ]
        .iter()
        .map(|p| path(p))
        .collect();
        let key = crate::redact::MarkerKey::from_bytes([3; 32]);
        let view = crate::redact::redact_variables(&vars, &secrets, &key);
        let exact = serde_json::to_string(&view).unwrap().len();
        // Over the limit by one byte: reported with the exact size; at the limit: fine.
        assert_eq!(
            redacted_over_limit(&vars, &secrets, exact - 1, &key),
            Some(exact)
        );
        assert_eq!(redacted_over_limit(&vars, &secrets, exact, &key), None);
        // The view of the view is itself, so a replay (under another key) measures the same.
        let replay = crate::redact::MarkerKey::for_replay();
        assert_eq!(
            redacted_over_limit(&view, &secrets, exact - 1, &replay),
            Some(exact)
        );
        assert_eq!(
            MARKER_JSON_LEN,
            serde_json::to_string(&crate::redact::marker(&json!(1), &key))
                .unwrap()
                .len()
        );
    }

    #[test]
    fn size_matches_the_serialized_text_and_the_bound_holds() {
        for v in [
            json!({}),
            json!({"a": [1, 2.5, null], "é": "x\"y"}),
            json!("plain"),
            json!([
                "\u{1}\u{2}",
                -1.5e300,
                u64::MAX,
                i64::MIN,
                true,
                false,
                null,
                {}
            ]),
            json!({"\n": {"\t": ["\\"]}}),
        ] {
            let exact = serde_json::to_string(&v).unwrap().len();
            assert_eq!(serialized_size(&v), exact);
            assert!(size_upper_bound(&v) >= exact, "{v}");
            assert_eq!(size_upper_bound(&v), recursive_bound(&v), "{v}");
        }
    }

    /// The bound as a plain recursion states it: the walk must give exactly this.
    fn recursive_bound(value: &Value) -> usize {
        match value {
            Value::Null => 4,
            Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => s.len() * 6 + 2,
            Value::Array(items) => {
                2 + items.len() + items.iter().map(recursive_bound).sum::<usize>()
            }
            Value::Object(map) => {
                2 + 2 * map.len()
                    + map
                        .iter()
                        .map(|(k, v)| k.len() * 6 + 2 + recursive_bound(v))
                        .sum::<usize>()
            }
        }
    }

    #[test]
    fn the_bound_of_a_deep_tree_is_the_recursive_bound() {
        // Arrays and objects nested 24 deep, with scalars and siblings on the way down and back
        // up.
        let mut v = json!({"leaf": "x", "n": 1});
        for level in 0..24 {
            v = if level % 2 == 0 {
                json!([null, v, "after", {"k": [true]}])
            } else {
                json!({"before": 2.5, "inner": v, "s": "tail\n"})
            };
        }
        let exact = serde_json::to_string(&v).unwrap().len();
        assert_eq!(size_upper_bound(&v), recursive_bound(&v));
        assert!(size_upper_bound(&v) >= exact);
        assert_eq!(size_upper_bound(&json!([])), 2);
        assert_eq!(size_upper_bound(&json!({})), 2);
        assert_eq!(size_upper_bound(&json!("ab")), 14);
    }
}
