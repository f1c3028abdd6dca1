//! Property tests over random sessions: random options, facts, inputs and
//! times (including late drivers, time going backwards and inputs that do
//! not fit), then the session is driven to its end.

mod common;

use common::{HOUR, T0, protocol};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rollcoach_engine::*;
use rollcoach_protocol::{Answer, Pairing, Protocol};

#[derive(Debug, Clone)]
enum Action {
    /// The clock moves on.
    Wait(u64),
    /// The driver jumps to the next deadline (or a bit after it) and times out.
    Progress { late_ms: u64 },
    /// An input now.
    Send(Input),
    /// An input stamped before the latest time seen.
    Back(u64, Input),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        // Mostly accepting answers, so many random runs reach the rolling.
        5 => Just(Input::Answer { answer: Answer::No }),
        1 => Just(Input::Answer { answer: Answer::Yes }),
        6 => Just(Input::Ready),
        4 => proptest::option::of(0u8..=12).prop_map(|value| Input::Rating { value }),
        3 => Just(Input::Pause),
        3 => Just(Input::Resume),
        3 => (0u8..=11).prop_map(|level| Input::Discomfort { level }),
        1 => prop_oneof![
            Just(PainKind::Pop),
            Just(PainKind::Spine),
            Just(PainKind::Sharp),
            Just(PainKind::Other)
        ]
        .prop_map(|kind| Input::Pain { kind }),
        2 => Just(Input::Noise),
        2 => Just(Input::SwitchBreathing),
        1 => Just(Input::Stop),
        3 => Just(Input::Timeout),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0u64..10_000).prop_map(Action::Wait),
        6 => prop_oneof![Just(0u64), 0u64..20_000].prop_map(|late_ms| Action::Progress { late_ms }),
        8 => input().prop_map(Action::Send),
        1 => ((1u64..5_000), input()).prop_map(|(ms, i)| Action::Back(ms, i)),
    ]
}

fn options() -> impl Strategy<Value = Options> {
    (
        proptest::option::of(5u32..=8),
        proptest::option::of(prop_oneof![Just(2.0), Just(3.5), Just(6.0)]),
        proptest::sample::subsequence(vec!["soreness", "posture", "overhead-block"], 0..=3),
        proptest::option::of(prop_oneof![
            Just(Pairing::InhaleOut),
            Just(Pairing::InhaleBack)
        ]),
        proptest::option::of(prop_oneof![
            Just("foam-roller"),
            Just("lacrosse-ball"),
            Just("trigger-point-cane")
        ]),
    )
        .prop_map(
            |(reps, tempo_seconds, reasons, pairing, instrument)| Options {
                instrument: instrument.map(String::from),
                reps,
                tempo_seconds,
                reasons: reasons.into_iter().map(String::from).collect(),
                pairing,
            },
        )
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        proptest::collection::vec(0u64..100 * HOUR, 0..3),
        proptest::option::of(prop_oneof![
            Just(Pairing::InhaleOut),
            Just(Pairing::InhaleBack)
        ]),
    )
        .prop_map(|(ago, last_pairing)| Facts {
            injuries: ago
                .into_iter()
                .map(|ms| InjuryFact {
                    at: Time(T0.0 - ms),
                    note: None,
                })
                .collect(),
            last_pairing,
        })
}

/// What a run produced.
struct Run {
    session: Session,
    outputs: Vec<Output>,
    log: Vec<(u64, Input)>,
    /// `next_deadline()` after every accepted input.
    deadlines: Vec<Time>,
    /// `reps_done()` after every accepted input.
    reps: Vec<u32>,
}

/// Applies one input like a store-backed driver: logs it, applies it, and
/// checks that a rejected input changed nothing.
fn feed(run: &mut Run, input: Input, now: Time) -> Result<(), TestCaseError> {
    run.log.push((now.0.saturating_sub(T0.0), input));
    let before = run.session.clone();
    let checked = run.session.check(input, now);
    let handled = run.session.handle(input, now);
    prop_assert_eq!(
        &checked,
        &handled,
        "check and handle disagree on {:?}",
        input
    );
    match handled {
        Ok(()) => {
            run.outputs
                .extend(std::iter::from_fn(|| run.session.poll_output()));
            run.deadlines.extend(run.session.next_deadline());
            run.reps.push(run.session.reps_done());
        }
        Err(_) => {
            prop_assert_eq!(
                &run.session,
                &before,
                "a rejected {:?} changed the session",
                input
            );
            prop_assert_eq!(run.session.poll_output(), None);
        }
    }
    Ok(())
}

