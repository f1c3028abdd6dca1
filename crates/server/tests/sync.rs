//! Sync: the page pushes the sessions it ran and its injuries; the server
//! stores a session only when its log replays to what it claims.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use serde_json::json;

async fn history_total(app: &axum::Router) -> u64 {
    let r = get(app, "/api/history").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["total"].as_u64().expect("total")
}

#[tokio::test]
async fn a_pushed_session_is_stored_once_with_its_uid_ratings_and_log() {
    let app = app(state());
    let plan = Plan {
        uid: "phone-0001".into(),
        rating: Some(7),
        ..Plan::default()
    };
    let body = pushed_json(&plan);
    let r = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json, json!({"status": "stored", "uid": "phone-0001"}));

    let again = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        again.json,
        json!({"status": "already", "uid": "phone-0001"})
    );

    let h = get(&app, "/api/history").await;
    assert_eq!(h.json["total"], 1, "{}", h.text);
    let row = &h.json["sessions"][0];
    assert_eq!(row["uid"], "phone-0001");
    assert_eq!(row["outcome"]["outcome"], "completed");
    assert_eq!(row["live"], false);
    let ratings = row["ratings"].as_array().expect("ratings");
    assert_eq!(ratings.len(), 1, "{ratings:?}");
    assert_eq!(
        (ratings[0]["before"].clone(), ratings[0]["after"].clone()),
        (json!(7), json!(7))
    );

    // The log is stored as pushed: the export gives the same session back.
    let pushed = pushed_session(&plan);
    let e = get(&app, "/api/export").await;
    let exported = &e.json["sessions"][0];
    assert_eq!(exported["uid"], "phone-0001");
    assert_eq!(
        exported["events"],
        serde_json::to_value(&pushed.events).unwrap()
    );
    assert_eq!(
        exported["summary"],
        serde_json::to_value(&pushed.summary).unwrap()
    );
}

#[tokio::test]
async fn a_session_interrupted_on_the_phone_syncs_as_interrupted_with_its_reps() {
    let app = app(state());
    let body = pushed_json(&Plan {
        uid: "phone-crash".into(),
        gone_at_rep: Some(3),
        ..Plan::default()
    });
    let r = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let h = get(&app, "/api/history").await;
    let row = &h.json["sessions"][0];
    assert_eq!(row["outcome"]["outcome"], "interrupted");
    assert_eq!(row["reps_done"], 2);
}

