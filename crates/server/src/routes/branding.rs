//! Branding routes: a tenant sets and reads the branding of its end user's pages with a bearer
//! token; the pages read it for an instance with no token, and learn nothing else about the
//! tenant (not even its name).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TenantPath;
use crate::auth::{perm, Authorized};
use crate::branding::{self, Branding};
use crate::constraints::{Colour, DisplayName, InstanceId, Logo};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::state::{blocking, AppState};

const TAG: &str = "branding";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_branding, get_branding))
        .routes(routes!(get_instance_branding))
}

/// The branding of a tenant's end-user pages. Every field is optional; a field left out uses
/// the pages' default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandingBody {
    /// Shown at the top of every page (1 to 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DisplayName>, inline, example = "Acme Bank")]
    pub display_name: Option<String>,
    /// A `data:` URI (`image/png`, `image/jpeg`, `image/gif`, `image/webp` or `image/svg+xml`,
    /// base64) of at most 64 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Logo>, inline, example = "data:image/png;base64,iVBORw0KGgo=")]
    pub logo: Option<String>,
    /// `#rrggbb` of buttons and links; at least 4.5:1 contrast against the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Colour>, inline, example = "#0b5394")]
    pub primary_color: Option<String>,
    /// `#rrggbb` of the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Colour>, inline, example = "#ffffff")]
    pub background_color: Option<String>,
    /// `#rrggbb` of the text; at least 4.5:1 contrast against the background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Colour>, inline, example = "#1f2328")]
    pub text_color: Option<String>,
}

impl From<BrandingBody> for Branding {
    fn from(b: BrandingBody) -> Branding {
        Branding {
            display_name: b.display_name,
            logo: b.logo,
            primary_color: b.primary_color,
            background_color: b.background_color,
            text_color: b.text_color,
        }
    }
}

impl From<Branding> for BrandingBody {
    fn from(b: Branding) -> BrandingBody {
        BrandingBody {
            display_name: b.display_name,
            logo: b.logo,
            primary_color: b.primary_color,
            background_color: b.background_color,
            text_color: b.text_color,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct InstancePath {
    /// The instance's ID, from the start answer (looked up as given: not found is 404).
    #[param(value_type = InstanceId, inline)]
    instance_id: String,
}

/// Set the branding of the tenant's end-user pages (replaces what was set before).
#[utoipa::path(
    put, path = "/api/process-manager/tenants/{tenantId}/branding", tag = TAG,
    operation_id = "setBranding", params(TenantPath),
    request_body = BrandingBody,
    responses(
        (status = 200, description = "The branding now in effect.", body = BrandingBody),
        (status = 400, description = "A field is unusable (`INVALID_BRANDING`): the message names it.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("setBranding"))),
)]
async fn set_branding(
    auth: Authorized<perm::SetBranding>,
    State(state): State<AppState>,
    PathParams(_tenant): PathParams<TenantPath>,
    JsonBody(body): JsonBody<BrandingBody>,
) -> Result<Json<BrandingBody>, ApiError> {
    let branding = Branding::from(body);
    branding
        .validate()
        .map_err(|message| ApiError::bad_request("INVALID_BRANDING", message))?;
    blocking(move || {
        branding::save(state.runtime().store(), &auth.tenant, &branding)?;
        Ok(Json(BrandingBody::from(branding)))
    })
    .await
}

/// Read the branding of the tenant's end-user pages (`{}` when none was set).
#[utoipa::path(
    get, path = "/api/process-manager/tenants/{tenantId}/branding", tag = TAG,
    operation_id = "getBranding", params(TenantPath),
    responses((status = 200, description = "The branding in effect.", body = BrandingBody)),
    extensions(("x-permission" = json!("getBranding"))),
)]
async fn get_branding(
    auth: Authorized<perm::GetBranding>,
    State(state): State<AppState>,
    PathParams(_tenant): PathParams<TenantPath>,
) -> Result<Json<BrandingBody>, ApiError> {
    blocking(move || {
        let branding = branding::load(state.runtime().store(), &auth.tenant)?;
        Ok(Json(BrandingBody::from(branding)))
    })
    .await
}

/// The branding of an instance's tenant, for its end-user page (no bearer token; reveals only
/// the branding).
#[utoipa::path(
    get, path = "/api/process-manager/process-instances/{instanceId}/branding", tag = TAG,
    operation_id = "getInstanceBranding", params(InstancePath),
    responses(
        (status = 200, description = "The branding of the instance's tenant (`{}` when none was set).", body = BrandingBody),
        (status = 404, description = "No such instance (`PROCESS_INSTANCE_NOT_FOUND`).", body = ErrorBody),
    ),
)]
async fn get_instance_branding(
    State(state): State<AppState>,
    PathParams(p): PathParams<InstancePath>,
) -> Result<Json<BrandingBody>, ApiError> {
    blocking(move || {
        let instance = state.runtime().instance(&p.instance_id)?;
        let branding = branding::load(state.runtime().store(), &instance.tenant)?;
        Ok(Json(BrandingBody::from(branding)))
    })
    .await
}
