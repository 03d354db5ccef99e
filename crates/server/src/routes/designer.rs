//! The designer's routes: the activity catalogue as JSON (what the designer's palette and
//! properties panel are generated from), validating a definition without deploying it (the
//! same report as `idflow validate --format json`), previewing a custom form, and exchanging
//! the one-time sign-in code `idflow serve` prints for a bearer token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use idflow_defs::{catalogue, Diagnostic, Loaded, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{perm, Authorized};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams, QueryParams, XmlBody};
use crate::routes::process::DeployQuery;
use crate::routes::TenantPath;
use crate::state::{blocking, AppState};

const TAG_DESIGNER: &str = "designer";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_catalogue))
        .routes(routes!(validate_process_definition))
        .routes(routes!(preview_custom_form))
        .routes(routes!(sign_in))
}

// -- the catalogue --------------------------------------------------------------------------------

/// One input parameter of an activity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogueParam {
    /// The name as in the seeds ("Store Name"): the `name` of `<idflow:param>`.
    pub name: String,
    /// Other names the loader accepts for it.
    pub aliases: Vec<String>,
    /// `STRING`, `INTEGER`, `BOOLEAN` or `LIST_STRING`.
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    /// The default, as text a designer would type.
    pub default: Option<String>,
    pub description: String,
}

/// One activity type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogueActivity {
    /// The `type` of `<idflow:activity>`.
    #[schema(example = "addUser")]
    pub key: String,
    /// The seeds' name.
    #[schema(example = "Add User")]
    pub name: String,
    pub description: String,
    /// A step: the instance waits for the end user here (drawn as a user task).
    pub is_step: bool,
    /// What an error boundary on it can catch.
    pub error_codes: Vec<String>,
    pub params: Vec<CatalogueParam>,
}

/// Every activity idflow runs, and the help a designer needs for values and conditions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogueBody {
    pub activities: Vec<CatalogueActivity>,
    /// The namespace of `<idflow:activity>` and `<idflow:param>`.
    pub namespace: String,
    /// How parameter values are written (`<<processvar...>>`, `${...}`).
    pub value_help: String,
    /// The condition language of exclusive gateways' flows.
    pub condition_help: String,
    /// What a timer boundary's `timeDuration` may be.
    pub duration_help: String,
}

fn catalogue_body() -> CatalogueBody {
    CatalogueBody {
        activities: catalogue()
            .iter()
            .map(|spec| CatalogueActivity {
                key: spec.key.into(),
                name: spec.name.into(),
                description: spec.description.into(),
                is_step: spec.is_step(),
                error_codes: spec.error_codes.iter().map(|c| c.to_string()).collect(),
                params: spec
                    .params
                    .iter()
                    .map(|p| CatalogueParam {
                        name: p.name.into(),
                        aliases: p.aliases.iter().map(|a| a.to_string()).collect(),
                        ty: p.ty.as_str().into(),
                        required: p.required,
                        default: p.default.map(str::to_owned),
                        description: p.description.into(),
                    })
                    .collect(),
            })
            .collect(),
        namespace: idflow_defs::IDFLOW_NS.into(),
        value_help: idflow_expr::VALUE_HELP.into(),
        condition_help: idflow_expr::CONDITION_HELP.into(),
        duration_help: idflow_defs::duration::DURATION_HELP.into(),
    }
}

/// The activity catalogue: every activity type, its parameters and error codes.
#[utoipa::path(
    get, path = "/api/process-manager/catalogue", tag = TAG_DESIGNER,
    operation_id = "getCatalogue",
    responses((status = 200, description = "The catalogue the loader checks definitions against (the same for every tenant; no token needed).", body = CatalogueBody)),
)]
async fn get_catalogue() -> Json<CatalogueBody> {
    Json(catalogue_body())
}

// -- validation -----------------------------------------------------------------------------------

/// One diagnostic, as `idflow validate --format json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticBody {
    /// `error` or `warning`.
    pub severity: String,
    /// A code of docs/definitions.md (`MISSING_PARAMETER`, ...).
    pub code: String,
    pub message: String,
    /// The file name (the `fileName` query parameter).
    pub source: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    /// The BPMN `id` of the element at fault.
    pub element_id: Option<String>,
}

impl From<&Diagnostic> for DiagnosticBody {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticBody {
            severity: d.severity.as_str().into(),
            code: d.code.into(),
            message: d.message.clone(),
            source: d.source.clone(),
            line: d.line,
            column: d.column,
            element_id: d.element_id.clone(),
        }
    }
}

/// The outcome for one file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileReportBody {
    pub path: String,
    pub valid: bool,
    /// The process id (the definition's name) when the file loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    /// Hex SHA-256 of the file, when it loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    pub diagnostics: Vec<DiagnosticBody>,
}

