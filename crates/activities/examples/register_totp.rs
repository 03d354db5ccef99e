//! Registers a TOTP authenticator through the shipped TOTP registration flow, answering its form
//! with a code from the TOTP client, then runs the shipped current-TOTP flow and prints the
//! current QR code's URI (the `otpauth://` Key URI another device can scan), all in process.
//!
//! `cargo run -p idflow-activities --example register_totp`

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use idflow_activities::forms::Forms;
use idflow_activities::{shipped, Catalogue};
use idflow_identity::{client, wire, Identity, TotpAlgorithm, TotpPolicy, UserStatus};
use idflow_runtime::{NewToken, Runtime, RuntimeConfig, TokenKind};
use idflow_store::Store;
use serde_json::{json, Value};

const TENANT: &str = "example";
const STORE: &str = "customers";
const POLICY: &str = "authenticator";
const EXTERNAL_ID: &str = "bob@example.com";

/// What the walk-through ended with.
pub struct TotpWalkthrough {
    /// Final statuses of the registration and the current-TOTP instances.
    pub registration_status: String,
    pub current_status: String,
    /// The Key URI the registration form showed.
    pub registered_uri: String,
    /// The Key URI the current-TOTP form showed (the QR code's content).
    pub current_uri: String,
    /// The secret the current-TOTP form's copy button copies.
    pub current_secret: String,
    /// The registration's secret.
    pub registered_secret: String,
}

fn token(runtime: &Runtime, flow: &str) -> Result<String, Box<dyn Error>> {
    let file = shipped::DEFINITIONS
        .iter()
        .find(|f| shipped::process_id(f) == flow)
        .ok_or_else(|| format!("{flow} is not shipped"))?;
    let deployment = runtime.deploy(TENANT, file.file_name, file.bytes)?;
    let token = runtime.create_token(
        TENANT,
        NewToken {
            name: format!("{flow}-bob"),
            description: format!("{flow} for Bob"),
            process_defn_name: deployment.name,
            process_defn_version: None,
            kind: TokenKind::Unlimited,
            parameters: json!({
                "storeName": STORE,
                "externalId": EXTERNAL_ID,
                "totpPolicy": POLICY,
            }),
            ui_url: None,
        },
    )?;
    Ok(token.id)
}

/// The value of field `field` of the form component `element_id` in a rendered step view.
fn component_field(view: &Value, element_id: &str, field: &str) -> Result<String, Box<dyn Error>> {
    view["form"]["components"]
        .as_array()
        .and_then(|components| {
            components
                .iter()
                .find(|c| c["elementId"] == element_id)
                .and_then(|c| c[field].as_str())
        })
        .map(str::to_string)
        .ok_or_else(|| format!("the form has no {element_id}.{field}").into())
}

/// The whole walk-through; `main` only prints its result.
pub fn register_totp() -> Result<TotpWalkthrough, Box<dyn Error>> {
    let store = Store::temporary()?;
    let identity = Identity::with_system_clock(store.clone());
    let runtime = Runtime::new(
        store.clone(),
        Arc::new(Catalogue::new()),
        RuntimeConfig::default(),
    );
    identity.create_store(TENANT, STORE)?;
    identity.create_totp_policy(
        TENANT,
        STORE,
        &TotpPolicy {
            name: POLICY.to_string(),
            issuer: "idflow example".to_string(),
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period_seconds: 30,
            accepted_drift_steps: 1,
            max_failed_attempts: 5,
            session_lifetime_seconds: 600,
        },
    )?;
    identity.add_user(TENANT, STORE, EXTERNAL_ID, UserStatus::Active)?;
    let forms = Forms::new(store.clone());
    for form in &shipped::FORMS {
        forms.deploy(TENANT, form.bytes)?;
    }

    // Registration: the form shows the QR code; the authenticator app (the TOTP client here)
    // answers with its current code.
    let registration = runtime.start(&token(&runtime, "totp-registration")?)?;
    let step = registration
        .step
        .ok_or("the registration flow did not stop at its form")?;
    let start: wire::TotpRegistrationStart = serde_json::from_value(step.view["data"].clone())?;
    let registered_uri = component_field(&step.view, "totpQrCode", "qrContent")?;
    let code = client::totp_code_for_registration(&start, runtime.now_ms())?;
    let registered = runtime.answer(
        &registration.id,
        &step.step_id,
        json!({ "browserResponse": { "code": code } }),
    )?;

    // Current TOTP: Get TOTP, then the custom form with the QR code, link and copy button.
    let current = runtime.start(&token(&runtime, "current-totp")?)?;
    let shown = current
        .step
        .ok_or("the current-TOTP flow did not stop at its form")?;
    let current_uri = component_field(&shown.view, "currentTotpQrCode", "qrContent")?;
    let current_secret = component_field(&shown.view, "currentTotpSecret", "defaultValue")?;
    let finished = runtime.answer(&current.id, &shown.step_id, json!({}))?;

    Ok(TotpWalkthrough {
        registration_status: registered.status.as_str().to_string(),
        current_status: finished.status.as_str().to_string(),
        registered_uri,
        current_uri,
        current_secret,
        registered_secret: start.secret,
    })
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> ExitCode {
    match register_totp() {
        Ok(done) => {
            println!("TOTP registration ended {}", done.registration_status);
            println!("current-TOTP flow ended {}", done.current_status);
            println!("current QR code URI: {}", done.current_uri);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
