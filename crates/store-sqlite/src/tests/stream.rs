//! Streaming import on SQLite (issue 14): the undo of a failed import takes
//! the sessions' logs with them, and a large import leaves a live session
//! on another connection room to log every input. (The streamed export and
//! import themselves are the conformance suite's.)

use std::io::Cursor;

use super::*;

/// A document of `n` sessions: copies of one completed session (ratings, a
/// full log), a day apart, and an injury.
fn big_doc(n: u32) -> ExportDocument {
    let one = SqliteRecords::open_in_memory().unwrap();
    one.add_injury(&owner(), &new_injury("neck", T0, Some("a, \"b\""), T0))
        .unwrap();
    kit::drive_completed(&one, T0.plus_ms(60 * HOUR), &[7], &[3]);
    let mut doc = export(&one, &owner(), T0.plus_ms(100 * HOUR)).unwrap();
    let model = doc.sessions.pop().unwrap();
    let took = model.ended_at.unwrap().since(model.started_at);
    doc.sessions = (0..n)
        .map(|i| {
            let mut s = model.clone();
            s.uid = format!("uid-{i:06}");
            s.started_at = T0.plus_ms(u64::from(i) * 24 * HOUR);
            s.ended_at = Some(s.started_at.plus_ms(took));
            s
        })
        .collect();
    doc.exported_at = T0.plus_ms(u64::from(n + 1) * 24 * HOUR);
    doc
}

#[test]
fn a_streamed_import_that_fails_while_writing_removes_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("undo.db");
    let b = SqliteRecords::open(&path).unwrap();
    import(&b, &owner(), &big_doc(1)).unwrap(); // uid-000000 is here already, and stays
    let good = big_doc(50).to_json();
    // The second read breaks off after about forty sessions: many batches
    // are written by then.
    let cut = good.len() * 4 / 5;
    let mut reads = 0;
    let err = import_stream(
        &b,
        &owner(),
        || {
            reads += 1;
            let text = if reads == 1 { &good[..] } else { &good[..cut] };
            Ok(Cursor::new(text.as_bytes().to_vec()))
        },
        kit::rules(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    assert_eq!(reads, 2);
    assert_eq!(
        b.session_count(&owner()).unwrap(),
        1,
        "only what was there before"
    );
    assert_eq!(b.list_injuries(&owner()).unwrap().len(), 1);
    let count: i64 = rusqlite::Connection::open(&path)
        .unwrap()
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
            let store = SqliteRecords::open(&path).unwrap();
            import_stream(
                &store,
                &owner(),
                || Ok(Cursor::new(text.as_bytes())),
                kit::rules(),
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
            kit::pain_at_phase(3),
        );
        assert!(outcome.is_some());
        sessions.push(id);
    }
    let report = importer.join().unwrap();
    assert_eq!(report.imported, 600);
    assert!(report.skipped.is_empty());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.session_count(&owner()).unwrap(),
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
