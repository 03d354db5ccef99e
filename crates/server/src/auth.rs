//! Bearer tokens: the data directory's signing key, minting and verifying HS256 JWTs, and the
//! [`Authorized`] extractor that checks a route's `TNT#{tenant}#{permission}` against the token.
//!
//! A token's `permissions` claim lists `TNT#{tenant}#{permission}` strings; `TNT#{tenant}#*`
//! grants every permission of that tenant. The tenant a route acts on is always its
//! `{tenantId}` path parameter, so a token can only ever reach the tenants it names.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ServerError};

/// The signing key's file name inside the data directory.
pub const SIGNING_KEY_FILE: &str = "signing.key";
/// Length of the HS256 key, in bytes.
pub const SIGNING_KEY_BYTES: usize = crate::key_file::KEY_BYTES;
/// The `iss` claim of every token this server mints and accepts.
pub const ISSUER: &str = "idflow";
/// The permission suffix that grants everything in a tenant.
pub const ALL_PERMISSIONS: &str = "*";

/// The HMAC key tokens are signed with. Never printed: `Debug` is redacted and there is no
/// `Display`.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// Where the signing key of `data_dir` lives.
pub fn signing_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SIGNING_KEY_FILE)
}

impl SigningKey {
    pub fn from_bytes(bytes: &[u8; SIGNING_KEY_BYTES]) -> SigningKey {
        SigningKey {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    /// A fresh random key that lives only in memory (tests, in-process benchmarks).
    pub fn random() -> SigningKey {
        let mut bytes = [0u8; SIGNING_KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SigningKey::from_bytes(&bytes)
    }

    /// Reads the data directory's key, creating it (32 random bytes, mode 0600) when it does not
    /// exist yet (see [`crate::key_file`]). Returns the key and whether it was created now.
    pub fn load_or_create(data_dir: &Path) -> Result<(SigningKey, bool), ServerError> {
        SigningKey::load_or_create_in(crate::key_file::KeyHome::Dir(data_dir))
    }

    /// [`SigningKey::load_or_create`] wherever the deployment keeps its keys.
    pub fn load_or_create_in(
        home: crate::key_file::KeyHome<'_>,
    ) -> Result<(SigningKey, bool), ServerError> {
        let (bytes, created) =
            crate::key_file::load_or_create_in(home, SIGNING_KEY_FILE, "signing key")?;
        Ok((SigningKey::from_bytes(&bytes), created))
    }

    /// Signs `claims`.
    pub fn mint(&self, claims: &Claims) -> Result<String, ServerError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ServerError::Token(format!("signing the token failed: {e}")))
    }

    /// Checks signature, algorithm, issuer and expiry, and returns the claims. The error says
    /// which check failed, never the token.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "the bearer token has expired",
                    ErrorKind::InvalidSignature => "the bearer token's signature is not valid",
                    ErrorKind::InvalidAlgorithm => "the bearer token is not signed with HS256",
                    ErrorKind::InvalidIssuer => "the bearer token was not issued by idflow",
                    ErrorKind::MissingRequiredClaim(_) => {
                        "the bearer token lacks a required claim (exp, iss)"
                    }
                    ErrorKind::Json(_) => "the bearer token's claims are not of the idflow shape",
                    _ => "the bearer token is malformed",
                };
                ApiError::unauthorized(why)
            })
    }
}

/// The claims of an idflow bearer token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who the token was minted for (free text: `idflow token`, `demo admin`).
    pub sub: String,
    pub iss: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
    /// `TNT#{tenant}#{permission}` strings.
    pub permissions: Vec<String>,
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims hold no secret, but keep the shape explicit so a token never sneaks in.
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("exp", &self.exp)
            .field("permissions", &self.permissions)
            .finish()
    }
}

/// `TNT#{tenant}#{permission}`.
pub fn permission_string(tenant: &str, permission: &str) -> String {
    format!("TNT#{tenant}#{permission}")
}

impl Claims {
    /// Claims for `permissions` (already in `TNT#...` form) valid for `ttl` from now.
    pub fn new(subject: impl Into<String>, permissions: Vec<String>, ttl: Duration) -> Claims {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Claims {
            sub: subject.into(),
            iss: ISSUER.to_string(),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
            permissions,
        }
    }

    /// Whether the token grants `permission` in `tenant` (exactly, or through `TNT#{tenant}#*`).
    pub fn allows(&self, tenant: &str, permission: &str) -> bool {
        // A tenant ID containing '#' could forge another tenant's prefix; no such tenant exists.
        if tenant.is_empty() || tenant.contains('#') {
            return false;
        }
        let exact = permission_string(tenant, permission);
        let all = permission_string(tenant, ALL_PERMISSIONS);
        self.permissions.iter().any(|p| *p == exact || *p == all)
    }
}

