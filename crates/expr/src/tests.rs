//! Table-driven tests of parameter values, paths and conditions.

use super::*;
use serde_json::json;

fn vars() -> Value {
    json!({
        "user1": {"id": "U1", "count": 3, "tags": ["a", "b"], "odd key": true},
        "_decision": "PASS",
        "n": 1.0,
        "nothing": null
    })
}

#[test]
fn param_values_evaluate_with_their_types() {
    let cases: &[(&str, Value)] = &[
        ("plain", json!("plain")),
        ("${false}", json!(false)),
        ("${3}", json!(3)),
        ("${FAIL}", json!("FAIL")),
        ("${[\"a\",\"b\"]}", json!(["a", "b"])),
        ("<<processvar.user1.count>>", json!(3)),
        ("<<processVar.user1.tags>>", json!(["a", "b"])),
        ("<<PROCESSVAR.user1.tags[1]>>", json!("b")),
        ("<<processvar.user1[\"odd key\"]>>", json!(true)),
        (
            "id-<<processvar.user1.id>>-<<processvar.user1.count>>",
            json!("id-U1-3"),
        ),
        ("<< processvar.user1.id >>", json!("U1")),
        (" <<processvar.user1.count>>", json!(" 3")),
        ("<<processvar.nothing>>", json!(null)),
        ("", json!("")),
    ];
    for (text, want) in cases {
        let expr = ParamExpr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(&expr.eval(&vars()).unwrap(), want, "{text}");
    }
}

#[test]
fn malformed_values_are_refused_with_offsets() {
    let cases: &[(&str, &str)] = &[
        ("<<processvar.a", "without a closing"),
        ("<<user.a>>", "must start with `processvar`"),
        ("<<processvar.>>", "expected a key"),
        ("<<processvar[x]>>", "expected `[number]`"),
        ("<<processvar[\"x]>>", "unterminated"),
        ("<<processvar.a b>>", "unexpected"),
        ("${}", "empty"),
        ("${<<processvar.a>>}", "cannot contain"),
        ("${3", "must close"),
        ("a >> b <<processvar.x>>", "without an opening"),
    ];
    for (text, fragment) in cases {
        let err = ParamExpr::parse(text).expect_err(text);
        assert!(err.message.contains(fragment), "{text}: {err}");
        assert!(err.offset <= text.len());
    }
}

#[test]
fn unresolved_paths_name_the_path() {
    let cases: &[(&str, &str)] = &[
        ("<<processvar.user2.id>>", "no key \"user2\""),
        ("<<processvar.user1.tags[5]>>", "index 5 out of range"),
        ("<<processvar.user1.id.x>>", "is a string, not an object"),
        ("x<<processvar.missing>>", "processvar.missing"),
    ];
    for (text, fragment) in cases {
        let err = ParamExpr::parse(text)
            .unwrap()
            .eval(&vars())
            .expect_err(text);
        let msg = err.to_string();
        assert!(msg.contains(fragment), "{text}: {msg}");
    }
}

#[test]
fn conditions_evaluate() {
    let cases: &[(&str, bool)] = &[
        ("<<processvar._decision>> == \"PASS\"", true),
        ("<<processvar._decision>> == 'FAIL'", false),
        ("processvar._decision != \"FAIL\"", true),
        (
            "<<processvar.user1.count>> > 2 && <<processvar.user1.count>> <= 3",
            true,
        ),
        ("<<processvar.n>> == 1", true),
        (
            "<<processvar.user1.count>> < 2 || <<processvar.user1[\"odd key\"]>>",
            true,
        ),
        ("!(<<processvar.user1.count>> >= 3)", false),
        ("!exists(processvar.user2)", true),
        ("exists(<<processvar.nothing>>)", true),
        (
            "exists(processvar.user2) && <<processvar.user2.id>> == 1",
            false,
        ),
        ("<<processvar.user1.tags[0]>> == \"a\"", true),
        ("true", true),
        ("(((true)))", true),
        ("<<processvar.nothing>> == null", true),
        ("\"b\" > \"a\"", true),
        ("-1 < 0", true),
    ];
    for (text, want) in cases {
        let c = Condition::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.eval(&vars()).unwrap(), *want, "{text}");
        // The canonical rendering parses back to the same condition.
        let again = Condition::parse(&c.to_string()).unwrap();
        assert_eq!(again, c, "{text} -> {c}");
    }
}

#[test]
fn condition_errors() {
    let syntax: &[&str] = &[
        "",
        "<<processvar.a>> ==",
        "(true",
        "true false",
        "foo == 1",
        "'unterminated",
        "exists(processvar.a",
        &"(".repeat(200),
        &"!".repeat(200),
        &vec!["true"; 200_000].join(" && "),
        &vec!["true"; 300].join(" || "),
    ];
    for text in syntax {
        assert!(Condition::parse(text).is_err(), "{text:?} should not parse");
    }
    let eval: &[(&str, &str)] = &[
        ("<<processvar.user1.id>>", "not a boolean"),
        ("<<processvar.user1.id>> < 3", "two numbers or two strings"),
        ("<<processvar.user9>> == 1", "processvar.user9"),
    ];
    for (text, fragment) in eval {
        let err = Condition::parse(text)
            .unwrap()
            .eval(&vars())
            .expect_err(text);
        assert!(err.to_string().contains(fragment), "{text}: {err}");
    }
}

#[test]
fn paths_render_canonically() {
    let p = VarPath::parse("processVar.a[\"b c\"][0].d").unwrap();
    assert_eq!(p.to_string(), "processvar.a[\"b c\"][0].d");
    assert_eq!(VarPath::parse(&p.to_string()).unwrap(), p);
    assert!(p.starts_with(&VarPath::keys(&["a"])));
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,80}") {
        let _ = ParamExpr::parse(&s).map(|e| e.eval(&vars()));
        let _ = Condition::parse(&s).map(|c| c.eval(&vars()));
    }

    #[test]
    fn expression_like_inputs_never_panic(s in "[<>!=&|()\"'\\[\\]. a-z0-9${}]{0,60}") {
        let _ = ParamExpr::parse(&s).map(|e| e.eval(&vars()));
        let _ = Condition::parse(&s).map(|c| c.eval(&vars()));
    }
}

#[test]
fn member_finds_what_get_finds_in_small_and_large_objects() {
    use crate::{member, member_mut};
    for size in [0usize, 1, 3, 8, 9, 20] {
        let mut map = serde_json::Map::new();
        for i in 0..size {
            map.insert(format!("k{i}"), json!(i));
        }
        for i in 0..size + 2 {
            let key = format!("k{i}");
            assert_eq!(member(&map, &key), map.get(&key), "size {size}, {key}");
            let expected = map.get(&key).cloned();
            assert_eq!(member_mut(&mut map, &key).map(|v| v.clone()), expected);
        }
        assert_eq!(member(&map, ""), None);
    }
}
