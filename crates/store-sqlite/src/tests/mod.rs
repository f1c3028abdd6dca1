//! Store unit tests: real SQLite (in memory or in a temp dir), real engine.

use rollcoach_engine::{
    Facts, Input, Options, Outcome, Output, PainKind, Prompt, RefusalReason, Session, StopReason,
    Time,
};
use rollcoach_protocol::{Answer, Protocol};

use crate::*;

const T0: Time = Time(1_767_225_600_000); // 2026-01-01T00:00:00Z
const HOUR: u64 = 3_600_000;

fn protocol() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .expect("built-in upper-back")
}

/// How a test session is driven.
#[derive(Default)]
struct Plan {
    reasons: Vec<String>,
    /// Ratings answered before, then after, in prompt order.
    before: Vec<u8>,
    after: Vec<u8>,
    /// Answer "yes" to the first screening question (refuses).
    refuse: bool,
    /// Report pain with a pop at the start of this phase (1-based count of phases).
    pain_at_phase: Option<u32>,
    /// Stop recording (the driver "dies") when this phase starts.
    crash_at_phase: Option<u32>,
}

/// Drives a session on a virtual clock, recording every input before it is
/// applied, as a real driver does. Returns its id and outcome (None: crashed).
fn drive(store: &Store, start: Time, plan: Plan) -> (SessionId, Option<Outcome>) {
    let protocol = protocol();
    let options = Options {
        reasons: plan.reasons.clone(),
        ..Options::default()
    };
    let facts = store.facts_for(&protocol).unwrap();
    let id = store
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &options,
            facts: &facts,
            started_at: start,
        })
        .unwrap();
    let mut session = Session::new(&protocol, options, facts, start).unwrap();
    let mut now = start;
    let mut seq = 0;
    let mut phases = 0;
    let (mut before, mut after) = (plan.before.into_iter(), plan.after.into_iter());
    loop {
        let mut reply = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    let answer = if plan.refuse { Answer::Yes } else { Answer::No };
                    reply = Some(Input::Answer { answer });
                }
                Output::Prompt(Prompt::Rating { when, .. }) => {
                    let value = match when {
                        rollcoach_engine::When::Before => before.next(),
                        rollcoach_engine::When::After => after.next(),
                    };
                    reply = Some(Input::Rating { value });
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { .. } => {
                    phases += 1;
                    if plan.crash_at_phase == Some(phases) {
                        return (id, None);
                    }
                    if plan.pain_at_phase == Some(phases) {
                        reply = Some(Input::Pain {
                            kind: PainKind::Pop,
                        });
                    }
                }
                Output::End {
                    outcome,
                    message,
                    summary,
                } => {
                    store
                        .finish_session(id, now, &outcome, &message, &summary)
                        .unwrap();
                    return (id, Some(outcome));
                }
                _ => {}
            }
        }
        let input = match reply {
            Some(input) => {
                now = now.plus_ms(1000); // the person takes a second to answer
                input
            }
            None => {
                now = session.next_deadline().expect("a live session waits");
                Input::Timeout
            }
        };
        store
            .append_event(id, seq, now.since(start), &input)
            .unwrap();
        seq += 1;
        session.handle(input, now).unwrap();
    }
}

fn completed(store: &Store, start: Time, before: Vec<u8>, after: Vec<u8>) -> SessionId {
    let (id, outcome) = drive(
        store,
        start,
        Plan {
            reasons: vec!["soreness".into()],
            before,
            after,
            ..Plan::default()
        },
    );
    assert_eq!(outcome, Some(Outcome::Completed));
    id
}

fn set_owner(store: &Store, id: SessionId, pid: u32, started: Option<String>) {
    store
        .conn
        .execute(
            "UPDATE sessions SET owner_pid = ?2, owner_started = ?3 WHERE id = ?1",
            rusqlite::params![id.0, pid, started],
        )
        .unwrap();
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

// ----- opening and migrations ---------------------------------------------

#[test]
fn a_new_store_is_at_the_newest_schema_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/rollcoach.db");
    let store = Store::open(&path).unwrap();
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
        Store::open(&path).unwrap().user_version().unwrap(),
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
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 999,
                known: SCHEMA_VERSION,
                ..
            }
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
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
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
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotRollcoach { .. }), "{err:?}");
}

