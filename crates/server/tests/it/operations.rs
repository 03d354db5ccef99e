//! The backoffice's operations over HTTP: an instance's path on its diagram, cancelling,
//! replaying against another version or a draft, a token's QR code, listing by start time, the
//! live numbers (JSON and `/metrics`, read back with a Prometheus parser) and the user view's
//! registrations without a secret.

use std::collections::BTreeMap;
use std::time::Duration;

use idflow_server::auth::{permission_string, Claims};
use serde_json::{json, Value};

use crate::common::{assert_documented_shape, store_of, TestServer};
use crate::flows::{answer, note_form, start};

const PM: &str = "/api/process-manager";
const TENANT: &str = "acme";

/// start → first (a step) → gateway: `left` answered at `first` goes to `second` (a step) and
/// ends at `end`; anything else takes the default flow to `other-end`.
const BRANCHY_BPMN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  xmlns:idflow="https://idflow.dev/schema/bpmn/1.0"
                  id="branchy-definitions" targetNamespace="https://idflow.dev/tests">
  <bpmn:process id="branchy" name="Branchy" isExecutable="true">
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
    <bpmn:exclusiveGateway id="gw" default="fRight">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>fLeft</bpmn:outgoing><bpmn:outgoing>fRight</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="second" name="Second">
      <bpmn:extensionElements>
        <idflow:activity type="customDataForm">
          <idflow:param name="Data form name">note</idflow:param>
          <idflow:param name="Form data Key">secondNote</idflow:param>
          <idflow:param name="UI Component ID">second-note</idflow:param>
        </idflow:activity>
      </bpmn:extensionElements>
      <bpmn:incoming>fLeft</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="other-end" name="Other"><bpmn:incoming>fRight</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="gw" />
    <bpmn:sequenceFlow id="fLeft" sourceRef="gw" targetRef="second">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">&lt;&lt;processvar.firstNote.note&gt;&gt; == "left"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="fRight" sourceRef="gw" targetRef="other-end" />
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"#;

fn deploy(srv: &TestServer, bpmn: &str) -> Value {
    srv.send(
        srv.request(
            reqwest::Method::POST,
            &format!("{PM}/tenants/{TENANT}/process-definitions"),
        )
        .bearer_auth(srv.admin(TENANT))
        .header("Content-Type", "application/xml")
        .body(bpmn.to_string()),
    )
    .expect(201)
}

/// Deploys the branchy definition and its form, creates a token pinned to version 1; returns
/// the token's body.
fn branchy(srv: &TestServer) -> Value {
    assert_eq!(deploy(srv, BRANCHY_BPMN)["version"], 1);
    let admin = srv.admin(TENANT);
    srv.post(
        &format!("{PM}/tenants/{TENANT}/custom-forms"),
        Some(&admin),
        &note_form(),
    )
    .expect(201);
    srv.post(
        &format!("{PM}/tenants/{TENANT}/process-tokens"),
        Some(&admin),
        &json!({"name": "branchy", "processDefnName": "branchy", "processDefnVersion": 1}),
    )
    .expect(201)
}

fn instance_path(_srv: &TestServer, id: &str, tail: &str) -> String {
    format!("{PM}/tenants/{TENANT}/process-instances/{id}{tail}")
}

