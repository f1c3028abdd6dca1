use super::*;

// ----- crash recovery -----------------------------------------------------

#[test]
fn recover_interrupted_marks_sessions_of_dead_processes_with_reps_from_the_log() {
    let store = SqliteStore::open_in_memory().unwrap();
    // The driver died as the 6th phase (rep 3, back) started: reps 1 and 2 are done.
    let (dead, _) = drive(&store, T0, kit::crash_at_phase(6));
    set_owner(&store, dead, dead_pid(), None);
    let (live, _) = drive(&store, T0.plus_ms(HOUR), kit::crash_at_phase(3));
    // `live` is owned by this (running) test process.
    let recovered = recover_interrupted(&store).unwrap();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0].uid, store.session(dead).unwrap().uid);
    assert_eq!(recovered[0].outcome, SessionOutcome::Interrupted);
    assert_eq!(recovered[0].reps_done, 2);
    let r = store.session(dead).unwrap();
    assert_eq!(r.outcome, Some(SessionOutcome::Interrupted));
    assert_eq!(r.reps_done, Some(2));
    let last = store.events(dead).unwrap().last().unwrap().at_ms;
    assert_eq!(r.ended_at, Some(T0.plus_ms(last)));
    assert_eq!(
        store.session(live).unwrap().outcome,
        None,
        "live owner: left alone"
    );
    assert!(
        recover_interrupted(&store).unwrap().is_empty(),
        "idempotent"
    );
}

#[test]
fn a_reused_pid_does_not_keep_a_dead_session_alive() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (id, _) = drive(&store, T0, kit::crash_at_phase(1));
    // Our own pid, but a start time that is not ours: another, earlier process.
    set_owner(&store, id, std::process::id(), Some("1".into()));
    let recovered = recover_interrupted(&store).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].reps_done, 0);
}

#[test]
fn a_session_whose_log_reached_the_end_is_recovered_with_its_real_outcome() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (id, _) = drive(&store, T0, kit::crash_at_phase(3));
    // The driver recorded a pain report, then died before recording the end.
    let n = u32::try_from(store.events(id).unwrap().len()).unwrap();
    store
        .append_event(
            id,
            n,
            60_000,
            &Input::Pain {
                kind: PainKind::Spine,
            },
        )
        .unwrap();
    set_owner(&store, id, dead_pid(), None);
    let recovered = recover_interrupted(&store).unwrap();
    assert_eq!(
        recovered[0].outcome,
        SessionOutcome::Stopped {
            reason: StopReason::PainOverSpine
        }
    );
    let r = store.session(id).unwrap();
    assert_eq!(r.reason.as_deref(), Some("pain-over-spine"));
    assert!(r.message.is_some());
}

#[test]
fn events_survive_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let id = {
        let store = SqliteStore::open(&path).unwrap();
        let (id, _) = drive(&store, T0, kit::crash_at_phase(4));
        id
    };
    let store = SqliteStore::open(&path).unwrap();
    let events = store.events(id).unwrap();
    assert!(events.len() > 5);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].seq + 1 == w[1].seq && w[0].at_ms <= w[1].at_ms)
    );
}

#[test]
fn session_ids_are_row_ids_and_uids_are_unique() {
    let store = SqliteStore::open_in_memory().unwrap();
    let a = completed(&store, T0, &[], &[]);
    let b = completed(&store, T0, &[], &[]);
    // The log's handle is SQLite's row id; it never leaves the log.
    assert_eq!((a.to_string(), b.to_string()), ("1".into(), "2".into()));
    let (ua, ub) = (store.session(a).unwrap().uid, store.session(b).unwrap().uid);
    assert_ne!(ua, ub);
    assert!(ua.starts_with(&format!("{:012x}-", T0.0)), "{ua}");
}

