//! `ExportedSession::finished` (what the phone page writes for a finished
//! session, through its WebAssembly module) gives, field for field, the
//! session a store records for the same run and exports.

use std::sync::Arc;

use rollcoach_engine::{EndRecord, Facts, Input, LogEntry, Options, PainKind, Runner, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{Event, ExportedSession, FinishedRun, NewSession, Store, export};
use rollcoach_store_sqlite::SqliteStore;

const T0: Time = Time(1_795_597_200_000);

fn protocol() -> Protocol {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .unwrap()
}

/// Runs `inputs` (each at `T0 + ms`, timeouts caught up on the way) through
/// a runner and a store at once; ends it with the runner's end, or
/// interrupts it (as a page reopened after a crash does: at its last entry).
fn run(store: &SqliteStore, options: Options, inputs: &[(u64, Input)]) -> ExportedSession {
    let p = protocol();
    let facts = Facts::default();
    let id = store
        .begin_session(&NewSession {
            protocol: &p,
            options: &options,
            facts: &facts,
            started_at: T0,
        })
        .unwrap();
    let mut runner =
        Runner::start(Arc::new(p.clone()), options.clone(), facts.clone(), T0).unwrap();
    let mut log: Vec<LogEntry> = Vec::new();
    for &(ms, input) in inputs {
        let Ok(batch) = runner.offer(input, T0.plus_ms(ms)) else {
            continue;
        };
        for e in batch.entries() {
            store.append_event(id, e.seq, e.at_ms, &e.input).unwrap();
        }
        log.extend_from_slice(batch.entries());
        runner.commit(batch).unwrap();
    }
    let end: EndRecord = match runner.end_record() {
        Some(end) => {
            let outcome = end.outcome.clone().unwrap();
            store
                .finish_session(
                    id,
                    end.ended_at,
                    &outcome,
                    end.message.as_deref().unwrap(),
                    &end.summary,
                )
                .unwrap();
            end
        }
        None => {
            rollcoach_store::interrupt(store, id).unwrap().unwrap();
            runner.interrupt(T0.plus_ms(log.last().map_or(0, |e| e.at_ms)))
        }
    };
    let uid = store.session(id).unwrap().uid;
    let events: Vec<Event> = log
        .iter()
        .map(|e| Event {
            seq: e.seq,
            at_ms: e.at_ms,
            input: e.input,
        })
        .collect();
    ExportedSession::finished(FinishedRun {
        uid: &uid,
        protocol: &p,
        protocol_json: &serde_json::to_value(&p).unwrap(),
        options: &options,
        facts: &facts,
        started_at: T0,
        events: &events,
        end: &end,
    })
}

#[test]
fn the_record_of_a_finished_run_is_the_one_the_store_exports() {
    let store = SqliteStore::open_in_memory().unwrap();
    let no = Input::Answer { answer: Answer::No };
    let reasons = Options {
        reasons: vec!["soreness".into(), "posture".into()],
        reps: Some(5),
        ..Options::default()
    };
    let setup: Vec<(u64, Input)> =
        std::iter::repeat_n((50, Input::Ready), protocol().setup.len()).collect();
    let mut completed = vec![(0, no), (0, no), (0, no)];
    completed.extend([
        (10, Input::Rating { value: Some(7) }),
        (20, Input::Rating { value: None }),
    ]);
    completed.extend(setup.iter().copied());
    completed.push((30_000, Input::Noise));
    completed.push((3_600_000, Input::Rating { value: Some(3) }));
    completed.push((3_600_100, Input::Rating { value: Some(2) }));
    let mut pain = vec![(0, no), (0, no), (0, no)];
    pain.extend(setup.iter().copied());
    pain.push((
        9_000,
        Input::Pain {
            kind: PainKind::Pop,
        },
    ));
    let refused = vec![(
        0,
        Input::Answer {
            answer: Answer::Yes,
        },
    )];
    let mut crashed = vec![
        (0, no),
        (0, no),
        (0, no),
        (10, Input::Rating { value: Some(5) }),
        (10, Input::Rating { value: Some(4) }),
    ];
    crashed.extend(setup.iter().copied());
    crashed.push((21_000, Input::Noise));
    let ours = [
        run(&store, reasons.clone(), &completed),
        run(&store, Options::default(), &pain),
        run(&store, Options::default(), &refused),
        run(&store, reasons, &crashed),
    ];
    let kinds: Vec<&str> = ours
        .iter()
        .map(|s| s.outcome.as_ref().unwrap().kind())
        .collect();
    assert_eq!(kinds, ["completed", "stopped", "refused", "interrupted"]);
    assert_eq!(
        ours[3].reps_done,
        Some(2),
        "the crashed run rolled two reps"
    );
    assert_eq!(ours[0].ratings.len(), 2, "{:?}", ours[0].ratings);
    let exported = export(&store, T0.plus_ms(9_999_999)).unwrap();
    assert_eq!(exported.sessions.len(), ours.len());
    for (theirs, ours) in exported.sessions.iter().zip(&ours) {
        assert_eq!(theirs, ours, "session {}", ours.uid);
    }
}
