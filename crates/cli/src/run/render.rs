//! How engine outputs are written in script mode: one readable line each, or
//! one JSON object per line with `--json`.

use rollcoach_engine::{
    Breath, Direction, Outcome, Output, Prompt, RefusalReason, Stage, StopReason, Summary, Time,
    When,
};
use rollcoach_protocol::{Pairing, Protocol};
use serde_json::{Value, json};

/// `mm:ss.t` of a session-relative time.
pub fn clock(ms: u64) -> String {
    let tenths = ms / 100;
    format!(
        "{:02}:{:02}.{}",
        tenths / 600,
        (tenths / 10) % 60,
        tenths % 10
    )
}

/// A time as local date and time, e.g. `2026-11-27 09:30 local time`.
pub fn local_time(t: Time) -> String {
    format!("{} local time", crate::db::format_local(t))
}

/// The kebab-case name of a stop reason.
pub fn stop_reason_id(r: StopReason) -> &'static str {
    match r {
        StopReason::PainWithPop => "pain-with-pop",
        StopReason::PainOverSpine => "pain-over-spine",
        StopReason::SharpOrRadiating => "sharp-or-radiating",
        StopReason::OtherPain => "other-pain",
        StopReason::TooMuchDiscomfort => "too-much-discomfort",
        StopReason::ByPerson => "by-person",
    }
}

/// Words for a stop reason.
pub fn stop_reason_words(r: StopReason) -> &'static str {
    match r {
        StopReason::PainWithPop => "pain with a pop",
        StopReason::PainOverSpine => "pain over the spine",
        StopReason::SharpOrRadiating => "sharp or radiating feeling",
        StopReason::OtherPain => "pain",
        StopReason::TooMuchDiscomfort => "too much discomfort",
        StopReason::ByPerson => "by you",
    }
}

/// The outcome's exit code (see `crate::exit`).
pub fn exit_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Completed => crate::exit::OK,
        Outcome::Stopped { .. } => crate::exit::STOPPED,
        Outcome::Refused { .. } => crate::exit::REFUSED,
    }
}

/// The outcome in a few words, e.g. `stopped (pain over the spine)`.
pub fn outcome_words(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed => "completed".to_string(),
        Outcome::Stopped { reason } => format!("stopped ({})", stop_reason_words(*reason)),
        Outcome::Refused {
            reason: RefusalReason::RecentInjury { allowed_at, .. },
        } => format!(
            "refused (injury in the log; allowed from {})",
            local_time(*allowed_at)
        ),
        Outcome::Refused {
            reason: RefusalReason::Answer { .. },
        } => "refused (your answer to a safety question)".to_string(),
    }
}

/// The outcome in a few words, with the protocol's words for the question
/// a refusing answer was given to (no internal ids).
pub fn outcome_words_in(p: &Protocol, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Refused {
            reason: RefusalReason::Answer { question },
        } => match p.screening.questions.iter().find(|q| &q.id == question) {
            Some(q) => format!("refused (your answer to \"{}\")", q.text),
            None => outcome_words(outcome),
        },
        _ => outcome_words(outcome),
    }
}

/// A rating's label, from its id (the id itself when the protocol has no
/// such rating).
pub fn rating_label<'a>(p: &'a Protocol, id: &'a str) -> &'a str {
    p.indications
        .iter()
        .find(|i| i.rating.id == id)
        .map_or(id, |i| i.rating.label.as_str())
}

/// Words for the breathing pairing, with the protocol's labels.
pub fn pairing_words(p: &Protocol, pairing: Pairing) -> String {
    let (inhale, exhale) = match pairing {
        Pairing::InhaleOut => (&p.movement.out.label, &p.movement.back.label),
        Pairing::InhaleBack => (&p.movement.back.label, &p.movement.out.label),
    };
    format!("breathe in toward the {inhale}, out toward the {exhale}")
}

