//! One scenario per path through a session, on a virtual clock. Each
//! transcript (inputs `>`, outputs `<`, rejections `!`, with milliseconds
//! since the start) is snapshotted with insta.

mod common;

use common::{Driver, HOUR, T0, protocol};
use insta::assert_snapshot;
use rollcoach_engine::*;
use rollcoach_protocol::{Answer, Pairing};

fn reasons(ids: &[&str]) -> Options {
    Options {
        reasons: ids.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    }
}

fn end_of(d: &Driver) -> (Outcome, String, Summary) {
    match d.last() {
        Output::End {
            outcome,
            message,
            summary,
        } => (outcome.clone(), message.clone(), summary.clone()),
        other => panic!("expected the end, got {other:?}"),
    }
}

fn ends(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|o| matches!(o, Output::End { .. }))
        .count()
}

#[test]
fn a_default_session_completes_with_every_rep_paced_by_the_breath() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.progress_all();
    let (outcome, _, summary) = end_of(&d);
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(summary.reps_done, 6);
    assert_eq!(summary.reps_target, 6);
    assert_eq!(summary.active_ms, 12 * 4000);
    assert_eq!(summary.pairings, vec![Pairing::InhaleOut]);
    assert_eq!(ends(&d.outputs), 1);
    assert_eq!(d.session.stage(), Stage::Ended);
    assert_eq!(d.session.next_deadline(), None);
    assert_snapshot!(d.transcript);
}

#[test]
fn chosen_reasons_are_rated_before_and_after_and_summarized() {
    let p = protocol("upper-back");
    let mut d = Driver::new(
        &p,
        Options {
            reps: Some(5),
            tempo_seconds: Some(3.0),
            ..reasons(&["overhead-block", "soreness"])
        },
        Facts::default(),
    );
    for _ in &p.screening.questions {
        d.ok(Input::Answer { answer: Answer::No });
    }
    assert_eq!(d.session.stage(), Stage::RatingsBefore);
    d.ok(Input::Rating { value: Some(6) });
    d.ok(Input::Rating { value: None });
    for _ in &p.setup {
        d.ok(Input::Ready);
    }
    d.progress_all();
    assert_eq!(d.session.stage(), Stage::RatingsAfter);
    d.ok(Input::Rating { value: Some(3) });
    d.ok(Input::Rating { value: Some(7) });
    let (outcome, _, summary) = end_of(&d);
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(
        summary.ratings,
        vec![
            RatingResult {
                id: "upper-back-soreness".into(),
                before: Some(6),
                after: Some(3)
            },
            RatingResult {
                id: "overhead-freedom".into(),
                before: None,
                after: Some(7)
            },
        ]
    );
    assert_eq!(summary.active_ms, 10 * 3000);
    assert_snapshot!(d.transcript);
}

#[test]
fn an_injury_logged_within_48_hours_refuses_at_once_and_says_when_it_is_allowed() {
    let p = protocol("upper-back");
    let injured_at = Time(T0.0 - 10 * HOUR);
    let facts = Facts {
        injuries: vec![InjuryFact {
            at: injured_at,
            note: Some("tweaked it lifting".into()),
        }],
        last_pairing: None,
    };
    let d = Driver::new(&p, Options::default(), facts);
    let (outcome, message, summary) = end_of(&d);
    assert_eq!(
        outcome,
        Outcome::Refused {
            reason: RefusalReason::RecentInjury {
                injured_at,
                allowed_at: Time(T0.0 + 38 * HOUR),
            }
        }
    );
    assert_eq!(message, p.screening.injury_rule.message);
    assert_eq!(summary.reps_done, 0);
    assert!(!d.outputs.iter().any(|o| matches!(o, Output::Prompt(_))));
    assert_eq!(d.outputs.len(), 2, "the stage, then the refusal");
    assert_snapshot!(d.transcript);
}