impl FileReportBody {
    pub fn new(path: String, loaded: &Loaded) -> FileReportBody {
        FileReportBody {
            path,
            valid: loaded.definition.is_some(),
            process_id: loaded.definition.as_ref().map(|d| d.process_id.clone()),
            content_hash: loaded.definition.as_ref().map(|d| d.content_hash.clone()),
            diagnostics: loaded
                .diagnostics
                .iter()
                .map(DiagnosticBody::from)
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryBody {
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// What `idflow validate --format json` prints, and the validation route answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationReport {
    pub files: Vec<FileReportBody>,
    pub summary: SummaryBody,
}

impl ValidationReport {
    pub fn new(files: Vec<FileReportBody>) -> ValidationReport {
        let mut summary = SummaryBody {
            files: files.len(),
            ..SummaryBody::default()
        };
        for file in &files {
            if file.valid {
                summary.valid += 1;
            } else {
                summary.invalid += 1;
            }
            for d in &file.diagnostics {
                if d.severity == Severity::Error.as_str() {
                    summary.errors += 1;
                } else {
                    summary.warnings += 1;
                }
            }
        }
        ValidationReport { files, summary }
    }
}

/// Check a BPMN 2.0 definition without deploying it.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/process-definitions/validate", tag = TAG_DESIGNER,
    operation_id = "validateProcessDefinition", params(TenantPath, DeployQuery),
    request_body(content = String, description = "The BPMN 2.0 XML file.", content_type = "application/xml"),
    responses(
        (status = 200, description = "The report of `idflow validate --format json` for one file: `valid`, and every diagnostic with its code, message, line, column and element. Nothing is stored.", body = ValidationReport),
    ),
    extensions(("x-permission" = json!("validateProcessDefinition"))),
)]
async fn validate_process_definition(
    _auth: Authorized<perm::ValidateProcessDefinition>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    QueryParams(q): QueryParams<DeployQuery>,
    XmlBody(xml): XmlBody,
) -> Result<Json<ValidationReport>, ApiError> {
    let label = q.file_name().to_string();
    blocking(move || {
        let loaded = idflow_defs::load(&label, xml.as_bytes());
        Ok(Json(ValidationReport::new(vec![FileReportBody::new(
            label, &loaded,
        )])))
    })
    .await
}

// -- custom form preview --------------------------------------------------------------------------

/// Check a custom form definition and render it as the end user's page would receive it.
#[utoipa::path(
    post, path = "/api/process-manager/tenants/{tenantId}/custom-forms/preview", tag = TAG_DESIGNER,
    operation_id = "previewCustomForm", params(TenantPath),
    request_body(content = crate::schema::CustomFormDefinition, description = "A form definition, as deployed: `name`, `title`, `components`, `submitButton`.", content_type = "application/json"),
    responses(
        (status = 200, description = "The rendered form (the `form` of a step), every `{{processvar...}}` shown as `«processvar...»`. Nothing is stored.", body = Object),
        (status = 400, description = "The definition is invalid (`INVALID_FORM`; the message names the component and field).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("previewCustomForm"))),
)]
async fn preview_custom_form(
    _auth: Authorized<perm::PreviewCustomForm>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    use idflow_activities::forms::FormDefinition;
    blocking(move || {
        let invalid =
            |e: &dyn std::fmt::Display| ApiError::bad_request("INVALID_FORM", e.to_string());
        FormDefinition::from_json(&body).map_err(|e| invalid(&e))?;
        // The same form with each substitution shown where it goes, so it renders without an
        // instance's variables.
        let shown = FormDefinition::from_json(&placeholders(body)).map_err(|e| invalid(&e))?;
        let rendered = shown.render(0, &Value::Object(Default::default()));
        rendered.map(Json).map_err(|e| invalid(&e))
    })
    .await
}

/// Every `{{ path }}` in every string of `value` replaced by `«path»`.
fn placeholders(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(show_substitutions(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(placeholders).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, placeholders(v))).collect())
        }
        other => other,
    }
}

fn show_substitutions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = rest[start + 2..start + 2 + len].trim();
        out.push('«');
        out.push_str(inner.trim_start_matches('{').trim_end_matches('}'));
        out.push('»');
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

// -- sign-in --------------------------------------------------------------------------------------

/// A one-time sign-in code, from the link `idflow serve` prints.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub code: String,
}

/// The bearer token the code stood for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInAnswer {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Exchange a one-time sign-in code for its bearer token.
#[utoipa::path(
    post, path = "/api/backoffice/sign-in", tag = TAG_DESIGNER,
    operation_id = "signIn",
    request_body(content = SignInRequest, description = "The code of the sign-in link (`/backoffice/#code=...`).", content_type = "application/json"),
    responses(
        (status = 200, description = "The token. The code is spent: a second exchange is refused.", body = SignInAnswer),
        (status = 401, description = "Unknown, spent or expired code (`SIGN_IN_CODE_INVALID`).", body = ErrorBody),
    ),
)]
async fn sign_in(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<SignInRequest>,
) -> Result<(StatusCode, Json<SignInAnswer>), ApiError> {
    match state.sign_in_codes().redeem(&request.code) {
        Some(token) => Ok((StatusCode::OK, Json(SignInAnswer { token }))),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "SIGN_IN_CODE_INVALID",
            "this sign-in code is unknown, already used or expired: restart idflow serve for a new link, or paste a token from `idflow token`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_are_shown_in_place() {
        assert_eq!(
            show_substitutions("a {{ processvar.x }} b"),
            "a «processvar.x» b"
        );
        assert_eq!(show_substitutions("no {{ end"), "no {{ end");
        assert_eq!(show_substitutions("plain"), "plain");
    }
}
