//! Where an import writes a protocol snapshot (export and import themselves
//! are the conformance suite's).

use super::*;

#[test]
fn a_protocol_snapshot_never_passes_through_the_sessions_table() {
    // Written there and emptied by the v2 trigger, the ~10 KB snapshot left
    // every session's page mostly empty (BENCHMARKS.md, issue 10): new and
    // imported sessions write the shared row's id directly.
    let a = SqliteRecords::open_in_memory().unwrap();
    a.add_injury(&owner(), &new_injury("upper-back", T0, None, T0))
        .unwrap();
    drive_into(&a, T0.plus_ms(HOUR), Plan::default()); // refused by the log
    kit::drive_completed(&a, T0.plus_ms(60 * HOUR), &[7], &[3]);
    drive_into(&a, T0.plus_ms(61 * HOUR), kit::pain_at_phase(4));
    drive_into(&a, T0.plus_ms(62 * HOUR), kit::crash_at_phase(5));
    let doc = export(&a, &owner(), T0).unwrap();
    assert_eq!(doc.sessions.len(), 4);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshots.db");
    let b = SqliteStore::open(&path).unwrap();
    b.conn
        .execute_batch(
            "CREATE TEMP TRIGGER no_snapshot_in_sessions BEFORE INSERT ON main.sessions
             WHEN NEW.protocol_json <> ''
             BEGIN SELECT RAISE(ABORT, 'a protocol snapshot was written into sessions'); END;",
        )
        .unwrap();
    // The trigger is the writer connection's: the records write through it.
    let b = SqliteRecords::new(b);
    assert_eq!(import(&b, &owner(), &doc).unwrap().imported, 4);
    let snapshots: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM protocol_snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snapshots, 1, "the imported sessions share one snapshot row");
    let id = b
        .begin_session(&NewSession {
            protocol: &protocol("upper-back"),
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: T0,
        })
        .unwrap();
    assert_eq!(b.protocol_snapshot(id).unwrap(), protocol("upper-back"));
}

fn drive_into(records: &SqliteRecords, start: Time, plan: Plan) {
    kit::drive(records, start, plan);
}

/// A session run here (the terminal's log) and an imported session of the
/// same protocol share one snapshot row (issue 24: the log wrote the
/// protocol's JSON in its fields' order, an import in the document's keys'
/// order, so the same protocol got two rows).
#[test]
fn a_live_and_an_imported_session_of_one_protocol_share_one_snapshot_row() {
    let a = SqliteRecords::open_in_memory().unwrap();
    kit::drive_completed(&a, T0.plus_ms(HOUR), &[7], &[3]);
    let doc = export(&a, &owner(), T0.plus_ms(3 * HOUR)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-snapshot.db");
    let b = SqliteRecords::open(&path).unwrap();
    kit::drive_completed(&b, T0.plus_ms(2 * HOUR), &[6], &[2]);
    assert_eq!(import(&b, &owner(), &doc).unwrap().imported, 1);
    let snapshots: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM protocol_snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snapshots, 1, "one protocol, one snapshot row");
}

/// A file with the same protocol stored twice, in the order of its fields
/// (a terminal session's, before) and sorted (an import's), comes out of
/// migration 10 with one row, both sessions on it, and the same export.
#[test]
fn migration_10_merges_a_protocol_stored_in_two_orders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two-orders.db");
    let before = {
        let b = SqliteRecords::open(&path).unwrap();
        kit::drive_completed(&b, T0.plus_ms(HOUR), &[7], &[3]);
        kit::drive_completed(&b, T0.plus_ms(2 * HOUR), &[6], &[2]);
        export(&b, &owner(), T0.plus_ms(3 * HOUR)).unwrap()
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    let fields_order = serde_json::to_string(&protocol("upper-back")).unwrap();
    conn.execute(
        "INSERT INTO protocol_snapshots (protocol_json) VALUES (?1)",
        [&fields_order],
    )
    .unwrap();
    conn.execute_batch(
        "UPDATE sessions SET snapshot_id = (SELECT max(id) FROM protocol_snapshots)
          WHERE id = (SELECT min(id) FROM sessions);
         PRAGMA user_version = 9;",
    )
    .unwrap();
    let count = |conn: &rusqlite::Connection, sql: &str| -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(count(&conn, "SELECT count(*) FROM protocol_snapshots"), 2);
    drop(conn);

    let b = SqliteRecords::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM protocol_snapshots"), 1);
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT snapshot_id) FROM sessions"),
        1
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(export(&b, &owner(), T0.plus_ms(3 * HOUR)).unwrap(), before);
}
