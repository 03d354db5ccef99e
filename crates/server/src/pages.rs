//! The end user's pages: the HTML, ES modules, style sheet and message files of `web/`,
//! embedded in the binary and served under `/flow/` (no build step: what is in `web/` is what
//! the browser runs).
//!
//! A process token's link is `{public URL}/flow/#token={id}`: the token travels in the URL
//! fragment, which browsers send neither to servers nor in `Referer`. The page starts the
//! instance with it and then drops it from the address bar.
//!
//! `/flow/` answers the page in the language `Accept-Language` picks among the message files,
//! never cached (it names the assets' version). The assets live under `/flow/{version}/`, where
//! the version is a digest of all of them, so they are cached for a year and a new build is a
//! new URL. Every answer carries a Content-Security-Policy without inline script or style,
//! `Referrer-Policy: no-referrer` and `nosniff`. These routes are not part of `/openapi.json`,
//! which documents the API.

use std::sync::OnceLock;

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

/// The pages' Content-Security-Policy: scripts, styles and connections to this server only;
/// images from here or `data:` (QR codes, logos); nothing may frame the page or be a form target.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The languages with a message file, the default first.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";

/// One embedded file served by the binary (the end user's `web/`, the backoffice's bundle).
pub(crate) struct Asset {
    pub(crate) path: &'static str,
    pub(crate) bytes: &'static [u8],
    pub(crate) content_type: &'static str,
}

/// The digest of a set of embedded files and their page: the URL segment under which they are
/// served as immutable, so a new build can never be mixed with a cached old one.
pub(crate) fn assets_digest(assets: &[Asset], page: &str) -> String {
    let mut hash = Sha256::new();
    for asset in assets {
        hash.update(asset.path.as_bytes());
        hash.update([0]);
        hash.update((asset.bytes.len() as u64).to_le_bytes());
        hash.update(asset.bytes);
    }
    hash.update(page.as_bytes());
    let digest = hash.finalize();
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!("../web/", $path)),
            content_type: $type,
        }
    };
}

/// Every file the page loads (`web/package.json` only marks the folder as ES modules for node).
static ASSETS: [Asset; 9] = [
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("i18n.js", JS),
    asset!("policy.js", JS),
    asset!("render.js", JS),
    asset!("srp.js", JS),
    asset!("style.css", CSS),
    asset!("messages/en.json", JSON),
    asset!("messages/de.json", JSON),
];

const INDEX_TEMPLATE: &str = include_str!("../web/index.html");

/// The digest of everything served: the assets' URL segment.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| assets_digest(&ASSETS, INDEX_TEMPLATE))
}

/// The link an end user opens for process token `token_id`, on a server reachable at
/// `public_url` (relative to this server when `None`).
pub fn token_link(public_url: Option<&str>, token_id: &str) -> String {
    let base = public_url.unwrap_or("").trim_end_matches('/');
    format!("{base}/flow/#token={token_id}")
}

/// The best of [`LANGUAGES`] for an `Accept-Language` header (RFC 9110: quality values, `*`).
pub fn pick_language(accept: Option<&str>) -> &'static str {
    let mut ranked: Vec<(f32, usize, &str)> = Vec::new();
    for (position, item) in accept.unwrap_or("").split(',').enumerate().take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        // `q=0` refuses a language; NaN (`q=nan`) is no quality either.
        if tag.is_empty() || quality.is_nan() || quality <= 0.0 {
            continue;
        }
        ranked.push((quality, position, tag));
    }
    // Highest quality first; equal qualities keep the client's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, tag) in ranked {
        if tag == "*" {
            return LANGUAGES[0];
        }
        let primary = tag.split('-').next().unwrap_or("");
        if let Some(lang) = LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(primary)) {
            return lang;
        }
    }
    LANGUAGES[0]
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn messages_of(lang: &str) -> serde_json::Value {
    let path = format!("messages/{lang}.json");
    ASSETS
        .iter()
        .find(|a| a.path == path)
        .and_then(|a| serde_json::from_slice(a.bytes).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The page in `lang`: the template with the version and the few strings shown before the
/// script has loaded its messages.
fn index_html(lang: &'static str) -> &'static str {
    static PAGES: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let pages = PAGES.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|&lang| {
                let messages = messages_of(lang);
                let text = |key: &str| escape_html(messages[key].as_str().unwrap_or(key));
                let html = INDEX_TEMPLATE
                    .replace("{{lang}}", lang)
                    .replace("{{version}}", version())
                    .replace("{{title}}", &text("page.title"))
                    .replace("{{loading}}", &text("page.loading"))
                    .replace("{{noscript}}", &text("page.noscript"));
                (lang, html)
            })
            .collect()
    });
    pages
        .iter()
        .find(|(l, _)| *l == lang)
        .or_else(|| pages.first())
        .map(|(_, html)| html.as_str())
        .unwrap_or("")
}