#[test]
fn a_directory_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::IsADirectory { .. }), "{err:?}");
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
        let store = Store::open(&path).unwrap();
        assert_eq!(store.user_version().unwrap(), SCHEMA_VERSION);
        let injuries = store.list_injuries().unwrap();
        assert_eq!(injuries.len(), 1, "data kept migrating from v{k}");
        assert_eq!(injuries[0].note.as_deref(), Some("old"));
    }
    assert!(migration_sql(0).is_none());
    assert!(migration_sql(SCHEMA_VERSION + 1).is_none());
}

// ----- sessions and the event log -----------------------------------------

#[test]
fn events_are_kept_in_order_and_are_append_only() {
    let store = Store::open_in_memory().unwrap();
    let p = protocol();
    let id = store
        .begin_session(&NewSession {
            protocol: &p,
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: T0,
        })
        .unwrap();
    let inputs = [
        Input::Answer { answer: Answer::No },
        Input::Ready,
        Input::Timeout,
        Input::Discomfort { level: 4 },
        Input::Noise,
        Input::Stop,
    ];
    for (i, input) in inputs.iter().enumerate() {
        let seq = u32::try_from(i).unwrap();
        store
            .append_event(id, seq, u64::from(seq) * 250, input)
            .unwrap();
    }
    let events = store.events(id).unwrap();
    let got: Vec<(u32, u64, Input)> = events.iter().map(|e| (e.seq, e.at_ms, e.input)).collect();
    let want: Vec<(u32, u64, Input)> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (i as u32, i as u64 * 250, *input))
        .collect();
    assert_eq!(got, want);

    let err = store.append_event(id, 2, 9999, &Input::Noise).unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateEvent { seq: 2, .. }),
        "{err:?}"
    );
    assert_eq!(
        store.events(id).unwrap().len(),
        inputs.len(),
        "nothing added"
    );

    let err = store
        .append_event(SessionId(4242), 0, 0, &Input::Noise)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchSession(SessionId(4242))),
        "{err:?}"
    );

    let record = store.session(id).unwrap();
    assert_eq!(record.outcome, None);
    assert_eq!(record.owner_pid, Some(std::process::id()));
    assert_eq!(store.unfinished().unwrap().len(), 1);
}

#[test]
fn a_finished_session_accepts_no_more_events_and_cannot_finish_twice() {
    let store = Store::open_in_memory().unwrap();
    let id = completed(&store, T0, vec![6], vec![3]);
    let err = store
        .append_event(id, 10_000, 0, &Input::Noise)
        .unwrap_err();
    assert!(matches!(err, StoreError::SessionEnded { .. }), "{err:?}");
    assert!(err.to_string().contains("completed"), "{err}");
    let rec = store.session(id).unwrap();
    let err = store
        .finish_session(
            id,
            T0,
            &Outcome::Completed,
            "again",
            rec.summary.as_ref().unwrap(),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::SessionEnded { .. }), "{err:?}");
    assert!(store.unfinished().unwrap().is_empty());
}

#[test]
fn a_completed_session_is_recorded_with_ratings_reps_and_pairing() {
    let store = Store::open_in_memory().unwrap();
    let id = completed(&store, T0, vec![7], vec![4]);
    let r = store.session(id).unwrap();
    assert_eq!(r.protocol_id, "upper-back");
    assert_eq!(r.outcome, Some(SessionOutcome::Completed));
    assert_eq!(r.reason, None);
    assert_eq!(r.reps_done, Some(r.reps_target));
    assert!(r.active_ms.unwrap() > 0);
    assert!(r.ended_at.unwrap() > r.started_at);
    assert_eq!(r.pairing, Some(protocol().movement.breathing.start));
    assert_eq!(
        r.ratings,
        vec![rollcoach_engine::RatingResult {
            id: "upper-back-soreness".into(),
            before: Some(7),
            after: Some(4),
        }]
    );
    // The log replays to the same end.
    let events = store.events(id).unwrap();
    let replayed = replay::replay(&store.protocol_snapshot(id).unwrap(), &r, &events).unwrap();
    assert_eq!(replayed.outcome, SessionOutcome::Completed);
    assert_eq!(Some(&replayed.summary), r.summary.as_ref());
}

