//! The end user's routes, with no bearer token: start an instance with a process token, read
//! where it is, answer the current step.
//!
//! What authorizes the end user is what they hold (api.md): the process token's ID starts an
//! instance; the instance's unguessable ID together with the current step's ID lets them answer
//! that step. A step that is no longer current is 409 `STALE_STEP`; the same answer sent twice is
//! applied once (the runtime recognises it and answers the instance as it is now). Answers are
//! `Cache-Control: no-store`: a step may show a secret (a TOTP key).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use idflow_runtime::InstanceView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{code, ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::state::{blocking, AppState};

const TAG: &str = "end user";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_process_instance))
        .routes(routes!(read_process_instance))
        .routes(routes!(answer_step))
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The body that starts an instance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    /// The process token's `id`.
    #[schema(example = "UGIRW7QN727EIV2XLXG4YH42N4")]
    pub process_token: String,
}

/// The step an instance rests at, as its end user sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CurrentStep {
    /// Answer with `POST .../process-instances/{instanceId}/steps/{stepId}`.
    pub step_id: String,
    /// The step's activity type (`passcodeRegistrationForm`, `passcodeRenewalForm`,
    /// `passcodeAuthenticationForm`, `totpRegistrationForm`, `customDataForm`): what the page
    /// must compute for its answer.
    #[schema(example = "passcodeRegistrationForm")]
    pub activity: String,
    /// The screen the UI draws (`passcode-registration`, ...).
    pub ui_component_id: Option<String>,
    /// The step to start the UI at.
    pub starting_component_id: Option<String>,
    /// The custom form, rendered: plain JSON any UI can draw.
    pub form: Value,
    /// Passcode and TOTP forms: what the page needs from the Start activity (the requirements
    /// and SRP parameters, or the TOTP Key URI, secret and QR code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// An instance as its end user sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndUserInstance {
    #[schema(example = "UGIRW7QN727EIV2XLXG4YH42N4")]
    pub instance_id: String,
    /// `ACTIVE` while a step waits for an answer, else the final status.
    #[schema(example = "ACTIVE")]
    pub status: String,
    /// The step to answer while `ACTIVE`; `null` once ended.
    pub current_step: Option<CurrentStep>,
    /// The end event reached (name, else ID), once ended.
    pub outcome: Option<String>,
    /// The server's SRP proofs `M2` of the passcode renewals and authentications this instance
    /// completed, by session: the page checks the one of the exchange it sent before it shows
    /// success. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passcode_proofs: Vec<PasscodeProof>,
}

/// The server's proof of one completed SRP exchange.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasscodeProof {
    /// The identity session (`data.sessionId` of the step).
    pub session_id: String,
    /// `M2`, standard base64 of 32 bytes.
    pub m2: String,
}

/// The `{sessionId, m2}` pairs the Complete Passcode Renewal / Authentication activities wrote
/// under their keys.
fn passcode_proofs(variables: &Value) -> Vec<PasscodeProof> {
    let Some(vars) = variables.as_object() else {
        return Vec::new();
    };
    vars.values()
        .filter_map(|v| {
            let session_id = v.get("sessionId")?.as_str()?;
            let m2 = v.get("m2")?.as_str()?;
            Some(PasscodeProof {
                session_id: session_id.to_string(),
                m2: m2.to_string(),
            })
        })
        .collect()
}

fn field(view: &Value, name: &str) -> Option<String> {
    view.get(name).and_then(Value::as_str).map(str::to_owned)
}

