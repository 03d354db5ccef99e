//! Recording histories of the shipped flows: every path of every shipped definition (happy paths
//! and each error path), walked through the real runtime and activity catalogue on a temporary
//! store, with the identity crate's Rust SRP and TOTP clients acting as the browser.
//!
//! A [`Scenario`] is one path of one flow: what it sets up in the identity store first (a user,
//! a registered passcode, a TOTP registration, a locked user), how it answers the flow's steps,
//! and where it must end (status, end node, the error codes it must raise on the way). [`record`]
//! runs it with a seed that fixes every random value and the clock, so the same seed records the
//! same history; different seeds give different IDs, salts, keys, passcodes and times.
//!
//! A [`Recording`] also keeps every secret the scenario created or was shown (passcodes, SRP
//! verifiers, the client's ephemeral `a`, proofs and session keys, TOTP seeds and codes), so
//! tests can check with [`Recording::leaks`] that none of them appears in the exported history,
//! in any encoding (text, base64, base64url, base32, hex), nor anything a reader without the
//! marker key could recompute from it (its key-less digest: how a guess would be checked against
//! an unkeyed marker). Its `Debug` shows none of them.
//!
//! [`write_corpus`] records every scenario once and writes `<flow>.<scenario>.json`: the corpus
//! in `tests/replay`, regenerated with
//! `cargo run -p idflow-testkit --example regenerate -- tests/replay`.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idflow_activities::demo::{demo_passcode_policy, demo_totp_policy};
use idflow_activities::forms::Forms;
use idflow_activities::{shipped, Catalogue, FormError};
use idflow_engine::{EventKind, Status};
use idflow_identity::client::{self, ClientError};
use idflow_identity::{wire, Identity, UserRef, UserStatus};
use idflow_runtime::{
    Clock, HistoryExport, InstanceView, ManualClock, NewToken, Runtime, RuntimeConfig,
    RuntimeError, TokenKind,
};
use idflow_store::{Store, StoreError};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use sha2::Digest as _;

/// The tenant, identity store and policy names recordings use.
pub const TENANT: &str = "replay";
pub const STORE: &str = "customers";
pub const POLICY: &str = "default";
/// Failed passcode attempts in a row that lock a user in recordings.
pub const MAX_FAILED_ATTEMPTS: u32 = 3;

/// 2023-11-14T22:13:20Z: the earliest clock a recording starts at.
const EPOCH_MS: i64 = 1_700_000_000_000;

/// Why a recording could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("identity: {0}")]
    Identity(#[from] idflow_identity::Error),
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    #[error("forms: {0}")]
    Form(#[from] FormError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("SRP/TOTP client: {0}")]
    Client(#[from] ClientError),
    /// The flow did not go where the scenario expects: the definitions, the activities or the
    /// scenario changed.
    #[error("scenario {scenario}: {problem}")]
    Unexpected { scenario: String, problem: String },
    /// A secret the scenario created appears in the export.
    #[error("scenario {scenario}: the export holds {what}")]
    Leak { scenario: String, what: String },
    #[error("writing {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("encoding the history as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// One path through one shipped flow.
pub struct Scenario {
    /// The flow's process ID (its file name in `definitions/` without `.bpmn`).
    pub flow: &'static str,
    /// Short name, unique within the flow: the corpus file is `<flow>.<name>.json`.
    pub name: &'static str,
    /// The path walked, in words.
    pub path: &'static str,
    /// How the instance must end (`Active` when it must rest at a step).
    pub status: Status,
    /// The end event it must end at.
    pub end: Option<&'static str>,
    /// Error codes its activities must raise on the way, in order.
    pub raises: &'static [&'static str],
    walk: fn(&mut World) -> Result<(), CorpusError>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("flow", &self.flow)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// `<flow>.<name>`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.flow, self.name)
    }

    /// The corpus file name: `<flow>.<name>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.id())
    }
}

/// A secret a recording created or was shown, to search exports for.
#[derive(Clone)]
pub struct Secret {
    /// What it is ("SRP verifier", ...), for messages.
    pub what: &'static str,
    value: SecretValue,
}

#[derive(Clone)]
enum SecretValue {
    Text(String),
    Bytes(Vec<u8>),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("what", &self.what)
            .field("value", &"<redacted>")
            .finish()
    }
}

