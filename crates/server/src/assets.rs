//! The phone page, embedded in the binary: no front-end build step.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rollcoach_protocol::Protocol;

use crate::ApiError;

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

/// What makes the page an installable, offline app: its web app manifest and
/// the script that registers the service worker (see `sw.js` below).
const PWA_ASSETS: &[(&str, &str, &str)] = &[
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_str!("../../../web/manifest.webmanifest"),
    ),
    (
        "install.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web/install.js"),
    ),
];

/// The app's icons as PNG (made from `web/icon.svg` by `web/icons.sh`).
const PNGS: &[(&str, &[u8])] = &[
    ("icon-192.png", include_bytes!("../../../web/icon-192.png")),
    ("icon-512.png", include_bytes!("../../../web/icon-512.png")),
    (
        "icon-maskable-512.png",
        include_bytes!("../../../web/icon-maskable-512.png"),
    ),
    (
        "apple-touch-icon.png",
        include_bytes!("../../../web/apple-touch-icon.png"),
    ),
];

/// The service worker's source. Its one line [`SW_SHELL_LINE`] is replaced,
/// when served, by the app shell's version and file list ([`shell`]).
const SW_SOURCE: &str = include_str!("../../../web/sw.js");

/// The line of `web/sw.js` that [`service_worker`] fills in.
const SW_SHELL_LINE: &str = r#"const SHELL = { version: 'unfilled', files: ['./'] };"#;

/// Every file of the app shell but the service worker: (name under `web/`,
/// content type, bytes). The service worker caches them all.
pub(crate) fn shell() -> impl Iterator<Item = (&'static str, &'static str, &'static [u8])> {
    ASSETS
        .iter()
        .chain(PWA_ASSETS)
        .map(|(n, t, body)| (*n, *t, body.as_bytes()))
        .chain(PNGS.iter().map(|(n, body)| (*n, "image/png", *body)))
        .chain(std::iter::once((
            "rollcoach.wasm",
            "application/wasm",
            WASM,
        )))
}

/// The service worker as served: `web/sw.js` with the shell's version (a
/// hash of every shell file, so a new binary is a new worker that caches the
/// new files and drops the old) and file list filled in.
pub(crate) fn service_worker() -> &'static str {
    static SW: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SW.get_or_init(|| {
        // FNV-1a, 64 bits: a change detector, not a defence.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes.iter().chain(&[0xff]) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        let mut files = vec!["./"];
        for (name, content_type, body) in shell() {
            eat(name.as_bytes());
            eat(content_type.as_bytes());
            eat(body);
            files.push(name);
        }
        eat(SW_SOURCE.as_bytes());
        let shell = serde_json::json!({ "version": format!("{hash:016x}"), "files": files });
        SW_SOURCE.replacen(SW_SHELL_LINE, &format!("const SHELL = {shell};"), 1)
    })
}

/// The page's Content-Security-Policy: only its own scripts, styles and
/// socket; `wasm-unsafe-eval` lets it compile its own WebAssembly module
/// (from `self`, like the scripts), and no `eval` of text. The service
/// worker and the manifest come from `self` too.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
                   form-action 'self'";

/// `GET /`: the page.
pub(crate) async fn index() -> Response {
    asset("index.html")
}

/// `GET /{file}`: one of the page's files.
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    asset(&name)
}

fn asset(name: &str) -> Response {
    let found = if name == "sw.js" {
        Some((
            "text/javascript; charset=utf-8",
            service_worker().into_response(),
        ))
    } else {
        shell()
            .find(|(n, _, _)| *n == name)
            .map(|(_, t, body)| (t, body.into_response()))
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
            // binary is never mixed with old cached modules. The service
            // worker decides what the page gets offline; its own script is
            // checked on every navigation, so a new binary is seen at once.
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
