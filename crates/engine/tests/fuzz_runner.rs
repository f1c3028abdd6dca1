//! Fuzz target for the session runner's inputs (issue 13, "Tests": the
//! WebSocket input frames are retired; what a driver or a pushed log feeds
//! the runner is what is left of them). Hostile values everywhere: any
//! options (reps, tempo NaN or infinite, unknown ids), facts from any time,
//! a start near the end of time, inputs off every scale at any time
//! (backwards, or jumps to the end of time), logs with any numbering, and
//! protocols with changed numbers. Property: the runner never panics, and
//! what it refuses it refuses with an error.
//!
//! Cases: `ROLLCOACH_FUZZ_CASES` (default 64), so CI can run it longer.

mod common;

use std::sync::Arc;

use common::{T0, protocol};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rollcoach_engine::*;
use rollcoach_protocol::{Answer, Pairing, Protocol};

fn cases() -> u32 {
    std::env::var("ROLLCOACH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(64)
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        prop_oneof![Just(Answer::Yes), Just(Answer::No)]
            .prop_map(|answer| Input::Answer { answer }),
        Just(Input::Ready),
        proptest::option::of(any::<u8>()).prop_map(|value| Input::Rating { value }),
        Just(Input::Pause),
        Just(Input::Resume),
        any::<u8>().prop_map(|level| Input::Discomfort { level }),
        prop_oneof![
            Just(PainKind::Pop),
            Just(PainKind::Spine),
            Just(PainKind::Sharp),
            Just(PainKind::Other)
        ]
        .prop_map(|kind| Input::Pain { kind }),
        Just(Input::Noise),
        Just(Input::SwitchBreathing),
        Just(Input::Stop),
        Just(Input::Timeout),
    ]
}

/// Any time: near the start, far later, or at the end of time.
fn any_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..20_000,
        1 => any::<u64>(),
        1 => Just(u64::MAX),
        1 => Just(u64::MAX / 2),
    ]
}

fn any_tempo() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-1.0),
        Just(1e-9),
        Just(1e300),
        0.5f64..40.0,
    ]
}

fn any_options() -> impl Strategy<Value = Options> {
    (
        proptest::option::of(prop_oneof![Just(0u32), 1u32..60, any::<u32>()]),
        proptest::option::of(any_tempo()),
        proptest::collection::vec(
            prop_oneof![Just("soreness".to_owned()), ".{0,8}".prop_map(String::from)],
            0..3,
        ),
        proptest::option::of(prop_oneof![
            Just(Pairing::InhaleOut),
            Just(Pairing::InhaleBack)
        ]),
        proptest::option::of(prop_oneof![
            Just("foam-roller".to_owned()),
            ".{0,8}".prop_map(String::from)
        ]),
    )
        .prop_map(
            |(reps, tempo_seconds, reasons, pairing, instrument)| Options {
                instrument,
                reps,
                tempo_seconds,
                reasons,
                pairing,
            },
        )
}

fn any_facts() -> impl Strategy<Value = Facts> {
    (
        proptest::collection::vec(any::<u64>(), 0..3),
        proptest::option::of(prop_oneof![
            Just(Pairing::InhaleOut),
            Just(Pairing::InhaleBack)
        ]),
    )
        .prop_map(|(ats, last_pairing)| Facts {
            injuries: ats
                .into_iter()
                .map(|at| InjuryFact {
                    at: Time(at),
                    note: None,
                })
                .collect(),
            last_pairing,
        })
}

/// The upper-back protocol with some of its numbers changed, as a hostile
/// snapshot would have them (the store deserializes snapshots with serde:
/// no lint runs on them).
fn any_protocol() -> impl Strategy<Value = Protocol> {
    (
        proptest::option::of((any::<u32>(), any::<u32>(), any::<u32>())),
        proptest::option::of((any_tempo(), any_tempo(), any_tempo())),
        proptest::option::of(any::<u32>()),
        any::<bool>(),
    )
        .prop_map(|(reps, tempo, window, empty_setup)| {
            let mut p = protocol("upper-back");
            if let Some((min, max, default)) = reps {
                p.movement.reps.min = min;
                p.movement.reps.max = max;
                p.movement.reps.default = default;
            }
            if let Some((min, max, default)) = tempo {
                p.movement.tempo.min_seconds = min;
                p.movement.tempo.max_seconds = max;
                p.movement.tempo.default_seconds = default;
            }
            if let Some(hours) = window {
                p.screening.injury_rule.window_hours = hours;
            }
            if empty_setup {
                p.setup.clear();
                p.indications.clear();
            }
            p
        })
}