/// The headers every page answer carries.
fn secured(content_type: &'static str, cache: &'static str) -> [(HeaderName, HeaderValue); 7] {
    secured_with(CONTENT_SECURITY_POLICY, content_type, cache)
}

/// The headers every page answer carries, with the Content-Security-Policy `csp`.
pub(crate) fn secured_with(
    csp: &'static str,
    content_type: &'static str,
    cache: &'static str,
) -> [(HeaderName, HeaderValue); 7] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

async fn index(headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = pick_language(accept);
    (
        secured("text/html; charset=utf-8", "no-cache"),
        [
            (header::VARY, HeaderValue::from_static("Accept-Language")),
            (header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)),
        ],
        index_html(lang),
    )
        .into_response()
}

async fn asset(PathParams((asked_version, path)): PathParams<(String, String)>) -> Response {
    let found = ASSETS.iter().find(|a| a.path == path);
    match found {
        Some(asset) if asked_version == version() => (
            secured(asset.content_type, "public, max-age=31536000, immutable"),
            asset.bytes,
        )
            .into_response(),
        _ => ApiError::not_found(
            "PAGE_NOT_FOUND",
            format!("no page asset /flow/{asked_version}/{path}"),
        )
        .into_response(),
    }
}

/// The page routes (outside the OpenAPI document).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/flow", get(|| async { Redirect::permanent("/flow/") }))
        .route("/flow/", get(index))
        .route("/flow/{version}/{*path}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_web_is_served_and_nothing_else() {
        let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        let mut stack = vec![web.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.map(|e| e.path()).unwrap_or_default();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(relative) = path.strip_prefix(&web) {
                    on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        served.extend(["index.html".to_string(), "package.json".to_string()]);
        served.sort();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn every_language_has_every_message_and_the_page_names_the_assets() {
        let reference = messages_of(LANGUAGES[0]);
        let keys = |v: &serde_json::Value| {
            v.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert!(keys(&reference).len() > 20, "the English messages load");
        for lang in LANGUAGES {
            assert_eq!(keys(&messages_of(lang)), keys(&reference), "{lang}");
            let html = index_html(lang);
            assert!(html.contains(&format!("<html lang=\"{lang}\">")));
            assert!(html.contains(&format!("/flow/{}/app.js", version())));
            assert!(!html.contains("{{"), "every placeholder is filled: {html}");
        }
    }

    #[test]
    fn accept_language_picks_by_quality_then_order() {
        let cases = [
            (None, "en"),
            (Some(""), "en"),
            (Some("de"), "de"),
            (Some("de-CH, en;q=0.5"), "de"),
            (Some("fr, de;q=0.8, en;q=0.9"), "en"),
            (Some("fr, *;q=0.1"), "en"),
            (Some("en;q=0, de;q=0.1"), "de"),
            (Some("DE-de"), "de"),
            (Some("de;q=garbage"), "de"),
            (Some(";;;,,,"), "en"),
        ];
        for (header, want) in cases {
            assert_eq!(pick_language(header), want, "{header:?}");
        }
    }

    #[test]
    fn token_links_carry_the_token_in_the_fragment() {
        assert_eq!(
            token_link(Some("http://127.0.0.1:8080/"), "ABC"),
            "http://127.0.0.1:8080/flow/#token=ABC"
        );
        assert_eq!(token_link(None, "ABC"), "/flow/#token=ABC");
    }
}
