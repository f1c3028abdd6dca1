//! LAN mode: pairing with the one-time token; everything else is refused.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;

fn token_path(state: &rollcoach_server::AppState) -> String {
    state
        .pairing_path()
        .expect("a LAN server has a pairing link")
}

async fn get_with(app: &axum::Router, uri: &str, cookie: Option<&str>) -> Resp {
    let mut req = Request::get(uri).header(header::HOST, "192.168.1.5:7878");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// Pairs and returns the cookie (`name=value`).
async fn pair(state: &rollcoach_server::AppState) -> String {
    let app = app(state.clone());
    let r = get_with(&app, &token_path(state), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.headers[header::LOCATION], "/");
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn without_the_pairing_cookie_every_request_is_401() {
    let state = state_with(lan());
    let app = app(state.clone());
    for uri in [
        "/",
        "/app.js",
        "/api/protocols",
        "/api/history",
        "/api/sessions/1/ws",
    ] {
        let r = get_with(&app, uri, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "not paired");
    }
    let r = get_with(&app, "/api/protocols", Some("rollcoach_pair=guess")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A browser gets a page that says how to pair.
    let r = send(
        &app,
        Request::get("/")
            .header(header::HOST, "192.168.1.5:7878")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("not paired"), "{}", r.text);
    assert!(!r.text.contains("rollcoach_pair"), "no secret in the page");
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_the_right_one_works_once() {
    let state = state_with(lan());
    let app = app(state.clone());
    assert_error(
        &get_with(&app, "/pair?token=0000", None).await,
        StatusCode::UNAUTHORIZED,
        "wrong or already used",
    );
    assert_error(
        &get_with(&app, "/pair", None).await,
        StatusCode::UNAUTHORIZED,
        "token",
    );
    let path = token_path(&state);
    let cookie = pair(&state).await;
    // Spent: the same link no longer pairs another device.
    assert_error(
        &get_with(&app, &path, None).await,
        StatusCode::UNAUTHORIZED,
        "already used",
    );
    assert_eq!(state.pairing_path(), None);

    let r = get_with(&app, "/api/protocols", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = get_with(&app, "/", Some(&format!("other=1; {cookie}"))).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sync_push_needs_the_pairing_cookie() {
    let state = state_with(lan());
    let cookie = pair(&state).await;
    let body = pushed_json(&Plan {
        uid: "lan-1".into(),
        ..Plan::default()
    });
    let r = post_json(&app(state.clone()), "/api/sync/sessions", &body).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the API also needs the cookie"
    );
    let push = |body: String| {
        Request::post("/api/sync/sessions")
            .header(header::HOST, "192.168.1.5:7878")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let r = send(&app(state.clone()), push(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = send(&app(state.clone()), push(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