#[test]
fn stops_and_refusals_are_recorded_with_their_reason() {
    let store = Store::open_in_memory().unwrap();
    let (stopped, _) = drive(
        &store,
        T0,
        Plan {
            pain_at_phase: Some(3),
            ..Plan::default()
        },
    );
    let (refused, _) = drive(
        &store,
        T0.plus_ms(HOUR),
        Plan {
            refuse: true,
            ..Plan::default()
        },
    );
    let s = store.session(stopped).unwrap();
    assert_eq!(
        s.outcome,
        Some(SessionOutcome::Stopped {
            reason: StopReason::PainWithPop
        })
    );
    assert_eq!(s.reason.as_deref(), Some("pain-with-pop"));
    assert_eq!(s.reps_done, Some(1));
    assert!(s.message.as_deref().is_some_and(|m| !m.is_empty()));
    let r = store.session(refused).unwrap();
    assert_eq!(
        r.outcome.as_ref().map(SessionOutcome::kind),
        Some("refused")
    );
    assert_eq!(r.reason.as_deref(), Some("answer:recent-injury"));
    assert_eq!(r.reps_done, Some(0));
    assert_eq!(r.pairing, None, "a refused session never started rolling");
}

// ----- injuries and facts -------------------------------------------------

#[test]
fn injuries_are_added_listed_and_cleared() {
    let store = Store::open_in_memory().unwrap();
    let a = store
        .add_injury(
            "upper-back",
            T0,
            Some("tweaked it lifting"),
            T0.plus_ms(HOUR),
        )
        .unwrap();
    let b = store
        .add_injury("neck", T0.plus_ms(2 * HOUR), None, T0.plus_ms(2 * HOUR))
        .unwrap();
    assert_eq!(a.note.as_deref(), Some("tweaked it lifting"));
    assert_eq!(a.cleared_at, None);
    assert_eq!(store.list_injuries().unwrap(), vec![a.clone(), b.clone()]);

    let cleared = store.clear_injury(a.id, T0.plus_ms(3 * HOUR)).unwrap();
    assert_eq!(cleared.cleared_at, Some(T0.plus_ms(3 * HOUR)));
    let err = store.clear_injury(a.id, T0.plus_ms(4 * HOUR)).unwrap_err();
    assert!(
        matches!(err, StoreError::InjuryAlreadyCleared { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("2026-01-01T03:00:00Z"), "{err}");
    let err = store.clear_injury(InjuryId(99), T0).unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchInjury(InjuryId(99))),
        "{err:?}"
    );
    assert!(err.to_string().contains("injury list"), "{err}");
    assert_eq!(
        store.list_injuries().unwrap().len(),
        2,
        "cleared injuries stay listed"
    );
}

