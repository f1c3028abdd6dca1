//! Installable and offline: the manifest, the icons, the service worker and
//! its shell, and https's certificate checks.

mod common;

use std::path::Path;

use axum::http::{StatusCode, header};
use common::*;
use rollcoach_server::tls::{TlsConfig, TlsError};
use serde_json::Value;

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let n = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (n(16), n(20))
}

#[tokio::test]
async fn the_manifest_makes_the_page_installable() {
    let app = app(state());
    let r = get(&app, "/manifest.webmanifest").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/manifest+json");
    let m = &r.json;
    assert_eq!(m["name"], "rollcoach");
    assert!(m["short_name"].as_str().is_some_and(|s| s.len() <= 12));
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["start_url"], "./");
    // The theme colour is the page's own (index.html's theme-color, style.css's --bg).
    let page = get(&app, "/").await.text;
    let theme = m["theme_color"].as_str().unwrap();
    assert!(
        page.contains(&format!("<meta name=\"theme-color\" content=\"{theme}\">")),
        "{theme}"
    );
    assert!(page.contains("<link rel=\"manifest\" href=\"manifest.webmanifest\""));
    assert!(page.contains("<script type=\"module\" src=\"install.js\"></script>"));
    let touch = get(&app, "/apple-touch-icon.png").await;
    assert_eq!(touch.headers[header::CONTENT_TYPE], "image/png");

    // Every icon is served as what it says, at the size it says; 192 and 512 px PNGs among them.
    let mut pngs = Vec::new();
    for icon in m["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let resp = get_bytes(&app, &format!("/{src}")).await;
        assert_eq!(resp.0, StatusCode::OK, "{src}");
        assert_eq!(resp.1, icon["type"].as_str().unwrap(), "{src}");
        if icon["type"] == "image/png" {
            let (w, h) = png_size(&resp.2);
            assert_eq!(icon["sizes"], format!("{w}x{h}"), "{src}");
            pngs.push((w, icon["purpose"].as_str().unwrap_or("any").to_owned()));
        }
    }
    assert!(pngs.contains(&(192, "any".into())), "{pngs:?}");
    assert!(pngs.contains(&(512, "any".into())), "{pngs:?}");
}

/// `GET uri` through the router: status, content type, body bytes.
async fn get_bytes(app: &axum::Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    use tower::ServiceExt;
    let req = axum::http::Request::get(uri)
        .header(header::HOST, "127.0.0.1:7878")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    (status, ct, body.to_vec())
}

/// The `SHELL` the server wrote into the service worker.
fn shell_of(sw: &str) -> Value {
    let line = sw
        .lines()
        .find(|l| l.starts_with("const SHELL = "))
        .expect("a SHELL line");
    let json = line
        .strip_prefix("const SHELL = ")
        .and_then(|l| l.strip_suffix(';'))
        .unwrap();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[tokio::test]
async fn the_service_worker_caches_every_file_of_the_shell() {
    let app = app(state());
    let r = get(&app, "/sw.js").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // Checked on every navigation, so a new binary's worker is seen at once.
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");
    assert!(!r.text.contains("unfilled"), "the server fills SHELL in");
    let shell = shell_of(&r.text);
    let version = shell["version"].as_str().unwrap();
    assert_eq!(version.len(), 16, "{version}");
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{version}");
    let files: Vec<&str> = shell["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for want in [
        "./",
        "index.html",
        "app.js",
        "style.css",
        "rollcoach.wasm",
        "manifest.webmanifest",
        "install.js",
        "icon-192.png",
        "icon-512.png",
    ] {
        assert!(files.contains(&want), "{want} not in {files:?}");
    }
    assert!(
        !files.contains(&"sw.js"),
        "the browser keeps the worker itself"
    );
    // Each is served (the worker's install fails on any 404).
    for f in &files {
        // Relative to the worker's scope, `/`.
        let uri = format!("/{}", f.trim_start_matches("./"));
        let (status, _, body) = get_bytes(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{f}");
        assert!(!body.is_empty(), "{f}");
    }
    // The same binary always serves the same worker.
    assert_eq!(get(&app, "/sw.js").await.text, r.text);
}

/// A self-signed certificate for localhost and its key, as PEM.
fn cert_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn a_certificate_and_its_key_are_accepted() {
    let (cert, key) = cert_and_key();
    TlsConfig::from_pem(
        Path::new("cert.pem"),
        cert.as_bytes(),
        Path::new("key.pem"),
        key.as_bytes(),
    )
    .unwrap();
}

#[test]
fn a_key_of_another_certificate_is_refused_naming_both_files() {
    let (cert, _) = cert_and_key();
    let (_, other_key) = cert_and_key();
    let err = TlsConfig::from_pem(
        Path::new("cert.pem"),
        cert.as_bytes(),
        Path::new("other-key.pem"),
        other_key.as_bytes(),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("other-key.pem") && msg.contains("cert.pem"),
        "{msg}"
    );
}

#[test]
fn swapped_files_are_refused_naming_the_file() {
    let (cert, key) = cert_and_key();
    // The key given as the certificate: no certificate in it.
    let err = TlsConfig::from_pem(
        Path::new("key.pem"),
        key.as_bytes(),
        Path::new("cert.pem"),
        cert.as_bytes(),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::Certificate { .. }), "{err}");
    assert!(err.to_string().contains("key.pem"), "{err}");
    // A certificate where the key should be.
    let err = TlsConfig::from_pem(
        Path::new("cert.pem"),
        cert.as_bytes(),
        Path::new("cert-again.pem"),
        cert.as_bytes(),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::Key { .. }), "{err}");
    assert!(err.to_string().contains("cert-again.pem"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("nope.pem");
    let err = TlsConfig::from_pem_files(&cert, &dir.path().join("key.pem")).unwrap_err();
    assert!(matches!(err, TlsError::Read { .. }), "{err}");
    assert!(err.to_string().contains("nope.pem"), "{err}");
}
