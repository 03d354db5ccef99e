//! `/api/identity-store/...`: stores, policies, users, passcodes (SRP-6a) and TOTP.
//!
//! The eight passcode routes of the seeds keep their exact paths, permission names, bodies and
//! status codes (api.md); the others follow the same style. Every handler is a thin shell: check
//! the permission, read the path and body, run one `Identity` operation (one durable commit) on
//! the blocking pool, answer its `wire` shape or its refusal.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use idflow_identity::{wire, UserRef, UserStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TenantPath;
use crate::auth::{perm, Authorized};
use crate::constraints::{
    ExternalUserId, PolicyName, SessionId, StoreName, TenantId, UserId, UserPageLimit,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{IgnoredBody, JsonBody, PathParams, QueryParams};
use crate::schema;
use crate::state::{blocking, AppState};

pub(crate) const TAG_STORES: &str = "identity stores";
pub(crate) const TAG_USERS: &str = "users";
pub(crate) const TAG_PASSCODES: &str = "passcodes";
pub(crate) const TAG_TOTP: &str = "TOTP";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_store, list_stores))
        .routes(routes!(get_store))
        .routes(routes!(create_passcode_policy, list_passcode_policies))
        .routes(routes!(create_totp_policy, list_totp_policies))
        .routes(routes!(add_user, list_users))
        .routes(routes!(get_user))
        .routes(routes!(get_user_by_ext_user_id))
        .routes(routes!(unlock_user))
        .routes(routes!(create_passcode_registration_for_user))
        .routes(routes!(
            create_user_passcode_registration_for_user_by_ext_user_id
        ))
        .routes(routes!(complete_passcode_registration))
        .routes(routes!(create_passcode_renewal_for_user))
        .routes(routes!(
            create_user_passcode_renewal_for_user_by_ext_user_id
        ))
        .routes(routes!(complete_passcode_renewal))
        .routes(routes!(deregister_passcode_for_user))
        .routes(routes!(deregister_passcode_for_user_by_ext_user_id))
        .routes(routes!(create_passcode_authentication))
        .routes(routes!(create_passcode_authentication_by_ext_user_id))
        .routes(routes!(complete_passcode_authentication))
        .routes(routes!(create_totp_registration, get_current_totp))
        .routes(routes!(complete_totp_registration))
        .routes(routes!(authenticate_totp))
        .routes(routes!(deregister_totp))
}

// -- path and query parameters ------------------------------------------------------------------
//
// Each parameter is read into its `constraints` type: the check and the documented schema are
// one declaration, so a value the document forbids is refused with 400 `INVALID_PARAMETER`.
// IDs are the exception: documented with the ID rule but looked up as given, since one that is
// not an ID names nothing and the seeds answer a user that is not found with 404 (and an
// unknown session with 400 `SESSION_NOT_FOUND`), whatever its spelling.

/// `{tenantId}`.
/// `{tenantId}/stores/{storeName}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct StorePath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
}

/// A user by ID.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct UserPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
    /// The user's 26-character ID.
    #[param(value_type = UserId, inline)]
    user_id: String,
}

/// A user by external ID.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct ExtUserPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
    /// The user's external ID (unique in the store).
    #[param(inline)]
    ext_user_id: ExternalUserId,
}

/// A user by ID and a policy.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct UserPolicyPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
    /// The user's 26-character ID.
    #[param(value_type = UserId, inline)]
    user_id: String,
    /// The passcode or TOTP policy's name.
    #[param(inline)]
    policy_name: PolicyName,
}

/// A user by external ID and a policy.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct ExtUserPolicyPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
    /// The user's external ID (unique in the store).
    #[param(inline)]
    ext_user_id: ExternalUserId,
    /// The passcode policy's name.
    #[param(inline)]
    policy_name: PolicyName,
}