#[test]
fn facts_hold_the_uncleared_injuries_of_the_area_and_the_last_pairing() {
    let store = Store::open_in_memory().unwrap();
    let p = protocol();
    assert_eq!(store.facts_for(&p).unwrap(), Facts::default());

    let old = store.add_injury(&p.area, T0, Some("old"), T0).unwrap();
    store
        .add_injury(&p.area, T0.plus_ms(HOUR), Some("recent"), T0)
        .unwrap();
    store.add_injury("knee", T0, None, T0).unwrap();
    store.clear_injury(old.id, T0.plus_ms(HOUR)).unwrap();
    let facts = store.facts_for(&p).unwrap();
    assert_eq!(
        facts.injuries,
        vec![rollcoach_engine::InjuryFact {
            at: T0.plus_ms(HOUR),
            note: Some("recent".into()),
        }]
    );
    assert_eq!(facts.last_pairing, None);

    // The engine refuses while the logged injury is within 48 h...
    let (_, outcome) = drive(&store, T0.plus_ms(2 * HOUR), Plan::default());
    assert!(
        matches!(
            outcome,
            Some(Outcome::Refused {
                reason: RefusalReason::RecentInjury { .. }
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(
        store.last_pairing(&p.id).unwrap(),
        None,
        "refusals never rolled"
    );
    // ...and allows it after; the next session alternates the pairing.
    let first = completed(&store, T0.plus_ms(50 * HOUR), vec![], vec![]);
    let first_pairing = store.session(first).unwrap().pairing.unwrap();
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(first_pairing));
    assert_eq!(
        store.facts_for(&p).unwrap().last_pairing,
        Some(first_pairing)
    );
    let second = completed(&store, T0.plus_ms(51 * HOUR), vec![], vec![]);
    let second_pairing = store.session(second).unwrap().pairing.unwrap();
    assert_eq!(second_pairing, first_pairing.switched());
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(second_pairing));
    assert_eq!(store.last_pairing("another-protocol").unwrap(), None);
}

/// SQLite's plan for `sql`, one line per step.
fn query_plan(store: &Store, sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(params, |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn history_points_read_an_index_and_no_session_row() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(
        query_plan(&store, HISTORY_POINTS_SQL, []),
        vec!["SCAN sessions USING COVERING INDEX sessions_by_start_outcome"]
    );
}

#[test]
fn the_last_pairing_reads_only_sessions_that_have_one() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(
        query_plan(&store, LAST_PAIRING_SQL, ["upper-back"]),
        vec!["SEARCH sessions USING INDEX sessions_with_pairing (protocol_id=?)"],
        "a live session (no pairing yet) must not be read on the way to the last pairing"
    );
    // Many live sessions newer than the last finished one do not hide it.
    let p = protocol();
    let done = completed(&store, T0, vec![], vec![]);
    let pairing = store.session(done).unwrap().pairing.unwrap();
    let facts = store.facts_for(&p).unwrap();
    for k in 1..=50 {
        store
            .begin_session(&NewSession {
                protocol: &p,
                options: &Options::default(),
                facts: &facts,
                started_at: T0.plus_ms(k * HOUR),
            })
            .unwrap();
    }
    assert_eq!(store.last_pairing(&p.id).unwrap(), Some(pairing));
}

#[test]
fn a_driver_can_interrupt_its_own_live_session() {
    let store = Store::open_in_memory().unwrap();
    let (id, outcome) = drive(
        &store,
        T0,
        Plan {
            crash_at_phase: Some(5),
            ..Plan::default()
        },
    );
    assert_eq!(outcome, None, "still live");
    assert!(
        store.recover_interrupted().unwrap().is_empty(),
        "its driver (this process) is alive"
    );
    let done = store.interrupt(id).unwrap().expect("it was live");
    assert_eq!(done.outcome, SessionOutcome::Interrupted);
    assert_eq!(
        store.session(id).unwrap().outcome,
        Some(SessionOutcome::Interrupted)
    );
    assert_eq!(store.interrupt(id).unwrap(), None, "already ended");
}

/// A writer without automatic checkpoints and a second connection to
/// checkpoint it, as a server has.
fn writer_and_checkpointer(path: &std::path::Path) -> (Store, Store) {
    let writer = Store::open(path).unwrap();
    writer.disable_auto_checkpoint().unwrap();
    (writer, Store::open(path).unwrap())
}

/// Begins a session of the built-in protocol with default options and no
/// facts, and records nothing else.
fn begin_bare(store: &Store, start: Time) -> SessionId {
    store
        .begin_session(&NewSession {
            protocol: &protocol(),
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: start,
        })
        .unwrap()
}

/// A server's writer and checkpointer: the WAL keeps growing while every
/// passive checkpoint runs during a write transaction, and restarts once the
/// writer itself checkpoints between two of them (what the server's store
/// thread does when its checkpointer asks).
#[test]
fn the_wal_restarts_once_the_writer_finishes_a_checkpoint_between_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let (mut writer, checkpointer) = writer_and_checkpointer(&dir.path().join("wal.db"));
    let id = begin_bare(&writer, T0);
    let mut seq = 0u32;
    // One batch of 50 inputs, with a passive checkpoint by the other
    // connection in the middle of it, as happens under sustained load.
    let mut batch = |writer: &mut Store| {
        writer
            .batch(|s| {
                for k in 0..50 {
                    s.append_event(id, seq, u64::from(seq), &Input::Noise)
                        .unwrap();
                    seq += 1;
                    if k == 25 {
                        let (wal, copied) = checkpointer.checkpoint().unwrap();
                        assert_eq!(wal, copied, "no reader holds the WAL back");
                    }
                }
            })
            .unwrap();
    };
    // The -wal file's size: a restarted WAL is written again from its
    // beginning, so the file stops growing. (Asking SQLite with a checkpoint
    // would itself finish one between transactions.)
    let wal_file = dir.path().join("wal.db-wal");
    let wal_bytes = || std::fs::metadata(&wal_file).unwrap().len();
    let mut grown = wal_bytes();
    for _ in 0..5 {
        batch(&mut writer);
        let now = wal_bytes();
        assert!(
            now > grown,
            "passive checkpoints alone never restart the WAL: {grown} -> {now} bytes"
        );
        grown = now;
    }
    writer.checkpoint().unwrap();
    for _ in 0..3 {
        batch(&mut writer);
    }
    assert_eq!(
        wal_bytes(),
        grown,
        "after the writer's checkpoint the WAL restarts from its beginning"
    );
    assert_eq!(writer.events(id).unwrap().len(), 8 * 50, "nothing lost");
}

// ----- history ------------------------------------------------------------

#[test]
fn history_is_newest_first_with_ratings_and_honours_the_limit() {
    let store = Store::open_in_memory().unwrap();
    assert!(store.history(None).unwrap().is_empty());
    let a = completed(&store, T0, vec![8], vec![5]);
    let b = completed(&store, T0.plus_ms(24 * HOUR), vec![6], vec![]);
    let c = completed(&store, T0.plus_ms(48 * HOUR), vec![], vec![]);
    let all = store.history(None).unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b, a]);
    assert_eq!(all[1].ratings[0].before, Some(6));
    assert_eq!(all[1].ratings[0].after, None);
    assert!(all[0].ratings.is_empty());
    assert_eq!(store.history(Some(2)).unwrap().len(), 2);
    assert_eq!(store.history(Some(0)).unwrap().len(), 0);
}