#[test]
fn with_several_injuries_the_latest_decides_when_the_session_is_allowed() {
    let p = protocol("upper-back");
    let facts = Facts {
        injuries: vec![
            InjuryFact {
                at: Time(T0.0 - 40 * HOUR),
                note: None,
            },
            InjuryFact {
                at: Time(T0.0 - 2 * HOUR),
                note: None,
            },
            InjuryFact {
                at: Time(T0.0 - 30 * HOUR),
                note: None,
            },
        ],
        last_pairing: None,
    };
    let d = Driver::new(&p, Options::default(), facts);
    assert_eq!(
        end_of(&d).0,
        Outcome::Refused {
            reason: RefusalReason::RecentInjury {
                injured_at: Time(T0.0 - 2 * HOUR),
                allowed_at: Time(T0.0 + 46 * HOUR),
            }
        }
    );
}

#[test]
fn an_injury_exactly_48_hours_ago_or_earlier_no_longer_refuses() {
    let p = protocol("upper-back");
    for at in [T0.0 - 48 * HOUR, T0.0 - 48 * HOUR - 1, T0.0 - 400 * HOUR] {
        let facts = Facts {
            injuries: vec![InjuryFact {
                at: Time(at),
                note: None,
            }],
            last_pairing: None,
        };
        let d = Driver::new(&p, Options::default(), facts);
        assert_eq!(d.session.stage(), Stage::Screening);
        assert!(matches!(
            d.last(),
            Output::Cue { .. } | Output::Prompt(Prompt::Screening { .. })
        ));
    }
    // One millisecond later it still refuses, until one millisecond from now.
    let facts = Facts {
        injuries: vec![InjuryFact {
            at: Time(T0.0 - 48 * HOUR + 1),
            note: None,
        }],
        last_pairing: None,
    };
    let d = Driver::new(&p, Options::default(), facts);
    assert!(matches!(
        end_of(&d).0,
        Outcome::Refused { reason: RefusalReason::RecentInjury { allowed_at, .. } } if allowed_at == Time(T0.0 + 1)
    ));
}

#[test]
fn the_refusing_answer_to_each_screening_question_refuses_with_its_message() {
    let p = protocol("upper-back");
    for (i, q) in p.screening.questions.iter().enumerate() {
        let mut d = Driver::new(&p, reasons(&["soreness"]), Facts::default());
        for _ in 0..i {
            d.ok(Input::Answer { answer: Answer::No });
        }
        d.ok(Input::Answer {
            answer: q.refuse_on,
        });
        let (outcome, message, _) = end_of(&d);
        assert_eq!(
            outcome,
            Outcome::Refused {
                reason: RefusalReason::Answer {
                    question: q.id.clone()
                }
            }
        );
        assert_eq!(message, q.refusal);
        assert!(!d.outputs.iter().any(|o| matches!(o, Output::Phase { .. })));
        assert_eq!(ends(&d.outputs), 1);
        if i == 0 {
            assert_snapshot!(d.transcript);
        }
    }
}

#[test]
fn each_kind_of_pain_stops_at_once_with_the_protocols_message() {
    let p = protocol("upper-back");
    let cases = [
        (PainKind::Pop, StopReason::PainWithPop, "pain-with-pop"),
        (
            PainKind::Spine,
            StopReason::PainOverSpine,
            "pain-over-spine",
        ),
        (
            PainKind::Sharp,
            StopReason::SharpOrRadiating,
            "sharp-or-radiating",
        ),
        (PainKind::Other, StopReason::OtherPain, "other-pain"),
    ];
    for (kind, reason, rule) in cases {
        let mut d = Driver::new(&p, Options::default(), Facts::default());
        d.start_rolling(&p, None);
        d.progress_n(3);
        d.wait(1000);
        d.ok(Input::Pain { kind });
        let (outcome, message, summary) = end_of(&d);
        assert_eq!(outcome, Outcome::Stopped { reason });
        let rule = p.stop_rules.iter().find(|r| r.id == rule).unwrap();
        assert_eq!(message, rule.message);
        assert_eq!(summary.reps_done, 1);
        assert_eq!(summary.active_ms, 3 * 4000 + 1000);
        assert_eq!(d.session.next_deadline(), None);
        assert_eq!(
            d.session.handle(Input::Timeout, d.now),
            Err(InputError::Ended)
        );
        if kind == PainKind::Spine {
            assert_snapshot!(d.transcript);
        }
    }
}

