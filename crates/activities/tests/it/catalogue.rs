//! End-to-end tests of what the file-driven cases cannot express: TOTP secrets and URIs carried
//! from registration to Get TOTP and its form (and kept out of history and API reads), form
//! rendering failures naming their variable, the user-reference rule, the Simple Decider's
//! parameters, and the demo seeding being idempotent.

use idflow_activities::forms::Forms;
use idflow_activities::{seed_demo, DemoOptions};
use idflow_engine::Status;
use idflow_identity::client;
use idflow_testkit::demo_world::{component, totp_start, World, TENANT};
use serde_json::{json, Value};

/// A definition of a start, the given activity elements in a row, and an end named `Done`.
fn linear_flow(id: &str, activities: &[&str]) -> Vec<u8> {
    let mut body = String::new();
    let mut previous = "start".to_string();
    for (i, activity) in activities.iter().enumerate() {
        let node = format!("n{i}");
        body.push_str(&format!(
            r#"<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="{node}"/>"#
        ));
        body.push_str(&activity.replace("NODE", &node));
        previous = node;
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="{id}-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="{id}" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {body}
    <bpmn:sequenceFlow id="fEnd" sourceRef="{previous}" targetRef="done"/>
    <bpmn:endEvent id="done" name="Done"/>
  </bpmn:process>
</bpmn:definitions>"#
    )
    .into_bytes()
}

