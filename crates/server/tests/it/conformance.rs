//! The document says exactly what the server accepts: for each kind of mismatch schemathesis
//! found between `/openapi.json` and the server, the request it flagged, answered as documented.
//! Bounds are read from the served document, so a document and a server that drift apart fail
//! here even without schemathesis (`.ci/schemathesis` runs it in CI).

use serde_json::{json, Value};

use crate::common::{assert_documented_shape, TestServer};
use crate::flows::{deploy_two_steps, TWO_STEPS_BPMN};

const TENANT: &str = "acme";
const IS: &str = "/api/identity-store/tenants/acme";
const PM: &str = "/api/process-manager/tenants/acme";

fn document(srv: &TestServer) -> Value {
    srv.get("/openapi.json", None).expect(200)
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    op
}

/// The schema of an operation's parameter.
fn parameter<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    operation(doc, method, path)["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} documents parameter {name}"))
}

/// A property of a component schema, unwrapped from the `oneOf` utoipa puts around a described
/// field (its one non-null item).
fn property(doc: &Value, component: &str, name: &str) -> Value {
    let mut schema = &doc["components"]["schemas"][component];
    if let Some(first) = schema["allOf"].get(0) {
        schema = first;
    }
    let field = &schema["properties"][name];
    assert!(field.is_object(), "{component}.{name} is documented");
    match field["oneOf"].as_array() {
        Some(items) => items
            .iter()
            .find(|i| i["type"] != "null")
            .cloned()
            .unwrap_or(Value::Null),
        None => field.clone(),
    }
}