#[test]
fn pain_during_setup_stops_the_session_before_anything_moves() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    for _ in &p.screening.questions {
        d.ok(Input::Answer { answer: Answer::No });
    }
    d.ok(Input::Ready);
    d.ok(Input::Pain {
        kind: PainKind::Other,
    });
    assert_eq!(
        end_of(&d).0,
        Outcome::Stopped {
            reason: StopReason::OtherPain
        }
    );
    assert!(!d.outputs.iter().any(|o| matches!(o, Output::Phase { .. })));
}

#[test]
fn discomfort_above_the_threshold_stops_the_session() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.progress_n(1);
    d.ok(Input::Discomfort { level: 8 });
    let (outcome, message, summary) = end_of(&d);
    assert_eq!(
        outcome,
        Outcome::Stopped {
            reason: StopReason::TooMuchDiscomfort
        }
    );
    assert_eq!(
        message,
        p.stop_rules
            .iter()
            .find(|r| r.id == "too-much-discomfort")
            .unwrap()
            .message
    );
    assert_eq!(summary.discomfort, vec![8]);
    assert_snapshot!(d.transcript);
}

#[test]
fn discomfort_at_or_below_the_threshold_is_acknowledged_and_the_session_goes_on() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.wait(500);
    d.ok(Input::Discomfort { level: 7 });
    d.ok(Input::Discomfort { level: 3 });
    assert_eq!(d.session.stage(), Stage::Rolling);
    d.progress_all();
    let (outcome, _, summary) = end_of(&d);
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(summary.discomfort, vec![7, 3]);
    assert_eq!(
        d.outputs
            .iter()
            .filter(|o| matches!(o, Output::Note { id, .. } if id == "discomfort-acknowledged"))
            .count(),
        2
    );
    let start = d.transcript.find("discomfort").unwrap();
    assert_snapshot!(&d.transcript[..d.transcript[start..].find("\n   4000").unwrap() + start]);
}

#[test]
fn a_noise_without_pain_is_acknowledged_as_normal_and_the_session_goes_on() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.progress_n(2);
    d.ok(Input::Noise);
    d.ok(Input::Noise);
    d.progress_all();
    let (outcome, _, summary) = end_of(&d);
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(summary.noises, 2);
    let notes: Vec<&str> = d
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Note { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        [
            "discomfort-expected",
            "noises-normal-early",
            "noises-normal",
            "noises-normal"
        ]
    );
}

#[test]
fn the_person_can_stop_at_any_stage() {
    let p = protocol("upper-back");
    for answered in 0..=p.screening.questions.len() {
        let mut d = Driver::new(&p, Options::default(), Facts::default());
        for _ in 0..answered {
            d.ok(Input::Answer { answer: Answer::No });
        }
        d.ok(Input::Stop);
        assert_eq!(
            end_of(&d).0,
            Outcome::Stopped {
                reason: StopReason::ByPerson
            }
        );
        assert_eq!(ends(&d.outputs), 1);
    }
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.progress_n(5);
    d.ok(Input::Pause);
    d.ok(Input::Stop);
    let (_, message, summary) = end_of(&d);
    assert_eq!(message, "Session stopped.");
    assert_eq!(summary.reps_done, 2);
    assert_eq!(summary.active_ms, 5 * 4000);
}

