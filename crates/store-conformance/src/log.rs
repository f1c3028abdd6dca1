//! The properties of a backend with a local [`rollcoach_store::SessionLog`]
//! ([`crate::log_suite!`]). Each takes the constructor of a fresh, empty
//! [`LogBackend`]; sessions are driven into the log as a terminal drives
//! them ([`crate::kit::drive`]).

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use rollcoach_engine::{
    Facts, Input, Options, Outcome, Output, PainKind, RatingResult, Runner, StopReason,
};
use rollcoach_protocol::Answer;
use rollcoach_store::{
    Conflict, ExportDocument, NewInjury, NewSession, NotFound, SessionId, SessionOutcome,
    StoreError, export, import, interrupt, recover_interrupted,
};
use rollcoach_testkit::{Act, Autopilot, Plan, Point, T0};

use crate::LogBackend;
use crate::kit::{
    client, crash_at_phase, drive, drive_completed, drive_unended, finished, hours, live, owner,
    pain_at_phase, rated, record_end, upper_back,
};

/// The constructor of a fresh, empty backend.
pub type Make<'a> = &'a dyn Fn() -> LogBackend;

/// Begins a session of the upper back with default options and no facts.
fn begin_bare(b: &LogBackend) -> SessionId {
    b.log
        .begin_session(&NewSession {
            protocol: &upper_back(),
            options: &Options::default(),
            facts: &Facts::default(),
            started_at: T0,
        })
        .expect("begin_session")
}

/// The log keeps a session's inputs in order; an input already logged is
/// refused and adds nothing, as is one for a session the log does not
/// have; the session stays live, driven by this process.
pub fn events_are_kept_in_order_and_are_append_only(make: Make<'_>) {
    let b = make();
    let id = begin_bare(&b);
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
        b.log
            .append_event(id, seq, u64::from(seq) * 250, input)
            .unwrap();
    }
    let events = b.log.events(id).unwrap();
    let got: Vec<(u32, u64, Input)> = events.iter().map(|e| (e.seq, e.at_ms, e.input)).collect();
    let want: Vec<(u32, u64, Input)> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (i as u32, i as u64 * 250, *input))
        .collect();
    assert_eq!(got, want);

    let err = b.log.append_event(id, 2, 9999, &Input::Noise).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(Conflict::DuplicateEvent { seq: 2, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        b.log.events(id).unwrap().len(),
        inputs.len(),
        "nothing added"
    );

    let err = b
        .log
        .append_event(SessionId(4242), 0, 0, &Input::Noise)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound(NotFound::Session(SessionId(4242)))
        ),
        "{err:?}"
    );

    let record = b.log.session(id).unwrap();
    assert_eq!(record.outcome, None);
    // Named by its uid outside the log, live, and driven by this process.
    let live = b.log.live_session(id).unwrap().expect("live");
    assert_eq!(live.uid, record.uid);
    assert_eq!(live.last_event_ms, Some(5 * 250));
    assert_eq!(b.records.session(&owner(), &record.uid).unwrap(), record);
    assert!(
        b.log.orphaned_sessions().unwrap().is_empty(),
        "its driver (this process) runs"
    );
}

/// A session that ended takes no more inputs and cannot end twice.
pub fn a_finished_session_accepts_no_more_events_and_cannot_finish_twice(make: Make<'_>) {
    let b = make();
    let s = drive_completed(&*b.log, T0, &[6], &[3]);
    let err = b
        .log
        .append_event(s.id, 10_000, 0, &Input::Noise)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::SessionEnded { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("completed"), "{err}");
    let rec = b.log.session(s.id).unwrap();
    let err = b
        .log
        .finish_session(
            s.id,
            T0,
            &Outcome::Completed,
            "again",
            rec.summary.as_ref().unwrap(),
        )
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::SessionEnded { .. })),
        "{err:?}"
    );
    assert_eq!(b.log.live_session(s.id).unwrap(), None, "not live");
    assert_eq!(b.log.session(s.id).unwrap(), rec, "unchanged");
}