impl From<&InstanceView> for EndUserInstance {
    fn from(v: &InstanceView) -> Self {
        EndUserInstance {
            instance_id: v.id.clone(),
            status: v.status.as_str().to_string(),
            current_step: v.step.as_ref().map(|s| CurrentStep {
                step_id: s.step_id.clone(),
                activity: s.activity.key().to_string(),
                ui_component_id: field(&s.view, "uiComponentId"),
                starting_component_id: field(&s.view, "startingComponentId"),
                form: s.view.get("form").cloned().unwrap_or(Value::Null),
                data: s.view.get("data").cloned(),
            }),
            outcome: v.outcome.clone(),
            passcode_proofs: passcode_proofs(&v.variables),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct InstancePath {
    /// The instance's ID, from the start answer (looked up as given: not found is 404).
    #[param(value_type = crate::constraints::InstanceId, inline)]
    instance_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct StepPath {
    /// The instance's ID, from the start answer.
    #[param(value_type = crate::constraints::InstanceId, inline)]
    instance_id: String,
    /// The current step's `stepId`.
    step_id: String,
}

/// Start a process instance with a process token (no bearer token).
#[utoipa::path(
    post, path = "/api/process-manager/process-instances", tag = TAG,
    operation_id = "startProcessInstance",
    request_body = StartRequest,
    responses(
        (status = 201, description = "Started: the instance ID, its status and the step to answer (or its final status).", body = EndUserInstance),
        (status = 404, description = "No process token has that ID (`PROCESS_TOKEN_NOT_FOUND`), or its definition is gone.", body = ErrorBody),
        (status = 409, description = "The token cannot start instances: `TOKEN_INACTIVE`, `TOKEN_EXPIRED`, `TOKEN_USED_UP`.", body = ErrorBody),
        (status = 429, description = "The token started instances faster than the server allows (`TOO_MANY_STARTS`); nothing was started. `Retry-After` says in how many seconds to try again.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a start is accepted again."))),
    ),
)]
async fn start_process_instance(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<StartRequest>,
) -> Result<(StatusCode, Json<EndUserInstance>), ApiError> {
    let view = blocking(move || {
        let token = body.process_token.as_str();
        // Only real tokens have a bucket: a made-up ID goes on to its 404.
        if state.runtime().is_token_id(token)? {
            if let Err(wait) = state.starts().check(token) {
                return Err(ApiError::too_many_requests(
                    "TOO_MANY_STARTS",
                    "this process token is starting instances faster than the server allows; try again shortly",
                    wait,
                ));
            }
        }
        Ok(state.runtime().start(token)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(EndUserInstance::from(&view))))
}

/// Read an instance as its end user sees it: the current step, or the final status (no bearer
/// token). This is how a page resumes after a reload or a `409 STALE_STEP`.
#[utoipa::path(
    get, path = "/api/process-manager/process-instances/{instanceId}", tag = TAG,
    operation_id = "readProcessInstanceAsEndUser", params(InstancePath),
    responses(
        (status = 200, description = "The step to answer, or the final status and outcome.", body = EndUserInstance),
        (status = 404, description = "No such instance (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
    ),
)]
async fn read_process_instance(
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
) -> Result<Json<EndUserInstance>, ApiError> {
    let view = blocking(move || Ok(state.runtime().instance(&p.instance_id)?)).await?;
    Ok(Json(EndUserInstance::from(&view)))
}

/// Answer the current step with the form's data (no bearer token).
#[utoipa::path(
    post, path = "/api/process-manager/process-instances/{instanceId}/steps/{stepId}", tag = TAG,
    operation_id = "answerStep", params(StepPath),
    request_body(content = Object, description = "The form's data, a JSON object (for SRP pages `{\"browserResponse\": {...}}`).", content_type = "application/json"),
    responses(
        (status = 200, description = "The next step, or the final status. The same answer sent again is applied once and answered with the instance as it is now.", body = EndUserInstance),
        (status = 400, description = "The answer is not a JSON object (`INVALID_ANSWER`) or too large (`ANSWER_TOO_LARGE`).", body = ErrorBody),
        (status = 404, description = "No such instance (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "The step is no longer current (`STALE_STEP`) or the instance has ended (`INSTANCE_NOT_ACTIVE`).", body = ErrorBody),
    ),
)]
async fn answer_step(
    State(state): State<AppState>,
    PathParams(p): PathParams<StepPath>,
    JsonBody(data): JsonBody<Value>,
) -> Result<Json<EndUserInstance>, ApiError> {
    if !data.is_object() {
        return Err(ApiError::bad_request(
            "INVALID_ANSWER",
            format!(
                "the answer to step {:?} must be a JSON object with the form's fields",
                p.step_id
            ),
        ));
    }
    if p.step_id.is_empty() || p.instance_id.is_empty() {
        return Err(ApiError::bad_request(
            code::INVALID_PARAMETER,
            "instanceId and stepId must not be empty",
        ));
    }
    let view =
        blocking(move || Ok(state.runtime().answer(&p.instance_id, &p.step_id, data)?)).await?;
    Ok(Json(EndUserInstance::from(&view)))
}
