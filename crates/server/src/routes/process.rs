//! `/api/process-manager/tenants/{tenantId}/...`: definitions, custom forms, process tokens and
//! instance reads, all with a bearer token.
//!
//! The JSON shapes here are the server's own (the runtime has no wire types): each is a serde
//! type with its OpenAPI schema, built from the runtime's views.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use idflow_identity::wire::{format_timestamp, optional_whole_number, parse_timestamp};
use idflow_runtime::{
    DeploymentInfo, InstanceQuery, InstanceSummary, InstanceView, NewToken, ProcessToken, TokenKind,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TenantPath;
use crate::auth::{perm, Authorized};
use crate::constraints::{
    DefinitionName, FileName, FormName, InstanceCursor, InstanceId, InstancePageLimit,
    InstanceStatus, MaxUses, RetentionDays, TenantId, Timestamp, TokenDescription, TokenName,
    TokenType, TokenUiUrl, Version, TOKEN_COUNT_LIMITED, TOKEN_TIME_LIMITED, TOKEN_UNLIMITED,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams, QueryParams, XmlBody};
use crate::state::{blocking, AppState};

const TAG_DEFINITIONS: &str = "process definitions";
const TAG_FORMS: &str = "custom forms";
pub(crate) const TAG_TOKENS: &str = "process tokens";
pub(crate) const TAG_INSTANCES: &str = "process instances";
const TAG_RETENTION: &str = "retention";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deploy_process_definition, list_process_definitions))
        .routes(routes!(get_process_definition))
        .routes(routes!(get_process_definition_version))
        .routes(routes!(get_process_definition_source))
        .routes(routes!(deploy_custom_form, list_custom_forms))
        .routes(routes!(get_custom_form))
        .routes(routes!(get_custom_form_version))
        .routes(routes!(create_process_token, list_process_tokens))
        .routes(routes!(get_process_token))
        .routes(routes!(deactivate_process_token))
        .routes(routes!(list_process_instances))
        .routes(routes!(get_process_instance))
        .routes(routes!(get_process_instance_history))
        .routes(routes!(get_retention_policy, set_retention_policy))
}

// -- parameters -----------------------------------------------------------------------------------
//
// As in `identity.rs`: each parameter is read into its `constraints` type, one declaration for the
// check and the documented schema; an instance ID is looked up as given (not found: 404).

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct DefinitionPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The definition's name: its BPMN process `id`.
    #[param(inline)]
    definition_name: DefinitionName,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct DefinitionVersionPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The definition's name: its BPMN process `id`.
    #[param(inline)]
    definition_name: DefinitionName,
    /// 1, 2, 3…
    #[param(inline)]
    version: Version,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct DeployQuery {
    /// The file name diagnostics are located in; absent or empty: `definition.bpmn`.
    #[param(inline)]
    file_name: Option<FileName>,
}

impl DeployQuery {
    /// The file name given, else `definition.bpmn`: `?fileName=` (empty) is taken as absent, as
    /// form submissions send it.
    pub(crate) fn file_name(&self) -> &str {
        self.file_name
            .as_ref()
            .map(FileName::as_str)
            .filter(|name| !name.is_empty())
            .unwrap_or("definition.bpmn")
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct FormPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The form's name.
    #[param(inline)]
    form_name: FormName,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct FormVersionPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The form's name.
    #[param(inline)]
    form_name: FormName,
    /// 1, 2, 3…
    #[param(inline)]
    version: Version,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct TokenPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The token's name (unique in the tenant).
    #[param(inline)]
    pub(crate) token_name: TokenName,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct InstancePath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The instance's 26-character ID.
    #[param(value_type = InstanceId, inline)]
    pub(crate) instance_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct InstanceListQuery {
    /// Only instances with this status.
    #[param(inline)]
    status: Option<InstanceStatus>,
    /// Only instances of this definition name.
    #[param(inline)]
    definition: Option<DefinitionName>,
    /// Only instances started at or after this time (RFC 3339).
    #[param(value_type = Option<Timestamp>, inline)]
    started_after: Option<Timestamp>,
    /// Only instances started before this time (RFC 3339).
    #[param(value_type = Option<Timestamp>, inline)]
    started_before: Option<Timestamp>,
    /// The `next` of the previous page.
    #[param(inline)]
    after: Option<InstanceCursor>,
    /// Page size (default 50).
    #[param(inline)]
    limit: Option<InstancePageLimit>,
}

// -- shapes ---------------------------------------------------------------------------------------

/// The answer to a deployment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployed {
    #[schema(example = "passcode-registration")]
    pub name: String,
    #[schema(example = 1)]
    pub version: u32,
    /// `false` when identical content was already deployed: the version is the existing one.
    pub created: bool,
}

/// One deployed definition version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefinitionInfo {
    pub name: String,
    pub version: u32,
    /// Hex SHA-256 of the BPMN bytes.
    pub content_hash: String,
    /// The process's `name` attribute, if any.
    pub process_name: Option<String>,
    /// The file name it was deployed as.
    pub source_label: String,
    /// RFC 3339.
    pub deployed_at: String,
}