#[test]
fn pause_freezes_the_phase_and_resume_continues_with_the_time_it_had_left() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    let phase_end = d.session.next_deadline().unwrap();
    assert_eq!(phase_end, d.now.plus_ms(4000));
    d.wait(1500);
    d.ok(Input::Pause);
    assert_eq!(d.last(), &Output::Paused { remaining_ms: 2500 });
    assert_eq!(d.session.next_deadline(), None);
    assert!(d.session.is_paused());
    d.wait(60_000);
    assert!(!d.progress(), "no deadline while paused");
    d.ok(Input::Resume);
    let resumed_deadline = d.now.plus_ms(2500);
    assert_eq!(
        d.last(),
        &Output::Resumed {
            deadline: resumed_deadline,
            remaining_ms: 2500
        }
    );
    assert_eq!(d.session.next_deadline(), Some(resumed_deadline));
    d.progress_all();
    let (outcome, _, summary) = end_of(&d);
    assert_eq!(outcome, Outcome::Completed);
    assert_eq!(summary.active_ms, 12 * 4000, "pauses are not active time");
    assert_eq!(d.t(), 60_000 + 12 * 4000, "the pause adds to the wall time");
    let from = d.transcript.find("\"stage\":\"rolling\"").unwrap();
    let from = d.transcript[..from].rfind('\n').unwrap() + 1;
    let cut = d.transcript.find("\n  68000").unwrap();
    assert_snapshot!(&d.transcript[from..cut]);
}

#[test]
fn switching_the_breathing_takes_effect_at_the_next_phase() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.wait(1000);
    d.ok(Input::SwitchBreathing);
    assert_eq!(
        d.last(),
        &Output::PairingSwitched {
            pairing: Pairing::InhaleBack
        }
    );
    assert_eq!(d.session.pairing(), Pairing::InhaleBack);
    d.progress_all();
    let breaths: Vec<(Direction, Breath)> = d
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Phase {
                direction, breath, ..
            } => Some((*direction, *breath)),
            _ => None,
        })
        .collect();
    // The first phase keeps its breath; from the second on, InhaleBack.
    assert_eq!(breaths[0], (Direction::Out, Breath::Inhale));
    assert_eq!(breaths[1], (Direction::Back, Breath::Inhale));
    assert_eq!(breaths[2], (Direction::Out, Breath::Exhale));
    let (_, _, summary) = end_of(&d);
    assert_eq!(
        summary.pairings,
        vec![Pairing::InhaleOut, Pairing::InhaleBack]
    );
    let from = d.transcript.find("\"stage\":\"rolling\"").unwrap();
    let from = d.transcript[..from].rfind('\n').unwrap() + 1;
    let cut = d.transcript.find("\n   8000").unwrap();
    assert_snapshot!(&d.transcript[from..cut]);
}

#[test]
fn the_pairing_alternates_from_the_last_session_unless_chosen() {
    let p = protocol("upper-back");
    let first_breath = |options: Options, last: Option<Pairing>| {
        let mut d = Driver::new(
            &p,
            options,
            Facts {
                injuries: vec![],
                last_pairing: last,
            },
        );
        d.start_rolling(&p, None);
        let pairing = d.session.pairing();
        let breath = d
            .outputs
            .iter()
            .find_map(|o| match o {
                Output::Phase { breath, .. } => Some(*breath),
                _ => None,
            })
            .unwrap();
        (pairing, breath)
    };
    assert_eq!(
        first_breath(Options::default(), None),
        (Pairing::InhaleOut, Breath::Inhale)
    );
    assert_eq!(
        first_breath(Options::default(), Some(Pairing::InhaleOut)),
        (Pairing::InhaleBack, Breath::Exhale)
    );
    assert_eq!(
        first_breath(Options::default(), Some(Pairing::InhaleBack)),
        (Pairing::InhaleOut, Breath::Inhale)
    );
    let chosen = Options {
        pairing: Some(Pairing::InhaleOut),
        ..Options::default()
    };
    assert_eq!(
        first_breath(chosen, Some(Pairing::InhaleOut)),
        (Pairing::InhaleOut, Breath::Inhale)
    );
}

#[test]
fn a_protocol_that_switches_every_two_reps_switches_at_reps_three_and_five() {
    let mut p = protocol("upper-back");
    p.movement.breathing.switch_every_reps = Some(2);
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    d.progress_all();
    let mut switched_at = Vec::new();
    let mut rep = 0;
    for o in &d.outputs {
        match o {
            Output::Phase { rep: r, .. } => rep = *r,
            Output::PairingSwitched { pairing } => switched_at.push((rep + 1, *pairing)),
            _ => {}
        }
    }
    assert_eq!(
        switched_at,
        [(3, Pairing::InhaleBack), (5, Pairing::InhaleOut)]
    );
    assert_eq!(
        end_of(&d).2.pairings,
        vec![Pairing::InhaleOut, Pairing::InhaleBack]
    );
}

