use super::*;

// ----- sessions and the event log -----------------------------------------

#[test]
fn events_are_kept_in_order_and_are_append_only() {
    let store = SqliteStore::open_in_memory().unwrap();
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
        matches!(
            err,
            StoreError::Conflict(Conflict::DuplicateEvent { seq: 2, .. })
        ),
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
        matches!(
            err,
            StoreError::NotFound(NotFound::Session(SessionId(4242)))
        ),
        "{err:?}"
    );

    let record = store.session(id).unwrap();
    assert_eq!(record.outcome, None);
    assert_eq!(record.owner_pid, Some(std::process::id()));
    assert_eq!(store.unfinished().unwrap().len(), 1);
}

#[test]
fn a_finished_session_accepts_no_more_events_and_cannot_finish_twice() {
    let store = SqliteStore::open_in_memory().unwrap();
    let id = completed(&store, T0, vec![6], vec![3]);
    let err = store
        .append_event(id, 10_000, 0, &Input::Noise)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::SessionEnded { .. })),
        "{err:?}"
    );
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
    assert!(
        matches!(err, StoreError::Conflict(Conflict::SessionEnded { .. })),
        "{err:?}"
    );
    assert!(store.unfinished().unwrap().is_empty());
}

#[test]
fn a_completed_session_is_recorded_with_ratings_reps_and_pairing() {
    let store = SqliteStore::open_in_memory().unwrap();
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
    let log: Vec<(u64, Input)> = events.iter().map(|e| (e.at_ms, e.input)).collect();
    let replayed = rollcoach_engine::replay(
        &store.protocol_snapshot(id).unwrap(),
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

#[test]
fn stops_and_refusals_are_recorded_with_their_reason() {
    let store = SqliteStore::open_in_memory().unwrap();
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

#[test]
fn a_driver_can_interrupt_its_own_live_session() {
    let store = SqliteStore::open_in_memory().unwrap();
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
        recover_interrupted(&store).unwrap().is_empty(),
        "its driver (this process) is alive"
    );
    let done = interrupt(&store, id).unwrap().expect("it was live");
    assert_eq!(done.outcome, SessionOutcome::Interrupted);
    assert_eq!(
        store.session(id).unwrap().outcome,
        Some(SessionOutcome::Interrupted)
    );
    assert_eq!(interrupt(&store, id).unwrap(), None, "already ended");
}
