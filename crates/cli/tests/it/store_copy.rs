//! `idflow store copy`: a data directory moved into PostgreSQL serves as it did: the same tokens,
//! instances and histories, and the same keys (a token minted from the data directory's key is
//! accepted; the copy's markers are the original's); users registered before the move sign in
//! after it, flows started before it go on, and every history replays from the copy.

use std::process::Command;
use std::time::Duration;

use idflow_identity::{client, wire};
use idflow_server::{open_data_dir, Claims, Config};
use serde_json::{json, Value};

use crate::common::{node, BIN};

fn config(data: &std::path::Path, store: Option<String>) -> Config {
    let mut config = Config::new("127.0.0.1:0".parse().expect("address"), data);
    config.store = store;
    config
}

#[test]
fn a_copied_data_directory_serves_from_postgres_as_it_did() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (tokens, instance, history, minted) = {
        let opened = open_data_dir(&config(&data, None)).expect("opens and seeds the demo");
        let runtime = opened.state.runtime();
        let tokens = runtime.list_tokens("demo").expect("tokens");
        assert!(!tokens.is_empty(), "the demo seeds tokens");
        let started = runtime.start(&tokens[0].id).expect("starts");
        let history = runtime.export_history(&started.id).expect("history");
        let minted = opened
            .state
            .signing_key()
            .mint(&Claims::new(
                "copy test",
                vec!["TNT#demo#*".into()],
                Duration::from_secs(600),
            ))
            .expect("mint");
        (tokens, started.id, history, minted)
    };
    let url = idflow_pgtest::database();
    let out = Command::new(BIN)
        .args(["store", "copy", "--from"])
        .arg(&data)
        .args(["--to", &url])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("and 2 keys"), "{stdout}");
    assert!(stdout.contains("checked: identical"), "{stdout}");

    let copied = open_data_dir(&config(&dir.path().join("unused"), Some(url.clone())))
        .expect("opens the copy");
    let runtime = copied.state.runtime();
    let copied_tokens = runtime.list_tokens("demo").expect("tokens");
    assert_eq!(
        copied_tokens.iter().map(|t| &t.id).collect::<Vec<_>>(),
        tokens.iter().map(|t| &t.id).collect::<Vec<_>>()
    );
    assert_eq!(
        serde_json::to_value(runtime.export_history(&instance).expect("history")).expect("json"),
        serde_json::to_value(&history).expect("json")
    );
    let claims = copied
        .state
        .signing_key()
        .verify(&minted)
        .expect("the original key");
    assert_eq!(claims.sub, "copy test");
    // The copy runs: a new instance starts on the copied token.
    runtime
        .start(&copied_tokens[0].id)
        .expect("starts on the copy");

    // A second copy into the same database is refused, naming why.
    let again = Command::new(BIN)
        .args(["store", "copy", "--from"])
        .arg(&data)
        .args(["--to", &url])
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds idflow data"), "{stderr}");
}

const PM: &str = "/api/process-manager";
const PASSCODE: &str = "Tr0ub4dor&3";

/// A blocking HTTP client for one `idflow serve` child, signed in with the demo admin token.
struct Http {
    client: reqwest::blocking::Client,
    base: String,
    admin: String,
}