/// A completed session is recorded with its ratings, reps and pairing, and
/// its log (and snapshot) replays to the same end.
pub fn a_completed_session_is_recorded_with_ratings_reps_and_pairing(make: Make<'_>) {
    let b = make();
    let s = drive_completed(&*b.log, T0, &[7], &[4]);
    let r = b.log.session(s.id).unwrap();
    assert_eq!(r.protocol_id, "upper-back");
    assert_eq!(r.outcome, Some(SessionOutcome::Completed));
    assert_eq!(r.reason, None);
    assert_eq!(r.reps_done, Some(r.reps_target));
    assert!(r.active_ms.unwrap() > 0);
    assert!(r.ended_at.unwrap() > r.started_at);
    assert_eq!(r.pairing, Some(upper_back().movement.breathing.start));
    assert_eq!(
        r.ratings,
        vec![RatingResult {
            id: "upper-back-soreness".into(),
            before: Some(7),
            after: Some(4),
        }]
    );
    // The log replays to the same end.
    let events = b.log.events(s.id).unwrap();
    let log: Vec<(u64, Input)> = events.iter().map(|e| (e.at_ms, e.input)).collect();
    let replayed = rollcoach_engine::replay(
        &b.log.protocol_snapshot(s.id).unwrap(),
        r.options.clone(),
        r.facts.clone(),
        r.started_at,
        &log,
    )
    .unwrap();
    let (outcome, summary) = replayed
        .outputs
        .into_iter()
        .find_map(|o| match o {
            Output::End {
                outcome, summary, ..
            } => Some((outcome, summary)),
            _ => None,
        })
        .expect("the log reaches the end");
    assert_eq!(SessionOutcome::from(outcome), SessionOutcome::Completed);
    assert_eq!(Some(&summary), r.summary.as_ref());
}

/// A stop and a refusal are recorded with their reason, the reps done and
/// the message; a refused session never started rolling.
pub fn stops_and_refusals_are_recorded_with_their_reason(make: Make<'_>) {
    let b = make();
    let stopped = drive(&*b.log, T0, pain_at_phase(3));
    let refused = drive(&*b.log, hours(1), Plan::default().refuse());
    let s = b.log.session(stopped.id).unwrap();
    assert_eq!(
        s.outcome,
        Some(SessionOutcome::Stopped {
            reason: StopReason::PainWithPop
        })
    );
    assert_eq!(s.reason.as_deref(), Some("pain-with-pop"));
    assert_eq!(s.reps_done, Some(1));
    assert!(s.message.as_deref().is_some_and(|m| !m.is_empty()));
    let r = b.log.session(refused.id).unwrap();
    assert_eq!(
        r.outcome.as_ref().map(SessionOutcome::kind),
        Some("refused")
    );
    assert_eq!(r.reason.as_deref(), Some("answer:recent-injury"));
    assert_eq!(r.reps_done, Some(0));
    assert_eq!(r.pairing, None, "a refused session never started rolling");
}

/// Recovery leaves a session alone while its driver (this process) runs;
/// the driver can interrupt it itself, once.
pub fn a_driver_can_interrupt_its_own_live_session_and_recovery_leaves_it_alone(make: Make<'_>) {
    let b = make();
    let s = drive(&*b.log, T0, crash_at_phase(5));
    assert_eq!(s.outcome(), None, "still live");
    assert!(
        recover_interrupted(&*b.log).unwrap().is_empty(),
        "its driver (this process) is alive"
    );
    let done = interrupt(&*b.log, s.id).unwrap().expect("it was live");
    assert_eq!(done.outcome, SessionOutcome::Interrupted);
    assert_eq!(done.uid, s.uid);
    assert_eq!(done.reps_done, 2);
    assert_eq!(
        b.log.session(s.id).unwrap().outcome,
        Some(SessionOutcome::Interrupted)
    );
    assert_eq!(interrupt(&*b.log, s.id).unwrap(), None, "already ended");
}