/// The spoken words of a breath.
pub fn breath_words(p: &Protocol, breath: Breath) -> &str {
    match breath {
        Breath::Inhale => &p.movement.breathing.inhale_cue,
        Breath::Exhale => &p.movement.breathing.exhale_cue,
    }
}

/// Words for a stage.
pub fn stage_words(stage: Stage) -> &'static str {
    match stage {
        Stage::Screening => "safety questions",
        Stage::RatingsBefore => "ratings before",
        Stage::Setup => "getting into position",
        Stage::Rolling => "rolling",
        Stage::RatingsAfter => "ratings after",
        Stage::Ended => "end",
    }
}

/// What the person is asked for, in a few words (for "waits for ...").
pub fn prompt_words(prompt: &Prompt) -> String {
    match prompt {
        Prompt::Screening { text, .. } => format!("an answer to \"{text}\" (yes or no)"),
        Prompt::Rating { label, when, .. } => format!(
            "the rating \"{label}\" {} (rate N or skip)",
            match when {
                When::Before => "before",
                When::After => "after",
            }
        ),
        Prompt::Ready { index, of, .. } => format!("ready after setup step {index} of {of}"),
    }
}

fn summary_words(p: &Protocol, s: &Summary) -> String {
    let mut out = format!(
        "reps {} of {}, {:.1} s rolling",
        s.reps_done,
        s.reps_target,
        s.active_ms as f64 / 1000.0
    );
    if s.noises > 0 {
        out.push_str(&format!(", {} noise(s) without pain", s.noises));
    }
    if !s.discomfort.is_empty() {
        let levels: Vec<String> = s.discomfort.iter().map(u8::to_string).collect();
        out.push_str(&format!(", discomfort {}", levels.join(", ")));
    }
    for r in &s.ratings {
        let show = |v: Option<u8>| v.map_or("-".to_string(), |v| v.to_string());
        out.push_str(&format!(
            "; {} {} -> {}",
            rating_label(p, &r.id),
            show(r.before),
            show(r.after)
        ));
    }
    out
}

/// One readable line (without the time prefix) for an output.
pub fn text(p: &Protocol, out: &Output) -> String {
    match out {
        Output::Stage { stage } => format!("== {} ==", stage_words(*stage)),
        Output::Cue { say, .. } => format!("say: {say}"),
        Output::Prompt(Prompt::Screening {
            text, index, of, ..
        }) => format!("question {index}/{of}: {text} [yes/no]"),
        Output::Prompt(Prompt::Rating {
            when,
            label,
            question,
            low,
            high,
            ..
        }) => format!(
            "rating {} ({label}): {question} 0 = {low}, 10 = {high} [rate 0-10/skip]",
            match when {
                When::Before => "before",
                When::After => "after",
            }
        ),
        Output::Prompt(Prompt::Ready {
            text, index, of, ..
        }) => format!("step {index}/{of}: {text} [ready]"),
        Output::Phase {
            rep,
            of,
            direction,
            breath,
            toward,
            duration_ms,
            ..
        } => format!(
            "rep {rep} of {of}: {}, roll {} toward the {toward} ({:.1} s)",
            breath_words(p, *breath),
            match direction {
                Direction::Out => "out",
                Direction::Back => "back",
            },
            *duration_ms as f64 / 1000.0
        ),
        Output::Paused { remaining_ms } => format!(
            "paused ({:.1} s left in this phase) [resume]",
            *remaining_ms as f64 / 1000.0
        ),
        Output::Resumed { remaining_ms, .. } => {
            format!("resumed ({:.1} s left)", *remaining_ms as f64 / 1000.0)
        }
        Output::PairingSwitched { pairing } => {
            format!(
                "breathing switched: from the next phase, {}",
                pairing_words(p, *pairing)
            )
        }
        Output::Note { text, .. } => format!("note: {text}"),
        Output::Acknowledged { what } => format!("logged: {what}"),
        // A refused session did not roll: no reps to show.
        Output::End {
            outcome: outcome @ Outcome::Refused { .. },
            message,
            ..
        } => format!("end: {}: {message}", outcome_words_in(p, outcome)),
        Output::End {
            outcome,
            message,
            summary,
        } => format!(
            "end: {}: {message} ({})",
            outcome_words_in(p, outcome),
            summary_words(p, summary)
        ),
    }
}

