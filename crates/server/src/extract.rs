//! Request extractors whose rejections are JSON [`ApiError`]s: JSON bodies, empty bodies, XML
//! bodies, path and query parameters.
//!
//! axum's own extractors answer plain-text rejections with 422 for a JSON shape error; api.md
//! wants JSON bodies with stable codes and 400 for anything a client sent wrong, so every
//! extractor a handler uses comes from here.

use std::any::TypeId;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{code, ApiError};
use crate::MAX_JSON_DEPTH;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned + 'static,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                "this route takes a JSON body: send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        check_depth(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(_) if !is_object(&bytes) && TypeId::of::<T>() != TypeId::of::<Value>() => {
                // serde fills a struct from an array too (`[null, null]`); every documented body
                // shape is an object. A `Value` body is its handler's to check.
                Err(ApiError::bad_request(
                    code::INVALID_BODY,
                    "request body must be a JSON object",
                ))
            }
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Whether a JSON text is an object (its first significant byte is `{`).
fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Refuses a body nested deeper than [`MAX_JSON_DEPTH`] before any parser recurses into it.
fn check_depth(bytes: &[u8]) -> Result<(), ApiError> {
    let depth = idflow_store::json_depth(bytes);
    if depth > MAX_JSON_DEPTH {
        return Err(ApiError::bad_request(
            code::JSON_TOO_DEEP,
            format!(
                "request body nests arrays and objects {depth} levels deep; the limit is {MAX_JSON_DEPTH}"
            ),
        ));
    }
    Ok(())
}

fn inner_text(e: &dyn std::error::Error) -> String {
    // axum wraps serde's error (with the field path) one or two levels down.
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::bad_request(
            code::INVALID_BODY,
            format!("request body: {}", inner_text(&e)),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            code::MALFORMED_JSON,
            format!("request body is not valid JSON: {}", inner_text(&e)),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "this route takes a JSON body: send Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) => bytes_rejection(e),
        other => ApiError::bad_request(code::INVALID_BODY, other.body_text()),
    }
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            "request body is over the server's size limit",
        )
    } else {
        ApiError::bad_request(
            code::INVALID_BODY,
            format!("request body could not be read: {}", inner_text(&rejection)),
        )
    }
}

/// A body the route ignores (the seeds send `{}`): empty, or any JSON value with a JSON
/// content type. Anything else is refused, so a client learns it sent the wrong thing.
#[derive(Debug)]
pub struct IgnoredBody;

impl<S: Send + Sync> FromRequest<S> for IgnoredBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let has_type = req.headers().contains_key(CONTENT_TYPE);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(IgnoredBody);
        }
        if has_type && !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                "this route takes an empty body or `{}` with Content-Type: application/json",
            ));
        }
        check_depth(&bytes)?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map(|_| IgnoredBody)
            .map_err(|e| {
                ApiError::bad_request(
                    code::MALFORMED_JSON,
                    format!("request body is not valid JSON: {e}"),
                )
            })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

/// The lower-cased media type of the `Content-Type` header, parameters dropped.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(essence)
}

/// An XML document body (BPMN definitions), as text.
#[derive(Debug)]
pub struct XmlBody(pub String);

impl<S: Send + Sync> FromRequest<S> for XmlBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let xml = media_type(req.headers())
            .is_some_and(|m| m == "application/xml" || m == "text/xml" || m.ends_with("+xml"));
        if !xml {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::UNSUPPORTED_MEDIA_TYPE,
                "this route takes a BPMN 2.0 XML body: send Content-Type: application/xml",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            ApiError::bad_request(
                code::INVALID_BODY,
                format!(
                    "request body is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        if text.trim().is_empty() {
            return Err(ApiError::bad_request(
                code::INVALID_BODY,
                "request body is empty: expected a BPMN 2.0 XML document",
            ));
        }
        Ok(XmlBody(text))
    }
}

/// Path parameters of type `T`.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParams(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                // A parameter type's own refusal (`constraints`) already names the parameter.
                let detail = match e.kind() {
                    ErrorKind::Message(message) => message.clone(),
                    _ => e.body_text(),
                };
                Err(ApiError::bad_request(
                    code::INVALID_PARAMETER,
                    format!("path parameter: {detail}"),
                ))
            }
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// Query parameters of type `T`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| QueryParams(v))
            .map_err(|e: QueryRejection| {
                ApiError::bad_request(
                    code::INVALID_PARAMETER,
                    format!("query string: {}", inner_text(&e)),
                )
            })
    }
}
