//! `/openapi.json`: OpenAPI 3.1, every route of api.md with its permission, bodies and statuses.

use serde_json::Value;

use crate::common::TestServer;

/// The seeds' eight routes (api.md), with their exact permissions and success statuses.
const SEED_ROUTES: [(&str, &str, &str); 8] = [
    (
        "/users/{userId}/passcodes/registrations/{policyName}",
        "createPasscodeRegistrationForUser",
        "201",
    ),
    (
        "/users/{extUserId}/passcodes/registrations/{policyName}/ext",
        "createUserPasscodeRegistrationForUserByExtUserId",
        "201",
    ),
    (
        "/passcodes/registrations/sessions/{sessionId}",
        "completePasscodeRegistration",
        "200",
    ),
    (
        "/users/{userId}/passcodes/renewals/{policyName}",
        "createPasscodeRenewalForUser",
        "201",
    ),
    (
        "/users/{extUserId}/passcodes/renewals/{policyName}/ext",
        "createUserPasscodeRenewalForUserByExtUserId",
        "201",
    ),
    (
        "/passcodes/renewals/sessions/{sessionId}",
        "completePasscodeRenewal",
        "200",
    ),
    (
        "/users/{userId}/passcodes/deregistrations/{policyName}",
        "deregisterPasscodeForUser",
        "200",
    ),
    (
        "/users/{extUserId}/passcodes/deregistrations/{policyName}/ext",
        "deregisterPasscodeForUserByExtUserId",
        "200",
    ),
];

#[test]
fn the_document_is_openapi_3_1_with_every_route_permission_and_status() {
    let srv = TestServer::start_empty();
    let answer = srv.get("/openapi.json", None);
    assert!(answer.content_type.starts_with("application/json"));
    let doc = answer.expect(200);
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    let paths = doc["paths"].as_object().expect("paths");

    for (tail, permission, success) in SEED_ROUTES {
        let path = format!("/api/identity-store/tenants/{{tenantId}}/stores/{{storeName}}{tail}");
        let op = &paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is documented"))["post"];
        assert_eq!(op["x-permission"], permission, "{path}");
        assert!(op["description"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("TNT#{{tenantId}}#{permission}")));
        for status in [success, "400", "401", "403", "404", "500"] {
            assert!(
                op["responses"][status].is_object(),
                "{path} documents {status}"
            );
        }
        assert!(op["requestBody"].is_object(), "{path} documents its body");
        assert_eq!(op["security"][0]["bearer"], Value::Array(vec![]));
    }

    let expected_routes = [
        ("post", "/api/identity-store/tenants/{tenantId}/stores"),
        ("get", "/api/identity-store/tenants/{tenantId}/stores"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcode-policies"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/totp-policies"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users"),
        ("get", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users"),
        ("get", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}"),
        ("get", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/ext"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/unlock"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/passcodes/authentications/{policyName}"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcodes/authentications/sessions/{sessionId}"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/registrations/{policyName}"),
        ("get", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/registrations/{policyName}"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/totps/registrations/sessions/{sessionId}"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/authentications/{policyName}"),
        ("post", "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/deregistrations/{policyName}"),
        ("post", "/api/process-manager/tenants/{tenantId}/process-definitions"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-definitions"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-definitions/{definitionName}/versions/{version}"),
        ("post", "/api/process-manager/tenants/{tenantId}/custom-forms"),
        ("get", "/api/process-manager/tenants/{tenantId}/custom-forms/{formName}/versions/{version}"),
        ("post", "/api/process-manager/tenants/{tenantId}/process-tokens"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-tokens"),
        ("post", "/api/process-manager/tenants/{tenantId}/process-tokens/{tokenName}/deactivate"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/history"),
        ("post", "/api/process-manager/process-instances"),
        ("post", "/api/process-manager/process-instances/{instanceId}/steps/{stepId}"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/path"),
        ("post", "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/cancel"),
        ("post", "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/replay"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-tokens/{tokenName}/qr"),
        ("get", "/api/process-manager/tenants/{tenantId}/process-statistics"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    ];
    for (method, path) in expected_routes {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }

    // Every operation: an ID, responses with their bodies resolvable, tenant routes with a
    // permission, public routes without one.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has an operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is unique");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
            let is_tenant_route = path.contains("{tenantId}");
            assert_eq!(
                op["x-permission"].is_string(),
                is_tenant_route,
                "{method} {path}"
            );
            let text = op.to_string();
            for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
                let name = reference.split('"').next().unwrap_or("");
                assert!(
                    schemas.contains_key(name),
                    "{method} {path}: schema {name} is defined"
                );
            }
        }
    }
    let error = &schemas["ErrorBody"];
    for field in ["code", "message", "status"] {
        assert!(
            error["properties"][field].is_object(),
            "ErrorBody documents {field}"
        );
    }
}
