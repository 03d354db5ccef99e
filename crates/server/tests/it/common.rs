//! The harness: a real server on a loopback port picked at run time, on a fresh data directory,
//! driven over HTTP with a blocking client; tokens minted from the server's own signing key.

use std::net::SocketAddr;
use std::time::Duration;

use idflow_server::auth::{permission_string, Claims, SigningKey};
use idflow_server::{Config, Server};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub key: SigningKey,
    pub client: Client,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<Result<(), idflow_server::ServerError>>>,
    /// The store the server writes (for tests that look below the API).
    pub store: idflow_store::Store,
    dir: Option<tempfile::TempDir>,
}

/// The store of a stopped server's data directory `data` (on the PostgreSQL run, the database
/// standing in for it).
pub fn store_of(data: &std::path::Path) -> idflow_store::Store {
    let location = match idflow_pgtest::database_for(data) {
        Some(url) => idflow_store::StoreLocation::Postgres(url),
        None => idflow_store::StoreLocation::Dir(idflow_server::store_dir(data)),
    };
    idflow_store::Store::open_at(&location).expect("opens the store")
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self.body
    }

    /// Asserts an error answer: the status, the `code`, and the JSON error shape.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        assert_eq!(
            (self.status, self.body["code"].as_str().unwrap_or("<none>")),
            (status, code),
            "unexpected answer; body: {}",
            self.text
        );
        assert_error_shape(&self);
        self.body
    }

    /// Parses the body into `T`.
    #[track_caller]
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("body does not parse: {e}; body: {}", self.text))
    }
}

/// Every error answer: JSON `{"code", "message", "status"}` with `status` equal to the HTTP status.
#[track_caller]
pub fn assert_error_shape(answer: &Answer) {
    assert!(
        answer.content_type.starts_with("application/json"),
        "error without a JSON content type: {} {}",
        answer.content_type,
        answer.text
    );
    let code = answer.body["code"].as_str().unwrap_or("");
    let message = answer.body["message"].as_str().unwrap_or("");
    assert!(
        !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()),
        "error code is not a stable UPPER_SNAKE code: {}",
        answer.text
    );
    assert!(
        !message.is_empty(),
        "error without a message: {}",
        answer.text
    );
    assert_eq!(
        answer.body["status"].as_u64(),
        Some(u64::from(answer.status)),
        "error body status differs from the HTTP status: {}",
        answer.text
    );
}

/// Parses `value` into the documented schema type `T` (which refuses unknown fields) and checks
/// that it serializes back to the same JSON: the answer has exactly the documented shape.
#[track_caller]
pub fn assert_documented_shape<T: DeserializeOwned + Serialize>(value: &Value) -> T {
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("answer does not match its documented schema: {e}; {value}"));
    let back = serde_json::to_value(&parsed).unwrap_or(Value::Null);
    assert_eq!(
        &back, value,
        "answer has fields its schema does not document"
    );
    parsed
}

impl TestServer {
    /// A server on a new data directory with the demo tenant seeded.
    pub fn start() -> TestServer {
        TestServer::start_with(true, idflow_server::DEFAULT_BODY_LIMIT)
    }

    /// A server on a new data directory without the demo tenant.
    pub fn start_empty() -> TestServer {
        TestServer::start_with(false, idflow_server::DEFAULT_BODY_LIMIT)
    }

    pub fn start_with(seed_demo: bool, body_limit: usize) -> TestServer {
        TestServer::start_configured(|config| {
            config.seed_demo = seed_demo;
            config.body_limit = body_limit;
        })
    }

    /// A server on a new data directory, its [`Config`] adjusted by `configure` (the demo tenant
    /// is seeded unless `configure` says otherwise).
    pub fn start_configured(configure: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_in(tempfile::tempdir().expect("temp dir"), configure)
    }

    /// A server on the data directory `data` under `dir` (new or left by an earlier server).
    pub fn start_in(dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut config = Config::new(
            "127.0.0.1:0".parse().expect("loopback address"),
            dir.path().join("data"),
        );
        // On the suite's PostgreSQL run the data directory's database stands in for its store.
        config.store = idflow_pgtest::database_for(&config.data_dir);
        configure(&mut config);
        let server = runtime
            .block_on(Server::bind(config))
            .expect("server binds");
        let addr = server.local_addr();
        let key = server.state().signing_key().clone();
        let store = server.state().runtime().store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(server.run(async move {
            let _ = rx.await;
        }));
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        TestServer {
            base: format!("http://{addr}"),
            addr,
            key,
            client,
            runtime: Some(runtime),
            shutdown: Some(tx),
            served: Some(served),
            store,
            dir: Some(dir),
        }
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir
            .as_ref()
            .expect("the data directory is kept until the server is dropped")
            .path()
            .join("data")
    }