fn drive(
    p: &Protocol,
    options: Options,
    facts: Facts,
    actions: &[Action],
) -> Result<Run, TestCaseError> {
    let mut session = Session::new(p, options, facts, T0).expect("generated options fit");
    let outputs: Vec<Output> = std::iter::from_fn(|| session.poll_output()).collect();
    let mut run = Run {
        session,
        outputs,
        log: Vec::new(),
        deadlines: Vec::new(),
        reps: Vec::new(),
    };
    let mut now = T0;
    for a in actions {
        match a {
            Action::Wait(ms) => now = now.plus_ms(*ms),
            Action::Progress { late_ms } => {
                if let Some(d) = run.session.next_deadline() {
                    now = now.max(d).plus_ms(*late_ms);
                }
                feed(&mut run, Input::Timeout, now)?;
            }
            Action::Send(input) => feed(&mut run, *input, now)?,
            Action::Back(ms, input) => {
                let then = Time(now.0.saturating_sub(*ms).max(T0.0));
                feed(&mut run, *input, then)?;
            }
        }
    }
    // Finish the session the friendliest way, so every run reaches its end.
    for _ in 0..200 {
        let input = match run.session.stage() {
            Stage::Ended => break,
            Stage::Screening => Input::Answer { answer: Answer::No },
            Stage::RatingsBefore | Stage::RatingsAfter => Input::Rating { value: None },
            Stage::Setup => Input::Ready,
            Stage::Rolling => {
                if run.session.is_paused() {
                    Input::Resume
                } else {
                    now = now.max(run.session.next_deadline().expect("rolling has a deadline"));
                    Input::Timeout
                }
            }
        };
        feed(&mut run, input, now)?;
    }
    prop_assert_eq!(run.session.stage(), Stage::Ended, "the session did not end");
    Ok(run)
}