#[test]
fn history_pages_follow_each_other_without_gaps_or_repeats() {
    let store = Store::open_in_memory().unwrap();
    // Two sessions share a start time: the id breaks the tie.
    let mut ids = vec![completed(&store, T0, vec![], vec![])];
    for k in [50, 50, 51, 52, 53, 54] {
        ids.push(completed(
            &store,
            T0.plus_ms(k * HOUR),
            vec![k as u8 % 11],
            vec![],
        ));
    }
    assert_eq!(store.session_count().unwrap(), 7);
    let newest_first: Vec<SessionId> = store.history(None).unwrap().iter().map(|r| r.id).collect();
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = store.history_page(3, before).unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        paged.extend(page.iter().map(|r| r.id));
    }
    assert_eq!(paged, newest_first);
    assert_eq!(paged.len(), 7);
    assert_eq!(store.history_page(3, None).unwrap().len(), 3);
    assert!(
        store.history_page(3, Some(ids[0])).unwrap().is_empty(),
        "nothing is older than the oldest"
    );
    assert!(
        store
            .history_page(3, Some(SessionId(999)))
            .unwrap()
            .is_empty(),
        "an unknown cursor gives an empty page"
    );
}

#[test]
fn rating_series_keep_the_most_recent_sessions_oldest_first() {
    let store = Store::open_in_memory().unwrap();
    for k in 0..5u64 {
        completed(
            &store,
            T0.plus_ms(50 * HOUR + k * HOUR),
            vec![k as u8],
            vec![k as u8 + 1],
        );
    }
    completed(&store, T0.plus_ms(60 * HOUR), vec![], vec![]);
    let series = rating_series(&store.history_points().unwrap(), 3);
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s.id, "upper-back-soreness");
    assert_eq!(s.sessions, 5, "the unrated session has no point");
    let values: Vec<_> = s.points.iter().map(|p| (p.before, p.after)).collect();
    assert_eq!(
        values,
        vec![(Some(2), Some(3)), (Some(3), Some(4)), (Some(4), Some(5))]
    );
    assert!(s.points.windows(2).all(|w| w[0].at < w[1].at));
}