fn number(schema: &Value, key: &str) -> u64 {
    schema[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is documented: {schema}"))
}

/// Percent-encodes a path segment (everything but unreserved ASCII).
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn raw_post(srv: &TestServer, path: &str, token: &str, content_type: &str, body: &str) -> Value {
    srv.send(
        srv.request(reqwest::Method::POST, path)
            .bearer_auth(token)
            .header("Content-Type", content_type)
            .body(body.to_string()),
    )
    .body
}

#[test]
fn store_names_at_the_documented_bounds_are_accepted_and_past_them_refused() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    let in_body = property(&doc, "CreateStoreRequest", "name");
    let in_path = parameter(
        &doc,
        "get",
        "/api/identity-store/tenants/{tenantId}/stores/{storeName}",
        "storeName",
    );
    assert_eq!(
        &in_body, in_path,
        "one rule for a store name, in a body or a path"
    );
    let longest = usize::try_from(number(&in_body, "maxLength")).expect("fits");
    assert_eq!(number(&in_body, "minLength"), 1);
    assert!(in_body["pattern"].is_string());

    // Schema-valid names the server refused before: any characters but control characters, up
    // to the documented length counted in characters.
    for name in [
        "é".repeat(longest),
        "my store #1".to_string(),
        "a/b".to_string(),
    ] {
        let created = srv
            .post(
                &format!("{IS}/stores"),
                Some(&admin),
                &json!({ "name": name }),
            )
            .expect(201);
        assert_eq!(created["name"], name.as_str());
        let read = srv
            .get(&format!("{IS}/stores/{}", segment(&name)), Some(&admin))
            .expect(200);
        assert_eq!(read["name"], name.as_str());
    }

    // Past the bounds: refused in a body by the domain, in a path by the parameter's type.
    let too_long = "é".repeat(longest + 1);
    for bad in [too_long.as_str(), "a\u{7}b", ""] {
        srv.post(
            &format!("{IS}/stores"),
            Some(&admin),
            &json!({ "name": bad }),
        )
        .expect_error(400, "INVALID_INPUT");
    }
    for bad in [too_long.as_str(), "a\u{7}b"] {
        let refused = srv
            .get(&format!("{IS}/stores/{}", segment(bad)), Some(&admin))
            .expect_error(400, "INVALID_PARAMETER");
        assert!(
            refused["message"]
                .as_str()
                .unwrap_or("")
                .contains("storeName"),
            "{refused}"
        );
    }
    let stores = srv.get(&format!("{IS}/stores"), Some(&admin)).expect(200);
    assert_eq!(stores["stores"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_token_with_null_optional_fields_is_created_as_if_they_were_absent() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    deploy_two_steps(
        &srv,
        TENANT,
        json!({"name": "first", "processDefnName": "two-steps"}),
    );
    let doc = document(&srv);
    let parameters = property(&doc, "CreateProcessToken", "parameters");
    assert_eq!(parameters["type"], json!(["object", "null"]));

    let created = srv
        .post(
            &format!("{PM}/process-tokens"),
            Some(&admin),
            &json!({
                "name": "nulls", "processDefnName": "two-steps", "parameters": null,
                "description": null, "type": null, "maxUses": null, "expiresAt": null,
                "processDefnVersion": null, "uiUrl": null
            }),
        )
        .expect(201);
    let token: idflow_server::schema::ProcessTokenBody = assert_documented_shape(&created);
    assert_eq!(token.parameters, json!({}));
    assert_eq!(token.description, "");
    assert_eq!(token.kind, "UNLIMITED");
    assert_eq!(token.max_uses, None);

    // The kind's field is required by the document (anyOf) and by the server alike; a field the
    // document bounds is checked whatever the kind.
    let kinds = &doc["components"]["schemas"]["CreateProcessToken"]["allOf"][1]["anyOf"];
    assert_eq!(kinds.as_array().map(Vec::len), Some(3), "{kinds}");
    for (body, code) in [
        (
            json!({"name": "c", "processDefnName": "two-steps", "type": "MULTI_USE_COUNT_LIMITED"}),
            "INVALID_PROCESS_TOKEN",
        ),
        (
            json!({"name": "z", "processDefnName": "two-steps", "maxUses": 0}),
            "INVALID_PROCESS_TOKEN",
        ),
        (
            json!({"name": "t", "processDefnName": "two-steps", "expiresAt": "soon"}),
            "INVALID_PROCESS_TOKEN",
        ),
        (
            json!({"name": "u", "processDefnName": "two-steps", "colour": "red"}),
            "INVALID_BODY",
        ),
        (
            json!({"name": "\u{7}", "processDefnName": "two-steps"}),
            "INVALID_PROCESS_TOKEN",
        ),
    ] {
        srv.post(&format!("{PM}/process-tokens"), Some(&admin), &body)
            .expect_error(400, code);
    }
    let tokens = srv
        .get(&format!("{PM}/process-tokens"), Some(&admin))
        .expect(200);
    assert_eq!(tokens["tokens"].as_array().map(Vec::len), Some(2));
}

#[test]
fn an_empty_file_name_deploys_under_the_default_name() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    let file_name = parameter(
        &doc,
        "post",
        "/api/process-manager/tenants/{tenantId}/process-definitions",
        "fileName",
    );
    assert_eq!(number(file_name, "minLength"), 0);
    let longest = usize::try_from(number(file_name, "maxLength")).expect("fits");

    let deployed = raw_post(
        &srv,
        &format!("{PM}/process-definitions?fileName="),
        &admin,
        "application/xml",
        TWO_STEPS_BPMN,
    );
    assert_eq!(deployed["version"], 1, "{deployed}");
    let info = srv
        .get(
            &format!("{PM}/process-definitions/two-steps/versions/1"),
            Some(&admin),
        )
        .expect(200);
    assert_eq!(info["sourceLabel"], "definition.bpmn");

    for bad in ["a%01b".to_string(), "x".repeat(longest + 1)] {
        srv.send(
            srv.request(
                reqwest::Method::POST,
                &format!("{PM}/process-definitions?fileName={bad}"),
            )
            .bearer_auth(&admin)
            .header("Content-Type", "application/xml")
            .body(TWO_STEPS_BPMN),
        )
        .expect_error(400, "INVALID_PARAMETER");
    }
}

#[test]
fn paging_parameters_at_their_documented_bounds_are_accepted_and_past_them_refused() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, "main");
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    let users = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users";
    let instances = "/api/process-manager/tenants/{tenantId}/process-instances";

    for (path, url) in [
        (users, format!("{IS}/stores/main/users")),
        (instances, format!("{PM}/process-instances")),
    ] {
        let limit = parameter(&doc, "get", path, "limit");
        let (min, max) = (number(limit, "minimum"), number(limit, "maximum"));
        assert_eq!((min, max), (1, 1000), "{path}");
        for ok in [min, max] {
            srv.get(&format!("{url}?limit={ok}"), Some(&admin))
                .expect(200);
        }
        for bad in [
            (min - 1).to_string(),
            (max + 1).to_string(),
            "-1".into(),
            "x".into(),
        ] {
            srv.get(&format!("{url}?limit={bad}"), Some(&admin))
                .expect_error(400, "INVALID_PARAMETER");
        }
        // `after` is a cursor of the documented shape; anything else is refused, not ignored.
        assert!(parameter(&doc, "get", path, "after")["pattern"].is_string());
        srv.get(&format!("{url}?after=not-a-cursor"), Some(&admin))
            .expect_error(400, "INVALID_PARAMETER");
        assert!(operation(&doc, "get", path)["responses"]["400"].is_object());
    }
    srv.get(
        &format!("{IS}/stores/main/users?after=UGIRW7QN727EIV2XLXG4YH42N4&limit=1"),
        Some(&admin),
    )
    .expect(200);
    srv.get(
        &format!("{PM}/process-instances?after=0000018c1f2a3b4cUGIRW7QN727EIV2XLXG4YH42N4"),
        Some(&admin),
    )
    .expect(200);
    srv.get(
        &format!("{PM}/process-instances?status=ACTIVE"),
        Some(&admin),
    )
    .expect(200);
}