fn path_of(srv: &TestServer, id: &str) -> Value {
    let body = srv
        .get(
            &instance_path(srv, id, "/path"),
            Some(&srv.token(TENANT, "getProcessInstance")),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::InstancePathBody>(&body);
    body
}

fn id_of(instance: &Value) -> String {
    instance["instanceId"]
        .as_str()
        .expect("instance id")
        .to_string()
}

#[test]
fn the_path_shows_nodes_flows_and_where_an_instance_rests_or_ended() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let token_id = token["id"].as_str().expect("id");

    let left = start(&srv, token_id);
    let id = id_of(&left);
    assert_eq!(
        path_of(&srv, &id),
        json!({
            "definition": {"name": "branchy", "version": 1},
            "status": "ACTIVE",
            "nodes": [{"elementId": "start", "entered": 1}, {"elementId": "first", "entered": 1}],
            "flows": ["f1"],
            "boundaries": [],
            "restingAt": "first",
            "endedAt": null
        })
    );
    let at_second = answer(&srv, &left, &json!({"note": "left"})).expect(200);
    let path = path_of(&srv, &id);
    assert_eq!(path["flows"], json!(["f1", "f2", "fLeft"]));
    assert_eq!(path["restingAt"], "second");
    answer(&srv, &at_second, &json!({"note": "done"})).expect(200);
    let path = path_of(&srv, &id);
    assert_eq!(
        path["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["elementId"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["start", "first", "gw", "second", "end"]
    );
    assert_eq!(path["flows"], json!(["f1", "f2", "fLeft", "f3"]));
    assert_eq!(path["status"], "COMPLETED_ENDED_SUCCESS");
    assert_eq!(path["restingAt"], Value::Null);
    assert_eq!(path["endedAt"], "end");

    // The default flow.
    let right = start(&srv, token_id);
    answer(&srv, &right, &json!({"note": "right"})).expect(200);
    let path = path_of(&srv, &id_of(&right));
    assert_eq!(path["flows"], json!(["f1", "f2", "fRight"]));
    assert_eq!(path["endedAt"], "other-end");

    // Unknown instances, and another tenant's, are not found.
    srv.get(
        &instance_path(&srv, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "/path"),
        Some(&srv.admin(TENANT)),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    srv.get(
        &format!("{PM}/tenants/evil/process-instances/{id}/path"),
        Some(&srv.admin("evil")),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
}

#[test]
fn cancelling_ends_the_instance_terminated_and_records_who_did_it() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let started = start(&srv, token["id"].as_str().expect("id"));
    let id = id_of(&started);
    let canceller = srv
        .key
        .mint(&Claims::new(
            "operator-olga",
            vec![permission_string(TENANT, "cancelProcessInstance")],
            Duration::from_secs(600),
        ))
        .expect("mint");

    let cancelled = srv
        .post(
            &instance_path(&srv, &id, "/cancel"),
            Some(&canceller),
            &json!({}),
        )
        .expect(200);
    assert_eq!(cancelled["status"], "COMPLETED_TERMINATED");
    assert_eq!(cancelled["currentStep"], Value::Null);

    // Stored: the read, the history with the canceller, the path.
    let admin = srv.admin(TENANT);
    let read = srv
        .get(&instance_path(&srv, &id, ""), Some(&admin))
        .expect(200);
    assert_eq!(read["status"], "COMPLETED_TERMINATED");
    let history = srv
        .get(&instance_path(&srv, &id, "/history"), Some(&admin))
        .expect(200);
    let events = history["events"].as_array().expect("events");
    let cancel = events
        .iter()
        .find(|e| e["k"] == "cancelled")
        .expect("a cancelled event");
    assert_eq!(cancel["why"], "cancelled by operator-olga");
    assert_eq!(events.last().map(|e| e["k"].clone()), Some(json!("ended")));
    let path = path_of(&srv, &id);
    assert_eq!(path["status"], "COMPLETED_TERMINATED");
    assert_eq!(path["endedAt"], Value::Null);
    assert_eq!(path["restingAt"], Value::Null);

    // Not active any more: 409, and nothing is written.
    srv.post(
        &instance_path(&srv, &id, "/cancel"),
        Some(&admin),
        &json!({}),
    )
    .expect_error(409, "INSTANCE_NOT_ACTIVE");
    let again = srv
        .get(&instance_path(&srv, &id, "/history"), Some(&admin))
        .expect(200);
    assert_eq!(again["events"].as_array().map(Vec::len), Some(events.len()));
    // The end user's step is gone.
    answer(&srv, &started, &json!({"note": "late"})).expect_error(409, "INSTANCE_NOT_ACTIVE");

    srv.post(
        &instance_path(&srv, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "/cancel"),
        Some(&admin),
        &json!({}),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    // Another tenant cannot cancel it: not found, and it stays as it was.
    let other = start(&srv, token["id"].as_str().expect("id"));
    srv.post(
        &format!(
            "{PM}/tenants/evil/process-instances/{}/cancel",
            id_of(&other)
        ),
        Some(&srv.admin("evil")),
        &json!({}),
    )
    .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
    let other_read = srv
        .get(&instance_path(&srv, &id_of(&other), ""), Some(&admin))
        .expect(200);
    assert_eq!(other_read["status"], "ACTIVE");
}

fn replay(srv: &TestServer, id: &str, body: &Value) -> crate::common::Answer {
    srv.post(
        &instance_path(srv, id, "/replay"),
        Some(&srv.token(TENANT, "replayProcessInstance")),
        body,
    )
}

#[test]
fn replay_against_a_version_or_a_draft_says_same_path_or_where_it_diverged() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let started = start(&srv, token["id"].as_str().expect("id"));
    let id = id_of(&started);
    let at_second = answer(&srv, &started, &json!({"note": "left"})).expect(200);
    answer(&srv, &at_second, &json!({"note": "done"})).expect(200);
    let recorded_path = path_of(&srv, &id);

    // The recorded version: the same path.
    let same = replay(&srv, &id, &json!({"version": 1})).expect(200);
    assert_documented_shape::<idflow_server::ReplayResultBody>(&same);
    assert_eq!(same["outcome"], "SAME_PATH");
    assert_eq!(same["divergence"], Value::Null);
    assert_eq!(same["path"], recorded_path);

    // A version whose gateway sends `left` the other way.
    let flipped = BRANCHY_BPMN.replace("== \"left\"", "== \"never\"");
    assert_eq!(deploy(&srv, &flipped)["version"], 2);
    let diverged = replay(&srv, &id, &json!({"version": 2})).expect(200);
    assert_documented_shape::<idflow_server::ReplayResultBody>(&diverged);
    assert_eq!(diverged["outcome"], "DIVERGED");
    assert_eq!(diverged["definition"]["version"], 2);
    let divergence = &diverged["divergence"];
    assert_eq!(divergence["expected"], "second");
    assert_eq!(divergence["actual"], "other-end");
    assert_eq!(divergence["elementId"], "second");
    assert!(divergence["eventIndex"].as_u64().is_some());
    assert!(!divergence["message"].as_str().unwrap_or("").is_empty());
    // The replayed run's own path, on version 2.
    assert_eq!(diverged["path"]["flows"], json!(["f1", "f2", "fRight"]));
    assert_eq!(diverged["path"]["endedAt"], "other-end");
    assert_eq!(diverged["path"]["definition"]["version"], 2);

    // A draft: a relabelled copy takes the same path; nothing is deployed.
    let relabelled = BRANCHY_BPMN.replace("name=\"Done\"", "name=\"Finished\"");
    let draft = replay(&srv, &id, &json!({"bpmn": relabelled})).expect(200);
    assert_eq!(draft["outcome"], "SAME_PATH");
    assert_eq!(draft["definition"]["version"], Value::Null);
    assert_eq!(draft["path"]["endedAt"], "end");
    let draft = replay(&srv, &id, &json!({"bpmn": flipped})).expect(200);
    assert_eq!(draft["outcome"], "DIVERGED");
    let versions = srv
        .get(
            &format!("{PM}/tenants/{TENANT}/process-definitions/branchy"),
            Some(&srv.admin(TENANT)),
        )
        .expect(200);
    assert_eq!(versions["latestVersion"], 2);

    // Drafts that do not validate, other processes, bad bodies, unknown versions.
    let broken = BRANCHY_BPMN.replace("targetRef=\"second\"", "targetRef=\"nowhere\"");
    let invalid =
        replay(&srv, &id, &json!({"bpmn": broken})).expect_error(400, "INVALID_DEFINITION");
    let diagnostics = invalid["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diagnostics.iter().any(|d| d["elementId"] == "fLeft"),
        "{invalid}"
    );
    let other = BRANCHY_BPMN.replace("process id=\"branchy\"", "process id=\"other\"");
    replay(&srv, &id, &json!({"bpmn": other})).expect_error(400, "REPLAY_OTHER_PROCESS");
    replay(&srv, &id, &json!({})).expect_error(400, "INVALID_BODY");
    replay(&srv, &id, &json!({"version": 1, "bpmn": BRANCHY_BPMN}))
        .expect_error(400, "INVALID_BODY");
    replay(&srv, &id, &json!({"version": 9})).expect_error(404, "PROCESS_DEFINITION_NOT_FOUND");
    replay(&srv, "AAAAAAAAAAAAAAAAAAAAAAAAAA", &json!({"version": 1}))
        .expect_error(404, "PROCESS_INSTANCE_NOT_FOUND");
}

#[test]
fn a_token_link_comes_as_a_qr_code_drawn_by_the_server() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let link = token["uiUrl"].as_str().expect("uiUrl").to_string();
    assert!(link.ends_with(&format!(
        "/flow/#token={}",
        token["id"].as_str().unwrap_or("")
    )));
    let answer = srv.send(
        srv.request(
            reqwest::Method::GET,
            &format!("{PM}/tenants/{TENANT}/process-tokens/branchy/qr"),
        )
        .bearer_auth(srv.token(TENANT, "getProcessToken")),
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type, "image/svg+xml");
    assert_eq!(
        Some(answer.text),
        idflow_identity::qr::svg(&link, 256).ok(),
        "the QR code of exactly the token's link"
    );
    srv.get(
        &format!("{PM}/tenants/{TENANT}/process-tokens/nope/qr"),
        Some(&srv.admin(TENANT)),
    )
    .expect_error(404, "PROCESS_TOKEN_NOT_FOUND");
}

#[test]
fn instances_are_listed_by_start_time() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let token_id = token["id"].as_str().expect("id");
    let first = id_of(&start(&srv, token_id));
    // Two starts a few milliseconds apart (the listing's times are in milliseconds).
    std::thread::sleep(Duration::from_millis(5));
    let second = id_of(&start(&srv, token_id));
    let admin = srv.token(TENANT, "listProcessInstances");
    let list = |query: &str| -> Vec<String> {
        let page = srv
            .get(
                &format!("{PM}/tenants/{TENANT}/process-instances?{query}"),
                Some(&admin),
            )
            .expect(200);
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let all = list("");
    assert_eq!(all, [first.clone(), second.clone()]);
    let read = srv
        .get(&instance_path(&srv, &second, ""), Some(&srv.admin(TENANT)))
        .expect(200);
    let second_started = read["startedAt"].as_str().expect("startedAt").to_string();
    let encoded = second_started.replace('+', "%2B");
    assert_eq!(list(&format!("startedAfter={encoded}")), vec![second]);
    assert_eq!(
        list(&format!("startedBefore={encoded}")),
        vec![first.clone()]
    );
    assert_eq!(
        list("startedAfter=2000-01-01T00:00:00Z&startedBefore=2999-01-01T00:00:00Z"),
        all
    );
    assert!(list("startedAfter=2999-01-01T00:00:00Z").is_empty());
    assert!(list("startedBefore=2000-01-01T00:00:00Z").is_empty());
    // With the other filters and paging.
    assert_eq!(
        list("startedAfter=2000-01-01T00:00:00Z&status=ACTIVE&definition=branchy&limit=1"),
        vec![first]
    );
    srv.get(
        &format!("{PM}/tenants/{TENANT}/process-instances?startedAfter=yesterday"),
        Some(&admin),
    )
    .expect_error(400, "INVALID_PARAMETER");
}

/// The statistics of `branchy` version 1.
fn branchy_numbers(srv: &TestServer) -> Value {
    let body = srv
        .get(
            &format!("{PM}/tenants/{TENANT}/process-statistics"),
            Some(&srv.token(TENANT, "getProcessStatistics")),
        )
        .expect(200);
    assert_documented_shape::<idflow_server::ProcessStatisticsBody>(&body);
    let definitions = body["definitions"].as_array().expect("definitions");
    assert_eq!(definitions.len(), 1, "{body}");
    definitions[0].clone()
}

/// `name{k=v,...}` with the labels in name order, as [`scrape`] keys its samples.
fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let labels = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    format!("{name}{{{labels}}}")
}

