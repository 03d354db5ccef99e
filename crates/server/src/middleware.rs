//! Cross-cutting layers: request tracing, the panic catcher, and JSON answers for unknown routes
//! and wrong methods.
//!
//! Tracing logs the matched route *template* (`/api/.../process-instances/{instanceId}`), never
//! the concrete path: instance and session IDs in paths are what authorize an end user, and
//! they do not belong in logs any more than bodies or tokens do.

use std::any::Any;
use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{code, ApiError};

/// Logs one line per request (method, route template, status, latency) and counts its latency
/// for `/metrics`.
pub async fn trace_requests(
    axum::extract::State(metrics): axum::extract::State<crate::metrics::Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<no route>".to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency = started.elapsed();
    metrics.observe(&method, &route, status, latency);
    let latency_us = latency.as_micros() as u64;
    if response.status().is_server_error() {
        tracing::warn!(%method, route, status, latency_us, "request");
    } else {
        tracing::info!(%method, route, status, latency_us, "request");
    }
    response
}

/// The answer when a handler panicked: a JSON 500, the panic message in the log only.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "a panic without a message".to_string()
    };
    tracing::error!(panic = %detail, "a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        code::INTERNAL_ERROR,
        "the server failed to handle the request; the failure is logged",
    )
    .into_response()
}

/// No route for the path.
pub async fn route_not_found(request: Request) -> ApiError {
    ApiError::not_found(
        code::ROUTE_NOT_FOUND,
        format!(
            "no route {} {}; /openapi.json lists them all",
            request.method(),
            request.uri().path()
        ),
    )
}

/// The path exists, the method does not.
pub async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}; /openapi.json lists the methods it takes",
            request.method(),
            request.uri().path()
        ),
    )
}

/// How many bytes of an over-limit body are read and thrown away before answering 413, as a
/// multiple of the limit (at least [`MIN_DRAIN`]); a bigger body is answered at once and the
/// connection closed.
const DRAIN_FACTOR: usize = 16;
const MIN_DRAIN: usize = 16 * 1024 * 1024;
/// The longest a request body may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(30);

fn too_large(limit: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        format!("request body is over the server's limit of {limit} bytes"),
    )
    .into_response()
}

enum Read {
    Complete(Vec<u8>),
    TooLarge,
    Failed(String),
}

/// Reads the whole body; past `limit` keeps reading (discarding) up to `drain` bytes.
async fn read_body(mut body: Body, limit: usize, drain: usize) -> Read {
    let mut buf = Vec::new();
    let mut total = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(e)) => return Read::Failed(e.to_string()),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    total = total.saturating_add(data.len());
                    if total <= limit {
                        buf.extend_from_slice(&data);
                    } else if total > drain {
                        return Read::TooLarge;
                    }
                }
            }
        }
    }
    if total > limit {
        Read::TooLarge
    } else {
        Read::Complete(buf)
    }
}

/// Reads every request body in full before routing (all handlers buffer their bodies anyway),
/// enforcing the limit with a JSON 413. A body the handler will not look at (a GET with a body)
/// and an over-limit body up to a bound are still read to the end, so the client is never cut
/// off mid-upload and sees the answer; beyond the bound the connection is closed after it.
pub async fn buffer_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let drain = limit.saturating_mul(DRAIN_FACTOR).max(MIN_DRAIN);
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain as u64) {
        return too_large(limit);
    }
    if declared == Some(0) || body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match tokio::time::timeout(BODY_DEADLINE, read_body(body, limit, drain)).await {
        Ok(Read::Complete(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(Bytes::from(bytes))))
                .await
        }
        Ok(Read::TooLarge) => too_large(limit),
        Ok(Read::Failed(reason)) => ApiError::bad_request(
            code::INVALID_BODY,
            format!("request body could not be read: {reason}"),
        )
        .into_response(),
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "request body did not arrive within {} s",
                BODY_DEADLINE.as_secs()
            ),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500_without_the_panic_message() {
        async fn boom() -> &'static str {
            panic!("secret detail that must not reach the client")
        }
        let app = Router::new().route("/boom", get(boom)).layer(
            tower_http::catch_panic::CatchPanicLayer::custom(panic_response),
        );
        let response = app
            .oneshot(
                Request::get("/boom")
                    .body(Body::empty())
                    .unwrap_or_default(),
            )
            .await
            .map_err(|e| e.to_string());
        let response = response.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert_eq!(body["code"], "INTERNAL_ERROR");
        assert_eq!(body["status"], 500);
        assert!(!body.to_string().contains("secret detail"));
    }

    #[tokio::test]
    async fn a_panic_on_the_blocking_pool_is_a_json_500_too() {
        let result: Result<(), ApiError> =
            crate::state::blocking(|| panic!("blocking secret")).await;
        let err = result
            .err()
            .map(|e| (e.status, e.code.to_string(), e.message));
        let (status, code, message) = err.unwrap_or_default();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(code, "INTERNAL_ERROR");
        assert!(!message.contains("blocking secret"));
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413_and_under_it_pass_whole() {
        async fn echo(body: Bytes) -> String {
            body.len().to_string()
        }
        let app = Router::new()
            .route("/echo", axum::routing::post(echo))
            .layer(axum::middleware::from_fn_with_state(100usize, buffer_body));
        let send = |size: usize| {
            let app = app.clone();
            async move {
                app.oneshot(
                    Request::post("/echo")
                        .body(Body::from(vec![b'x'; size]))
                        .unwrap_or_default(),
                )
                .await
                .map_err(|e| e.to_string())
                .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        let ok = send(100).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let big = send(101).await;
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body_json(big).await["code"], "PAYLOAD_TOO_LARGE");
    }
}