impl From<&DeploymentInfo> for DefinitionInfo {
    fn from(d: &DeploymentInfo) -> Self {
        DefinitionInfo {
            name: d.name.clone(),
            version: d.version,
            content_hash: d.content_hash.clone(),
            process_name: d.process_name.clone(),
            source_label: d.source_label.clone(),
            deployed_at: format_timestamp(d.deployed_at_ms),
        }
    }
}

/// Every deployed version of the tenant's definitions, by name then version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionList {
    pub definitions: Vec<DefinitionInfo>,
}

/// One definition name with all its versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefinitionVersions {
    pub name: String,
    pub latest_version: u32,
    pub versions: Vec<DefinitionInfo>,
}

/// A custom form definition as deployed: documented by the schema the forms module generates
/// from its own component table (the body is read as JSON and checked there).
pub struct CustomFormDefinition;

impl utoipa::PartialSchema for CustomFormDefinition {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let schema = idflow_activities::forms::definition_json_schema();
        match serde_json::from_value(schema) {
            Ok(schema) => utoipa::openapi::RefOr::T(schema),
            // Cannot happen for the generated schema; an unconstrained object is still true.
            Err(_) => utoipa::openapi::RefOr::T(
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Object)
                    .into(),
            ),
        }
    }
}

impl ToSchema for CustomFormDefinition {}

/// The answer to a form deployment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormDeployed {
    pub name: String,
    pub version: u32,
    pub content_hash: String,
    /// `false` when identical content was already deployed under this version.
    pub created: bool,
}

/// One deployed form version, as listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormSummary {
    pub name: String,
    pub version: u32,
    pub content_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormList {
    pub forms: Vec<FormSummary>,
}

/// A deployed form version with its definition (the format is documented with the activities).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormVersion {
    pub name: String,
    pub version: u32,
    /// The form definition, canonical JSON.
    pub definition: Value,
}

/// A process token to create. Every optional field may also be `null`, which means the same as
/// leaving it out (as Camunda and Keycloak clients send them).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProcessToken {
    /// Unique in the tenant.
    #[schema(value_type = TokenName, inline, example = "signup")]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<TokenDescription>, inline)]
    pub description: Option<String>,
    /// The definition it starts.
    #[schema(value_type = DefinitionName, inline, example = "passcode-registration")]
    pub process_defn_name: String,
    /// Absent: the latest version deployed when an instance starts.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<Version>, inline)]
    pub process_defn_version: Option<u32>,
    /// `UNLIMITED` (the default), `MULTI_USE_COUNT_LIMITED` (with `maxUses`) or
    /// `MULTI_USE_TIME_LIMITED` (with `expiresAt`); the other kind's field is ignored.
    #[serde(rename = "type", default)]
    #[schema(value_type = Option<TokenType>, inline, example = "MULTI_USE_COUNT_LIMITED")]
    pub kind: Option<String>,
    /// Required by `MULTI_USE_COUNT_LIMITED`.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<MaxUses>, inline)]
    pub max_uses: Option<u64>,
    /// Required by `MULTI_USE_TIME_LIMITED`; RFC 3339.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>, inline)]
    pub expires_at: Option<String>,
    /// Copied into `processvar.token`: a JSON object (absent or `null`: `{}`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// Where an end user opens it; absent: its page on this server (`{server}/flow/#token={id}`).
    #[serde(default)]
    #[schema(value_type = Option<TokenUiUrl>, inline)]
    pub ui_url: Option<String>,
}

