//! The route modules: identity-store, process manager (bearer token), end user (no token),
//! branding (set with a bearer token, read by the end user's pages), the designer's (catalogue,
//! validation, form preview, sign-in), operations (instance paths, cancel, replay, token QR codes).

pub(crate) mod branding;
pub(crate) mod designer;
pub(crate) mod enduser;
pub(crate) mod identity;
pub(crate) mod operations;
pub(crate) mod process;

use serde::Deserialize;
use utoipa::IntoParams;

use crate::constraints::TenantId;

/// `{tenantId}`: the one path parameter every tenant-scoped route shares.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct TenantPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
}
