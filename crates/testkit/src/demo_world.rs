//! The demo world the activities' tests run flows in: one temporary store shared by the identity
//! core and a runtime running the real activity catalogue, a manual clock, seeded randomness, the
//! demo tenant seeded, and helpers that act as the browser (the Rust SRP and TOTP clients).

use std::sync::Arc;

use idflow_activities::{seed_demo, Catalogue, DemoOptions, DemoSeed};
use idflow_identity::{client, wire, Identity, UserRef, UserStatus};
use idflow_runtime::{
    ActivityHandler, InstanceView, ManualClock, NewToken, Runtime, RuntimeConfig, TokenKind,
};
use idflow_store::Store;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

pub const TENANT: &str = "acme";
pub const STORE: &str = "demo";
pub const POLICY: &str = "default";
pub const START_MS: i64 = 1_700_000_000_000;

pub struct World {
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub identity: Identity,
    pub runtime: Runtime,
    pub demo: DemoSeed,
    pub rng: ChaCha20Rng,
    tokens: usize,
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        World::with_handler(Arc::new(Catalogue::new()))
    }

    /// A world whose runtime runs activities with `handler` (the catalogue wrapped by a test).
    pub fn with_handler(handler: Arc<dyn ActivityHandler>) -> World {
        let clock = Arc::new(ManualClock::new(START_MS));
        let store = Store::temporary().expect("temporary store");
        let identity = Identity::new(
            store.clone(),
            clock.clone(),
            Box::new(ChaCha20Rng::seed_from_u64(11)),
        );
        let runtime = Runtime::new(
            store.clone(),
            handler,
            RuntimeConfig {
                clock: clock.clone(),
                rng_seed: Some(7),
                limits: Default::default(),
                marker_key: None,
            },
        );
        let demo = seed_demo(&runtime, &identity, TENANT, &DemoOptions::default())
            .expect("the demo seeds");
        World {
            clock,
            store,
            identity,
            runtime,
            demo,
            rng: ChaCha20Rng::seed_from_u64(3),
            tokens: 0,
        }
    }

    pub fn now_ms(&self) -> i64 {
        idflow_runtime::Clock::now_ms(self.clock.as_ref())
    }

    pub fn advance_seconds(&self, seconds: i64) {
        self.clock.advance(seconds * 1000);
    }

    /// The demo token parameters for `external_id`, with `overrides` merged over them.
    pub fn parameters(external_id: &str, overrides: Option<&Value>) -> Value {
        let mut params = json!({
            "storeName": STORE,
            "externalId": external_id,
            "passcodePolicy": POLICY,
            "totpPolicy": POLICY,
        });
        if let (Some(Value::Object(over)), Value::Object(base)) = (overrides, &mut params) {
            for (k, v) in over {
                base.insert(k.clone(), v.clone());
            }
        }
        params
    }

    /// Starts `flow` through a fresh process token carrying `parameters`.
    pub fn start(&mut self, flow: &str, parameters: Value) -> InstanceView {
        self.tokens += 1;
        let token = self
            .runtime
            .create_token(
                TENANT,
                NewToken {
                    name: format!("test-{}-{flow}", self.tokens),
                    description: String::new(),
                    process_defn_name: flow.to_string(),
                    process_defn_version: None,
                    kind: TokenKind::Unlimited,
                    parameters,
                    ui_url: None,
                },
            )
            .expect("token");
        self.runtime.start(&token.id).expect("the instance starts")
    }

    pub fn answer(&self, instance: &InstanceView, data: Value) -> InstanceView {
        let step = instance
            .step
            .as_ref()
            .expect("the instance rests at a step");
        self.runtime
            .answer(&instance.id, &step.step_id, data)
            .expect("the answer is taken")
    }

    pub fn add_user(&self, external_id: &str) -> wire::User {
        let user = self
            .identity
            .add_user(TENANT, STORE, external_id, UserStatus::Active)
            .expect("user added");
        wire::User::from(&user)
    }

    pub fn user(&self, external_id: &str) -> wire::User {
        let user = self
            .identity
            .get_user(TENANT, STORE, UserRef::ExternalId(external_id))
            .expect("user exists");
        wire::User::from(&user)
    }

    /// Registers `passcode` for the user directly through the identity core.
    pub fn register_passcode(&self, external_id: &str, passcode: &str) {
        let start = self
            .identity
            .start_passcode_registration(TENANT, STORE, UserRef::ExternalId(external_id), POLICY)
            .expect("registration starts");
        let request = client::register(&start, passcode).expect("the passcode meets the policy");
        self.identity
            .complete_passcode_registration(TENANT, STORE, &start.session_id, &request)
            .expect("registration completes");
    }

    /// Registers a TOTP for the user directly through the identity core; answers its start.
    pub fn register_totp(&self, external_id: &str) -> wire::TotpRegistrationStart {
        let start = self
            .identity
            .start_totp_registration(TENANT, STORE, UserRef::ExternalId(external_id), POLICY)
            .expect("TOTP registration starts");
        let code = client::totp_code_for_registration(&start, self.now_ms()).expect("code");
        self.identity
            .complete_totp_registration(TENANT, STORE, &start.session_id, &code)
            .expect("TOTP registration completes");
        start
    }

    pub fn set_status(&self, external_id: &str, status: UserStatus) {
        self.identity
            .set_user_status(TENANT, STORE, UserRef::ExternalId(external_id), status)
            .expect("status set");
    }
}

/// The `data` of a passcode form step: the start answer.
pub fn passcode_start(instance: &InstanceView) -> wire::PasscodeSessionStart {
    let step = instance.step.as_ref().expect("at a step");
    serde_json::from_value(step.view["data"].clone()).expect("the step's data is a start answer")
}

/// The `data` of the TOTP registration form step.
pub fn totp_start(instance: &InstanceView) -> wire::TotpRegistrationStart {
    let step = instance.step.as_ref().expect("at a step");
    serde_json::from_value(step.view["data"].clone()).expect("the step's data is a TOTP start")
}

/// A field of the form component `element_id` in a step view.
pub fn component<'v>(view: &'v Value, element_id: &str) -> &'v Value {
    view["form"]["components"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["elementId"] == element_id))
        .unwrap_or(&Value::Null)
}