#[test]
fn the_summary_counts_this_week_the_streak_and_the_average_change() {
    let store = Store::open_in_memory().unwrap();
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(1)); // Paris in winter
    let day = 24 * HOUR;
    // T0 is Thursday 2026-01-01, 01:00 in Paris. Sessions on Mon 29 Dec,
    // Wed 31 Dec, Thu 1 Jan (twice), and a refusal on Fri 2 Jan.
    completed(&store, Time(T0.0 - 3 * day + 10 * HOUR), vec![8], vec![4]);
    completed(&store, Time(T0.0 - day + 10 * HOUR), vec![6], vec![5]);
    completed(&store, T0.plus_ms(8 * HOUR), vec![5], vec![5]);
    completed(&store, T0.plus_ms(9 * HOUR), vec![], vec![]);
    drive(
        &store,
        T0.plus_ms(day + 10 * HOUR),
        Plan {
            refuse: true,
            ..Plan::default()
        },
    );
    let records = store.history(None).unwrap();
    let points = store.history_points().unwrap();
    assert_eq!(
        points,
        records.iter().map(HistoryPoint::from).collect::<Vec<_>>(),
        "the light read agrees with the full records"
    );

    let friday_noon = T0.plus_ms(day + 11 * HOUR);
    let s = summarize(&points, friday_noon, &tz);
    assert_eq!(
        s.sessions_this_week, 4,
        "Monday 29 Dec to now, refusal excluded"
    );
    assert_eq!(
        s.streak_days, 2,
        "Wed and Thu; Friday has only a refusal, Tuesday nothing"
    );
    assert_eq!(s.rating_changes.len(), 1);
    assert_eq!(s.rating_changes[0].id, "upper-back-soreness");
    assert_eq!(s.rating_changes[0].sessions, 3);
    assert!((s.rating_changes[0].mean_change - (-5.0 / 3.0)).abs() < 1e-9);

    // On the next Monday the week starts again and the streak is broken.
    let monday = T0.plus_ms(4 * day + 12 * HOUR);
    let s = summarize(&points, monday, &tz);
    assert_eq!((s.sessions_this_week, s.streak_days), (0, 0));
}

// ----- export and import --------------------------------------------------

fn filled_store() -> Store {
    let store = Store::open_in_memory().unwrap();
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

    let b = Store::open_in_memory().unwrap();
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
    let b = Store::open_in_memory().unwrap();
    b.import(&doc).unwrap();
    let recovered = b.recover_interrupted().unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].outcome, SessionOutcome::Interrupted);
    assert_eq!(recovered[0].reps_done, 2);
}

#[test]
fn a_wrong_or_newer_export_document_is_refused_with_a_clear_message() {
    let err = ExportDocument::from_json("{\"hello\": 1}")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a rollcoach export") && err.contains("missing"),
        "{err}"
    );
    let err = ExportDocument::from_json("not json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not valid JSON") && err.contains("line 1"),
        "{err}"
    );
    let err = ExportDocument::from_json(
        "{\"format\":\"rollcoach-export\",\"version\":7,\"sessions\":[]}",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("version 7") && err.contains("newer rollcoach"),
        "{err}"
    );
    let err = ExportDocument::from_json(
        "{\"format\":\"rollcoach-export\",\"version\":1,\"exported_at\":0,\"sessions\":[{}],\"injuries\":[]}",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("missing field"), "{err}");
}