/// A session started by one of the start routes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub(crate) struct SessionPath {
    /// The tenant (a namespace; it exists from the first thing created in it).
    #[param(inline)]
    #[allow(dead_code)]
    tenant_id: TenantId,
    /// The identity store's name.
    #[param(inline)]
    store_name: StoreName,
    /// The `sessionId` of the start answer.
    #[param(value_type = SessionId, inline)]
    session_id: String,
}

/// Paging of users.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct UserPaging {
    /// The `nextAfter` of the previous page (a user ID); absent for the first page.
    #[param(inline)]
    after: Option<UserId>,
    /// Users per page (default 100).
    #[param(inline)]
    limit: Option<UserPageLimit>,
}

const DEFAULT_PAGE_SIZE: usize = 100;

fn parse_status(text: &str) -> Result<UserStatus, ApiError> {
    UserStatus::parse(text).ok_or_else(|| {
        ApiError::bad_request(
            "INVALID_INPUT",
            format!("status is {text:?}; it must be ACTIVE, PENDING_ACTIVE or DISABLED"),
        )
    })
}

// -- stores ---------------------------------------------------------------------------------------

/// Create an identity store.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores", tag = TAG_STORES,
    operation_id = "createStore", params(TenantPath),
    request_body = schema::CreateStoreRequest,
    responses(
        (status = 201, description = "The store was created.", body = schema::IdentityStore),
        (status = 400, description = "The name is unusable.", body = ErrorBody),
        (status = 409, description = "A store of that name exists (`STORE_ALREADY_EXISTS`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createStore"))),
)]
async fn create_store(
    auth: Authorized<perm::CreateStore>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<wire::CreateStoreRequest>,
) -> Result<(StatusCode, Json<wire::IdentityStore>), ApiError> {
    let store = blocking(move || {
        let s = state.identity().create_store(&auth.tenant, &body.name)?;
        Ok(wire::IdentityStore::from(&s))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(store)))
}

/// List the tenant's identity stores.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores", tag = TAG_STORES,
    operation_id = "listStores", params(TenantPath),
    responses((status = 200, description = "The stores in name order (empty for a new tenant).", body = schema::StoreList)),
    extensions(("x-permission" = json!("listStores"))),
)]
async fn list_stores(
    auth: Authorized<perm::ListStores>,
    State(state): State<AppState>,
    PathParams(_tenant_path): PathParams<TenantPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let stores = blocking(move || {
        let stores = state.identity().list_stores(&auth.tenant)?;
        Ok(stores
            .iter()
            .map(wire::IdentityStore::from)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(serde_json::json!({ "stores": stores })))
}

/// Read an identity store.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}", tag = TAG_STORES,
    operation_id = "getStore", params(StorePath),
    responses(
        (status = 200, description = "The store.", body = schema::IdentityStore),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getStore"))),
)]
async fn get_store(
    auth: Authorized<perm::GetStore>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
) -> Result<Json<wire::IdentityStore>, ApiError> {
    blocking(move || {
        let s = state.identity().get_store(&auth.tenant, &p.store_name)?;
        Ok(Json(wire::IdentityStore::from(&s)))
    })
    .await
}

/// Create a passcode policy in a store.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcode-policies", tag = TAG_STORES,
    operation_id = "createPasscodePolicy", params(StorePath),
    request_body = schema::PasscodePolicy,
    responses(
        (status = 201, description = "The policy as stored, defaults filled in.", body = schema::PasscodePolicy),
        (status = 400, description = "A field is unusable (`INVALID_POLICY`; the message names it).", body = ErrorBody),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
        (status = 409, description = "A policy of that name exists (`POLICY_ALREADY_EXISTS`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createPasscodePolicy"))),
)]
async fn create_passcode_policy(
    auth: Authorized<perm::CreatePasscodePolicy>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
    JsonBody(body): JsonBody<wire::PasscodePolicy>,
) -> Result<(StatusCode, Json<wire::PasscodePolicy>), ApiError> {
    let policy = blocking(move || {
        let policy = idflow_identity::policy::PasscodePolicy::from(&body);
        let created =
            state
                .identity()
                .create_passcode_policy(&auth.tenant, &p.store_name, &policy)?;
        Ok(wire::PasscodePolicy::from(&created))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

/// List a store's passcode policies.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcode-policies", tag = TAG_STORES,
    operation_id = "listPasscodePolicies", params(StorePath),
    responses(
        (status = 200, description = "The policies in name order.", body = schema::PasscodePolicyList),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("listPasscodePolicies"))),
)]
async fn list_passcode_policies(
    auth: Authorized<perm::ListPasscodePolicies>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || {
        let policies = state
            .identity()
            .list_passcode_policies(&auth.tenant, &p.store_name)?;
        let policies: Vec<_> = policies.iter().map(wire::PasscodePolicy::from).collect();
        Ok(Json(serde_json::json!({ "policies": policies })))
    })
    .await
}

