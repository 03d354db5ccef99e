//! What every activity handler shares: reading parameters, resolving the user, turning identity
//! refusals into the catalogue's error codes and checks, and building variable writes.

use idflow_defs::ActivityType;
use idflow_engine::{ActivityResult, Check, CheckResult, Inputs, VarWrite};
use idflow_expr::{json_kind, VarPath};
use idflow_identity::model::{User, UserRef};
use idflow_identity::ops::{self, Entropy};
use idflow_identity::wire;
use idflow_identity::{Failure, OpResult, Refusal, RefusalCode};
use idflow_runtime::ActivityContext;
use idflow_store::{StoreError, Tx};
use serde_json::Value;

/// Why a handler stopped early: with an answer for the engine, or with a store failure that must
/// abort (or retry) the transaction.
pub(crate) enum Stop {
    Answer(ActivityResult),
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

/// The inner result of a handler: `?` carries both refusals and store failures.
pub(crate) type Flow<T> = Result<T, Stop>;

/// Turns a handler's [`Flow`] into what [`idflow_runtime::ActivityHandler::run`] answers.
pub(crate) fn finish(flow: Flow<ActivityResult>) -> Result<ActivityResult, StoreError> {
    match flow {
        Ok(result) | Err(Stop::Answer(result)) => Ok(result),
        Err(Stop::Store(e)) => Err(e),
    }
}

/// An unexpected failure: the instance ends `COMPLETED_PROCESS_ERROR` with this message.
pub(crate) fn failed(message: impl Into<String>) -> Stop {
    Stop::Answer(ActivityResult::Failed {
        message: message.into(),
    })
}

/// One activity execution: where it runs and what it was given.
pub(crate) struct Run<'r, 'tx> {
    pub tx: &'r Tx<'tx>,
    pub ctx: &'r ActivityContext<'r>,
    pub activity: ActivityType,
    pub inputs: &'r Inputs,
}

impl Run<'_, '_> {
    pub fn name(&self) -> &'static str {
        self.activity.spec().name
    }

    pub fn tenant(&self) -> &str {
        self.ctx.tenant()
    }

    pub fn now_ms(&self) -> i64 {
        self.ctx.now_ms()
    }

    pub fn variables(&self) -> &Value {
        self.ctx.variables()
    }

    /// Fresh randomness for one identity operation, from the runtime's random source (drawn per
    /// attempt: a retried transaction draws again, and nothing drawn outlives a failed attempt).
    pub fn entropy(&self) -> Entropy {
        let mut bytes = [0u8; Entropy::LEN];
        self.ctx.random_bytes(&mut bytes);
        Entropy::from_bytes(bytes)
    }

