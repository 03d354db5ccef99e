//! Unit tests of form definitions: validation messages, canonical JSON and rendering.

use serde_json::{json, Value};

use super::*;

fn current_totp() -> Value {
    json!({
        "name": "current-totp",
        "title": {"text": "Your authenticator app"},
        "components": [
            {"type": "qrCode", "elementId": "totp-qr",
             "qrContent": "{{processvar._identityStore.currentTOTP.qrCodeString}}", "size": 200},
            {"type": "link", "elementId": "totp-link", "uiLabel": "Open in your app",
             "defaultValue": "{{processvar._identityStore.currentTOTP.qrCodeString}}"},
            {"type": "copy", "elementId": "totp-secret", "uiLabel": "Copy the secret",
             "defaultValue": "{{processVar._identityStore.currentTOTP.secret}}"},
            {"type": "submit", "elementId": "done", "uiLabel": "Done"}
        ]
    })
}

fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    if let Some(slot) = base.pointer_mut(pointer) {
        *slot = value;
    } else if let Some((parent, key)) = pointer.rsplit_once('/') {
        if let Some(Value::Object(m)) = base.pointer_mut(parent) {
            m.insert(key.to_string(), value);
        }
    }
    base
}

fn without(mut base: Value, pointer: &str) -> Value {
    if let Some((parent, key)) = pointer.rsplit_once('/') {
        match base.pointer_mut(parent) {
            Some(Value::Object(m)) => {
                m.remove(key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        }
    }
    base
}

#[test]
fn invalid_definitions_are_refused_naming_component_and_field() {
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "missing name",
            without(current_totp(), "/name"),
            &["name", "is required"],
        ),
        (
            "bad name",
            with(current_totp(), "/name", json!("a b")),
            &["name", "' '"],
        ),
        (
            "missing title",
            without(current_totp(), "/title"),
            &["title", "is required"],
        ),
        (
            "unknown top-level field",
            with(current_totp(), "/colour", json!("red")),
            &["colour", "unknown field"],
        ),
        (
            "unknown component type",
            with(current_totp(), "/components/0/type", json!("video")),
            &["components[0] field type", "\"video\""],
        ),
        (
            "misspelt field",
            with(current_totp(), "/components/0/qrContnt", json!("x")),
            &[
                "components[0] (qrCode \"totp-qr\") field qrContnt",
                "unknown field",
            ],
        ),
        (
            "missing QR content",
            without(current_totp(), "/components/0/qrContent"),
            &[
                "components[0] (qrCode \"totp-qr\") field qrContent",
                "is required",
            ],
        ),
        (
            "size too large",
            with(current_totp(), "/components/0/size", json!(5000)),
            &["components[0] (qrCode \"totp-qr\") field size", "5000"],
        ),
        (
            "size not a number",
            with(current_totp(), "/components/0/size", json!("big")),
            &["field size", "a whole number of pixels"],
        ),
        (
            "missing element id",
            without(current_totp(), "/components/1/elementId"),
            &["components[1] (link) field elementId", "is required"],
        ),
        (
            "duplicate element id",
            with(current_totp(), "/components/2/elementId", json!("totp-qr")),
            &["components[2] (copy \"totp-qr\")", "earlier component"],
        ),
        (
            "bad template syntax",
            with(
                current_totp(),
                "/components/1/defaultValue",
                json!("{{processvar.x"),
            ),
            &[
                "components[1] (link \"totp-link\") field defaultValue",
                "not a valid template",
            ],
        ),
        (
            "helper instead of substitution",
            with(
                current_totp(),
                "/components/1/uiLabel",
                json!("{{#each processvar.x}}y{{/each}}"),
            ),
            &["field uiLabel", "{{#each}}"],
        ),
        (
            "required not a boolean",
            with(
                current_totp(),
                "/components/3",
                json!({"type": "passcode", "elementId": "p", "uiLabel": "P", "required": "yes"}),
            ),
            &["components[3] (passcode \"p\") field required", "a boolean"],
        ),
        (
            "no way to submit",
            without(current_totp(), "/components/3"),
            &["submitButton", "cannot be answered"],
        ),
        (
            "components not an array",
            with(current_totp(), "/components", json!({})),
            &["components", "an array"],
        ),
    ];
    for (label, definition, needles) in cases {
        let bytes = serde_json::to_vec(&definition).unwrap_or_default();
        let message = match FormDefinition::parse(&bytes) {
            Ok(_) => panic!("{label}: accepted"),
            Err(e) => e.to_string(),
        };
        for needle in needles {
            assert!(
                message.contains(needle),
                "{label}: {message:?} lacks {needle:?}"
            );
        }
    }
}