#[test]
fn a_failed_import_changes_nothing() {
    let a = filled_store();
    let mut doc = a.export(T0).unwrap();
    let b = Store::open_in_memory().unwrap();
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

// ----- crash recovery -----------------------------------------------------

#[test]
fn recover_interrupted_marks_sessions_of_dead_processes_with_reps_from_the_log() {
    let store = Store::open_in_memory().unwrap();
    // The driver died as the 6th phase (rep 3, back) started: reps 1 and 2 are done.
    let (dead, _) = drive(
        &store,
        T0,
        Plan {
            crash_at_phase: Some(6),
            ..Plan::default()
        },
    );
    set_owner(&store, dead, dead_pid(), None);
    let (live, _) = drive(
        &store,
        T0.plus_ms(HOUR),
        Plan {
            crash_at_phase: Some(3),
            ..Plan::default()
        },
    );
    // `live` is owned by this (running) test process.
    let recovered = store.recover_interrupted().unwrap();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0].id, dead);
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
        store.recover_interrupted().unwrap().is_empty(),
        "idempotent"
    );
}

#[test]
fn a_reused_pid_does_not_keep_a_dead_session_alive() {
    let store = Store::open_in_memory().unwrap();
    let (id, _) = drive(
        &store,
        T0,
        Plan {
            crash_at_phase: Some(1),
            ..Plan::default()
        },
    );
    // Our own pid, but a start time that is not ours: another, earlier process.
    set_owner(&store, id, std::process::id(), Some("1".into()));
    let recovered = store.recover_interrupted().unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].reps_done, 0);
}

#[test]
fn a_session_whose_log_reached_the_end_is_recovered_with_its_real_outcome() {
    let store = Store::open_in_memory().unwrap();
    let (id, _) = drive(
        &store,
        T0,
        Plan {
            crash_at_phase: Some(3),
            ..Plan::default()
        },
    );
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
    let recovered = store.recover_interrupted().unwrap();
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
        let store = Store::open(&path).unwrap();
        let (id, _) = drive(
            &store,
            T0,
            Plan {
                crash_at_phase: Some(4),
                ..Plan::default()
            },
        );
        id
    };
    let store = Store::open(&path).unwrap();
    let events = store.events(id).unwrap();
    assert!(events.len() > 5);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].seq + 1 == w[1].seq && w[0].at_ms <= w[1].at_ms)
    );
}

#[test]
fn session_ids_and_uids_display_and_are_unique() {
    let store = Store::open_in_memory().unwrap();
    let a = completed(&store, T0, vec![], vec![]);
    let b = completed(&store, T0, vec![], vec![]);
    assert_eq!(a.to_string(), "1");
    let (ua, ub) = (store.session(a).unwrap().uid, store.session(b).unwrap().uid);
    assert_ne!(ua, ub);
    assert!(ua.starts_with(&format!("{:012x}-", T0.0)), "{ua}");
}

#[test]
fn a_log_that_cannot_be_replayed_is_recorded_as_interrupted_without_blocking() {
    let store = Store::open_in_memory().unwrap();
    let (bad, _) = drive(
        &store,
        T0,
        Plan {
            crash_at_phase: Some(3),
            ..Plan::default()
        },
    );
    let (good, _) = drive(
        &store,
        T0.plus_ms(HOUR),
        Plan {
            crash_at_phase: Some(3),
            ..Plan::default()
        },
    );
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
    let recovered = store.recover_interrupted().unwrap();
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

#[test]
fn a_running_process_is_alive_and_a_killed_one_is_not_even_before_it_is_reaped() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = owner::process_start(pid);
    if cfg!(target_os = "linux") {
        assert!(start.is_some());
        assert!(owner::alive(Some(pid), start.as_deref()));
        assert!(
            !owner::alive(Some(pid), Some("0")),
            "same pid, other start: reused"
        );
    }
    child.kill().unwrap();
    // Not waited for yet: a zombie, which is as dead as a session owner gets.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while owner::alive(Some(pid), start.as_deref()) && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    if cfg!(target_os = "linux") {
        assert!(!owner::alive(Some(pid), start.as_deref()));
    }
    child.wait().unwrap();
    assert!(!owner::alive(None, None), "no owner: nobody runs it");
}

