//! A ready-to-use demo tenant: the identity store `demo` with a passcode policy and a TOTP policy
//! named `default`, the shipped definitions and forms deployed, and one process token per shipped
//! flow. `idflow serve` and `idflow run` call [`seed_demo`]; calling it again changes nothing.

use idflow_identity::{
    Identity, PasscodePolicy, PasscodeRequirements, RefusalCode, TotpAlgorithm, TotpPolicy,
};
use idflow_runtime::{NewToken, ProcessToken, Runtime, RuntimeError, TokenKind};
use serde_json::json;

use crate::error::FormError;
use crate::forms::{DeployedForm, Forms};
use crate::shipped;

/// The demo's identity store.
pub const DEMO_STORE: &str = "demo";
/// The name of the demo's passcode policy and of its TOTP policy.
pub const DEMO_POLICY: &str = "default";
/// The external ID the demo tokens act for.
pub const DEMO_EXTERNAL_ID: &str = "demo-user";

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("setting up the demo identity store: {0}")]
    Identity(#[from] idflow_identity::Error),
    #[error("deploying the demo definitions or tokens: {0}")]
    Runtime(#[from] RuntimeError),
    #[error("deploying the demo forms: {0}")]
    Form(#[from] FormError),
}

/// What the demo consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// The external ID written into every token's `externalId` parameter.
    pub external_id: String,
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            external_id: DEMO_EXTERNAL_ID.to_string(),
        }
    }
}

/// What [`seed_demo`] found or created.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub tenant: String,
    pub store: String,
    /// `(process ID, version)` of every shipped definition.
    pub definitions: Vec<(String, u32)>,
    pub forms: Vec<DeployedForm>,
    /// One token per shipped definition, named `demo-<process ID>` (its `id` is the credential
    /// an end user starts the flow with).
    pub tokens: Vec<ProcessToken>,
    /// Whether this call created anything (false when the demo was already complete).
    pub created_anything: bool,
}

/// The demo's passcode policy: 8 to 64 characters with a digit, a lower- and an upper-case
/// letter; the last 3 passcodes may not be reused; 5 wrong proofs in a row lock the user.
pub fn demo_passcode_policy() -> PasscodePolicy {
    PasscodePolicy {
        name: DEMO_POLICY.to_string(),
        requirements: PasscodeRequirements {
            minimum_length: 8,
            maximum_length: 64,
            digit_count: 1,
            lower_case_count: 1,
            upper_case_count: 1,
            passcode_history: 3,
            ..PasscodeRequirements::default()
        },
        max_failed_attempts: 5,
        session_lifetime_seconds: 300,
        temporary_lock_seconds: 0,
    }
}

/// The demo's TOTP policy: issuer `idflow`, SHA1, 6 digits every 30 s, one step of drift.
pub fn demo_totp_policy() -> TotpPolicy {
    TotpPolicy {
        name: DEMO_POLICY.to_string(),
        issuer: "idflow".to_string(),
        algorithm: TotpAlgorithm::Sha1,
        digits: 6,
        period_seconds: 30,
        accepted_drift_steps: 1,
        max_failed_attempts: 5,
        session_lifetime_seconds: 600,
    }
}

/// Sets up the demo in `tenant`, idempotently: whatever already exists (the store, a policy of
/// the same name, a token of the same name, identical definitions and forms) is kept as it is.
///
/// `runtime` and `identity` must share one store (the activities run identity operations inside
/// the runtime's transactions).
pub fn seed_demo(
    runtime: &Runtime,
    identity: &Identity,
    tenant: &str,
    options: &DemoOptions,
) -> Result<DemoSeed, SeedError> {
    let mut created_anything = false;
    let mut accept_existing = |result: Result<(), idflow_identity::Error>,
                               exists: RefusalCode|
     -> Result<(), SeedError> {
        match result {
            Ok(()) => {
                created_anything = true;
                Ok(())
            }
            Err(e) if e.code() == Some(exists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
    accept_existing(
        identity.create_store(tenant, DEMO_STORE).map(|_| ()),
        RefusalCode::StoreAlreadyExists,
    )?;
    accept_existing(
        identity
            .create_passcode_policy(tenant, DEMO_STORE, &demo_passcode_policy())
            .map(|_| ()),
        RefusalCode::PolicyAlreadyExists,
    )?;
    accept_existing(
        identity
            .create_totp_policy(tenant, DEMO_STORE, &demo_totp_policy())
            .map(|_| ()),
        RefusalCode::PolicyAlreadyExists,
    )?;

    let forms = Forms::new(runtime.store().clone());
    let mut deployed_forms = Vec::with_capacity(shipped::FORMS.len());
    for file in &shipped::FORMS {
        let deployed = forms.deploy(tenant, file.bytes).map_err(|e| match e {
            FormError::Invalid(source) => FormError::InvalidFile {
                path: file.file_name.to_string(),
                source,
            },
            other => other,
        })?;
        created_anything |= deployed.created;
        deployed_forms.push(deployed);
    }

    let mut definitions = Vec::with_capacity(shipped::DEFINITIONS.len());
    let mut tokens = Vec::with_capacity(shipped::DEFINITIONS.len());
    for file in &shipped::DEFINITIONS {
        let deployment = runtime.deploy(tenant, file.file_name, file.bytes)?;
        created_anything |= deployment.created;
        let token_name = format!("demo-{}", deployment.name);
        let token = match runtime.token(tenant, &token_name) {
            Ok(existing) => existing,
            Err(RuntimeError::UnknownTokenName { .. }) => {
                created_anything = true;
                runtime.create_token(
                    tenant,
                    NewToken {
                        name: token_name,
                        description: format!(
                            "Demo: {} for {}",
                            shipped::process_id(file),
                            options.external_id
                        ),
                        process_defn_name: deployment.name.clone(),
                        process_defn_version: None,
                        kind: TokenKind::Unlimited,
                        parameters: json!({
                            "storeName": DEMO_STORE,
                            "externalId": options.external_id,
                            "passcodePolicy": DEMO_POLICY,
                            "totpPolicy": DEMO_POLICY,
                        }),
                        ui_url: None,
                    },
                )?
            }
            Err(e) => return Err(e.into()),
        };
        definitions.push((deployment.name, deployment.version));
        tokens.push(token);
    }
    Ok(DemoSeed {
        tenant: tenant.to_string(),
        store: DEMO_STORE.to_string(),
        definitions,
        forms: deployed_forms,
        tokens,
        created_anything,
    })
}
