//! The autopilot does what its plan says, through the runner.

use rollcoach_engine::{
    Input, LogEntry, Outcome, Output, PainKind, RefusalReason, Stage, StopReason, Time,
};
use rollcoach_testkit::{Act, Autopilot, AutopilotError, Plan, Point, T0, protocol, protocol_arc};

fn run(plan: Plan) -> rollcoach_testkit::Run {
    Autopilot::start(protocol_arc("upper-back"), plan, T0)
        .expect("options fit")
        .run()
        .expect("drives")
}

#[test]
fn the_default_plan_completes_and_every_entry_goes_to_the_sink_first() {
    let mut sunk: Vec<LogEntry> = Vec::new();
    let mut batches = 0;
    let run = Autopilot::start(protocol("upper-back"), Plan::default(), T0)
        .unwrap()
        .sink(|entries| {
            assert!(!entries.is_empty(), "an empty batch is not handed over");
            batches += 1;
            sunk.extend_from_slice(entries);
        })
        .run()
        .unwrap();
    assert_eq!(run.outcome(), Some(&Outcome::Completed));
    assert_eq!(sunk, run.log);
    assert!(batches > 0);
    let seqs: Vec<u32> = run.log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..run.log.len() as u32).collect::<Vec<_>>());
    assert!(run.outputs.windows(2).all(|w| w[0].0 <= w[1].0));
    let end = run.end.as_ref().unwrap();
    assert_eq!(end.summary.reps_done, end.summary.reps_target);
    assert_eq!(end.ended_at, T0.plus_ms(run.log.last().unwrap().at_ms));
    // One second to answer each prompt: the first answer is at 1 s.
    assert_eq!(run.log[0].at_ms, 1_000);
    assert!(run.rejected.is_empty());
    // The log replays to the same outputs.
    let replay = rollcoach_engine::replay_arc(
        run.protocol.clone(),
        run.options.clone(),
        run.facts.clone(),
        T0,
        &run.inputs(),
    )
    .unwrap();
    assert_eq!(replay.outputs, run.plain_outputs());
}

#[test]
fn refusing_answers_refuse_at_the_question_asked() {
    let first = run(Plan::default().refuse());
    let q = &protocol("upper-back").screening.questions;
    assert_eq!(
        first.outcome(),
        Some(&Outcome::Refused {
            reason: RefusalReason::Answer {
                question: q[0].id.clone()
            }
        })
    );
    assert_eq!(first.log.len(), 1);
    let second = run(Plan {
        screening: rollcoach_testkit::Screening::RefuseAt(2),
        ..Plan::default()
    });
    assert_eq!(
        second.outcome(),
        Some(&Outcome::Refused {
            reason: RefusalReason::Answer {
                question: q[1].id.clone()
            }
        })
    );
    assert_eq!(second.log.len(), 2);
}

#[test]
fn pain_at_rep_three_stops_after_two_reps_a_reaction_later() {
    let run = run(Plan::default().react_ms(1_200).at(
        Point::Rep(3),
        Input::Pain {
            kind: PainKind::Spine,
        },
    ));
    assert_eq!(
        run.outcome(),
        Some(&Outcome::Stopped {
            reason: StopReason::PainOverSpine
        })
    );
    let end = run.end.as_ref().unwrap();
    assert_eq!(end.summary.reps_done, 2);
    let rep3 = run
        .outputs
        .iter()
        .find(|(_, o)| matches!(o, Output::Phase { rep: 3, .. }))
        .map(|(t, _)| *t)
        .unwrap();
    assert_eq!(end.ended_at, rep3.plus_ms(1_200));
}

#[test]
fn ratings_before_and_after_are_given_in_prompt_order() {
    let run = run(Plan::reasons(["soreness", "posture"]).ratings([Some(7), None], [Some(3)]));
    let ratings = &run.end.as_ref().unwrap().summary.ratings;
    assert!(ratings.len() >= 2, "{ratings:?}");
    assert_eq!(ratings[0].before, Some(7));
    assert_eq!(ratings[0].after, Some(3));
    assert_eq!(ratings[1].before, None);
    assert_eq!(ratings[1].after, None);
    let every = run_every();
    assert!(
        every
            .iter()
            .all(|r| r.before == Some(5) && r.after == Some(5))
    );
}

fn run_every() -> Vec<rollcoach_engine::RatingResult> {
    run(Plan::reasons(["soreness"]).rating(Some(5)))
        .end
        .unwrap()
        .summary
        .ratings
}

#[test]
fn a_crash_stops_driving_at_the_point_and_the_log_recovers_the_runner() {
    let run = run(Plan::default().at(Point::Phase(3), Act::Crash));
    assert_eq!(run.end, None);
    assert_eq!(run.outcome(), None);
    assert_eq!(run.runner.session().reps_done(), 1);
    let phases = run
        .outputs
        .iter()
        .filter(|(_, o)| matches!(o, Output::Phase { .. }))
        .count();
    assert_eq!(phases, 3);
    let restored = run.recover().unwrap();
    assert!(restored.rejected.is_empty());
    assert_eq!(restored.runner, run.runner);
}

#[test]
fn letting_go_at_rep_four_is_the_interrupted_record_then() {
    let run = run(Plan::default().at(Point::Rep(4), Act::LetGo { after_ms: 700 }));
    let end = run.end.as_ref().unwrap();
    assert_eq!(end.outcome, None);
    assert_eq!(end.summary.reps_done, 3);
    let rep4 = run
        .outputs
        .iter()
        .find(|(_, o)| matches!(o, Output::Phase { rep: 4, .. }))
        .map(|(t, _)| *t)
        .unwrap();
    assert_eq!(end.ended_at, rep4.plus_ms(700));
    assert!(run.runner.is_over());
}