/// Create a TOTP policy in a store.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/totp-policies", tag = TAG_STORES,
    operation_id = "createTotpPolicy", params(StorePath),
    request_body = schema::TotpPolicy,
    responses(
        (status = 201, description = "The policy as stored, defaults filled in.", body = schema::TotpPolicy),
        (status = 400, description = "A field is unusable (`INVALID_POLICY`; the message names it).", body = ErrorBody),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
        (status = 409, description = "A policy of that name exists (`POLICY_ALREADY_EXISTS`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createTotpPolicy"))),
)]
async fn create_totp_policy(
    auth: Authorized<perm::CreateTotpPolicy>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
    JsonBody(body): JsonBody<wire::TotpPolicy>,
) -> Result<(StatusCode, Json<wire::TotpPolicy>), ApiError> {
    let policy = blocking(move || {
        let policy = idflow_identity::policy::TotpPolicy::try_from(&body)?;
        let created = state
            .identity()
            .create_totp_policy(&auth.tenant, &p.store_name, &policy)?;
        Ok(wire::TotpPolicy::from(&created))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(policy)))
}

/// List a store's TOTP policies.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/totp-policies", tag = TAG_STORES,
    operation_id = "listTotpPolicies", params(StorePath),
    responses(
        (status = 200, description = "The policies in name order.", body = schema::TotpPolicyList),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("listTotpPolicies"))),
)]
async fn list_totp_policies(
    auth: Authorized<perm::ListTotpPolicies>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || {
        let policies = state
            .identity()
            .list_totp_policies(&auth.tenant, &p.store_name)?;
        let policies: Vec<_> = policies.iter().map(wire::TotpPolicy::from).collect();
        Ok(Json(serde_json::json!({ "policies": policies })))
    })
    .await
}

// -- users ----------------------------------------------------------------------------------------

/// Add a user to a store.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users", tag = TAG_USERS,
    operation_id = "addUser", params(StorePath),
    request_body = schema::AddUserRequest,
    responses(
        (status = 201, description = "The new user.", body = schema::UserEnvelope),
        (status = 400, description = "An unusable external ID or status (`FAILED_TO_ADD_USER`).", body = ErrorBody),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
        (status = 409, description = "Another user has that external ID (`EXT_ID_NOT_UNIQUE`).", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("addUser"))),
)]
async fn add_user(
    auth: Authorized<perm::AddUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
    JsonBody(body): JsonBody<wire::AddUserRequest>,
) -> Result<(StatusCode, Json<wire::UserEnvelope>), ApiError> {
    let status = match body.status.as_deref() {
        Some(text) => parse_status(text)?,
        None => UserStatus::Active,
    };
    let user = blocking(move || {
        let user =
            state
                .identity()
                .add_user(&auth.tenant, &p.store_name, &body.external_id, status)?;
        Ok(wire::UserEnvelope {
            user: wire::User::from(&user),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// List a store's users, a page at a time, in ID order.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users", tag = TAG_USERS,
    operation_id = "listUsers", params(StorePath, UserPaging),
    responses(
        (status = 200, description = "One page of users.", body = schema::UserPage),
        (status = 400, description = "`limit` out of range.", body = ErrorBody),
        (status = 404, description = "No such tenant or store.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("listUsers"))),
)]
async fn list_users(
    auth: Authorized<perm::ListUsers>,
    State(state): State<AppState>,
    PathParams(p): PathParams<StorePath>,
    QueryParams(q): QueryParams<UserPaging>,
) -> Result<Json<wire::UserPage>, ApiError> {
    blocking(move || {
        let page = state.identity().list_users(
            &auth.tenant,
            &p.store_name,
            q.after.as_deref(),
            q.limit.map_or(DEFAULT_PAGE_SIZE, UserPageLimit::get),
        )?;
        Ok(Json(wire::UserPage::from(&page)))
    })
    .await
}

/// Read a user by ID.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}", tag = TAG_USERS,
    operation_id = "getUser", params(UserPath),
    responses(
        (status = 200, description = "The user.", body = schema::UserEnvelope),
        (status = 404, description = "No such tenant, store or user.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getUser"))),
)]
async fn get_user(
    auth: Authorized<perm::GetUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPath>,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        let user =
            state
                .identity()
                .get_user(&auth.tenant, &p.store_name, UserRef::Id(&p.user_id))?;
        Ok(Json(wire::UserEnvelope {
            user: wire::User::from(&user),
        }))
    })
    .await
}