impl Secret {
    /// Every spelling of the secret an export could hold: the text itself, or the bytes in
    /// base64 (standard and URL-safe, with and without padding), base32 (with and without
    /// padding, either case) and hex (either case), of the bytes as they are and with leading
    /// zero bytes removed (a big number's minimal form); and for each of those, the hex SHA-256
    /// of it as a JSON string, which is what anyone can compute from a guess (a marker made that
    /// way would let a guess be tested offline). Spellings shorter than 8 characters are left
    /// out: they would match by chance (their digests are kept).
    pub fn spellings(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.value {
            SecretValue::Text(text) => {
                out.push(text.clone());
                if let Ok(bytes) = data_encoding::BASE32_NOPAD.decode(text.as_bytes()) {
                    push_byte_spellings(&bytes, &mut out);
                }
            }
            SecretValue::Bytes(bytes) => {
                push_byte_spellings(bytes, &mut out);
                let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
                if let Some(trimmed) = bytes.get(first..) {
                    push_byte_spellings(trimmed, &mut out);
                }
            }
        }
        let digests: Vec<String> = out
            .iter()
            .map(|spelling| {
                let json = serde_json::to_string(spelling).unwrap_or_default();
                data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(json.as_bytes()))
            })
            .collect();
        out.retain(|s| s.len() >= 8);
        out.extend(digests);
        out.sort();
        out.dedup();
        out
    }
}

fn push_byte_spellings(bytes: &[u8], out: &mut Vec<String>) {
    use data_encoding::{
        BASE32, BASE32_NOPAD, BASE64, BASE64URL, BASE64URL_NOPAD, BASE64_NOPAD, HEXLOWER, HEXUPPER,
    };
    if bytes.is_empty() {
        return;
    }
    for encoding in [
        &BASE64,
        &BASE64_NOPAD,
        &BASE64URL,
        &BASE64URL_NOPAD,
        &BASE32,
        &BASE32_NOPAD,
        &HEXLOWER,
        &HEXUPPER,
    ] {
        out.push(encoding.encode(bytes));
    }
    out.push(BASE32_NOPAD.encode(bytes).to_ascii_lowercase());
}

/// One recorded run: the exported history and the secrets it involved.
pub struct Recording {
    pub scenario: &'static Scenario,
    pub seed: u64,
    pub export: HistoryExport,
    secrets: Vec<Secret>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording")
            .field("scenario", &self.scenario.id())
            .field("seed", &self.seed)
            .field("instance", &self.export.instance)
            .field("events", &self.export.events.len())
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Recording {
    /// The export as the corpus stores it: pretty JSON and a final newline.
    pub fn to_json(&self) -> Result<String, CorpusError> {
        let mut text = serde_json::to_string_pretty(&self.export)?;
        text.push('\n');
        Ok(text)
    }

    /// The secrets the run created or was shown.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// What of [`Recording::secrets`] appears in `text`, in any spelling (descriptions only).
    pub fn leaks(&self, text: &str) -> Vec<&'static str> {
        let mut found: Vec<&'static str> = self
            .secrets
            .iter()
            .filter(|s| s.spellings().iter().any(|spelling| text.contains(spelling)))
            .map(|s| s.what)
            .collect();
        found.dedup();
        found
    }
}

/// An RNG that remembers what it handed out: the SRP client's ephemeral `a` is drawn from it,
/// so the test knows the secret it must never find in a history.
struct RecordingRng {
    inner: ChaCha20Rng,
    drawn: Vec<Vec<u8>>,
}

impl RngCore for RecordingRng {
    fn next_u32(&mut self) -> u32 {
        let v = self.inner.next_u32();
        self.drawn.push(v.to_be_bytes().to_vec());
        v
    }

