//! Files written by older rollcoach versions open in this one, data intact.
//!
//! `fixtures/v1.sql` is a frozen database at schema version 1. When a
//! migration 2 is added, this test checks that a v1 file migrates to it
//! (and `every_older_schema_version_migrates_to_the_newest` in the unit
//! tests checks every intermediate version).

use rollcoach_engine::{Input, Time};
use rollcoach_protocol::{Answer, Pairing};
use rollcoach_store::{NewInjury, PersonId, Records, SessionOutcome, export, import};
use rollcoach_store_sqlite::{SCHEMA_VERSION, SqliteRecords, SqliteStore};

/// The file's store, checked at the newest schema version, as records.
fn open(path: &std::path::Path) -> SqliteRecords {
    let store = SqliteStore::open(path).unwrap();
    assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
    SqliteRecords::new(store)
}

fn owner() -> PersonId {
    PersonId::owner()
}

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
    let store = open(&path);

    let history = store.history_page(&owner(), 10, None).unwrap();
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

    let events = store.events(&owner(), &completed.uid).unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].input, Input::Answer { answer: Answer::No });
    assert_eq!(events[3].at_ms, 7000);

    let injuries = store.list_injuries(&owner()).unwrap();
    assert_eq!(injuries.len(), 2);
    assert_eq!(injuries[0].note.as_deref(), Some("slipped on ice"));
    assert!(injuries[0].cleared_at.is_some());
    assert_eq!(
        store
            .facts_for(&owner(), &rollcoach_testkit::protocol("upper-back"))
            .unwrap()
            .last_pairing,
        Some(Pairing::InhaleBack)
    );

    // Old data exports, and keeps accepting new data.
    let doc = export(&store, &owner(), Time(1_767_500_000_000)).unwrap();
    assert_eq!(doc.sessions.len(), 2);
    assert_eq!(doc.sessions[0].events.len(), 4);
    let injury = store
        .add_injury(
            &owner(),
            &NewInjury {
                area: "upper-back".into(),
                at: Time(1_767_500_000_000),
                note: None,
                created_at: Time(1_767_500_000_000),
            },
        )
        .unwrap();
    // The third in the owner's log (what was its row id is its number).
    assert_eq!(injury.number, 3);
}

#[test]
fn opening_a_version_1_file_twice_migrates_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = v1_file(dir.path());
    drop(SqliteStore::open(&path).unwrap());
    let store = open(&path);
    assert_eq!(store.history_page(&owner(), 10, None).unwrap().len(), 2);
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

    let store = open(&path);
    let injuries = store.list_injuries(&owner()).unwrap();
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
    let report = import(
        &store,
        &owner(),
        &ExportDocument::from_json(old_export).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            report.injuries_imported,
            report.injuries_skipped,
            report.injuries_cleared
        ),
        (0, 2, 1)
    );
    assert_eq!(store.list_injuries(&owner()).unwrap().len(), 3);
    assert_eq!(
        store.list_injuries(&owner()).unwrap()[2].cleared_at,
        Some(Time(1_767_450_000_000))
    );

    // New injuries get new uids, and the uid is unique.
    let new = store
        .add_injury(
            &owner(),
            &NewInjury {
                area: "neck".into(),
                at: logged,
                note: None,
                created_at: logged,
            },
        )
        .unwrap();
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

/// A file at schema version 7 (people, before uids were per person): the
/// v1 fixture brought up by the migrations 2 to 7, with a second person's
/// session (events and ratings), injury, device and pairing link added.
fn v7_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = v1_file(dir);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    for v in 2..=7 {
        conn.execute_batch(rollcoach_store_sqlite::migration_sql(v).unwrap())
            .unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 7;
         INSERT INTO sessions (id, uid, protocol_id, protocol_version, protocol_json, snapshot_id,
             area, options_json, facts_json, started_at, ended_at, outcome, reason, outcome_json,
             message, reps_done, reps_target, active_ms, pairing, summary_json, person)
         SELECT 7, '019b84563000-00000000000000c7', protocol_id, protocol_version, '', snapshot_id,
             area, options_json, facts_json, started_at + 86400000, ended_at + 86400000, outcome,
             reason, outcome_json, message, reps_done, reps_target, active_ms, pairing,
             summary_json, 'client-7'
           FROM sessions WHERE id = 1;
         INSERT INTO events (session_id, seq, at_ms, input_json)
             SELECT 7, seq, at_ms, input_json FROM events WHERE session_id = 1;
         INSERT INTO ratings (session_id, rating_id, moment, value) VALUES
             (7, 'upper-back-soreness', 'before', 6), (7, 'upper-back-soreness', 'after', 2);
         INSERT INTO injuries (id, uid, area, at, note, created_at, person, number) VALUES
             (9, '019b86000000-c7', 'neck', 1767500000000, 'the client''s', 1767500000000, 'client-7', 1);
         INSERT INTO devices (id, name, via, secret_hash, created_at, person) VALUES
             ('dev-c7', 'phone', 'invite', 'hash-c7', 1767500000000, 'client-7');
         INSERT INTO pairing_tokens (token_hash, created_by, created_at, expires_at, person) VALUES
             ('token-c7', 'dev-c7', 1767500000000, 1767500600000, 'client-7');",
    )
    .unwrap();
    path
}

