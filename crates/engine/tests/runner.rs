//! Property tests of the runner: for random sessions (options, facts, inputs,
//! late and early clocks) and a random crash point, a runner recovered from
//! the log persisted up to the crash is the runner that wrote it, and goes
//! on to produce the same outputs, log and end as the uninterrupted run.

mod common;

use std::sync::Arc;

use common::{HOUR, T0, protocol};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rollcoach_engine::*;
use rollcoach_protocol::{Answer, Pairing};

#[derive(Debug, Clone)]
enum Action {
    /// The clock moves on.
    Wait(u64),
    /// The driver wakes up at the next deadline, or late, and advances.
    Advance { late_ms: u64 },
    /// The person's input now (the runner catches up first).
    Offer(Input),
    /// An input stamped before the cursor.
    Back(u64, Input),
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
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
        1 => Just(Input::Timeout),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0u64..10_000).prop_map(Action::Wait),
        5 => prop_oneof![Just(0u64), 0u64..20_000].prop_map(|late_ms| Action::Advance { late_ms }),
        8 => input().prop_map(Action::Offer),
        1 => ((1u64..5_000), input()).prop_map(|(ms, i)| Action::Back(ms, i)),
    ]
}

fn options() -> impl Strategy<Value = Options> {
    (
        proptest::option::of(5u32..=8),
        proptest::option::of(prop_oneof![Just(2.0), Just(3.5)]),
        proptest::sample::subsequence(vec!["soreness", "posture", "overhead-block"], 0..=3),
        proptest::option::of(prop_oneof![
            Just(Pairing::InhaleOut),
            Just(Pairing::InhaleBack)
        ]),
    )
        .prop_map(|(reps, tempo_seconds, reasons, pairing)| Options {
            instrument: None,
            reps,
            tempo_seconds,
            reasons: reasons.into_iter().map(String::from).collect(),
            pairing,
        })
}

fn facts() -> impl Strategy<Value = Facts> {
    proptest::collection::vec(0u64..100 * HOUR, 0..2).prop_map(|ago| Facts {
        injuries: ago
            .into_iter()
            .map(|ms| InjuryFact {
                at: Time(T0.0 - ms),
                note: None,
            })
            .collect(),
        last_pairing: None,
    })
}

/// A driver's view of a run: every output with its time, the persisted log.
#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    outputs: Vec<(Time, Output)>,
    log: Vec<LogEntry>,
}

/// Where the run was before an action: what a crash there leaves behind.
struct Checkpoint {
    runner: Runner,
    now: Time,
    log_len: usize,
    outputs_len: usize,
}

/// Persists and commits a batch, like a store-backed driver; checks that a
/// rejected offer changed nothing and that the batch is numbered on.
fn persist(
    runner: &mut Runner,
    seen: &mut Seen,
    offered: Result<Batch, InputError>,
    before: &Runner,
) -> Result<(), TestCaseError> {
    match offered {
        Ok(batch) => {
            for (i, e) in batch.entries().iter().enumerate() {
                prop_assert_eq!(e.seq as usize, seen.log.len() + i);
                prop_assert!(T0.plus_ms(e.at_ms) >= runner.cursor());
            }
            seen.log.extend_from_slice(batch.entries());
            runner
                .commit(batch)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(runner.next_seq() as usize, seen.log.len());
        }
        Err(_) => prop_assert_eq!(&*runner, before, "a rejected offer changed the runner"),
    }
    seen.outputs
        .extend(std::iter::from_fn(|| runner.poll_output()));
    Ok(())
}

fn act(
    runner: &mut Runner,
    seen: &mut Seen,
    now: &mut Time,
    action: &Action,
) -> Result<(), TestCaseError> {
    let before = runner.clone();
    match action {
        Action::Wait(ms) => {
            *now = now.plus_ms(*ms);
            Ok(())
        }
        Action::Advance { late_ms } => {
            if let Some(d) = runner.next_deadline() {
                *now = (*now).max(d).plus_ms(*late_ms);
            }
            let batch = runner.advance(*now);
            persist(runner, seen, Ok(batch), &before)
        }
        Action::Offer(input) => {
            let offered = runner.offer(*input, *now);
            persist(runner, seen, offered, &before)
        }
        Action::Back(ms, input) => {
            let then = Time(now.0.saturating_sub(*ms).max(T0.0));
            let offered = runner.offer(*input, then);
            persist(runner, seen, offered, &before)
        }
    }
}