    fn next_u64(&mut self) -> u64 {
        let v = self.inner.next_u64();
        self.drawn.push(v.to_be_bytes().to_vec());
        v
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.inner.fill_bytes(dest);
        self.drawn.push(dest.to_vec());
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Everything one recording runs on: a temporary store with the identity store, its policies,
/// the shipped forms and the flow deployed; the runtime with the real catalogue; a manual clock.
pub struct World {
    scenario: &'static Scenario,
    clock: Arc<ManualClock>,
    runtime: Runtime,
    identity: Identity,
    client_rng: RecordingRng,
    secrets: Vec<Secret>,
    /// The external ID the process token names.
    external_id: String,
    instance: Option<InstanceView>,
}

/// Where a seed starts the clock: spread over a year, at any millisecond.
fn start_ms(seed: u64) -> i64 {
    let year_ms: u64 = 365 * 24 * 3600 * 1000;
    let offset = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) % year_ms;
    EPOCH_MS.saturating_add(i64::try_from(offset).unwrap_or(0))
}

impl World {
    fn new(scenario: &'static Scenario, seed: u64) -> Result<World, CorpusError> {
        let store = Store::temporary()?;
        let clock = Arc::new(ManualClock::new(start_ms(seed)));
        let runtime = Runtime::new(
            store.clone(),
            Arc::new(Catalogue::new()),
            RuntimeConfig {
                clock: clock.clone(),
                rng_seed: Some(seed),
                limits: Default::default(),
                marker_key: None,
            },
        );
        let identity = Identity::new(
            store.clone(),
            clock.clone(),
            Box::new(ChaCha20Rng::seed_from_u64(seed ^ 0x1D_E7_17_7A)),
        );
        identity.create_store(TENANT, STORE)?;
        let mut passcode_policy = demo_passcode_policy();
        passcode_policy.name = POLICY.to_string();
        passcode_policy.max_failed_attempts = MAX_FAILED_ATTEMPTS;
        identity.create_passcode_policy(TENANT, STORE, &passcode_policy)?;
        let mut totp_policy = demo_totp_policy();
        totp_policy.name = POLICY.to_string();
        identity.create_totp_policy(TENANT, STORE, &totp_policy)?;
        let forms = Forms::new(store.clone());
        for form in &shipped::FORMS {
            forms.deploy(TENANT, form.bytes)?;
        }
        let file = shipped::DEFINITIONS
            .iter()
            .find(|f| shipped::process_id(f) == scenario.flow)
            .ok_or_else(|| CorpusError::Unexpected {
                scenario: scenario.id(),
                problem: format!("no shipped definition '{}'", scenario.flow),
            })?;
        runtime.deploy(TENANT, file.file_name, file.bytes)?;
        let mut client_rng = RecordingRng {
            inner: ChaCha20Rng::seed_from_u64(seed ^ 0xC1_1E_47),
            drawn: Vec::new(),
        };
        let external_id = format!("user-{:08x}@example.com", client_rng.inner.next_u32());
        client_rng.drawn.clear();
        Ok(World {
            scenario,
            clock,
            runtime,
            identity,
            client_rng,
            secrets: Vec::new(),
            external_id,
            instance: None,
        })
    }

    fn unexpected(&self, problem: impl Into<String>) -> CorpusError {
        CorpusError::Unexpected {
            scenario: self.scenario.id(),
            problem: problem.into(),
        }
    }

    fn keep_text(&mut self, what: &'static str, text: &str) {
        self.secrets.push(Secret {
            what,
            value: SecretValue::Text(text.to_string()),
        });
    }

    fn keep_bytes(&mut self, what: &'static str, bytes: Vec<u8>) {
        self.secrets.push(Secret {
            what,
            value: SecretValue::Bytes(bytes),
        });
    }

    /// Keeps a base64 value of the wire (a verifier, a proof) as bytes.
    fn keep_base64(&mut self, what: &'static str, text: &str) {
        match idflow_identity::base64_wire::decode_lenient(text) {
            Ok(bytes) => self.keep_bytes(what, bytes),
            Err(_) => self.keep_text(what, text),
        }
    }

    /// Keeps what the client drew since the last call: its ephemeral `a`.
    fn keep_drawn(&mut self) {
        for drawn in std::mem::take(&mut self.client_rng.drawn) {
            self.keep_bytes("the SRP client's ephemeral a", drawn);
        }
    }

    /// A fresh passcode that meets the policy (8+ characters, a digit, a lower- and an
    /// upper-case letter), kept as a secret.
    fn new_passcode(&mut self) -> String {
        const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
        let rng = &mut self.client_rng.inner;
        let mut passcode = String::from("Pc");
        for _ in 0..7 {
            let i = rng.gen_range(0..LOWER.len());
            passcode.push(char::from(LOWER.get(i).copied().unwrap_or(b'x')));
        }
        passcode.push_str(&format!("{:03}", rng.gen_range(0..1000)));
        self.keep_text("a passcode", &passcode);
        passcode
    }

    fn user_ref(&self) -> UserRef<'_> {
        UserRef::ExternalId(&self.external_id)
    }

    /// Precondition: the user exists, with no credential.
    fn user(&mut self) -> Result<(), CorpusError> {
        self.identity
            .add_user(TENANT, STORE, &self.external_id, UserStatus::Active)?;
        Ok(())
    }

