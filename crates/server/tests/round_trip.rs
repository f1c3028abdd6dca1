//! Issue 19 (and 24): one rule for every writer and reader. Whatever
//! `POST /api/injuries` or `POST /api/sync/injuries` accepts is in the
//! export, and the export passes import's validation and imports into
//! another store: no writer stores what the import refuses. The inputs are
//! arbitrary: notes of any characters and length, times from 1970 to the
//! future, areas known and not, uids of any shape.

mod common;

use axum::http::StatusCode;
use common::*;
use proptest::prelude::*;
use rollcoach_store::{ExportDocument, ImportRules, PersonId, SyncCatalog};
use rollcoach_store_sqlite::SqliteRecords;
use serde_json::{Value, json};
use std::sync::Arc;

fn wall_now() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A note as anyone might send one: printable text, newlines and tabs,
/// terminal escapes, NUL, bidirectional overrides, other scripts, up to
/// 600 characters (the cap is 500).
fn note() -> impl Strategy<Value = Option<String>> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 .,!?-]{0,20}",
        1 => Just("\n".to_owned()),
        1 => Just("\t".to_owned()),
        1 => Just("\u{1b}[31m".to_owned()),
        1 => Just("\0".to_owned()),
        1 => Just("\u{202e}".to_owned()),
        1 => Just("\u{2067}".to_owned()),
        1 => Just("\r".to_owned()),
        1 => Just("épaule 肩 🙂".to_owned()),
        1 => "[a-z]{100,150}",
    ];
    prop::option::of(prop::collection::vec(piece, 0..8).prop_map(|v| v.concat()))
}

/// How long before now the injury happened (negative: after now), in ms:
/// from 1970 to a day ahead, with the edges (2000, the clock skew).
fn ago() -> impl Strategy<Value = i64> {
    const DAY: i64 = 86_400_000;
    prop_oneof![
        3 => 0..30 * DAY,
        1 => -DAY..0,
        1 => Just(-5 * 60_000),
        1 => Just(-5 * 60_000 - 1),
        1 => 0..60 * 365 * DAY,
    ]
}

fn area() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("upper-back".to_owned()),
        1 => Just("knee".to_owned()),
        1 => Just("Upper-Back".to_owned()),
        1 => Just(String::new()),
    ]
}

fn uid() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        4 => "[0-9a-f]{12}-[0-9a-f]{16}",
        1 => "[ -~]{0,10}",
        1 => Just("a\u{1b}b".to_owned()),
        1 => "[a-z]{129,130}",
    ])
}

#[derive(Debug, Clone)]
struct Candidate {
    area: String,
    ago: i64,
    note: Option<String>,
    uid: Option<String>,
    logged_ago: i64,
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (area(), ago(), note(), uid(), 0i64..3_600_000).prop_map(
        |(area, ago, note, uid, logged_ago)| Candidate {
            area,
            ago,
            note,
            uid,
            logged_ago,
        },
    )
}

fn at(now: u64, ago: i64) -> u64 {
    u64::try_from(i64::try_from(now).unwrap() - ago).unwrap_or(0)
}

async fn write_all(app: &axum::Router, candidates: &[Candidate]) -> usize {
    let mut accepted = 0;
    for c in candidates {
        let now = wall_now();
        let t = at(now, c.ago);
        let api = post_json(
            app,
            "/api/injuries",
            &json!({"area": c.area, "at": t, "note": c.note}).to_string(),
        )
        .await;
        assert!(
            api.status == StatusCode::CREATED || api.status == StatusCode::UNPROCESSABLE_ENTITY,
            "POST /api/injuries {c:?}: {} {}",
            api.status,
            api.text
        );
        accepted += usize::from(api.status == StatusCode::CREATED);
        let created_at = at(now, c.logged_ago).max(t.min(now));
        let mut pushed = json!({
            "area": c.area, "at": t, "note": c.note, "created_at": created_at, "cleared_at": Value::Null,
        });
        if let Some(uid) = &c.uid {
            pushed["uid"] = json!(uid);
        }
        let sync = post_json(app, "/api/sync/injuries", &pushed.to_string()).await;
        assert!(
            sync.status.is_success() || sync.status.is_client_error(),
            "POST /api/sync/injuries {c:?}: {} {}",
            sync.status,
            sync.text
        );
        accepted += usize::from(sync.status == StatusCode::CREATED);
    }
    accepted
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn whatever_a_writer_accepts_the_import_of_its_export_accepts(
        candidates in prop::collection::vec(candidate(), 1..6)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let app = app(state());
            let accepted = write_all(&app, &candidates).await;
            let export = get(&app, "/api/export").await;
            assert_eq!(export.status, StatusCode::OK, "{}", export.text);
            let doc: ExportDocument = serde_json::from_str(&export.text).unwrap();
            assert_eq!(doc.injuries.len(), accepted, "every accepted injury is exported");
            let protocols: Vec<_> = rollcoach_protocol::builtin().into_iter().map(Arc::new).collect();
            let catalog = SyncCatalog::new(&protocols).unwrap();
            let rules = ImportRules { catalog: &catalog, now: rollcoach_engine::Time(wall_now()) };
            if let Err(e) = doc.validate(rules) {
                panic!("the export of what was accepted is refused by import: {e}\n{candidates:#?}");
            }
            let other = SqliteRecords::open_in_memory().unwrap();
            let report = rollcoach_store::import(&other, &PersonId::owner(), &doc).unwrap();
            assert_eq!(report.injuries_imported as usize, accepted, "{report:?}");
        });
    }
}