#[tokio::test]
async fn a_forged_session_is_refused_with_422_naming_the_problem_and_nothing_is_stored() {
    let app = app(state());
    // A "completed" claim whose log has a pain stop inside.
    let mut forged = pushed_session(&Plan {
        uid: "forged-1".into(),
        pain_at_rep: Some(2),
        ..Plan::default()
    });
    forged.outcome = Some(rollcoach_store::SessionOutcome::Completed);
    forged.reason = None;
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&forged).unwrap(),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "claims outcome completed",
    );
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "replays to stopped (pain-with-pop)",
    );
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "forged-1");

    // A rating of 11 in the log.
    let mut eleven = pushed_session(&Plan {
        uid: "forged-2".into(),
        rating: Some(5),
        ..Plan::default()
    });
    for e in &mut eleven.events {
        if let rollcoach_engine::Input::Rating { value } = &mut e.input {
            *value = Some(11);
        }
    }
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&eleven).unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "rating is 11");

    // Reps beyond the protocol.
    let mut reps = pushed_session(&Plan {
        uid: "forged-3".into(),
        ..Plan::default()
    });
    reps.reps_done = Some(40);
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&reps).unwrap(),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "allows at most 8 reps",
    );

    // A protocol snapshot that is not this server's.
    let mut other = pushed_session(&Plan {
        uid: "forged-4".into(),
        ..Plan::default()
    });
    other.protocol["screening"]["injury_rule"]["window_hours"] = json!(1);
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&other).unwrap(),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "protocol.screening.injury_rule.window_hours",
    );

    // An honest session stored first does not let a forgery with its uid through.
    let honest = pushed_json(&Plan {
        uid: "taken".into(),
        ..Plan::default()
    });
    assert_eq!(
        post_json(&app, "/api/sync/sessions", &honest).await.status,
        StatusCode::CREATED
    );
    let mut taken = pushed_session(&Plan {
        uid: "taken".into(),
        ..Plan::default()
    });
    taken.reps_done = Some(1);
    let r = post_json(
        &app,
        "/api/sync/sessions",
        &serde_json::to_string(&taken).unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "reps_done");

    assert_eq!(
        history_total(&app).await,
        1,
        "only the honest session is stored"
    );
    let e = get(&app, "/api/export").await;
    assert_eq!(e.json["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_pushes_are_400_too_big_413_not_json_415_never_500() {
    let app = app(state());
    let r = post_json(&app, "/api/sync/sessions", "{not json").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "not valid JSON");
    let r = post_json(&app, "/api/sync/sessions", r#"{"uid":"x"}"#).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "missing field");
    let r = post_json(&app, "/api/sync/sessions", "[]").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "the body is not one session");
    let mut wrong = serde_json::to_value(pushed_session(&Plan {
        uid: "w".into(),
        ..Plan::default()
    }))
    .unwrap();
    wrong["events"][0]["input"] = json!({"type": "fly"});
    let r = post_json(&app, "/api/sync/sessions", &wrong.to_string()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "fly");
    let r = post_json(&app, "/api/sync/injuries", r#"{"area": 3}"#).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "the body is not one injury");

    let big = format!(
        "{{\"uid\":\"{}\"}}",
        "x".repeat(rollcoach_server::BODY_LIMIT)
    );
    let r = post_json(&app, "/api/sync/sessions", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);

    let r = send(
        &app,
        Request::post("/api/sync/sessions")
            .header(header::HOST, "127.0.0.1:7878")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(pushed_json(&Plan {
                uid: "plain".into(),
                ..Plan::default()
            })))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json");
    let r = get(&app, "/api/sync/sessions").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(history_total(&app).await, 0);
}

#[tokio::test]
async fn a_whole_session_fits_the_body_limit_with_room_to_spare() {
    let body = pushed_json(&Plan {
        uid: "size".into(),
        rating: Some(3),
        ..Plan::default()
    });
    assert!(
        body.len() * 2 < rollcoach_server::BODY_LIMIT,
        "a session is {} bytes",
        body.len()
    );
}

#[tokio::test]
async fn pushed_injuries_are_idempotent_and_checked() {
    let app = app(state());
    let now = wall_now().0;
    let injury = json!({
        "area": "upper-back",
        "at": now - 7_200_000,
        "note": "tweaked it lifting",
        "created_at": now - 3_600_000,
        "cleared_at": null
    })
    .to_string();
    // Without a uid (a page of before injuries had uids): its legacy uid.
    let legacy = rollcoach_store::legacy_injury_uid(
        "upper-back",
        rollcoach_engine::Time(now - 7_200_000),
        rollcoach_engine::Time(now - 3_600_000),
        1,
    );
    let r = post_json(&app, "/api/sync/injuries", &injury).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json, json!({"status": "stored", "uid": legacy}));
    let r = post_json(&app, "/api/sync/injuries", &injury).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"status": "already", "uid": legacy}));
    let list = get(&app, "/api/injuries").await;
    let injuries = list.json["injuries"].as_array().expect("injuries");
    assert_eq!(injuries.len(), 1, "{}", list.text);
    assert_eq!(injuries[0]["note"], "tweaked it lifting");
    assert!(
        !injuries[0]["blocks"].as_array().unwrap().is_empty(),
        "a synced injury blocks the area's protocols"
    );

    let bad_area = json!({"area": "knees", "at": now - 10, "note": null, "created_at": now, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &bad_area.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "knees");
    let future = json!({"area": "upper-back", "at": now + 86_400_000, "note": null, "created_at": now, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &future.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "future");
    let logged_later = json!({"area": "upper-back", "at": now - 10, "note": null, "created_at": now + 86_400_000, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &logged_later.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "created_at");
    let cleared_first = json!({"area": "upper-back", "at": now - 10, "note": null, "created_at": now, "cleared_at": now - 5_000});
    let r = post_json(&app, "/api/sync/injuries", &cleared_first.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "before it was logged");
    // The import's rules, with the field named: a note a terminal would act
    // on, a time before 2000.
    let escapes = json!({"area": "upper-back", "at": now - 10, "note": "a\u{1b}[2Jb", "created_at": now, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &escapes.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "the injury's `note`");
    let ancient = json!({"area": "upper-back", "at": 1_000, "note": null, "created_at": 2_000, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &ancient.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "the injury's `at`");
    let list = get(&app, "/api/injuries").await;
    assert_eq!(list.json["injuries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_synced_session_is_in_the_database_file_the_terminal_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcoach.db");
    let app = app(state_at(&path, rollcoach_server::Config::default()));
    let body = pushed_json(&Plan {
        uid: "to-the-terminal".into(),
        rating: Some(4),
        ..Plan::default()
    });
    let r = post_json(&app, "/api/sync/sessions", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let store = store_at(&path);
    let owner = rollcoach_store::PersonId::owner();
    let history = rollcoach_store::Records::history_page(&*store, &owner, 10, None).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].uid, "to-the-terminal");
    assert_eq!(history[0].ratings[0].before, Some(4));
    assert_eq!(
        rollcoach_store::Records::events(&*store, &owner, &history[0].uid)
            .unwrap()
            .len(),
        pushed_session(&Plan::default()).events.len()
    );
}

/// Issue 13, finding 4: pushes are idempotent by uid, two injuries of the
/// same millisecond stay two, a pushed clear is applied (and a push never
/// un-clears), and a uid stored with other content is a 409, not a merge.
#[tokio::test]
async fn pushed_injuries_are_identified_by_uid_and_carry_their_clear() {
    let app = app(state());
    let now = wall_now().0;
    let (at, logged) = (now - 7_200_000, now - 3_600_000);
    let injury = |uid: &str, note: &str, cleared: Option<u64>| {
        json!({"uid": uid, "area": "upper-back", "at": at, "note": note, "created_at": logged, "cleared_at": cleared})
            .to_string()
    };
    let cleared = injury("phone-a", "the old one", Some(now - 60_000));
    let active = injury("phone-b", "the new one", None);
    let r = post_json(&app, "/api/sync/injuries", &cleared).await;
    assert_eq!(
        r.json,
        json!({"status": "stored", "uid": "phone-a"}),
        "{}",
        r.text
    );
    let r = post_json(&app, "/api/sync/injuries", &active).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json, json!({"status": "stored", "uid": "phone-b"}));
    for body in [&cleared, &active] {
        let r = post_json(&app, "/api/sync/injuries", body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["status"], "already");
    }
    let list = get(&app, "/api/injuries").await;
    let injuries = list.json["injuries"].as_array().unwrap();
    assert_eq!(injuries.len(), 2, "{}", list.text);
    let b = injuries.iter().find(|i| i["uid"] == "phone-b").unwrap();
    assert!(b["cleared_at"].is_null());
    assert!(
        !b["blocks"].as_array().unwrap().is_empty(),
        "the active one blocks"
    );
    let p = get(&app, "/api/protocols/upper-back").await;
    assert_eq!(p.json["blocked"]["injured_at"], json!(at), "{}", p.text);

    // A push that says the active one is cleared clears it...
    let clear_at = now - 1_000;
    let r = post_json(
        &app,
        "/api/sync/injuries",
        &injury("phone-b", "the new one", Some(clear_at)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"status": "cleared", "uid": "phone-b"}));
    // ... and one that says it is not does not un-clear it.
    let r = post_json(&app, "/api/sync/injuries", &active).await;
    assert_eq!(r.json, json!({"status": "already", "uid": "phone-b"}));
    let list = get(&app, "/api/injuries").await;
    let b = list.json["injuries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["uid"] == "phone-b")
        .unwrap()
        .clone();
    assert_eq!(b["cleared_at"], json!(clear_at));
    let p = get(&app, "/api/protocols/upper-back").await;
    assert!(p.json["blocked"].is_null(), "{}", p.text);

    // The same uid with another note is another injury: refused.
    let r = post_json(
        &app,
        "/api/sync/injuries",
        &injury("phone-b", "edited", None),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "note");
    let bad = json!({"uid": "a\u{1b}[2J", "area": "upper-back", "at": at, "note": null, "created_at": logged, "cleared_at": null});
    let r = post_json(&app, "/api/sync/injuries", &bad.to_string()).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "uid");
    let list = get(&app, "/api/injuries").await;
    assert_eq!(list.json["injuries"].as_array().unwrap().len(), 2);
}