#[test]
fn a_pause_a_noise_at_a_time_and_a_stop_at_a_stage_happen_where_scripted() {
    let run = run(Plan::default()
        .at(Point::Rep(2), Act::PauseFor(30_000))
        .at(Point::At(60_000), Input::Noise)
        .at(Point::Rep(5), Input::Discomfort { level: 4 })
        .at(Point::Rep(5), Input::SwitchBreathing));
    assert_eq!(run.outcome(), Some(&Outcome::Completed));
    let paused = run
        .outputs
        .iter()
        .position(|(_, o)| matches!(o, Output::Paused { .. }))
        .unwrap();
    let resumed = run
        .outputs
        .iter()
        .position(|(_, o)| matches!(o, Output::Resumed { .. }))
        .unwrap();
    assert_eq!(
        run.outputs[resumed].0.since(run.outputs[paused].0),
        30_000,
        "resumed 30 s after the pause"
    );
    let noise = run.log.iter().find(|e| e.input == Input::Noise).unwrap();
    assert_eq!(noise.at_ms, 60_000);
    let summary = &run.end.as_ref().unwrap().summary;
    assert_eq!(summary.noises, 1);
    assert_eq!(summary.discomfort, vec![4]);
    assert_eq!(summary.pairings.len(), 2, "switched once");
    // The two acts at rep 5 come a reaction apart.
    let at = |i: Input| run.log.iter().find(|e| e.input == i).unwrap().at_ms;
    assert_eq!(
        at(Input::SwitchBreathing) - at(Input::Discomfort { level: 4 }),
        1_000
    );

    let stopped = self::run(Plan::default().at(Point::Stage(Stage::Setup), Input::Stop));
    assert_eq!(
        stopped.outcome(),
        Some(&Outcome::Stopped {
            reason: StopReason::ByPerson
        })
    );
    assert_eq!(stopped.end.as_ref().unwrap().summary.reps_done, 0);
}

#[test]
fn a_scripted_input_that_does_not_fit_is_kept_as_rejected_and_not_logged() {
    let run = run(Plan::default().at(Point::Rep(1), Input::Resume));
    assert_eq!(run.outcome(), Some(&Outcome::Completed));
    assert_eq!(run.rejected.len(), 1);
    assert_eq!(run.rejected[0].input, Input::Resume);
    assert!(run.log.iter().all(|e| e.input != Input::Resume));
}

#[test]
fn options_that_do_not_fit_are_an_error_naming_them() {
    let plan = Plan::default().options(rollcoach_engine::Options {
        reps: Some(1_000),
        ..Default::default()
    });
    let err = Autopilot::start(protocol("upper-back"), plan, T0).unwrap_err();
    assert!(matches!(err, AutopilotError::Options(_)), "{err}");
    assert!(err.to_string().contains("reps"), "{err}");
}

#[test]
fn a_test_can_step_the_autopilot_itself() {
    let mut pilot = Autopilot::start(protocol("upper-back"), Plan::default(), T0).unwrap();
    // The first prompt's answer, given by hand at 5 s.
    let answer = pilot.take_reply().expect("a screening question");
    pilot.send(answer, 5_000).unwrap();
    assert_eq!(pilot.log()[0].at_ms, 5_000);
    assert!(matches!(
        pilot.offer(Input::Ready, pilot.now()),
        Err(AutopilotError::Input(_))
    ));
    assert_eq!(pilot.log().len(), 1, "a rejected offer logs nothing");
    while pilot.runner().session().stage() != Stage::Rolling {
        assert!(pilot.step().unwrap());
    }
    assert!(pilot.wait().unwrap());
    let left = pilot.let_go(Time(0));
    let end = left.end.unwrap();
    assert_eq!(end.outcome, None);
    assert_eq!(end.ended_at, left.now, "never before the clock");
}

#[test]
fn a_sink_that_fails_stops_the_driving_and_the_batch_is_not_committed() {
    let mut stored: Vec<LogEntry> = Vec::new();
    let err = Autopilot::start(protocol("upper-back"), Plan::default(), T0)
        .unwrap()
        .try_sink(|entries: &[LogEntry]| {
            if stored.len() >= 4 {
                return Err("disk full");
            }
            stored.extend_from_slice(entries);
            Ok(())
        })
        .run()
        .unwrap_err();
    assert!(matches!(err, AutopilotError::Sink(_)), "{err}");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(stored.len(), 4);

    // Stepping by hand: the failed batch leaves the runner as it was.
    let failing = std::cell::Cell::new(false);
    let mut pilot = Autopilot::start(protocol("upper-back"), Plan::default(), T0)
        .unwrap()
        .try_sink(|_: &[LogEntry]| if failing.get() { Err("gone") } else { Ok(()) });
    assert!(pilot.step().unwrap());
    let before = pilot.runner().clone();
    failing.set(true);
    let answer = Input::Answer {
        answer: rollcoach_protocol::Answer::No,
    };
    assert!(matches!(
        pilot.send(answer, 10),
        Err(AutopilotError::Sink(_))
    ));
    assert_eq!(pilot.runner(), &before);
    assert_eq!(pilot.log().len(), 1);
}
