//! Errors: the JSON error body every failed request answers with, and the server's own error type.
//!
//! An [`ApiError`] is what a client sees: an HTTP status, a stable machine-readable `code` and a
//! message naming the field or object at fault. Domain refusals (identity, runtime) convert into
//! it with their own codes; failures below the domain become `500 INTERNAL_ERROR` with a generic
//! message (the detail goes to the log, never to the client).

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stable codes the server itself produces (domain crates bring their own).
pub mod code {
    /// No bearer token, a malformed one, a bad signature or an expired token.
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    /// A valid token without the route's permission for the path's tenant.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// No route matches the path.
    pub const ROUTE_NOT_FOUND: &str = "ROUTE_NOT_FOUND";
    /// The path exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// The body is over the server's limit.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The body's `Content-Type` is not the one the route takes.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// The body is not JSON at all.
    pub const MALFORMED_JSON: &str = "MALFORMED_JSON";
    /// The body nests arrays and objects deeper than [`crate::MAX_JSON_DEPTH`].
    pub const JSON_TOO_DEEP: &str = "JSON_TOO_DEEP";
    /// The body is JSON but not of the expected shape (a missing field, a wrong type).
    pub const INVALID_BODY: &str = "INVALID_BODY";
    /// A path or query parameter could not be read (not a number, not UTF-8, out of range).
    pub const INVALID_PARAMETER: &str = "INVALID_PARAMETER";
    /// Something failed on the server's side; the log has the detail.
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
    /// The server is shutting down or a background task was cancelled.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ErrorBody {
    /// Stable, machine-readable: `USER_NOT_FOUND`, `MALFORMED_JSON`, `FORBIDDEN`, ...
    #[schema(example = "USER_NOT_FOUND")]
    pub code: String,
    /// For humans: names the field or object at fault.
    #[schema(example = "no user with ID UGIRW7QN727EIV2XLXG4YH42N4 in store 'main'")]
    pub message: String,
    /// The HTTP status, repeated.
    #[schema(example = 404)]
    pub status: u16,
    /// Located problems of an invalid definition file (`INVALID_DEFINITION` only): `severity`,
    /// `code`, `message`, `source`, `line`, `column`, `elementId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<serde_json::Value>>,
}

/// An error answer: status, stable code, message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub diagnostics: Option<Vec<serde_json::Value>>,
    /// Seconds to send as `Retry-After` (a 429).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            diagnostics: None,
            retry_after_secs: None,
        }
    }

    /// 429: the client is over a rate limit; `wait` becomes `Retry-After` (whole seconds,
    /// rounded up, at least 1).
    pub fn too_many_requests(
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        wait: std::time::Duration,
    ) -> ApiError {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.retry_after_secs = Some(secs.max(1));
        e
    }

    /// Attaches located diagnostics (an invalid definition file).
    pub fn with_diagnostics(mut self, diagnostics: Vec<serde_json::Value>) -> ApiError {
        self.diagnostics = Some(diagnostics);
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
    }

    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// A failure below the domain. `detail` is logged here and never sent: it may name files,
    /// keys or internal states the client has no business seeing.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "request failed on the server side");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_ERROR,
            "the server failed to handle the request; the failure is logged",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
            status: self.status.as_u16(),
            diagnostics: self.diagnostics.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Why the server could not start or stopped abnormally (not a request's error).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A key file of the data directory (`what`: "signing key", "marker key").
    #[error("{what} {path}: {reason}")]
    KeyFile {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] idflow_store::StoreError),
    #[error("opening the identity store failed: {0}")]
    Identity(String),
    #[error("opening the runtime failed: {0}")]
    Runtime(String),
    #[error("seeding the demo tenant failed: {0}")]
    Seed(String),
    #[error("token: {0}")]
    Token(String),
}