impl Claims {
    /// The tenants in which the token grants `permission` (exactly, or through
    /// `TNT#{tenant}#*`), for routes that span tenants (`/metrics`).
    pub fn tenants_granting(&self, permission: &str) -> Vec<String> {
        let mut tenants: Vec<String> = self
            .permissions
            .iter()
            .filter_map(|p| p.strip_prefix("TNT#"))
            .filter_map(|rest| rest.rsplit_once('#'))
            .filter(|(tenant, granted)| {
                (*granted == permission || *granted == ALL_PERMISSIONS)
                    && self.allows(tenant, permission)
            })
            .map(|(tenant, _)| tenant.to_string())
            .collect();
        tenants.sort();
        tenants.dedup();
        tenants
    }
}

/// A verified bearer token whose permissions the route checks itself (a route that spans
/// tenants, such as `/metrics`).
pub struct Bearer(pub Claims);

impl<S> FromRequestParts<S> for Bearer
where
    S: Send + Sync,
    SigningKey: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        Ok(Bearer(SigningKey::from_ref(state).verify(token)?))
    }
}

/// A route permission as a type, so a handler states the permission it needs in its signature.
pub trait Permission {
    /// The name after `TNT#{tenant}#`, e.g. `createPasscodeRegistrationForUser`.
    const NAME: &'static str;
}

/// What every authorized handler gets: the tenant of its path, checked against the token.
pub struct Authorized<P: Permission> {
    pub tenant: String,
    /// The token's `sub`: who acts (recorded where a change names its author, e.g. a cancel).
    pub subject: String,
    _permission: PhantomData<P>,
}

impl<P: Permission> fmt::Debug for Authorized<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("tenant", &self.tenant)
            .field("permission", &P::NAME)
            .finish()
    }
}

/// The path parameter every tenant-scoped route names its tenant with.
pub const TENANT_PARAM: &str = "tenantId";

impl<P, S> FromRequestParts<S> for Authorized<P>
where
    P: Permission + Send + Sync,
    S: Send + Sync,
    SigningKey: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        let key = SigningKey::from_ref(state);
        let claims = key.verify(token)?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| match e {
                RawPathParamsRejection::InvalidUtf8InPathParam(e) => ApiError::bad_request(
                    crate::error::code::INVALID_PARAMETER,
                    format!("path parameter: {}", e.body_text()),
                ),
                other => ApiError::internal(format!("route without path parameters: {other}")),
            })?;
        let tenant = params
            .iter()
            .find(|(name, _)| *name == TENANT_PARAM)
            .map(|(_, value)| value.to_string())
            .ok_or_else(|| ApiError::internal("authorized route without a {tenantId} parameter"))?;
        if !claims.allows(&tenant, P::NAME) {
            return Err(ApiError::forbidden(format!(
                "the bearer token does not grant {} (nor TNT#{tenant}#*)",
                permission_string(&tenant, P::NAME)
            )));
        }
        Ok(Authorized {
            tenant,
            subject: claims.sub,
            _permission: PhantomData,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "the Authorization header's scheme is not Bearer",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header's bearer token is empty",
        ));
    }
    Ok(token)
}

/// Declares permission marker types: `permissions! { CreateStore => "createStore", ... }`.
macro_rules! permissions {
    ($($ty:ident => $name:literal,)*) => {
        $(
            #[doc = concat!("`TNT#{tenant}#", $name, "`")]
            pub struct $ty;
            impl $crate::auth::Permission for $ty {
                const NAME: &'static str = $name;
            }
        )*
        /// Every permission name a route checks, for documentation and `idflow token`.
        pub const ALL: &[&str] = &[$($name,)*];
    };
}

