//! Two servers on one PostgreSQL database (issue 20, item 4): nothing a
//! request needs lives only in one server's memory, so each answers any
//! request as the other would. Two [`AppState`]s, each over a store of its
//! own (its own pool of connections) on one database, stand for two
//! `rollcoach serve` processes: a sign-in link, an invite or a pairing link
//! made on one opens on the other; failed sign-ins on both count together;
//! sessions pushed by many phones, alternating between them and the same
//! session to both at once, are each stored once and none is lost.
//!
//! On the PostgreSQL server `ROLLCOACH_TEST_POSTGRES` names (skipped
//! without it, failing under `CI=true`: see the helper below).

mod common;

#[path = "../../store-postgres/tests/common/mod.rs"]
mod pg;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use rollcoach_server::{AppState, Config};
use rollcoach_store::{People, PersonId, Records};
use rollcoach_store_postgres::PgRecords;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// One server: its apps (with the owner's token added, and bare) and its store.
struct One {
    owner: Router,
    bare: Router,
    store: Arc<PgRecords>,
}

fn server(url: &str) -> One {
    let store = Arc::new(PgRecords::open(url).unwrap_or_else(|e| panic!("a store on {url}: {e}")));
    let state = AppState::with_people(
        rollcoach_protocol::builtin(),
        store.clone(),
        store.clone(),
        Config::default(),
    )
    .expect("state");
    One {
        owner: app(state.clone()),
        bare: bare_app(state),
        store,
    }
}

/// Two servers on one fresh database; `None` without a test server. Off
/// the runtime's threads, as the server runs its store calls: the
/// synchronous client runs a small runtime of its own to connect.
async fn two() -> Option<(One, One)> {
    tokio::task::spawn_blocking(|| {
        if pg::skip() {
            return None;
        }
        let url = pg::fresh_database();
        Some((server(&url), server(&url)))
    })
    .await
    .expect("the servers")
}

/// `f` on the store, off the runtime's threads (see [`two`]).
async fn on<T: Send + 'static>(
    store: &Arc<PgRecords>,
    f: impl FnOnce(&PgRecords) -> T + Send + 'static,
) -> T {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .expect("a store call")
}

/// Opens a one-time link's path on `app` with no credential: the cookie.
async fn open(app: &Router, path: &str) -> String {
    let r = call(app, Method::GET, path, None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.text);
    cookie_set(&r)
}

fn path_of(link: &str) -> String {
    link.strip_prefix(&format!("http://{HOST}"))
        .unwrap_or_else(|| panic!("a link on the request's address: {link}"))
        .to_owned()
}

async fn push(app: &Router, cookie: &str, body: &str) -> Resp {
    let req = Request::post("/api/sync/sessions")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(app, req).await
}

/// Ana signs in on `one` with `password`.
async fn sign_in(one: &One, password: &str) -> Resp {
    call(
        &one.bare,
        Method::POST,
        "/api/sign-in",
        None,
        Some(json!({"name": "Ana", "password": password})),
    )
    .await
}