#[test]
fn a_late_driver_does_not_make_the_phases_drift() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    d.start_rolling(&p, None);
    let start = d.now;
    // 1.5 s late for the first deadline: the second phase still ends at 8 s.
    d.wait(5500);
    d.ok(Input::Timeout);
    assert_eq!(d.session.next_deadline(), Some(start.plus_ms(8000)));
    // 9 s late: it catches up on every passed deadline at once.
    d.wait(2500 + 9000);
    d.ok(Input::Timeout);
    assert_eq!(d.session.next_deadline(), Some(start.plus_ms(20_000)));
    assert_eq!(d.session.reps_done(), 2);
    // An early timeout changes nothing.
    d.ok(Input::Timeout);
    assert_eq!(d.session.next_deadline(), Some(start.plus_ms(20_000)));
    let deadlines: Vec<Time> = d
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Phase { deadline, .. } => Some(*deadline),
            _ => None,
        })
        .collect();
    let expected: Vec<Time> = (1..=5).map(|k| start.plus_ms(k * 4000)).collect();
    assert_eq!(deadlines, expected);
}

#[test]
fn inputs_that_do_not_fit_are_typed_errors_and_change_nothing() {
    let p = protocol("upper-back");
    let check = |d: &mut Driver, input: Input, now: Time, expected: InputError| {
        let before = d.session.clone();
        assert_eq!(d.session.handle(input, now), Err(expected));
        assert_eq!(d.session, before, "{input:?} changed the session");
        assert_eq!(d.session.poll_output(), None, "{input:?} queued an output");
    };
    let not_now = |input: &'static str, state: &str| InputError::NotNow {
        input,
        state: state.to_string(),
    };

    let mut d = Driver::new(&p, reasons(&["soreness"]), Facts::default());
    let now = d.now;
    check(
        &mut d,
        Input::Ready,
        now,
        not_now("ready", "asking screening question 1 of 3"),
    );
    check(
        &mut d,
        Input::Discomfort { level: 3 },
        now,
        not_now("discomfort", "asking screening question 1 of 3"),
    );
    check(
        &mut d,
        Input::Pause,
        now,
        not_now("pause", "asking screening question 1 of 3"),
    );
    for _ in &p.screening.questions {
        d.ok(Input::Answer { answer: Answer::No });
    }
    let now = d.now;
    check(
        &mut d,
        Input::Rating { value: Some(11) },
        now,
        InputError::OutOfScale {
            what: "rating",
            got: 11,
        },
    );
    check(
        &mut d,
        Input::Answer { answer: Answer::No },
        now,
        not_now("answer", "asking rating 1 of 1 before rolling"),
    );
    d.ok(Input::Rating { value: Some(10) });
    check(
        &mut d,
        Input::Noise,
        now,
        not_now("noise", "at setup step 1 of 5 (waiting for ready)"),
    );
    for _ in &p.setup {
        d.ok(Input::Ready);
    }
    let now = d.now;
    check(
        &mut d,
        Input::Ready,
        now,
        not_now("ready", "rolling rep 1 of 6"),
    );
    check(
        &mut d,
        Input::Resume,
        now,
        not_now("resume", "rolling rep 1 of 6"),
    );
    check(
        &mut d,
        Input::Discomfort { level: 11 },
        now,
        InputError::OutOfScale {
            what: "discomfort",
            got: 11,
        },
    );
    d.wait(1000);
    d.ok(Input::Pause);
    let now = d.now;
    check(
        &mut d,
        Input::Pause,
        now,
        not_now("pause", "paused at rep 1 of 6"),
    );
    check(
        &mut d,
        Input::Stop,
        Time(now.0 - 1),
        InputError::TimeWentBack {
            now: Time(now.0 - 1),
            last: now,
        },
    );
    d.ok(Input::Stop);
    for input in [
        Input::Stop,
        Input::Timeout,
        Input::Pain {
            kind: PainKind::Spine,
        },
        Input::Ready,
    ] {
        check(&mut d, input, now, InputError::Ended);
    }
    assert_eq!(ends(&d.outputs), 1);
    let messages: Vec<String> = [
        not_now("ready", "rolling rep 1 of 6"),
        InputError::OutOfScale {
            what: "rating",
            got: 11,
        },
        InputError::TimeWentBack {
            now: Time(5),
            last: Time(6),
        },
        InputError::Ended,
    ]
    .iter()
    .map(|e| e.to_string())
    .collect();
    assert_snapshot!(messages.join("\n"));
}