/// A process token. `id` is the credential an end user presents to start an instance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessTokenBody {
    /// The credential (`{"processToken": id}` starts an instance).
    pub id: String,
    pub name: String,
    pub description: String,
    pub process_defn_name: String,
    pub process_defn_version: Option<u32>,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_uses: Option<u64>,
    /// RFC 3339.
    pub expires_at: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub parameters: Value,
    /// Where an end user opens it: the URL the backend set, else its page on this server
    /// (`{server}/flow/#token={id}`).
    pub ui_url: Option<String>,
    /// Instances started with it so far.
    pub uses: u64,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&ProcessToken> for ProcessTokenBody {
    fn from(t: &ProcessToken) -> Self {
        let (max_uses, expires_at) = match t.kind {
            TokenKind::Unlimited => (None, None),
            TokenKind::CountLimited { max_uses } => (Some(max_uses), None),
            TokenKind::TimeLimited { expires_at_ms } => {
                (None, Some(format_timestamp(expires_at_ms)))
            }
        };
        ProcessTokenBody {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            process_defn_name: t.process_defn_name.clone(),
            process_defn_version: t.process_defn_version,
            kind: t.kind.as_str().to_string(),
            max_uses,
            expires_at,
            status: t.status.as_str().to_string(),
            parameters: t.parameters.clone(),
            ui_url: t.ui_url.clone(),
            uses: t.uses,
            created_at: format_timestamp(t.created_at_ms),
        }
    }
}

impl ProcessTokenBody {
    /// The body with `uiUrl` defaulting to the token's page on this server.
    pub(crate) fn linked(mut self, state: &AppState) -> Self {
        if self.ui_url.is_none() {
            self.ui_url = Some(state.token_link(&self.id));
        }
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessTokenList {
    pub tokens: Vec<ProcessTokenBody>,
}

/// A definition version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionRefBody {
    pub name: String,
    pub version: u32,
}

/// Where an instance rests, as an administrator sees it (the step's ID, which lets the end user
/// answer, and its rendered form, which may show a secret, are the end user's alone).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepSummary {
    /// The step's BPMN node ID.
    pub node: String,
    /// The activity type key.
    pub activity: String,
}

/// Why an instance ended `COMPLETED_PROCESS_ERROR`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceErrorBody {
    pub node: Option<String>,
    pub message: String,
}

/// A process instance read with a bearer token: secrets in `variables` are replaced by
/// `secret:hmac-sha256:...` markers, keyed with a key that never leaves the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessInstanceBody {
    pub id: String,
    pub definition: DefinitionRefBody,
    pub token_name: Option<String>,
    /// `ACTIVE`, `COMPLETED_ENDED_SUCCESS`, `COMPLETED_ENDED_ERROR`, `COMPLETED_TERMINATED` or
    /// `COMPLETED_PROCESS_ERROR`.
    pub status: String,
    /// The end event's name (else ID), once ended.
    pub outcome: Option<String>,
    pub error: Option<InstanceErrorBody>,
    /// The step it rests at, while `ACTIVE`.
    pub current_step: Option<StepSummary>,
    /// The process variables, secrets redacted.
    pub variables: Value,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl ProcessInstanceBody {
    /// The body of `v`, its secrets redacted by `runtime` (whose key the markers are keyed with).
    pub(crate) fn new(v: &InstanceView, runtime: &idflow_runtime::Runtime) -> Self {
        ProcessInstanceBody {
            id: v.id.clone(),
            definition: DefinitionRefBody {
                name: v.definition.name.clone(),
                version: v.definition.version,
            },
            token_name: v.token_name.clone(),
            status: v.status.as_str().to_string(),
            outcome: v.outcome.clone(),
            error: v.error.as_ref().map(|e| InstanceErrorBody {
                node: e.node.clone(),
                message: e.message.clone(),
            }),
            current_step: v.step.as_ref().map(|s| StepSummary {
                node: s.node.clone(),
                activity: s.activity.key().to_string(),
            }),
            variables: runtime.redacted_variables(v),
            started_at: format_timestamp(v.started_at_ms),
            updated_at: format_timestamp(v.updated_at_ms),
        }
    }
}

/// One line of an instance listing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceSummaryBody {
    pub id: String,
    pub definition: DefinitionRefBody,
    pub token_name: Option<String>,
    pub status: String,
    pub outcome: Option<String>,
    pub started_at: String,
    pub updated_at: String,
}

impl From<&InstanceSummary> for InstanceSummaryBody {
    fn from(s: &InstanceSummary) -> Self {
        InstanceSummaryBody {
            id: s.id.clone(),
            definition: DefinitionRefBody {
                name: s.definition.name.clone(),
                version: s.definition.version,
            },
            token_name: s.token_name.clone(),
            status: s.status.as_str().to_string(),
            outcome: s.outcome.clone(),
            started_at: format_timestamp(s.started_at_ms),
            updated_at: format_timestamp(s.updated_at_ms),
        }
    }
}

/// A page of instances, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancePageBody {
    pub items: Vec<InstanceSummaryBody>,
    /// Pass back as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
    /// Instances of this page's range whose stored record could not be read: left out of
    /// `items` (the server's log says which), so one damaged record never hides the others.
    #[serde(default)]
    pub unreadable: usize,
}

