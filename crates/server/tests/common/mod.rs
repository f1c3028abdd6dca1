//! Shared test helpers: a server over an in-memory store, requests through
//! the router without a socket, and a real listener on port 0.

#![allow(dead_code, reason = "each test file uses some of the helpers")]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rollcoach_server::{Access, AppState, Config};
use rollcoach_store_sqlite::SqliteRecords;
use serde_json::Value;
use tower::ServiceExt;

/// The address the router's requests name (`Host`), as a browser on this
/// machine sends it.
pub const HOST: &str = "127.0.0.1:7878";

/// The server's router, as a browser that opened the link `serve` prints
/// would reach it: on loopback every request that carries no credential of
/// its own gets the server's token (`AppState::access_token`, the token of
/// that link) as `Authorization: Bearer`. In LAN mode nothing is added:
/// requests need a paired device's cookie. A request without a `Host`
/// gets this machine's, as a browser sends (the loopback server refuses a
/// request without one).
pub fn app(state: AppState) -> Router {
    let token = state.access_token().map(str::to_owned);
    rollcoach_server::app(state).layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let token = token.clone();
            async move {
                if !req.headers().contains_key(header::HOST) {
                    req.headers_mut().insert(
                        header::HOST,
                        axum::http::HeaderValue::from_static("127.0.0.1:7878"),
                    );
                }
                let h = req.headers();
                if let Some(token) = token
                    && !h.contains_key(header::AUTHORIZATION)
                    && !h.contains_key(header::COOKIE)
                {
                    req.headers_mut().insert(
                        header::AUTHORIZATION,
                        format!("Bearer {token}").parse().expect("header"),
                    );
                }
                req
            }
        },
    ))
}

/// `app` without any credential added: what any other account on the
/// computer gets.
pub fn bare_app(state: AppState) -> Router {
    rollcoach_server::app(state)
}

pub fn state_with(config: Config) -> AppState {
    let store = SqliteRecords::open_in_memory().expect("in-memory store");
    AppState::new(rollcoach_protocol::builtin(), Arc::new(store), config).expect("state")
}

/// A server over a database file, for tests that read the store afterwards.
pub fn state_at(path: &std::path::Path, config: Config) -> AppState {
    AppState::new(rollcoach_protocol::builtin(), store_at(path), config).expect("state")
}

/// The store in a database file (the SQLite backend the CLI uses), for
/// tests that read what a server recorded there (its records) or run a
/// session on it as a terminal does (its log).
pub fn store_at(path: &std::path::Path) -> Arc<SqliteRecords> {
    Arc::new(SqliteRecords::open(path).expect("store file"))
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

/// How the simulated person of [`pushed_session`] behaves.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The session's uid.
    pub uid: String,
    /// Every rating given (the session rates its first reason).
    pub rating: Option<u8>,
    /// Pain with a pop at the start of this rep.
    pub pain_at_rep: Option<u32>,
    /// The page dies at the start of this rep: interrupted.
    pub gone_at_rep: Option<u32>,
    /// The protocol (default: the built-in `upper-back`).
    pub protocol: Option<rollcoach_protocol::Protocol>,
    /// The facts the page started with (its injury log).
    pub facts: rollcoach_engine::Facts,
    /// Options beyond the first reason; `None`: the protocol's defaults.
    pub options: Option<rollcoach_engine::Options>,
}

/// The wall clock as engine time.
pub fn wall_now() -> rollcoach_engine::Time {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    rollcoach_engine::Time(u64::try_from(ms).expect("fits"))
}

/// A session of the built-in `upper-back` as a page pushes it: run by the
/// engine's runner on a virtual clock that started an hour ago, its log and
/// its claims taken from the runner ([`rollcoach_store::ExportedSession::finished`]).
pub fn pushed_session(plan: &Plan) -> rollcoach_store::ExportedSession {
    use rollcoach_engine::{Input, Options, PainKind};
    use rollcoach_testkit::{Act, Autopilot, Point};

    let protocol = plan
        .protocol
        .clone()
        .unwrap_or_else(|| rollcoach_testkit::protocol("upper-back"));
    let options = plan.options.clone().unwrap_or_else(|| Options {
        reasons: vec![protocol.indications[0].id.clone()],
        ..Options::default()
    });
    let mut person = rollcoach_testkit::Plan::default()
        .options(options)
        .facts(plan.facts.clone())
        .rating(plan.rating)
        .think_ms(900)
        .react_ms(900);
    if let Some(rep) = plan.pain_at_rep {
        person = person.at(
            Point::Rep(rep),
            Input::Pain {
                kind: PainKind::Pop,
            },
        );
    }
    if let Some(rep) = plan.gone_at_rep {
        person = person.at(Point::Rep(rep), Act::LetGo { after_ms: 700 });
    }
    let start = rollcoach_engine::Time(wall_now().0 - 3_600_000);
    let run = Autopilot::start(protocol, person, start)
        .expect("options that fit (set them on the pushed session to test others)")
        .run()
        .expect("the autopilot drives the session");
    let end = run.end.clone().expect("ended or let go");
    let events: Vec<rollcoach_store::Event> = run.log.iter().map(Into::into).collect();
    rollcoach_store::ExportedSession::finished(rollcoach_store::FinishedRun {
        uid: &plan.uid,
        protocol: &run.protocol,
        protocol_json: &serde_json::to_value(&*run.protocol).expect("json"),
        options: &run.options,
        facts: &run.facts,
        started_at: start,
        events: &events,
        end: &end,
    })
}

/// `pushed_session` as the JSON body a page sends.
pub fn pushed_json(plan: &Plan) -> String {
    serde_json::to_string(&pushed_session(plan)).expect("json")
}

/// A request as a browser with `cookie` (none: no credential at all).
pub async fn call(
    app: &Router,
    method: axum::http::Method,
    uri: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, req.body(body).unwrap()).await
}

/// The `name=value` of the cookie an answer sets.
pub fn cookie_set(r: &Resp) -> String {
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap_or_else(|| panic!("no cookie set: {} {}", r.status, r.text))
        .to_str()
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}
