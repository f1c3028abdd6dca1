//! Shared test helpers: a server over an in-memory store, requests through
//! the router without a socket, and a real listener on port 0.

#![allow(dead_code, reason = "each test file uses some of the helpers")]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rollcoach_server::{Access, AppState, Config};
use rollcoach_store::Store;
use rollcoach_store_sqlite::SqliteStore;
use serde_json::Value;
use tower::ServiceExt;

pub fn state_with(config: Config) -> AppState {
    let store = SqliteStore::open_in_memory().expect("in-memory store");
    AppState::new(rollcoach_protocol::builtin(), Box::new(store), config).expect("state")
}

/// A server over a database file, for tests that read the store afterwards.
pub fn state_at(path: &std::path::Path, config: Config) -> AppState {
    AppState::new(rollcoach_protocol::builtin(), store_at(path), config).expect("state")
}

/// The store in a database file (the SQLite backend the CLI uses), for
/// tests that read what a server recorded there.
pub fn store_at(path: &std::path::Path) -> Box<dyn Store> {
    Box::new(SqliteStore::open(path).expect("store file"))
}

pub fn state() -> AppState {
    state_with(Config::default())
}

pub fn fast(speed: f64) -> Config {
    Config {
        speed,
        ..Config::default()
    }
}

pub fn lan() -> Config {
    Config {
        access: Access::Lan,
        ..Config::default()
    }
}

/// A response: status, headers, body as JSON (or `Value::String` of the text).
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

pub async fn send(app: &Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.expect("infallible router");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        json,
        text,
    }
}

pub async fn get(app: &Router, uri: &str) -> Resp {
    send(
        app,
        Request::get(uri)
            .header(header::HOST, "127.0.0.1:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

pub async fn post_json(app: &Router, uri: &str, body: &str) -> Resp {
    send(
        app,
        Request::post(uri)
            .header(header::HOST, "127.0.0.1:7878")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

pub async fn delete(app: &Router, uri: &str) -> Resp {
    send(
        app,
        Request::delete(uri)
            .header(header::HOST, "127.0.0.1:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Asserts a JSON error with this status whose message contains `needle`.
pub fn assert_error(resp: &Resp, status: StatusCode, needle: &str) {
    assert_eq!(resp.status, status, "body: {}", resp.text);
    let msg = resp.json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("not a JSON error: {}", resp.text));
    assert!(
        msg.contains(needle),
        "error {msg:?} does not mention {needle:?}"
    );
}

/// Serves `state` on 127.0.0.1:0; returns the address.
pub async fn listen(state: AppState) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rollcoach_server::serve(listener, state));
    addr
}

/// Polls `f` until it returns `Some`, for at most 10 s.
pub async fn eventually<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