/// How many requests the latency histogram counted for `route` answered 200 to a GET, read
/// from the exposition's `_count` line (the parser keeps one label set per histogram).
fn requests_counted(text: &str, route: &str) -> Option<f64> {
    let prefix = format!(
        "idflow_http_request_duration_seconds_count{{method=\"GET\",route=\"{route}\",status=\"200\"}} "
    );
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
}

/// Every sample of `/metrics` as `name{labels}` → value, and the exposition's text.
fn scrape(srv: &TestServer, token: &str) -> (BTreeMap<String, f64>, String) {
    let answer = srv.send(
        srv.request(reqwest::Method::GET, "/metrics")
            .bearer_auth(token),
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer
        .content_type
        .starts_with("application/openmetrics-text"));
    let lines = answer.text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("the exposition parses");
    let mut out = BTreeMap::new();
    for sample in parsed.samples {
        let labels: BTreeMap<String, String> = sample
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let labels = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => f64::NAN,
        };
        out.insert(format!("{}{{{labels}}}", sample.metric), value);
    }
    (out, answer.text)
}

#[test]
fn live_numbers_count_every_change_durably_and_metrics_show_them() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let token_id = token["id"].as_str().expect("id").to_string();
    let admin = srv.admin(TENANT);

    let done = start(&srv, &token_id);
    answer(&srv, &done, &json!({"note": "right"})).expect(200);
    let cancelled = start(&srv, &token_id);
    srv.post(
        &instance_path(&srv, &id_of(&cancelled), "/cancel"),
        Some(&admin),
        &json!({}),
    )
    .expect(200);
    let at_second = start(&srv, &token_id);
    answer(&srv, &at_second, &json!({"note": "left"})).expect(200);
    start(&srv, &token_id);

    let expected = json!({
        "name": "branchy", "version": 1, "started": 4, "active": 2,
        "completed": {"COMPLETED_ENDED_SUCCESS": 1, "COMPLETED_ENDED_ERROR": 0,
                      "COMPLETED_TERMINATED": 1, "COMPLETED_PROCESS_ERROR": 0},
        "resting": [{"elementId": "first", "count": 1}, {"elementId": "second", "count": 1}]
    });
    assert_eq!(branchy_numbers(&srv), expected);

    // Prometheus reads the same numbers, for a token granting readMetrics in the tenant.
    let reader = srv.token(TENANT, "readMetrics");
    let def = [
        ("tenant", TENANT),
        ("definition", "branchy"),
        ("version", "1"),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut labels = def.to_vec();
        labels.push(extra);
        labels
    };
    let started = series("idflow_process_instances_started_total", &def);
    let (metrics, text) = scrape(&srv, &reader);
    assert_eq!(metrics.get(&started), Some(&4.0), "{metrics:#?}");
    assert_eq!(
        metrics.get(&series("idflow_process_instances_active", &def)),
        Some(&2.0)
    );
    for (status, n) in [
        ("COMPLETED_ENDED_SUCCESS", 1.0),
        ("COMPLETED_TERMINATED", 1.0),
        ("COMPLETED_ENDED_ERROR", 0.0),
    ] {
        let ended = series(
            "idflow_process_instances_ended_total",
            &with(("status", status)),
        );
        assert_eq!(metrics.get(&ended), Some(&n), "{ended}");
    }
    for step in ["first", "second"] {
        let resting = series("idflow_process_instances_resting", &with(("element", step)));
        assert_eq!(metrics.get(&resting), Some(&1.0), "{resting}");
    }
    // Request latencies by route template (never the path with its IDs).
    let statistics_route = "/api/process-manager/tenants/{tenantId}/process-statistics";
    let before = requests_counted(&text, statistics_route);
    assert!(before.is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains(&id_of(&done)));

    // The counters move: another start, another read.
    start(&srv, &token_id);
    branchy_numbers(&srv);
    let (metrics, text) = scrape(&srv, &reader);
    assert_eq!(metrics.get(&started), Some(&5.0));
    assert!(requests_counted(&text, statistics_route) > before);

    // Only the tenants the token grants readMetrics in.
    let (elsewhere, _) = scrape(&srv, &srv.token("other", "readMetrics"));
    assert!(
        !elsewhere.keys().any(|k| k.contains("tenant=acme")),
        "{elsewhere:?}"
    );
    let denied = srv.get("/metrics", Some(&srv.token(TENANT, "getProcessStatistics")));
    assert_eq!(denied.status, 403, "{}", denied.text);
    assert!(denied.text.contains("readMetrics"));
    srv.get("/metrics", None).expect_error(401, "UNAUTHORIZED");

    // Durable: the same numbers after a restart.
    let before_restart = branchy_numbers(&srv);
    let dir = srv.stop();
    let srv = TestServer::start_in(dir, |_| {});
    assert_eq!(branchy_numbers(&srv), before_restart);
}