// -- definitions ----------------------------------------------------------------------------------

/// Deploy a BPMN 2.0 definition under its process `id`.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-definitions", tag = TAG_DEFINITIONS,
    operation_id = "deployProcessDefinition", params(TenantPath, DeployQuery),
    request_body(content = String, description = "The BPMN 2.0 XML file.", content_type = "application/xml"),
    responses(
        (status = 201, description = "Deployed: the name and version. Identical content keeps its version (`created: false`).", body = Deployed),
        (status = 400, description = "The file is invalid (`INVALID_DEFINITION`); `diagnostics` locates every problem (`line`, `column`, `elementId`). An empty or non-UTF-8 body is `INVALID_BODY`.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deployProcessDefinition"))),
)]
async fn deploy_process_definition(
    auth: Authorized<perm::DeployProcessDefinition>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    QueryParams(q): QueryParams<DeployQuery>,
    XmlBody(xml): XmlBody,
) -> Result<(StatusCode, Json<Deployed>), ApiError> {
    let label = q.file_name().to_string();
    let deployed = blocking(move || {
        let d = state
            .runtime()
            .deploy(&auth.tenant, &label, xml.as_bytes())?;
        Ok(Deployed {
            name: d.name,
            version: d.version,
            created: d.created,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(deployed)))
}

/// List every deployed definition version of the tenant.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-definitions", tag = TAG_DEFINITIONS,
    operation_id = "listProcessDefinitions", params(TenantPath),
    responses((status = 200, description = "By name, then version.", body = DefinitionList)),
    extensions(("x-permission" = json!("listProcessDefinitions"))),
)]
async fn list_process_definitions(
    auth: Authorized<perm::ListProcessDefinitions>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<DefinitionList>, ApiError> {
    blocking(move || {
        let list = state.runtime().list_definitions(&auth.tenant)?;
        Ok(Json(DefinitionList {
            definitions: list.iter().map(DefinitionInfo::from).collect(),
        }))
    })
    .await
}

/// Read a definition: its versions and the latest.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-definitions/{definitionName}", tag = TAG_DEFINITIONS,
    operation_id = "getProcessDefinition", params(DefinitionPath),
    responses(
        (status = 200, description = "Every version of the definition.", body = DefinitionVersions),
        (status = 404, description = "No definition of that name (`PROCESS_DEFINITION_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessDefinition"))),
)]
async fn get_process_definition(
    auth: Authorized<perm::GetProcessDefinition>,
    State(state): State<AppState>,
    PathParams(p): PathParams<DefinitionPath>,
) -> Result<Json<DefinitionVersions>, ApiError> {
    blocking(move || {
        let runtime = state.runtime();
        let latest = runtime
            .latest_version(&auth.tenant, &p.definition_name)?
            .ok_or_else(|| definition_not_found(&p.definition_name, None))?;
        let versions = runtime
            .list_definitions(&auth.tenant)?
            .iter()
            .filter(|d| d.name == *p.definition_name)
            .map(DefinitionInfo::from)
            .collect();
        Ok(Json(DefinitionVersions {
            name: p.definition_name.into_string(),
            latest_version: latest,
            versions,
        }))
    })
    .await
}

pub(crate) fn definition_not_found(name: &str, version: Option<u32>) -> ApiError {
    ApiError::not_found(
        "PROCESS_DEFINITION_NOT_FOUND",
        match version {
            Some(v) => format!("no process definition '{name}' version {v} in this tenant"),
            None => format!("no process definition '{name}' in this tenant"),
        },
    )
}

/// Read one version of a definition.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-definitions/{definitionName}/versions/{version}", tag = TAG_DEFINITIONS,
    operation_id = "getProcessDefinitionVersion", params(DefinitionVersionPath),
    responses(
        (status = 200, description = "The version's description.", body = DefinitionInfo),
        (status = 404, description = "No such definition or version.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessDefinition"))),
)]
async fn get_process_definition_version(
    auth: Authorized<perm::GetProcessDefinition>,
    State(state): State<AppState>,
    PathParams(p): PathParams<DefinitionVersionPath>,
) -> Result<Json<DefinitionInfo>, ApiError> {
    blocking(move || {
        let info =
            state
                .runtime()
                .deployment_info(&auth.tenant, &p.definition_name, p.version.get())?;
        Ok(Json(DefinitionInfo::from(&info)))
    })
    .await
}

