//! The idflow HTTP server: the identity-store routes of the seeds and api.md, the process
//! manager, the end user's start and step routes, `/openapi.json`, the end user's pages
//! (`/flow/`, see [`pages`]) and the backoffice with the designer (`/backoffice/`, see
//! [`backoffice`]).
//!
//! [`router`] builds the axum application for an [`AppState`]; [`Server::bind`] opens a data
//! directory (store, signing key, demo seed) and binds a listener, and [`Server::run`] serves
//! until a shutdown signal, draining in-flight requests. [`serve`] is the two in one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod auth;
pub mod backoffice;
pub mod branding;
mod connections;
pub mod constraints;
mod demo;
pub mod error;
mod extract;
pub mod key_file;
pub mod metrics;
mod middleware;
pub mod openapi;
pub mod pages;
mod rate;
mod routes;
pub mod schema;
mod server;
pub mod signin;
mod state;

pub use auth::{Claims, SigningKey};
pub use connections::ConnectionLimits;
pub use error::{ApiError, ErrorBody, ServerError};
pub use rate::StartRate;
pub use routes::designer::{
    CatalogueBody, DiagnosticBody, FileReportBody, SummaryBody, ValidationReport,
};
pub use routes::operations::{
    DefinitionStatisticsBody, DivergenceBody, InstancePathBody, ProcessStatisticsBody,
    ReplayResultBody,
};
pub use server::{open_data_dir, serve, Config, DemoToken, Opened, Server, DEMO_TENANT};
pub use state::AppState;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The deepest nesting of arrays and objects a JSON request body may have. Forms, answers,
/// token parameters and policies are a few levels deep; anything past this is refused with 400
/// before it is parsed, well inside what the store can write and read back
/// ([`idflow_store::MAX_RECORD_DEPTH`]) once the body is wrapped in an instance's variables
/// and history.
pub const MAX_JSON_DEPTH: usize = 32;

/// Where the store lives inside a data directory.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// The served document, serialized once.
#[derive(Clone)]
struct OpenApiJson(Arc<String>);

/// This OpenAPI 3.1 document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "meta", operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server.", content_type = "application/json")),
)]
async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
}

fn build() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::identity::routes())
        .merge(routes::process::routes())
        .merge(routes::operations::routes())
        .merge(routes::enduser::routes())
        .merge(routes::branding::routes())
        .merge(routes::designer::routes())
        .routes(routes!(openapi_json))
        .split_for_parts();
    routes::process::document_token_kinds(&mut doc);
    openapi::finish(&mut doc);
    (router, doc)
}

/// The OpenAPI document of every route, as `/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    build().1
}

/// The whole application for `state`: routes, JSON fallbacks, body limit, tracing, panic catcher.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = build();
    let json = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"the document did not serialize: {e}\"}}"));
    let body_limit = state.body_limit();
    routes
        .merge(pages::router())
        .merge(backoffice::router())
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .fallback(middleware::route_not_found)
        .layer(Extension(OpenApiJson(Arc::new(json))))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            body_limit,
            middleware::buffer_body,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics().clone(),
            middleware::trace_requests,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .with_state(state)
}