fn task(kind: &str, params: &[(&str, &str)]) -> String {
    let element = if kind.ends_with("Form") {
        "userTask"
    } else {
        "serviceTask"
    };
    let params: String = params
        .iter()
        .map(|(n, v)| format!(r#"<idflow:param name="{n}"><![CDATA[{v}]]></idflow:param>"#))
        .collect();
    format!(
        r#"<bpmn:{element} id="NODE"><bpmn:extensionElements><idflow:activity type="{kind}">{params}</idflow:activity></bpmn:extensionElements></bpmn:{element}>"#
    )
}

fn deploy(world: &World, id: &str, activities: &[&str]) {
    world
        .runtime
        .deploy(TENANT, &format!("{id}.bpmn"), &linear_flow(id, activities))
        .unwrap_or_else(|e| panic!("{id} deploys: {e}"));
}

#[test]
fn get_totp_returns_what_registration_created_and_its_form_shows_it() {
    let mut world = World::new();
    world.add_user("tess");
    let registration = world.start("totp-registration", World::parameters("tess", None));
    let start = totp_start(&registration);
    let view = &registration.step.as_ref().expect("at the TOTP form").view;
    assert_eq!(
        component(view, "totpQrCode")["qrContent"],
        json!(start.qr_code_string)
    );
    assert_eq!(
        component(view, "totpSecret")["defaultValue"],
        json!(start.secret)
    );
    assert!(start.qr_code_string.starts_with("otpauth://totp/"));
    assert!(start
        .qr_code_string
        .contains(&format!("secret={}", start.secret)));
    let code = client::totp_code_for_registration(&start, world.now_ms()).expect("code");
    let registered = world.answer(&registration, json!({"browserResponse": {"code": code}}));
    assert_eq!(registered.status, Status::CompletedEndedSuccess);

    let current = world.start("current-totp", World::parameters("tess", None));
    let step = current.step.as_ref().expect("at the current-TOTP form");
    assert_eq!(step.node, "showCurrentTotp");
    let totp = &current.variables["_identityStore"]["currentTOTP"];
    assert_eq!(totp["secret"], json!(start.secret));
    assert_eq!(totp["qrCodeString"], json!(start.qr_code_string));
    assert_eq!(totp["issuer"], json!(start.issuer));
    let qr = component(&step.view, "currentTotpQrCode");
    assert_eq!(qr["qrContent"], json!(start.qr_code_string));
    assert!(qr["svg"].as_str().is_some_and(|s| s.contains("<svg")));
    assert_eq!(
        component(&step.view, "currentTotpLink")["defaultValue"],
        json!(start.qr_code_string)
    );
    assert_eq!(
        component(&step.view, "currentTotpSecret")["defaultValue"],
        json!(start.secret)
    );
    assert_eq!(step.view["uiComponentId"], json!("custom-data-form"));

    // The seed is usable (a code from it is the registration's code) yet never readable outside
    // the form: not in API reads of the variables, not in either history.
    let redacted =
        serde_json::to_string(&world.runtime.redacted_variables(&current)).unwrap_or_default();
    assert!(
        !redacted.contains(&start.secret),
        "the secret leaks in API reads"
    );
    for id in [&registration.id, &current.id] {
        let history = world.runtime.export_history(id).expect("history");
        let text = serde_json::to_string(&history).unwrap_or_default();
        assert!(
            !text.contains(&start.secret),
            "the secret leaks into history of {id}"
        );
        assert!(
            !text.contains(&code),
            "the TOTP code leaks into history of {id}"
        );
    }
}

#[test]
fn a_form_that_cannot_render_fails_the_instance_naming_the_variable() {
    let mut world = World::new();
    let forms = Forms::new(world.store.clone());
    let greeting = json!({
        "name": "greeting",
        "title": {"text": "Hello {{processvar.token.firstName}}"},
        "components": [
            {"type": "paragraph", "elementId": "whoami", "text": "You are {{processvar.token.externalId}}"},
            {"type": "submit", "elementId": "ok", "uiLabel": "OK"}
        ]
    });
    forms
        .deploy(TENANT, greeting.to_string().as_bytes())
        .expect("greeting deploys");
    let whole_object = json!({
        "name": "whole-object",
        "title": "Token",
        "components": [
            {"type": "copy", "elementId": "all", "uiLabel": "Copy", "defaultValue": "{{processvar.token}}"},
            {"type": "submit", "elementId": "ok", "uiLabel": "OK"}
        ]
    });
    forms
        .deploy(TENANT, whole_object.to_string().as_bytes())
        .expect("whole-object deploys");
    let form_step = |name: &str, version: &str| {
        task(
            "customDataForm",
            &[("Data form name", name), ("Data form version", version)],
        )
    };
    deploy(&world, "greet", &[&form_step("greeting", "1")]);
    deploy(&world, "dump", &[&form_step("whole-object", "1")]);
    deploy(&world, "missing-form", &[&form_step("greeting", "2")]);
    let orphan = task(
        "passcodeRegistrationForm",
        &[("Data form name", "passcode-registration")],
    );
    deploy(&world, "orphan-form", &[&orphan]);

    let cases: [(&str, Value, &[&str]); 5] = [
        (
            "greet",
            World::parameters("ann", Some(&json!({"firstName": "Ann"}))),
            &[],
        ),
        (
            "greet",
            World::parameters("ann", None),
            &[
                "form greeting version 1",
                "title.text",
                "processvar.token.firstName",
                "no key \"firstName\"",
            ],
        ),
        (
            "dump",
            World::parameters("ann", None),
            &[
                "components[0] (copy \"all\") field defaultValue",
                "processvar.token",
                "an object",
            ],
        ),
        (
            "missing-form",
            World::parameters("ann", None),
            &[
                "custom form \"greeting\" version 2 is not deployed",
                "latest version is 1",
            ],
        ),
        (
            "orphan-form",
            World::parameters("ann", None),
            &[
                "Passcode Registration Form",
                "processvar.passcodeReg1 holds no started session",
                "Start Passcode Registration",
            ],
        ),
    ];
    for (flow, parameters, needles) in cases {
        let instance = world.start(flow, parameters);
        if needles.is_empty() {
            let step = instance.step.as_ref().expect("the greeting is shown");
            assert_eq!(step.view["form"]["title"]["text"], json!("Hello Ann"));
            assert_eq!(
                component(&step.view, "whoami")["text"],
                json!("You are ann")
            );
            continue;
        }
        assert_eq!(instance.status, Status::CompletedProcessError, "{flow}");
        let message = instance.error.map(|e| e.message).unwrap_or_default();
        for needle in needles {
            assert!(
                message.contains(needle),
                "{flow}: {message:?} lacks {needle:?}"
            );
        }
    }

    // A template error is refused when the form is deployed, naming the component and field.
    let broken = json!({
        "name": "broken",
        "title": "Broken",
        "components": [
            {"type": "link", "elementId": "go", "uiLabel": "Go", "defaultValue": "{{processvar.url"},
            {"type": "submit", "elementId": "ok", "uiLabel": "OK"}
        ]
    });
    let err = forms
        .deploy(TENANT, broken.to_string().as_bytes())
        .expect_err("a broken template is refused");
    let message = err.to_string();
    assert!(err.invalid().is_some(), "{message}");
    assert!(
        message.contains("components[0] (link \"go\") field defaultValue"),
        "{message}"
    );
}

#[test]
fn the_user_reference_rule() {
    let mut world = World::new();
    let zoe = world.add_user("zoe");
    let get_user = |params: &[(&str, &str)]| task("getUser", params);
    let store = ("Store Name", "<<processvar.token.storeName>>");
    // By ID; then an activity without refs reuses the user under the key.
    deploy(
        &world,
        "by-id",
        &[
            &get_user(&[store, ("User ID", "<<processvar.token.userId>>")]),
            &task(
                "startPasscodeRegistration",
                &[store, ("Passcode Key", "default")],
            ),
        ],
    );
    // No refs at all.
    deploy(&world, "no-refs", &[&get_user(&[store])]);
    // A custom user key.
    deploy(
        &world,
        "custom-key",
        &[&get_user(&[
            store,
            ("User External ID", "zoe"),
            ("User Key", "customer"),
        ])],
    );

    let by_id = world.start(
        "by-id",
        World::parameters("ignored", Some(&json!({"userId": zoe.id}))),
    );
    assert_eq!(
        by_id.status,
        Status::CompletedEndedSuccess,
        "{:?}",
        by_id.error
    );
    assert_eq!(by_id.variables["user1"]["externalId"], json!("zoe"));
    assert_eq!(by_id.variables["passcodeReg1"]["userId"], json!(zoe.id));
    assert_eq!(
        by_id.variables["passcodeReg1"]["algorithmInfo"]["parameters"]["i"],
        json!(zoe.id)
    );

    let no_refs = world.start("no-refs", World::parameters("zoe", None));
    // USER_NOT_FOUND has no boundary here: the flow goes on to its end.
    assert_eq!(no_refs.status, Status::CompletedEndedSuccess);
    let history = world.runtime.history(&no_refs.id).expect("history");
    let refusal = history
        .iter()
        .find_map(|e| match &e.kind {
            idflow_engine::EventKind::ActivityRefused { code, message, .. } => {
                Some((code.clone(), message.clone()))
            }
            _ => None,
        })
        .expect("Get User refused");
    assert_eq!(refusal.0, "USER_NOT_FOUND");
    assert!(
        refusal.1.contains("\"User ID\" nor \"User External ID\""),
        "{}",
        refusal.1
    );
    assert!(refusal.1.contains("processvar.user1"), "{}", refusal.1);

    let custom = world.start("custom-key", World::parameters("zoe", None));
    assert_eq!(custom.variables["customer"]["id"], json!(zoe.id));
    assert!(custom.variables.get("user1").is_none());
}

#[test]
fn simple_decider_parameters() {
    let mut world = World::new();
    let decider = |params: &[(&str, &str)]| task("simpleDecider", params);
    deploy(
        &world,
        "derive",
        &[&decider(&[(
            "Derive Decision From",
            "<<processvar.token.verdict>>",
        )])],
    );
    deploy(
        &world,
        "review-on-failure",
        &[&decider(&[("Decision on Any Failure", "REVIEW")])],
    );
    // (flow, parameters, expected status, expected decision, error needle)
    let cases: [(&str, Value, Status, Option<&str>, &str); 5] = [
        (
            "derive",
            json!({"verdict": "review"}),
            Status::CompletedEndedSuccess,
            Some("REVIEW"),
            "",
        ),
        (
            "derive",
            json!({"verdict": "FAIL"}),
            Status::CompletedEndedError,
            Some("FAIL"),
            "",
        ),
        (
            "derive",
            json!({"verdict": "MAYBE"}),
            Status::CompletedProcessError,
            None,
            "\"MAYBE\"",
        ),
        (
            "derive",
            json!({"verdict": 3}),
            Status::CompletedProcessError,
            None,
            "a number",
        ),
        (
            "review-on-failure",
            json!({}),
            Status::CompletedEndedSuccess,
            Some("PASS"),
            "",
        ),
    ];
    for (flow, parameters, status, decision, needle) in cases {
        let instance = world.start(flow, parameters.clone());
        assert_eq!(
            instance.status, status,
            "{flow} {parameters}: {:?}",
            instance.error
        );
        assert_eq!(
            instance.variables.get("_decision").and_then(Value::as_str),
            decision,
            "{flow} {parameters}"
        );
        if !needle.is_empty() {
            let message = instance.error.map(|e| e.message).unwrap_or_default();
            assert!(message.contains(needle), "{message}");
            assert!(message.contains("Derive Decision From"), "{message}");
        }
    }

    // With a failed check, "Decision on Any Failure" decides.
    deploy(
        &world,
        "failing-registration",
        &[
            &task(
                "addUser",
                &[("Store Name", "demo"), ("User External ID", "rita")],
            ),
            &task(
                "startPasscodeRegistration",
                &[("Store Name", "demo"), ("Passcode Key", "default")],
            ),
            &task(
                "completePasscodeRegistration",
                &[("Passcode Registration Browser Response", "{}")],
            ),
            &decider(&[("Decision on Any Failure", "REVIEW")]),
        ],
    );
    let reviewed = world.start("failing-registration", World::parameters("rita", None));
    assert_eq!(
        reviewed.variables["_decision"],
        json!("REVIEW"),
        "{:?}",
        reviewed.error
    );
    assert_eq!(reviewed.status, Status::CompletedEndedSuccess);
    assert_eq!(reviewed.variables["_checks"][0]["result"], json!("FAIL"));
}

#[test]
fn seeding_the_demo_twice_changes_nothing() {
    let world = World::new();
    assert!(world.demo.created_anything);
    assert_eq!(world.demo.tokens.len(), 6);
    assert_eq!(world.demo.forms.len(), 5);
    for token in &world.demo.tokens {
        for field in ["storeName", "externalId", "passcodePolicy", "totpPolicy"] {
            assert!(
                token.parameters[field].is_string(),
                "{} lacks {field}",
                token.name
            );
        }
    }
    let keys_before = world.store.count_prefix(&[]).expect("count");
    let again = seed_demo(
        &world.runtime,
        &world.identity,
        TENANT,
        &DemoOptions::default(),
    )
    .expect("seeds again");
    assert!(!again.created_anything);
    assert_eq!(world.store.count_prefix(&[]).expect("count"), keys_before);
    assert_eq!(again.definitions, world.demo.definitions);
    let ids = |seed: &idflow_activities::DemoSeed| -> Vec<String> {
        seed.tokens.iter().map(|t| t.id.clone()).collect()
    };
    assert_eq!(ids(&again), ids(&world.demo));
    assert!(again.forms.iter().all(|f| f.version == 1 && !f.created));
}