/// Defence in depth (issue 13, finding 1): a protocol that never went
/// through `lint` (built in code, or JSON from a client) cannot make a session
/// run unbounded reps or a tempo too short for time to pass.
#[test]
fn a_protocol_beyond_the_limits_does_not_start_a_session() {
    let mut p = protocol("upper-back");
    p.movement.reps.max = u32::MAX;
    p.movement.reps.default = u32::MAX;
    let err = Session::new(&p, Options::default(), Facts::default(), T0).unwrap_err();
    assert_eq!(
        err,
        OptionsError::RepsLimit {
            got: u32::MAX,
            max: rollcoach_protocol::MAX_REPS
        }
    );
    assert!(err.to_string().contains("movement.reps"), "{err}");
    let runner_err = Runner::start(
        std::sync::Arc::new(p.clone()),
        Options::default(),
        Facts::default(),
        T0,
    )
    .unwrap_err();
    assert!(
        matches!(runner_err, OptionsError::RepsLimit { .. }),
        "{runner_err}"
    );

    let mut p = protocol("upper-back");
    p.movement.tempo.min_seconds = 0.0001;
    p.movement.tempo.default_seconds = 0.0001;
    let err = Session::new(&p, Options::default(), Facts::default(), T0).unwrap_err();
    assert!(
        matches!(err, OptionsError::TempoLimit { got, .. } if got == 0.0001),
        "{err}"
    );
    let mut p = protocol("upper-back");
    p.movement.tempo.max_seconds = 600.0;
    let long = Options {
        tempo_seconds: Some(31.0),
        ..Options::default()
    };
    let err = Session::new(&p, long, Facts::default(), T0).unwrap_err();
    assert!(matches!(err, OptionsError::TempoLimit { .. }), "{err}");
    // The limits themselves run.
    let mut p = protocol("upper-back");
    p.movement.reps.max = rollcoach_protocol::MAX_REPS;
    p.movement.tempo.min_seconds = rollcoach_protocol::MIN_TEMPO_SECONDS;
    p.movement.tempo.max_seconds = rollcoach_protocol::MAX_TEMPO_SECONDS;
    for (reps, tempo) in [(rollcoach_protocol::MAX_REPS, 1.0), (5, 30.0)] {
        let ok = Options {
            reps: Some(reps),
            tempo_seconds: Some(tempo),
            ..Options::default()
        };
        assert!(Session::new(&p, ok, Facts::default(), T0).is_ok());
    }
}

#[test]
fn options_outside_the_protocol_are_typed_errors_that_name_the_range() {
    let p = protocol("upper-back");
    let err = |options: Options| Session::new(&p, options, Facts::default(), T0).unwrap_err();
    let errors = [
        err(Options {
            reps: Some(4),
            ..Options::default()
        }),
        err(Options {
            reps: Some(9),
            ..Options::default()
        }),
        err(Options {
            tempo_seconds: Some(1.5),
            ..Options::default()
        }),
        err(Options {
            tempo_seconds: Some(f64::NAN),
            ..Options::default()
        }),
        err(Options {
            instrument: Some("massage-gun".into()),
            ..Options::default()
        }),
        err(reasons(&["soreness", "neck-pain"])),
    ];
    assert_eq!(
        errors[0],
        OptionsError::Reps {
            got: 4,
            min: 5,
            max: 8
        }
    );
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_snapshot!(text.join("\n"));
    for reps in 5..=8 {
        let s = Session::new(
            &p,
            Options {
                reps: Some(reps),
                tempo_seconds: Some(6.0),
                ..Options::default()
            },
            Facts::default(),
            T0,
        )
        .unwrap();
        assert_eq!(s.reps_target(), reps);
        assert_eq!(s.tempo_ms(), 6000);
    }
}