/// Read one version's BPMN file, exactly as deployed.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-definitions/{definitionName}/versions/{version}/bpmn", tag = TAG_DEFINITIONS,
    operation_id = "getProcessDefinitionSource", params(DefinitionVersionPath),
    responses(
        (status = 200, description = "The BPMN 2.0 XML.", body = String, content_type = "application/xml"),
        (status = 404, description = "No such definition or version.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessDefinition"))),
)]
async fn get_process_definition_source(
    auth: Authorized<perm::GetProcessDefinition>,
    State(state): State<AppState>,
    PathParams(p): PathParams<DefinitionVersionPath>,
) -> Result<Response, ApiError> {
    let bytes = blocking(move || {
        Ok(state
            .runtime()
            .definition_source(&auth.tenant, &p.definition_name, p.version.get())?)
    })
    .await?;
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/xml")
        .body(Body::from(bytes))
        .map_err(ApiError::internal)
}

// -- custom forms ---------------------------------------------------------------------------------

/// Deploy a custom form definition (JSON); versioned by its `name`.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/custom-forms", tag = TAG_FORMS,
    operation_id = "deployCustomForm", params(TenantPath),
    request_body(content = CustomFormDefinition, description = "The form definition: `name`, `title`, `components`, `submitButton`.", content_type = "application/json"),
    responses(
        (status = 201, description = "Deployed: name and version; identical content keeps its version (`created: false`).", body = FormDeployed),
        (status = 400, description = "The definition is invalid (`INVALID_FORM`; the message names the component and field).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deployCustomForm"))),
)]
async fn deploy_custom_form(
    auth: Authorized<perm::DeployCustomForm>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<FormDeployed>), ApiError> {
    let deployed = blocking(move || {
        let definition = idflow_activities::forms::FormDefinition::from_json(&body)
            .map_err(|e| ApiError::bad_request("INVALID_FORM", e.to_string()))?;
        let d = state.forms().deploy_definition(&auth.tenant, &definition)?;
        Ok(FormDeployed {
            name: d.name,
            version: d.version,
            content_hash: d.content_hash,
            created: d.created,
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(deployed)))
}

/// List every deployed form version of the tenant.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/custom-forms", tag = TAG_FORMS,
    operation_id = "listCustomForms", params(TenantPath),
    responses((status = 200, description = "By name, then version.", body = FormList)),
    extensions(("x-permission" = json!("listCustomForms"))),
)]
async fn list_custom_forms(
    auth: Authorized<perm::ListCustomForms>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<FormList>, ApiError> {
    blocking(move || {
        let forms = state.forms().list(&auth.tenant)?;
        Ok(Json(FormList {
            forms: forms
                .into_iter()
                .map(|f| FormSummary {
                    name: f.name,
                    version: f.version,
                    content_hash: f.content_hash,
                })
                .collect(),
        }))
    })
    .await
}

fn form_not_found(name: &str, version: Option<u32>) -> ApiError {
    ApiError::not_found(
        "CUSTOM_FORM_NOT_FOUND",
        match version {
            Some(v) => format!("no custom form '{name}' version {v} in this tenant"),
            None => format!("no custom form '{name}' in this tenant"),
        },
    )
}

/// Read the latest version of a custom form.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/custom-forms/{formName}", tag = TAG_FORMS,
    operation_id = "getCustomForm", params(FormPath),
    responses(
        (status = 200, description = "The latest version and its definition.", body = FormVersion),
        (status = 404, description = "No form of that name (`CUSTOM_FORM_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getCustomForm"))),
)]
async fn get_custom_form(
    auth: Authorized<perm::GetCustomForm>,
    State(state): State<AppState>,
    PathParams(p): PathParams<FormPath>,
) -> Result<Json<FormVersion>, ApiError> {
    blocking(move || {
        let (version, definition) = state
            .forms()
            .get(&auth.tenant, &p.form_name, None)?
            .ok_or_else(|| form_not_found(&p.form_name, None))?;
        Ok(Json(FormVersion {
            name: p.form_name.into_string(),
            version,
            definition: definition.to_json(),
        }))
    })
    .await
}

/// Read one version of a custom form.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/custom-forms/{formName}/versions/{version}", tag = TAG_FORMS,
    operation_id = "getCustomFormVersion", params(FormVersionPath),
    responses(
        (status = 200, description = "The version and its definition.", body = FormVersion),
        (status = 404, description = "No such form or version (`CUSTOM_FORM_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getCustomForm"))),
)]
async fn get_custom_form_version(
    auth: Authorized<perm::GetCustomForm>,
    State(state): State<AppState>,
    PathParams(p): PathParams<FormVersionPath>,
) -> Result<Json<FormVersion>, ApiError> {
    blocking(move || {
        let (version, definition) = state
            .forms()
            .get(&auth.tenant, &p.form_name, Some(p.version.get()))?
            .ok_or_else(|| form_not_found(&p.form_name, Some(p.version.get())))?;
        Ok(Json(FormVersion {
            name: p.form_name.into_string(),
            version,
            definition: definition.to_json(),
        }))
    })
    .await
}