impl Http {
    fn send(&self, request: reqwest::blocking::RequestBuilder) -> (u16, Value) {
        let response = request.send().expect("answered");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// Starts an instance on the demo token named `name`.
    fn start(&self, name: &str) -> Value {
        let (status, token) = self.send(
            self.client
                .get(format!(
                    "{}{PM}/tenants/demo/process-tokens/{name}",
                    self.base
                ))
                .bearer_auth(&self.admin),
        );
        assert_eq!(status, 200, "{token}");
        let (status, started) = self.send(
            self.client
                .post(format!("{}{PM}/process-instances", self.base))
                .json(&json!({ "processToken": token["id"] })),
        );
        assert_eq!(status, 201, "{started}");
        started
    }

    /// Answers the step `instance` rests at; the instance as it is afterwards.
    fn answer(&self, instance: &Value, data: &Value) -> Value {
        let id = instance["instanceId"].as_str().expect("instance id");
        let step = instance["currentStep"]["stepId"].as_str().expect("step id");
        let (status, done) = self.send(
            self.client
                .post(format!(
                    "{}{PM}/process-instances/{id}/steps/{step}",
                    self.base
                ))
                .json(data),
        );
        assert_eq!(status, 200, "{done}");
        done
    }

    /// Answers an authentication step with the SRP client's proof for `passcode`.
    fn authenticate(&self, instance: &Value) -> Value {
        let start: wire::PasscodeSessionStart =
            serde_json::from_value(instance["currentStep"]["data"].clone())
                .expect("the step carries the SRP start");
        let proof = client::authenticate(&start, PASSCODE, &mut rand::rngs::OsRng).expect("proof");
        self.answer(instance, &json!({ "browserResponse": proof.request() }))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

fn run(args: &[&str], paths: &[&std::path::Path]) -> (bool, String) {
    let mut command = Command::new(BIN);
    command.args(args).args(paths);
    let out = command.output().expect("runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn users_flows_and_histories_written_on_sled_carry_on_after_the_copy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let http = |base: String, admin: String| Http {
        client: reqwest::blocking::Client::new(),
        base,
        admin,
    };

    // On sled, through the demo's tokens as a browser would: a passcode and a TOTP registered,
    // one authentication left waiting at its step (its timer armed).
    let (mut sled, admin) = node(None, &data, true);
    let admin = admin.expect("the demo's admin token");
    let on_sled = http(sled.base.clone(), admin.clone());
    let registration = on_sled.start("demo-passcode-registration");
    let session: wire::PasscodeSessionStart =
        serde_json::from_value(registration["currentStep"]["data"].clone()).expect("SRP start");
    let request = client::register(&session, PASSCODE).expect("registration request");
    let registered = on_sled.answer(&registration, &json!({ "browserResponse": request }));
    assert_eq!(
        registered["status"], "COMPLETED_ENDED_SUCCESS",
        "{registered}"
    );
    let totp = on_sled.start("demo-totp-registration");
    let secret = totp["currentStep"]["data"]["secret"]
        .as_str()
        .expect("the step shows the secret")
        .to_string();
    let code = client::totp_code(&secret, "SHA1", 6, 30, now_ms()).expect("code");
    let totp_done = on_sled.answer(&totp, &json!({ "browserResponse": { "code": code } }));
    assert_eq!(
        totp_done["status"], "COMPLETED_ENDED_SUCCESS",
        "{totp_done}"
    );
    let waiting = on_sled.start("demo-passcode-authentication");
    assert_eq!(waiting["status"], "ACTIVE");
    sled.child.kill().expect("stops");
    let _ = sled.child.wait();

    let url = idflow_pgtest::database();
    let (copied, said) = run(&["store", "copy", "--to", &url, "--from"], &[&data]);
    assert!(copied, "{said}");
    assert!(said.contains("checked: identical"), "{said}");

    // On PostgreSQL: the waiting authentication and a new one both succeed against the
    // verifier registered on sled, and the current-TOTP flow shows the secret registered there.
    let other = dir.path().join("other");
    let (mut pg, _) = node(Some(&url), &other, false);
    let on_pg = http(pg.base.clone(), admin);
    let resumed = on_pg.authenticate(&waiting);
    assert_eq!(resumed["status"], "COMPLETED_ENDED_SUCCESS", "{resumed}");
    assert_eq!(resumed["outcome"], "Authenticated");
    let fresh = on_pg.start("demo-passcode-authentication");
    let fresh = on_pg.authenticate(&fresh);
    assert_eq!(fresh["status"], "COMPLETED_ENDED_SUCCESS", "{fresh}");
    let current = on_pg.start("demo-current-totp");
    let form = current["currentStep"]["form"].to_string();
    assert!(
        form.contains(&secret),
        "the copied TOTP secret is shown: {form}"
    );
    pg.child.kill().expect("stops");
    let _ = pg.child.wait();

    // Every history, read back from PostgreSQL, replays against the definition it ran.
    let histories = dir.path().join("histories");
    let (exported, said) = run(
        &[
            "history", "export", "--store", &url, "--tenant", "demo", "--out",
        ],
        &[&histories],
    );
    assert!(exported, "{said}");
    let files = std::fs::read_dir(&histories).expect("exported").count();
    assert_eq!(files, 5, "three started on sled, two on PostgreSQL: {said}");
    let (replayed, said) = run(&["replay"], &[&histories]);
    assert!(replayed, "{said}");
}
