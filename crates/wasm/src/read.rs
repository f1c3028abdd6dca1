//! The engine's outputs, inputs and log entries read from their JSON value
//! by hand, field by field, in exactly their serde form (what the server's
//! frames and `runner_poll` carry, what the page offers and keeps in its
//! log).
//!
//! Why not the derived deserializer: `Output` is an internally tagged enum
//! whose fields hold more of them (`Prompt`, `Outcome`, `RefusalReason`);
//! serde reads each through a buffered copy of the value, one copy of its
//! code per type and layer, which came to about 110 KB of the module (a
//! fifth of it) for `Output`, and 20 KB for `Input`. The unit enums (stages, directions, reasons)
//! are still serde's, read from the value in place. The tests check that
//! this reads every output as the derived deserializer does and refuses
//! what it refuses.

use rollcoach_engine::{
    Input, LogEntry, Outcome, Output, Prompt, RatingResult, RefusalReason, Summary, Time,
};
use serde::Deserialize;
use serde_json::{Map, Value};

type Object = Map<String, Value>;

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Object, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

fn field<'a>(o: &'a Object, key: &str) -> Result<&'a Value, String> {
    o.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

fn u64_at(o: &Object, key: &str) -> Result<u64, String> {
    field(o, key)?
        .as_u64()
        .ok_or_else(|| format!("`{key}` is not a whole number of at least 0"))
}

fn u32_at(o: &Object, key: &str) -> Result<u32, String> {
    u32::try_from(u64_at(o, key)?).map_err(|_| format!("`{key}` is out of range"))
}

fn time_at(o: &Object, key: &str) -> Result<Time, String> {
    u64_at(o, key).map(Time)
}

fn text_at(o: &Object, key: &str) -> Result<String, String> {
    field(o, key)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("`{key}` is not a string"))
}

/// A `u8` from `v`: `what` names it in an error.
fn u8_of(v: &Value, what: &str) -> Result<u8, String> {
    v.as_u64()
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| format!("{what} is not a whole number from 0 to 255"))
}

/// An optional `u8`: missing and `null` are `None`, as serde reads an
/// `Option` field.
fn opt_u8_at(o: &Object, key: &str) -> Result<Option<u8>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => u8_of(v, &format!("`{key}`")).map(Some),
    }
}

/// A unit enum (or any small type) by its serde form, read in place.
fn serde_at<'a, T: Deserialize<'a>>(o: &'a Object, key: &str) -> Result<T, String> {
    T::deserialize(field(o, key)?).map_err(|e| format!("`{key}`: {e}"))
}

fn list_at<'a>(o: &'a Object, key: &str) -> Result<&'a [Value], String> {
    field(o, key)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("`{key}` is not a list"))
}

fn tag<'a>(o: &'a Object, key: &str) -> Result<&'a str, String> {
    field(o, key)?
        .as_str()
        .ok_or_else(|| format!("`{key}` is not a string"))
}

fn unknown(key: &str, value: &str) -> String {
    format!("unknown `{key}` `{value}`")
}

/// An engine output from its JSON value.
pub fn output(v: &Value) -> Result<Output, String> {
    let o = object(v, "an output")?;
    Ok(match tag(o, "type")? {
        "stage" => Output::Stage {
            stage: serde_at(o, "stage")?,
        },
        "cue" => Output::Cue {
            text: text_at(o, "text")?,
            say: text_at(o, "say")?,
        },
        "prompt" => Output::Prompt(prompt(o)?),
        "phase" => Output::Phase {
            rep: u32_at(o, "rep")?,
            of: u32_at(o, "of")?,
            direction: serde_at(o, "direction")?,
            breath: serde_at(o, "breath")?,
            toward: text_at(o, "toward")?,
            duration_ms: u64_at(o, "duration_ms")?,
            deadline: time_at(o, "deadline")?,
        },
        "paused" => Output::Paused {
            remaining_ms: u64_at(o, "remaining_ms")?,
        },
        "resumed" => Output::Resumed {
            deadline: time_at(o, "deadline")?,
            remaining_ms: u64_at(o, "remaining_ms")?,
        },
        "pairing-switched" => Output::PairingSwitched {
            pairing: serde_at(o, "pairing")?,
        },
        "note" => Output::Note {
            id: text_at(o, "id")?,
            text: text_at(o, "text")?,
            say: text_at(o, "say")?,
        },
        "acknowledged" => Output::Acknowledged {
            what: text_at(o, "what")?,
        },
        "end" => Output::End {
            outcome: outcome(object(field(o, "outcome")?, "`outcome`")?)?,
            message: text_at(o, "message")?,
            summary: summary(object(field(o, "summary")?, "`summary`")?)?,
        },
        other => return Err(unknown("type", other)),
    })
}

