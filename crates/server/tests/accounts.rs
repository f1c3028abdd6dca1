//! Accounts through HTTP (issue 20, item 1): the owner adds a coach, the
//! coach opens the sign-in link, sets a password and signs in on another
//! browser, invites a client, the client joins and pushes a session and
//! sees only theirs; coaches never see each other's clients; other roles
//! get 403 on the coach's and the owner's routes; failed sign-ins reach
//! 429; a spent or expired invite pairs nothing; and a server with no
//! coaches answers every existing route as one without accounts.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use rollcoach_server::{AppState, Config};
use rollcoach_store::{NewInvite, People, PersonId};
use rollcoach_store_sqlite::SqliteRecords;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// A loopback server that keeps people, over one in-memory store.
fn accounts_state() -> (AppState, Arc<SqliteRecords>) {
    let store = Arc::new(SqliteRecords::open_in_memory().expect("in-memory store"));
    let state = AppState::with_people(
        rollcoach_protocol::builtin(),
        store.clone(),
        store.clone(),
        Config::default(),
    )
    .expect("state");
    (state, store)
}

/// The apps of one server: `owner` adds the terminal's token to requests
/// without a cookie; `bare` adds nothing (a browser with no credential, or
/// one with the cookie a test gives).
struct Apps {
    owner: Router,
    bare: Router,
    store: Arc<SqliteRecords>,
}

fn apps() -> Apps {
    let (state, store) = accounts_state();
    Apps {
        owner: app(state.clone()),
        bare: bare_app(state),
        store,
    }
}

/// Opens a one-time link (its path) on a browser with no credential and
/// returns the cookie it gets.
async fn open(a: &Apps, path: &str) -> String {
    let r = call(&a.bare, Method::GET, path, None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.text);
    assert_eq!(r.headers[header::LOCATION], "/");
    cookie_set(&r)
}

fn path_of(link: &str) -> &str {
    link.strip_prefix(&format!("http://{HOST}"))
        .unwrap_or_else(|| panic!("a link on the request's address: {link}"))
}

/// The owner adds a coach; the coach opens the sign-in link. Their cookie.
async fn coach(a: &Apps, name: &str) -> (String, String) {
    let r = call(
        &a.owner,
        Method::POST,
        "/api/coaches",
        None,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["name"], name);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let cookie = open(a, path_of(r.json["sign_in_link"].as_str().unwrap())).await;
    (id, cookie)
}

/// The coach invites a client, who opens the invite. The client's cookie.
async fn client(a: &Apps, coach_cookie: &str, name: &str) -> String {
    let r = call(
        &a.bare,
        Method::POST,
        "/api/coach/invites",
        Some(coach_cookie),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    open(a, r.json["path"].as_str().unwrap()).await
}

fn history_uids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uid"].as_str().unwrap().to_owned())
        .collect()
}

