//! The backoffice: the designer and the operations pages (process tokens, instances and their
//! paths, replay, users, stores, live numbers) for designers and operators, served under
//! `/backoffice/`. Its script and style sheet are one esbuild bundle of bpmn-js and
//! the designer's modules (`designer/`, built into `backoffice/dist/` and committed; CI checks
//! that rebuilding gives the same bytes), embedded in the binary.
//!
//! The page signs in with a bearer token kept in the tab's `sessionStorage`: pasted (from
//! `idflow token`) or exchanged for the one-time code of the link `idflow serve` prints
//! (`/backoffice/#code=...`, see [`crate::signin`]). Everything it does goes through the API
//! with that token, so the token's permissions are the page's.
//!
//! The Content-Security-Policy is the end user's pages' (no inline script, nothing from
//! elsewhere) with two additions scoped to `/backoffice/`: `style-src 'unsafe-inline'`, because
//! bpmn-js and diagram-js write `style` attributes when they draw (label positions, the
//! direct-editing box, the palette), and `font-src data:` for bpmn-js's icon font, which its
//! style sheet embeds.

use std::sync::OnceLock;

use axum::http::header::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::extract::PathParams;
use crate::pages::{assets_digest, secured_with, Asset};
use crate::state::AppState;

/// The backoffice's Content-Security-Policy (see the module documentation for the two
/// differences from [`crate::pages::CONTENT_SECURITY_POLICY`]).
pub const BACKOFFICE_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The bundle esbuild writes (see `designer/build.mjs`).
static ASSETS: [Asset; 2] = [
    Asset {
        path: "designer.js",
        bytes: include_bytes!("../backoffice/dist/designer.js"),
        content_type: "text/javascript; charset=utf-8",
    },
    Asset {
        path: "designer.css",
        bytes: include_bytes!("../backoffice/dist/designer.css"),
        content_type: "text/css; charset=utf-8",
    },
];

const INDEX_TEMPLATE: &str = include_str!("../backoffice/index.html");

fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| assets_digest(&ASSETS, INDEX_TEMPLATE))
}

fn index_html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| INDEX_TEMPLATE.replace("{{version}}", version()))
}

async fn index() -> Response {
    (
        secured_with(BACKOFFICE_CSP, "text/html; charset=utf-8", "no-cache"),
        index_html(),
    )
        .into_response()
}

async fn asset(PathParams((asked_version, path)): PathParams<(String, String)>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) if asked_version == version() => {
            let mut response = (
                secured_with(
                    BACKOFFICE_CSP,
                    asset.content_type,
                    "public, max-age=31536000, immutable",
                ),
                asset.bytes,
            )
                .into_response();
            response
                .headers_mut()
                .insert("x-robots-tag", HeaderValue::from_static("noindex"));
            response
        }
        _ => ApiError::not_found(
            "PAGE_NOT_FOUND",
            format!("no backoffice asset /backoffice/{asked_version}/{path}"),
        )
        .into_response(),
    }
}

/// The backoffice routes (outside the OpenAPI document, like the end user's pages).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/backoffice",
            get(|| async { Redirect::permanent("/backoffice/") }),
        )
        .route("/backoffice/", get(index))
        .route("/backoffice/{version}/{*path}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_versioned_assets() {
        let html = index_html();
        for asset in &ASSETS {
            assert!(
                html.contains(&format!("/backoffice/{}/{}", version(), asset.path)),
                "{}",
                asset.path
            );
            assert!(!asset.bytes.is_empty(), "{} is built", asset.path);
        }
        assert!(!html.contains("{{"));
        assert!(!html.contains("<script>"), "no inline script");
    }
}
