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
