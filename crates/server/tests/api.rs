//! The JSON API through the router, without a socket.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use serde_json::Value;

#[tokio::test]
async fn protocols_are_listed_and_not_blocked_without_injuries() {
    let app = app(state());
    let r = get(&app, "/api/protocols").await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json.as_array().unwrap();
    let ub = list
        .iter()
        .find(|p| p["id"] == "upper-back")
        .expect("upper-back listed");
    assert_eq!(ub["reps"]["min"], 5);
    assert_eq!(ub["reps"]["max"], 8);
    assert!(ub["blocked"].is_null());
}

#[tokio::test]
async fn one_protocol_is_given_in_full() {
    let app = app(state());
    let r = get(&app, "/api/protocols/upper-back").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json["protocol"]["screening"]["injury_rule"]["window_hours"],
        48
    );
    assert!(r.json["blocked"].is_null());
    assert!(r.json["now"].as_u64().unwrap() > 1_600_000_000_000);
}

#[tokio::test]
async fn the_handout_is_standalone_printable_html() {
    let app = app(state());
    let r = get(&app, "/api/protocols/upper-back/handout").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text.contains("<html lang=\"en\">"));
    assert!(r.text.contains("Nick April"));
    assert!(r.text.contains("48 hours"));
    assert_error(
        &get(&app, "/api/protocols/nope/handout").await,
        StatusCode::NOT_FOUND,
        "unknown protocol",
    );
}

#[tokio::test]
async fn an_unknown_protocol_is_404_and_names_the_known_ones() {
    let app = app(state());
    let r = get(&app, "/api/protocols/lower-back").await;
    assert_error(&r, StatusCode::NOT_FOUND, "upper-back");
    // A session pushed for a protocol this server does not have.
    let mut s = pushed_session(&Plan {
        uid: "lower".into(),
        ..Plan::default()
    });
    s.protocol_id = "lower-back".into();
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&s).unwrap(),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no protocol `lower-back`",
    );
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "upper-back");
}

