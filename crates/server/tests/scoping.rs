//! Every route scoped to its caller's person, through HTTP (issue 20, items
//! 2 and 6): a server with two people, A and B (clients of two coaches, X
//! and Y), each with sessions pushed
//! as a phone pushes them (replayed before they are stored), injuries and
//! devices. For every route of the route table, read from the served
//! `/api/openapi.json`: A never reads B's data nor writes it; another
//! person's ids and uids answer 404, never 403; a device that is not
//! paired, a revoked one and a forged cookie get 401 on every route, the
//! public links (`/pair`, `/join`) let nobody in with a wrong token; a client
//! gets 403 on the coach's and the owner's routes, and coach X gets 404 for
//! coach Y's client. A route added to the table without a check here
//! fails [`every_route_is_scoped_to_its_caller`].

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::*;
use rollcoach_server::AppState;
use rollcoach_store::{NewDevice, NewInvite, People, PersonId, Records};
use rollcoach_store_sqlite::SqliteRecords;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The phone's address: the server serves the LAN, so every request needs
/// a paired device's cookie.
const PHONE: &str = "192.168.1.5:7878";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A device cookie as a browser sends it.
fn cookie(secret: &str) -> String {
    format!("rollcoach_pair_7878={secret}")
}

/// The routes the test has exercised as a paired person, by method and
/// path as the route table writes them.
#[derive(Default, Clone)]
struct Covered(Arc<Mutex<BTreeSet<(String, String)>>>);

impl Covered {
    fn hit(&self, method: &str, path: &str) {
        self.0
            .lock()
            .unwrap()
            .insert((method.to_owned(), path.to_owned()));
    }
}

/// One person's browser: its device cookie.
struct Browser<'a> {
    app: &'a Router,
    cookie: Option<String>,
    covered: Covered,
}

impl Browser<'_> {
    async fn request(&self, method: Method, uri: &str, body: Option<&str>) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, PHONE);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_owned())),
            None => req.body(Body::empty()),
        };
        send(self.app, req.unwrap()).await
    }

    /// `GET uri`, counting route `path` as covered.
    async fn get(&self, path: &str, uri: &str) -> Resp {
        self.covered.hit("get", path);
        self.request(Method::GET, uri, None).await
    }

    async fn post(&self, path: &str, uri: &str, body: &str) -> Resp {
        self.covered.hit("post", path);
        self.request(Method::POST, uri, Some(body)).await
    }

    async fn delete(&self, path: &str, uri: &str) -> Resp {
        self.covered.hit("delete", path);
        self.request(Method::DELETE, uri, None).await
    }
}

/// Every (method, path) of the served OpenAPI document.
fn routes_of(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("a path's operations")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect()
}

fn uids_of(sessions: &Value) -> Vec<String> {
    sessions
        .as_array()
        .unwrap_or_else(|| panic!("not a list of sessions: {sessions}"))
        .iter()
        .map(|s| s["uid"].as_str().expect("a uid").to_owned())
        .collect()
}

/// The session `uid` of a page of history, with the rating it was given
/// (each person's sessions are rated differently: A 7, B 3).
fn rating_of(page: &Value, uid: &str) -> Option<u64> {
    page["sessions"]
        .as_array()?
        .iter()
        .find(|s| s["uid"] == uid)
        .and_then(|s| s["ratings"][0]["before"].as_u64())
}

struct Server {
    state: AppState,
    store: Arc<SqliteRecords>,
    app: Router,
    covered: Covered,
}

impl Server {
    fn new() -> Server {
        let store = Arc::new(SqliteRecords::open_in_memory().expect("a store"));
        let state = AppState::with_people(
            rollcoach_protocol::builtin(),
            store.clone(),
            store.clone(),
            lan(),
        )
        .expect("state");
        Server {
            app: bare_app(state.clone()),
            state,
            store,
            covered: Covered::default(),
        }
    }

