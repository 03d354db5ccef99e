//! The backoffice's operations on running processes (issue 14): an instance's path on its
//! diagram, cancelling an instance, replaying its history against another version or a draft,
//! a process token's link as a QR code, and the live numbers per definition (as JSON for the
//! backoffice, and as Prometheus metrics at `/metrics`).
//!
//! Paths are in BPMN element IDs ([`idflow_engine::path_taken`]), so a page draws them on the
//! diagram it already has; replays use the replay library (`idflow-replay`) on the instance's
//! exported history, so what the page shows is what `idflow replay` would say.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use idflow_defs::Definition;
use idflow_engine::{path_taken, HistoryEvent, PathTaken};
use idflow_replay::{Outcome, Replayer, SourcedDefinition};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::process::{
    instance_of_tenant, InstancePath, ProcessInstanceBody, ProcessTokenBody, TokenPath,
    TAG_INSTANCES, TAG_TOKENS,
};
use super::TenantPath;
use crate::auth::{perm, Authorized, Bearer, Permission as _};
use crate::constraints::Version;
use crate::error::{code, ApiError, ErrorBody};
use crate::extract::{IgnoredBody, JsonBody, PathParams};
use crate::state::{blocking, AppState};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_process_instance_path))
        .routes(routes!(cancel_process_instance))
        .routes(routes!(replay_process_instance))
        .routes(routes!(get_process_token_qr))
        .routes(routes!(get_process_statistics))
        .routes(routes!(get_metrics))
}

// -- shapes ---------------------------------------------------------------------------------------

/// A definition a path was drawn on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathDefinitionBody {
    pub name: String,
    /// The deployed version; `null` for a draft.
    pub version: Option<u32>,
}

/// A node on a path.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathNodeBody {
    /// The node's BPMN element ID.
    pub element_id: String,
    /// How many times the run entered it.
    pub entered: u32,
}

/// The path a run took through its definition, in BPMN element IDs, each element once in the
/// order first reached.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstancePathBody {
    pub definition: PathDefinitionBody,
    /// `ACTIVE`, `COMPLETED_ENDED_SUCCESS`, `COMPLETED_ENDED_ERROR`, `COMPLETED_TERMINATED` or
    /// `COMPLETED_PROCESS_ERROR`.
    pub status: String,
    /// Nodes entered.
    pub nodes: Vec<PathNodeBody>,
    /// Sequence flows taken (element IDs).
    pub flows: Vec<String>,
    /// Boundary events that fired (element IDs).
    pub boundaries: Vec<String>,
    /// The step it rests at, while `ACTIVE`.
    pub resting_at: Option<String>,
    /// The end event it ended at; `null` while active or when it ended otherwise (cancelled, a
    /// process error).
    pub ended_at: Option<String>,
}

impl InstancePathBody {
    fn new(definition: PathDefinitionBody, path: PathTaken) -> InstancePathBody {
        InstancePathBody {
            definition,
            status: path.status.as_str().to_string(),
            nodes: path
                .nodes
                .into_iter()
                .map(|(element_id, entered)| PathNodeBody {
                    element_id,
                    entered,
                })
                .collect(),
            flows: path.flows,
            boundaries: path.boundaries,
            resting_at: path.resting_at,
            ended_at: path.ended_at,
        }
    }
}

/// What to replay an instance's history against: exactly one of `version` and `bpmn`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// A deployed version of the instance's definition.
    #[serde(default)]
    #[schema(value_type = Option<Version>, inline)]
    pub version: Option<Version>,
    /// A draft BPMN 2.0 file of the same process (not deployed, nothing is stored).
    #[serde(default)]
    pub bpmn: Option<String>,
}

/// The definition a replay ran against.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayDefinitionBody {
    pub name: String,
    /// The deployed version; `null` for a draft.
    pub version: Option<u32>,
    /// Hex SHA-256 of its BPMN bytes.
    pub content_hash: String,
}

/// Where a replay first left the recorded path.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DivergenceBody {
    /// The index of the first history event that differs.
    pub event_index: u64,
    /// The element where it diverged: the one the history went to, else the one the replay
    /// reached.
    pub element_id: Option<String>,
    /// The element the history went to (`null`: the history ends there).
    pub expected: Option<String>,
    /// The element the replay reached instead (`null`: the replay ended or stopped there).
    pub actual: Option<String>,
    /// The replay's account of the difference.
    pub message: String,
}

