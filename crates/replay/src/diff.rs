//! The differences between two JSON values, as paths: `a.b[0]` for what differs, so a report can
//! say which variables or event fields a divergence touched.

use serde_json::Value;

use crate::report::Difference;

/// Every leaf (or whole subtree, when the shapes differ) at which `recorded` and `replayed`
/// differ, under `root` (`processvar` for variables, empty for an event).
pub fn differences(root: &str, recorded: &Value, replayed: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(root, Some(recorded), Some(replayed), &mut out);
    out
}

fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (true, false) => format!("[{}]", Value::String(key.to_string())),
        (false, true) => format!("{path}.{key}"),
        (false, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

fn walk(path: &str, recorded: Option<&Value>, replayed: Option<&Value>, out: &mut Vec<Difference>) {
    match (recorded, replayed) {
        (Some(Value::Object(r)), Some(Value::Object(p))) => {
            for (key, rv) in r {
                walk(&join_key(path, key), Some(rv), p.get(key), out);
            }
            for (key, pv) in p {
                if !r.contains_key(key) {
                    walk(&join_key(path, key), None, Some(pv), out);
                }
            }
        }
        (Some(Value::Array(r)), Some(Value::Array(p))) if r.len() == p.len() => {
            for (i, (rv, pv)) in r.iter().zip(p).enumerate() {
                walk(&format!("{path}[{i}]"), Some(rv), Some(pv), out);
            }
        }
        (r, p) if r == p => {}
        (r, p) => out.push(Difference {
            path: if path.is_empty() {
                "(the whole value)".to_string()
            } else {
                path.to_string()
            },
            recorded: r.cloned(),
            replayed: p.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_leaves_and_whole_subtrees_that_differ() {
        let recorded = json!({"a": {"b": 1, "c": [1, 2]}, "gone": true, "same": "x", "odd key": 1});
        let replayed =
            json!({"a": {"b": 2, "c": [1, 2, 3]}, "new": null, "same": "x", "odd key": 2});
        let got: Vec<(String, Option<Value>, Option<Value>)> =
            differences("processvar", &recorded, &replayed)
                .into_iter()
                .map(|d| (d.path, d.recorded, d.replayed))
                .collect();
        assert_eq!(
            got,
            vec![
                ("processvar.a.b".to_string(), Some(json!(1)), Some(json!(2))),
                (
                    "processvar.a.c".to_string(),
                    Some(json!([1, 2])),
                    Some(json!([1, 2, 3]))
                ),
                ("processvar.gone".to_string(), Some(json!(true)), None),
                (
                    "processvar[\"odd key\"]".to_string(),
                    Some(json!(1)),
                    Some(json!(2))
                ),
                ("processvar.new".to_string(), None, Some(json!(null))),
            ]
        );
    }

    #[test]
    fn equal_values_have_no_differences_and_roots_may_be_empty() {
        let v = json!({"k": "entered", "n": "start"});
        assert!(differences("", &v, &v).is_empty());
        let other = json!({"k": "entered", "n": "end"});
        let d = differences("", &v, &other);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "n");
        let scalar = differences("", &json!(1), &json!(2));
        assert_eq!(scalar[0].path, "(the whole value)");
    }
}