    /// Stops the server cleanly and hands back its data directory, for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.stop_now();
        self.dir.take().expect("the data directory")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A token granting exactly `permissions` (`TNT#...` strings).
    pub fn token_with(&self, permissions: &[String]) -> String {
        self.key
            .mint(&Claims::new(
                "test",
                permissions.to_vec(),
                Duration::from_secs(3600),
            ))
            .expect("mint")
    }

    /// A token with every permission of `tenant`.
    pub fn admin(&self, tenant: &str) -> String {
        self.token_with(&[permission_string(tenant, "*")])
    }

    /// A token with one permission of `tenant`.
    pub fn token(&self, tenant: &str, permission: &str) -> String {
        self.token_with(&[permission_string(tenant, permission)])
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn send(&self, builder: RequestBuilder) -> Answer {
        let response = builder.send().expect("request is answered");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let answer = Answer {
            status,
            body,
            content_type,
            text,
        };
        assert!(
            answer.status < 500,
            "the server answered {}: {}",
            answer.status,
            answer.text
        );
        if answer.status >= 400 {
            assert_error_shape(&answer);
        }
        answer
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let mut b = self.request(Method::POST, path).json(body);
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        self.send(b)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut b = self.request(Method::GET, path);
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        self.send(b)
    }

    /// Creates a store with a passcode policy `pp` (the seed's requirements) and a TOTP policy
    /// `tp` in `tenant`.
    pub fn identity_fixture(&self, tenant: &str, store: &str) {
        let admin = self.admin(tenant);
        let base = format!("/api/identity-store/tenants/{tenant}/stores");
        self.post(&base, Some(&admin), &json!({ "name": store }))
            .expect(201);
        self.post(
            &format!("{base}/{store}/passcode-policies"),
            Some(&admin),
            &json!({
                "name": "pp",
                "passcodeRequirements": { "minimumLength": 6, "maximumLength": 12, "digitCount": 1,
                    "symbolCount": 1, "lowerCaseCount": 1, "upperCaseCount": 1, "characterVariety": 1,
                    "passcodeHistory": 1, "requiredRegExes": [], "allowedRegExes": [], "disallowedRegExes": [] },
                "maxFailedAttempts": 5
            }),
        )
        .expect(201);
        self.post(
            &format!("{base}/{store}/totp-policies"),
            Some(&admin),
            &json!({ "name": "tp", "issuer": "Acme" }),
        )
        .expect(201);
    }

    /// Adds a user and returns its ID.
    pub fn add_user(&self, tenant: &str, store: &str, external_id: &str) -> String {
        let body = self
            .post(
                &format!("/api/identity-store/tenants/{tenant}/stores/{store}/users"),
                Some(&self.admin(tenant)),
                &json!({ "externalId": external_id }),
            )
            .expect(201);
        body["user"]["id"].as_str().expect("user id").to_string()
    }
}

impl TestServer {
    /// Signals shutdown without waiting for it (in-flight requests are still served).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestServer {
    fn stop_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let (Some(runtime), Some(served)) = (self.runtime.take(), self.served.take()) {
            let result = runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), served).await });
            runtime.shutdown_timeout(Duration::from_secs(5));
            if !std::thread::panicking() {
                match result {
                    Ok(Ok(Ok(()))) => {}
                    other => panic!("the server did not stop cleanly: {other:?}"),
                }
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Sends `requests` at the same moment (each from a thread of its own, released together by a
/// barrier): each response's status and error code (`""` when none), in request order.
pub fn send_at_once(requests: Vec<reqwest::blocking::RequestBuilder>) -> Vec<(u16, String)> {
    let barrier = std::sync::Barrier::new(requests.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let response = request.send().expect("answered");
                    let status = response.status().as_u16();
                    let body: Value = response.json().unwrap_or_default();
                    (status, body["code"].as_str().unwrap_or("").to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

/// `racers` starts on the process token `token_id`, all sent at once, spread round-robin over
/// `nodes` (one server, or several sharing a store): each start's status and error code, in
/// racer order.
pub fn race_starts(nodes: &[&TestServer], token_id: &str, racers: usize) -> Vec<(u16, String)> {
    send_at_once(
        (0..racers)
            .map(|i| {
                let node = nodes[i % nodes.len()];
                node.client
                    .post(node.url("/api/process-manager/process-instances"))
                    .json(&json!({ "processToken": token_id }))
            })
            .collect(),
    )
}