/// The result of a replay.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayResultBody {
    /// `SAME_PATH`: every recorded event was reproduced; `DIVERGED`: see `divergence`.
    #[schema(example = "SAME_PATH")]
    pub outcome: String,
    pub definition: ReplayDefinitionBody,
    pub divergence: Option<DivergenceBody>,
    /// The replayed run's path on the definition replayed against (up to where it could no
    /// longer follow the recorded inputs).
    pub path: InstancePathBody,
}

// -- routes ---------------------------------------------------------------------------------------

/// The path an instance took: nodes entered, flows taken, boundaries fired, where it rests or
/// ended, in BPMN element IDs of its definition version.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/path", tag = TAG_INSTANCES,
    operation_id = "getProcessInstancePath", params(InstancePath),
    responses(
        (status = 200, description = "The path.", body = InstancePathBody),
        (status = 404, description = "No such instance in this tenant (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessInstance"))),
)]
async fn get_process_instance_path(
    auth: Authorized<perm::GetProcessInstance>,
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
) -> Result<Json<InstancePathBody>, ApiError> {
    blocking(move || {
        let runtime = state.runtime();
        let view = instance_of_tenant(&state, &auth.tenant, &p.instance_id)?;
        let (definition, version) = runtime.definition(
            &view.tenant,
            &view.definition.name,
            Some(view.definition.version),
        )?;
        let events = runtime.history(&p.instance_id)?;
        Ok(Json(InstancePathBody::new(
            PathDefinitionBody {
                name: view.definition.name,
                version: Some(version),
            },
            path_taken(&definition, &events),
        )))
    })
    .await
}

/// Cancel an active instance: it ends `COMPLETED_TERMINATED`, its timers disarmed, and its
/// history records who cancelled it (the bearer token's subject). Durable before it answers.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/cancel", tag = TAG_INSTANCES,
    operation_id = "cancelProcessInstance", params(InstancePath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The instance, `COMPLETED_TERMINATED`.", body = ProcessInstanceBody),
        (status = 404, description = "No such instance in this tenant (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "The instance has already ended (`INSTANCE_NOT_ACTIVE`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("cancelProcessInstance"))),
)]
async fn cancel_process_instance(
    auth: Authorized<perm::CancelProcessInstance>,
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
    _body: IgnoredBody,
) -> Result<Json<ProcessInstanceBody>, ApiError> {
    blocking(move || {
        // Another tenant's instance is "not found"; the tenant of an instance never changes.
        instance_of_tenant(&state, &auth.tenant, &p.instance_id)?;
        let reason = cancel_reason(&auth.subject);
        let view = state.runtime().cancel(&p.instance_id, &reason)?;
        Ok(Json(ProcessInstanceBody::new(&view, state.runtime())))
    })
    .await
}

/// The most of a token's subject a cancel reason quotes.
const MAX_SUBJECT_CHARS: usize = 200;

/// What history records as a cancel's reason: who cancelled.
fn cancel_reason(subject: &str) -> String {
    let subject: String = subject
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SUBJECT_CHARS)
        .collect();
    format!("cancelled by {subject}")
}

