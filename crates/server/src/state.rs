//! The state every handler shares, and [`blocking`]: how handlers call the synchronous (sled)
//! domain crates without stalling the async runtime.

use std::sync::Arc;

use axum::extract::FromRef;
use idflow_activities::forms::Forms;
use idflow_engine::EngineError;
use idflow_identity::Identity;
use idflow_runtime::{Runtime, RuntimeError};

use crate::auth::SigningKey;
use crate::error::{code, ApiError};
use crate::metrics::Metrics;
use crate::rate::{StartLimiter, StartRate};
use crate::signin::SignInCodes;

/// Cheap to clone: one `Arc`.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    key: SigningKey,
    identity: Arc<Identity>,
    runtime: Arc<Runtime>,
    forms: Forms,
    body_limit: usize,
    starts: StartLimiter,
    /// Where end users reach this server (`http://127.0.0.1:8080`), once bound.
    public_url: std::sync::OnceLock<String>,
    /// The one-time sign-in codes of printed backoffice links.
    sign_in_codes: SignInCodes,
    /// Request latencies for `/metrics`.
    metrics: Metrics,
}

impl AppState {
    /// `identity`, `runtime` and `forms` must share one store (the activities write identity
    /// data inside the runtime's transactions).
    pub fn new(
        key: SigningKey,
        identity: Arc<Identity>,
        runtime: Arc<Runtime>,
        forms: Forms,
        body_limit: usize,
        start_rate: StartRate,
    ) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                key,
                identity,
                runtime,
                forms,
                body_limit,
                starts: StartLimiter::new(start_rate),
                public_url: std::sync::OnceLock::new(),
                sign_in_codes: SignInCodes::default(),
                metrics: Metrics::default(),
            }),
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.shared.identity
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.shared.runtime
    }

    pub fn forms(&self) -> &Forms {
        &self.shared.forms
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.shared.body_limit
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.shared.key
    }

    /// The rate limit on starts per process token.
    pub(crate) fn starts(&self) -> &StartLimiter {
        &self.shared.starts
    }

    /// Sets where end users reach this server (once; later calls change nothing).
    pub fn set_public_url(&self, url: impl Into<String>) {
        let _ = self.shared.public_url.set(url.into());
    }

    /// What `/metrics` reports beside the store's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The one-time sign-in codes waiting to be exchanged for tokens.
    pub fn sign_in_codes(&self) -> &SignInCodes {
        &self.shared.sign_in_codes
    }

    /// A one-time sign-in link to the backoffice standing for `token`.
    pub fn sign_in_link(&self, token: String) -> String {
        let code = self.shared.sign_in_codes.issue(token);
        let base = self
            .shared
            .public_url
            .get()
            .map(String::as_str)
            .unwrap_or("");
        format!("{}/backoffice/#code={code}", base.trim_end_matches('/'))
    }

    /// The link an end user opens for a process token: its page on this server.
    pub fn token_link(&self, token_id: &str) -> String {
        crate::pages::token_link(self.shared.public_url.get().map(String::as_str), token_id)
    }
}

impl FromRef<AppState> for SigningKey {
    fn from_ref(state: &AppState) -> SigningKey {
        state.shared.key.clone()
    }
}

/// Runs `work` on the blocking pool. A panic inside becomes a logged JSON 500, like a panic in
/// a handler.
pub async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => {
            let panic = e.into_panic();
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into());
            Err(ApiError::internal(format!(
                "blocking task panicked: {detail}"
            )))
        }
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "the server is shutting down",
        )),
    }
}

impl From<idflow_identity::Error> for ApiError {
    fn from(e: idflow_identity::Error) -> ApiError {
        match e {
            idflow_identity::Error::Refused(r) => refusal(&r),
            idflow_identity::Error::Failed(f) => ApiError::internal(f),
        }
    }
}

impl From<idflow_identity::Refusal> for ApiError {
    fn from(r: idflow_identity::Refusal) -> ApiError {
        refusal(&r)
    }
}

fn refusal(r: &idflow_identity::Refusal) -> ApiError {
    ApiError::new(refusal_status(r.kind()), r.code.as_str(), r.message.clone())
}

/// The HTTP status of an identity refusal's class: the one place identity's outcomes meet HTTP.
fn refusal_status(kind: idflow_identity::RefusalKind) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    use idflow_identity::RefusalKind;
    match kind {
        RefusalKind::NotFound => StatusCode::NOT_FOUND,
        RefusalKind::Invalid => StatusCode::BAD_REQUEST,
        RefusalKind::Conflict => StatusCode::CONFLICT,
    }
}

