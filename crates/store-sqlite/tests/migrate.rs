//! Files written by older rollcoach versions open in this one, data intact.
//!
//! `fixtures/v1.sql` is a frozen database at schema version 1. When a
//! migration 2 is added, this test checks that a v1 file migrates to it
//! (and `every_older_schema_version_migrates_to_the_newest` in the unit
//! tests checks every intermediate version).

use rollcoach_engine::{Input, Time};
use rollcoach_protocol::{Answer, Pairing};
use rollcoach_store::{SessionOutcome, Store};
use rollcoach_store_sqlite::{SCHEMA_VERSION, SqliteStore};

fn v1_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("v1.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(include_str!("fixtures/v1.sql")).unwrap();
    let v: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1, "the fixture is a version 1 file");
    path
}

#[test]
fn a_version_1_file_opens_migrated_with_all_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_file(dir.path());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);

    let history = store.history(None).unwrap();
    assert_eq!(history.len(), 2);
    let (stopped, completed) = (&history[0], &history[1]);
    assert_eq!(completed.uid, "019b7a0a0c00-00000000000000a1");
    assert_eq!(completed.outcome, Some(SessionOutcome::Completed));
    assert_eq!(completed.started_at, Time(1_767_261_600_000));
    assert_eq!(completed.duration_ms(), Some(100_000));
    assert_eq!((completed.reps_done, completed.reps_target), (Some(5), 5));
    assert_eq!(completed.options.reasons, vec!["soreness".to_owned()]);
    assert_eq!(completed.ratings[0].before, Some(7));
    assert_eq!(completed.ratings[0].after, Some(4));
    assert_eq!(completed.summary.as_ref().unwrap().noises, 1);
    assert_eq!(stopped.reason.as_deref(), Some("pain-over-spine"));
    assert_eq!(stopped.options.tempo_seconds, Some(3.5));
    assert_eq!(stopped.pairing, Some(Pairing::InhaleBack));

    let events = store.events(completed.id).unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].input, Input::Answer { answer: Answer::No });
    assert_eq!(events[3].at_ms, 7000);

    let injuries = store.list_injuries().unwrap();
    assert_eq!(injuries.len(), 2);
    assert_eq!(injuries[0].note.as_deref(), Some("slipped on ice"));
    assert!(injuries[0].cleared_at.is_some());
    assert_eq!(
        store.last_pairing("upper-back").unwrap(),
        Some(Pairing::InhaleBack)
    );

    // Old data exports, and keeps accepting new data.
    let doc = store.export(Time(1_767_500_000_000)).unwrap();
    assert_eq!(doc.sessions.len(), 2);
    assert_eq!(doc.sessions[0].events.len(), 4);
    let injury = store
        .add_injury(
            "upper-back",
            Time(1_767_500_000_000),
            None,
            Time(1_767_500_000_000),
        )
        .unwrap();
    assert_eq!(injury.id.0, 3);
}

#[test]
fn opening_a_version_1_file_twice_migrates_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_file(dir.path());
    drop(SqliteStore::open(&path).unwrap());
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.history(None).unwrap().len(), 2);
}

/// A file at schema version 4 (before injuries had uids), built by the
/// migrations 1 to 4, with two injuries logged in the same millisecond (the
/// first cleared, notes differing), and one in another area.
fn v4_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("v4.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    for v in 1..=4 {
        conn.execute_batch(rollcoach_store_sqlite::migration_sql(v).unwrap())
            .unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 4;
         INSERT INTO injuries (id, area, at, note, created_at, cleared_at) VALUES
          (1, 'upper-back', 1767400000000, 'cleared one', 1767400000000, 1767400000001),
          (2, 'neck', 1767300000000, NULL, 1767400000000, NULL),
          (3, 'upper-back', 1767400000000, 'active one', 1767400000000, NULL);",
    )
    .unwrap();
    path
}

/// Issue 13, finding 4: migration 5 gives every stored injury the uid an old
/// export of it derives (`rollcoach_store::legacy_injury_uid`), so the twins
/// stay two, and importing an old export of the file adds nothing twice.
#[test]
fn a_version_4_file_keeps_its_injuries_each_with_its_legacy_uid() {
    use rollcoach_store::{ExportDocument, legacy_injury_uid};
    let dir = tempfile::tempdir().unwrap();
    let path = v4_file(dir.path());
    // Its export as the rollcoach of schema 4 wrote it: version 1, no uids.
    let old_export = r#"{"format":"rollcoach-export","version":1,"exported_at":1767500000000,"sessions":[],
        "injuries":[
          {"area":"neck","at":1767300000000,"note":null,"created_at":1767400000000,"cleared_at":null},
          {"area":"upper-back","at":1767400000000,"note":"cleared one","created_at":1767400000000,"cleared_at":1767400000001},
          {"area":"upper-back","at":1767400000000,"note":"active one","created_at":1767400000000,"cleared_at":1767450000000}]}"#;

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    let injuries = store.list_injuries().unwrap();
    let (logged, ub) = (Time(1_767_400_000_000), Time(1_767_400_000_000));
    // The format, literally (the page derives it too: web/local.js).
    assert_eq!(
        legacy_injury_uid("neck", Time(1_767_300_000_000), logged, 1),
        "019b813fca00-019b7b49e900-1-neck"
    );
    let found: Vec<(&str, Option<&str>, bool)> = injuries
        .iter()
        .map(|i| (i.uid.as_str(), i.note.as_deref(), i.cleared_at.is_some()))
        .collect();
    assert_eq!(
        found,
        [
            (
                legacy_injury_uid("neck", Time(1_767_300_000_000), logged, 1).as_str(),
                None,
                false
            ),
            (
                legacy_injury_uid("upper-back", ub, logged, 1).as_str(),
                Some("cleared one"),
                true
            ),
            (
                legacy_injury_uid("upper-back", ub, logged, 2).as_str(),
                Some("active one"),
                false
            ),
        ]
    );
    assert_eq!(injuries[0].uid, "019b813fca00-019b7b49e900-1-neck");

    // The old export's injuries are these: nothing is added; the clear the
    // export has (made after the file was copied, say) is applied.
    let report = store
        .import(&ExportDocument::from_json(old_export).unwrap())
        .unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (0, 2, 1)
    );
    assert_eq!(store.list_injuries().unwrap().len(), 3);
    assert_eq!(
        store.list_injuries().unwrap()[2].cleared_at,
        Some(Time(1_767_450_000_000))
    );

    // New injuries get new uids, and the uid is unique.
    let new = store.add_injury("neck", logged, None, logged).unwrap();
    assert_eq!(new.uid.split('-').count(), 2, "{}", new.uid);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let err = conn
        .execute(
            "UPDATE injuries SET uid = ?1 WHERE id = 1",
            [&injuries[0].uid],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}