// -- process tokens -------------------------------------------------------------------------------

fn new_token(body: CreateProcessToken) -> Result<NewToken, ApiError> {
    let invalid = |message: String| ApiError::bad_request("INVALID_PROCESS_TOKEN", message);
    let kind = match body.kind.as_deref().unwrap_or(TOKEN_UNLIMITED) {
        TOKEN_UNLIMITED => TokenKind::Unlimited,
        TOKEN_COUNT_LIMITED => TokenKind::CountLimited {
            max_uses: body.max_uses.ok_or_else(|| {
                invalid(format!("maxUses is required for type {TOKEN_COUNT_LIMITED}"))
            })?,
        },
        TOKEN_TIME_LIMITED => {
            let text = body.expires_at.as_deref().ok_or_else(|| {
                invalid(format!("expiresAt is required for type {TOKEN_TIME_LIMITED}"))
            })?;
            TokenKind::TimeLimited {
                expires_at_ms: parse_timestamp(text).ok_or_else(|| {
                    invalid(format!("expiresAt {text:?} is not an RFC 3339 timestamp"))
                })?,
            }
        }
        other => {
            return Err(invalid(format!(
                "type is {other:?}; it must be {TOKEN_UNLIMITED}, {TOKEN_COUNT_LIMITED} or {TOKEN_TIME_LIMITED}"
            )))
        }
    };
    // Checked whatever the type, so that a value the document forbids is never taken.
    if let Some(n) = body.max_uses {
        MaxUses::try_from(n).map_err(invalid)?;
    }
    if let Some(text) = body.expires_at.as_deref() {
        if parse_timestamp(text).is_none() {
            return Err(invalid(format!(
                "expiresAt {text:?} is not an RFC 3339 timestamp"
            )));
        }
    }
    Ok(NewToken {
        name: body.name,
        description: body.description.unwrap_or_default(),
        process_defn_name: body.process_defn_name,
        process_defn_version: body.process_defn_version,
        kind,
        parameters: match body.parameters {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(parameters) => parameters,
        },
        ui_url: body.ui_url,
    })
}

/// What the document adds to [`CreateProcessToken`]'s derived schema: the field each `type`
/// requires, as [`new_token`] checks it (a derive cannot say "required when").
pub(crate) fn document_token_kinds(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{
        AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
    };
    use utoipa::openapi::RefOr;

    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(derived) = components
        .schemas
        .get(CreateProcessToken::name().as_ref())
        .cloned()
    else {
        return;
    };
    let kind = |values: Vec<Value>| {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .enum_values(Some(values))
    };
    let kinds = AnyOfBuilder::new()
        .item(ObjectBuilder::new().property(
            "type",
            kind(vec![Value::from(TOKEN_UNLIMITED), Value::Null]),
        ))
        .item(
            ObjectBuilder::new()
                .property("type", kind(vec![Value::from(TOKEN_COUNT_LIMITED)]))
                .property("maxUses", ObjectBuilder::new().schema_type(Type::Integer))
                .required("type")
                .required("maxUses"),
        )
        .item(
            ObjectBuilder::new()
                .property("type", kind(vec![Value::from(TOKEN_TIME_LIMITED)]))
                .property("expiresAt", ObjectBuilder::new().schema_type(Type::String))
                .required("type")
                .required("expiresAt"),
        );
    let combined: Schema = AllOfBuilder::new()
        .item(derived)
        .item(kinds)
        .description(Some(
            "A process token to create. `MULTI_USE_COUNT_LIMITED` requires `maxUses`, \
             `MULTI_USE_TIME_LIMITED` requires `expiresAt`; every optional field may be `null`, \
             the same as leaving it out.",
        ))
        .into();
    components
        .schemas
        .insert(CreateProcessToken::name().into_owned(), RefOr::T(combined));
}