    /// Precondition: the user exists with a registered passcode, which is returned.
    fn user_with_passcode(&mut self) -> Result<String, CorpusError> {
        self.user()?;
        let passcode = self.new_passcode();
        let start =
            self.identity
                .start_passcode_registration(TENANT, STORE, self.user_ref(), POLICY)?;
        let request = client::register(&start, &passcode)?;
        self.keep_base64("an SRP verifier", &request.srp_registration_data.verifier);
        self.identity
            .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)?;
        Ok(passcode)
    }

    /// Precondition: `failures` wrong passcode proofs in a row (the policy locks the user at
    /// [`MAX_FAILED_ATTEMPTS`]).
    fn fail_authentications(&mut self, failures: u32) -> Result<(), CorpusError> {
        for _ in 0..failures {
            let wrong = self.new_passcode();
            let start = self.identity.start_passcode_authentication(
                TENANT,
                STORE,
                self.user_ref(),
                POLICY,
            )?;
            let proof = client::authenticate(&start, &wrong, &mut self.client_rng)?;
            self.keep_drawn();
            match self.identity.complete_passcode_authentication(
                TENANT,
                STORE,
                &start.session_id,
                proof.request(),
            ) {
                Err(e) if e.refusal().is_some() => {}
                Err(e) => return Err(e.into()),
                Ok(_) => return Err(self.unexpected("a wrong passcode was accepted")),
            }
        }
        Ok(())
    }

    /// Precondition: the user exists with a TOTP registration.
    fn user_with_totp(&mut self) -> Result<(), CorpusError> {
        self.user()?;
        let start =
            self.identity
                .start_totp_registration(TENANT, STORE, self.user_ref(), POLICY)?;
        self.keep_text("a TOTP seed", &start.secret);
        let code = client::totp_code_for_registration(&start, self.clock.now_ms())?;
        self.identity
            .complete_totp_registration(TENANT, STORE, &start.session_id, &code)?;
        Ok(())
    }

    /// Keeps every `secret` the page of the step the instance rests at shows (a TOTP seed to
    /// enrol, the current TOTP's seed), whether or not the scenario answers the step.
    fn keep_shown_secrets(&mut self) {
        fn walk(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    for (key, inner) in map {
                        match inner {
                            Value::String(text) if key == "secret" => found.push(text.clone()),
                            _ => walk(inner, found),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| walk(i, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        if let Some(step) = self.instance.as_ref().and_then(|i| i.step.as_ref()) {
            walk(&step.view, &mut found);
        }
        for secret in found {
            self.keep_text("a TOTP seed", &secret);
        }
    }

    /// The end user opens the process token.
    fn start(&mut self) -> Result<(), CorpusError> {
        let token = self.runtime.create_token(
            TENANT,
            NewToken {
                name: format!("replay-{}", self.scenario.flow),
                description: format!("replay corpus: {}", self.scenario.path),
                process_defn_name: self.scenario.flow.to_string(),
                process_defn_version: None,
                kind: TokenKind::Unlimited,
                parameters: json!({
                    "storeName": STORE,
                    "externalId": self.external_id,
                    "passcodePolicy": POLICY,
                    "totpPolicy": POLICY,
                }),
                ui_url: None,
            },
        )?;
        self.clock.advance(1_250);
        self.instance = Some(self.runtime.start(&token.id)?);
        self.keep_shown_secrets();
        Ok(())
    }

    /// The instance, which must rest at step `node`: its step ID and the view's `data`.
    fn at_step(&self, node: &str) -> Result<(String, String, Value), CorpusError> {
        let instance = self
            .instance
            .as_ref()
            .ok_or_else(|| self.unexpected("no instance was started"))?;
        match &instance.step {
            Some(step) if step.node == node => Ok((
                instance.id.clone(),
                step.step_id.clone(),
                step.view.get("data").cloned().unwrap_or(Value::Null),
            )),
            Some(step) => Err(self.unexpected(format!(
                "expected the instance to rest at '{node}', it rests at '{}'",
                step.node
            ))),
            None => Err(self.unexpected(format!(
                "expected the instance to rest at '{node}', it is {} ({})",
                instance.status,
                instance.outcome.as_deref().unwrap_or("no outcome")
            ))),
        }
    }

    fn answer(&mut self, node: &str, data: Value) -> Result<(), CorpusError> {
        let (instance, step_id, _) = self.at_step(node)?;
        // The end user takes a while to type.
        self.clock.advance(7_300);
        self.instance = Some(self.runtime.answer(&instance, &step_id, data)?);
        self.keep_shown_secrets();
        Ok(())
    }

    fn session_start(&self, node: &str) -> Result<wire::PasscodeSessionStart, CorpusError> {
        let (_, _, data) = self.at_step(node)?;
        serde_json::from_value(data)
            .map_err(|e| self.unexpected(format!("the step '{node}' shows no SRP session: {e}")))
    }

    /// Answers a passcode registration form with `passcode` (the browser derives the verifier).
    fn register(&mut self, node: &str, passcode: &str) -> Result<(), CorpusError> {
        let start = self.session_start(node)?;
        let request = client::register(&start, passcode)?;
        self.keep_base64("an SRP verifier", &request.srp_registration_data.verifier);
        self.answer(node, json!({ "browserResponse": request }))
    }

    /// Answers a passcode renewal form: a proof of `old` and the verifier of `new`.
    fn renew(&mut self, node: &str, old: &str, new: &str) -> Result<(), CorpusError> {
        let start = self.session_start(node)?;
        let proof = client::renew(&start, old, new, &mut self.client_rng)?;
        self.keep_drawn();
        self.keep_bytes("an SRP session key", proof.session_key().to_vec());
        let request = proof.request().clone();
        self.keep_base64("an SRP verifier", &request.srp_registration_data.verifier);
        self.keep_base64("an SRP proof M1", &request.srp_verification_data.m1);
        self.answer(node, json!({ "browserResponse": request }))
    }

    /// Answers a passcode authentication form with a proof of `passcode`.
    fn authenticate(&mut self, node: &str, passcode: &str) -> Result<(), CorpusError> {
        let start = self.session_start(node)?;
        let proof = client::authenticate(&start, passcode, &mut self.client_rng)?;
        self.keep_drawn();
        self.keep_bytes("an SRP session key", proof.session_key().to_vec());
        let request = proof.request().clone();
        self.keep_base64("an SRP proof M1", &request.srp_verification_data.m1);
        self.answer(node, json!({ "browserResponse": request }))
    }

    /// Answers the TOTP registration form with the authenticator's current code, or a wrong
    /// one.
    fn enter_totp_code(&mut self, node: &str, correct: bool) -> Result<(), CorpusError> {
        let (_, _, data) = self.at_step(node)?;
        let start: wire::TotpRegistrationStart = serde_json::from_value(data).map_err(|e| {
            self.unexpected(format!("the step '{node}' shows no TOTP registration: {e}"))
        })?;
        self.keep_text("a TOTP seed", &start.secret);
        // The code is read when the answer is sent.
        let at = self.clock.now_ms().saturating_add(7_300);
        let code = client::totp_code_for_registration(&start, at)?;
        let code = if correct {
            code
        } else {
            let n: u32 = code.parse().unwrap_or(0);
            format!("{:06}", (n + 500_001) % 1_000_000)
        };
        // Six digits appear anywhere by chance: only what a guess recomputes is searched for.
        self.keep_text("a TOTP code", &code);
        self.answer(node, json!({ "browserResponse": { "code": code } }))
    }

    /// The current-TOTP page: keeps the secret it shows, then the end user presses Done.
    fn acknowledge_current_totp(&mut self, node: &str) -> Result<(), CorpusError> {
        let shown = self
            .instance
            .as_ref()
            .and_then(|i| i.step.as_ref())
            .and_then(|s| s.view["form"]["components"].as_array().cloned())
            .unwrap_or_default();
        for component in shown {
            if component["elementId"] == "currentTotpSecret" {
                if let Some(secret) = component["defaultValue"].as_str() {
                    self.keep_text("a TOTP seed", secret);
                }
            }
        }
        self.answer(node, json!({}))
    }

    /// Nobody answers: the clock reaches the step's timer, which fires.
    fn time_out(&mut self) -> Result<(), CorpusError> {
        let due = self
            .runtime
            .next_timer_due()?
            .ok_or_else(|| self.unexpected("no timer is armed"))?;
        self.clock.set(due);
        let fired = self.runtime.fire_due_timers()?;
        if let Some((_, e)) = fired.failed.into_iter().next() {
            return Err(e.into());
        }
        let id = self
            .instance
            .as_ref()
            .map(|i| i.id.clone())
            .ok_or_else(|| self.unexpected("no instance was started"))?;
        self.instance = Some(self.runtime.instance(&id)?);
        Ok(())
    }

    /// The end user waits `ms` before answering.
    fn wait(&mut self, ms: i64) {
        self.clock.advance(ms);
    }
}

/// Records `scenario` with `seed` (which fixes the clock and every random value).
pub fn record(scenario: &'static Scenario, seed: u64) -> Result<Recording, CorpusError> {
    let mut world = World::new(scenario, seed)?;
    (scenario.walk)(&mut world)?;
    let instance = world
        .instance
        .clone()
        .ok_or_else(|| world.unexpected("the scenario started no instance"))?;
    let export = world.runtime.export_history(&instance.id)?;
    check_path(scenario, &instance, &export)?;
    Ok(Recording {
        scenario,
        seed,
        export,
        secrets: world.secrets,
    })
}

/// The instance ended as the scenario says, raising the codes it says.
fn check_path(
    scenario: &Scenario,
    instance: &InstanceView,
    export: &HistoryExport,
) -> Result<(), CorpusError> {
    let unexpected = |problem: String| CorpusError::Unexpected {
        scenario: scenario.id(),
        problem,
    };
    let events = export.events().map_err(&unexpected)?;
    let end = match events.as_slice() {
        [.., last_but_one, last] if matches!(last.kind, EventKind::InstanceEnded { .. }) => {
            match &last_but_one.kind {
                EventKind::NodeEntered { node } => Some(node.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    if instance.status != scenario.status || end.as_deref() != scenario.end {
        return Err(unexpected(format!(
            "expected {} at {:?}, the instance is {} at {:?}",
            scenario.status, scenario.end, instance.status, end
        )));
    }
    let raised: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ActivityRefused { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .collect();
    if raised != scenario.raises {
        return Err(unexpected(format!(
            "expected the codes {:?} to be raised, the history raises {raised:?}",
            scenario.raises
        )));
    }
    Ok(())
}

/// The seed the corpus records a scenario with: FNV-1a of its ID, so adding a scenario leaves
/// the others' recordings as they were.
pub fn corpus_seed(scenario: &Scenario) -> u64 {
    scenario
        .id()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// Records every scenario once and writes `<flow>.<scenario>.json` into `dir` (created if
/// needed). Refuses to write a history that holds one of its run's secrets.
pub fn write_corpus(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    fs::create_dir_all(dir).map_err(|source| CorpusError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for scenario in SCENARIOS.iter() {
        let recording = record(scenario, corpus_seed(scenario))?;
        let text = recording.to_json()?;
        if let Some(what) = recording.leaks(&text).first() {
            return Err(CorpusError::Leak {
                scenario: scenario.id(),
                what: what.to_string(),
            });
        }
        let path = dir.join(scenario.file_name());
        fs::write(&path, text).map_err(|source| CorpusError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Every scenario, flow by flow.
pub fn scenarios() -> &'static [Scenario] {
    &SCENARIOS
}

/// The flows the scenarios walk, in order.
pub fn flows() -> Vec<&'static str> {
    let mut flows: Vec<&'static str> = Vec::new();
    for s in &SCENARIOS {
        if !flows.contains(&s.flow) {
            flows.push(s.flow);
        }
    }
    flows
}

/// The scenarios of one flow.
pub fn scenarios_of(flow: &str) -> Vec<&'static Scenario> {
    SCENARIOS.iter().filter(|s| s.flow == flow).collect()
}

// -------------------------------------------------------------------------------------------------
// The scenarios. Node IDs are the shipped definitions'.

const TIMED_OUT: Status = Status::CompletedTerminated;
const SUCCESS: Status = Status::CompletedEndedSuccess;
const ERROR: Status = Status::CompletedEndedError;

static SCENARIOS: [Scenario; 39] = [
    // passcode-registration ----------------------------------------------------------------------
    Scenario {
        flow: "passcode-registration",
        name: "new-user",
        path: "a new user registers a passcode",
        status: SUCCESS,
        end: Some("endRegistered"),
        raises: &[],
        walk: |w| {
            w.start()?;
            let passcode = w.new_passcode();
            w.register("registrationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "external-id-taken",
        path: "the external ID is taken: Get User finds the user, who registers",
        status: SUCCESS,
        end: Some("endRegistered"),
        raises: &["EXT_ID_NOT_UNIQUE"],
        walk: |w| {
            w.user()?;
            w.start()?;
            let passcode = w.new_passcode();
            w.register("registrationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "already-registered-renews",
        path: "the user already has a passcode: the renewal path renews it",
        status: SUCCESS,
        end: Some("endRegistered"),
        raises: &["EXT_ID_NOT_UNIQUE", "PASSCODE_ALREADY_REGISTERED"],
        walk: |w| {
            let old = w.user_with_passcode()?;
            w.start()?;
            let new = w.new_passcode();
            w.renew("renewalForm", &old, &new)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "renewal-wrong-passcode",
        path: "renewal path, the current passcode is wrong",
        status: ERROR,
        end: Some("endFailed"),
        raises: &[
            "EXT_ID_NOT_UNIQUE",
            "PASSCODE_ALREADY_REGISTERED",
            "VERIFICATION_FAILED",
        ],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            let wrong = w.new_passcode();
            let new = w.new_passcode();
            w.renew("renewalForm", &wrong, &new)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "renewal-passcode-in-history",
        path: "renewal path, the new passcode is the current one",
        status: ERROR,
        end: Some("endFailed"),
        raises: &[
            "EXT_ID_NOT_UNIQUE",
            "PASSCODE_ALREADY_REGISTERED",
            "PASSCODE_IN_HISTORY",
        ],
        walk: |w| {
            let old = w.user_with_passcode()?;
            w.start()?;
            w.renew("renewalForm", &old, &old)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "add-user-failed",
        path: "the external ID cannot be added (a control character)",
        status: ERROR,
        end: Some("endUserNotAdded"),
        raises: &["FAILED_TO_ADD_USER"],
        walk: |w| {
            w.external_id = format!("bad\u{7}{}", w.external_id);
            w.start()
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "session-expired",
        path: "the registration form is answered after the SRP session expired",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["SESSION_EXPIRED"],
        walk: |w| {
            w.start()?;
            w.wait(301_000);
            let passcode = w.new_passcode();
            w.register("registrationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "invalid-registration-data",
        path: "the browser sends a verifier that is not base64",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["INVALID_REGISTRATION_DATA"],
        walk: |w| {
            w.start()?;
            w.answer(
                "registrationForm",
                json!({"browserResponse": {"srpRegistrationData": {"verifier": "%%% not base64 %%%"}}}),
            )
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "renewal-user-locked",
        path: "renewal path, the user is locked: Start Passcode Renewal raises USER_LOCKED",
        status: ERROR,
        end: Some("endRenewalUserLocked"),
        raises: &[
            "EXT_ID_NOT_UNIQUE",
            "PASSCODE_ALREADY_REGISTERED",
            "USER_LOCKED",
        ],
        walk: |w| {
            w.user_with_passcode()?;
            w.fail_authentications(MAX_FAILED_ATTEMPTS)?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "timed-out",
        path: "nobody answers the registration form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &[],
        walk: |w| {
            w.start()?;
            w.time_out()
        },
    },
    Scenario {
        flow: "passcode-registration",
        name: "renewal-timed-out",
        path: "renewal path, nobody answers the renewal form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &["EXT_ID_NOT_UNIQUE", "PASSCODE_ALREADY_REGISTERED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            w.time_out()
        },
    },
    // passcode-renewal ---------------------------------------------------------------------------
    Scenario {
        flow: "passcode-renewal",
        name: "renewed",
        path: "the user renews the passcode",
        status: SUCCESS,
        end: Some("endRenewed"),
        raises: &[],
        walk: |w| {
            let old = w.user_with_passcode()?;
            w.start()?;
            let new = w.new_passcode();
            w.renew("renewalForm", &old, &new)
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "no-passcode-registers",
        path: "the user has no passcode: the registration path registers one",
        status: SUCCESS,
        end: Some("endRenewed"),
        raises: &["PASSCODE_NOT_REGISTERED"],
        walk: |w| {
            w.user()?;
            w.start()?;
            let passcode = w.new_passcode();
            w.register("registrationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "unknown-user",
        path: "no user has the external ID",
        status: ERROR,
        end: Some("endUserNotFound"),
        raises: &["USER_NOT_FOUND"],
        walk: |w| w.start(),
    },
    Scenario {
        flow: "passcode-renewal",
        name: "wrong-passcode",
        path: "the current passcode is wrong",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["VERIFICATION_FAILED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            let wrong = w.new_passcode();
            let new = w.new_passcode();
            w.renew("renewalForm", &wrong, &new)
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "passcode-in-history",
        path: "the new passcode is the current one",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["PASSCODE_IN_HISTORY"],
        walk: |w| {
            let old = w.user_with_passcode()?;
            w.start()?;
            w.renew("renewalForm", &old, &old)
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "locks-user",
        path: "a wrong passcode is the failed attempt that locks the user",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["VERIFICATION_FAILED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.fail_authentications(MAX_FAILED_ATTEMPTS - 1)?;
            w.start()?;
            let wrong = w.new_passcode();
            let new = w.new_passcode();
            w.renew("renewalForm", &wrong, &new)
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "locked-user",
        path: "the user is locked: Start Passcode Renewal raises USER_LOCKED, its boundary ends \
               the instance",
        status: ERROR,
        end: Some("endRenewalUserLocked"),
        raises: &["USER_LOCKED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.fail_authentications(MAX_FAILED_ATTEMPTS)?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "timed-out",
        path: "nobody answers the renewal form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &[],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            w.time_out()
        },
    },
    Scenario {
        flow: "passcode-renewal",
        name: "registration-timed-out",
        path: "registration path, nobody answers the registration form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &["PASSCODE_NOT_REGISTERED"],
        walk: |w| {
            w.user()?;
            w.start()?;
            w.time_out()
        },
    },
    // passcode-authentication --------------------------------------------------------------------
    Scenario {
        flow: "passcode-authentication",
        name: "authenticated",
        path: "the user proves the passcode",
        status: SUCCESS,
        end: Some("endAuthenticated"),
        raises: &[],
        walk: |w| {
            let passcode = w.user_with_passcode()?;
            w.start()?;
            w.authenticate("authenticationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "wrong-passcode",
        path: "the passcode is wrong",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["VERIFICATION_FAILED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            let wrong = w.new_passcode();
            w.authenticate("authenticationForm", &wrong)
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "no-passcode",
        path: "the user has no passcode",
        status: ERROR,
        end: Some("endNoPasscode"),
        raises: &["PASSCODE_NOT_REGISTERED"],
        walk: |w| {
            w.user()?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "unknown-user",
        path: "no user has the external ID",
        status: ERROR,
        end: Some("endUserNotFound"),
        raises: &["USER_NOT_FOUND"],
        walk: |w| w.start(),
    },
    Scenario {
        flow: "passcode-authentication",
        name: "locked-user",
        path: "the user is locked after too many failed attempts",
        status: ERROR,
        end: Some("endLocked"),
        raises: &["USER_LOCKED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.fail_authentications(MAX_FAILED_ATTEMPTS)?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "locks-user",
        path: "a wrong passcode is the failed attempt that locks the user",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["VERIFICATION_FAILED"],
        walk: |w| {
            w.user_with_passcode()?;
            w.fail_authentications(MAX_FAILED_ATTEMPTS - 1)?;
            w.start()?;
            let wrong = w.new_passcode();
            w.authenticate("authenticationForm", &wrong)
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "session-expired",
        path: "the proof arrives after the SRP session expired",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["SESSION_EXPIRED"],
        walk: |w| {
            let passcode = w.user_with_passcode()?;
            w.start()?;
            w.wait(301_000);
            w.authenticate("authenticationForm", &passcode)
        },
    },
    Scenario {
        flow: "passcode-authentication",
        name: "timed-out",
        path: "nobody answers the authentication form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &[],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()?;
            w.time_out()
        },
    },
    // passcode-deregistration --------------------------------------------------------------------
    Scenario {
        flow: "passcode-deregistration",
        name: "deregistered",
        path: "the user's passcode is removed",
        status: SUCCESS,
        end: Some("endDeregistered"),
        raises: &[],
        walk: |w| {
            w.user_with_passcode()?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-deregistration",
        name: "no-passcode",
        path: "the user has no passcode",
        status: ERROR,
        end: Some("endNoPasscode"),
        raises: &["PASSCODE_NOT_REGISTERED"],
        walk: |w| {
            w.user()?;
            w.start()
        },
    },
    Scenario {
        flow: "passcode-deregistration",
        name: "unknown-user",
        path: "no user has the external ID",
        status: ERROR,
        end: Some("endUserNotFound"),
        raises: &["USER_NOT_FOUND"],
        walk: |w| w.start(),
    },
    // totp-registration --------------------------------------------------------------------------
    Scenario {
        flow: "totp-registration",
        name: "registered",
        path: "the user scans the QR code and enters the app's code",
        status: SUCCESS,
        end: Some("endRegistered"),
        raises: &[],
        walk: |w| {
            w.user()?;
            w.start()?;
            w.enter_totp_code("totpForm", true)
        },
    },
    Scenario {
        flow: "totp-registration",
        name: "wrong-code",
        path: "the code entered is wrong",
        status: ERROR,
        end: Some("endFailed"),
        raises: &["INVALID_CODE"],
        walk: |w| {
            w.user()?;
            w.start()?;
            w.enter_totp_code("totpForm", false)
        },
    },
    Scenario {
        flow: "totp-registration",
        name: "already-registered",
        path: "the user already has a TOTP registration",
        status: ERROR,
        end: Some("endAlreadyRegistered"),
        raises: &["TOTP_ALREADY_REGISTERED"],
        walk: |w| {
            w.user_with_totp()?;
            w.start()
        },
    },
    Scenario {
        flow: "totp-registration",
        name: "unknown-user",
        path: "no user has the external ID",
        status: ERROR,
        end: Some("endUserNotFound"),
        raises: &["USER_NOT_FOUND"],
        walk: |w| w.start(),
    },
    Scenario {
        flow: "totp-registration",
        name: "timed-out",
        path: "nobody answers the TOTP form: its timer expires",
        status: TIMED_OUT,
        end: Some("endTimedOut"),
        raises: &[],
        walk: |w| {
            w.user()?;
            w.start()?;
            w.time_out()
        },
    },
    // current-totp -------------------------------------------------------------------------------
    Scenario {
        flow: "current-totp",
        name: "shown",
        path: "the current QR code and secret are shown",
        status: SUCCESS,
        end: Some("endShown"),
        raises: &[],
        walk: |w| {
            w.user_with_totp()?;
            w.start()?;
            w.acknowledge_current_totp("showCurrentTotp")
        },
    },
    Scenario {
        flow: "current-totp",
        name: "not-registered",
        path: "the user has no TOTP registration",
        status: ERROR,
        end: Some("endNoTotp"),
        raises: &["TOTP_NOT_REGISTERED"],
        walk: |w| {
            w.user()?;
            w.start()
        },
    },
    Scenario {
        flow: "current-totp",
        name: "unknown-user",
        path: "no user has the external ID",
        status: ERROR,
        end: Some("endUserNotFound"),
        raises: &["USER_NOT_FOUND"],
        walk: |w| w.start(),
    },
];