/// Every route permission of the API.
pub mod perm {
    permissions! {
        // The seeds' passcode routes (api.md): names exactly so.
        CreatePasscodeRegistrationForUser => "createPasscodeRegistrationForUser",
        CreateUserPasscodeRegistrationForUserByExtUserId => "createUserPasscodeRegistrationForUserByExtUserId",
        CompletePasscodeRegistration => "completePasscodeRegistration",
        CreatePasscodeRenewalForUser => "createPasscodeRenewalForUser",
        CreateUserPasscodeRenewalForUserByExtUserId => "createUserPasscodeRenewalForUserByExtUserId",
        CompletePasscodeRenewal => "completePasscodeRenewal",
        DeregisterPasscodeForUser => "deregisterPasscodeForUser",
        DeregisterPasscodeForUserByExtUserId => "deregisterPasscodeForUserByExtUserId",
        // Identity-store routes that complete the picture.
        CreateStore => "createStore",
        ListStores => "listStores",
        GetStore => "getStore",
        CreatePasscodePolicy => "createPasscodePolicy",
        ListPasscodePolicies => "listPasscodePolicies",
        CreateTotpPolicy => "createTotpPolicy",
        ListTotpPolicies => "listTotpPolicies",
        AddUser => "addUser",
        GetUser => "getUser",
        GetUserByExtUserId => "getUserByExtUserId",
        ListUsers => "listUsers",
        UnlockUser => "unlockUser",
        CreatePasscodeAuthentication => "createPasscodeAuthentication",
        CreatePasscodeAuthenticationByExtUserId => "createPasscodeAuthenticationByExtUserId",
        CompletePasscodeAuthentication => "completePasscodeAuthentication",
        CreateTotpRegistration => "createTotpRegistration",
        CompleteTotpRegistration => "completeTotpRegistration",
        GetCurrentTotp => "getCurrentTotp",
        AuthenticateTotp => "authenticateTotp",
        DeregisterTotp => "deregisterTotp",
        // Process manager.
        DeployProcessDefinition => "deployProcessDefinition",
        ValidateProcessDefinition => "validateProcessDefinition",
        ListProcessDefinitions => "listProcessDefinitions",
        GetProcessDefinition => "getProcessDefinition",
        DeployCustomForm => "deployCustomForm",
        PreviewCustomForm => "previewCustomForm",
        ListCustomForms => "listCustomForms",
        GetCustomForm => "getCustomForm",
        CreateProcessToken => "createProcessToken",
        ListProcessTokens => "listProcessTokens",
        GetProcessToken => "getProcessToken",
        DeactivateProcessToken => "deactivateProcessToken",
        ListProcessInstances => "listProcessInstances",
        GetProcessInstance => "getProcessInstance",
        GetProcessInstanceHistory => "getProcessInstanceHistory",
        CancelProcessInstance => "cancelProcessInstance",
        ReplayProcessInstance => "replayProcessInstance",
        GetProcessStatistics => "getProcessStatistics",
        // Prometheus scrapes `/metrics`: the tenants whose series a token sees.
        ReadMetrics => "readMetrics",
        GetRetentionPolicy => "getRetentionPolicy",
        SetRetentionPolicy => "setRetentionPolicy",
        // Branding of the end user's pages.
        SetBranding => "setBranding",
        GetBranding => "getBranding",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(perms: &[&str]) -> Claims {
        Claims::new(
            "test",
            perms.iter().map(|p| p.to_string()).collect(),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn permission_matching_is_exact_per_tenant() {
        let table: &[(&[&str], &str, &str, bool)] = &[
            (&["TNT#acme#createStore"], "acme", "createStore", true),
            (&["TNT#acme#*"], "acme", "addUser", true),
            (&["TNT#acme#createStore"], "acme", "addUser", false),
            (&["TNT#acme#*"], "acme2", "addUser", false),
            (&["TNT#acme2#*"], "acme", "addUser", false),
            (&["TNT#acme#createStore"], "acm", "createStore", false),
            (&["TNT#a#b#*"], "a#b", "x", false),
            (&["TNT##*"], "", "x", false),
            (&["*"], "acme", "addUser", false),
            (&["TNT#*#*"], "acme", "addUser", false),
            (&[], "acme", "addUser", false),
        ];
        for (perms, tenant, perm, expected) in table {
            assert_eq!(
                claims(perms).allows(tenant, perm),
                *expected,
                "{perms:?} {tenant} {perm}"
            );
        }
    }

    #[test]
    fn tenants_granting_a_permission_are_read_from_the_claims() {
        let c = claims(&[
            "TNT#acme#readMetrics",
            "TNT#beta#*",
            "TNT#gamma#addUser",
            "TNT##readMetrics",
            "TNT#a#b#readMetrics",
            "readMetrics",
        ]);
        assert_eq!(c.tenants_granting("readMetrics"), ["acme", "beta"]);
        assert!(claims(&["TNT#acme#addUser"])
            .tenants_granting("readMetrics")
            .is_empty());
    }

    #[test]
    fn tokens_round_trip_and_foreign_keys_are_refused() {
        let key = SigningKey::random();
        let c = claims(&["TNT#acme#*"]);
        let token = key.mint(&c).expect("mint");
        assert_eq!(key.verify(&token).ok(), Some(c));
        let other = SigningKey::random();
        let refused = other.verify(&token).err().map(|e| e.status.as_u16());
        assert_eq!(refused, Some(401));
        assert!(key.verify("not.a.token").is_err());
        assert!(key.verify("").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let key = SigningKey::random();
        let mut c = claims(&["TNT#acme#*"]);
        c.exp = c.iat.saturating_sub(3600);
        let token = key.mint(&c).expect("mint");
        let err = key.verify(&token).err();
        assert_eq!(
            err.map(|e| e.message),
            Some("the bearer token has expired".to_string())
        );
    }

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (k1, created1) = SigningKey::load_or_create(dir.path()).expect("first load");
        let (k2, created2) = SigningKey::load_or_create(dir.path()).expect("second load");
        assert!(created1);
        assert!(!created2);
        let token = k1.mint(&claims(&["TNT#x#*"])).expect("mint");
        assert!(k2.verify(&token).is_ok(), "the reloaded key verifies");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(signing_key_path(dir.path()))
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        let leftovers = std::fs::read_dir(dir.path())
            .map(|it| it.count())
            .unwrap_or(0);
        assert_eq!(leftovers, 1, "no temporary files left behind");
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(signing_key_path(dir.path()), b"short").expect("write");
        let err = SigningKey::load_or_create(dir.path())
            .err()
            .map(|e| e.to_string());
        let text = err.unwrap_or_default();
        assert!(
            text.contains("signing.key") && text.contains("5 bytes"),
            "{text}"
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = SigningKey::random();
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }
}
