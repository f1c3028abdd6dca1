//! LAN mode: pairing with the one-time token; everything else is refused.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use rollcoach_server::app;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

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
async fn a_websocket_from_another_origin_is_refused_even_when_paired() {
    let state = state_with(lan());
    let cookie = pair(&state).await;
    let addr = listen(state.clone()).await;
    let r = post_json(
        &app(state.clone()),
        "/api/sessions",
        r#"{"protocol":"upper-back"}"#,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the API also needs the cookie"
    );
    let r = send(
        &app(state.clone()),
        Request::post("/api/sessions")
            .header(header::HOST, format!("{addr}"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"protocol":"upper-back"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    let url = format!("ws://{addr}/api/sessions/{id}/ws");

    let mut bad = url.as_str().into_client_request().unwrap();
    bad.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    bad.headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(bad).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }

    let mut none = url.as_str().into_client_request().unwrap();
    none.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(none).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403 without an Origin, got {other:?}"),
    }

    let mut good = url.as_str().into_client_request().unwrap();
    good.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    good.headers_mut()
        .insert(header::ORIGIN, format!("http://{addr}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(good)
        .await
        .expect("same origin with the cookie connects");
    use futures_util::StreamExt;
    let first = ws.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"type\""));
}