    /// A device of `person` with this secret in its cookie, added to the
    /// records as pairing adds one.
    fn device(&self, person: &PersonId, id: &str, secret: &str) -> Browser<'_> {
        self.store
            .add_device(
                person,
                &NewDevice {
                    id,
                    name: "a phone",
                    via: "a pairing link",
                    secret_hash: &sha256_hex(secret),
                    created_at: wall_now(),
                },
            )
            .expect("add_device");
        self.browser(Some(cookie(secret)))
    }

    /// A client `person` of `coach`, joined through an invite as a phone
    /// joins, with a device of this secret.
    fn client(&self, coach: &PersonId, person: &PersonId, id: &str, secret: &str) -> Browser<'_> {
        let token = sha256_hex(&format!("invite of {id}"));
        self.store
            .add_invite(
                coach,
                &NewInvite {
                    token_hash: &token,
                    name: Some(person.as_str()),
                    created_at: wall_now(),
                    expires_at: rollcoach_engine::Time(wall_now().0 + 3_600_000),
                },
            )
            .expect("add_invite");
        self.store
            .redeem_invite(
                &token,
                wall_now(),
                person,
                &NewDevice {
                    id,
                    name: "a phone",
                    via: "a coach's invite",
                    secret_hash: &sha256_hex(secret),
                    created_at: wall_now(),
                },
            )
            .expect("redeem_invite")
            .expect("the invite is waiting");
        self.browser(Some(cookie(secret)))
    }

    fn browser(&self, cookie: Option<String>) -> Browser<'_> {
        Browser {
            app: &self.app,
            cookie,
            covered: self.covered.clone(),
        }
    }
}

fn session(uid: &str, rating: u8) -> String {
    pushed_json(&Plan {
        uid: uid.into(),
        rating: Some(rating),
        ..Plan::default()
    })
}

const A_SESSION: &str = "a-session-1";
const B_SESSION: &str = "b-session-1";