/// Plays `actions`, then finishes the session the friendliest way.
/// Calls `checkpoint` before every action.
fn play(
    runner: &mut Runner,
    seen: &mut Seen,
    mut now: Time,
    actions: &[Action],
    checkpoint: &mut dyn FnMut(&Runner, Time, &Seen),
) -> Result<(), TestCaseError> {
    for a in actions {
        checkpoint(runner, now, seen);
        act(runner, seen, &mut now, a)?;
    }
    for _ in 0..200 {
        let s = runner.session();
        let input = match s.stage() {
            Stage::Ended => break,
            Stage::Screening => Input::Answer { answer: Answer::No },
            Stage::RatingsBefore | Stage::RatingsAfter => Input::Rating { value: None },
            Stage::Setup => Input::Ready,
            Stage::Rolling if s.is_paused() => Input::Resume,
            Stage::Rolling => {
                now = now.max(runner.next_deadline().expect("rolling has a deadline"));
                Input::Timeout
            }
        };
        let before = runner.clone();
        let offered = runner.offer(input, now);
        persist(runner, seen, offered, &before)?;
    }
    prop_assert!(runner.end_record().is_some(), "the session did not end");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/runner.txt"
        )))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_runner_recovered_from_its_log_after_a_crash_goes_on_as_the_uninterrupted_one(
        options in options(),
        facts in facts(),
        actions in proptest::collection::vec(action(), 0..100),
        crash in any::<prop::sample::Index>(),
    ) {
        let protocol = Arc::new(protocol("upper-back"));
        let start = || Runner::start(protocol.clone(), options.clone(), facts.clone(), T0)
            .expect("generated options fit");

        // The uninterrupted run, with a checkpoint before every action.
        let mut runner = start();
        let mut seen = Seen::default();
        seen.outputs.extend(std::iter::from_fn(|| runner.poll_output()));
        let mut checkpoints = Vec::new();
        play(&mut runner, &mut seen, T0, &actions, &mut |r, now, s| {
            checkpoints.push(Checkpoint {
                runner: r.clone(),
                now,
                log_len: s.log.len(),
                outputs_len: s.outputs.len(),
            });
        })?;
        let end = runner.end_record().expect("ended");

        // The log alone rebuilds the finished runner, and its end.
        let whole = Runner::recover(protocol.clone(), options.clone(), facts.clone(), T0, &seen.log)
            .expect("the log recovers");
        prop_assert!(whole.rejected.is_empty(), "a runner logged a rejected input");
        prop_assert_eq!(&whole.runner, &runner);
        prop_assert_eq!(whole.runner.end_record(), Some(end.clone()));

        // A crash before a random action (after its batch was persisted or
        // before: the log is the same).
        if checkpoints.is_empty() {
            return Ok(());
        }
        let at = crash.index(checkpoints.len());
        let cp = &checkpoints[at];
        let restored = Runner::recover(
            protocol.clone(), options.clone(), facts.clone(), T0, &seen.log[..cp.log_len],
        ).expect("the log recovers");
        prop_assert!(restored.rejected.is_empty());
        let mut back = restored.runner;
        prop_assert_eq!(&back, &cp.runner, "the recovered runner is the one that wrote the log");
        // What a reconnecting front-end is shown is the same too.
        prop_assert_eq!(back.current(cp.now.max(back.cursor())), cp.runner.current(cp.now.max(cp.runner.cursor())));
        // Letting it go there records the same end as the live runner would have.
        prop_assert_eq!(back.clone().interrupt(back.cursor()), cp.runner.clone().interrupt(cp.runner.cursor()));

        // Going on from the crash: the same outputs, log and end.
        let mut after = Seen { outputs: Vec::new(), log: seen.log[..cp.log_len].to_vec() };
        play(&mut back, &mut after, cp.now, &actions[at..], &mut |_, _, _| {})?;
        prop_assert_eq!(&after.outputs[..], &seen.outputs[cp.outputs_len..]);
        prop_assert_eq!(&after.log, &seen.log);
        prop_assert_eq!(&back, &runner);
        prop_assert_eq!(back.end_record(), Some(end));
    }

    #[test]
    fn outputs_come_in_time_order_and_a_replay_of_the_log_gives_them_all(
        options in options(),
        actions in proptest::collection::vec(action(), 0..100),
    ) {
        let protocol = Arc::new(protocol("upper-back"));
        let mut runner = Runner::start(protocol.clone(), options.clone(), Facts::default(), T0)
            .expect("generated options fit");
        let mut seen = Seen::default();
        seen.outputs.extend(std::iter::from_fn(|| runner.poll_output()));
        play(&mut runner, &mut seen, T0, &actions, &mut |_, _, _| {})?;
        prop_assert!(seen.outputs.windows(2).all(|w| w[0].0 <= w[1].0), "an output went back in time");
        // Each Phase is stamped with the time its phase started.
        let tempo = runner.session().tempo_ms();
        for (at, o) in &seen.outputs {
            if let Output::Phase { deadline, .. } = o {
                prop_assert_eq!(at.plus_ms(tempo), *deadline);
            }
        }
        let log: Vec<(u64, Input)> = seen.log.iter().map(|e| (e.at_ms, e.input)).collect();
        let r = replay_arc(protocol, options, Facts::default(), T0, &log).expect("options fit");
        let outputs: Vec<Output> = seen.outputs.into_iter().map(|(_, o)| o).collect();
        prop_assert_eq!(r.outputs, outputs);
        prop_assert!(r.rejected.is_empty());
    }
}