#[test]
fn the_setup_is_worded_for_the_chosen_instrument() {
    let p = protocol("upper-back");
    let mut d = Driver::new(
        &p,
        Options {
            instrument: Some("trigger-point-cane".into()),
            ..Options::default()
        },
        Facts::default(),
    );
    for _ in &p.screening.questions {
        d.ok(Input::Answer { answer: Answer::No });
    }
    assert_eq!(d.session.instrument_id(), "trigger-point-cane");
    let texts: Vec<&str> = d
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Prompt(Prompt::Ready { text, .. }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        ["Stand or sit tall, and hold the cane with its hook over one shoulder."]
    );
}

#[test]
fn current_brings_a_reconnecting_front_end_up_to_date() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, reasons(&["posture"]), Facts::default());
    let mut views = String::new();
    let mut show = |label: &str, outputs: Vec<Output>| {
        views.push_str(label);
        views.push('\n');
        for o in outputs {
            views.push_str(&serde_json::to_string(&o).unwrap());
            views.push('\n');
        }
    };
    show("screening", d.session.current(d.now));
    d.ok(Input::Answer { answer: Answer::No });
    d.ok(Input::Answer { answer: Answer::No });
    d.ok(Input::Answer { answer: Answer::No });
    show("rating", d.session.current(d.now));
    d.ok(Input::Rating { value: Some(4) });
    d.ok(Input::Ready);
    show("setup", d.session.current(d.now));
    d.ok(Input::Ready);
    d.ok(Input::Ready);
    d.ok(Input::Ready);
    d.ok(Input::Ready);
    d.progress();
    d.wait(1000);
    show("rolling", d.session.current(d.now));
    d.ok(Input::SwitchBreathing);
    d.ok(Input::Pause);
    d.wait(30_000);
    show("paused", d.session.current(d.now));
    d.ok(Input::Stop);
    show("ended", d.session.current(d.now));
    // The reconstructed end is the one that was sent.
    assert_eq!(d.session.current(d.now).last(), d.outputs.last());
    assert_snapshot!(views);
}

#[test]
fn replaying_the_input_log_reproduces_the_session_output_for_output() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, reasons(&["soreness", "posture"]), Facts::default());
    for _ in &p.screening.questions {
        d.ok(Input::Answer { answer: Answer::No });
    }
    d.ok(Input::Rating { value: Some(5) });
    let _ = d.input(Input::Rating { value: Some(12) });
    d.ok(Input::Rating { value: None });
    for _ in &p.setup {
        d.wait(3000);
        d.ok(Input::Ready);
    }
    d.progress_n(3);
    d.wait(700);
    d.ok(Input::Noise);
    d.ok(Input::SwitchBreathing);
    d.ok(Input::Pause);
    d.wait(9000);
    let _ = d.input(Input::Pause);
    d.ok(Input::Resume);
    d.ok(Input::Discomfort { level: 5 });
    d.wait(9000);
    d.ok(Input::Timeout);
    d.progress_all();
    d.ok(Input::Rating { value: Some(2) });
    d.ok(Input::Rating { value: Some(3) });
    assert!(matches!(end_of(&d).0, Outcome::Completed));

    let r = replay(
        &p,
        reasons(&["soreness", "posture"]),
        Facts::default(),
        T0,
        &d.log,
    )
    .unwrap();
    assert_eq!(r.outputs, d.outputs);
    assert_eq!(r.session, d.session);
    assert_eq!(
        r.rejected.iter().map(|x| x.index).collect::<Vec<_>>(),
        // The second rejected input follows one ready per setup step.
        [4, 12 + p.setup.len()]
    );

    // Recovering (no outputs built) gives the same session.
    let q = recover(
        &p,
        reasons(&["soreness", "posture"]),
        Facts::default(),
        T0,
        &d.log,
    )
    .unwrap();
    assert_eq!(q.session, d.session);
    assert_eq!(q.rejected, r.rejected);

    // A crash halfway: the replayed session carries on exactly like the live one.
    let half = d.log.len() / 2;
    let mut r = replay(
        &p,
        reasons(&["soreness", "posture"]),
        Facts::default(),
        T0,
        &d.log[..half],
    )
    .unwrap();
    let mut q = recover(
        &p,
        reasons(&["soreness", "posture"]),
        Facts::default(),
        T0,
        &d.log[..half],
    )
    .unwrap();
    let at_half = T0.plus_ms(d.log[half - 1].0);
    assert_eq!(q.session.current(at_half), r.session.current(at_half));
    for &(ms, input) in &d.log[half..] {
        let _ = r.session.handle(input, T0.plus_ms(ms));
        r.outputs
            .extend(std::iter::from_fn(|| r.session.poll_output()));
        let _ = q.session.handle(input, T0.plus_ms(ms));
        while q.session.poll_output().is_some() {}
    }
    assert_eq!(r.outputs, d.outputs);
    assert_eq!(
        q.session, r.session,
        "a recovered session carries on the same"
    );
}

