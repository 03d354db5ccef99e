//! The designer's routes: the catalogue as the loader knows it, validation without deploying
//! (the report of `idflow validate --format json`, nothing stored), form previews, sign-in codes,
//! and the backoffice page with its scoped Content-Security-Policy.

use serde_json::{json, Value};

use crate::common::TestServer;
use crate::flows::TWO_STEPS_BPMN;

#[test]
fn the_catalogue_lists_every_activity_with_typed_parameters() {
    let srv = TestServer::start_empty();
    let body = srv.get("/api/process-manager/catalogue", None).expect(200);
    let parsed: idflow_server::CatalogueBody =
        serde_json::from_value(body.clone()).expect("documented shape");
    assert_eq!(parsed.activities.len(), idflow_defs::catalogue().len());
    for (wire, spec) in parsed.activities.iter().zip(idflow_defs::catalogue()) {
        assert_eq!(wire.key, spec.key);
        assert_eq!(wire.name, spec.name);
        assert_eq!(wire.params.len(), spec.params.len());
        for (p, s) in wire.params.iter().zip(spec.params) {
            assert_eq!(
                (p.name.as_str(), p.required, p.default.as_deref()),
                (s.name, s.required, s.default)
            );
            assert!(
                !p.description.is_empty(),
                "{}/{} has a description",
                spec.key,
                s.name
            );
        }
    }
    let add_user = &body["activities"][0];
    assert_eq!(
        add_user["errorCodes"],
        json!(["FAILED_TO_ADD_USER", "EXT_ID_NOT_UNIQUE"])
    );
    assert_eq!(add_user["params"][0]["type"], "STRING");
    assert!(body["conditionHelp"]
        .as_str()
        .unwrap_or("")
        .contains("exists("));
}

fn validate(srv: &TestServer, token: &str, xml: &str) -> crate::common::Answer {
    srv.send(
        srv.request(
            reqwest::Method::POST,
            "/api/process-manager/tenants/acme/process-definitions/validate?fileName=mine.bpmn",
        )
        .bearer_auth(token)
        .header("Content-Type", "application/xml")
        .body(xml.to_string()),
    )
}

#[test]
fn validation_answers_the_cli_report_and_stores_nothing() {
    let srv = TestServer::start_empty();
    let token = srv.token("acme", "validateProcessDefinition");
    let valid = validate(&srv, &token, TWO_STEPS_BPMN).expect(200);
    assert_eq!(valid["summary"]["valid"], 1);
    assert_eq!(valid["files"][0]["valid"], true);
    assert_eq!(valid["files"][0]["path"], "mine.bpmn");

    let broken =
        TWO_STEPS_BPMN.replacen("<idflow:activity type=\"", "<idflow:activity type=\"x", 1);
    let report = validate(&srv, &token, &broken).expect(200);
    let file = &report["files"][0];
    assert_eq!(file["valid"], false);
    let first = &file["diagnostics"][0];
    for field in [
        "severity",
        "code",
        "message",
        "source",
        "line",
        "column",
        "element_id",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(report["summary"]["invalid"], 1);

    // The same report, byte for byte, as the loader gives `idflow validate`.
    let loaded = idflow_defs::load("mine.bpmn", broken.as_bytes());
    let expected = idflow_server::ValidationReport::new(vec![idflow_server::FileReportBody::new(
        "mine.bpmn".into(),
        &loaded,
    )]);
    assert_eq!(report, serde_json::to_value(expected).expect("json"));

    // Nothing was deployed.
    let admin = srv.admin("acme");
    let list = srv
        .get(
            "/api/process-manager/tenants/acme/process-definitions",
            Some(&admin),
        )
        .expect(200);
    assert_eq!(list["definitions"], json!([]));

    // Validation needs its own permission; deploy alone does not grant it.
    let deployer = srv.token("acme", "deployProcessDefinition");
    validate(&srv, &deployer, TWO_STEPS_BPMN).expect_error(403, "FORBIDDEN");
}

#[test]
fn a_form_preview_renders_substitutions_in_place_or_names_the_mistake() {
    let srv = TestServer::start_empty();
    let token = srv.token("acme", "previewCustomForm");
    let path = "/api/process-manager/tenants/acme/custom-forms/preview";
    let form = json!({
        "name": "hello",
        "title": {"text": "Hi {{processvar.token.externalId}}"},
        "components": [{"type": "submit", "elementId": "go", "uiLabel": "Go"}]
    });
    let rendered = srv.post(path, Some(&token), &form).expect(200);
    assert_eq!(
        rendered["title"]["text"],
        "Hi «processvar.token.externalId»"
    );
    assert_eq!(rendered["components"][0]["type"], "submit");
    let wrong = json!({"name": "hello", "title": {"text": "t"}, "components": [{"type": "rocket", "elementId": "x"}]});
    let error = srv
        .post(path, Some(&token), &wrong)
        .expect_error(400, "INVALID_FORM");
    assert!(
        error["message"].as_str().unwrap_or("").contains("rocket"),
        "{error}"
    );
}

#[test]
fn an_unknown_sign_in_code_is_refused() {
    let srv = TestServer::start_empty();
    let answer = srv.post(
        "/api/backoffice/sign-in",
        None,
        &json!({"code": "0123456789abcdef0123456789abcdef"}),
    );
    let body: Value = answer.expect_error(401, "SIGN_IN_CODE_INVALID");
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("idflow token"));
}

#[test]
fn the_backoffice_page_loads_its_bundle_under_a_scoped_policy() {
    let srv = TestServer::start_empty();
    let page = srv.get("/backoffice/", None);
    assert_eq!(page.status, 200);
    let html = page.text;
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a script");
    let asset = srv.send(srv.request(reqwest::Method::GET, script));
    assert_eq!(asset.status, 200);
    assert!(asset.content_type.starts_with("text/javascript"));
    let missing = srv.get("/backoffice/000000000000/designer.js", None);
    assert_eq!(missing.status, 404);
    // The end user's pages keep their stricter policy.
    let headers = reqwest::blocking::get(srv.url("/backoffice/")).expect("get");
    let policy = headers.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    let flow = reqwest::blocking::get(srv.url("/flow/")).expect("get");
    let flow_policy = flow.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(!flow_policy.contains("unsafe-inline"), "{flow_policy}");
}
