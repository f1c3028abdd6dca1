//! Issue 14: `GET /api/export` streamed, and the whole history in one
//! compact request (`GET /api/history?all=1`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use rollcoach_engine::{Facts, Input, Options, RatingResult};
use rollcoach_store::{
    EXPORT_FORMAT, EXPORT_VERSION, Event, ExportDocument, ExportedSession, SessionOutcome,
};
use serde_json::Value;
use tower::ServiceExt;

use rollcoach_testkit::{DAY, T0};

/// `n` finished daily sessions, each with a short log and two ratings.
fn doc(n: u32) -> ExportDocument {
    let protocol = serde_json::to_value(rollcoach_testkit::protocol("upper-back")).unwrap();
    let sessions = (0..n)
        .map(|i| {
            let started_at = T0.plus_ms(u64::from(i) * DAY);
            ExportedSession {
                uid: format!("u{i:05}"),
                protocol_id: "upper-back".into(),
                protocol_version: 1,
                area: "upper-back".into(),
                protocol: protocol.clone(),
                options: Options::default(),
                facts: Facts::default(),
                started_at,
                ended_at: Some(started_at.plus_ms(300_000)),
                outcome: Some(SessionOutcome::Completed),
                reason: None,
                message: Some("Done.".into()),
                reps_done: Some(8),
                reps_target: 8,
                active_ms: Some(240_000),
                pairing: None,
                ratings: vec![RatingResult {
                    id: "stiffness".into(),
                    before: Some((i % 11) as u8),
                    after: None,
                }],
                summary: None,
                events: (0..5)
                    .map(|seq| Event {
                        seq,
                        at_ms: u64::from(seq) * 1000,
                        input: Input::Ready,
                    })
                    .collect(),
            }
        })
        .collect();
    ExportDocument {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        exported_at: T0.plus_ms(u64::from(n + 1) * DAY),
        sessions,
        injuries: Vec::new(),
    }
}

async fn get_big(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 256 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_export_streams_the_whole_document_from_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = store_at(&path);
    let doc = doc(700);
    rollcoach_store::import(&*store, &rollcoach_store::PersonId::owner(), &doc).unwrap();
    drop(store);
    let app = app(state_at(&path, Default::default()));
    let (status, headers, text) = get_big(&app, "/api/export").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let got = ExportDocument::from_json(&text).unwrap();
    assert_eq!(got.sessions, doc.sessions, "every session, oldest first");
    assert!(text.len() > 4 * 64 * 1024, "many chunks: {}", text.len());
}

#[tokio::test]
async fn the_whole_history_comes_in_one_compact_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let store = store_at(&path);
    rollcoach_store::import(&*store, &rollcoach_store::PersonId::owner(), &doc(1200)).unwrap();
    drop(store);
    let app = app(state_at(&path, Default::default()));
    let (status, _, text) = get_big(&app, "/api/history?all=1").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["total"], 1200);
    let rows = v["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), 1200);
    assert_eq!(v["rating_ids"], serde_json::json!(["stiffness"]));
    assert!(v.get("charts").is_none(), "charts only when asked");
    // Newest first, in `columns` order.
    let columns: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let newest = &rows[0];
    let col = |name: &str| &newest[columns.iter().position(|c| *c == name).unwrap()];
    assert_eq!(col("uid"), "u01199");
    assert_eq!(col("protocol"), "upper-back");
    assert_eq!(col("started_at"), T0.plus_ms(1199 * DAY).0);
    assert_eq!(col("duration_ms"), 300_000);
    assert_eq!(col("outcome"), "completed");
    assert_eq!(col("reps_done"), 8);
    assert_eq!(col("ratings"), &serde_json::json!([1199 % 11, null]));
    let per_session = text.len() / 1200;
    assert!(per_session <= 144, "{per_session} B per session");

    let (status, _, text) = get_big(&app, "/api/history?all=1&charts=1").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["charts"][0]["id"], "stiffness");

    // The paged history is as it was.
    let page = get(&app, "/api/history").await;
    assert_eq!(page.json["sessions"].as_array().unwrap().len(), 50);
    assert_eq!(page.json["total"], 1200);
    assert!(page.json["charts"].is_array());

    for (uri, says) in [
        (
            "/api/history?all=1&limit=10",
            "leave out `limit` and `before`",
        ),
        ("/api/history?all=yes", "`all` is 1 or 0"),
        ("/api/history?charts=1", "`charts` goes with `all=1`"),
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert!(
            r.json["error"].as_str().unwrap().contains(says),
            "{uri}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn history_all_and_export_work_on_a_store_in_memory() {
    let app = app(state());
    let (status, _, text) = get_big(&app, "/api/history?all=1&charts=1").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["total"], 0);
    assert_eq!(v["sessions"], serde_json::json!([]));
    let (status, _, text) = get_big(&app, "/api/export").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ExportDocument::from_json(&text).unwrap().sessions.len(), 0);
}
