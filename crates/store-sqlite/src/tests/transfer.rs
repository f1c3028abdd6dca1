use super::*;

// ----- export and import --------------------------------------------------

fn filled_store() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .add_injury("upper-back", T0, Some("fell, \"badly\", on ice"), T0)
        .unwrap();
    let i = store.add_injury("neck", T0, None, T0.plus_ms(1)).unwrap();
    store.clear_injury(i.id, T0.plus_ms(HOUR)).unwrap();
    drive(&store, T0.plus_ms(HOUR), Plan::default()); // refused by the log
    completed(&store, T0.plus_ms(60 * HOUR), vec![7], vec![3]);
    drive(
        &store,
        T0.plus_ms(61 * HOUR),
        Plan {
            pain_at_phase: Some(4),
            ..Plan::default()
        },
    );
    let (live, _) = drive(
        &store,
        T0.plus_ms(62 * HOUR),
        Plan {
            crash_at_phase: Some(5),
            ..Plan::default()
        },
    );
    set_owner(&store, live, dead_pid(), None);
    store
}

#[test]
fn export_then_import_round_trips_without_loss() {
    let a = filled_store();
    let doc = a.export(T0.plus_ms(100 * HOUR)).unwrap();
    assert_eq!(doc.format, EXPORT_FORMAT);
    assert_eq!(doc.version, EXPORT_VERSION);
    assert_eq!(doc.sessions.len(), 4);
    assert!(
        doc.sessions
            .iter()
            .all(|s| !s.events.is_empty() || s.outcome.is_some())
    );
    let json = doc.to_json();

    let b = SqliteStore::open_in_memory().unwrap();
    let report = b
        .import(&ExportDocument::from_json(&json).unwrap())
        .unwrap();
    assert_eq!(report.imported, 4);
    assert!(report.skipped.is_empty());
    assert_eq!((report.injuries_imported, report.injuries_skipped), (2, 0));
    let again = b.export(T0.plus_ms(100 * HOUR)).unwrap();
    assert_eq!(again, doc);
    assert_eq!(again.to_json(), json, "byte-identical JSON");
}

#[test]
fn importing_the_same_sessions_twice_skips_them_by_uid() {
    let a = filled_store();
    let doc = a.export(T0).unwrap();
    let report = a.import(&doc).unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(report.skipped.len(), 4);
    assert_eq!(report.skipped[0], doc.sessions[0].uid);
    assert_eq!((report.injuries_imported, report.injuries_skipped), (0, 2));
    assert_eq!(a.history(None).unwrap().len(), 4);
    assert_eq!(a.list_injuries().unwrap().len(), 2);
}

#[test]
fn a_live_session_imported_elsewhere_is_recovered_as_interrupted() {
    let a = filled_store();
    let mut doc = a.export(T0).unwrap();
    doc.sessions.retain(|s| s.outcome.is_none());
    let b = SqliteStore::open_in_memory().unwrap();
    b.import(&doc).unwrap();
    let recovered = recover_interrupted(&b).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].outcome, SessionOutcome::Interrupted);
    assert_eq!(recovered[0].reps_done, 2);
}

#[test]
fn a_failed_import_changes_nothing() {
    let a = filled_store();
    let mut doc = a.export(T0).unwrap();
    let b = SqliteStore::open_in_memory().unwrap();
    // The second session's log has a duplicated event.
    let dup = doc.sessions[1].events[0].clone();
    doc.sessions[1].events.push(dup);
    let err = b.import(&doc).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    assert!(b.history(None).unwrap().is_empty());
    assert!(b.list_injuries().unwrap().is_empty());
}

#[test]
fn csv_has_one_row_per_session_with_rating_columns_and_quoting() {
    let a = filled_store();
    let csv = a.export(T0).unwrap().to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(
        lines[0],
        "uid,protocol_id,protocol_version,area,started_at,ended_at,outcome,reason,reps_done,\
         reps_target,active_ms,duration_ms,pairing,instrument,reasons,noises,discomfort,events,\
         upper-back-soreness_before,upper-back-soreness_after"
    );
    assert!(lines[1].contains(",refused,recent-injury,"), "{}", lines[1]);
    assert!(lines[2].contains(",completed,,"), "{}", lines[2]);
    assert!(lines[2].ends_with(",7,3"), "{}", lines[2]);
    assert!(lines[2].contains("2026-01-03T12:00:00Z"), "{}", lines[2]);
    assert!(lines[3].contains(",stopped,pain-with-pop,"), "{}", lines[3]);
    assert!(
        lines[4].contains(",,,,"),
        "live session has empty end columns: {}",
        lines[4]
    );
}

#[test]
fn a_protocol_snapshot_never_passes_through_the_sessions_table() {
    // Written there and emptied by the v2 trigger, the ~10 KB snapshot left
    // every session's page mostly empty (BENCHMARKS.md, issue 10): new and
    // imported sessions write the shared row's id directly.
    let a = filled_store();
    let doc = a.export(T0).unwrap();
    let b = SqliteStore::open_in_memory().unwrap();
    b.conn
        .execute_batch(
            "CREATE TEMP TRIGGER no_snapshot_in_sessions BEFORE INSERT ON main.sessions
             WHEN NEW.protocol_json <> ''
             BEGIN SELECT RAISE(ABORT, 'a protocol snapshot was written into sessions'); END;",
        )
        .unwrap();
    assert_eq!(b.import(&doc).unwrap().imported, 4);
    let snapshots: i64 = b
        .conn
        .query_row("SELECT count(*) FROM protocol_snapshots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snapshots, 1, "the imported sessions share one snapshot row");
    let id = b
        .begin_session(&NewSession {
            protocol: &protocol(),
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: T0,
        })
        .unwrap();
    assert_eq!(b.protocol_snapshot(id).unwrap(), protocol());
}