/// Read a user by external ID.
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/ext", tag = TAG_USERS,
    operation_id = "getUserByExtUserId", params(ExtUserPath),
    responses(
        (status = 200, description = "The user.", body = schema::UserEnvelope),
        (status = 404, description = "No such tenant, store or user.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getUserByExtUserId"))),
)]
async fn get_user_by_ext_user_id(
    auth: Authorized<perm::GetUserByExtUserId>,
    State(state): State<AppState>,
    PathParams(p): PathParams<ExtUserPath>,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        let user = state.identity().get_user(
            &auth.tenant,
            &p.store_name,
            UserRef::ExternalId(&p.ext_user_id),
        )?;
        Ok(Json(wire::UserEnvelope {
            user: wire::User::from(&user),
        }))
    })
    .await
}

/// Unlock a user locked by failed attempts (or by an administrator).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/unlock", tag = TAG_USERS,
    operation_id = "unlockUser", params(UserPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The user, `ACTIVE` again.", body = schema::UserEnvelope),
        (status = 400, description = "The user cannot be unlocked (`USER_DISABLED`).", body = ErrorBody),
        (status = 404, description = "No such tenant, store or user.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("unlockUser"))),
)]
async fn unlock_user(
    auth: Authorized<perm::UnlockUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPath>,
    _body: IgnoredBody,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        let user =
            state
                .identity()
                .unlock_user(&auth.tenant, &p.store_name, UserRef::Id(&p.user_id))?;
        Ok(Json(wire::UserEnvelope {
            user: wire::User::from(&user),
        }))
    })
    .await
}

// -- passcodes: the seeds' routes ---------------------------------------------------------------

