//! Registers a passcode through the shipped passcode registration flow, in process: a temporary
//! store, a tenant with an identity store and a passcode policy, the flow and its forms deployed,
//! a process token; then the flow is started with the token, its form is answered by the Rust
//! SRP client acting as the browser, and the user's registered passcodes are printed.
//!
//! `cargo run -p idflow-activities --example register_passcode [passcode]`

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use idflow_activities::forms::Forms;
use idflow_activities::{shipped, Catalogue};
use idflow_identity::{client, wire, Identity, PasscodePolicy, PasscodeRequirements, UserRef};
use idflow_runtime::{NewToken, Runtime, RuntimeConfig, TokenKind};
use idflow_store::Store;
use serde_json::json;

const TENANT: &str = "example";
const STORE: &str = "customers";
const POLICY: &str = "default";
const EXTERNAL_ID: &str = "alice@example.com";

/// What the walk-through ended with.
pub struct Registered {
    /// The instance's final status (`COMPLETED_ENDED_SUCCESS` when all went well).
    pub status: String,
    /// The end event reached.
    pub outcome: Option<String>,
    /// The user as the identity API shows it, read back from the store.
    pub user: wire::User,
}

/// The whole walk-through; `main` only prints its result.
pub fn register_passcode(passcode: &str) -> Result<Registered, Box<dyn Error>> {
    let store = Store::temporary()?;
    let identity = Identity::with_system_clock(store.clone());
    let runtime = Runtime::new(
        store.clone(),
        Arc::new(Catalogue::new()),
        RuntimeConfig::default(),
    );

    identity.create_store(TENANT, STORE)?;
    identity.create_passcode_policy(
        TENANT,
        STORE,
        &PasscodePolicy {
            name: POLICY.to_string(),
            requirements: PasscodeRequirements {
                minimum_length: 8,
                digit_count: 1,
                ..PasscodeRequirements::default()
            },
            max_failed_attempts: 5,
            session_lifetime_seconds: 300,
            temporary_lock_seconds: 0,
        },
    )?;
    let forms = Forms::new(store.clone());
    for form in &shipped::FORMS {
        forms.deploy(TENANT, form.bytes)?;
    }
    let definition = shipped::DEFINITIONS
        .iter()
        .find(|f| shipped::process_id(f) == "passcode-registration")
        .ok_or("the passcode registration flow is not shipped")?;
    let deployment = runtime.deploy(TENANT, definition.file_name, definition.bytes)?;
    let token = runtime.create_token(
        TENANT,
        NewToken {
            name: "register-alice".to_string(),
            description: "Passcode registration for Alice".to_string(),
            process_defn_name: deployment.name.clone(),
            process_defn_version: None,
            kind: TokenKind::Unlimited,
            parameters: json!({
                "storeName": STORE,
                "externalId": EXTERNAL_ID,
                "passcodePolicy": POLICY,
            }),
            ui_url: None,
        },
    )?;

    // The end user opens the token: the instance runs Add User and Start Passcode Registration
    // and rests at the registration form.
    let started = runtime.start(&token.id)?;
    let step = started
        .step
        .ok_or("the flow did not stop at the registration form")?;
    // The page's data is the start answer: requirements and SRP parameters.
    let start: wire::PasscodeSessionStart = serde_json::from_value(step.view["data"].clone())?;
    // The browser derives the verifier; the passcode itself never reaches the server.
    let request = client::register(&start, passcode)?;
    let finished = runtime.answer(
        &started.id,
        &step.step_id,
        json!({ "browserResponse": request }),
    )?;

    let user = identity.get_user(TENANT, STORE, UserRef::ExternalId(EXTERNAL_ID))?;
    Ok(Registered {
        status: finished.status.as_str().to_string(),
        outcome: finished.outcome,
        user: wire::User::from(&user),
    })
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> ExitCode {
    let passcode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "correct horse 42".to_string());
    match register_passcode(&passcode) {
        Ok(done) => {
            println!(
                "instance ended {} at {:?}",
                done.status,
                done.outcome.as_deref().unwrap_or("-")
            );
            println!("user {} ({})", done.user.id, done.user.external_id);
            if done.user.registered_passcodes.is_empty() {
                println!("no registered passcodes");
            }
            for p in &done.user.registered_passcodes {
                println!(
                    "registered passcode: policy {:?}, registered at {}",
                    p.policy_name, p.registered_at
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