/// What the log records at the start is the live record of the run (what
/// `begin_session` was given, and the inputs), and at the end, field for
/// field, the record of the finished run
/// ([`rollcoach_store::ExportedSession::finished`]): completed with two
/// reasons' ratings, stopped, refused, and let go (interrupted).
pub fn what_the_log_records_at_the_start_and_the_end_is_the_finished_record(make: Make<'_>) {
    let b = make();
    let two = Plan::reasons(["soreness", "posture"])
        .ratings([Some(7), None], [Some(3), Some(2)])
        .at(Point::At(30_000), Input::Noise)
        .options(Options {
            reasons: vec!["soreness".into(), "posture".into()],
            reps: Some(5),
            ..Options::default()
        });
    let plans = [
        two,
        pain_at_phase(3),
        Plan::default().refuse(),
        rated(&[5, 4], &[]).at(Point::Rep(3), Act::LetGo { after_ms: 0 }),
    ];
    let mut ours: Vec<_> = plans
        .into_iter()
        .enumerate()
        .map(|(i, plan)| {
            let s = drive(&*b.log, hours(2 * i as u64), plan);
            finished(&s.run, &s.uid)
        })
        .collect();
    let kinds: Vec<&str> = ours
        .iter()
        .map(|s| s.outcome.as_ref().unwrap().kind())
        .collect();
    assert_eq!(kinds, ["completed", "stopped", "refused", "interrupted"]);
    assert_eq!(ours[3].reps_done, Some(2), "the let-go run rolled two reps");
    assert_eq!(ours[0].ratings.len(), 2, "{:?}", ours[0].ratings);
    let crashed = drive(
        &*b.log,
        hours(10),
        rated(&[3], &[]).at(Point::Rep(2), Act::Crash),
    );
    ours.push(live(&crashed.run, &crashed.uid));
    let exported = export(&*b.records, &owner(), hours(20)).unwrap();
    assert_eq!(exported.sessions.len(), ours.len());
    for (theirs, ours) in exported.sessions.iter().zip(&ours) {
        assert_eq!(theirs, ours, "session {}", ours.uid);
    }
}

/// A cut of `run`'s log after `cut` inputs, begun in `b`'s log and left by
/// its driver: the handle.
fn cut_log(b: &LogBackend, run: &rollcoach_testkit::Run, cut: usize) -> SessionId {
    let id = b
        .log
        .begin_session(&NewSession {
            protocol: &run.protocol,
            options: &run.options,
            facts: &run.facts,
            started_at: run.started_at,
        })
        .unwrap();
    for e in &run.log[..cut] {
        b.log.append_event(id, e.seq, e.at_ms, &e.input).unwrap();
    }
    id
}