/// Start a passcode registration for a user (by ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/passcodes/registrations/{policyName}",
    tag = TAG_PASSCODES, operation_id = "createPasscodeRegistrationForUser", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "The requirements, the SRP parameters (`i`, `n`, `g`, `hashAlgorithm`, `salt`) and the session.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error, e.g. `PASSCODE_ALREADY_REGISTERED`, `USER_LOCKED`.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user or policy not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createPasscodeRegistrationForUser"))),
)]
async fn create_passcode_registration_for_user(
    auth: Authorized<perm::CreatePasscodeRegistrationForUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_registration(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Start a passcode registration for a user (by external ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/passcodes/registrations/{policyName}/ext",
    tag = TAG_PASSCODES, operation_id = "createUserPasscodeRegistrationForUserByExtUserId", params(ExtUserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "As the by-ID route.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user or policy not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createUserPasscodeRegistrationForUserByExtUserId"))),
)]
async fn create_user_passcode_registration_for_user_by_ext_user_id(
    auth: Authorized<perm::CreateUserPasscodeRegistrationForUserByExtUserId>,
    State(state): State<AppState>,
    PathParams(p): PathParams<ExtUserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_registration(
            &auth.tenant,
            &p.store_name,
            UserRef::ExternalId(&p.ext_user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Complete a passcode registration with the verifier the client derived.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcodes/registrations/sessions/{sessionId}",
    tag = TAG_PASSCODES, operation_id = "completePasscodeRegistration", params(SessionPath),
    request_body = schema::CompletePasscodeRegistrationRequest,
    responses(
        (status = 200, description = "The user, with the passcode registered.", body = schema::UserEnvelope),
        (status = 400, description = "Any other error: `INVALID_REGISTRATION_DATA`, `INVALID_ENCODING`, `SESSION_NOT_FOUND`, `SESSION_EXPIRED`, ...", body = ErrorBody),
        (status = 404, description = "Tenant, store, policy or user not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("completePasscodeRegistration"))),
)]
async fn complete_passcode_registration(
    auth: Authorized<perm::CompletePasscodeRegistration>,
    State(state): State<AppState>,
    PathParams(p): PathParams<SessionPath>,
    JsonBody(body): JsonBody<wire::CompletePasscodeRegistrationRequest>,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().complete_passcode_registration(
            &auth.tenant,
            &p.store_name,
            &p.session_id,
            &body,
        )?))
    })
    .await
}

/// Start a passcode renewal for a user (by ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/passcodes/renewals/{policyName}",
    tag = TAG_PASSCODES, operation_id = "createPasscodeRenewalForUser", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "As registration, with `serverPublicKey` (B) in the parameters.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error, e.g. `USER_LOCKED`.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createPasscodeRenewalForUser"))),
)]
async fn create_passcode_renewal_for_user(
    auth: Authorized<perm::CreatePasscodeRenewalForUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_renewal(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Start a passcode renewal for a user (by external ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/passcodes/renewals/{policyName}/ext",
    tag = TAG_PASSCODES, operation_id = "createUserPasscodeRenewalForUserByExtUserId", params(ExtUserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "As the by-ID route.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createUserPasscodeRenewalForUserByExtUserId"))),
)]
async fn create_user_passcode_renewal_for_user_by_ext_user_id(
    auth: Authorized<perm::CreateUserPasscodeRenewalForUserByExtUserId>,
    State(state): State<AppState>,
    PathParams(p): PathParams<ExtUserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_renewal(
            &auth.tenant,
            &p.store_name,
            UserRef::ExternalId(&p.ext_user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Complete a passcode renewal: the proof of the current passcode and the new verifier.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcodes/renewals/sessions/{sessionId}",
    tag = TAG_PASSCODES, operation_id = "completePasscodeRenewal", params(SessionPath),
    request_body = schema::CompletePasscodeRenewalRequest,
    responses(
        (status = 200, description = "The server's proof `m2` and the user.", body = schema::PasscodeProofResponse),
        (status = 400, description = "Any other error: `VERIFICATION_FAILED`, `PASSCODE_IN_HISTORY`, `INVALID_VERIFICATION_DATA`, `SESSION_EXPIRED`, ...", body = ErrorBody),
        (status = 404, description = "Tenant, store, policy or user not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("completePasscodeRenewal"))),
)]
async fn complete_passcode_renewal(
    auth: Authorized<perm::CompletePasscodeRenewal>,
    State(state): State<AppState>,
    PathParams(p): PathParams<SessionPath>,
    JsonBody(body): JsonBody<wire::CompletePasscodeRenewalRequest>,
) -> Result<Json<wire::PasscodeProofResponse>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().complete_passcode_renewal(
            &auth.tenant,
            &p.store_name,
            &p.session_id,
            &body,
        )?))
    })
    .await
}

/// Deregister a user's passcode (by ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/passcodes/deregistrations/{policyName}",
    tag = TAG_PASSCODES, operation_id = "deregisterPasscodeForUser", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The user, without that passcode.", body = schema::UserEnvelope),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or passcode registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deregisterPasscodeForUser"))),
)]
async fn deregister_passcode_for_user(
    auth: Authorized<perm::DeregisterPasscodeForUser>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().deregister_passcode(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?))
    })
    .await
}