#[tokio::test]
async fn every_route_is_scoped_to_its_caller() {
    let server = Server::new();
    let (pa, pb) = (PersonId::parse("a").unwrap(), PersonId::parse("b").unwrap());
    // A and B are clients of two coaches, X and Y.
    let x = server.store.add_coach("X", wall_now()).unwrap().id;
    let y = server.store.add_coach("Y", wall_now()).unwrap().id;
    let a = server.client(&x, &pa, "dev-a", &"a".repeat(64));
    let b = server.client(&y, &pb, "dev-b", &"b".repeat(64));
    let coach_x = server.device(&x, "dev-x", &"d".repeat(64));
    let gone = server.device(&pa, "dev-a-gone", &"c".repeat(64));
    server
        .store
        .revoke_device(&pa, "dev-a-gone", wall_now())
        .unwrap()
        .expect("revoked");

    // Each pushes a session as the phone does: replayed, stored under its
    // person.
    let r = a
        .post(
            "/api/sync/sessions",
            "/api/sync/sessions",
            &session(A_SESSION, 7),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = b
        .post(
            "/api/sync/sessions",
            "/api/sync/sessions",
            &session(B_SESSION, 3),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        uids_of(&a.get("/api/history", "/api/history").await.json["sessions"]),
        [A_SESSION]
    );

    // B logs an injury of the upper back: it blocks B's protocols, not A's.
    let r = b
        .post(
            "/api/injuries",
            "/api/injuries",
            r#"{"area":"upper-back","note":"b's"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let b_injury = r.json["uid"].as_str().unwrap().to_owned();

    // Protocols are shared; whether one is blocked is the caller's.
    let list = a.get("/api/protocols", "/api/protocols").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(
        list.json
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["blocked"].is_null()),
        "B's injury blocks nothing of A's: {}",
        list.text
    );
    let theirs = b.request(Method::GET, "/api/protocols", None).await;
    assert!(
        theirs
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["blocked"].is_null()),
        "B's own injury blocks B's: {}",
        theirs.text
    );
    let one = a
        .get("/api/protocols/{id}", "/api/protocols/upper-back")
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert!(one.json["blocked"].is_null(), "{}", one.text);
    let handout = a
        .get(
            "/api/protocols/{id}/handout",
            "/api/protocols/upper-back/handout",
        )
        .await;
    assert_eq!(handout.status, StatusCode::OK);
    assert!(!handout.text.contains(&b_injury));

    // A's injuries: none of B's. A logs one of its own.
    let r = a.get("/api/injuries", "/api/injuries").await;
    assert_eq!(
        r.json["injuries"].as_array().unwrap().len(),
        0,
        "{}",
        r.text
    );
    let r = a
        .post(
            "/api/injuries",
            "/api/injuries",
            r#"{"area":"upper-back","note":"a's"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let a_injury = r.json["uid"].as_str().unwrap().to_owned();
    let r = a.get("/api/injuries", "/api/injuries").await;
    let listed: Vec<&str> = r.json["injuries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["uid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [a_injury.as_str()]);

    // History: A's only; B's uid as a cursor is not found (404, not 403).
    let page = a.get("/api/history", "/api/history").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(uids_of(&page.json["sessions"]), [A_SESSION]);
    assert_eq!(page.json["total"], 1);
    let r = a
        .get("/api/history", &format!("/api/history?before={B_SESSION}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let rows = a.get("/api/history", "/api/history?all=1").await;
    assert_eq!(rows.status, StatusCode::OK, "{}", rows.text);
    assert!(
        rows.text.contains(A_SESSION) && !rows.text.contains(B_SESSION),
        "{}",
        rows.text
    );

    // Export: A's sessions and injuries only.
    let doc = a.get("/api/export", "/api/export").await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text);
    assert_eq!(uids_of(&doc.json["sessions"]), [A_SESSION]);
    assert_eq!(uids_of(&doc.json["injuries"]), [a_injury.as_str()]);
    assert!(!doc.text.contains(B_SESSION) && !doc.text.contains(&b_injury));

    // Writes: B's injury by uid is not found for A, and stays uncleared.
    let r = a
        .delete("/api/injuries/{uid}", &format!("/api/injuries/{b_injury}"))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "no injury");
    let r = b.request(Method::GET, "/api/injuries", None).await;
    assert_eq!(r.json["injuries"][0]["uid"], b_injury.as_str());
    assert!(r.json["injuries"][0]["cleared_at"].is_null(), "{}", r.text);
    // A clears its own.
    let r = a
        .delete("/api/injuries/{uid}", &format!("/api/injuries/{a_injury}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A pushes a session of its own under B's uid: stored as A's, B's
    // unchanged. And an injury under B's injury's uid: A's too.
    let r = a
        .post(
            "/api/sync/sessions",
            "/api/sync/sessions",
            &session(B_SESSION, 7),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["status"], "stored");
    let mine = a.request(Method::GET, "/api/history", None).await;
    assert_eq!(rating_of(&mine.json, B_SESSION), Some(7), "{}", mine.text);
    let theirs = b.request(Method::GET, "/api/history", None).await;
    assert_eq!(uids_of(&theirs.json["sessions"]), [B_SESSION]);
    assert_eq!(
        rating_of(&theirs.json, B_SESSION),
        Some(3),
        "B's own: {}",
        theirs.text
    );
    let now = wall_now().0;
    let injury = json!({"uid": b_injury, "area": "upper-back", "at": now - 60_000,
        "note": "a's twin", "created_at": now - 60_000, "cleared_at": null});
    let r = a
        .post(
            "/api/sync/injuries",
            "/api/sync/injuries",
            &injury.to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = b.request(Method::GET, "/api/injuries", None).await;
    assert_eq!(r.json["injuries"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["injuries"][0]["note"], "b's", "{}", r.text);

    // Changes: each person's own. B's never list a session of A's (A's
    // session under B's uid is A's, rated 7; B's is rated 3).
    let changes = a.get("/api/sync/changes", "/api/sync/changes").await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.text);
    let of = |changes: &Value, kind: &str| -> Vec<(String, Value)> {
        changes["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == kind)
            .map(|c| {
                let r = &c["record"];
                let mark = if kind == "session" {
                    r["ratings"][0]["before"].clone()
                } else {
                    r["note"].clone()
                };
                (r["uid"].as_str().unwrap().to_owned(), mark)
            })
            .collect()
    };
    assert_eq!(
        of(&changes.json, "session"),
        [
            (A_SESSION.to_owned(), json!(7)),
            (B_SESSION.to_owned(), json!(7))
        ]
    );
    assert!(
        of(&changes.json, "injury")
            .iter()
            .all(|(_, note)| note != "b's")
    );
    let theirs = b.request(Method::GET, "/api/sync/changes", None).await;
    assert_eq!(
        of(&theirs.json, "session"),
        [(B_SESSION.to_owned(), json!(3))]
    );
    assert_eq!(
        of(&theirs.json, "injury"),
        [(b_injury.clone(), json!("b's"))]
    );
    // B's cursor read by A gives A's changes after it, nothing of B's.
    let cursor = theirs.json["next"].as_str().unwrap().to_owned();
    let after = a
        .get(
            "/api/sync/changes",
            &format!("/api/sync/changes?since={cursor}"),
        )
        .await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert!(!after.text.contains("b's"), "{}", after.text);

    // Devices: A's own, revoked ones too; B's id is not found (404) and B's
    // device stays in.
    let r = a.get("/api/devices", "/api/devices").await;
    let ids: BTreeSet<&str> = r.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from(["dev-a", "dev-a-gone"]), "{}", r.text);
    let r = a.delete("/api/devices/{id}", "/api/devices/dev-b").await;
    assert_error(&r, StatusCode::NOT_FOUND, "no device");
    assert_eq!(
        b.request(Method::GET, "/api/history", None).await.status,
        StatusCode::OK,
        "B's device is not revoked"
    );

    // A pairing link of A's pairs a device of A's.
    let link = a
        .post("/api/devices/pairing", "/api/devices/pairing", "")
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    let path = link.json["path"].as_str().unwrap().to_owned();
    let opened = server.browser(None).get("/pair", &path).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text);
    let set = opened.headers[header::SET_COOKIE].to_str().unwrap();
    let new = server.browser(Some(set.split(';').next().unwrap().to_owned()));
    let page = new.request(Method::GET, "/api/history", None).await;
    assert_eq!(uids_of(&page.json["sessions"]).len(), 2);
    assert_eq!(rating_of(&page.json, B_SESSION), Some(7), "A's, not B's");
    let r = new.request(Method::GET, "/api/devices", None).await;
    assert_eq!(r.json["devices"].as_array().unwrap().len(), 3, "{}", r.text);
    // A revokes its own: the next request of that device is refused.
    let id = r.json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["this_device"] == true)
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .unwrap();
    let r = a
        .delete("/api/devices/{id}", &format!("/api/devices/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        new.request(Method::GET, "/api/history", None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Accounts: A's account is A's; a client may not act as a coach or
    // the owner (403); a coach sees their own clients only, and another
    // coach's client and their devices answer 404.
    let me = a.get("/api/account", "/api/account").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["id"], "a", "{}", me.text);
    assert_eq!(me.json["role"], "client", "{}", me.text);
    let password = r#"{"password":"a long enough password"}"#;
    for (method, path, uri, body) in [
        (
            "post",
            "/api/account/password",
            "/api/account/password".to_owned(),
            password,
        ),
        ("get", "/api/coaches", "/api/coaches".to_owned(), ""),
        (
            "post",
            "/api/coaches",
            "/api/coaches".to_owned(),
            r#"{"name":"Z"}"#,
        ),
        (
            "post",
            "/api/coach/invites",
            "/api/coach/invites".to_owned(),
            "{}",
        ),
        (
            "get",
            "/api/coach/clients",
            "/api/coach/clients".to_owned(),
            "",
        ),
        (
            "get",
            "/api/coach/clients/{id}/devices",
            "/api/coach/clients/a/devices".to_owned(),
            "",
        ),
        (
            "delete",
            "/api/coach/clients/{id}/devices/{device}",
            "/api/coach/clients/a/devices/dev-a".to_owned(),
            "",
        ),
    ] {
        let r = match method {
            "get" => a.get(path, &uri).await,
            "delete" => a.delete(path, &uri).await,
            _ => a.post(path, &uri, body).await,
        };
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "A: {method} {uri}: {}",
            r.text
        );
    }
    let clients = coach_x
        .request(Method::GET, "/api/coach/clients", None)
        .await;
    assert_eq!(clients.status, StatusCode::OK, "{}", clients.text);
    assert!(
        clients.text.contains("\"a\"") && !clients.text.contains("\"b\""),
        "X's clients are A only: {}",
        clients.text
    );
    let theirs = coach_x
        .request(Method::GET, "/api/coach/clients/a/devices", None)
        .await;
    assert!(
        theirs.text.contains("dev-a") && !theirs.text.contains("dev-b"),
        "{}",
        theirs.text
    );
    for (method, uri) in [
        (Method::GET, "/api/coach/clients/b/devices"),
        (Method::DELETE, "/api/coach/clients/b/devices/dev-b"),
        (Method::DELETE, "/api/coach/clients/a/devices/dev-b"),
    ] {
        let r = coach_x.request(method.clone(), uri, None).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "X: {method} {uri}: {}",
            r.text
        );
    }
    assert_eq!(
        b.request(Method::GET, "/api/history", None).await.status,
        StatusCode::OK,
        "B's phone is not revoked by X"
    );
    let wrong = r#"{"name":"X","password":"not the password"}"#;
    let r = a.post("/api/sign-in", "/api/sign-in", wrong).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    let opened = server
        .browser(None)
        .get("/join", "/join?token=forged")
        .await;
    assert!(opened.headers.get(header::SET_COOKIE).is_none());

    // What is the same for everyone.
    let doc = a.get("/api/openapi.json", "/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(
        a.get("/api/config", "/api/config").await.status,
        StatusCode::OK
    );
    assert_eq!(a.get("/", "/").await.status, StatusCode::OK);
    assert_eq!(a.get("/{file}", "/app.js").await.status, StatusCode::OK);

    // No credential this server accepts: 401 on every route but /pair,
    // and nothing written.
    let routes = routes_of(&doc.json);
    let count = |p: &PersonId| {
        (
            server.store.session_count(p).unwrap(),
            server.store.list_injuries(p).unwrap().len(),
            server.store.devices(p).unwrap().len(),
        )
    };
    let before = (count(&pa), count(&pb));
    let forged = server.browser(Some(cookie(&"f".repeat(64))));
    let unpaired = server.browser(None);
    for (who, browser) in [
        ("unpaired", &unpaired),
        ("revoked", &gone),
        ("forged", &forged),
    ] {
        for (method, path) in &routes {
            let uri = path
                .replace("/api/protocols/{id}", "/api/protocols/upper-back")
                .replace("{uid}", &b_injury)
                .replace("{device}", "dev-b")
                .replace("/api/coach/clients/{id}", "/api/coach/clients/b")
                .replace("{id}", "dev-b")
                .replace("{file}", "app.js");
            let body = match path.as_str() {
                "/api/sync/sessions" => session("unpaired-1", 5),
                "/api/sync/injuries" => injury.to_string(),
                "/api/injuries" => r#"{"area":"upper-back"}"#.to_owned(),
                "/api/sign-in" => r#"{"name":"X","password":"not the password"}"#.to_owned(),
                _ => String::new(),
            };
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let public = path == "/pair" || path == "/join";
            let r = if public {
                browser
                    .request(method.clone(), &format!("{path}?token=forged"), None)
                    .await
            } else if method == Method::GET || method == Method::DELETE {
                browser.request(method.clone(), &uri, None).await
            } else {
                browser.request(method.clone(), &uri, Some(&body)).await
            };
            if public {
                // Public: a wrong link pairs nothing.
                assert!(r.headers.get(header::SET_COOKIE).is_none(), "{who} {path}");
                assert_eq!(
                    r.status,
                    StatusCode::UNAUTHORIZED,
                    "{who} {path}: {}",
                    r.text
                );
                continue;
            }
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{who}: {method} {uri} answered {}",
                r.text
            );
        }
    }
    assert_eq!(
        (count(&pa), count(&pb)),
        before,
        "nothing written without a credential"
    );
    // The revoked device's person is not B: its cookie never lets anyone in.
    assert!(
        server.state.access_token().is_none(),
        "a LAN server has no terminal token"
    );

    // Every route of the table was checked as a paired person.
    let covered = server.covered.0.lock().unwrap().clone();
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes of the table without a scoping check in tests/scoping.rs: {missing:?}"
    );
    assert_eq!(
        covered, routes,
        "checked routes that the table does not have"
    );
}