/// A log cut at any point (a driver that died there) is recovered from the
/// log alone: as interrupted with the reps the log proves and the summary
/// of the runner it rebuilds (or, cut after the last input of a session
/// that ended, with the engine's end), ended at its last input, once;
/// imported elsewhere, where nobody drives it, the next recovery ends it
/// the same way, once.
pub fn a_log_cut_at_any_point_recovers_as_interrupted_with_the_reps_it_proves_once(make: Make<'_>) {
    let plans = prop_oneof![
        Just(Plan::default()),
        Just(rated(&[6], &[2])),
        (1u32..14).prop_map(pain_at_phase),
        (1u32..10).prop_map(|n| Plan::default().at(Point::Rep(n), Act::PauseFor(4_000))),
        Just(Plan::default().refuse()),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(plans, any::<Index>()), |(plan, at)| {
        let full = Autopilot::start(upper_back(), plan, T0)
            .unwrap()
            .run()
            .unwrap();
        let cut = at.index(full.log.len() + 1);
        let entries = &full.log[..cut];
        let restored = Runner::recover(
            full.protocol.clone(),
            full.options.clone(),
            full.facts.clone(),
            T0,
            entries,
        )
        .unwrap();
        let session = restored.runner.session();
        let want_outcome = session
            .outcome()
            .cloned()
            .map_or(SessionOutcome::Interrupted, SessionOutcome::from);
        let want_end = T0.plus_ms(entries.last().map_or(0, |e| e.at_ms));

        let b = make();
        let id = cut_log(&b, &full, cut);
        let got = interrupt(&*b.log, id).unwrap().expect("it was live");
        prop_assert_eq!(&got.outcome, &want_outcome);
        prop_assert_eq!(got.reps_done, session.reps_done());
        prop_assert_eq!(got.problem, None);
        let record = b.log.session(id).unwrap();
        prop_assert_eq!(record.reps_done, Some(session.reps_done()));
        prop_assert_eq!(record.summary.as_ref(), Some(&session.summary()));
        prop_assert_eq!(record.ended_at, Some(want_end));
        prop_assert_eq!(record.outcome.as_ref(), Some(&want_outcome));
        prop_assert_eq!(interrupt(&*b.log, id).unwrap(), None, "once");

        // Imported where nobody drives it: the next recovery ends it, once.
        let left = make();
        let id = cut_log(&left, &full, cut);
        let uid = left.log.session(id).unwrap().uid;
        let doc = export(&*left.records, &owner(), T0).unwrap();
        let c = make();
        import(&*c.records, &owner(), &doc).unwrap();
        let recovered = recover_interrupted(&*c.log).unwrap();
        prop_assert_eq!(recovered.len(), 1);
        prop_assert_eq!(&recovered[0].uid, &uid);
        prop_assert_eq!(&recovered[0].outcome, &want_outcome);
        prop_assert_eq!(recovered[0].reps_done, session.reps_done());
        let there = c.records.session(&owner(), &uid).unwrap();
        prop_assert_eq!(there.summary.as_ref(), Some(&session.summary()));
        prop_assert_eq!(there.ended_at, Some(want_end));
        prop_assert!(recover_interrupted(&*c.log).unwrap().is_empty(), "once");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A driver that died after logging the input that ended the session (pain
/// over the spine), before recording the end: recovery records the
/// engine's end from the log, the very record of the finished run.
pub fn a_log_that_reached_the_end_records_the_engine_s_end(make: Make<'_>) {
    let b = make();
    let plan = Plan::default().at(
        Point::Phase(3),
        Input::Pain {
            kind: PainKind::Spine,
        },
    );
    let (id, run) = drive_unended(&*b.log, T0, plan);
    assert!(run.outcome().is_some(), "the run ended");
    let uid = b.log.session(id).unwrap().uid;
    let doc = export(&*b.records, &owner(), T0).unwrap();
    let recovered = interrupt(&*b.log, id).unwrap().expect("it was live");
    assert_eq!(
        recovered.outcome,
        SessionOutcome::Stopped {
            reason: StopReason::PainOverSpine
        }
    );
    let r = b.log.session(id).unwrap();
    assert_eq!(r.reason.as_deref(), Some("pain-over-spine"));
    assert!(r.message.is_some());
    let want = finished(&run, &uid);
    let exported = export(&*b.records, &owner(), T0).unwrap();
    assert_eq!(exported.sessions, std::slice::from_ref(&want));

    // Imported where nobody drives it: recovered the same.
    let c = make();
    import(&*c.records, &owner(), &doc).unwrap();
    let recovered = recover_interrupted(&*c.log).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].reps_done, want.reps_done.unwrap());
    assert_eq!(export(&*c.records, &owner(), T0).unwrap().sessions, [want]);
}

/// A session that was live when exported has no driver where it is
/// imported: the next recovery ends it as interrupted with its reps.
pub fn a_live_session_imported_elsewhere_is_recovered_as_interrupted(make: Make<'_>) {
    let a = make();
    drive_completed(&*a.log, T0, &[7], &[3]);
    let live = drive(&*a.log, hours(62), crash_at_phase(5));
    let mut doc = export(&*a.records, &owner(), T0).unwrap();
    doc.sessions.retain(|s| s.outcome.is_none());
    assert_eq!(doc.sessions.len(), 1);
    let b = make();
    import(&*b.records, &owner(), &doc).unwrap();
    let recovered = recover_interrupted(&*b.log).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].uid, live.uid);
    assert_eq!(recovered[0].outcome, SessionOutcome::Interrupted);
    assert_eq!(recovered[0].reps_done, 2);
    assert!(recover_interrupted(&*b.log).unwrap().is_empty(), "once");
}