/// Create a process token for a deployed definition.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-tokens", tag = TAG_TOKENS,
    operation_id = "createProcessToken", params(TenantPath),
    request_body = CreateProcessToken,
    responses(
        (status = 201, description = "The token, with its `id` (the credential to hand to end users).", body = ProcessTokenBody),
        (status = 400, description = "A field is unusable (`INVALID_PROCESS_TOKEN`).", body = ErrorBody),
        (status = 404, description = "The definition (version) is not deployed (`PROCESS_DEFINITION_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "A token of that name exists (`PROCESS_TOKEN_NAME_TAKEN`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createProcessToken"))),
)]
async fn create_process_token(
    auth: Authorized<perm::CreateProcessToken>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<CreateProcessToken>,
) -> Result<(StatusCode, Json<ProcessTokenBody>), ApiError> {
    let new = new_token(body)?;
    let token = blocking(move || {
        let token = state.runtime().create_token(&auth.tenant, new)?;
        Ok(ProcessTokenBody::from(&token).linked(&state))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// List the tenant's process tokens.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-tokens", tag = TAG_TOKENS,
    operation_id = "listProcessTokens", params(TenantPath),
    responses((status = 200, description = "By name.", body = ProcessTokenList)),
    extensions(("x-permission" = json!("listProcessTokens"))),
)]
async fn list_process_tokens(
    auth: Authorized<perm::ListProcessTokens>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<ProcessTokenList>, ApiError> {
    blocking(move || {
        let tokens = state.runtime().list_tokens(&auth.tenant)?;
        Ok(Json(ProcessTokenList {
            tokens: tokens
                .iter()
                .map(|t| ProcessTokenBody::from(t).linked(&state))
                .collect(),
        }))
    })
    .await
}

/// Read a process token.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-tokens/{tokenName}", tag = TAG_TOKENS,
    operation_id = "getProcessToken", params(TokenPath),
    responses(
        (status = 200, description = "The token.", body = ProcessTokenBody),
        (status = 404, description = "No token of that name (`PROCESS_TOKEN_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessToken"))),
)]
async fn get_process_token(
    auth: Authorized<perm::GetProcessToken>,
    State(state): State<AppState>,
    PathParams(p): PathParams<TokenPath>,
) -> Result<Json<ProcessTokenBody>, ApiError> {
    blocking(move || {
        let token = state.runtime().token(&auth.tenant, &p.token_name)?;
        Ok(Json(ProcessTokenBody::from(&token).linked(&state)))
    })
    .await
}

/// Deactivate a process token: it starts no more instances (running ones go on).
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-tokens/{tokenName}/deactivate", tag = TAG_TOKENS,
    operation_id = "deactivateProcessToken", params(TokenPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The token, `INACTIVE`.", body = ProcessTokenBody),
        (status = 404, description = "No token of that name (`PROCESS_TOKEN_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deactivateProcessToken"))),
)]
async fn deactivate_process_token(
    auth: Authorized<perm::DeactivateProcessToken>,
    State(state): State<AppState>,
    PathParams(p): PathParams<TokenPath>,
    _body: crate::extract::IgnoredBody,
) -> Result<Json<ProcessTokenBody>, ApiError> {
    blocking(move || {
        let token = state
            .runtime()
            .deactivate_token(&auth.tenant, &p.token_name)?;
        Ok(Json(ProcessTokenBody::from(&token).linked(&state)))
    })
    .await
}

// -- instances ------------------------------------------------------------------------------------

/// List the tenant's process instances, oldest first, a page at a time, filtered by status,
/// definition and start time.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-instances", tag = TAG_INSTANCES,
    operation_id = "listProcessInstances", params(TenantPath, InstanceListQuery),
    responses(
        (status = 200, description = "One page.", body = InstancePageBody),
        (status = 400, description = "A query parameter is not as documented (`INVALID_PARAMETER`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("listProcessInstances"))),
)]
async fn list_process_instances(
    auth: Authorized<perm::ListProcessInstances>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    QueryParams(q): QueryParams<InstanceListQuery>,
) -> Result<Json<InstancePageBody>, ApiError> {
    // `InstanceStatus` admits exactly the statuses `Status::parse` reads.
    let status = q
        .status
        .as_ref()
        .and_then(|s| idflow_engine::Status::parse(s.get()));
    let query = InstanceQuery {
        status,
        definition: q.definition.map(DefinitionName::into_string),
        // `Timestamp` admits exactly what `parse_timestamp` reads.
        started_after_ms: q
            .started_after
            .as_ref()
            .and_then(|t| parse_timestamp(t.as_str())),
        started_before_ms: q
            .started_before
            .as_ref()
            .and_then(|t| parse_timestamp(t.as_str())),
        after: q.after.map(InstanceCursor::into_string),
        limit: q
            .limit
            .map_or(InstanceQuery::default().limit, InstancePageLimit::get),
    };
    blocking(move || {
        let page = state.runtime().list_instances(&auth.tenant, &query)?;
        Ok(Json(InstancePageBody {
            items: page.items.iter().map(InstanceSummaryBody::from).collect(),
            next: page.next,
            unreadable: page.unreadable,
        }))
    })
    .await
}