#[test]
fn two_stores_on_one_file_work_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    // Both open (and the first migrates) at the same time.
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(path).map(|s| s.user_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    // A driver writes a session's log while another handle reads it.
    let writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let (id, _) = drive(
        &writer,
        T0,
        Plan {
            crash_at_phase: Some(2),
            ..Plan::default()
        },
    );
    let n = writer.events(id).unwrap().len();
    assert_eq!(reader.events(id).unwrap().len(), n);
    writer
        .append_event(id, u32::try_from(n).unwrap(), 99_000, &Input::Noise)
        .unwrap();
    assert_eq!(
        reader.events(id).unwrap().len(),
        n + 1,
        "committed before append returns"
    );
    assert_eq!(reader.unfinished().unwrap().len(), 1);
    assert!(
        reader.recover_interrupted().unwrap().is_empty(),
        "its owner (us) is alive"
    );
}

#[test]
fn a_batch_commits_its_writes_together_and_a_failed_write_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.db");
    let mut store = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let p = protocol();
    let new = NewSession {
        protocol: &p,
        options: &Options::default(),
        facts: &Facts::default(),
        started_at: T0,
    };
    let (a, b) = (
        store.begin_session(&new).unwrap(),
        store.begin_session(&new).unwrap(),
    );
    store.append_event(a, 0, 0, &Input::Ready).unwrap();

    let results = store
        .batch(|s| {
            let results = vec![
                s.append_event(a, 1, 10, &Input::Noise),
                s.append_event(a, 0, 20, &Input::Noise), // duplicate seq: refused alone
                s.append_event(b, 0, 30, &Input::Stop),
                s.add_injury("upper-back", T0, Some("batched"), T0)
                    .map(|_| ()),
            ];
            // Nothing is visible to another connection before the commit.
            assert_eq!(reader.events(a).unwrap().len(), 1);
            assert!(reader.events(b).unwrap().is_empty());
            results
        })
        .unwrap();
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(StoreError::DuplicateEvent { seq: 0, .. })
    ));
    assert!(results[2].is_ok() && results[3].is_ok(), "{results:?}");

    let seqs: Vec<u32> = reader.events(a).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![0, 1]);
    assert_eq!(reader.events(b).unwrap().len(), 1);
    assert_eq!(reader.list_injuries().unwrap().len(), 1);
    // Writes after the batch are their own transactions again.
    store.append_event(b, 1, 40, &Input::Noise).unwrap();
    assert_eq!(reader.events(b).unwrap().len(), 2);
}

#[test]
fn a_checkpoint_from_another_connection_empties_the_wal_of_a_store_without_auto_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (store, checkpointer) = writer_and_checkpointer(&dir.path().join("ckpt.db"));
    let id = begin_bare(&store, T0);
    for seq in 0..50 {
        store.append_event(id, seq, 0, &Input::Noise).unwrap();
    }
    let (wal_pages, checkpointed) = checkpointer.checkpoint().unwrap();
    assert!(wal_pages > 0, "the writes went to the WAL");
    assert_eq!(wal_pages, checkpointed, "all of it copied back");
    assert_eq!(checkpointer.events(id).unwrap().len(), 50);

    let wal = dir.path().join("ckpt.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    assert!(checkpointer.checkpoint_truncate().unwrap());
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "WAL truncated");
    store.append_event(id, 50, 0, &Input::Noise).unwrap();
    assert_eq!(checkpointer.events(id).unwrap().len(), 51);
}

#[test]
fn a_v1_file_s_protocol_snapshots_move_to_one_shared_row_and_still_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let p = protocol();
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
    let store = Store::open(&path).unwrap();
    let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM protocol_snapshots"), 1);
    assert_eq!(
        count("SELECT count(*) FROM sessions WHERE protocol_json <> ''"),
        0
    );
    let history = store.history(None).unwrap();
    assert_eq!(history.len(), 2);
    for record in &history {
        assert_eq!(store.protocol_snapshot(record.id).unwrap(), p);
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