/// Deregister a user's passcode (by external ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/passcodes/deregistrations/{policyName}/ext",
    tag = TAG_PASSCODES, operation_id = "deregisterPasscodeForUserByExtUserId", params(ExtUserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The user, without that passcode.", body = schema::UserEnvelope),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or passcode registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deregisterPasscodeForUserByExtUserId"))),
)]
async fn deregister_passcode_for_user_by_ext_user_id(
    auth: Authorized<perm::DeregisterPasscodeForUserByExtUserId>,
    State(state): State<AppState>,
    PathParams(p): PathParams<ExtUserPolicyPath>,
    _body: IgnoredBody,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().deregister_passcode(
            &auth.tenant,
            &p.store_name,
            UserRef::ExternalId(&p.ext_user_id),
            &p.policy_name,
        )?))
    })
    .await
}

// -- passcodes: authentication ------------------------------------------------------------------

/// Start a passcode authentication for a user (by ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/passcodes/authentications/{policyName}",
    tag = TAG_PASSCODES, operation_id = "createPasscodeAuthentication", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "The SRP parameters with `serverPublicKey` (B), and the session.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error, e.g. `USER_LOCKED`.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createPasscodeAuthentication"))),
)]
async fn create_passcode_authentication(
    auth: Authorized<perm::CreatePasscodeAuthentication>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_authentication(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Start a passcode authentication for a user (by external ID).
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{extUserId}/passcodes/authentications/{policyName}/ext",
    tag = TAG_PASSCODES, operation_id = "createPasscodeAuthenticationByExtUserId", params(ExtUserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "As the by-ID route.", body = schema::PasscodeSessionStart),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createPasscodeAuthenticationByExtUserId"))),
)]
async fn create_passcode_authentication_by_ext_user_id(
    auth: Authorized<perm::CreatePasscodeAuthenticationByExtUserId>,
    State(state): State<AppState>,
    PathParams(p): PathParams<ExtUserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::PasscodeSessionStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_passcode_authentication(
            &auth.tenant,
            &p.store_name,
            UserRef::ExternalId(&p.ext_user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Complete a passcode authentication with the client's proof; answers `m2` only on success.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/passcodes/authentications/sessions/{sessionId}",
    tag = TAG_PASSCODES, operation_id = "completePasscodeAuthentication", params(SessionPath),
    request_body = schema::CompletePasscodeAuthenticationRequest,
    responses(
        (status = 200, description = "The server's proof `m2` and the user.", body = schema::PasscodeProofResponse),
        (status = 400, description = "`VERIFICATION_FAILED` (counted towards the lock), `INVALID_VERIFICATION_DATA`, `USER_LOCKED`, `SESSION_EXPIRED`, ...", body = ErrorBody),
        (status = 404, description = "Tenant, store, policy or user not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("completePasscodeAuthentication"))),
)]
async fn complete_passcode_authentication(
    auth: Authorized<perm::CompletePasscodeAuthentication>,
    State(state): State<AppState>,
    PathParams(p): PathParams<SessionPath>,
    JsonBody(body): JsonBody<wire::CompletePasscodeAuthenticationRequest>,
) -> Result<Json<wire::PasscodeProofResponse>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().complete_passcode_authentication(
            &auth.tenant,
            &p.store_name,
            &p.session_id,
            &body,
        )?))
    })
    .await
}

// -- TOTP -----------------------------------------------------------------------------------------