/// An engine input from its JSON value.
pub fn input(v: &Value) -> Result<Input, String> {
    let o = object(v, "an input")?;
    Ok(match tag(o, "type")? {
        "answer" => Input::Answer {
            answer: serde_at(o, "answer")?,
        },
        "ready" => Input::Ready,
        "rating" => Input::Rating {
            value: opt_u8_at(o, "value")?,
        },
        "pause" => Input::Pause,
        "resume" => Input::Resume,
        "discomfort" => Input::Discomfort {
            level: u8_of(field(o, "level")?, "`level`")?,
        },
        "pain" => Input::Pain {
            kind: serde_at(o, "kind")?,
        },
        "noise" => Input::Noise,
        "switch-breathing" => Input::SwitchBreathing,
        "stop" => Input::Stop,
        "timeout" => Input::Timeout,
        other => return Err(unknown("type", other)),
    })
}

/// A log entry (`{"seq", "at_ms", "input"}`) from its JSON value.
pub fn log_entry(v: &Value) -> Result<LogEntry, String> {
    let o = object(v, "a log entry")?;
    Ok(LogEntry {
        seq: u32_at(o, "seq")?,
        at_ms: u64_at(o, "at_ms")?,
        input: input(field(o, "input")?).map_err(|e| format!("`input`: {e}"))?,
    })
}

/// A log (a list of entries) from its JSON value, for a derived
/// deserializer's field (`#[serde(deserialize_with = "read::log")]`).
pub fn log<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<LogEntry>, D::Error> {
    let v = Value::deserialize(d)?;
    v.as_array()
        .ok_or_else(|| "`log` is not a list".to_owned())
        .and_then(|entries| {
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| log_entry(e).map_err(|m| format!("`log[{i}]`: {m}")))
                .collect()
        })
        .map_err(serde::de::Error::custom)
}

fn prompt(o: &Object) -> Result<Prompt, String> {
    Ok(match tag(o, "kind")? {
        "screening" => Prompt::Screening {
            id: text_at(o, "id")?,
            text: text_at(o, "text")?,
            index: u32_at(o, "index")?,
            of: u32_at(o, "of")?,
        },
        "rating" => Prompt::Rating {
            when: serde_at(o, "when")?,
            id: text_at(o, "id")?,
            label: text_at(o, "label")?,
            question: text_at(o, "question")?,
            low: text_at(o, "low")?,
            high: text_at(o, "high")?,
        },
        "ready" => Prompt::Ready {
            id: text_at(o, "id")?,
            text: text_at(o, "text")?,
            index: u32_at(o, "index")?,
            of: u32_at(o, "of")?,
        },
        other => return Err(unknown("kind", other)),
    })
}

fn outcome(o: &Object) -> Result<Outcome, String> {
    Ok(match tag(o, "outcome")? {
        "completed" => Outcome::Completed,
        "stopped" => Outcome::Stopped {
            reason: serde_at(o, "reason")?,
        },
        "refused" => {
            let r = object(field(o, "reason")?, "`reason`")?;
            Outcome::Refused {
                reason: match tag(r, "kind")? {
                    "recent-injury" => RefusalReason::RecentInjury {
                        injured_at: time_at(r, "injured_at")?,
                        allowed_at: time_at(r, "allowed_at")?,
                    },
                    "answer" => RefusalReason::Answer {
                        question: text_at(r, "question")?,
                    },
                    other => return Err(unknown("kind", other)),
                },
            }
        }
        other => return Err(unknown("outcome", other)),
    })
}