/// One JSON object for an output. The engine's serde shape, with the end's
/// outcome flattened into `outcome` and `reason` strings, and `at_ms`, the
/// session time of the output.
pub fn json(out: &Output, at_ms: u64) -> Value {
    let mut v = match out {
        Output::End {
            outcome,
            message,
            summary,
        } => {
            let mut v = json!({
                "type": "end",
                "message": message,
                "summary": summary,
            });
            match outcome {
                Outcome::Completed => {
                    v["outcome"] = json!("completed");
                    v["reason"] = Value::Null;
                }
                Outcome::Stopped { reason } => {
                    v["outcome"] = json!("stopped");
                    v["reason"] = json!(stop_reason_id(*reason));
                }
                Outcome::Refused { reason } => {
                    v["outcome"] = json!("refused");
                    match reason {
                        RefusalReason::RecentInjury {
                            injured_at,
                            allowed_at,
                        } => {
                            v["reason"] = json!("recent-injury");
                            v["injured_at"] = json!(injured_at);
                            v["allowed_at"] = json!(allowed_at);
                            v["allowed_at_local"] = json!(local_time(*allowed_at));
                        }
                        RefusalReason::Answer { question } => {
                            v["reason"] = json!("answer");
                            v["question"] = json!(question);
                        }
                    }
                }
            }
            v
        }
        other => serde_json::to_value(other)
            .unwrap_or_else(|e| json!({"type": "error", "message": e.to_string()})),
    };
    v["at_ms"] = json!(at_ms);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_shows_minutes_seconds_and_tenths() {
        assert_eq!(clock(0), "00:00.0");
        assert_eq!(clock(12_345), "00:12.3");
        assert_eq!(clock(61_000), "01:01.0");
        assert_eq!(clock(3_600_000), "60:00.0");
    }

    #[test]
    fn the_end_is_flattened_into_outcome_and_reason() {
        let out = Output::End {
            outcome: Outcome::Stopped {
                reason: StopReason::PainOverSpine,
            },
            message: "Stop now.".into(),
            summary: Summary {
                reps_done: 2,
                reps_target: 6,
                active_ms: 20_000,
                pairings: vec![Pairing::InhaleOut],
                ratings: vec![],
                discomfort: vec![],
                noises: 0,
            },
        };
        let v = json(&out, 20_000);
        assert_eq!(v["type"], "end");
        assert_eq!(v["outcome"], "stopped");
        assert_eq!(v["reason"], "pain-over-spine");
        assert_eq!(v["summary"]["reps_done"], 2);
        assert_eq!(v["at_ms"], 20_000);
    }

    #[test]
    fn prompts_and_phases_keep_the_engine_shape() {
        let v = json(
            &Output::Prompt(Prompt::Ready {
                id: "lie-down".into(),
                text: "Lie down.".into(),
                index: 1,
                of: 4,
            }),
            0,
        );
        assert_eq!(v["type"], "prompt");
        assert_eq!(v["kind"], "ready");
        let v = json(
            &Output::Phase {
                rep: 1,
                of: 6,
                direction: Direction::Out,
                breath: Breath::Inhale,
                toward: "neck".into(),
                duration_ms: 4000,
                deadline: Time(4000),
            },
            0,
        );
        assert_eq!(v["type"], "phase");
        assert_eq!(v["rep"], 1);
        assert_eq!(v["of"], 6);
        assert_eq!(v["direction"], "out");
        assert_eq!(v["breath"], "inhale");
    }
}
