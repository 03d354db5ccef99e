//! Permissions, driven by the table of every route in `/openapi.json`: each bearer route without
//! a token is 401, with a token lacking its documented permission 403, with another tenant's
//! token 403; with exactly its permission it gets past authorization. Cross-tenant reads answer
//! 404 and never data.

use std::time::Duration;

use idflow_server::auth::{perm, permission_string, Claims, SigningKey};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestServer;
use crate::flows::{deploy_two_steps, TWO_STEPS_BPMN};

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    /// The documented path template.
    pub template: String,
    pub permission: Option<String>,
    /// The permission of a route that spans tenants (`/metrics`): granted in any tenant.
    pub any_tenant_permission: Option<String>,
    /// The request body's content type, if it takes one.
    pub body_type: Option<String>,
}

/// Every operation of the document the server serves.
pub fn operations(srv: &TestServer) -> Vec<Operation> {
    let doc = srv.get("/openapi.json", None).expect(200);
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (name, method) in [
            ("get", Method::GET),
            ("post", Method::POST),
            ("put", Method::PUT),
            ("patch", Method::PATCH),
            ("delete", Method::DELETE),
        ] {
            let Some(op) = item.get(name) else { continue };
            let body_type = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.keys().next().cloned());
            out.push(Operation {
                method,
                template: template.clone(),
                permission: op["x-permission"].as_str().map(str::to_owned),
                any_tenant_permission: op["x-permission-any-tenant"].as_str().map(str::to_owned),
                body_type,
            });
        }
    }
    out
}