fn start_pairing(p: &Protocol, options: &Options, facts: &Facts) -> Pairing {
    options.pairing.unwrap_or(match facts.last_pairing {
        Some(last) if p.movement.breathing.alternate_each_session => last.switched(),
        _ => p.movement.breathing.start,
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Integration tests have no lib.rs beside them, so name the file.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/properties.txt"
        )))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_random_session_keeps_the_safety_and_pacing_invariants(
        options in options(),
        facts in facts(),
        actions in proptest::collection::vec(action(), 0..120),
    ) {
        let p = protocol("upper-back");
        let run = drive(&p, options.clone(), facts.clone(), &actions)?;
        let outputs = &run.outputs;

        // Exactly one end, and it is the last output.
        let ends: Vec<usize> = outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, Output::End { .. }))
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(ends.len(), 1);
        prop_assert_eq!(ends[0], outputs.len() - 1, "no output after the end");
        let Output::End { outcome, summary, .. } = &outputs[ends[0]] else { unreachable!() };
        prop_assert_eq!(Some(outcome), run.session.outcome());

        // A recent logged injury refuses before anything is asked.
        let recent = facts.injuries.iter().any(|i| i.at.plus_ms(48 * HOUR) > T0);
        if recent {
            prop_assert_eq!(outputs.len(), 2);
            let refused_by_injury = matches!(
                outcome,
                Outcome::Refused { reason: RefusalReason::RecentInjury { .. } }
            );
            prop_assert!(refused_by_injury);
        }

        // No phase before screening passes (the rolling stage), none in a refused session.
        let rolling_at = outputs
            .iter()
            .position(|o| matches!(o, Output::Stage { stage: Stage::Rolling }));
        let first_phase = outputs.iter().position(|o| matches!(o, Output::Phase { .. }));
        if let Some(f) = first_phase {
            prop_assert!(rolling_at.is_some_and(|r| r < f));
            let refused = matches!(outcome, Outcome::Refused { .. });
            prop_assert!(!refused, "a phase in a refused session");
        }

        // Reps: done <= target <= protocol max; phases alternate, breath follows the pairing,
        // deadlines never go backwards.
        let target = run.session.reps_target();
        prop_assert!(target <= p.movement.reps.max && target >= p.movement.reps.min);
        prop_assert!(summary.reps_done <= summary.reps_target);
        prop_assert_eq!(summary.reps_target, target);
        prop_assert!(run.reps.windows(2).all(|w| w[0] <= w[1]), "reps done went down");
        prop_assert!(run.deadlines.windows(2).all(|w| w[0] <= w[1]), "a deadline went backwards");
        let mut pairing = start_pairing(&p, &options, &facts);
        let mut expected_phase = 0u32;
        let mut last_deadline = T0;
        for o in outputs {
            match o {
                Output::PairingSwitched { pairing: new } => {
                    prop_assert_eq!(*new, pairing.switched());
                    pairing = *new;
                }
                Output::Phase { rep, of, direction, breath, deadline, duration_ms, .. } => {
                    prop_assert_eq!(*rep, expected_phase / 2 + 1);
                    prop_assert!(*rep <= *of);
                    prop_assert_eq!(*of, target);
                    let want = if expected_phase.is_multiple_of(2) { Direction::Out } else { Direction::Back };
                    prop_assert_eq!(*direction, want);
                    prop_assert_eq!(*breath, breath_for(pairing, *direction));
                    prop_assert!(*deadline > last_deadline);
                    prop_assert_eq!(*duration_ms, run.session.tempo_ms());
                    last_deadline = *deadline;
                    expected_phase += 1;
                }
                Output::Resumed { deadline, .. } => {
                    // A resumed phase never ends before it would have without the pause.
                    prop_assert!(*deadline >= last_deadline);
                    last_deadline = *deadline;
                }
                _ => {}
            }
        }
        if *outcome == Outcome::Completed {
            prop_assert_eq!(summary.reps_done, target);
            prop_assert_eq!(summary.active_ms, u64::from(target) * 2 * run.session.tempo_ms());
        }
        prop_assert!(summary.active_ms <= u64::from(target) * 2 * run.session.tempo_ms());

        // Replaying the input log gives the identical outputs and session.
        let r = replay(&p, options.clone(), facts.clone(), T0, &run.log).expect("options fit");
        prop_assert_eq!(&r.outputs, outputs);
        prop_assert_eq!(&r.session, &run.session);
        // Recovering without outputs reaches the same state.
        let q = recover(&p, options, facts, T0, &run.log).expect("options fit");
        prop_assert_eq!(&q.session, &run.session);
        prop_assert_eq!(&q.rejected, &r.rejected);

        // A reconnecting front-end sees the same end.
        let view = run.session.current(run.session.last_time());
        prop_assert_eq!(view.last(), outputs.last());
    }

    #[test]
    fn current_shows_the_phase_and_deadline_the_driver_is_waiting_for(
        options in options(),
        actions in proptest::collection::vec(action(), 0..80),
    ) {
        let p = protocol("upper-back");
        let mut session = Session::new(&p, options, Facts::default(), T0).expect("options fit");
        let mut now = T0;
        for a in &actions {
            let input = match a {
                Action::Wait(ms) => { now = now.plus_ms(*ms); continue; }
                Action::Progress { late_ms } => {
                    if let Some(d) = session.next_deadline() {
                        now = now.max(d).plus_ms(*late_ms);
                    }
                    Input::Timeout
                }
                Action::Send(i) | Action::Back(_, i) => *i,
            };
            let _ = session.handle(input, now);
            while session.poll_output().is_some() {}
            let view = session.current(now);
            let first = view.first().cloned();
            match session.stage() {
                Stage::Ended => {
                    let is_end = matches!(first, Some(Output::End { .. }));
                    prop_assert!(is_end);
                }
                stage => prop_assert_eq!(first, Some(Output::Stage { stage })),
            }
            if let Some(deadline) = session.next_deadline() {
                let phase_deadline = view.iter().find_map(|o| match o {
                    Output::Phase { deadline, .. } => Some(*deadline),
                    _ => None,
                });
                prop_assert_eq!(phase_deadline, Some(deadline));
            }
            if session.is_paused() {
                let paused = view.iter().any(|o| matches!(o, Output::Paused { .. }));
                prop_assert!(paused);
            }
        }
    }
}
