//! Streaming export and import (issue 14), and the compact history.

use std::io::Cursor;

use super::*;

/// A store with one completed session (ratings, a full log) and an injury.
fn one_session() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    store.add_injury("neck", T0, Some("a, \"b\""), T0).unwrap();
    completed(&store, T0.plus_ms(60 * HOUR), vec![7], vec![3]);
    store
}

/// A document of `n` sessions: copies of `one_session`'s, a day apart.
fn big_doc(n: u32) -> ExportDocument {
    let mut doc = one_session().export(T0.plus_ms(100 * HOUR)).unwrap();
    let model = doc.sessions.pop().unwrap();
    doc.sessions = (0..n)
        .map(|i| {
            let mut s = model.clone();
            s.uid = format!("uid-{i:06}");
            s.started_at = T0.plus_ms(u64::from(i) * 24 * HOUR);
            s.ended_at = Some(s.started_at.plus_ms(300_000));
            s
        })
        .collect();
    doc.exported_at = T0.plus_ms(u64::from(n + 1) * 24 * HOUR);
    doc
}

/// What these tests' imports are checked against: the built-in protocols
/// and one for `one_session`'s `neck` injury, thirty years after T0.
pub(super) fn rules() -> ImportRules<'static> {
    static CATALOG: std::sync::LazyLock<SyncCatalog> = std::sync::LazyLock::new(|| {
        let mut neck = protocol();
        neck.id = "neck".into();
        neck.area = "neck".into();
        let mut all: Vec<_> = rollcoach_protocol::builtin()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
        all.push(std::sync::Arc::new(neck));
        SyncCatalog::new(&all).unwrap()
    });
    ImportRules {
        catalog: &CATALOG,
        now: T0.plus_ms(30 * 365 * 24 * HOUR),
    }
}

fn import_text(store: &SqliteStore, text: &str) -> Result<ImportReport, TransferError> {
    import_stream(
        store,
        || Ok(Cursor::new(text.as_bytes())),
        rules(),
        &mut |_| {},
    )
}

#[test]
fn the_streamed_export_is_the_document_byte_for_byte() {
    let a = SqliteStore::open_in_memory().unwrap();
    a.import(&big_doc(150)).unwrap();
    a.add_injury("upper-back", T0, None, T0).unwrap();
    let now = T0.plus_ms(9_000 * HOUR);
    let doc = a.export(now).unwrap();
    assert_eq!(doc.sessions.len(), 150);
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let counts = write_export_json(&a, now, &mut out, &mut |n| seen.push(n)).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), doc.to_json() + "\n");
    assert_eq!((counts.sessions, counts.injuries), (150, 2));
    assert_eq!(
        seen.last(),
        Some(&150),
        "progress after each page: {seen:?}"
    );

    let mut csv = Vec::new();
    write_export_csv(&a, &mut csv, &mut |_| {}).unwrap();
    assert_eq!(String::from_utf8(csv).unwrap(), doc.to_csv());

    // An empty store too.
    let empty = SqliteStore::open_in_memory().unwrap();
    let mut out = Vec::new();
    write_export_json(&empty, now, &mut out, &mut |_| {}).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        empty.export(now).unwrap().to_json() + "\n"
    );
}

#[test]
fn a_streamed_import_round_trips_and_skips_what_is_there() {
    let doc = big_doc(40);
    let text = doc.to_json();
    let b = SqliteStore::open_in_memory().unwrap();
    let mut steps = Vec::new();
    let report = import_stream(&b, || Ok(Cursor::new(text.as_bytes())), rules(), &mut |s| {
        steps.push(s)
    })
    .unwrap();
    assert_eq!(report.imported, 40);
    assert_eq!((report.injuries_imported, report.injuries_skipped), (1, 0));
    assert_eq!(
        steps.last(),
        Some(&ImportStep::Written {
            done: 40,
            total: 40
        })
    );
    assert_eq!(b.export(doc.exported_at).unwrap(), doc);
    let again = import_text(&b, &text).unwrap();
    assert_eq!(again.imported, 0);
    assert_eq!(again.skipped.len(), 40);
    assert_eq!(again.injuries_skipped, 1);
    assert_eq!(b.session_count().unwrap(), 40);
}