/// Start a TOTP registration: a new secret, its `otpauth://` URI and QR code.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/registrations/{policyName}",
    tag = TAG_TOTP, operation_id = "createTotpRegistration", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 201, description = "The secret, its Key URI and QR code, and the session to complete with the first code.", body = schema::TotpRegistrationStart),
        (status = 400, description = "Any other error, e.g. `TOTP_ALREADY_REGISTERED`.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user or policy not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("createTotpRegistration"))),
)]
async fn create_totp_registration(
    auth: Authorized<perm::CreateTotpRegistration>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<(StatusCode, Json<wire::TotpRegistrationStart>), ApiError> {
    let start = blocking(move || {
        Ok(state.identity().start_totp_registration(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(start)))
}

/// Read the user's current TOTP registration (to show the QR code again on another device).
#[utoipa::path(
    get, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/registrations/{policyName}",
    tag = TAG_TOTP, operation_id = "getCurrentTotp", params(UserPolicyPath),
    responses(
        (status = 200, description = "`qrCodeString`, `secret` and the policy's parameters.", body = schema::CurrentTotp),
        (status = 404, description = "Tenant, store, user, policy or TOTP registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("getCurrentTotp"))),
)]
async fn get_current_totp(
    auth: Authorized<perm::GetCurrentTotp>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
) -> Result<Json<wire::CurrentTotp>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().get_totp(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?))
    })
    .await
}

/// Complete a TOTP registration with the first code the authenticator app shows.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/totps/registrations/sessions/{sessionId}",
    tag = TAG_TOTP, operation_id = "completeTotpRegistration", params(SessionPath),
    request_body = schema::TotpCodeRequest,
    responses(
        (status = 200, description = "The user, with the TOTP registered.", body = schema::UserEnvelope),
        (status = 400, description = "`INVALID_CODE`, `SESSION_NOT_FOUND`, `SESSION_EXPIRED`, ...", body = ErrorBody),
        (status = 404, description = "Tenant, store, policy or user not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("completeTotpRegistration"))),
)]
async fn complete_totp_registration(
    auth: Authorized<perm::CompleteTotpRegistration>,
    State(state): State<AppState>,
    PathParams(p): PathParams<SessionPath>,
    JsonBody(body): JsonBody<wire::TotpCodeRequest>,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().complete_totp_registration(
            &auth.tenant,
            &p.store_name,
            &p.session_id,
            &body.code,
        )?))
    })
    .await
}

/// Authenticate with a TOTP code; each time step's code is accepted once.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/authentications/{policyName}",
    tag = TAG_TOTP, operation_id = "authenticateTotp", params(UserPolicyPath),
    request_body = schema::TotpCodeRequest,
    responses(
        (status = 200, description = "The code was right: the user.", body = schema::UserEnvelope),
        (status = 400, description = "`INVALID_CODE` (wrong, outside the drift, or already used; counted towards the lock), `USER_LOCKED`, ...", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or TOTP registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("authenticateTotp"))),
)]
async fn authenticate_totp(
    auth: Authorized<perm::AuthenticateTotp>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    JsonBody(body): JsonBody<wire::TotpCodeRequest>,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().verify_totp(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
            &body.code,
        )?))
    })
    .await
}

/// Deregister a user's TOTP.
#[utoipa::path(
    post, path = "/api/identity-store/tenants/{tenantId}/stores/{storeName}/users/{userId}/totps/deregistrations/{policyName}",
    tag = TAG_TOTP, operation_id = "deregisterTotp", params(UserPolicyPath),
    request_body(content = Option<serde_json::Value>, description = "Ignored: send `{}`, any other JSON value or no body at all.", content_type = "application/json"),
    responses(
        (status = 200, description = "The user, without that TOTP.", body = schema::UserEnvelope),
        (status = 400, description = "Any other error.", body = ErrorBody),
        (status = 404, description = "Tenant, store, user, policy or TOTP registration not found.", body = ErrorBody),
    ),
    extensions(("x-permission" = json!("deregisterTotp"))),
)]
async fn deregister_totp(
    auth: Authorized<perm::DeregisterTotp>,
    State(state): State<AppState>,
    PathParams(p): PathParams<UserPolicyPath>,
    _body: IgnoredBody,
) -> Result<Json<wire::UserEnvelope>, ApiError> {
    blocking(move || {
        Ok(Json(state.identity().deregister_totp(
            &auth.tenant,
            &p.store_name,
            UserRef::Id(&p.user_id),
            &p.policy_name,
        )?))
    })
    .await
}
