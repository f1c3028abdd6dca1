//! `rollcoach serve --tls-cert FILE --tls-key FILE`: the app and the API over
//! https, with a test CA and a certificate made here (rcgen), checked by a
//! rustls client that trusts only that CA; and clear errors for bad files.

mod common;

use std::sync::Arc;

use common::TestEnvironment;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// A test CA and a `localhost` certificate it signed, with its key: (CA PEM, cert PEM, key PEM).
fn ca_and_cert() -> (CertificateDer<'static>, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rollcoach test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.der().clone(), cert.pem(), key.serialize_pem())
}

/// `GET path` over https to `addr`, as `localhost`, trusting only `ca`:
/// the status line, headers and body of the answer.
async fn https_get(ca: &CertificateDer<'static>, addr: &str, path: &str, auth: &str) -> String {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let port = addr.rsplit(':').next().unwrap();
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{auth}Connection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    // A server may close without TLS close_notify; what arrived is the answer.
    let _ = tls.read_to_end(&mut resp).await;
    String::from_utf8_lossy(&resp).into_owned()
}

#[test]
fn serve_with_a_certificate_serves_the_app_and_the_api_over_https() {
    let env = TestEnvironment::new();
    let (ca, cert, key) = ca_and_cert();
    let cert_file = env.write_file("cert.pem", &cert);
    let key_file = env.write_file("key.pem", &key);
    let serve = env.spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        cert_file.to_str().unwrap(),
        "--tls-key",
        key_file.to_str().unwrap(),
    ]);
    assert!(
        serve.url().starts_with("https://127.0.0.1:"),
        "{}",
        serve.url()
    );
    let addr = serve.addr().to_owned();
    let auth = serve.auth();
    let auth = auth.as_str();
    let link = serve
        .printed_url()
        .split_once(serve.addr())
        .unwrap()
        .1
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Without the token: refused, like any other account on the computer.
        let refused = https_get(&ca, &addr, "/api/export", "").await;
        assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        // The printed link sets a cookie that is only ever sent over https.
        assert!(link.starts_with("/?token="), "{link}");
        let opened = https_get(&ca, &addr, &link, "").await;
        assert!(opened.starts_with("HTTP/1.1 303"), "{opened}");
        let set_cookie = opened
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .unwrap_or_else(|| panic!("no cookie: {opened}"));
        assert!(set_cookie.contains("; Secure"), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        let page = https_get(&ca, &addr, "/", auth).await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("<link rel=\"manifest\""), "{page}");
        let sw = https_get(&ca, &addr, "/sw.js", auth).await;
        assert!(sw.starts_with("HTTP/1.1 200"), "{sw}");
        assert!(sw.contains("const SHELL = {"), "{sw}");
        let manifest = https_get(&ca, &addr, "/manifest.webmanifest", auth).await;
        assert!(
            manifest
                .to_ascii_lowercase()
                .contains("content-type: application/manifest+json"),
            "{manifest}"
        );
        let api = https_get(&ca, &addr, "/api/protocols", auth).await;
        assert!(api.starts_with("HTTP/1.1 200"), "{api}");
        assert!(api.contains("\"upper-back\""), "{api}");

        // Plain http to the https port gets no answer but a failed handshake,
        // and the server goes on serving.
        let mut plain = tokio::net::TcpStream::connect(&addr).await.unwrap();
        plain
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let _ = plain.read_to_end(&mut got).await;
        assert!(!String::from_utf8_lossy(&got).contains("HTTP/1.1 200"));
        let again = https_get(&ca, &addr, "/api/protocols", auth).await;
        assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    });
    serve.stop();
}

#[test]
fn a_missing_or_mismatched_certificate_is_an_error_naming_the_file() {
    let env = TestEnvironment::new();
    let (_, cert, key) = ca_and_cert();
    let (_, _, other_key) = ca_and_cert();
    let cert_file = env.write_file("cert.pem", &cert);
    let key_file = env.write_file("key.pem", &key);
    let other_key_file = env.write_file("other-key.pem", &other_key);
    let missing = env.path("missing.pem");
    let serve = |cert: &std::path::Path, key: &std::path::Path| {
        env.run(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
    };

    let out = serve(&missing, &key_file);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read the TLS certificate file")
            && out.stderr.contains("missing.pem"),
        "{}",
        out.stderr
    );

    let out = serve(&cert_file, &other_key_file);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("other-key.pem"), "{}", out.stderr);
    assert!(
        out.stderr.contains("does not go with the certificate"),
        "{}",
        out.stderr
    );

    // Swapped: the key where the certificate goes.
    let out = serve(&key_file, &cert_file);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("holds no usable certificate"),
        "{}",
        out.stderr
    );

    // One without the other is a usage error.
    let out = env.run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        cert_file.to_str().unwrap(),
    ]);
    assert_eq!(out.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--tls-key"), "{}", out.stderr);
}
