//! The form steps: what the end user's page is given when an instance rests at one.
//!
//! The view is `{"uiComponentId", "startingComponentId", "form", "data"}`: `form` is the custom
//! form named by "Data form name" / "Data form version", rendered against the variables (see
//! [`crate::forms`]); `data` (passcode and TOTP forms only) is the Start activity's output under
//! the step's registration key: the requirements and SRP parameters (with `serverPublicKey` for
//! renewal and authentication), or the TOTP Key URI, secret and QR code.

use idflow_defs::ActivityType;
use idflow_engine::Inputs;
use idflow_store::{StoreError, Tx};
use serde_json::{Map, Value};

use crate::forms;

/// The parameter naming a form step's registration key, and the Start activity that fills it.
fn data_source(activity: ActivityType) -> Option<(&'static str, &'static str)> {
    match activity {
        ActivityType::PasscodeRegistrationForm => {
            Some(("Passcode Registration Key", "Start Passcode Registration"))
        }
        // The seeds name the renewal form's key parameter "Passcode Authentication Key".
        ActivityType::PasscodeRenewalForm => {
            Some(("Passcode Authentication Key", "Start Passcode Renewal"))
        }
        ActivityType::PasscodeAuthenticationForm => Some((
            "Passcode Authentication Key",
            "Start Passcode Authentication",
        )),
        ActivityType::TotpRegistrationForm => {
            Some(("TOTP Registration Key", "Start TOTP Registration"))
        }
        _ => None,
    }
}

fn text(inputs: &Inputs, name: &str) -> Option<String> {
    match inputs.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Renders the view of a form step. `Ok(Err(message))`: the step cannot be shown (the form is
/// not deployed, a variable it needs is missing); the message names what is missing.
pub(crate) fn render(
    tx: &Tx<'_>,
    tenant: &str,
    variables: &Value,
    activity: ActivityType,
    inputs: &Inputs,
) -> Result<Result<Value, String>, StoreError> {
    let step = activity.spec().name;
    let Some(form_name) = text(inputs, "Data form name") else {
        return Ok(Err(format!(
            "{step}: parameter \"Data form name\" has no value"
        )));
    };
    let version = match inputs.get("Data form version") {
        None => 1,
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n >= 1 => n,
            _ => {
                let reason = format!("must be a version number from 1, got {v}");
                return Ok(Err(format!(
                    "{step}: parameter \"Data form version\" {reason}"
                )));
            }
        },
    };
    let Some(definition) = forms::load_compiled_in(tx, tenant, &form_name, version)? else {
        let latest = forms::latest_version_in(tx, tenant, &form_name)?;
        let hint = match latest {
            Some(latest) => format!(" (its latest version is {latest})"),
            None => " (no version of it is deployed)".to_string(),
        };
        return Ok(Err(format!(
            "{step}: custom form {form_name:?} version {version} is not deployed in tenant {tenant:?}{hint}"
        )));
    };
    // The session data first: without it the form's own templates would fail on the same
    // missing key with a less helpful message.
    let data = match data_source(activity) {
        None => None,
        Some((key_param, start)) => {
            let Some(key) = text(inputs, key_param) else {
                return Ok(Err(format!(
                    "{step}: parameter \"{key_param}\" has no value"
                )));
            };
            match variables.get(&key) {
                Some(data @ Value::Object(_)) => Some(data.clone()),
                _ => {
                    return Ok(Err(format!(
                        "{step}: processvar.{key} holds no started session: run {start} with the same key before this form"
                    )))
                }
            }
        }
    };
    let form = match definition.render(version, variables) {
        Ok(form) => form,
        Err(e) => return Ok(Err(format!("{step}: {e}"))),
    };
    let mut view = Map::new();
    for (field, param) in [
        ("uiComponentId", "UI Component ID"),
        ("startingComponentId", "Starting Component ID"),
    ] {
        if let Some(value) = text(inputs, param) {
            view.insert(field.into(), Value::String(value));
        }
    }
    view.insert("form".into(), form);
    if let Some(data) = data {
        view.insert("data".into(), data);
    }
    Ok(Ok(Value::Object(view)))
}