#[tokio::test]
async fn a_link_made_on_one_server_opens_on_the_other_and_failed_sign_ins_count_on_both() {
    let Some((a, b)) = two().await else { return };
    // The owner adds a coach on A; the coach's browser opens the link on B.
    let added = call(
        &a.owner,
        Method::POST,
        "/api/coaches",
        None,
        Some(json!({"name": "Ana"})),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let ana = open(
        &b.bare,
        &path_of(added.json["sign_in_link"].as_str().unwrap()),
    )
    .await;
    // Either server knows that browser as Ana.
    for one in [&a, &b] {
        let me = call(&one.bare, Method::GET, "/api/account", Some(&ana), None).await;
        assert_eq!(me.json["role"], "coach", "{}", me.text);
        assert_eq!(me.json["name"], "Ana");
    }
    // A link is spent once, whichever server spent it.
    let spent = call(
        &a.bare,
        Method::GET,
        &path_of(added.json["sign_in_link"].as_str().unwrap()),
        None,
        None,
    )
    .await;
    assert!(
        spent.headers.get(header::SET_COOKIE).is_none(),
        "{}",
        spent.text
    );

    // The password set on B signs in on A.
    let set = call(
        &b.bare,
        Method::POST,
        "/api/account/password",
        Some(&ana),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let signed = sign_in(&a, PASSWORD).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);

    // An invite made on A is opened on B; the client is Ana's on both.
    let invite = call(
        &a.bare,
        Method::POST,
        "/api/coach/invites",
        Some(&ana),
        Some(json!({"name": "Cleo"})),
    )
    .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
    let cleo = open(&b.bare, invite.json["path"].as_str().unwrap()).await;
    for one in [&a, &b] {
        let clients = call(
            &one.bare,
            Method::GET,
            "/api/coach/clients",
            Some(&ana),
            None,
        )
        .await;
        assert_eq!(clients.status, StatusCode::OK, "{}", clients.text);
        assert_eq!(
            clients.json["clients"][0]["name"], "Cleo",
            "{}",
            clients.text
        );
    }
    // Cleo pairs a second phone from B, and it is let in on A.
    let link = call(
        &b.bare,
        Method::POST,
        "/api/devices/pairing",
        Some(&cleo),
        None,
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    let second = open(&a.bare, link.json["path"].as_str().unwrap()).await;
    let me = call(&a.bare, Method::GET, "/api/account", Some(&second), None).await;
    assert_eq!(me.json["role"], "client", "{}", me.text);
    assert_eq!(me.json["name"], "Cleo");

    // Five failed sign-ins, alternating between the servers: the right
    // password is then refused on either.
    for (i, one) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let r = sign_in(one, "not the password").await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "failure {i}: {}",
            r.text
        );
    }
    for one in [&b, &a] {
        let r = sign_in(one, PASSWORD).await;
        assert_error(
            &r,
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins",
        );
    }
    assert_eq!(
        on(&b.store, |s| s
            .sign_in_failures("name:ana", wall_now())
            .unwrap())
        .await,
        5,
        "both servers' failures are in the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_pushed_to_two_servers_alternately_and_at_once_are_each_stored_once() {
    let Some((a, b)) = two().await else { return };
    let (a, b) = (Arc::new(a), Arc::new(b));
    let added = call(
        &a.owner,
        Method::POST,
        "/api/coaches",
        None,
        Some(json!({"name": "Ana"})),
    )
    .await;
    let ana = open(
        &a.bare,
        &path_of(added.json["sign_in_link"].as_str().unwrap()),
    )
    .await;
    // Eight phones, each a client who joined through an invite (made on
    // one server, opened on the other).
    const PHONES: usize = 8;
    const SESSIONS: usize = 12;
    let mut phones = Vec::new();
    for p in 0..PHONES {
        let (make, join) = if p % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let invite = call(
            &make.bare,
            Method::POST,
            "/api/coach/invites",
            Some(&ana),
            Some(json!({"name": format!("client {p}")})),
        )
        .await;
        assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
        let cookie = open(&join.bare, invite.json["path"].as_str().unwrap()).await;
        let me = call(&join.bare, Method::GET, "/api/account", Some(&cookie), None).await;
        let id = PersonId::parse(me.json["id"].as_str().unwrap()).unwrap();
        phones.push((id, cookie));
    }
    // Every phone pushes its sessions at once with the others: session i
    // to A when i is even and to B when odd, and every third one to both
    // servers at the same moment (a phone whose first try timed out and
    // that retried on the other address).
    let mut tasks = Vec::new();
    for (p, (_, cookie)) in phones.iter().enumerate() {
        let (a, b, cookie) = (a.clone(), b.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..SESSIONS {
                let body = pushed_json(&Plan {
                    uid: format!("phone{p}-session{i:02}"),
                    rating: Some(u8::try_from(i % 11).unwrap()),
                    pain_at_rep: (i % 5 == 4).then_some(3),
                    ..Plan::default()
                });
                let (first, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
                if i % 3 == 0 {
                    let (x, y) = tokio::join!(
                        push(&first.bare, &cookie, &body),
                        push(&other.bare, &cookie, &body)
                    );
                    let mut both = [x.status, y.status];
                    both.sort();
                    // One stored it; the other found it stored already.
                    assert_eq!(
                        both,
                        [StatusCode::OK, StatusCode::CREATED],
                        "phone {p} session {i}: {} / {}",
                        x.text,
                        y.text
                    );
                    statuses.push(StatusCode::CREATED);
                } else {
                    let r = push(&first.bare, &cookie, &body).await;
                    assert_eq!(
                        r.status,
                        StatusCode::CREATED,
                        "phone {p} session {i}: {}",
                        r.text
                    );
                    statuses.push(r.status);
                }
            }
            statuses.len()
        }));
    }
    let mut pushed = 0;
    for t in tasks {
        pushed += t.await.expect("a phone's pushes");
    }
    assert_eq!(pushed, PHONES * SESSIONS);

    // Each phone's person has every session once, on either server, and
    // no one else's; its change feed lists each once.
    for (p, (id, cookie)) in phones.iter().enumerate() {
        let person = id.clone();
        assert_eq!(
            on(&a.store, move |s| s.session_count(&person).unwrap()).await,
            SESSIONS as u64,
            "phone {p}"
        );
        for one in [&a, &b] {
            let history = call(
                &one.bare,
                Method::GET,
                "/api/history?limit=100",
                Some(cookie),
                None,
            )
            .await;
            assert_eq!(history.status, StatusCode::OK, "{}", history.text);
            let mut uids: Vec<String> = history.json["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["uid"].as_str().unwrap().to_owned())
                .collect();
            uids.sort();
            let want: Vec<String> = (0..SESSIONS)
                .map(|i| format!("phone{p}-session{i:02}"))
                .collect();
            assert_eq!(uids, want, "phone {p}'s history");
        }
        let person = id.clone();
        let changes = on(&b.store, move |s| {
            s.changes_since(&person, None, 1000).unwrap()
        })
        .await;
        assert_eq!(changes.len(), SESSIONS, "phone {p}'s changes");
    }
    // The owner pushed nothing and has nothing.
    assert_eq!(
        on(&b.store, |s| s.session_count(&PersonId::owner()).unwrap()).await,
        0
    );
    let client = phones[0].0.clone();
    assert_eq!(
        on(&a.store, move |s| s.clients(&client).unwrap()).await,
        vec![]
    );
}