/// Two sessions started at once get distinct uids that begin with their
/// start time.
pub fn session_uids_are_unique_and_begin_with_the_start(make: Make<'_>) {
    let b = make();
    let x = drive_completed(&*b.log, T0, &[], &[]);
    let y = drive_completed(&*b.log, T0, &[], &[]);
    assert_ne!(x.id, y.id);
    assert_ne!(x.uid, y.uid);
    assert!(x.uid.starts_with(&format!("{:012x}-", T0.0)), "{}", x.uid);
    assert_eq!(b.log.session(x.id).unwrap().uid, x.uid);
}

/// Interrupting a session the log does not have says so.
pub fn interrupting_a_session_that_does_not_exist_says_so(make: Make<'_>) {
    let b = make();
    let err = interrupt(&*b.log, SessionId(77)).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(NotFound::Session(SessionId(77)))),
        "{err:?}"
    );
}

/// The log's facts are the owner's records' facts (another person's
/// injuries are not in them), and the sessions it writes are the owner's.
pub fn the_log_s_sessions_and_facts_are_the_owner_s(make: Make<'_>) {
    let b = make();
    let p = upper_back();
    for (person, note) in [(owner(), "mine"), (client(), "theirs")] {
        b.records
            .add_injury(
                &person,
                &NewInjury {
                    area: p.area.clone(),
                    at: T0,
                    note: Some(note.into()),
                    created_at: T0,
                },
            )
            .unwrap();
    }
    let facts = b.log.facts_for(&p).unwrap();
    assert_eq!(facts, b.records.facts_for(&owner(), &p).unwrap());
    assert_eq!(facts.injuries.len(), 1);
    assert_eq!(facts.injuries[0].note.as_deref(), Some("mine"));
    let s = drive(&*b.log, hours(60), Plan::default());
    assert_eq!(s.outcome(), Some(&Outcome::Completed));
    assert_eq!(b.records.session(&owner(), &s.uid).unwrap().uid, s.uid);
    let err = b.records.session(&client(), &s.uid).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(NotFound::SessionUid(_))),
        "{err:?}"
    );
    assert_eq!(b.records.session_count(&client()).unwrap(), 0);
}

/// A person's input, or "wait for the next deadline" (a timeout).
fn input() -> impl Strategy<Value = Input> {
    // Weighted so that many sessions reach the rolling and some end there.
    prop_oneof![
        20 => Just(Input::Timeout),
        6 => Just(Input::Ready),
        4 => Just(Input::Answer { answer: Answer::No }),
        4 => (0u8..=12).prop_map(|v| Input::Rating { value: Some(v) }),
        2 => Just(Input::Rating { value: None }),
        2 => Just(Input::Pause),
        2 => Just(Input::Resume),
        2 => (0u8..=10).prop_map(|level| Input::Discomfort { level }),
        2 => Just(Input::Noise),
        2 => Just(Input::SwitchBreathing),
    ]
}

/// An input that ends the session at once (where it fits).
fn ending() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Answer {
            answer: Answer::Yes
        }),
        Just(Input::Stop),
        prop_oneof![
            Just(PainKind::Pop),
            Just(PainKind::Spine),
            Just(PainKind::Other)
        ]
        .prop_map(|kind| Input::Pain { kind }),
    ]
}

fn reasons() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(vec!["soreness", "posture", "overhead-block"], 0..=3)
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

/// Random inputs, half the time after the answers that bring the session
/// to the rolling; half the time with one input that ends it somewhere.
fn inputs(max: usize) -> impl Strategy<Value = Vec<(u16, Input)>> {
    (
        any::<bool>(),
        proptest::collection::vec((0u16..5000, input()), 0..max),
        proptest::option::of((any::<Index>(), ending())),
    )
        .prop_map(|(screened, mut rest, end)| {
            if let Some((at, input)) = end {
                let i = at.index(rest.len() + 1);
                rest.insert(i, (100, input));
            }
            if screened {
                // Past screening, ratings (extra skips are refused) and setup.
                let no = (500, Input::Answer { answer: Answer::No });
                let skip = (500, Input::Rating { value: None });
                let ready = (500, Input::Ready);
                rest.splice(
                    0..0,
                    [no, no, no, skip, skip, skip, ready, ready, ready, ready],
                );
            }
            rest
        })
}