#[test]
fn add_user_refuses_what_its_schema_forbids_and_takes_what_it_allows() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, "main");
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    let schema = &doc["components"]["schemas"]["AddUserRequest"];
    assert_eq!(schema["additionalProperties"], false);
    let external_id = property(&doc, "AddUserRequest", "externalId");
    let longest = usize::try_from(number(&external_id, "maxLength")).expect("fits");
    let status = property(&doc, "AddUserRequest", "status");
    assert_eq!(
        status["enum"],
        json!(["ACTIVE", "PENDING_ACTIVE", "DISABLED"])
    );
    let users = format!("{IS}/stores/main/users");

    // The schema-violating request the server took before: an undocumented field.
    srv.post(
        &users,
        Some(&admin),
        &json!({"externalId": "a", "role": "admin"}),
    )
    .expect_error(400, "INVALID_BODY");
    for bad in [
        json!({"externalId": "b", "status": ""}),
        json!({"externalId": "c", "status": "LOCKED"}),
    ] {
        assert_eq!(srv.post(&users, Some(&admin), &bad).status, 400, "{bad}");
    }
    for bad in ["   ".to_string(), "x".repeat(longest + 1), "a\nb".into()] {
        srv.post(&users, Some(&admin), &json!({ "externalId": bad }))
            .expect_error(400, "FAILED_TO_ADD_USER");
    }
    let listed = srv.get(&users, Some(&admin)).expect(200);
    assert_eq!(listed["users"].as_array().map(Vec::len), Some(0));

    let added = srv
        .post(
            &users,
            Some(&admin),
            &json!({"externalId": "é".repeat(longest), "status": null}),
        )
        .expect(201);
    assert_eq!(added["user"]["status"], "ACTIVE");
    srv.get(
        &format!("{users}/{}/ext", segment(&"é".repeat(longest))),
        Some(&admin),
    )
    .expect(200);
}

#[test]
fn every_route_documents_the_400_it_can_answer() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = &op["responses"];
            let has_parameters = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            if has_parameters {
                let text = responses["400"]["description"].as_str().unwrap_or("");
                assert!(
                    text.contains("INVALID_PARAMETER"),
                    "{method} {path} documents the 400 for its parameters: {text}"
                );
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                let text = responses["400"]["description"].as_str().unwrap_or("");
                assert!(
                    text.contains("MALFORMED_JSON") && text.contains("INVALID_BODY"),
                    "{method} {path} documents the 400 for its body: {text}"
                );
                for status in ["413", "415"] {
                    assert!(
                        responses[status].is_object(),
                        "{method} {path} documents {status}"
                    );
                }
            }
        }
    }
    // The undocumented answers schemathesis saw: a negative version, a limit of 0.
    srv.get(
        &format!("{PM}/process-definitions/two-steps/versions/-1"),
        Some(&admin),
    )
    .expect_error(400, "INVALID_PARAMETER");
    srv.get(&format!("{PM}/custom-forms/note/versions/0"), Some(&admin))
        .expect_error(400, "INVALID_PARAMETER");
}

