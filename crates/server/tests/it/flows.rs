//! The process manager and the end user's routes: token-started instances walked to completion
//! (the shipped registration, TOTP registration and current-TOTP flows of the demo tenant), a
//! stale step (409), a repeated answer (applied once), deployments, forms, tokens, instance reads.

use idflow_identity::{client, wire};
use serde_json::{json, Value};

use crate::common::{assert_documented_shape, TestServer};

const DEMO: &str = "demo";
const PM: &str = "/api/process-manager";

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The credential of a demo process token.
pub(crate) fn demo_token_id(srv: &TestServer, name: &str) -> String {
    let token = srv
        .get(
            &format!("{PM}/tenants/{DEMO}/process-tokens/{name}"),
            Some(&srv.token(DEMO, "getProcessToken")),
        )
        .expect(200);
    token["id"].as_str().expect("token id").to_string()
}

pub(crate) fn start(srv: &TestServer, token_id: &str) -> Value {
    let body = srv
        .post(
            &format!("{PM}/process-instances"),
            None,
            &json!({ "processToken": token_id }),
        )
        .expect(201);
    assert_documented_shape::<idflow_server::schema::EndUserInstance>(&body);
    body
}

pub(crate) fn answer(srv: &TestServer, instance: &Value, data: &Value) -> crate::common::Answer {
    let id = instance["instanceId"].as_str().expect("instance id");
    let step = instance["currentStep"]["stepId"].as_str().expect("step id");
    srv.post(
        &format!("{PM}/process-instances/{id}/steps/{step}"),
        None,
        data,
    )
}