#[derive(Debug, Clone)]
enum Step {
    Offer(u64, Input),
    Advance(u64),
    Current(u64),
    Interrupt(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any_ms(), any_input()).prop_map(|(t, i)| Step::Offer(t, i)),
        4 => any_ms().prop_map(Step::Advance),
        1 => any_ms().prop_map(Step::Current),
        1 => any_ms().prop_map(Step::Interrupt),
    ]
}

/// Drives a runner through `steps` at times after `start` (each step's time
/// added to the runner's cursor, or to the start for a jump back).
fn drive(runner: &mut Runner, start: Time, steps: &[Step]) -> Vec<LogEntry> {
    let mut log = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let at = |ms: u64| {
            if i % 5 == 4 {
                start.plus_ms(ms) // sometimes before the cursor
            } else {
                runner.cursor().plus_ms(ms)
            }
        };
        match s {
            Step::Offer(ms, input) => {
                if let Ok(batch) = runner.offer(*input, at(*ms)) {
                    log.extend_from_slice(batch.entries());
                    let _ = runner.commit(batch);
                }
            }
            Step::Advance(ms) => {
                let batch = runner.advance(at(*ms));
                log.extend_from_slice(batch.entries());
                let _ = runner.commit(batch);
            }
            Step::Current(ms) => {
                let _ = runner.current(at(*ms));
            }
            Step::Interrupt(ms) => {
                let _ = runner.interrupt(at(*ms));
            }
        }
        while runner.poll_output().is_some() {}
        let _ = runner.next_deadline();
        let _ = runner.end_record();
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/fuzz_runner.txt"
        )))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_options_facts_and_inputs_never_panic_the_runner(
        protocol in any_protocol(),
        options in any_options(),
        facts in any_facts(),
        start in prop_oneof![Just(T0.0), any::<u64>(), Just(u64::MAX - 1)],
        steps in proptest::collection::vec(step(), 0..80),
    ) {
        let protocol = Arc::new(protocol);
        let start = Time(start);
        let Ok(mut runner) = Runner::start(protocol.clone(), options.clone(), facts.clone(), start) else {
            return Ok(()); // refused with an error: what a hostile start should get
        };
        let log = drive(&mut runner, start, &steps);
        // Its own log recovers.
        let restored = Runner::recover(protocol, options, facts, start, &log);
        prop_assert!(restored.is_ok(), "{:?}", restored.err());
    }

    #[test]
    fn a_hostile_log_never_panics_recovery(
        options in any_options(),
        facts in any_facts(),
        start in prop_oneof![Just(T0.0), any::<u64>()],
        log in proptest::collection::vec((prop_oneof![0u32..200, any::<u32>()], any_ms(), any_input()), 0..120),
        sorted in any::<bool>(),
    ) {
        let mut log: Vec<LogEntry> = log
            .into_iter()
            .map(|(seq, at_ms, input)| LogEntry { seq, at_ms, input })
            .collect();
        if sorted {
            // Numbered in order, times in any order: what a pushed log can say.
            for (i, e) in log.iter_mut().enumerate() {
                e.seq = u32::try_from(i).expect("small");
            }
        }
        let protocol = Arc::new(protocol("upper-back"));
        if let Ok(restored) = Runner::recover(protocol, options, facts, Time(start), &log) {
            let mut runner = restored.runner;
            let _ = runner.current(Time(start));
            let end = runner.interrupt(Time(start).plus_ms(u64::MAX / 4));
            prop_assert!(end.summary.reps_done <= end.summary.reps_target.max(rollcoach_protocol::MAX_REPS));
        }
    }
}