/// Sync for many (issue 20, item 6): a person's pushed session is replayed
/// through the engine before it is stored, and stored under that person
/// only. B's very session pushed by A is A's own copy (`stored`, not
/// `already`: the answer tells A nothing of B's), and a forged claim is
/// refused for A without touching B's.
#[tokio::test]
async fn a_pushed_session_is_replayed_and_stored_under_its_pusher_only() {
    let server = Server::new();
    let (pa, pb) = (PersonId::parse("a").unwrap(), PersonId::parse("b").unwrap());
    // A and B are clients of two coaches, X and Y.
    let x = server.store.add_coach("X", wall_now()).unwrap().id;
    let y = server.store.add_coach("Y", wall_now()).unwrap().id;
    let a = server.client(&x, &pa, "dev-a", &"a".repeat(64));
    let b = server.client(&y, &pb, "dev-b", &"b".repeat(64));
    let coach_x = server.device(&x, "dev-x", &"d".repeat(64));
    let theirs = session(B_SESSION, 3);
    let r = b
        .request(Method::POST, "/api/sync/sessions", Some(&theirs))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let cursor = b.request(Method::GET, "/api/sync/changes", None).await.json["next"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same session, byte for byte, pushed by A: stored as A's.
    let r = a
        .request(Method::POST, "/api/sync/sessions", Some(&theirs))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["status"], "stored");
    let r = a
        .request(Method::POST, "/api/sync/sessions", Some(&theirs))
        .await;
    assert_eq!(r.json["status"], "already", "{}", r.text);
    assert_eq!(server.store.session_count(&pa).unwrap(), 1);
    assert_eq!(server.store.session_count(&pb).unwrap(), 1);

    // A forged claim of A's (more reps than the log proves) is refused by
    // the replay, and stored for nobody.
    let mut forged = pushed_session(&Plan {
        uid: "a-forged".into(),
        rating: Some(7),
        pain_at_rep: Some(2),
        ..Plan::default()
    });
    forged.reps_done = Some(forged.reps_target);
    let r = a
        .request(
            Method::POST,
            "/api/sync/sessions",
            Some(&serde_json::to_string(&forged).unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    for p in [&pa, &pb] {
        assert!(server.store.session(p, "a-forged").is_err(), "{p:?}");
    }
    // A genuine one of A's is stored as the replay derives it, A's only.
    let genuine = pushed_session(&Plan {
        uid: "a-genuine".into(),
        rating: Some(7),
        pain_at_rep: Some(2),
        ..Plan::default()
    });
    let r = a
        .request(
            Method::POST,
            "/api/sync/sessions",
            Some(&serde_json::to_string(&genuine).unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let stored = server.store.session(&pa, "a-genuine").unwrap();
    assert_eq!(stored.reps_done, genuine.reps_done);
    assert_eq!(stored.outcome, genuine.outcome);
    assert!(server.store.session(&pb, "a-genuine").is_err());

    // B's changes after its own push list nothing of A's.
    let r = b
        .request(
            Method::GET,
            &format!("/api/sync/changes?since={cursor}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["changes"].as_array().unwrap().len(), 0, "{}", r.text);
    let all = b.request(Method::GET, "/api/sync/changes", None).await;
    assert_eq!(
        all.json["changes"].as_array().unwrap().len(),
        1,
        "{}",
        all.text
    );
    assert_eq!(all.json["changes"][0]["record"]["uid"], B_SESSION);
    assert!(!all.text.contains("a-genuine"));

    // Coach X's own sync stream holds X's sessions only: none of A's, their
    // client's, rides along with the coach's devices.
    let r = coach_x
        .request(Method::GET, "/api/sync/changes", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["changes"].as_array().unwrap().len(), 0, "{}", r.text);
}