#[test]
fn a_log_that_cannot_be_replayed_is_recorded_as_interrupted_without_blocking() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (bad, _) = drive(&store, T0, kit::crash_at_phase(3));
    let (good, _) = drive(&store, T0.plus_ms(HOUR), kit::crash_at_phase(3));
    // Options that the engine refuses (reps out of range), as a damaged file could hold.
    store
        .conn
        .execute(
            "UPDATE sessions SET options_json = '{\"instrument\":null,\"reps\":99,\"tempo_seconds\":null,\"reasons\":[],\"pairing\":null}' WHERE id = ?1",
            [bad.0],
        )
        .unwrap();
    set_owner(&store, bad, dead_pid(), None);
    set_owner(&store, good, dead_pid(), None);
    let recovered = recover_interrupted(&store).unwrap();
    assert_eq!(recovered.len(), 2);
    let problem = recovered[0].problem.as_deref().unwrap();
    assert!(problem.contains("reps"), "{problem}");
    assert_eq!(recovered[1].problem, None);
    assert_eq!(recovered[1].reps_done, 1);
    let r = store.session(bad).unwrap();
    assert_eq!(r.outcome, Some(SessionOutcome::Interrupted));
    assert_eq!(r.reps_done, None);
    assert!(r.message.unwrap().contains("could not replay"));
    assert!(r.ended_at.unwrap() > r.started_at);
}

/// A record whose stored JSON no longer parses cannot even be read for the
/// replay: it is ended from its plain columns, at its last event.
#[test]
fn a_session_whose_record_does_not_parse_is_still_recorded_as_interrupted() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (bad, _) = drive(&store, T0, kit::crash_at_phase(3));
    let last = store.events(bad).unwrap().last().unwrap().at_ms;
    store
        .conn
        .execute(
            "UPDATE sessions SET facts_json = 'not json' WHERE id = ?1",
            [bad.0],
        )
        .unwrap();
    set_owner(&store, bad, dead_pid(), None);
    let recovered = recover_interrupted(&store).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].outcome, SessionOutcome::Interrupted);
    assert_eq!(recovered[0].protocol_id, "upper-back");
    let problem = recovered[0].problem.as_deref().unwrap();
    assert!(
        problem.contains("facts") && problem.contains("does not parse"),
        "{problem}"
    );
    let (outcome, ended_at, message): (String, i64, String) = store
        .conn
        .query_row(
            "SELECT outcome, ended_at, message FROM sessions WHERE id = ?1",
            [bad.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(outcome, "interrupted");
    assert_eq!(ended_at, i64::try_from(T0.plus_ms(last).0).unwrap());
    assert!(message.contains("could not replay"), "{message}");
    assert!(
        recover_interrupted(&store).unwrap().is_empty(),
        "idempotent"
    );
}

/// A session begun by this process names it as its driver (its pid and
/// start time), which is how recovery tells it is alive; an ended one, or
/// one nobody drives (imported), has none.
#[test]
fn a_session_begun_here_is_driven_by_this_process_until_it_ends() {
    let records = SqliteRecords::open_in_memory().unwrap();
    let live = kit::drive(&records, T0, kit::crash_at_phase(3));
    assert_eq!(
        records.driver_pid(&live.uid).unwrap(),
        Some(std::process::id())
    );
    let done = kit::drive_completed(&records, T0.plus_ms(HOUR), &[], &[]);
    assert_eq!(records.driver_pid(&done.uid).unwrap(), None);
    let doc = export(&records, &owner(), T0).unwrap();
    let other = SqliteRecords::open_in_memory().unwrap();
    import(&other, &owner(), &doc).unwrap();
    assert_eq!(other.driver_pid(&live.uid).unwrap(), None, "imported");
    assert_eq!(records.driver_pid("no-such-session").unwrap(), None);
    // Another person's live copy under the same uid (schema 8) is not the
    // owner's: the owner's is still the one driven here.
    let client = PersonId::parse("client-7").unwrap();
    import(&records, &client, &doc).unwrap();
    assert_eq!(
        records.driver_pid(&live.uid).unwrap(),
        Some(std::process::id())
    );
}