/// Replay an instance's history against another deployed version of its definition or a draft
/// BPMN file: does the instance take the same path there? Nothing is stored.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/replay", tag = TAG_INSTANCES,
    operation_id = "replayProcessInstance", params(InstancePath),
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "`SAME_PATH` or `DIVERGED` (with where), and the replayed run's path.", body = ReplayResultBody),
        (status = 400, description = "Neither or both of `version` and `bpmn` (`INVALID_BODY`); the draft is invalid (`INVALID_DEFINITION`, with `diagnostics`); the draft is another process (`REPLAY_OTHER_PROCESS`).", body = ErrorBody),
        (status = 404, description = "No such instance in this tenant (`PROCESS_INSTANCE_NOT_FOUND`), or no such version (`PROCESS_DEFINITION_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "The history cannot be replayed (`REPLAY_REFUSED`; the message says why).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("replayProcessInstance"))),
)]
async fn replay_process_instance(
    auth: Authorized<perm::ReplayProcessInstance>,
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
    JsonBody(body): JsonBody<ReplayRequest>,
) -> Result<Json<ReplayResultBody>, ApiError> {
    blocking(move || {
        let runtime = state.runtime();
        let view = instance_of_tenant(&state, &auth.tenant, &p.instance_id)?;
        let name = view.definition.name.clone();
        let (target, version): (Arc<Definition>, Option<u32>) = match (body.version, body.bpmn) {
            (Some(version), None) => {
                let (def, v) = runtime.definition(&view.tenant, &name, Some(version.get()))?;
                (def, Some(v))
            }
            (None, Some(bpmn)) => (Arc::new(draft(&name, &bpmn)?), None),
            _ => {
                return Err(ApiError::bad_request(
                    code::INVALID_BODY,
                    "give exactly one of `version` (a deployed version) and `bpmn` (a draft)",
                ))
            }
        };
        let export = runtime.export_history(&p.instance_id)?;
        let bytes = serde_json::to_vec(&export).map_err(ApiError::internal)?;
        let history = idflow_replay::parse_history(&bytes).map_err(replay_refused)?;
        let source = match version {
            Some(v) => format!("{name} version {v}"),
            None => format!("{name} (draft)"),
        };
        let replayer = Replayer::against_definition(SourcedDefinition {
            source,
            definition: Arc::clone(&target),
        });
        let report = replayer.replay_history("history", &history);
        let divergence = match report.outcome {
            Outcome::Replayed(_) => None,
            Outcome::Diverged(d) => {
                let expected = d.expected_node.map(|n| n.id);
                let actual = d.reached_node.map(|n| n.id);
                Some(DivergenceBody {
                    event_index: d.index,
                    element_id: expected.clone().or_else(|| actual.clone()),
                    expected,
                    actual,
                    message: d.reason,
                })
            }
            Outcome::Refused(refusal) => return Err(replay_refused(refusal)),
        };
        let events: Vec<HistoryEvent> =
            idflow_replay::rerun(&target, &history, &Default::default());
        let path = InstancePathBody::new(
            PathDefinitionBody {
                name: name.clone(),
                version,
            },
            path_taken(&target, &events),
        );
        Ok(Json(ReplayResultBody {
            outcome: if divergence.is_some() {
                "DIVERGED"
            } else {
                "SAME_PATH"
            }
            .to_string(),
            definition: ReplayDefinitionBody {
                name,
                version,
                content_hash: target.content_hash.clone(),
            },
            divergence,
            path,
        }))
    })
    .await
}

/// A draft BPMN file of process `name`, loaded as a deployment would be (not stored).
fn draft(name: &str, bpmn: &str) -> Result<Definition, ApiError> {
    let label = "draft.bpmn";
    let loaded = idflow_defs::load(label, bpmn.as_bytes());
    let definition = loaded.definition.ok_or_else(|| {
        ApiError::from(idflow_runtime::RuntimeError::InvalidDefinition {
            source_label: label.to_string(),
            diagnostics: idflow_runtime::Diagnostics(loaded.diagnostics),
        })
    })?;
    if definition.process_id != name {
        return Err(ApiError::bad_request(
            "REPLAY_OTHER_PROCESS",
            format!(
                "the draft defines process '{}', but the instance runs '{name}'",
                definition.process_id
            ),
        ));
    }
    Ok(definition)
}

fn replay_refused(refusal: idflow_replay::Refusal) -> ApiError {
    ApiError::conflict(
        "REPLAY_REFUSED",
        format!("the instance's history cannot be replayed: {refusal}"),
    )
}

/// The QR code SVG is drawn at least this many pixels square.
const QR_SIZE: u32 = 256;

/// The process token's link (its `uiUrl`) as a QR code, drawn by the server.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-tokens/{tokenName}/qr", tag = TAG_TOKENS,
    operation_id = "getProcessTokenQrCode", params(TokenPath),
    responses(
        (status = 200, description = "An SVG document: the QR code of the token's `uiUrl`.", body = String, content_type = "image/svg+xml"),
        (status = 404, description = "No token of that name (`PROCESS_TOKEN_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "The link is too long for a QR code (`LINK_TOO_LONG_FOR_QR_CODE`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessToken"))),
)]
async fn get_process_token_qr(
    auth: Authorized<perm::GetProcessToken>,
    State(state): State<AppState>,
    PathParams(p): PathParams<TokenPath>,
) -> Result<Response, ApiError> {
    let svg = blocking(move || {
        let token = state.runtime().token(&auth.tenant, &p.token_name)?;
        let link = ProcessTokenBody::from(&token)
            .linked(&state)
            .ui_url
            .unwrap_or_default();
        idflow_identity::qr::svg(&link, QR_SIZE).map_err(|e| {
            ApiError::conflict("LINK_TOO_LONG_FOR_QR_CODE", format!("the token's link {e}"))
        })
    })
    .await?;
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "image/svg+xml")
        .body(Body::from(svg))
        .map_err(ApiError::internal)
}

