//! The loopback server answers only requests for this machine, failing
//! closed (issue 24, finding 10): a missing `Host`, one that is not text,
//! two `Host` headers and an absolute request URI naming another host are
//! refused with a message, even with the server's own token. Raw requests
//! on a real socket, as a script or a rebinding page could send them.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `head` (the request line and headers, without the blank line) with
/// the server's token and `Connection: close`; the whole answer.
async fn raw(server: SocketAddr, token: &str, head: &[u8]) -> (u16, String) {
    let exchange = async {
        let mut conn = TcpStream::connect(server).await.expect("connect");
        let mut req = head.to_vec();
        req.extend_from_slice(
            format!("\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        conn.write_all(&req).await.expect("send");
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("an answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    (status, answer)
}

async fn server() -> (SocketAddr, String) {
    let state = state();
    let token = state.access_token().unwrap().to_owned();
    (listen(state).await, token)
}

#[tokio::test]
async fn a_request_for_this_machine_is_served() {
    let (server, token) = server().await;
    let head = format!("GET /api/config HTTP/1.1\r\nHost: {server}");
    let (status, answer) = raw(server, &token, head.as_bytes()).await;
    assert_eq!(status, 200, "{answer}");
    let head = format!(
        "GET http://localhost:{}/api/config HTTP/1.1\r\nHost: localhost:{}",
        server.port(),
        server.port()
    );
    let (status, answer) = raw(server, &token, head.as_bytes()).await;
    assert_eq!(status, 200, "an absolute URI naming this machine: {answer}");
}

#[tokio::test]
async fn a_request_without_a_host_is_refused() {
    let (server, token) = server().await;
    let (status, answer) = raw(server, &token, b"GET /api/config HTTP/1.1").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("no Host header"), "{answer}");
    assert!(answer.contains("127.0.0.1:PORT"), "names the fix: {answer}");
    // HTTP/1.0 has no Host of its own either.
    let (status, answer) = raw(server, &token, b"GET /api/config HTTP/1.0").await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn a_host_that_is_not_text_is_refused() {
    let (server, token) = server().await;
    let mut head = b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\xff\xfe".to_vec();
    head.extend_from_slice(format!(":{}", server.port()).as_bytes());
    let (status, answer) = raw(server, &token, &head).await;
    assert!(status == 400, "{status}: {answer}");
    assert!(answer.contains("Host"), "{answer}");
}

#[tokio::test]
async fn two_host_headers_are_refused() {
    let (server, token) = server().await;
    for head in [
        format!("GET /api/config HTTP/1.1\r\nHost: {server}\r\nHost: evil.example"),
        format!("GET /api/config HTTP/1.1\r\nHost: evil.example\r\nHost: {server}"),
        format!("GET /api/config HTTP/1.1\r\nHost: {server}\r\nHost: {server}"),
    ] {
        let (status, answer) = raw(server, &token, head.as_bytes()).await;
        assert_eq!(status, 400, "{head}: {answer}");
        assert!(answer.contains("more than one Host"), "{answer}");
    }
}

#[tokio::test]
async fn an_absolute_uri_naming_another_host_is_refused() {
    let (server, token) = server().await;
    let head = format!("GET http://evil.example/api/config HTTP/1.1\r\nHost: {server}");
    let (status, answer) = raw(server, &token, head.as_bytes()).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("evil.example"), "{answer}");
}

#[tokio::test]
async fn a_host_with_junk_after_a_loopback_name_is_refused() {
    let (server, token) = server().await;
    for host in ["[::1]evil.example", "127.0.0.1@evil.example", "localhost:"] {
        let head = format!("GET /api/config HTTP/1.1\r\nHost: {host}");
        let (status, answer) = raw(server, &token, head.as_bytes()).await;
        assert_eq!(status, 403, "{host}: {answer}");
    }
}