#[test]
fn inputs_and_outputs_round_trip_through_json() {
    let p = protocol("upper-back");
    let mut d = Driver::new(&p, reasons(&["soreness"]), Facts::default());
    d.start_rolling(&p, Some(4));
    d.ok(Input::Pain {
        kind: PainKind::Pop,
    });
    for o in &d.outputs {
        let json = serde_json::to_string(o).unwrap();
        assert_eq!(&serde_json::from_str::<Output>(&json).unwrap(), o);
    }
    for (_, i) in &d.log {
        let json = serde_json::to_string(i).unwrap();
        assert_eq!(&serde_json::from_str::<Input>(&json).unwrap(), i);
    }
}

#[test]
fn a_logged_session_from_a_bug_report_replays_into_a_test() {
    // The store's event log as JSON: (milliseconds since the start, input).
    let log = r#"[
        [0, {"type": "answer", "answer": "no"}],
        [1200, {"type": "answer", "answer": "no"}],
        [2500, {"type": "answer", "answer": "no"}],
        [4000, {"type": "rating", "value": 6}],
        [5000, {"type": "ready"}],
        [6000, {"type": "ready"}],
        [7000, {"type": "ready"}],
        [8000, {"type": "ready"}],
        [9000, {"type": "ready"}],
        [13000, {"type": "timeout"}],
        [14500, {"type": "noise"}],
        [15000, {"type": "pain", "kind": "spine"}],
        [15001, {"type": "resume"}]
    ]"#;
    let log: Vec<(u64, Input)> = serde_json::from_str(log).unwrap();
    let p = protocol("upper-back");
    let r = replay(&p, reasons(&["soreness"]), Facts::default(), T0, &log).unwrap();
    assert_eq!(
        r.session.outcome(),
        Some(&Outcome::Stopped {
            reason: StopReason::PainOverSpine
        })
    );
    assert_eq!(
        r.rejected,
        [Rejected {
            index: 12,
            at_ms: 15001,
            error: InputError::Ended
        }]
    );
    let Some(Output::End { summary, .. }) = r.outputs.last() else {
        panic!("the replay ends with the end")
    };
    assert_eq!(summary.active_ms, 4000 + 2000);
    assert_eq!(summary.noises, 1);
}

#[test]
fn a_protocol_without_questions_setup_or_reasons_goes_straight_to_rolling() {
    let mut p = protocol("upper-back");
    p.screening.questions.clear();
    p.setup.clear();
    let mut d = Driver::new(&p, Options::default(), Facts::default());
    assert_eq!(d.session.stage(), Stage::Rolling);
    assert_eq!(d.session.next_deadline(), Some(T0.plus_ms(4000)));
    d.progress_all();
    assert_eq!(end_of(&d).0, Outcome::Completed);
    let stages: Vec<Stage> = d
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Stage { stage } => Some(*stage),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [Stage::Screening, Stage::Rolling]);
}