// -- live numbers ---------------------------------------------------------------------------------

/// Instances ended, by status.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedCountsBody {
    #[serde(rename = "COMPLETED_ENDED_SUCCESS")]
    pub ended_success: u64,
    #[serde(rename = "COMPLETED_ENDED_ERROR")]
    pub ended_error: u64,
    #[serde(rename = "COMPLETED_TERMINATED")]
    pub terminated: u64,
    #[serde(rename = "COMPLETED_PROCESS_ERROR")]
    pub process_error: u64,
}

/// Instances resting at one step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestingCountBody {
    /// The step's BPMN element ID.
    pub element_id: String,
    pub count: u64,
}

/// The numbers of one definition version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefinitionStatisticsBody {
    pub name: String,
    pub version: u32,
    /// Instances started.
    pub started: u64,
    /// Started and not yet ended.
    pub active: u64,
    pub completed: CompletedCountsBody,
    /// Steps with instances resting at them now.
    pub resting: Vec<RestingCountBody>,
}

/// The tenant's live numbers, per definition version that has started an instance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessStatisticsBody {
    /// By name, then version.
    pub definitions: Vec<DefinitionStatisticsBody>,
}

impl From<&idflow_runtime::DefinitionStatistics> for DefinitionStatisticsBody {
    fn from(d: &idflow_runtime::DefinitionStatistics) -> Self {
        use idflow_engine::Status;
        let mut completed = CompletedCountsBody::default();
        for (status, n) in &d.ended {
            match status {
                Status::CompletedEndedSuccess => completed.ended_success = *n,
                Status::CompletedEndedError => completed.ended_error = *n,
                Status::CompletedTerminated => completed.terminated = *n,
                Status::CompletedProcessError => completed.process_error = *n,
                Status::Active => {}
            }
        }
        DefinitionStatisticsBody {
            name: d.name.clone(),
            version: d.version,
            started: d.started,
            active: d.active(),
            completed,
            resting: d
                .resting
                .iter()
                .map(|(element_id, count)| RestingCountBody {
                    element_id: element_id.clone(),
                    count: *count,
                })
                .collect(),
        }
    }
}

/// The tenant's live numbers per definition version: instances started, active, completed by
/// status, and resting at each step. Durable counters, exact across restarts.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-statistics", tag = TAG_INSTANCES,
    operation_id = "getProcessStatistics", params(TenantPath),
    responses((status = 200, description = "Per definition version.", body = ProcessStatisticsBody)),
    extensions(("x-permission" = json!("getProcessStatistics"))),
)]
async fn get_process_statistics(
    auth: Authorized<perm::GetProcessStatistics>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<ProcessStatisticsBody>, ApiError> {
    blocking(move || {
        let stats = state.runtime().statistics(&auth.tenant)?;
        Ok(Json(ProcessStatisticsBody {
            definitions: stats.iter().map(DefinitionStatisticsBody::from).collect(),
        }))
    })
    .await
}

/// Prometheus metrics (OpenMetrics text): per definition version, instances started, ended by
/// status, active and resting at each step, for the tenants whose `readMetrics` the bearer token
/// grants; and this server's request latencies by method, route template and status.
#[utoipa::path(
    get, path = "/metrics", tag = "meta", operation_id = "getMetrics",
    responses(
        (status = 200, description = "The OpenMetrics text exposition.", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, description = "No bearer token, a bad signature or an expired token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token grants `readMetrics` in no tenant (`FORBIDDEN`).", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-permission-any-tenant" = json!("readMetrics"))),
)]
async fn get_metrics(
    Bearer(claims): Bearer,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let permission = perm::ReadMetrics::NAME;
    let tenants = claims.tenants_granting(permission);
    if tenants.is_empty() {
        return Err(ApiError::forbidden(format!(
            "the bearer token grants {permission} in no tenant: /metrics needs TNT#{{tenant}}#{permission} (or TNT#{{tenant}}#*)"
        )));
    }
    let text = blocking(move || {
        let stats: Vec<_> = state
            .runtime()
            .all_statistics()?
            .into_iter()
            .filter(|(tenant, _)| tenants.binary_search(tenant).is_ok())
            .collect();
        Ok(state.metrics().render(&stats))
    })
    .await?;
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)
        .body(Body::from(text))
        .map_err(ApiError::internal)
}