/// The template with plausible values in `tenant`.
pub fn concrete(template: &str, tenant: &str) -> String {
    let values = [
        ("{tenantId}", tenant),
        ("{storeName}", "main"),
        ("{userId}", "AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("{extUserId}", "alice"),
        ("{policyName}", "pp"),
        ("{sessionId}", "AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("{instanceId}", "AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("{stepId}", "step"),
        ("{definitionName}", "two-steps"),
        ("{version}", "1"),
        ("{formName}", "note"),
        ("{tokenName}", "notes"),
    ];
    let mut path = template.to_string();
    for (param, value) in values {
        path = path.replace(param, value);
    }
    assert!(
        !path.contains('{'),
        "a path parameter without a test value: {template}"
    );
    path
}

/// Sends `op` with an optional bearer token and a minimal body of the right type.
pub fn call(
    srv: &TestServer,
    op: &Operation,
    path: &str,
    token: Option<&str>,
) -> crate::common::Answer {
    let mut builder = srv.request(op.method.clone(), path);
    if let Some(t) = token {
        builder = builder.bearer_auth(t);
    }
    builder = match op.body_type.as_deref() {
        Some("application/xml") => builder
            .header("Content-Type", "application/xml")
            .body(TWO_STEPS_BPMN),
        Some(_) => builder.json(&json!({})),
        None => builder,
    };
    srv.send(builder)
}

#[test]
fn every_bearer_route_enforces_exactly_its_documented_permission() {
    let srv = TestServer::start_empty();
    srv.identity_fixture("acme", "main");
    let ops = operations(&srv);
    assert!(
        ops.len() >= 45,
        "the document lists every route ({} found)",
        ops.len()
    );

    let foreign_key = SigningKey::random();
    let forged = foreign_key
        .mint(&Claims::new(
            "x",
            vec![permission_string("acme", "*")],
            Duration::from_secs(600),
        ))
        .expect("mint");
    let mut expired_claims = Claims::new(
        "x",
        vec![permission_string("acme", "*")],
        Duration::from_secs(1),
    );
    expired_claims.exp = expired_claims.iat.saturating_sub(600);
    let expired = srv.key.mint(&expired_claims).expect("mint");
    let other_tenant = srv.admin("other");

    let mut documented = std::collections::BTreeSet::new();
    for op in &ops {
        let path = concrete(&op.template, "acme");
        let what = format!("{} {}", op.method, op.template);
        if let Some(permission) = &op.any_tenant_permission {
            // A route over every tenant: its permission in any one tenant lets it through.
            documented.insert(permission.clone());
            assert!(
                op.permission.is_none(),
                "{what} has two kinds of permission"
            );
            for token in [
                None,
                Some("not-a-jwt"),
                Some(forged.as_str()),
                Some(expired.as_str()),
            ] {
                let answer = call(&srv, op, &path, token);
                assert_eq!(answer.status, 401, "{what}: {}", answer.text);
            }
            let others: Vec<String> = perm::ALL
                .iter()
                .filter(|p| **p != permission.as_str())
                .map(|p| permission_string("acme", p))
                .collect();
            let answer = call(&srv, op, &path, Some(&srv.token_with(&others)));
            assert_eq!(
                answer.status, 403,
                "{what} without {permission}: {}",
                answer.text
            );
            assert!(answer.body["message"]
                .as_str()
                .unwrap_or("")
                .contains(permission.as_str()));
            for token in [srv.token("other", permission), other_tenant.clone()] {
                let answer = call(&srv, op, &path, Some(&token));
                assert_eq!(
                    answer.status, 200,
                    "{what} with {permission}: {}",
                    answer.text
                );
            }
            continue;
        }
        let Some(permission) = &op.permission else {
            // Public routes: the end user's and the document.
            let answer = call(&srv, op, &path, None);
            assert_ne!(answer.status, 401, "{what} is public: {}", answer.text);
            assert_ne!(answer.status, 403, "{what} is public: {}", answer.text);
            continue;
        };
        documented.insert(permission.clone());
        assert!(
            perm::ALL.contains(&permission.as_str()),
            "{what}: x-permission {permission} is not a permission the server checks"
        );

        for (token, label) in [
            (None, "no token"),
            (Some("not-a-jwt"), "garbage"),
            (Some(forged.as_str()), "another key's signature"),
            (Some(expired.as_str()), "an expired token"),
        ] {
            let answer = call(&srv, op, &path, token);
            assert_eq!(
                (answer.status, answer.body["code"].as_str().unwrap_or("")),
                (401, "UNAUTHORIZED"),
                "{what} with {label}: {}",
                answer.text
            );
        }

        // Every other permission of the tenant, but not this one.
        let others: Vec<String> = perm::ALL
            .iter()
            .filter(|p| **p != permission.as_str())
            .map(|p| permission_string("acme", p))
            .collect();
        let answer = call(&srv, op, &path, Some(&srv.token_with(&others)));
        assert_eq!(
            (answer.status, answer.body["code"].as_str().unwrap_or("")),
            (403, "FORBIDDEN"),
            "{what} without {permission}: {}",
            answer.text
        );
        let answer = call(&srv, op, &path, Some(&other_tenant));
        assert_eq!(
            answer.status, 403,
            "{what} with another tenant's token: {}",
            answer.text
        );
        assert!(answer.body["message"]
            .as_str()
            .unwrap_or("")
            .contains(permission));

        for token in [srv.token("acme", permission), srv.admin("acme")] {
            let answer = call(&srv, op, &path, Some(&token));
            assert!(
                answer.status != 401 && answer.status != 403,
                "{what} with {permission}: {}",
                answer.text
            );
        }
    }
    let all: std::collections::BTreeSet<String> = perm::ALL.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        documented, all,
        "every permission the server checks is documented on a route"
    );
}

#[test]
fn another_tenant_never_reaches_data_whatever_the_path_says() {
    let srv = TestServer::start_empty();
    srv.identity_fixture("acme", "main");
    let alice = srv.add_user("acme", "main", "alice");
    let token = deploy_two_steps(
        &srv,
        "acme",
        json!({"name": "notes", "processDefnName": "two-steps"}),
    );
    let started = srv
        .post(
            "/api/process-manager/process-instances",
            None,
            &json!({"processToken": token}),
        )
        .expect(201);
    let instance = started["instanceId"].as_str().expect("id").to_string();

    // The evil tenant has the same store name, its own admin token, and tries acme's IDs.
    srv.identity_fixture("evil", "main");
    let evil = srv.admin("evil");
    let probes: Vec<(String, &str)> = vec![
        (
            format!("/api/process-manager/tenants/evil/process-instances/{instance}"),
            "PROCESS_INSTANCE_NOT_FOUND",
        ),
        (
            format!("/api/process-manager/tenants/evil/process-instances/{instance}/history"),
            "PROCESS_INSTANCE_NOT_FOUND",
        ),
        (
            format!("/api/identity-store/tenants/evil/stores/main/users/{alice}"),
            "USER_NOT_FOUND",
        ),
        (
            "/api/identity-store/tenants/evil/stores/main/users/alice/ext".to_string(),
            "USER_NOT_FOUND",
        ),
        (
            "/api/process-manager/tenants/evil/process-tokens/notes".to_string(),
            "PROCESS_TOKEN_NOT_FOUND",
        ),
        (
            "/api/process-manager/tenants/evil/process-definitions/two-steps".to_string(),
            "PROCESS_DEFINITION_NOT_FOUND",
        ),
        (
            "/api/process-manager/tenants/evil/custom-forms/note".to_string(),
            "CUSTOM_FORM_NOT_FOUND",
        ),
    ];
    for (path, code) in probes {
        let answer = srv.get(&path, Some(&evil));
        assert_eq!(
            (answer.status, answer.body["code"].as_str().unwrap_or("")),
            (404, code),
            "GET {path}: {}",
            answer.text
        );
        for data in [
            "externalId",
            "variables",
            "registeredPasscodes",
            "\"id\"",
            "processDefnName",
            "definition\"",
        ] {
            assert!(
                !answer.text.contains(data),
                "GET {path} shows {data}: {}",
                answer.text
            );
        }
    }
    // Listings show only the tenant's own.
    let listed = srv
        .get(
            "/api/process-manager/tenants/evil/process-instances",
            Some(&evil),
        )
        .expect(200);
    assert_eq!(listed["items"], json!([]));
    let users = srv
        .get(
            "/api/identity-store/tenants/evil/stores/main/users",
            Some(&evil),
        )
        .expect(200);
    assert_eq!(users["users"], json!([]));
    // And acme's paths with evil's token: 403, never data.
    for path in [
        format!("/api/process-manager/tenants/acme/process-instances/{instance}"),
        format!("/api/identity-store/tenants/acme/stores/main/users/{alice}"),
    ] {
        let answer = srv.get(&path, Some(&evil));
        assert_eq!(answer.status, 403, "{path}: {}", answer.text);
        assert!(!answer.text.contains("externalId") && !answer.text.contains("variables"));
    }
    // A process token starts instances only of its own tenant's definition; an instance ID does
    // not leak through the end-user routes either.
    let probe: Value = srv
        .post(
            &format!("/api/process-manager/process-instances/{instance}/steps/not-the-step"),
            None,
            &json!({}),
        )
        .expect_error(409, "STALE_STEP");
    assert!(!probe.to_string().contains("variables"));
}