/// Every row of the tables that hold records, column by column, in a
/// fixed order: what a migration must keep.
fn rows(path: &std::path::Path) -> Vec<(String, Vec<Vec<rusqlite::types::Value>>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    [
        ("sessions", "id"),
        ("events", "session_id, seq"),
        ("ratings", "session_id, rating_id, moment"),
        ("injuries", "id"),
        ("protocol_snapshots", "id"),
        ("changes", "seq"),
        ("devices", "id"),
        ("pairing_tokens", "token_hash"),
    ]
    .into_iter()
    .map(|(table, order)| {
        // The columns schema 7 has (schema 8 adds the changes' numbers).
        let columns = if table == "changes" {
            "seq, person, kind, uid"
        } else {
            "*"
        };
        let mut stmt = conn
            .prepare(&format!("SELECT {columns} FROM {table} ORDER BY {order}"))
            .unwrap();
        let n = stmt.column_count();
        let mut names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut found: Vec<Vec<rusqlite::types::Value>> = stmt
            .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // The column names as the first row: the same columns, in order.
        found.insert(
            0,
            names.drain(..).map(rusqlite::types::Value::Text).collect(),
        );
        (table.to_owned(), found)
    })
    .collect()
}

/// Issue 20: migration 8 makes uids unique per person (a table rebuild of
/// `sessions`): every row, id, column, foreign key, index and trigger of a
/// version 7 file is kept, and two people can then hold the same uid.
#[test]
fn a_version_7_file_keeps_every_row_and_then_lets_two_people_share_a_uid() {
    let dir = tempfile::tempdir().unwrap();
    let path = v7_file(dir.path());
    let before = rows(&path);
    assert_eq!(before[0].1.len(), 1 + 3, "three sessions");
    assert_eq!(before[1].1.len(), 1 + 10, "ten events");

    let store = open(&path);
    // Migration 10 writes each snapshot's text in the sorted form (the same
    // value); every other row stays as it was.
    let mut before = before;
    for (table, found) in &mut before {
        if table == "protocol_snapshots" {
            for row in found.iter_mut().skip(1) {
                if let rusqlite::types::Value::Text(text) = &mut row[1] {
                    let value: serde_json::Value = serde_json::from_str(text).unwrap();
                    *text = value.to_string();
                }
            }
        }
    }
    assert_eq!(rows(&path), before, "the migration keeps every row");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let names = |kind: &str, table: &str| -> Vec<String> {
        conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = ?1 AND tbl_name = ?2
              AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([kind, table], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert_eq!(
        names("index", "sessions"),
        [
            "sessions_by_start_outcome",
            "sessions_history",
            "sessions_live",
            "sessions_uid",
            "sessions_with_pairing"
        ]
    );
    assert_eq!(
        names("trigger", "sessions"),
        [
            "sessions_change_ended",
            "sessions_change_removed",
            "sessions_change_stored",
            "sessions_share_snapshot"
        ]
    );
    let fk_broken: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_broken, 0);
    // The changes here keep their sequence as their number (the cursors
    // devices hold stay good); every person's counter starts past them.
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM changes WHERE number <> seq"), 0);
    assert_eq!(
        count(
            "SELECT count(*) FROM change_counters WHERE last = 6 AND person IN ('owner', 'client-7')"
        ),
        2
    );

    let client = PersonId::parse("client-7").unwrap();
    let theirs = store.history_page(&client, 10, None).unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].uid, "019b84563000-00000000000000c7");
    assert_eq!(theirs[0].ratings[0].before, Some(6));
    assert_eq!(store.events(&client, &theirs[0].uid).unwrap().len(), 4);
    assert_eq!(store.list_injuries(&client).unwrap()[0].number, 1);
    assert_eq!(store.devices(&client).unwrap()[0].id, "dev-c7");
    assert_eq!(store.history_page(&owner(), 10, None).unwrap().len(), 2);

    // The owner's sessions and injuries, under their uids, are the
    // client's too: each person has their own under the same uids.
    let doc = export(&store, &owner(), Time(1_767_600_000_000)).unwrap();
    let batch = store.import_sessions(&client, &doc.sessions).unwrap();
    assert_eq!(batch.added.len(), 2, "{batch:?}");
    let injuries = store.import_injuries(&client, &doc.injuries).unwrap();
    assert_eq!(injuries.added.len(), 2, "{injuries:?}");
    assert_eq!(store.history_page(&client, 10, None).unwrap().len(), 3);
    assert_eq!(store.list_injuries(&client).unwrap().len(), 3);
    assert_eq!(store.history_page(&owner(), 10, None).unwrap().len(), 2);
    assert_eq!(store.list_injuries(&owner()).unwrap().len(), 2);
    // The triggers of the rebuilt table: the snapshot is shared, each
    // stored session is a change of its person's, numbered after the
    // person's last.
    assert_eq!(
        count("SELECT count(*) FROM sessions WHERE protocol_json <> ''"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM changes WHERE person = 'client-7' AND kind = 'session'"),
        3
    );
    assert_eq!(
        count("SELECT max(number) FROM changes WHERE person = 'client-7'"),
        6 + 2 + 2
    );
    assert_eq!(
        count("SELECT max(number) FROM changes WHERE person = 'owner'"),
        4
    );
    // Removing the client's copies cascades to their events and ratings
    // only (foreign keys are on again), and leaves the owner's.
    let uid = &doc.sessions[0].uid;
    store
        .remove_imported(&client, std::slice::from_ref(uid), &[])
        .unwrap();
    assert_eq!(store.events(&owner(), uid).unwrap().len(), 4);
    assert_eq!(count("SELECT count(*) FROM events"), 10 + 6 - 4);
    assert_eq!(count("SELECT count(*) FROM ratings"), 4 + 2 - 2);
    // Still unique per person.
    let err = conn
        .execute(
            "UPDATE sessions SET uid = ?1 WHERE id = 2 AND person = 'owner'",
            [uid],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}
