//! Several nodes on one PostgreSQL database: three servers, each with its own runtime, identity
//! core and connection pool, share one store; what must happen once happens once whichever
//! nodes the requests reach.

use serde_json::json;

use crate::common::{race_starts, send_at_once, TestServer};
use crate::flows::{deploy_two_steps, history_kinds, start};

/// Three servers on one fresh database; the first seeds nothing, the others find its keys.
fn cluster() -> Vec<TestServer> {
    let url = idflow_pgtest::database();
    (0..3)
        .map(|_| {
            let url = url.clone();
            TestServer::start_configured(move |config| {
                config.seed_demo = false;
                config.store = Some(url);
            })
        })
        .collect()
}

#[test]
fn every_node_accepts_the_tokens_of_every_other_node() {
    let nodes = cluster();
    let minted = nodes[0].admin("acme");
    for node in &nodes {
        node.post(
            "/api/identity-store/tenants/acme/stores",
            Some(&minted),
            &json!({"name": format!("s{}", node.addr.port())}),
        )
        .expect(201);
    }
    let stores = nodes[2]
        .get("/api/identity-store/tenants/acme/stores", Some(&minted))
        .expect(200);
    assert_eq!(
        stores["stores"].as_array().map(Vec::len),
        Some(3),
        "{stores}"
    );
}

#[test]
fn two_hundred_starts_spread_over_three_nodes_on_max_uses_seven_start_exactly_seven() {
    let nodes = cluster();
    let token = deploy_two_steps(
        &nodes[0],
        "acme",
        json!({"name": "seven", "processDefnName": "two-steps",
               "type": "MULTI_USE_COUNT_LIMITED", "maxUses": 7}),
    );
    const RACERS: usize = 200;
    let results = race_starts(&nodes.iter().collect::<Vec<_>>(), &token, RACERS);
    let started = results.iter().filter(|(s, _)| *s == 201).count();
    let used_up = results
        .iter()
        .filter(|(s, c)| *s == 409 && c == "TOKEN_USED_UP")
        .count();
    assert_eq!((started, used_up), (7, RACERS - 7), "{results:?}");
    let admin = nodes[1].admin("acme");
    let listed = nodes[2]
        .get(
            "/api/process-manager/tenants/acme/process-instances?limit=100",
            Some(&admin),
        )
        .expect(200);
    let instances = listed["items"].as_array().map_or(0, Vec::len);
    assert_eq!(instances, 7, "{listed}");
}

#[test]
fn one_step_answered_on_two_nodes_at_once_is_applied_once() {
    let nodes = cluster();
    let token = deploy_two_steps(
        &nodes[0],
        "acme",
        json!({"name": "many", "processDefnName": "two-steps", "type": "UNLIMITED"}),
    );
    for round in 0..5 {
        let instance = start(&nodes[round % 3], &token);
        let id = instance["instanceId"]
            .as_str()
            .expect("instance id")
            .to_string();
        let step = instance["currentStep"]["stepId"]
            .as_str()
            .expect("step id")
            .to_string();
        // The two answers differ: the same answer sent twice is a replayed request, which the
        // server answers again without applying it twice.
        let statuses = send_at_once(
            nodes[..2]
                .iter()
                .enumerate()
                .map(|(n, node)| {
                    node.client
                        .post(node.url(&format!(
                            "/api/process-manager/process-instances/{id}/steps/{step}"
                        )))
                        .json(&json!({"note": format!("from node {n}, round {round}")}))
                })
                .collect(),
        );
        assert_eq!(
            statuses.iter().filter(|(s, _)| *s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        let kinds = history_kinds(&nodes[2], "acme", &id);
        let answers = kinds.iter().filter(|k| *k == "answered").count();
        assert_eq!(answers, 1, "round {round}: {kinds:?}");
    }
}

#[test]
fn one_srp_session_completed_on_two_nodes_at_once_succeeds_once() {
    let nodes = cluster();
    nodes[0].identity_fixture("acme", "main");
    let alice = nodes[0].add_user("acme", "main", "alice");
    crate::seeds::register(&nodes[0], &alice, "Aa1!aaaa");
    for round in 0..3 {
        let admin = nodes[round % 3].admin("acme");
        let start: idflow_identity::wire::PasscodeSessionStart = nodes[round % 3]
            .post(
                &format!(
                    "/api/identity-store/tenants/acme/stores/main/users/{alice}/passcodes/authentications/pp"
                ),
                Some(&admin),
                &json!({}),
            )
            .parse();
        let proof =
            idflow_identity::client::authenticate(&start, "Aa1!aaaa", &mut rand::rngs::OsRng)
                .expect("proof");
        let body = serde_json::to_value(proof.request()).expect("json");
        let statuses = send_at_once(
            nodes[1..]
                .iter()
                .map(|node| {
                    node.client
                        .post(node.url(&format!(
                            "/api/identity-store/tenants/acme/stores/main/passcodes/authentications/sessions/{}",
                            start.session_id
                        )))
                        .bearer_auth(node.admin("acme"))
                        .json(&body)
                })
                .collect(),
        );
        assert_eq!(
            statuses.iter().filter(|(s, _)| *s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
    }
}