#[test]
fn hostile_bytes_are_refused_without_panicking() {
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"[1,2]".to_vec(),
        b"{\"name\": 3}".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"{\"name\":\"x\",\"title\":\"t\",\"components\":[1]}".to_vec(),
        vec![b' '; MAX_FORM_BYTES + 1],
    ];
    for input in inputs {
        assert!(FormDefinition::parse(&input).is_err());
    }
}

#[test]
fn canonical_json_fills_defaults_and_ignores_formatting() {
    let definition = FormDefinition::from_json(&current_totp()).unwrap_or_else(|e| panic!("{e}"));
    let canonical = definition.to_json();
    assert_eq!(canonical["components"][0]["size"], json!(200));
    assert_eq!(
        canonical["title"],
        json!({"text": "Your authenticator app"})
    );
    let reparsed = FormDefinition::from_json(&canonical).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reparsed, definition);
    assert_eq!(reparsed.content_hash(), definition.content_hash());

    let pretty = serde_json::to_vec_pretty(&current_totp()).unwrap_or_default();
    let from_pretty = FormDefinition::parse(&pretty).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_pretty.content_hash(), definition.content_hash());

    let changed = with(current_totp(), "/components/1/uiLabel", json!("Open it"));
    let changed = FormDefinition::from_json(&changed).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(changed.content_hash(), definition.content_hash());

    let shorthand = with(current_totp(), "/title", json!("Your authenticator app"));
    let shorthand = FormDefinition::from_json(&shorthand).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shorthand.content_hash(), definition.content_hash());
}

#[test]
fn renders_templates_and_draws_qr_codes() {
    let definition = FormDefinition::from_json(&current_totp()).unwrap_or_else(|e| panic!("{e}"));
    let uri = "otpauth://totp/idflow:alice?secret=JBSWY3DPEHPK3PXP&issuer=idflow";
    let vars = json!({"_identityStore": {"currentTOTP": {"qrCodeString": uri, "secret": "JBSWY3DPEHPK3PXP"}}});
    let rendered = definition
        .render(3, &vars)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rendered["name"], json!("current-totp"));
    assert_eq!(rendered["version"], json!(3));
    let components = rendered["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(components.len(), 4);
    assert_eq!(components[0]["qrContent"], json!(uri));
    let svg = components[0]["svg"].as_str().unwrap_or_default();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg:.60}");
    assert_eq!(components[1]["defaultValue"], json!(uri));
    assert_eq!(components[1]["uiLabel"], json!("Open in your app"));
    assert_eq!(components[2]["defaultValue"], json!("JBSWY3DPEHPK3PXP"));
    assert_eq!(
        components[3],
        json!({"type": "submit", "elementId": "done", "uiLabel": "Done"})
    );
}

#[test]
fn render_errors_name_the_component_field_and_variable() {
    let definition = FormDefinition::from_json(&current_totp()).unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        (
            json!({}),
            vec![
                "form current-totp version 1",
                "components[0] (qrCode \"totp-qr\") field qrContent",
                "processvar._identityStore.currentTOTP.qrCodeString",
                "no key \"_identityStore\"",
            ],
        ),
        (
            json!({"_identityStore": {"currentTOTP": {"qrCodeString": {"nested": 1}, "secret": "S"}}}),
            vec![
                "field qrContent",
                "processvar._identityStore.currentTOTP.qrCodeString",
                "an object",
            ],
        ),
        (
            json!({"_identityStore": {"currentTOTP": {"qrCodeString": "x".repeat(4000), "secret": "S"}}}),
            vec!["field qrContent", "cannot be drawn as a QR code"],
        ),
        (
            json!({"_identityStore": {"currentTOTP": {"qrCodeString": "otpauth://x"}}}),
            vec![
                "components[2] (copy \"totp-secret\") field defaultValue",
                "processVar._identityStore.currentTOTP.secret",
            ],
        ),
    ];
    for (vars, needles) in cases {
        let message = match definition.render(1, &vars) {
            Ok(v) => panic!("rendered {v}"),
            Err(e) => e.to_string(),
        };
        for needle in needles {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
}