fn summary(o: &Object) -> Result<Summary, String> {
    Ok(Summary {
        reps_done: u32_at(o, "reps_done")?,
        reps_target: u32_at(o, "reps_target")?,
        active_ms: u64_at(o, "active_ms")?,
        pairings: list_at(o, "pairings")?
            .iter()
            .map(|p| Deserialize::deserialize(p).map_err(|e| format!("`pairings`: {e}")))
            .collect::<Result<_, String>>()?,
        ratings: list_at(o, "ratings")?
            .iter()
            .map(|r| {
                let r = object(r, "a rating")?;
                Ok(RatingResult {
                    id: text_at(r, "id")?,
                    before: opt_u8_at(r, "before")?,
                    after: opt_u8_at(r, "after")?,
                })
            })
            .collect::<Result<_, String>>()?,
        discomfort: list_at(o, "discomfort")?
            .iter()
            .map(|d| u8_of(d, "a discomfort level"))
            .collect::<Result<_, String>>()?,
        noises: u32_at(o, "noises")?,
    })
}

#[cfg(test)]
mod tests {
    use rollcoach_engine::{Breath, Direction, Stage, StopReason, When};
    use rollcoach_protocol::Pairing;

    use super::*;

    fn summary() -> Summary {
        Summary {
            reps_done: 3,
            reps_target: 6,
            active_ms: 24_000,
            pairings: vec![Pairing::InhaleOut, Pairing::InhaleBack],
            ratings: vec![
                RatingResult {
                    id: "stiffness".into(),
                    before: Some(6),
                    after: None,
                },
                RatingResult {
                    id: "ease".into(),
                    before: None,
                    after: Some(0),
                },
            ],
            discomfort: vec![2, 10],
            noises: 1,
        }
    }

    /// One of every output and of every enum inside one.
    fn every_output() -> Vec<Output> {
        let end = |outcome| Output::End {
            outcome,
            message: "Done.".into(),
            summary: summary(),
        };
        vec![
            Output::Stage {
                stage: Stage::Screening,
            },
            Output::Stage {
                stage: Stage::Rolling,
            },
            Output::Cue {
                text: "Lie back.".into(),
                say: "lie back".into(),
            },
            Output::Prompt(Prompt::Screening {
                id: "q1".into(),
                text: "Any pain?".into(),
                index: 1,
                of: 3,
            }),
            Output::Prompt(Prompt::Rating {
                when: When::After,
                id: "stiffness".into(),
                label: "Stiffness".into(),
                question: "How stiff?".into(),
                low: "none".into(),
                high: "worst".into(),
            }),
            Output::Prompt(Prompt::Ready {
                id: "s1".into(),
                text: "Ready?".into(),
                index: 2,
                of: 2,
            }),
            Output::Phase {
                rep: 1,
                of: u32::MAX,
                direction: Direction::Back,
                breath: Breath::Exhale,
                toward: "shoulder blades".into(),
                duration_ms: 4000,
                deadline: Time(1_795_597_204_000),
            },
            Output::Paused { remaining_ms: 1200 },
            Output::Resumed {
                deadline: Time(u64::MAX),
                remaining_ms: 0,
            },
            Output::PairingSwitched {
                pairing: Pairing::InhaleBack,
            },
            Output::Note {
                id: "n1".into(),
                text: "Keep your chin in.".into(),
                say: "chin in".into(),
            },
            Output::Acknowledged {
                what: "discomfort 5".into(),
            },
            end(Outcome::Completed),
            end(Outcome::Stopped {
                reason: StopReason::TooMuchDiscomfort,
            }),
            end(Outcome::Refused {
                reason: RefusalReason::RecentInjury {
                    injured_at: Time(1),
                    allowed_at: Time(2),
                },
            }),
            end(Outcome::Refused {
                reason: RefusalReason::Answer {
                    question: "q1".into(),
                },
            }),
        ]
    }