async fn push(a: &Apps, cookie: Option<&str>, uid: &str) {
    let body = pushed_json(&Plan {
        uid: uid.to_owned(),
        ..Plan::default()
    });
    let app = if cookie.is_some() { &a.bare } else { &a.owner };
    let mut req = Request::post("/api/sync/sessions")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let r = send(app, req.body(Body::from(body)).unwrap()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{uid}: {}", r.text);
}

#[tokio::test]
async fn a_coach_signs_in_invites_a_client_who_joins_and_sees_only_their_own_sessions() {
    let a = apps();
    // The owner adds a coach; the coach's browser opens the sign-in link.
    let (ana_id, ana_first) = coach(&a, "Ana").await;
    let me = call(&a.bare, Method::GET, "/api/account", Some(&ana_first), None).await;
    assert_eq!(
        me.json,
        json!({"id": ana_id, "role": "coach", "name": "Ana", "has_password": false})
    );
    // A short password is refused; a long one is set.
    let short = call(
        &a.bare,
        Method::POST,
        "/api/account/password",
        Some(&ana_first),
        Some(json!({"password": "too short"})),
    )
    .await;
    assert_error(&short, StatusCode::BAD_REQUEST, "at least 10");
    let set = call(
        &a.bare,
        Method::POST,
        "/api/account/password",
        Some(&ana_first),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["has_password"], true);

    // Another browser signs in with the name (any case) and the password.
    let signed = call(
        &a.bare,
        Method::POST,
        "/api/sign-in",
        None,
        Some(json!({"name": "ana", "password": PASSWORD})),
    )
    .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    assert_eq!(signed.json["role"], "coach");
    let ana = cookie_set(&signed);
    let devices = call(&a.bare, Method::GET, "/api/devices", Some(&ana), None).await;
    let vias: Vec<&str> = devices.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["via"].as_str().unwrap())
        .collect();
    assert_eq!(vias, ["a pairing link", "password sign-in"]);

    // The coach invites a client: a 7-day link with its QR code.
    let invite = call(
        &a.bare,
        Method::POST,
        "/api/coach/invites",
        Some(&ana),
        Some(json!({"name": "Cleo"})),
    )
    .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
    let path = invite.json["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/join?token="), "{path}");
    assert_eq!(invite.json["link"], format!("http://{HOST}{path}"));
    assert!(invite.json["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let left = invite.json["expires_at"].as_u64().unwrap() - wall_now().0;
    let week = 7 * 24 * 3_600_000;
    assert!(left <= week && left > week - 3_600_000, "{left}");

    // The client's phone opens it: a client of Ana, named Cleo.
    let cleo = open(&a, &path).await;
    let me = call(&a.bare, Method::GET, "/api/account", Some(&cleo), None).await;
    assert_eq!(me.json["role"], "client");
    assert_eq!(me.json["name"], "Cleo");
    let cleo_id = me.json["id"].as_str().unwrap().to_owned();

    // The client pairs another phone of theirs from this one.
    let link = call(
        &a.bare,
        Method::POST,
        "/api/devices/pairing",
        Some(&cleo),
        None,
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    let second = open(&a, link.json["path"].as_str().unwrap()).await;
    let again = call(&a.bare, Method::GET, "/api/account", Some(&second), None).await;
    assert_eq!(again.json["id"], cleo_id.as_str());

    // The client pushes a session, the owner another: each sees their own.
    push(&a, Some(&cleo), "cleo-0001").await;
    push(&a, None, "owner-0001").await;
    let theirs = call(&a.bare, Method::GET, "/api/history", Some(&cleo), None).await;
    assert_eq!(history_uids(&theirs), ["cleo-0001"]);
    let owners = call(&a.owner, Method::GET, "/api/history", None, None).await;
    assert_eq!(history_uids(&owners), ["owner-0001"]);
    let coachs = call(&a.bare, Method::GET, "/api/history", Some(&ana), None).await;
    assert_eq!(history_uids(&coachs), Vec::<String>::new());
    // Another person's uid is not there for the client.
    let r = call(&a.bare, Method::GET, "/api/export", Some(&cleo), None).await;
    assert!(r.text.contains("cleo-0001") && !r.text.contains("owner-0001"));

    // The coach sees the client and their device, and revokes it.
    let clients = call(&a.bare, Method::GET, "/api/coach/clients", Some(&ana), None).await;
    assert_eq!(clients.json["clients"].as_array().unwrap().len(), 1);
    assert_eq!(clients.json["clients"][0]["id"], cleo_id.as_str());
    assert_eq!(clients.json["clients"][0]["name"], "Cleo");
    let uri = format!("/api/coach/clients/{cleo_id}/devices");
    let devices = call(&a.bare, Method::GET, &uri, Some(&ana), None).await;
    assert_eq!(devices.status, StatusCode::OK, "{}", devices.text);
    let device = devices.json["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(devices.json["devices"][0]["via"], "a coach's invite");
    let r = call(
        &a.bare,
        Method::DELETE,
        &format!("{uri}/{device}"),
        Some(&ana),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["revoked_at"].is_u64());
    let r = call(&a.bare, Method::GET, "/api/history", Some(&cleo), None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a revoked device is refused"
    );
    let r = call(
        &a.bare,
        Method::DELETE,
        &format!("{uri}/nope"),
        Some(&ana),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "no device with id");

    // The invite was spent: it pairs nothing more.
    let r = call(&a.bare, Method::GET, &path, None, None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "already used");
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(
        a.store
            .clients(&PersonId::parse(&ana_id).unwrap())
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_coach_never_sees_another_coach_s_clients_or_their_devices() {
    let a = apps();
    let (_, ana) = coach(&a, "Ana").await;
    let (_, bo) = coach(&a, "Bo").await;
    let cleo = client(&a, &ana, "Cleo").await;
    let cleo_id = call(&a.bare, Method::GET, "/api/account", Some(&cleo), None)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let devices = call(
        &a.bare,
        Method::GET,
        &format!("/api/coach/clients/{cleo_id}/devices"),
        Some(&ana),
        None,
    )
    .await;
    let device = devices.json["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let bos = call(&a.bare, Method::GET, "/api/coach/clients", Some(&bo), None).await;
    assert_eq!(bos.json, json!({"clients": []}));
    // Another coach's client answers as no client: 404, whatever the route.
    for (method, uri) in [
        (Method::GET, format!("/api/coach/clients/{cleo_id}/devices")),
        (
            Method::DELETE,
            format!("/api/coach/clients/{cleo_id}/devices/{device}"),
        ),
        (
            Method::GET,
            "/api/coach/clients/client-000000000000/devices".to_owned(),
        ),
        (
            Method::GET,
            "/api/coach/clients/not%20an%20id/devices".to_owned(),
        ),
        (Method::GET, "/api/coach/clients/owner/devices".to_owned()),
    ] {
        let r = call(&a.bare, method.clone(), &uri, Some(&bo), None).await;
        assert_error(&r, StatusCode::NOT_FOUND, "you have no client with id");
    }
    // Nothing was revoked: Cleo still gets in.
    let r = call(&a.bare, Method::GET, "/api/history", Some(&cleo), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Nor does a coach read another person's device list through its own routes.
    let r = call(
        &a.bare,
        Method::DELETE,
        &format!("/api/devices/{device}"),
        Some(&bo),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn a_client_or_the_owner_calling_a_coach_s_routes_gets_403_and_only_the_owner_adds_coaches() {
    let a = apps();
    let (_, ana) = coach(&a, "Ana").await;
    let cleo = client(&a, &ana, "Cleo").await;
    let coach_routes = [
        (Method::POST, "/api/coach/invites", Some(json!({}))),
        (Method::GET, "/api/coach/clients", None),
        (Method::GET, "/api/coach/clients/x/devices", None),
        (Method::DELETE, "/api/coach/clients/x/devices/y", None),
        (
            Method::POST,
            "/api/account/password",
            Some(json!({"password": PASSWORD})),
        ),
    ];
    for (method, uri, body) in &coach_routes {
        for (who, app, cookie) in [
            ("client", &a.bare, Some(cleo.as_str())),
            ("owner", &a.owner, None),
        ] {
            let r = call(app, method.clone(), uri, cookie, body.clone()).await;
            assert_error(&r, StatusCode::FORBIDDEN, "for a coach's devices");
            assert!(
                r.json["error"].as_str().unwrap().contains(who),
                "{who}: {}",
                r.text
            );
        }
    }
    for (app, cookie) in [
        (&a.bare, Some(ana.as_str())),
        (&a.bare, Some(cleo.as_str())),
    ] {
        let r = call(
            app,
            Method::POST,
            "/api/coaches",
            cookie,
            Some(json!({"name": "Eve"})),
        )
        .await;
        assert_error(&r, StatusCode::FORBIDDEN, "only the server's owner");
        let r = call(app, Method::GET, "/api/coaches", cookie, None).await;
        assert_error(&r, StatusCode::FORBIDDEN, "only the server's owner");
    }
    let list = call(&a.owner, Method::GET, "/api/coaches", None, None).await;
    assert_eq!(list.json["coaches"].as_array().unwrap().len(), 1);
    assert_eq!(list.json["coaches"][0]["name"], "Ana");
    // A name taken (whatever the case) is a conflict; an empty one is bad input.
    let r = call(
        &a.owner,
        Method::POST,
        "/api/coaches",
        None,
        Some(json!({"name": "ANA"})),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "already there");
    let r = call(
        &a.owner,
        Method::POST,
        "/api/coaches",
        None,
        Some(json!({"name": " "})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "name: a name is empty");
    // Who is who.
    let me = call(&a.owner, Method::GET, "/api/account", None, None).await;
    assert_eq!(me.json["role"], "owner");
}

#[tokio::test]
async fn five_failed_sign_ins_answer_429_whatever_the_password_and_wrong_names_answer_alike() {
    let a = apps();
    let (_, ana) = coach(&a, "Ana").await;
    let set = call(
        &a.bare,
        Method::POST,
        "/api/account/password",
        Some(&ana),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let sign_in = |name: &str, password: &str| {
        call(
            &a.bare,
            Method::POST,
            "/api/sign-in",
            None,
            Some(json!({"name": name, "password": password})),
        )
    };
    // A wrong name and a wrong password: the same answer.
    let no_name = sign_in("nobody", PASSWORD).await;
    let wrong = sign_in("Ana", "not the password").await;
    assert_eq!(no_name.status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong.status, &wrong.json), (no_name.status, &no_name.json));
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    for _ in 0..3 {
        assert_eq!(
            sign_in("ana", "still wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Five failures from this address: the right password is refused too.
    let r = sign_in("Ana", PASSWORD).await;
    assert_error(
        &r,
        StatusCode::TOO_MANY_REQUESTS,
        "too many failed sign-ins",
    );
    assert_eq!(r.headers[header::RETRY_AFTER], "900");
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    // The failures are kept in the store (servers on one database share them).
    assert_eq!(a.store.sign_in_failures("name:ana", wall_now()).unwrap(), 4);
    a.store.clear_sign_in_failures("addr:unknown").unwrap();
    a.store.clear_sign_in_failures("name:ana").unwrap();
    let r = sign_in("Ana", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_spent_wrong_or_expired_invite_pairs_nothing() {
    let a = apps();
    let (ana_id, ana) = coach(&a, "Ana").await;
    let ana_id = PersonId::parse(&ana_id).unwrap();
    // An invite that expired a minute ago.
    let token = "0123456789abcdef0123456789abcdef";
    let now = wall_now();
    a.store
        .add_invite(
            &ana_id,
            &NewInvite {
                token_hash: &rollcoach_server::lan::sha256_hex(token),
                name: Some("Late"),
                created_at: rollcoach_engine::Time(now.0 - 8 * 24 * 3_600_000),
                expires_at: rollcoach_engine::Time(now.0 - 60_000),
            },
        )
        .unwrap();
    for path in [
        format!("/join?token={token}"),
        "/join?token=guess".to_owned(),
        "/join".to_owned(),
    ] {
        let r = call(&a.bare, Method::GET, &path, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.text);
        assert!(r.headers.get(header::SET_COOKIE).is_none(), "{path}");
    }
    assert!(a.store.clients(&ana_id).unwrap().is_empty());
    // Spent: the second phone gets nothing.
    let r = call(
        &a.bare,
        Method::POST,
        "/api/coach/invites",
        Some(&ana),
        Some(json!({})),
    )
    .await;
    let path = r.json["path"].as_str().unwrap().to_owned();
    open(&a, &path).await;
    let r = call(&a.bare, Method::GET, &path, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(a.store.clients(&ana_id).unwrap().len(), 1);
}

/// Bodies without what changes from one server to the next (the clock:
/// the export's time, a protocol's `now`).
fn steady(r: &Resp) -> (StatusCode, String) {
    let mut v = r.json.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("exported_at");
        o.remove("now");
    }
    (
        r.status,
        if v.is_null() {
            r.text.clone()
        } else {
            v.to_string()
        },
    )
}

#[tokio::test]
async fn a_server_with_no_coaches_answers_every_existing_route_as_one_without_accounts() {
    let (with, _) = accounts_state();
    let without = state();
    let (with_app, without_app) = (app(with.clone()), app(without.clone()));
    let (with_bare, without_bare) = (bare_app(with), bare_app(without));
    for uri in [
        "/api/config",
        "/api/protocols",
        "/api/protocols/upper-back",
        "/api/history",
        "/api/history?charts=true",
        "/api/injuries",
        "/api/sync/changes",
        "/api/export",
        "/api/openapi.json",
        "/api/coaches",
        "/api/account",
        "/nothing-here",
    ] {
        let a = get(&with_app, uri).await;
        let b = get(&without_app, uri).await;
        assert_eq!(steady(&a), steady(&b), "{uri}");
        let a = get(&with_bare, uri).await;
        let b = get(&without_bare, uri).await;
        assert_eq!(steady(&a), steady(&b), "{uri} without a credential");
    }
    // Pushing a session and logging an injury: the same answers.
    let body = pushed_json(&Plan {
        uid: "same-0001".to_owned(),
        ..Plan::default()
    });
    let a = post_json(&with_app, "/api/sync/sessions", &body).await;
    let b = post_json(&without_app, "/api/sync/sessions", &body).await;
    assert_eq!(steady(&a), steady(&b));
    assert_eq!(a.status, StatusCode::CREATED);
    let a = get(&with_app, "/api/history").await;
    let b = get(&without_app, "/api/history").await;
    assert_eq!(steady(&a), steady(&b));
    // No coaches, and sign-in lets nobody in.
    let r = post_json(
        &with_bare,
        "/api/sign-in",
        r#"{"name":"owner","password":"whatever-it-is"}"#,
    )
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "wrong name or password");
}

/// A form post to `/api/sign-in`, as the not-paired page's form sends it.
async fn form_sign_in(a: &Apps, body: &str, origin: Option<&str>) -> Resp {
    let mut req = Request::post("/api/sign-in")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    send(&a.bare, req.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn the_not_paired_page_has_a_sign_in_form_once_there_are_coaches_and_it_signs_in() {
    let a = apps();
    let page = || {
        send(
            &a.bare,
            Request::get("/")
                .header(header::HOST, HOST)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
    };
    let before = page().await;
    assert_eq!(before.status, StatusCode::UNAUTHORIZED);
    assert!(
        before.text.contains("This device is not paired"),
        "{}",
        before.text
    );
    assert!(
        !before.text.contains("<form"),
        "no coaches, no form: {}",
        before.text
    );

    let (_, ana) = coach(&a, "Ana").await;
    let set = call(
        &a.bare,
        Method::POST,
        "/api/account/password",
        Some(&ana),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let after = page().await;
    assert!(
        after
            .text
            .contains(r#"<form method="post" action="/api/sign-in">"#),
        "{}",
        after.text
    );

    let wrong = form_sign_in(&a, "name=Ana&password=nope-nope-nope", None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.text.contains("wrong name or password") && wrong.text.contains("<form"),
        "{}",
        wrong.text
    );
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let elsewhere = form_sign_in(
        &a,
        "name=Ana&password=correct+horse+battery",
        Some("http://evil.example"),
    )
    .await;
    assert_error(&elsewhere, StatusCode::FORBIDDEN, "from another site");
    assert!(elsewhere.headers.get(header::SET_COOKIE).is_none());

    let ok = form_sign_in(
        &a,
        "name=ana&password=correct+horse+battery",
        Some(&format!("http://{HOST}")),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(ok.headers[header::LOCATION], "/");
    let cookie = cookie_set(&ok);
    let me = call(&a.bare, Method::GET, "/api/account", Some(&cookie), None).await;
    assert_eq!(me.json["role"], "coach");
}
