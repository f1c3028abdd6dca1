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
