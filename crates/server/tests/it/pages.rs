//! The end user's pages as HTTP sees them (the browser suite in tests/browser walks them in
//! Chromium): their headers and caching, the end-user read of an instance, the server's SRP proof
//! in end-user answers, token links, and branding.

use idflow_identity::{client, wire};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{assert_documented_shape, TestServer};

const DEMO: &str = "demo";
const PM: &str = "/api/process-manager";

fn header(answer: &reqwest::blocking::Response, name: &str) -> String {
    answer
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_pages_are_served_with_a_strict_csp_no_referrer_and_caching() {
    let srv = TestServer::start_empty();
    let page = srv
        .request(Method::GET, "/flow/")
        .header("Accept-Language", "fr, de;q=0.9, en;q=0.5")
        .send()
        .expect("answered");
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_eq!(header(&page, "vary"), "Accept-Language");
    assert_eq!(header(&page, "content-language"), "de");
    let html = page.text().unwrap_or_default();
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    let script = html
        .split("<script type=\"module\" src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a module script: {html}"))
        .to_string();
    assert!(!html.contains(" style="), "no inline style");

    let js = srv.request(Method::GET, &script).send().expect("answered");
    assert_eq!(js.status(), 200);
    assert_eq!(
        header(&js, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(header(&js, "cache-control").contains("immutable"));
    let messages = script.replace("app.js", "messages/de.json");
    let de: Value = srv
        .request(Method::GET, &messages)
        .send()
        .and_then(|r| r.json())
        .expect("the German messages");
    assert_eq!(de["policy.title"], "Ihr Passcode braucht:");

    // Another version, an unknown file: JSON 404s.
    let version = script.split('/').nth(2).unwrap_or("");
    let stale = script.replace(version, "000000000000");
    srv.get(&stale, None).expect_error(404, "PAGE_NOT_FOUND");
    srv.get(&script.replace("app.js", "secret.js"), None)
        .expect_error(404, "PAGE_NOT_FOUND");
    // `/flow` leads to the page.
    let redirected = srv.request(Method::GET, "/flow").send().expect("answered");
    assert_eq!(redirected.url().path(), "/flow/");
}

fn demo_token(srv: &TestServer, name: &str) -> Value {
    srv.get(
        &format!("{PM}/tenants/{DEMO}/process-tokens/{name}"),
        Some(&srv.admin(DEMO)),
    )
    .expect(200)
}

fn start(srv: &TestServer, token: &Value) -> Value {
    let started = srv
        .post(
            &format!("{PM}/process-instances"),
            None,
            &json!({ "processToken": token["id"] }),
        )
        .expect(201);
    assert_documented_shape::<idflow_server::schema::EndUserInstance>(&started);
    started
}

fn answer(srv: &TestServer, instance: &Value, data: &Value) -> Value {
    let id = instance["instanceId"].as_str().expect("instance id");
    let step = instance["currentStep"]["stepId"].as_str().expect("step id");
    let answered = srv
        .post(
            &format!("{PM}/process-instances/{id}/steps/{step}"),
            None,
            data,
        )
        .expect(200);
    assert_documented_shape::<idflow_server::schema::EndUserInstance>(&answered);
    answered
}

#[test]
fn the_end_user_reads_its_instance_and_checks_the_servers_proof() {
    let srv = TestServer::start();
    // Register demo-user's passcode through the end-user routes.
    let registration = start(&srv, &demo_token(&srv, "demo-passcode-registration"));
    assert_eq!(
        registration["currentStep"]["activity"],
        "passcodeRegistrationForm"
    );
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(registration["currentStep"]["data"].clone()).expect("SRP start");
    let request = client::register(&session, "Passw0rdX").expect("request");
    let done = answer(&srv, &registration, &json!({"browserResponse": request}));
    assert_eq!(done["status"], "COMPLETED_ENDED_SUCCESS");
    assert!(
        done.get("passcodeProofs").is_none(),
        "a registration has no M2"
    );

    // Authentication: the step is read back by instance ID, and the answer carries M2.
    let auth = start(&srv, &demo_token(&srv, "demo-passcode-authentication"));
    let id = auth["instanceId"].as_str().expect("id");
    let read = srv
        .get(&format!("{PM}/process-instances/{id}"), None)
        .expect(200);
    assert_eq!(read, auth, "the read shows the same step");
    assert_eq!(
        read["currentStep"]["activity"],
        "passcodeAuthenticationForm"
    );
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(read["currentStep"]["data"].clone()).expect("SRP start");
    // The session's B was made from a g^b computed before the start's transaction (the server
    // works it ahead); another instance's session has a b of its own.
    let other = start(&srv, &demo_token(&srv, "demo-passcode-authentication"));
    let other: wire::PasscodeSessionStart =
        serde_json::from_value(other["currentStep"]["data"].clone()).expect("SRP start");
    let server_public = |s: &wire::PasscodeSessionStart| {
        s.algorithm_info
            .parameters
            .server_public_key
            .clone()
            .expect("B")
    };
    assert_ne!(server_public(&session), server_public(&other));
    let pending =
        client::authenticate(&session, "Passw0rdX", &mut rand::rngs::OsRng).expect("proof");
    let done = answer(&srv, &auth, &json!({"browserResponse": pending.request()}));
    assert_eq!(done["outcome"], "Authenticated");
    let proofs = done["passcodeProofs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(proofs.len(), 1, "{done}");
    assert_eq!(proofs[0]["sessionId"], session.session_id.as_str());
    let user = srv
        .get(
            &format!("/api/identity-store/tenants/{DEMO}/stores/demo/users/demo-user/ext"),
            Some(&srv.admin(DEMO)),
        )
        .expect(200);
    let response: wire::PasscodeProofResponse = serde_json::from_value(json!({
        "algorithmInfo": {"type": "SRP", "parameters": {"hashAlgorithm": "SHA-256", "m2": proofs[0]["m2"]}},
        "user": user["user"],
    }))
    .expect("a proof response");
    assert!(
        pending.verify_server(&response).is_ok(),
        "the M2 proves the server"
    );
    // The ended instance reads as ended, with its outcome.
    let ended = srv
        .get(&format!("{PM}/process-instances/{id}"), None)
        .expect(200);
    assert_eq!(ended, done);
    assert_eq!(ended["currentStep"], Value::Null);

    // Unknown instances, and answers that are never cached.
    srv.get(
        &format!("{PM}/process-instances/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        None,
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    let raw = srv
        .request(Method::GET, &format!("{PM}/process-instances/{id}"))
        .send()
        .expect("answered");
    assert_eq!(header(&raw, "cache-control"), "no-store");
}

#[test]
fn a_token_links_to_its_page_unless_the_backend_sets_its_own() {
    let srv = TestServer::start();
    let admin = srv.admin(DEMO);
    let ours = srv
        .post(
            &format!("{PM}/tenants/{DEMO}/process-tokens"),
            Some(&admin),
            &json!({"name": "page", "processDefnName": "current-totp"}),
        )
        .expect(201);
    let id = ours["id"].as_str().expect("id");
    assert_eq!(ours["uiUrl"], format!("{}/flow/#token={id}", srv.base));
    let theirs = srv
        .post(
            &format!("{PM}/tenants/{DEMO}/process-tokens"),
            Some(&admin),
            &json!({"name": "backend", "processDefnName": "current-totp", "uiUrl": "https://app.example.test/start"}),
        )
        .expect(201);
    assert_eq!(theirs["uiUrl"], "https://app.example.test/start");
    let listed = srv
        .get(&format!("{PM}/tenants/{DEMO}/process-tokens"), Some(&admin))
        .expect(200);
    let tokens = listed["tokens"].as_array().cloned().unwrap_or_default();
    assert!(tokens
        .iter()
        .all(|t| t["uiUrl"].as_str().is_some_and(|u| !u.is_empty())));
}

#[test]
fn branding_is_set_with_its_permission_and_the_page_reads_only_it() {
    let srv = TestServer::start();
    let route = format!("{PM}/tenants/{DEMO}/branding");
    let branding = json!({
        "displayName": "Acme Bank",
        "logo": "data:image/png;base64,iVBORw0KGgo=",
        "primaryColor": "#0b5394",
        "backgroundColor": "#ffffff",
        "textColor": "#222222",
    });
    let put = |token: &str, body: &Value| {
        srv.send(
            srv.request(Method::PUT, &route)
                .bearer_auth(token)
                .json(body),
        )
    };
    put(&srv.token(DEMO, "getBranding"), &branding).expect_error(403, "FORBIDDEN");
    put(&srv.admin("other"), &branding).expect_error(403, "FORBIDDEN");
    let set = put(&srv.token(DEMO, "setBranding"), &branding).expect(200);
    assert_eq!(set, branding);
    assert_documented_shape::<idflow_server::schema::BrandingBody>(&set);
    let read = srv
        .get(&route, Some(&srv.token(DEMO, "getBranding")))
        .expect(200);
    assert_eq!(read, branding);

    for (body, code, needle) in [
        (
            json!({"primaryColor": "#fefefe"}),
            "INVALID_BRANDING",
            "primaryColor has a contrast",
        ),
        (
            json!({"logo": "javascript:alert(1)"}),
            "INVALID_BRANDING",
            "logo must be a data: URI",
        ),
        (json!({"colour": "#000000"}), "INVALID_BODY", "colour"),
    ] {
        let refused = put(&srv.admin(DEMO), &body).expect_error(400, code);
        assert!(
            refused["message"].as_str().unwrap_or("").contains(needle),
            "{refused}"
        );
    }
    assert_eq!(
        srv.get(&route, Some(&srv.admin(DEMO))).expect(200),
        branding,
        "a refused change changes nothing"
    );

    // The page reads its instance's tenant's branding, and nothing else, with no token.
    let started = start(&srv, &demo_token(&srv, "demo-current-totp"));
    let id = started["instanceId"].as_str().expect("id");
    let public = srv
        .get(&format!("{PM}/process-instances/{id}/branding"), None)
        .expect(200);
    assert_eq!(public, branding);
    srv.get(
        &format!("{PM}/process-instances/AAAAAAAAAAAAAAAAAAAAAAAAAA/branding"),
        None,
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    // Back to the defaults.
    assert_eq!(put(&srv.admin(DEMO), &json!({})).expect(200), json!({}));
    assert_eq!(
        srv.get(&format!("{PM}/process-instances/{id}/branding"), None)
            .expect(200),
        json!({})
    );
}