#[test]
fn a_store_without_counters_is_counted_from_its_instances_once() {
    let srv = TestServer::start_empty();
    let token = branchy(&srv);
    let token_id = token["id"].as_str().expect("id").to_string();
    let done = start(&srv, &token_id);
    answer(&srv, &done, &json!({"note": "right"})).expect(200);
    start(&srv, &token_id);
    let counted = branchy_numbers(&srv);
    assert_eq!(counted["started"], 2);

    // As a data directory written before the counters existed: no counters, no marker.
    let dir = srv.stop();
    {
        let store = store_of(&dir.path().join("data"));
        let counters: Vec<Vec<u8>> = store
            .scan_prefix(&idflow_store::prefix(&["st"]))
            .map(|row| row.map(|(key, _)| key))
            .collect::<Result<_, _>>()
            .expect("scan");
        assert!(!counters.is_empty());
        store
            .commit(|tx| {
                for key in &counters {
                    tx.remove(key)?;
                }
                tx.remove(&idflow_store::key(&["meta", "statistics"]))?;
                Ok::<_, idflow_store::StoreError>(())
            })
            .expect("forget the counters");
    }
    let srv = TestServer::start_in(dir, |_| {});
    assert_eq!(branchy_numbers(&srv), counted);
    // And counted on from there, once.
    start(&srv, &token_id);
    let dir = srv.stop();
    let srv = TestServer::start_in(dir, |_| {});
    assert_eq!(branchy_numbers(&srv)["started"], 3);
}

