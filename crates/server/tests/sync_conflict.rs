//! A different session pushed under a uid the server already holds is
//! refused with 409 naming the uid, and not stored (issue 24, finding 11):
//! the page then keeps it unsynced instead of marking it synced. The same
//! session again is still 200 `already`.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn another_session_under_a_stored_uid_is_a_conflict_and_the_first_stays() {
    let app = app(state());
    let first = Plan {
        uid: "phone-1234".into(),
        rating: Some(3),
        ..Plan::default()
    };
    let second = Plan {
        rating: Some(8),
        ..first.clone()
    };
    // Built once: a pushed session starts an hour before the wall clock.
    let first_session = pushed_session(&first);
    let first_json = serde_json::to_string(&first_session).unwrap();
    assert_ne!(first_json, pushed_json(&second));

    let r = post_json(&app, "/api/sync/sessions", &first_json).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let r = post_json(&app, "/api/sync/sessions", &pushed_json(&second)).await;
    assert_error(&r, StatusCode::CONFLICT, "phone-1234");
    assert_error(&r, StatusCode::CONFLICT, "different session");

    // A session ended by pain under the same uid: refused too.
    let pain = Plan {
        pain_at_rep: Some(2),
        ..first.clone()
    };
    let r = post_json(&app, "/api/sync/sessions", &pushed_json(&pain)).await;
    assert_error(&r, StatusCode::CONFLICT, "phone-1234");

    // The same session again: idempotent.
    let r = post_json(&app, "/api/sync/sessions", &first_json).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "already");

    // One session, the first, with its rating.
    let h = get(&app, "/api/history").await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    assert_eq!(h.json["total"], 1, "{}", h.text);
    let exported = get(&app, "/api/export").await;
    let doc = rollcoach_store::ExportDocument::from_json(&exported.text).unwrap();
    assert_eq!(doc.sessions.len(), 1);
    assert_eq!(doc.sessions[0].uid, "phone-1234");
    assert_eq!(doc.sessions[0].ratings, first_session.ratings);
    assert_eq!(doc.sessions[0].started_at, first_session.started_at);
}
