use super::*;

// ----- opening and migrations ---------------------------------------------

#[test]
fn a_new_store_is_at_the_newest_schema_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/rollcoach.db");
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.exists(), "parent directories are created");
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = store
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [path.clone(), path.with_extension("db-wal")] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "health data: owner only: {file:?}");
        }
    }
    drop(store);
    // Opening again is a no-op.
    assert_eq!(
        SqliteStore::open(&path).unwrap().user_version().unwrap(),
        SCHEMA_VERSION
    );
}

#[test]
fn a_file_from_a_newer_rollcoach_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future_thing (x); PRAGMA user_version = 999;")
            .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::TooNew {
                found: 999,
                known: SCHEMA_VERSION,
                ..
            })
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("newer rollcoach") && msg.contains("not modified"),
        "{msg}"
    );
    assert!(msg.contains("future.db"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "file unchanged");
    assert!(!dir.path().join("future.db-wal").exists());
}

#[test]
fn a_file_that_is_not_sqlite_gets_a_clear_error_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let text = "These are my notes, not a database.\n".repeat(20);
    std::fs::write(&path, &text).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(Corrupt::NotADatabase { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert!(err.to_string().contains("not an SQLite file"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn an_sqlite_file_of_another_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT)")
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(Corrupt::NotRollcoach { .. })),
        "{err:?}"
    );
}

#[test]
fn a_directory_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::Backend(Backend::IsADirectory { .. })),
        "{err:?}"
    );
}

#[test]
fn every_older_schema_version_migrates_to_the_newest() {
    // A file at each version k (built by migrations 1..=k), with data
    // inserted through the v1 tables, opens and keeps its data.
    for k in 1..=SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("v{k}.db"));
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for v in 1..=k {
                conn.execute_batch(migration_sql(v).unwrap()).unwrap();
            }
            conn.pragma_update(None, "user_version", k).unwrap();
            conn.execute(
                "INSERT INTO injuries (area, at, note, created_at) VALUES ('upper-back', 5, 'old', 6)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
        let injuries = store.list_injuries(&owner()).unwrap();
        assert_eq!(injuries.len(), 1, "data kept migrating from v{k}");
        assert_eq!(injuries[0].note.as_deref(), Some("old"));
    }
    assert!(migration_sql(0).is_none());
    assert!(migration_sql(SCHEMA_VERSION + 1).is_none());
}

#[test]
fn a_v1_file_s_protocol_snapshots_move_to_one_shared_row_and_still_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let p = protocol("upper-back");
    let json = serde_json::to_string(&p).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(migration_sql(1).unwrap()).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for (uid, at) in [("a", 1_000), ("b", 2_000)] {
            conn.execute(
                "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, area,
                     options_json, facts_json, started_at, reps_target, outcome, reason, reps_done)
                 VALUES (?1, ?2, 1, ?3, 'upper-back', ?5, ?6, ?4, 6, NULL, NULL, NULL)",
                rusqlite::params![
                    uid,
                    p.id,
                    json,
                    at,
                    serde_json::to_string(&Options::default()).unwrap(),
                    serde_json::to_string(&Facts::default()).unwrap(),
                ],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM protocol_snapshots"), 1);
    assert_eq!(
        count("SELECT count(*) FROM sessions WHERE protocol_json <> ''"),
        0
    );
    let history = store.history_page(&owner(), 10, None).unwrap();
    assert_eq!(history.len(), 2);
    for record in &history {
        let id = store.session_id_of(&owner(), &record.uid).unwrap();
        assert_eq!(store.protocol_snapshot(id).unwrap(), p);
    }

    // New sessions share the row too.
    let id = store
        .begin_session(&NewSession {
            protocol: &p,
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: Time(3_000),
        })
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM protocol_snapshots"), 1);
    assert_eq!(store.protocol_snapshot(id).unwrap(), p);
}