#[tokio::test]
async fn a_logged_injury_blocks_the_protocol_for_48_hours_then_clearing_it_unblocks() {
    let app = app(state());
    let r = post_json(
        &app,
        "/api/injuries",
        r#"{"area":"upper-back","note":"tweaked it"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let uid = r.json["uid"].as_str().unwrap().to_owned();
    let at = r.json["at"].as_u64().unwrap();

    let p = get(&app, "/api/protocols/upper-back").await;
    let blocked = &p.json["blocked"];
    assert_eq!(blocked["injured_at"].as_u64(), Some(at));
    assert_eq!(blocked["allowed_at"].as_u64(), Some(at + 48 * 3_600_000));
    assert!(blocked["message"].as_str().unwrap().contains("48 hours"));
    let list = get(&app, "/api/protocols").await;
    assert!(!list.json[0]["blocked"].is_null());

    let listed = get(&app, "/api/injuries").await;
    assert_eq!(listed.json["injuries"][0]["note"], "tweaked it");

    // By its uid: the row id is not in the path (issue 13, finding 7), nor
    // in the answer (issue 19).
    assert!(r.json.get("id").is_none(), "{}", r.text);
    assert!(listed.json["injuries"][0].get("id").is_none());
    assert_eq!(
        delete(&app, "/api/injuries/1").await.status,
        StatusCode::NOT_FOUND
    );
    let cleared = delete(&app, &format!("/api/injuries/{uid}")).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert!(cleared.json["cleared_at"].is_u64());
    let p = get(&app, "/api/protocols/upper-back").await;
    assert!(p.json["blocked"].is_null());

    let again = delete(&app, &format!("/api/injuries/{uid}")).await;
    assert_error(&again, StatusCode::CONFLICT, "already cleared");
}

#[tokio::test]
async fn an_old_injury_does_not_block() {
    let app = app(state());
    let three_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        - 72 * 3_600_000;
    let r = post_json(
        &app,
        "/api/injuries",
        &format!(r#"{{"area":"upper-back","at":{three_days_ago}}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let p = get(&app, "/api/protocols/upper-back").await;
    assert!(p.json["blocked"].is_null());
}

#[tokio::test]
async fn bad_injuries_are_refused_with_4xx() {
    let app = app(state());
    assert_error(
        &post_json(&app, "/api/injuries", r#"{"area":"knee"}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown area `knee`",
    );
    assert_error(
        &post_json(
            &app,
            "/api/injuries",
            r#"{"area":"upper-back","at":99999999999999}"#,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "future",
    );
    assert_error(
        &post_json(&app, "/api/injuries", r#"{"area":"upper-back","when":1}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field `when`",
    );
    assert_error(
        &post_json(&app, "/api/injuries", r#"{"area":"#).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    assert_error(
        &post_json(&app, "/api/injuries", r#"{"area":7}"#).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "",
    );
    let no_type = send(
        &app,
        Request::post("/api/injuries")
            .body(Body::from(r#"{"area":"upper-back"}"#))
            .unwrap(),
    )
    .await;
    assert_error(&no_type, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
    assert_error(
        &delete(&app, "/api/injuries/999").await,
        StatusCode::NOT_FOUND,
        "no injury with uid 999",
    );
    assert_error(
        &delete(&app, "/api/injuries/a%1B%5B2Jb").await,
        StatusCode::BAD_REQUEST,
        "injury's uid",
    );
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = app(state());
    let note = "x".repeat(70 * 1024);
    let r = post_json(
        &app,
        "/api/injuries",
        &format!(r#"{{"area":"upper-back","note":"{note}"}}"#),
    )
    .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "");
}

/// A pushed session with these options (its log and claims otherwise honest).
fn with_options(options: Value) -> String {
    let mut s = serde_json::to_value(pushed_session(&Plan {
        uid: "options".into(),
        ..Plan::default()
    }))
    .unwrap();
    if let (Value::Object(o), Value::Object(given)) = (&mut s["options"], options) {
        o.extend(given);
    }
    s.to_string()
}

#[tokio::test]
async fn reps_outside_the_protocol_range_are_422_naming_the_range() {
    let app = app(state());
    let push = |options: Value| {
        let app = app.clone();
        async move { post_json(&app, "/api/sync/sessions", &with_options(options)).await }
    };
    let r = push(serde_json::json!({"reps": 12})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "between 5 and 8");
    let r = push(serde_json::json!({"tempo_seconds": 30})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "tempo");
    let r = push(serde_json::json!({"reasons": ["knees"]})).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown reason `knees`",
    );
    // Not a number of reps at all: the body does not have the shape (400).
    let r = push(serde_json::json!({"reps": -1})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "");
    let r = post_json(&app, "/api/sync/sessions", r#"{}"#).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "uid");
    assert_eq!(get(&app, "/api/history").await.json["total"], 0);
}

#[tokio::test]
async fn a_session_not_ended_is_live_in_the_history_with_its_uid() {
    // A terminal runs a session on the same database file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let store = store_at(&path);
    let protocol = rollcoach_testkit::protocol("upper-back");
    let id = rollcoach_store::SessionLog::begin_session(
        &*store,
        &rollcoach_store::NewSession {
            protocol: &protocol,
            options: &rollcoach_engine::Options {
                reps: Some(5),
                ..Default::default()
            },
            facts: &rollcoach_engine::Facts::default(),
            started_at: wall_now(),
        },
    )
    .unwrap();
    let uid = rollcoach_store::SessionLog::session(&*store, id)
        .unwrap()
        .uid;
    let app = app(state_at(&path, Default::default()));
    let h = get(&app, "/api/history").await;
    let sessions = h.json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["live"], true);
    assert_eq!(sessions[0]["uid"], uid.as_str());
    assert_eq!(sessions[0]["protocol_id"], protocol.id.as_str());
    assert_eq!(sessions[0]["reps_target"], 5);
    // The page's own session routes are gone: sessions run on the page.
    assert_error(
        &get(&app, &format!("/api/sessions/{}", id.0)).await,
        StatusCode::NOT_FOUND,
        "/api/openapi.json",
    );
    assert_error(
        &post_json(&app, "/api/sessions", r#"{"protocol":"upper-back"}"#).await,
        StatusCode::NOT_FOUND,
        "nothing at /api/sessions",
    );
}

/// The facts of a page whose injury log holds one in the upper back at `at`.
fn injured_at(at: u64) -> rollcoach_engine::Facts {
    rollcoach_engine::Facts {
        injuries: vec![rollcoach_engine::InjuryFact {
            at: rollcoach_engine::Time(at),
            note: None,
        }],
        last_pairing: None,
    }
}

#[tokio::test]
async fn a_session_refused_by_the_injury_log_is_recorded_as_refused() {
    let app = app(state());
    let body = pushed_json(&Plan {
        uid: "refused".into(),
        facts: injured_at(now_ms() - 3_600_000 * 2),
        ..Plan::default()
    });
    let r = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let s = get(&app, "/api/history").await.json["sessions"][0].clone();
    assert_eq!(s["uid"], "refused");
    assert_eq!(s["outcome"]["outcome"], "refused");
    assert_eq!(s["reason"], "recent-injury");
}

#[tokio::test]
async fn export_is_a_json_document() {
    let app = app(state());
    post_json(&app, "/api/injuries", r#"{"area":"upper-back"}"#).await;
    let r = get(&app, "/api/export").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json.is_object());
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = app(state());
    let r = get(&app, "/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/protocols",
        "/api/protocols/{id}",
        "/api/protocols/{id}/handout",
        "/api/sync/sessions",
        "/api/sync/injuries",
        "/api/history",
        "/api/injuries",
        "/api/injuries/{uid}",
        "/api/export",
        "/api/openapi.json",
    ] {
        assert!(r.json["paths"][path].is_object(), "{path} missing");
    }
    for gone in [
        "/api/sessions",
        "/api/sessions/{id}",
        "/api/sessions/{id}/ws",
    ] {
        assert!(r.json["paths"][gone].is_null(), "{gone} is retired");
    }
    for schema in ["ExportedSession", "ExportedInjury", "SyncStatus", "Error"] {
        assert!(
            r.json["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_errors() {
    let app = app(state());
    assert_error(
        &get(&app, "/api/nope").await,
        StatusCode::NOT_FOUND,
        "openapi",
    );
    let r = send(
        &app,
        Request::put("/api/protocols")
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "/api/protocols");
    assert_error(
        &get(&app, "/nope.js").await,
        StatusCode::NOT_FOUND,
        "nope.js",
    );
}

#[tokio::test]
async fn the_page_and_its_modules_are_served_with_a_strict_csp() {
    let app = app(state());
    let r = get(&app, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<html lang=\"en\">"));
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"));
    for asset in [
        "app.js",
        "session.js",
        "speech.js",
        "planner.js",
        "turns.js",
        "history.js",
        "api.js",
        "handout.js",
        "style.css",
    ] {
        let r = get(&app, &format!("/{asset}")).await;
        assert_eq!(r.status, StatusCode::OK, "{asset}");
        assert!(!r.text.is_empty(), "{asset} is empty");
    }
    assert!(
        get(&app, "/app.js").await.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // The speech planner's WebAssembly module, which the CSP lets the page compile.
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    let wasm = get(&app, "/rollcoach.wasm").await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.headers[header::CONTENT_TYPE], "application/wasm");
    assert!(wasm.text.starts_with("\0asm"), "a WebAssembly module");
}

#[tokio::test]
async fn a_non_loopback_host_is_refused_in_loopback_mode() {
    let app = app(state());
    let r = send(
        &app,
        Request::get("/api/protocols")
            .header(header::HOST, "attacker.example:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "--lan");
    let ok = send(
        &app,
        Request::get("/api/protocols")
            .header(header::HOST, "localhost:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let _: Value = ok.json;
}

#[tokio::test]
async fn no_bad_input_gets_a_server_error() {
    let app = app(state());
    let bodies = [
        "",
        "null",
        "[]",
        "\"upper-back\"",
        "{\"protocol\":null}",
        "{\"protocol\":\"upper-back\",\"options\":null}",
        "{\"protocol\":\"upper-back\",\"options\":{\"reps\":4294967296}}",
        "{\"protocol\":\"upper-back\",\"options\":{\"tempo_seconds\":1e308}}",
        "{\"protocol\":\"upper-back\",\"options\":{\"tempo_seconds\":-4}}",
        "{\"protocol\":\"upper-back\",\"options\":{\"instrument\":\"\"}}",
        "{\"protocol\":\"upper-back\",\"options\":{\"pairing\":\"sideways\"}}",
        "{\"protocol\":\"upper-back\",\"options\":{\"reasons\":[\"soreness\",\"soreness\",\"x\"]}}",
        "{\"area\":\"\"}",
        "{\"area\":\"upper-back\",\"at\":-1}",
        "{\"area\":\"upper-back\",\"at\":18446744073709551615}",
        "{\"area\":\"upper-back\",\"note\":null,\"at\":null}",
        "{\"area\":\"upper-back\",\"note\":\"\\u0000\"}",
        "\u{feff}{}",
        "{\"a\":",
    ];
    for uri in ["/api/sync/sessions", "/api/sync/injuries", "/api/injuries"] {
        for body in bodies {
            let r = post_json(&app, uri, body).await;
            assert!(
                r.status.is_client_error() || r.status.is_success(),
                "POST {uri} {body:?} -> {} {}",
                r.status,
                r.text
            );
            if r.status.is_client_error() {
                assert!(
                    r.json["error"].is_string(),
                    "POST {uri} {body:?}: not a JSON error: {}",
                    r.text
                );
            }
            // This test used to let `POST /api/injuries` log a note holding
            // NUL (201): a note that import refuses, so the export did not
            // round-trip (issue 19). It is refused now, naming the note.
            if uri == "/api/injuries" && body.contains("\\u0000") {
                assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "the injury's `note`");
            }
        }
    }
    for uri in [
        "/api/sessions/-1",
        "/api/sessions/99999999999999999999",
        "/api/protocols/%00",
        "/api/protocols/..%2F..%2Fetc",
        "/api/injuries/1/2",
        "/api/sessions/1/ws",
    ] {
        let r = get(&app, uri).await;
        assert!(
            r.status.is_client_error(),
            "GET {uri} -> {} {}",
            r.status,
            r.text
        );
        assert!(
            r.json["error"].is_string(),
            "GET {uri}: not a JSON error: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn history_comes_in_pages_that_follow_each_other() {
    history_pages(state()).await;
}

/// With a database file, history and export are read by a second connection
/// on its own thread: they still see every session the moment it is recorded.
#[tokio::test]
async fn history_pages_from_a_database_file_come_from_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    history_pages(state_at(&dir.path().join("r.db"), Default::default())).await;
    let app = app(state_at(&dir.path().join("r.db"), Default::default()));
    let doc = get(&app, "/api/export").await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text);
    assert_eq!(doc.json["sessions"].as_array().unwrap().len(), 5);
}

async fn history_pages(state: rollcoach_server::AppState) {
    let app = app(state);
    post_json(&app, "/api/injuries", r#"{"area":"upper-back"}"#).await;
    let mut uids = Vec::new();
    for n in 0..5 {
        // Refused by the injury log, as the page ran them.
        let uid = format!("page-{n}");
        let body = pushed_json(&Plan {
            uid: uid.clone(),
            facts: injured_at(now_ms() - 3_600_000),
            ..Plan::default()
        });
        let r = post_json(&app, "/api/sync/sessions", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        uids.push(uid);
    }
    let h = get(&app, "/api/history?limit=500").await;
    for uid in &uids {
        let row = h.json["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["uid"] == uid.as_str())
            .cloned()
            .expect("pushed");
        // Named by uid only: no row id, no process id (issue 19).
        assert!(row.get("id").is_none(), "{row}");
        assert!(row.get("owner_pid").is_none(), "{row}");
    }
    let mut seen = Vec::new();
    let mut uri = "/api/history?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let h = get(&app, &uri).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text);
        assert_eq!(h.json["total"], 5);
        assert!(h.json["charts"].is_array());
        if pages > 0 {
            assert_eq!(h.json["charts"], Value::Array(vec![]), "charts come once");
        }
        let page = h.json["sessions"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|s| s["uid"].as_str().unwrap().to_owned()));
        pages += 1;
        // Pages are named by uid (unguessable), not by the sequential id.
        match h.json["next"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), page.last().unwrap()["uid"].as_str());
                uri = format!("/api/history?limit=2&before={next}");
            }
            None => break,
        }
    }
    // Pushed oldest first (each started after the one before).
    uids.reverse();
    assert_eq!(seen, uids, "newest first, each session once");
    assert_eq!(pages, 3);
    assert_eq!(
        get(&app, "/api/history").await.json["sessions"]
            .as_array()
            .unwrap()
            .len(),
        5,
        "the default page holds them all"
    );

    assert_error(
        &get(&app, "/api/history?limit=0").await,
        StatusCode::BAD_REQUEST,
        "limit must be between 1 and 500",
    );
    assert_error(
        &get(&app, "/api/history?limit=501").await,
        StatusCode::BAD_REQUEST,
        "limit must be between 1 and 500",
    );
    assert_error(
        &get(&app, "/api/history?limit=ten").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
    assert_error(
        &get(&app, "/api/history?page=2").await,
        StatusCode::BAD_REQUEST,
        "page",
    );
    assert_error(
        &get(&app, "/api/history?before=4242").await,
        StatusCode::NOT_FOUND,
        "no session with that uid to page from",
    );
    // A session's sequential id does not name a page (no answer gives it
    // any more: the five sessions of a new store have the row ids 1 to 5).
    for id in 1..=5 {
        assert_error(
            &get(&app, &format!("/api/history?before={id}")).await,
            StatusCode::NOT_FOUND,
            "no session with that uid",
        );
    }
}

// ----- the rules live once: the server computes, the page shows ---------------

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The built-ins plus a copy of upper-back with a 72-hour window, same area.
/// The built-in upper back with a 72-hour injury window, as `upper-back-72`.
fn protocol_72() -> rollcoach_protocol::Protocol {
    let mut slow = rollcoach_testkit::protocol("upper-back");
    slow.id = "upper-back-72".into();
    slow.screening.injury_rule.window_hours = 72;
    slow
}

fn state_with_a_72_hour_protocol() -> rollcoach_server::AppState {
    let mut protocols = rollcoach_protocol::builtin();
    protocols.push(protocol_72());
    let store = rollcoach_store_sqlite::SqliteRecords::open_in_memory().expect("in-memory store");
    rollcoach_server::AppState::new(
        protocols,
        std::sync::Arc::new(store),
        rollcoach_server::Config::default(),
    )
    .expect("state")
}

#[tokio::test]
async fn the_protocols_json_carries_the_injury_window_and_the_discomfort_threshold() {
    let app = app(state());
    let list = get(&app, "/api/protocols").await;
    assert_eq!(list.json[0]["rules"]["injury_window_hours"], 48);
    assert_eq!(list.json[0]["rules"]["discomfort_threshold"], 7);
    let one = get(&app, "/api/protocols/upper-back").await;
    assert_eq!(one.json["rules"]["injury_window_hours"], 48);
    assert_eq!(one.json["rules"]["discomfort_threshold"], 7);
}

#[tokio::test]
async fn the_block_and_its_end_come_from_each_protocols_own_window() {
    let app = app(state_with_a_72_hour_protocol());
    let at = now_ms() - 60 * 3_600_000;
    let r = post_json(
        &app,
        "/api/injuries",
        &format!(r#"{{"area":"upper-back","at":{at}}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let list = get(&app, "/api/protocols").await;
    let brief = |id: &str| {
        list.json
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    // 60 hours ago: past the handout's 48 hours, within the copy's 72.
    assert!(brief("upper-back")["blocked"].is_null());
    let blocked = &brief("upper-back-72")["blocked"];
    assert_eq!(blocked["injured_at"].as_u64(), Some(at));
    assert_eq!(blocked["allowed_at"].as_u64(), Some(at + 72 * 3_600_000));
    assert_eq!(blocked["window_hours"], 72);
    assert_eq!(brief("upper-back-72")["rules"]["injury_window_hours"], 72);

    let injuries = get(&app, "/api/injuries").await;
    let blocks = &injuries.json["injuries"][0]["blocks"];
    assert_eq!(blocks.as_array().unwrap().len(), 1, "{blocks}");
    assert_eq!(blocks[0]["protocol"], "upper-back-72");
    assert_eq!(blocks[0]["allowed_at"].as_u64(), Some(at + 72 * 3_600_000));

    // A session of the blocked protocol, run on a page with the same injury
    // log, is refused by the engine with the same end the API showed, and
    // the server's replay agrees.
    let protocol = protocol_72();
    let body = pushed_json(&Plan {
        uid: "blocked".into(),
        protocol: Some(protocol),
        facts: injured_at(at),
        ..Plan::default()
    });
    let s = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let record = get(&app, "/api/history").await.json["sessions"][0].clone();
    assert_eq!(record["uid"], "blocked");
    assert_eq!(record["reason"], "recent-injury");
    assert_eq!(
        record["outcome"]["reason"]["allowed_at"].as_u64(),
        Some(at + 72 * 3_600_000),
        "{record}"
    );
}

#[tokio::test]
async fn a_future_dated_injury_is_refused_with_what_to_do_and_nothing_is_logged() {
    let app = app(state());
    let six_days_ahead = now_ms() + 6 * 24 * 3_600_000 + 30_000;
    let r = post_json(
        &app,
        "/api/injuries",
        &format!(r#"{{"area":"upper-back","at":{six_days_ahead}}}"#),
    )
    .await;
    // The same message as `rollcoach injury add` and import give.
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an injury cannot be dated in the future: the time given is 6 days ahead of now; \
         give when the injury happened, or leave the time out to log it now",
    );
    let listed = get(&app, "/api/injuries").await;
    assert_eq!(listed.json["injuries"].as_array().unwrap().len(), 0);

    // A clock a minute ahead is clock skew: logged, as now.
    let before = now_ms();
    let r = post_json(
        &app,
        "/api/injuries",
        &format!(r#"{{"area":"upper-back","at":{}}}"#, before + 60_000),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let at = r.json["at"].as_u64().unwrap();
    assert!(at >= before && at <= now_ms(), "recorded as now: {at}");
}

/// Issue 19: `POST /api/injuries` and `POST /api/sync/injuries` take the
/// same injuries (each field through its domain type, the import's rules):
/// a note holding a terminal escape or NUL, or a time before 2000, is a 422
/// naming the field from both, in the same words, and nothing is logged.
#[tokio::test]
async fn the_api_and_sync_refuse_the_same_injuries_in_the_same_words() {
    let app = app(state());
    let now = now_ms();
    let cases: [(Value, &str, &str); 4] = [
        (
            serde_json::json!({"area": "upper-back", "at": now - 10, "note": "a\u{1b}[31mb"}),
            "`note`",
            "which a terminal would act on",
        ),
        (
            serde_json::json!({"area": "upper-back", "at": now - 10, "note": "\u{0}"}),
            "`note`",
            "which a terminal would act on",
        ),
        (
            serde_json::json!({"area": "upper-back", "at": 0, "note": null}),
            "`at`",
            "before 2000-01-01",
        ),
        (
            serde_json::json!({"area": "upper-back", "at": now - 10, "note": "x".repeat(501)}),
            "`note`",
            "501 characters",
        ),
    ];
    for (body, field, problem) in cases {
        let api = post_json(&app, "/api/injuries", &body.to_string()).await;
        let mut pushed = body.clone();
        pushed["created_at"] = serde_json::json!(now);
        pushed["cleared_at"] = Value::Null;
        let sync = post_json(&app, "/api/sync/injuries", &pushed.to_string()).await;
        for (route, r) in [("/api/injuries", &api), ("/api/sync/injuries", &sync)] {
            assert_error(
                r,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("the injury's {field}"),
            );
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, problem);
            let (_, fix) = r.json["error"].as_str().unwrap().split_once("; ").unwrap();
            assert!(!fix.trim().is_empty(), "{route}: no fix in {}", r.text);
        }
        // `the injury's `field`: problem; fix`, the problem the same.
        let words = |r: &Resp| {
            let e = r.json["error"].as_str().unwrap();
            e.split_once("; ").unwrap().0.to_owned()
        };
        assert_eq!(
            words(&api),
            words(&sync),
            "the same problem from both routes"
        );
    }
    let listed = get(&app, "/api/injuries").await;
    assert_eq!(listed.json["injuries"].as_array().unwrap().len(), 0);
}

/// Issue 19: the speed rule is one (`rollcoach_store::Speed`): the server
/// refuses 0, 1001 and NaN with the words `serve --speed` gives.
#[test]
fn a_speed_out_of_range_is_refused_with_the_domains_words() {
    for speed in [0.0, 1001.0, f64::NAN] {
        let config = rollcoach_server::Config {
            speed,
            ..rollcoach_server::Config::default()
        };
        let store =
            std::sync::Arc::new(rollcoach_store_sqlite::SqliteRecords::open_in_memory().unwrap());
        let Err(e) = rollcoach_server::AppState::new(rollcoach_protocol::builtin(), store, config)
        else {
            panic!("speed {speed} was taken");
        };
        let words = rollcoach_store::Speed::parse(speed)
            .unwrap_err()
            .to_string();
        assert_eq!(e.to_string(), format!("--speed: {words}"));
        assert!(words.contains("above 0 and at most 1000"), "{words}");
    }
}