/// Drives a session with `inputs` through the runner (a timeout waits for
/// the next deadline; an input that does not fit is not logged), every
/// batch logged before it is applied; records its end if it comes, and
/// leaves it live otherwise. Returns the run.
fn drive_inputs(
    b: &LogBackend,
    start: rollcoach_engine::Time,
    reasons: Vec<String>,
    inputs: &[(u16, Input)],
) -> rollcoach_testkit::Run {
    let protocol = upper_back();
    let facts = b.log.facts_for(&protocol).unwrap();
    let plan = Plan::reasons(reasons).facts(facts.clone());
    let id = b
        .log
        .begin_session(&NewSession {
            protocol: &protocol,
            options: &plan.options,
            facts: &facts,
            started_at: start,
        })
        .unwrap();
    let log = &*b.log;
    let mut pilot = Autopilot::start(protocol, plan, start)
        .unwrap()
        .sink(|entries| {
            for e in entries {
                log.append_event(id, e.seq, e.at_ms, &e.input).unwrap();
            }
        });
    for (delay, input) in inputs {
        if pilot.is_over() {
            break;
        }
        match input {
            Input::Timeout => {
                pilot.wait().unwrap();
            }
            input => match pilot.send(*input, u64::from(*delay)) {
                Ok(()) | Err(rollcoach_testkit::AutopilotError::Input(_)) => {}
                Err(e) => panic!("{e}"),
            },
        }
    }
    let run = if pilot.is_over() {
        pilot.run().unwrap()
    } else {
        pilot.crash()
    };
    if let Some(end) = &run.end {
        record_end(log, id, end);
    }
    run
}

/// Whatever a person does, export → import → export is the identity, the
/// CSV has a row per session, importing again adds nothing; and every
/// session left live is recovered where it is imported exactly as far as
/// its log got.
pub fn export_import_export_is_the_identity_for_random_sessions(make: Make<'_>) {
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec((reasons(), inputs(60)), 1..4),
        proptest::option::of("[ -~]{0,20}"),
    );
    let result = runner.run(&strategy, |(sessions, injury_note)| {
        let me = owner();
        let a = make();
        a.records
            .add_injury(
                &me,
                &NewInjury {
                    area: "upper-back".into(),
                    at: T0,
                    note: injury_note,
                    created_at: T0,
                },
            )
            .unwrap();
        let runs: Vec<_> = sessions
            .iter()
            .enumerate()
            .map(|(i, (reasons, inputs))| {
                drive_inputs(&a, hours(100 * (i as u64 + 1)), reasons.clone(), inputs)
            })
            .collect();
        let doc = export(&*a.records, &me, T0).unwrap();
        let b = make();
        let report = import(
            &*b.records,
            &me,
            &ExportDocument::from_json(&doc.to_json()).unwrap(),
        )
        .unwrap();
        prop_assert_eq!(report.imported as usize, sessions.len());
        prop_assert_eq!(export(&*b.records, &me, T0).unwrap(), doc.clone());
        prop_assert_eq!(doc.to_csv().lines().count(), sessions.len() + 1);
        let again = import(&*b.records, &me, &doc).unwrap();
        prop_assert_eq!(again.imported, 0);
        prop_assert_eq!(again.skipped.len(), sessions.len());

        // Imported, nobody drives the live ones: recovery replays their logs.
        let recovered = recover_interrupted(&*b.log).unwrap();
        let left: Vec<(&rollcoach_store::ExportedSession, &rollcoach_testkit::Run)> = doc
            .sessions
            .iter()
            .zip(&runs)
            .filter(|(s, _)| s.outcome.is_none())
            .collect();
        prop_assert_eq!(recovered.len(), left.len());
        for (got, (s, run)) in recovered.iter().zip(&left) {
            prop_assert_eq!(&got.uid, &s.uid);
            prop_assert_eq!(&got.outcome, &SessionOutcome::Interrupted);
            let record = b.records.session(&me, &s.uid).unwrap();
            let session = run.runner.session();
            prop_assert_eq!(record.summary.as_ref(), Some(&session.summary()));
            prop_assert_eq!(record.reps_done, Some(session.reps_done()));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