impl From<idflow_store::StoreError> for ApiError {
    fn from(e: idflow_store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<idflow_activities::FormError> for ApiError {
    fn from(e: idflow_activities::FormError) -> ApiError {
        match e.invalid() {
            Some(invalid) => ApiError::bad_request("INVALID_FORM", invalid.to_string()),
            None => ApiError::internal(e),
        }
    }
}

/// The answer for an instance that does not exist *or belongs to another tenant*: the two must
/// be indistinguishable.
pub(crate) fn instance_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "PROCESS_INSTANCE_NOT_FOUND",
        format!("no process instance {id:?}"),
    )
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> ApiError {
        use axum::http::StatusCode;
        match e {
            RuntimeError::InvalidDefinition {
                source_label,
                diagnostics,
            } => {
                let count = diagnostics.0.iter().filter(|d| d.is_error()).count();
                let first = diagnostics
                    .0
                    .iter()
                    .find(|d| d.is_error())
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                let details: Vec<serde_json::Value> = diagnostics
                    .0
                    .iter()
                    .map(|d| {
                        serde_json::json!({
                            "severity": d.severity.as_str(),
                            "code": d.code,
                            "message": d.message,
                            "source": d.source,
                            "line": d.line,
                            "column": d.column,
                            "elementId": d.element_id,
                        })
                    })
                    .collect();
                ApiError::bad_request(
                    "INVALID_DEFINITION",
                    format!("definition file '{source_label}' is invalid ({count} error(s)); first: {first}"),
                )
                .with_diagnostics(details)
            }
            RuntimeError::UnknownDefinition { .. } => {
                ApiError::not_found("PROCESS_DEFINITION_NOT_FOUND", e.to_string())
            }
            RuntimeError::TokenNameTaken { .. } => {
                ApiError::conflict("PROCESS_TOKEN_NAME_TAKEN", e.to_string())
            }
            RuntimeError::InvalidToken { .. } => {
                ApiError::bad_request("INVALID_PROCESS_TOKEN", e.to_string())
            }
            RuntimeError::UnknownTokenName { .. } | RuntimeError::UnknownToken => {
                ApiError::not_found("PROCESS_TOKEN_NOT_FOUND", e.to_string())
            }
            RuntimeError::TokenRefused { ref reason, .. } => {
                ApiError::conflict(reason.code(), e.to_string())
            }
            RuntimeError::UnknownInstance { ref id } => instance_not_found(id),
            RuntimeError::ParametersNotObject => {
                ApiError::bad_request("INVALID_PARAMETERS", e.to_string())
            }
            RuntimeError::InvalidRetention(_) => {
                ApiError::bad_request("INVALID_RETENTION_POLICY", e.to_string())
            }
            RuntimeError::InvalidQuery(_) => {
                ApiError::bad_request(code::INVALID_PARAMETER, e.to_string())
            }
            RuntimeError::Engine(engine) => match engine {
                EngineError::StaleStep { .. } => {
                    ApiError::conflict("STALE_STEP", engine.to_string())
                }
                EngineError::NotActive { .. } => {
                    ApiError::conflict("INSTANCE_NOT_ACTIVE", engine.to_string())
                }
                EngineError::AnswerTooLarge { .. } => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "ANSWER_TOO_LARGE",
                    engine.to_string(),
                ),
                EngineError::AnswerNotObject { .. } => {
                    ApiError::bad_request("INVALID_ANSWER", engine.to_string())
                }
                other => ApiError::conflict("INVALID_INSTANCE_STATE", other.to_string()),
            },
            RuntimeError::Store(_) | RuntimeError::Inconsistent(_) => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use idflow_identity::RefusalCode;

    use super::refusal_status;

    #[test]
    fn identity_refusals_answer_404_400_or_409_by_their_kind() {
        let expectations = [
            ("USER_NOT_FOUND", StatusCode::NOT_FOUND),
            ("POLICY_NOT_FOUND", StatusCode::NOT_FOUND),
            ("STORE_NOT_FOUND", StatusCode::NOT_FOUND),
            ("TENANT_NOT_FOUND", StatusCode::NOT_FOUND),
            ("PASSCODE_NOT_REGISTERED", StatusCode::NOT_FOUND),
            ("TOTP_NOT_REGISTERED", StatusCode::NOT_FOUND),
            ("EXT_ID_NOT_UNIQUE", StatusCode::CONFLICT),
            ("STORE_ALREADY_EXISTS", StatusCode::CONFLICT),
            ("POLICY_ALREADY_EXISTS", StatusCode::CONFLICT),
            ("PASSCODE_ALREADY_REGISTERED", StatusCode::BAD_REQUEST),
            ("INVALID_REGISTRATION_DATA", StatusCode::BAD_REQUEST),
            ("SESSION_EXPIRED", StatusCode::BAD_REQUEST),
            ("SESSION_NOT_FOUND", StatusCode::BAD_REQUEST),
            ("PASSCODE_IN_HISTORY", StatusCode::BAD_REQUEST),
            ("VERIFICATION_FAILED", StatusCode::BAD_REQUEST),
            ("USER_LOCKED", StatusCode::BAD_REQUEST),
            ("FAILED_TO_ADD_USER", StatusCode::BAD_REQUEST),
            ("TOTP_ALREADY_REGISTERED", StatusCode::BAD_REQUEST),
            ("INVALID_CODE", StatusCode::BAD_REQUEST),
            ("INVALID_ENCODING", StatusCode::BAD_REQUEST),
        ];
        for (text, status) in expectations {
            let code = RefusalCode::parse(text).map(|c| refusal_status(c.kind()));
            assert_eq!(code, Some(status), "{text}");
        }
    }
}
