//! Races over HTTP: 50 concurrent starts on a token with `maxUses = 5` start exactly 5.

use serde_json::json;

use crate::common::{race_starts, TestServer};
use crate::flows::deploy_two_steps;

#[test]
fn fifty_concurrent_starts_on_max_uses_five_start_exactly_five() {
    let srv = TestServer::start_empty();
    let token = deploy_two_steps(
        &srv,
        "acme",
        json!({"name": "five", "processDefnName": "two-steps",
               "type": "MULTI_USE_COUNT_LIMITED", "maxUses": 5}),
    );
    const RACERS: usize = 50;
    let results = race_starts(&[&srv], &token, RACERS);
    let started = results.iter().filter(|(s, _)| *s == 201).count();
    let used_up = results
        .iter()
        .filter(|(s, c)| *s == 409 && c == "TOKEN_USED_UP")
        .count();
    assert_eq!((started, used_up), (5, RACERS - 5), "{results:?}");

    let admin = srv.admin("acme");
    let token = srv
        .get(
            "/api/process-manager/tenants/acme/process-tokens/five",
            Some(&admin),
        )
        .expect(200);
    assert_eq!(token["uses"], 5);
    let instances = srv
        .get(
            "/api/process-manager/tenants/acme/process-instances?limit=100",
            Some(&admin),
        )
        .expect(200);
    assert_eq!(instances["items"].as_array().map(Vec::len), Some(5));
}