#[test]
fn a_refused_streamed_import_names_the_problem_and_writes_nothing() {
    let b = SqliteStore::open_in_memory().unwrap();
    let mut doc = big_doc(30);
    let dup = doc.sessions[20].events[1].clone();
    doc.sessions[20].events.push(dup);
    let err = import_text(&b, &doc.to_json()).unwrap_err().to_string();
    assert!(
        err.contains("uid-000020") && err.contains("appears twice"),
        "{err}"
    );
    assert_eq!(b.session_count().unwrap(), 0);

    let mut text = big_doc(30).to_json();
    let at = text.rfind("\"reps_target\"").unwrap();
    text.replace_range(at..at + 13, "\"reps_target\": \"eight\", \"x\"");
    let err = import_text(&b, &text).unwrap_err().to_string();
    assert!(
        err.contains("session 30:") && err.contains("line") && err.contains("does not fit"),
        "{err}"
    );
    assert_eq!(b.session_count().unwrap(), 0);

    for (text, want) in [
        ("{\"hello\": 1}", "not a rollcoach export"),
        ("not json", "not valid JSON"),
        (
            "{\"format\":\"rollcoach-export\",\"version\":7,\"sessions\":[]}",
            "newer rollcoach",
        ),
        (
            "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[]}",
            "missing field `injuries`",
        ),
        (
            "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[{}],\"injuries\":[]}",
            "missing field",
        ),
    ] {
        let err = import_text(&b, text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
    assert_eq!(b.session_count().unwrap(), 0);
}

#[test]
fn a_streamed_import_that_fails_while_writing_removes_what_it_wrote() {
    let b = SqliteStore::open_in_memory().unwrap();
    b.import(&big_doc(1)).unwrap(); // uid-000000 is here already, and stays
    let good = big_doc(50).to_json();
    // The second read breaks off after about forty sessions: many batches
    // are written by then.
    let cut = good.len() * 4 / 5;
    let mut reads = 0;
    let err = import_stream(
        &b,
        || {
            reads += 1;
            let text = if reads == 1 { &good[..] } else { &good[..cut] };
            Ok(Cursor::new(text.as_bytes().to_vec()))
        },
        rules(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    assert_eq!(reads, 2);
    assert_eq!(b.session_count().unwrap(), 1, "only what was there before");
    assert_eq!(b.list_injuries().unwrap().len(), 1);
    let count: i64 = b
        .conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        count as usize,
        big_doc(1).sessions[0].events.len(),
        "the removed sessions' logs went with them"
    );
}

#[test]
fn a_large_import_and_a_live_session_run_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    SqliteStore::open(&path).unwrap();
    let doc = big_doc(600);
    let text = doc.to_json();
    let importer = {
        let path = path.clone();
        std::thread::spawn(move || {
            let store = SqliteStore::open(&path).unwrap();
            import_stream(
                &store,
                || Ok(Cursor::new(text.as_bytes())),
                rules(),
                &mut |_| {},
            )
            .unwrap()
        })
    };
    // A session on another connection, logging each input while the import
    // writes; every input must be logged (none refused as busy).
    let session = SqliteStore::open(&path).unwrap();
    let mut sessions = Vec::new();
    while !importer.is_finished() || sessions.is_empty() {
        let (id, outcome) = drive(
            &session,
            T0.plus_ms(90_000 * HOUR + sessions.len() as u64 * HOUR),
            Plan {
                pain_at_phase: Some(3),
                ..Plan::default()
            },
        );
        assert!(outcome.is_some());
        sessions.push(id);
    }
    let report = importer.join().unwrap();
    assert_eq!(report.imported, 600);
    assert!(report.skipped.is_empty());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.session_count().unwrap(),
        600 + sessions.len() as u64,
        "the import is whole"
    );
    for id in sessions {
        let record = store.session(id).unwrap();
        assert_eq!(record.outcome.as_ref().map(|o| o.kind()), Some("stopped"));
        let events = store.events(id).unwrap();
        assert!(!events.is_empty());
        assert!(
            events.iter().enumerate().all(|(i, e)| e.seq as usize == i),
            "every input logged, in order"
        );
        assert!(matches!(
            events.last().map(|e| &e.input),
            Some(Input::Pain { .. })
        ));
    }
}

#[test]
fn history_rows_are_the_history_pages_in_short() {
    let store = SqliteStore::open_in_memory().unwrap();
    store.import(&big_doc(12)).unwrap();
    completed(&store, T0.plus_ms(1_000 * HOUR), vec![2], vec![9]);
    drive(
        &store,
        T0.plus_ms(1_001 * HOUR),
        Plan {
            crash_at_phase: Some(2),
            ..Plan::default()
        },
    );
    let mut before = None;
    loop {
        let rows = store.history_rows(5, before).unwrap();
        let records = store.history_page(5, before).unwrap();
        let want: Vec<HistoryRow> = records.into_iter().map(HistoryRow::from).collect();
        assert_eq!(rows, want);
        match rows.last() {
            Some(r) if rows.len() == 5 => before = Some(r.id),
            _ => break,
        }
    }
    let mut out = Vec::new();
    let n = write_history_rows(&store, &mut out, Some(60)).unwrap();
    assert_eq!(n, 14);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["total"], 14);
    assert_eq!(v["sessions"].as_array().unwrap().len(), 14);
    assert_eq!(v["columns"].as_array().unwrap().len(), 10);
    assert!(v["charts"].is_array());
    let newest = &v["sessions"][0];
    assert_eq!(newest[5], serde_json::Value::Null, "live: no outcome");
    let mut out = Vec::new();
    write_history_rows(&store, &mut out, None).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v.get("charts").is_none());
}