/// Every string of `value` at least `min` characters long.
fn long_strings(value: &Value, min: usize, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.chars().count() >= min => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| long_strings(v, min, out)),
        Value::Object(map) => map.values().for_each(|v| long_strings(v, min, out)),
        _ => {}
    }
}

#[test]
fn a_user_view_lists_registrations_without_any_secret() {
    use idflow_identity::{client, wire};
    let srv = TestServer::start_empty();
    srv.identity_fixture(TENANT, "main");
    let alice = srv.add_user(TENANT, "main", "alice");
    let store = format!("/api/identity-store/tenants/{TENANT}/stores/main");
    let admin = srv.admin(TENANT);

    // A passcode: what the client sent (salt, verifier) must never come back.
    let start_answer = srv
        .post(
            &format!("{store}/users/{alice}/passcodes/registrations/pp"),
            Some(&admin),
            &json!({}),
        )
        .expect(201);
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(start_answer).expect("session");
    let request = client::register(&session, "Aa1!aaaa").expect("request");
    let sent = serde_json::to_value(&request).expect("json");
    srv.post(
        &format!(
            "{store}/passcodes/registrations/sessions/{}",
            session.session_id
        ),
        Some(&admin),
        &sent,
    )
    .expect(200);
    // A TOTP: its seed must never come back either.
    let totp = srv
        .post(
            &format!("{store}/users/{alice}/totps/registrations/tp"),
            Some(&admin),
            &json!({}),
        )
        .expect(201);
    let totp: wire::TotpRegistrationStart = serde_json::from_value(totp).expect("totp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let code = client::totp_code_for_registration(&totp, now).expect("code");
    srv.post(
        &format!("{store}/totps/registrations/sessions/{}", totp.session_id),
        Some(&admin),
        &json!({ "code": code }),
    )
    .expect(200);

    let mut secrets = Vec::new();
    long_strings(&sent, 16, &mut secrets);
    secrets.push(totp.secret.clone());
    assert!(secrets.len() >= 2, "{sent}");
    for path in [
        format!("{store}/users/{alice}"),
        format!("{store}/users/alice/ext"),
        format!("{store}/users"),
    ] {
        let read = srv.get(&path, Some(&admin));
        let text = read.text.clone();
        let body = read.expect(200);
        let user = if body["users"].is_array() {
            body["users"][0].clone()
        } else {
            body["user"].clone()
        };
        assert_eq!(user["externalId"], "alice");
        assert_eq!(user["status"], "ACTIVE");
        assert_eq!(user["lockCount"], 0);
        assert_eq!(user["registeredPasscodes"][0]["policyName"], "pp");
        assert_eq!(user["totpRegistrations"][0]["policyName"], "tp");
        for word in ["verifier", "salt", "seed", "secret"] {
            assert!(
                !text.to_lowercase().contains(word),
                "{path} shows {word}: {text}"
            );
        }
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{path} shows a secret: {text}"
            );
        }
    }

    // Deregistering both: the view says so.
    for kind in ["passcodes", "totps"] {
        let policy = if kind == "passcodes" { "pp" } else { "tp" };
        srv.post(
            &format!("{store}/users/{alice}/{kind}/deregistrations/{policy}"),
            Some(&admin),
            &json!({}),
        )
        .expect(200);
    }
    let user = srv
        .get(&format!("{store}/users/{alice}"), Some(&admin))
        .expect(200);
    assert_eq!(user["user"]["registeredPasscodes"], json!([]));
    assert_eq!(user["user"]["totpRegistrations"], json!([]));
}