pub(crate) fn history_kinds(srv: &TestServer, tenant: &str, instance_id: &str) -> Vec<String> {
    let history = srv
        .get(
            &format!("{PM}/tenants/{tenant}/process-instances/{instance_id}/history"),
            Some(&srv.token(tenant, "getProcessInstanceHistory")),
        )
        .expect(200);
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["k"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn the_registration_flow_walked_through_the_end_user_routes() {
    let srv = TestServer::start();
    let token = demo_token_id(&srv, "demo-passcode-registration");
    let started = start(&srv, &token);
    assert_eq!(started["status"], "ACTIVE");
    let step = &started["currentStep"];
    assert_eq!(step["uiComponentId"], "passcode-registration");
    assert!(
        step["form"]["components"].is_array(),
        "a rendered form: {step}"
    );
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(step["data"].clone()).expect("the step carries the SRP start");
    let registration = client::register(&session, "Passw0rdX").expect("client request");
    let data = json!({ "browserResponse": registration });

    let done = answer(&srv, &started, &data);
    let done_text = done.text.clone();
    let done = done.expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS", "{done_text}");
    assert_eq!(done["currentStep"], Value::Null);

    // The same answer again is applied once: same answer, one `answered` event.
    let again = answer(&srv, &started, &data).expect(200);
    assert_eq!(again, done);
    let id = started["instanceId"].as_str().expect("id");
    let kinds = history_kinds(&srv, DEMO, id);
    assert_eq!(
        kinds.iter().filter(|k| *k == "answered").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.first().map(String::as_str), Some("started"));
    assert_eq!(kinds.last().map(String::as_str), Some("ended"));

    // Another answer to the ended instance's step: 409.
    answer(
        &srv,
        &started,
        &json!({"browserResponse": {"srpRegistrationData": {"verifier": "AQ=="}}}),
    )
    .expect_error(409, "INSTANCE_NOT_ACTIVE");

    // The passcode is registered for the token's user.
    let user = srv
        .get(
            "/api/identity-store/tenants/demo/stores/demo/users/demo-user/ext",
            Some(&srv.admin(DEMO)),
        )
        .expect(200);
    assert_eq!(
        user["user"]["registeredPasscodes"][0]["policyName"],
        "default"
    );

    // The admin read: status, redacted variables, no step credential or verifier.
    let read = srv.get(
        &format!("{PM}/tenants/{DEMO}/process-instances/{id}"),
        Some(&srv.token(DEMO, "getProcessInstance")),
    );
    let read_text = read.text.clone();
    let read = read.expect(200);
    assert_documented_shape::<idflow_server::schema::ProcessInstanceBody>(&read);
    assert_eq!(read["status"], "COMPLETED_ENDED_SUCCESS");
    assert_eq!(read["definition"]["name"], "passcode-registration");
    assert_eq!(read["tokenName"], "demo-passcode-registration");
    assert!(read["variables"].is_object());
    assert!(
        !read_text.contains(&registration.srp_registration_data.verifier),
        "the verifier is redacted from API reads: {read_text}"
    );
}

#[test]
fn totp_registration_then_current_totp_walked_through_the_end_user_routes() {
    let srv = TestServer::start();
    // The demo user exists (the registration flow would add it); register a TOTP for it through
    // the shipped flow.
    srv.add_user(DEMO, "demo", "demo-user");
    let started = start(&srv, &demo_token_id(&srv, "demo-totp-registration"));
    let step = &started["currentStep"];
    let secret = step["data"]["secret"]
        .as_str()
        .expect("the step shows the secret");
    let code = client::totp_code(secret, "SHA1", 6, 30, now_ms()).expect("code");
    let done = answer(&srv, &started, &json!({"browserResponse": {"code": code}})).expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS", "{done}");

    // The current-TOTP flow shows the same secret in its form.
    let current = start(&srv, &demo_token_id(&srv, "demo-current-totp"));
    assert_eq!(current["status"], "ACTIVE");
    let form = current["currentStep"]["form"].to_string();
    assert!(form.contains(secret), "the form shows the secret: {form}");
    assert!(
        form.contains("otpauth://totp/"),
        "the form shows the key URI: {form}"
    );
    let finished = answer(&srv, &current, &json!({})).expect(200);
    assert_eq!(finished["status"], "COMPLETED_ENDED_SUCCESS");
    assert_eq!(finished["outcome"], "QR code shown");

    // The admin read redacts the secret.
    let id = current["instanceId"].as_str().expect("id");
    let read = srv.get(
        &format!("{PM}/tenants/{DEMO}/process-instances/{id}"),
        Some(&srv.admin(DEMO)),
    );
    assert_eq!(read.status, 200);
    assert!(
        !read.text.contains(secret),
        "secret redacted: {}",
        read.text
    );
    let history = srv.get(
        &format!("{PM}/tenants/{DEMO}/process-instances/{id}/history"),
        Some(&srv.admin(DEMO)),
    );
    assert_eq!(history.status, 200);
    assert!(
        !history.text.contains(secret),
        "secret redacted from history"
    );
}

pub const TWO_STEPS_BPMN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="two-steps-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="two-steps" name="Two steps" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first" name="First">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">note</idflow:param>
          <idflow:param name="Form data Key">firstNote</idflow:param>
          <idflow:param name="UI Component ID">first-note</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="second" name="Second">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">note</idflow:param>
          <idflow:param name="Form data Key">secondNote</idflow:param>
          <idflow:param name="UI Component ID">second-note</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"#;

pub fn note_form() -> Value {
    json!({
        "name": "note",
        "title": "Leave a note",
        "components": [{ "type": "text", "elementId": "note", "uiLabel": "Note" }],
        "submitButton": { "uiLabel": "Send" }
    })
}

/// Deploys the two-step definition and its form in `tenant`; creates a token; returns its ID.
pub fn deploy_two_steps(srv: &TestServer, tenant: &str, token: Value) -> String {
    let admin = srv.admin(tenant);
    let deployed = srv.send(
        srv.request(
            reqwest::Method::POST,
            &format!("{PM}/tenants/{tenant}/process-definitions"),
        )
        .bearer_auth(&admin)
        .header("Content-Type", "application/xml")
        .body(TWO_STEPS_BPMN),
    );
    assert_eq!(deployed.status, 201, "{}", deployed.text);
    srv.post(
        &format!("{PM}/tenants/{tenant}/custom-forms"),
        Some(&admin),
        &note_form(),
    )
    .expect(201);
    let created = srv
        .post(
            &format!("{PM}/tenants/{tenant}/process-tokens"),
            Some(&admin),
            &token,
        )
        .expect(201);
    created["id"].as_str().expect("token id").to_string()
}

#[test]
fn a_stale_step_is_409_and_a_repeated_answer_is_applied_once() {
    let srv = TestServer::start_empty();
    let token = deploy_two_steps(
        &srv,
        "acme",
        json!({"name": "notes", "processDefnName": "two-steps"}),
    );
    let started = start(&srv, &token);
    assert_eq!(started["currentStep"]["uiComponentId"], "first-note");
    let first_answer = json!({"note": "one"});
    let at_second = answer(&srv, &started, &first_answer).expect(200);
    assert_eq!(at_second["status"], "ACTIVE");
    assert_eq!(at_second["currentStep"]["uiComponentId"], "second-note");
    assert_ne!(
        at_second["currentStep"]["stepId"],
        started["currentStep"]["stepId"]
    );

    // The first step again with the same data: applied once, the instance as it is now.
    let repeated = answer(&srv, &started, &first_answer).expect(200);
    assert_eq!(repeated, at_second);
    // The first step with other data: it is no longer current.
    answer(&srv, &started, &json!({"note": "two"})).expect_error(409, "STALE_STEP");
    // A step that never was.
    let id = started["instanceId"].as_str().expect("id");
    srv.post(
        &format!("{PM}/process-instances/{id}/steps/made-up-step"),
        None,
        &json!({}),
    )
    .expect_error(409, "STALE_STEP");
    // An answer that is not an object, and unknown instances.
    answer(&srv, &at_second, &json!(["not", "an", "object"])).expect_error(400, "INVALID_ANSWER");
    srv.post(
        &format!("{PM}/process-instances/AAAAAAAAAAAAAAAAAAAAAAAAAA/steps/x"),
        None,
        &json!({}),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    srv.post(
        &format!("{PM}/process-instances/nope/steps/x"),
        None,
        &json!({}),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");

    let done = answer(&srv, &at_second, &json!({"note": "last"})).expect(200);
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS");
    assert_eq!(done["outcome"], "Done");
    let kinds = history_kinds(&srv, "acme", id);
    assert_eq!(
        kinds.iter().filter(|k| *k == "answered").count(),
        2,
        "{kinds:?}"
    );

    // The variables hold both answers, under their form data keys.
    let read = srv
        .get(
            &format!("{PM}/tenants/acme/process-instances/{id}"),
            Some(&srv.admin("acme")),
        )
        .expect(200);
    assert_eq!(read["variables"]["firstNote"]["note"], "one");
    assert_eq!(read["variables"]["secondNote"]["note"], "last");
}

#[test]
fn definitions_deploy_versioned_and_invalid_files_answer_located_diagnostics() {
    let srv = TestServer::start_empty();
    let admin = srv.admin("acme");
    let deploy = |xml: &str, content_type: &str| {
        srv.send(
            srv.request(
                reqwest::Method::POST,
                &format!("{PM}/tenants/acme/process-definitions?fileName=two.bpmn"),
            )
            .bearer_auth(srv.token("acme", "deployProcessDefinition"))
            .header("Content-Type", content_type)
            .body(xml.to_string()),
        )
    };
    let first = deploy(TWO_STEPS_BPMN, "application/xml").expect(201);
    assert_eq!(
        first,
        json!({"name": "two-steps", "version": 1, "created": true})
    );
    let same = deploy(TWO_STEPS_BPMN, "text/xml; charset=utf-8").expect(201);
    assert_eq!(
        same,
        json!({"name": "two-steps", "version": 1, "created": false})
    );
    let changed = TWO_STEPS_BPMN.replace("name=\"Done\"", "name=\"Finished\"");
    assert_eq!(
        deploy(&changed, "application/xml").expect(201)["version"],
        2
    );

    // Invalid: the diagnostics are located.
    let broken = TWO_STEPS_BPMN.replace("targetRef=\"second\"", "targetRef=\"nowhere\"");
    let refused = deploy(&broken, "application/xml").expect_error(400, "INVALID_DEFINITION");
    let diagnostics = refused["diagnostics"].as_array().expect("diagnostics");
    assert!(!diagnostics.is_empty());
    let d = &diagnostics[0];
    assert_eq!(d["source"], "two.bpmn");
    assert!(
        d["line"].as_u64().unwrap_or(0) > 1 && d["column"].as_u64().unwrap_or(0) >= 1,
        "{d}"
    );
    assert!(refused["message"]
        .as_str()
        .unwrap_or("")
        .contains("two.bpmn:"));
    deploy("<not-bpmn/>", "application/xml").expect_error(400, "INVALID_DEFINITION");
    deploy("   ", "application/xml").expect_error(400, "INVALID_BODY");
    deploy(TWO_STEPS_BPMN, "application/json").expect_error(415, "UNSUPPORTED_MEDIA_TYPE");
    deploy(TWO_STEPS_BPMN, "application/x-www-form-urlencoded")
        .expect_error(415, "UNSUPPORTED_MEDIA_TYPE");

    // Reads.
    let list = srv
        .get(
            &format!("{PM}/tenants/acme/process-definitions"),
            Some(&admin),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::DefinitionList>(&list);
    assert_eq!(list["definitions"].as_array().map(Vec::len), Some(2));
    let one = srv
        .get(
            &format!("{PM}/tenants/acme/process-definitions/two-steps"),
            Some(&admin),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::DefinitionVersions>(&one);
    assert_eq!(one["latestVersion"], 2);
    let v1 = srv
        .get(
            &format!("{PM}/tenants/acme/process-definitions/two-steps/versions/1"),
            Some(&admin),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::DefinitionInfo>(&v1);
    assert_eq!(v1["sourceLabel"], "two.bpmn");
    let source = srv.get(
        &format!("{PM}/tenants/acme/process-definitions/two-steps/versions/1/bpmn"),
        Some(&admin),
    );
    assert_eq!(source.status, 200);
    assert_eq!(source.text, TWO_STEPS_BPMN);
    assert!(source.content_type.starts_with("application/xml"));
    srv.get(
        &format!("{PM}/tenants/acme/process-definitions/two-steps/versions/9"),
        Some(&admin),
    )
    .expect_error(404, "PROCESS_DEFINITION_NOT_FOUND");
    srv.get(
        &format!("{PM}/tenants/acme/process-definitions/nope"),
        Some(&admin),
    )
    .expect_error(404, "PROCESS_DEFINITION_NOT_FOUND");
    srv.get(
        &format!("{PM}/tenants/acme/process-definitions/two-steps/versions/x"),
        Some(&admin),
    )
    .expect_error(400, "INVALID_PARAMETER");
}

#[test]
fn forms_and_tokens_are_created_read_listed_and_deactivated() {
    let srv = TestServer::start_empty();
    let admin = srv.admin("acme");
    let token_id = deploy_two_steps(
        &srv,
        "acme",
        json!({"name": "limited", "processDefnName": "two-steps", "type": "MULTI_USE_COUNT_LIMITED",
               "maxUses": 2, "parameters": {"campaign": "spring"}, "description": "two uses"}),
    );

    // Forms.
    let again = srv
        .post(
            &format!("{PM}/tenants/acme/custom-forms"),
            Some(&admin),
            &note_form(),
        )
        .expect(201);
    assert_eq!(
        (again["version"].as_u64(), again["created"].as_bool()),
        (Some(1), Some(false))
    );
    let forms = srv
        .get(&format!("{PM}/tenants/acme/custom-forms"), Some(&admin))
        .expect(200);
    assert_documented_shape::<idflow_server::schema::FormList>(&forms);
    let form = srv
        .get(
            &format!("{PM}/tenants/acme/custom-forms/note"),
            Some(&admin),
        )
        .expect(200);
    assert_eq!(form["definition"]["components"][0]["elementId"], "note");
    srv.get(
        &format!("{PM}/tenants/acme/custom-forms/note/versions/1"),
        Some(&admin),
    )
    .expect(200);
    srv.get(
        &format!("{PM}/tenants/acme/custom-forms/note/versions/2"),
        Some(&admin),
    )
    .expect_error(404, "CUSTOM_FORM_NOT_FOUND");
    let bad = srv
        .post(
            &format!("{PM}/tenants/acme/custom-forms"),
            Some(&admin),
            &json!({"name": "bad", "title": "x", "components": [{"type": "qrCode", "elementId": "q", "qrContnt": "x"}]}),
        )
        .expect_error(400, "INVALID_FORM");
    assert!(
        bad["message"].as_str().unwrap_or("").contains("qrContnt"),
        "{bad}"
    );

    // Tokens.
    let token = srv
        .get(
            &format!("{PM}/tenants/acme/process-tokens/limited"),
            Some(&admin),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::ProcessTokenBody>(&token);
    assert_eq!(token["id"], token_id.as_str());
    assert_eq!(token["type"], "MULTI_USE_COUNT_LIMITED");
    assert_eq!(token["maxUses"], 2);
    assert_eq!(token["status"], "ACTIVE");
    let tokens = srv
        .get(&format!("{PM}/tenants/acme/process-tokens"), Some(&admin))
        .expect(200);
    assert_documented_shape::<idflow_server::schema::ProcessTokenList>(&tokens);
    let create = |body: Value| {
        srv.post(
            &format!("{PM}/tenants/acme/process-tokens"),
            Some(&admin),
            &body,
        )
    };
    create(json!({"name": "limited", "processDefnName": "two-steps"}))
        .expect_error(409, "PROCESS_TOKEN_NAME_TAKEN");
    create(json!({"name": "x", "processDefnName": "nope"}))
        .expect_error(404, "PROCESS_DEFINITION_NOT_FOUND");
    create(json!({"name": "x", "processDefnName": "two-steps", "type": "SOMETIMES"}))
        .expect_error(400, "INVALID_PROCESS_TOKEN");
    create(json!({"name": "x", "processDefnName": "two-steps", "type": "MULTI_USE_COUNT_LIMITED"}))
        .expect_error(400, "INVALID_PROCESS_TOKEN");
    create(json!({"name": "x", "processDefnName": "two-steps", "type": "MULTI_USE_TIME_LIMITED", "expiresAt": "soon"}))
        .expect_error(400, "INVALID_PROCESS_TOKEN");
    create(json!({"name": "x", "processDefnName": "two-steps", "parameters": [1]}))
        .expect_error(400, "INVALID_PROCESS_TOKEN");
    let expired = create(json!({"name": "expired", "processDefnName": "two-steps",
        "type": "MULTI_USE_TIME_LIMITED", "expiresAt": "2001-01-01T00:00:00Z"}))
    .expect(201);
    srv.post(
        &format!("{PM}/process-instances"),
        None,
        &json!({"processToken": expired["id"]}),
    )
    .expect_error(409, "TOKEN_EXPIRED");

    // The token's parameters reach the instance; uses are counted; deactivated tokens start none.
    let started = start(&srv, &token_id);
    let id = started["instanceId"].as_str().expect("id");
    let read = srv
        .get(
            &format!("{PM}/tenants/acme/process-instances/{id}"),
            Some(&admin),
        )
        .expect(200);
    assert_eq!(read["variables"]["token"]["campaign"], "spring");
    assert_eq!(read["currentStep"]["node"], "first");
    let deactivated = srv
        .post(
            &format!("{PM}/tenants/acme/process-tokens/limited/deactivate"),
            Some(&srv.token("acme", "deactivateProcessToken")),
            &json!({}),
        )
        .expect(200);
    assert_eq!(deactivated["status"], "INACTIVE");
    assert_eq!(deactivated["uses"], 1);
    srv.post(
        &format!("{PM}/process-instances"),
        None,
        &json!({"processToken": token_id}),
    )
    .expect_error(409, "TOKEN_INACTIVE");
    srv.post(
        &format!("{PM}/tenants/acme/process-tokens/nope/deactivate"),
        Some(&admin),
        &json!({}),
    )
    .expect_error(404, "PROCESS_TOKEN_NOT_FOUND");
    srv.post(
        &format!("{PM}/process-instances"),
        None,
        &json!({"processToken": "AAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    )
    .expect_error(404, "PROCESS_TOKEN_NOT_FOUND");

    // Listing instances, with filters.
    let page = srv
        .get(
            &format!("{PM}/tenants/acme/process-instances?status=ACTIVE&limit=10"),
            Some(&srv.token("acme", "listProcessInstances")),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::InstancePageBody>(&page);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["id"], id);
    srv.get(
        &format!("{PM}/tenants/acme/process-instances?status=SLEEPING"),
        Some(&admin),
    )
    .expect_error(400, "INVALID_PARAMETER");
}