    fn variants(v: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        match v {
            Value::Object(m) => {
                for (k, inner) in m {
                    let mut gone = m.clone();
                    gone.remove(k);
                    out.push(Value::Object(gone));
                    for bad in [
                        Value::Null,
                        Value::from("nonsense"),
                        Value::from(-1),
                        Value::from(256),
                        Value::from(1.5),
                        Value::from(u64::from(u32::MAX) + 1),
                        serde_json::json!([]),
                        serde_json::json!({}),
                    ] {
                        let mut m2 = m.clone();
                        m2.insert(k.clone(), bad);
                        out.push(Value::Object(m2));
                    }
                    for changed in variants(inner) {
                        let mut m2 = m.clone();
                        m2.insert(k.clone(), changed);
                        out.push(Value::Object(m2));
                    }
                }
                let mut more = m.clone();
                more.insert("extra".into(), Value::from(1));
                out.push(Value::Object(more));
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    for changed in variants(inner) {
                        let mut a = items.clone();
                        a[i] = changed;
                        out.push(Value::Array(a));
                    }
                    let mut a = items.clone();
                    a[i] = Value::from("nonsense");
                    out.push(Value::Array(a));
                }
            }
            _ => {}
        }
        out
    }

    /// `v` read here and by serde's derived deserializer: the same value,
    /// or both refuse it.
    fn same_as_serde<T>(v: &Value, ours: Result<T, String>)
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        match (serde_json::from_value::<T>(v.clone()), ours) {
            (Ok(s), Ok(h)) => assert_eq!(h, s, "{v}"),
            (Err(_), Err(_)) => {}
            (s, h) => panic!("{v}: serde {s:?}, here {h:?}"),
        }
    }

    #[test]
    fn every_output_reads_back_as_serde_wrote_it() {
        for o in every_output() {
            let v = serde_json::to_value(&o).unwrap();
            assert_eq!(output(&v), Ok(o), "{v}");
        }
    }

    /// Every output with one field taken away, made of the wrong type or
    /// out of range, and a few with more: read as the derived deserializer
    /// reads them (refused when it refuses, the same output when it
    /// accepts).
    #[test]
    fn what_serde_refuses_is_refused_and_what_it_reads_is_read_the_same() {
        let mut checked = 0;
        for o in every_output() {
            for v in variants(&serde_json::to_value(&o).unwrap()) {
                same_as_serde(&v, output(&v));
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
        assert_eq!(
            output(&serde_json::json!({"type": "fly"})),
            Err("unknown `type` `fly`".into())
        );
        assert_eq!(
            output(&serde_json::json!({"type": "paused"})),
            Err("missing field `remaining_ms`".into())
        );
    }

    /// Every input, as a log entry, and broken as the outputs are above.
    #[test]
    fn every_input_and_log_entry_reads_as_serde_reads_it() {
        use rollcoach_engine::PainKind;
        use rollcoach_protocol::Answer;
        let inputs = [
            Input::Answer {
                answer: Answer::Yes,
            },
            Input::Answer { answer: Answer::No },
            Input::Ready,
            Input::Rating { value: Some(7) },
            Input::Rating { value: None },
            Input::Pause,
            Input::Resume,
            Input::Discomfort { level: 10 },
            Input::Pain {
                kind: PainKind::Pop,
            },
            Input::Pain {
                kind: PainKind::Other,
            },
            Input::Noise,
            Input::SwitchBreathing,
            Input::Stop,
            Input::Timeout,
        ];
        let mut checked = 0;
        for (seq, i) in (0..).zip(inputs) {
            let v = serde_json::to_value(i).unwrap();
            assert_eq!(input(&v), Ok(i), "{v}");
            let entry = LogEntry {
                seq,
                at_ms: 700 * u64::from(seq),
                input: i,
            };
            let e = serde_json::to_value(entry).unwrap();
            assert_eq!(log_entry(&e), Ok(entry), "{e}");
            for v in variants(&v) {
                same_as_serde(&v, input(&v));
                checked += 1;
            }
            for e in variants(&e) {
                same_as_serde(&e, log_entry(&e));
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked}");
        let bad = serde_json::json!({"log": [{"seq": 0, "at_ms": 1, "input": {"type": "fly"}}]});
        #[derive(Debug, serde::Deserialize)]
        struct L {
            #[serde(deserialize_with = "log")]
            #[allow(dead_code)]
            log: Vec<LogEntry>,
        }
        let e = serde_json::from_value::<L>(bad).unwrap_err().to_string();
        assert_eq!(e, "`log[0]`: `input`: unknown `type` `fly`");
    }
}