#[test]
fn the_path_shows_a_boundary_that_fired_and_the_error_end_it_led_to() {
    // The shipped current-totp flow for a user that does not exist: Get User is refused with
    // USER_NOT_FOUND, its error boundary fires and leads to the error end.
    let srv = TestServer::start();
    let demo = srv.admin("demo");
    let token = srv
        .get(
            &format!("{PM}/tenants/demo/process-tokens/demo-current-totp"),
            Some(&demo),
        )
        .expect(200);
    let started = start(&srv, token["id"].as_str().expect("id"));
    let id = id_of(&started);
    let path = srv
        .get(
            &format!("{PM}/tenants/demo/process-instances/{id}/path"),
            Some(&demo),
        )
        .expect(200);
    assert_eq!(path["status"], "COMPLETED_ENDED_ERROR", "{path}");
    assert_eq!(path["boundaries"], json!(["userNotFound"]));
    assert_eq!(path["flows"], json!(["toGetUser", "toUserNotFound"]));
    assert_eq!(path["endedAt"], "endUserNotFound");
    assert_eq!(
        path["nodes"],
        json!([
            {"elementId": "start", "entered": 1},
            {"elementId": "getUser", "entered": 1},
            {"elementId": "endUserNotFound", "entered": 1}
        ])
    );
}