    /// A text parameter, `None` when absent or empty. Numbers are accepted as their text; any
    /// other JSON value is a failure naming the parameter.
    pub fn optional_text(&self, param: &str) -> Flow<Option<String>> {
        match self.inputs.get(param) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(failed(format!(
                "{}: parameter \"{param}\" must be text, but it is {}",
                self.name(),
                json_kind(other)
            ))),
        }
    }

    /// A required text parameter; absent or empty is a failure naming it.
    pub fn required_text(&self, param: &str) -> Flow<String> {
        self.optional_text(param)?.ok_or_else(|| {
            failed(format!(
                "{}: parameter \"{param}\" is required but has no value",
                self.name()
            ))
        })
    }

    /// Unwraps an identity operation: a failure below the domain stops the handler (a store
    /// error aborts the transaction), a refusal is handed back for the caller to map.
    pub fn op<T>(&self, result: OpResult<T>) -> Flow<Result<T, Refusal>> {
        match result {
            Ok(outcome) => Ok(outcome),
            Err(Failure::Store(e)) => Err(Stop::Store(e)),
            Err(Failure::Corrupt { what, reason }) => {
                Err(Stop::Store(StoreError::Corrupt { key: what, reason }))
            }
            Err(other) => Err(failed(format!("{}: {other}", self.name()))),
        }
    }

    /// The engine's answer to an identity refusal: the catalogue code this activity raises for
    /// it (with a FAIL check when the activity verifies something and the code is an expected
    /// verification failure), or a failure when the catalogue has no code for it. `writes` are
    /// kept (a user looked up before the refusal stays under its key).
    pub fn refused(&self, refusal: Refusal, writes: Vec<VarWrite>) -> Stop {
        self.refused_at(refusal, writes, None)
    }

    /// As [`Run::refused`], and also records the outcome under `processvar.<status_key>`:
    /// `status` `FAILED` and `errorCode` (how a Complete activity reports on its session).
    pub fn refused_at(
        &self,
        refusal: Refusal,
        mut writes: Vec<VarWrite>,
        status_key: Option<&str>,
    ) -> Stop {
        let mapped = catalogue_code(self.activity, refusal.code, &refusal.message);
        // Codes only: messages stay out of logs (they name users and policies).
        tracing::debug!(
            activity = self.activity.key(),
            node = self.ctx.node(),
            identity_code = refusal.code.as_str(),
            raised = mapped.unwrap_or("(none: the instance fails)"),
            "activity refused"
        );
        let Some(code) = mapped else {
            return failed(format!(
                "{}: {} ({})",
                self.name(),
                refusal.message,
                refusal.code
            ));
        };
        let message = if code == refusal.code.as_str() {
            refusal.message
        } else {
            format!("{} ({})", refusal.message, refusal.code)
        };
        let checks = if is_verification(self.activity) && FAIL_CHECK_CODES.contains(&code) {
            vec![Check {
                name: self.name().to_string(),
                result: CheckResult::Fail,
                detail: format!("{code}: {message}"),
            }]
        } else {
            Vec::new()
        };
        if let Some(key) = status_key {
            writes.push(put(&[key, "status"], Value::String("FAILED".into())));
            writes.push(put(&[key, "errorCode"], Value::String(code.into())));
        }
        Stop::Answer(ActivityResult::Refused {
            code: code.to_string(),
            message,
            writes,
            checks,
        })
    }

    /// A refusal this crate raises itself (not from the identity core), e.g. unusable browser
    /// data. `code` must be one of the activity's catalogue codes.
    pub fn refuse(&self, code: RefusalCode, message: impl Into<String>) -> Stop {
        self.refused(Refusal::new(code, message), Vec::new())
    }

    /// The PASS check of a verifying activity.
    pub fn pass(&self, detail: impl Into<String>) -> Check {
        Check {
            name: self.name().to_string(),
            result: CheckResult::Pass,
            detail: detail.into(),
        }
    }

    /// Resolves the user the activity acts on (the user-reference rule, see the module docs):
    /// the user already under `processvar.<User Key>`, else the one named by "User ID", else by
    /// "User External ID". Answers the user and, when it was looked up (not reused), the write
    /// that stores it under the user key.
    pub fn resolve_user(&self, store: &str) -> Flow<(User, Option<VarWrite>)> {
        let user_key = self.required_text("User Key")?;
        let held_id = self
            .variables()
            .get(&user_key)
            .and_then(|held| held.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let user_id = self.optional_text("User ID")?;
        let external_id = self.optional_text("User External ID")?;
        let (reference, reused) = match (&held_id, &user_id, &external_id) {
            (Some(id), _, _) => (UserRef::Id(id), true),
            (None, Some(id), _) => (UserRef::Id(id), false),
            (None, None, Some(ext)) => (UserRef::ExternalId(ext), false),
            (None, None, None) => {
                return Err(self.refuse(
                    RefusalCode::UserNotFound,
                    format!(
                        "no user to act on: processvar.{user_key} holds no user, and neither \
                         \"User ID\" nor \"User External ID\" was given"
                    ),
                ))
            }
        };
        let found = ops::get_user(self.tx, self.tenant(), store, reference, self.now_ms());
        let user = match self.op(found)? {
            Ok(user) => user,
            Err(refusal) => return Err(self.refused(refusal, Vec::new())),
        };
        let write = (!reused).then(|| put(&[&user_key], user_json(&user)));
        Ok((user, write))
    }
}