#[test]
fn whole_numbers_written_with_a_fraction_are_integers_as_the_schema_says() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, "main");
    let admin = srv.admin(TENANT);
    let created = srv
        .post(
            &format!("{IS}/stores/main/totp-policies"),
            Some(&admin),
            &json!({"name": "t2", "issuer": "Acme", "period": 60.0, "digits": 8.0,
                "acceptedDriftSteps": 2e0, "algorithm": "sha-256"}),
        )
        .expect(201);
    assert_eq!(
        (
            &created["period"],
            &created["digits"],
            &created["acceptedDriftSteps"],
            &created["algorithm"]
        ),
        (&json!(60), &json!(8), &json!(2), &json!("SHA256"))
    );
    for bad in [
        json!({"name": "t3", "issuer": "Acme", "period": 30.5}),
        json!({"name": "t3", "issuer": "Acme", "period": -30}),
        json!({"name": "t3", "issuer": "Acme", "algorithm": "S-HA256"}),
    ] {
        assert_eq!(
            srv.post(
                &format!("{IS}/stores/main/totp-policies"),
                Some(&admin),
                &bad
            )
            .status,
            400,
            "{bad}"
        );
    }
    deploy_two_steps(
        &srv,
        TENANT,
        json!({"name": "counted", "processDefnName": "two-steps",
            "type": "MULTI_USE_COUNT_LIMITED", "maxUses": 3.0}),
    );
    let token = srv
        .get(&format!("{PM}/process-tokens/counted"), Some(&admin))
        .expect(200);
    assert_eq!(token["maxUses"], 3);
}

#[test]
fn a_body_the_route_ignores_may_be_left_out() {
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, "main");
    let admin = srv.admin(TENANT);
    let doc = document(&srv);
    let unlock = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/unlock";
    let body = &operation(&doc, "post", unlock)["requestBody"];
    assert_ne!(body["required"], true, "{body}");
    let id = srv.add_user(TENANT, "main", "alice");
    for request in [
        srv.request(
            reqwest::Method::POST,
            &format!("{IS}/stores/main/users/{id}/unlock"),
        ),
        srv.request(
            reqwest::Method::POST,
            &format!("{IS}/stores/main/users/{id}/unlock"),
        )
        .header("Content-Type", "application/json")
        .body("[1, 2]"),
    ] {
        let answer = srv.send(request.bearer_auth(&admin));
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
}

#[test]
fn a_body_documented_as_an_object_must_be_one() {
    let srv = TestServer::start_empty();
    let admin = srv.admin(TENANT);
    // serde fills a struct from an array; the document allows objects only.
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            format!("{PM}/branding"),
            "[null, null]",
        ),
        (reqwest::Method::POST, format!("{IS}/stores"), "[\"main\"]"),
        (
            reqwest::Method::PUT,
            format!("{PM}/retention-policy"),
            "[30]",
        ),
    ] {
        srv.send(
            srv.request(method, &path)
                .bearer_auth(&admin)
                .header("Content-Type", "application/json")
                .body(body),
        )
        .expect_error(400, "INVALID_BODY");
    }
    assert_eq!(
        srv.get(&format!("{IS}/stores"), Some(&admin)).expect(200)["stores"],
        json!([])
    );
    assert_eq!(
        srv.get(&format!("{PM}/retention-policy"), Some(&admin))
            .expect(200)["completedInstanceDays"],
        180
    );

    // The branding colours and the retention days: documented bounds, enforced.
    let doc = document(&srv);
    let colour = property(&doc, "BrandingBody", "textColor");
    assert!(colour["pattern"].is_string(), "{colour}");
    let srv_put = |path: String, body: Value| {
        srv.send(
            srv.request(reqwest::Method::PUT, &path)
                .bearer_auth(&admin)
                .json(&body),
        )
    };
    srv_put(format!("{PM}/branding"), json!({"textColor": "#zzzzzz"}))
        .expect_error(400, "INVALID_BRANDING");
    let days = property(&doc, "RetentionPolicyBody", "completedInstanceDays");
    let most = number(&days, "maximum");
    let kept = srv_put(
        format!("{PM}/retention-policy"),
        json!({ "completedInstanceDays": most as f64 }),
    )
    .expect(200);
    assert_eq!(kept["completedInstanceDays"], most);
    assert_eq!(
        srv_put(
            format!("{PM}/retention-policy"),
            json!({ "completedInstanceDays": most + 1 })
        )
        .status,
        400
    );
}
