//! The phone page, embedded in the binary: no front-end build step.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rollcoach_protocol::Protocol;

use crate::{ApiError, AppState};

/// (file name under `web/`, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../../web/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../../web/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/api.js"),
    ),
    (
        "session.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/session.js"),
    ),
    (
        "speech.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/speech.js"),
    ),
    (
        "planner.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/planner.js"),
    ),
    (
        "turns.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/turns.js"),
    ),
    (
        "history.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/history.js"),
    ),
    (
        "handout.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/handout.js"),
    ),
    (
        "runner.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/runner.js"),
    ),
    (
        "local.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/local.js"),
    ),
    (
        "sync.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/sync.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../../web/icon.svg"),
    ),
];

/// The speech planner as a WebAssembly module (crates/wasm, built by
/// `web/build-wasm.sh`; CI checks the committed file is what the source builds).
const WASM: &[u8] = include_bytes!("../../../web/rollcoach.wasm");

/// The page's Content-Security-Policy: only its own scripts, styles and
/// socket; `wasm-unsafe-eval` lets it compile its own WebAssembly module
/// (from `self`, like the scripts), and no `eval` of text.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
                   form-action 'self'";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { asset("index.html") }))
        .route("/{file}", get(file))
}

async fn file(Path(name): Path<String>) -> Response {
    asset(&name)
}

fn asset(name: &str) -> Response {
    let found = if name == "rollcoach.wasm" {
        Some(("application/wasm", WASM.into_response()))
    } else {
        ASSETS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, t, body)| (*t, (*body).into_response()))
    };
    match found {
        Some((content_type, mut resp)) => {
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            // The page is small and served from memory: always fresh, so a new
            // binary is never mixed with old cached modules.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        None => ApiError::not_found(format!("no file `{name}` in the page")).into_response(),
    }
}

/// The protocol's printable handout as standalone HTML (the protocol crate's
/// renderer: inline CSS, no scripts).
pub(crate) fn handout_html(protocol: &Protocol) -> Response {
    let mut resp = rollcoach_protocol::render::html(protocol).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}