/// The codes that, raised by a verifying activity, are expected verification failures and append
/// a FAIL check. Other codes (look-ups, preconditions) are routing facts and append nothing.
pub(crate) const FAIL_CHECK_CODES: [&str; 6] = [
    "VERIFICATION_FAILED",
    "PASSCODE_IN_HISTORY",
    "INVALID_CODE",
    "SESSION_EXPIRED",
    "USER_LOCKED",
    "INVALID_REGISTRATION_DATA",
];

/// The activities that verify something and record checks.
pub(crate) fn is_verification(activity: ActivityType) -> bool {
    matches!(
        activity,
        ActivityType::CompletePasscodeRegistration
            | ActivityType::CompletePasscodeRenewal
            | ActivityType::CompletePasscodeAuthentication
            | ActivityType::CompleteTotpRegistration
    )
}

/// The catalogue code `activity` raises for an identity refusal, or `None` when the catalogue
/// has none for it (the instance then fails with the identity's message).
pub(crate) fn catalogue_code(
    activity: ActivityType,
    code: RefusalCode,
    message: &str,
) -> Option<&'static str> {
    let spec = activity.spec();
    let raises = |c: &'static str| spec.raises(c).then_some(c);
    if let Some(own) = raises(code.as_str()) {
        return Some(own);
    }
    match (activity, code) {
        // "Failed to add the user": anything but a taken external ID.
        (ActivityType::AddUser, _) => raises("FAILED_TO_ADD_USER"),
        // A session that is gone (used, purged) is, to the flow, an expired one.
        (_, RefusalCode::SessionNotFound) => raises("SESSION_EXPIRED"),
        // The registration changed under the session (registered or deregistered elsewhere).
        (ActivityType::CompletePasscodeRegistration, RefusalCode::PasscodeAlreadyRegistered)
        | (ActivityType::CompletePasscodeRenewal, RefusalCode::PasscodeNotRegistered) => {
            raises("SESSION_EXPIRED")
        }
        // A malformed or hostile proof does not verify.
        (_, RefusalCode::InvalidVerificationData) => raises("VERIFICATION_FAILED"),
        // Undecodable base64: registration data when the verifier is at fault, else the proof.
        (_, RefusalCode::InvalidEncoding) => {
            if message.contains("srpRegistrationData") {
                raises("INVALID_REGISTRATION_DATA").or_else(|| raises("VERIFICATION_FAILED"))
            } else {
                raises("VERIFICATION_FAILED").or_else(|| raises("INVALID_REGISTRATION_DATA"))
            }
        }
        // A disabled user may not prove anything either.
        (_, RefusalCode::UserDisabled) => raises("USER_LOCKED"),
        // No such policy: then certainly no registration under it.
        (_, RefusalCode::PolicyNotFound) => {
            raises("PASSCODE_NOT_REGISTERED").or_else(|| raises("TOTP_NOT_REGISTERED"))
        }
        _ => None,
    }
}

/// A write of `value` at `processvar.<keys...>`.
pub(crate) fn put(keys: &[&str], value: Value) -> VarWrite {
    VarWrite {
        path: VarPath::keys(keys),
        value,
        secret: false,
    }
}

/// A write marked secret (redacted in history and API reads, still usable by forms).
pub(crate) fn put_secret(keys: &[&str], value: Value) -> VarWrite {
    VarWrite {
        path: VarPath::keys(keys),
        value,
        secret: true,
    }
}

/// A user as the API shows it.
pub(crate) fn user_json(user: &User) -> Value {
    wire::to_value(&wire::User::from(user))
}