/// The instance if it belongs to `tenant`; another tenant's instance is "not found", exactly like
/// one that does not exist.
pub(crate) fn instance_of_tenant(
    state: &AppState,
    tenant: &str,
    id: &str,
) -> Result<InstanceView, ApiError> {
    let view = state.runtime().instance(id)?;
    if view.tenant != tenant {
        return Err(crate::state::instance_not_found(id));
    }
    Ok(view)
}

/// Read a process instance: status, variables (secrets redacted), where it rests.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}", tag = TAG_INSTANCES,
    operation_id = "getProcessInstance", params(InstancePath),
    responses(
        (status = 200, description = "The instance.", body = ProcessInstanceBody),
        (status = 404, description = "No such instance in this tenant (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessInstance"))),
)]
async fn get_process_instance(
    auth: Authorized<perm::GetProcessInstance>,
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
) -> Result<Json<ProcessInstanceBody>, ApiError> {
    blocking(move || {
        let view = instance_of_tenant(&state, &auth.tenant, &p.instance_id)?;
        Ok(Json(ProcessInstanceBody::new(&view, state.runtime())))
    })
    .await
}

/// Read a process instance's history in the export format (values redacted).
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/process-instances/{instanceId}/history", tag = TAG_INSTANCES,
    operation_id = "getProcessInstanceHistory", params(InstancePath),
    responses(
        (status = 200, description = "`{format: \"idflow-history\", version, instance, tenant, events: [...]}`.", body = Object),
        (status = 404, description = "No such instance in this tenant (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getProcessInstanceHistory"))),
)]
async fn get_process_instance_history(
    auth: Authorized<perm::GetProcessInstanceHistory>,
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let export = state.runtime().export_history(&p.instance_id)?;
        if export.tenant != auth.tenant {
            return Err(crate::state::instance_not_found(&p.instance_id));
        }
        serde_json::to_value(&export)
            .map(Json)
            .map_err(ApiError::internal)
    })
    .await
}

// -- retention ------------------------------------------------------------------------------------

/// How long the tenant's completed instances (state and history) are kept before the server's
/// background purge removes them. Active instances are never purged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionPolicyBody {
    /// Days after an instance ended that it is purged; `null` (or absent) keeps completed
    /// instances for ever. A tenant that set nothing gets 180.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<RetentionDays>, inline, example = 180)]
    pub completed_instance_days: Option<u32>,
}

impl From<idflow_runtime::RetentionPolicy> for RetentionPolicyBody {
    fn from(p: idflow_runtime::RetentionPolicy) -> Self {
        RetentionPolicyBody {
            completed_instance_days: p.completed_instance_days,
        }
    }
}

/// The tenant's retention policy for completed instances.
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/retention-policy", tag = TAG_RETENTION,
    operation_id = "getRetentionPolicy", params(TenantPath),
    responses(
        (status = 200, description = "The policy in force (the default when the tenant set none).", body = RetentionPolicyBody),
    ),
    extensions(("x-permission" = json!("getRetentionPolicy"))),
)]
async fn get_retention_policy(
    auth: Authorized<perm::GetRetentionPolicy>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<RetentionPolicyBody>, ApiError> {
    blocking(move || {
        let policy = state.runtime().retention_policy(&auth.tenant)?;
        Ok(Json(policy.into()))
    })
    .await
}

/// Set the tenant's retention policy for completed instances; the next purge applies it.
#[utoipa::path(
    put, path = "/api/process-manager/tenants/{tenantId}/retention-policy", tag = TAG_RETENTION,
    operation_id = "setRetentionPolicy", params(TenantPath),
    request_body = RetentionPolicyBody,
    responses(
        (status = 200, description = "The policy now in force.", body = RetentionPolicyBody),
        (status = 400, description = "Days out of range (`INVALID_RETENTION_POLICY`), or not a policy.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("setRetentionPolicy"))),
)]
async fn set_retention_policy(
    auth: Authorized<perm::SetRetentionPolicy>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<RetentionPolicyBody>,
) -> Result<Json<RetentionPolicyBody>, ApiError> {
    blocking(move || {
        let policy = state.runtime().set_retention_policy(
            &auth.tenant,
            idflow_runtime::RetentionPolicy {
                completed_instance_days: body.completed_instance_days,
            },
        )?;
        Ok(Json(policy.into()))
    })
    .await
}
