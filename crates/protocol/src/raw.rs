//! The protocol file format as written: what a TOML file may contain.
//!
//! These types are the source of the JSON Schema ([`crate::json_schema`]) that
//! editors use, and of the structural check that [`crate::parse`] runs before
//! the rules that need more than one field. Once a file passes every check, it
//! is deserialized into these types and converted into the validated
//! [`crate::Protocol`].

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model;

/// A rollcoach protocol file: one guided mobility protocol, both the printable
/// handout and the session.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "rollcoach protocol file")]
pub struct RawProtocol {
    /// Stable identifier in kebab-case, e.g. `upper-back`.
    pub id: String,
    /// Title shown to the person.
    pub title: String,
    /// Version of this protocol's content; bump it when the content changes.
    pub version: u32,
    /// Body area in kebab-case; the injury rule applies per area, e.g. `upper-back`.
    pub area: String,
    /// One-paragraph summary of what the protocol is for.
    pub summary: String,
    /// Id of the instrument used unless the person picks another.
    pub default_instrument: String,
    /// Where the content comes from.
    pub credit: RawCredit,
    /// Reasons to consider the protocol, each with what is rated before and after.
    pub indications: Vec<RawIndication>,
    /// Tools the protocol can be done with.
    pub instruments: Vec<RawInstrument>,
    /// Safety questions and the injury rule, asked before anything moves.
    pub screening: RawScreening,
    /// Steps that bring the person into position, in order.
    pub setup: Vec<RawSetupStep>,
    /// The repeated movement.
    pub movement: RawMovement,
    /// Things told to the person at given moments.
    #[serde(default)]
    pub notes: Vec<RawNote>,
    /// Rules that end the session at once.
    pub stop_rules: Vec<RawStopRule>,
    /// Cautions beyond the handout, each with its source.
    #[serde(default)]
    pub cautions: Vec<RawCaution>,
}

/// Credit of the source the protocol was adapted from.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCredit {
    /// Title of the source, e.g. "Foam Rolling the Upper Back".
    pub source_title: String,
    /// Author, e.g. "Nick April".
    pub author: String,
    /// Author's role, e.g. "coach at Bent On Better".
    pub role: String,
    /// The credit line as printed and shown.
    pub text: String,
}

/// A reason to consider the protocol.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawIndication {
    /// Identifier, e.g. `soreness`.
    pub id: String,
    /// The reason in the handout's terms.
    pub text: String,
    /// What the person rates 0-10 before and after the session.
    pub rating: RawRating,
}

/// A 0-10 self-rating recorded before and after a session.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRating {
    /// Identifier, e.g. `upper-back-soreness`.
    pub id: String,
    /// Short label, e.g. "Upper-back soreness".
    pub label: String,
    /// The question asked.
    pub question: String,
    /// Meaning of 0.
    pub low: String,
    /// Meaning of 10.
    pub high: String,
    /// Whether a higher number is better (true for "how free does a reach feel").
    pub higher_is_better: bool,
}

/// A tool the protocol can be done with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstrument {
    /// Identifier, e.g. `foam-roller`.
    pub id: String,
    /// Name shown, e.g. "Foam roller".
    pub name: String,
    /// Instrument-specific advice.
    #[serde(default)]
    pub note: Option<String>,
}

/// Questions asked before anything moves, and the injury rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScreening {
    /// The recent-injury rule (the handout's 48 hours).
    pub injury_rule: RawInjuryRule,
    /// Yes/no questions asked in order.
    #[serde(default)]
    pub questions: Vec<RawQuestion>,
}

/// No mobilizing an injury in the area that happened within the window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInjuryRule {
    /// Window in hours, at least 1 (48 in the handout).
    #[schemars(range(min = 1))]
    pub window_hours: u32,
    /// Message given when the rule refuses a session.
    pub message: String,
}

/// A yes/no screening question.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQuestion {
    /// Identifier, e.g. `recent-injury`.
    pub id: String,
    /// The question as shown and spoken.
    pub text: String,
    /// The answer that refuses the session.
    pub refuse_on: RawAnswer,
    /// Why the session is refused, shown and spoken.
    pub refusal: String,
    /// Marks the question that asks about a recent injury in the area.
    #[serde(default)]
    pub injury_window: bool,
    /// Where the question comes from: `handout`, or the study (authors, year, journal).
    pub source: String,
}

/// A yes/no answer.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawAnswer {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// One setup step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSetupStep {
    /// Identifier, e.g. `lie-down`.
    pub id: String,
    /// Full text of the step.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// Wording for particular instruments.
    #[serde(default)]
    pub variants: Vec<RawStepVariant>,
}

/// Wording of a setup step for one instrument.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStepVariant {
    /// The id of the instrument this wording is for.
    pub instrument: String,
    /// Full text for that instrument.
    pub text: String,
    /// Short spoken cue for that instrument.
    pub cue: String,
}

/// The repeated movement: one rep is `out` then `back`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMovement {
    /// What the movement is, in full.
    pub text: String,
    /// First half of a rep.
    pub out: RawDirection,
    /// Second half of a rep.
    pub back: RawDirection,
    /// How many reps.
    pub reps: RawReps,
    /// Seconds per direction.
    pub tempo: RawTempo,
    /// The breathing pairing.
    pub breathing: RawBreathing,
}

/// One direction of the movement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDirection {
    /// Where the direction starts.
    pub from: String,
    /// Where it ends.
    pub to: String,
    /// Short label for the pacer end it moves toward.
    pub label: String,
    /// Spoken cue, e.g. "roll toward your neck".
    pub cue: String,
    /// A shorter spoken cue, said after the short breath word when the full
    /// cue would not fit a short phase, e.g. "to your neck" ("in, to your neck").
    #[serde(default)]
    pub short_cue: Option<String>,
}

/// Rep count: minimum, maximum and default (1 to 50, min <= default <= max).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReps {
    /// Fewest reps (at least 1; the handout says about 5).
    #[schemars(range(min = 1, max = 50))]
    pub min: u32,
    /// Most reps, at most 50 (the handout says about 8).
    #[schemars(range(min = 1, max = 50))]
    pub max: u32,
    /// Default, from `min` to `max`.
    #[schemars(range(min = 1, max = 50))]
    pub default: u32,
}

/// Seconds per direction, with its allowed range (min <= default <= max).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTempo {
    /// Default seconds per direction.
    pub default_seconds: f64,
    /// Fewest seconds per direction.
    pub min_seconds: f64,
    /// Most seconds per direction.
    pub max_seconds: f64,
    /// Where the numbers come from.
    pub source: String,
}

/// Which breath goes with which direction.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RawPairing {
    /// Breathe in on the way out, out on the way back.
    InhaleOut,
    /// Breathe out on the way out, in on the way back.
    InhaleBack,
}

/// The breathing rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreathing {
    /// The rule in full.
    pub text: String,
    /// Pairing for a first session.
    pub start: RawPairing,
    /// Start each session with the other pairing than the last one.
    #[serde(default)]
    pub alternate_each_session: bool,
    /// Switch the pairing within a session after this many reps.
    #[serde(default)]
    pub switch_every_reps: Option<u32>,
    /// Cue for an inhale, e.g. "breathe in".
    pub inhale_cue: String,
    /// Cue for an exhale, e.g. "breathe out".
    pub exhale_cue: String,
    /// Short word for an inhale, said in short phases, e.g. "in".
    #[serde(default)]
    pub inhale_short: Option<String>,
    /// Short word for an exhale, said in short phases, e.g. "out".
    #[serde(default)]
    pub exhale_short: Option<String>,
}

/// A note told at a given moment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNote {
    /// Identifier, e.g. `noises-normal`.
    pub id: String,
    /// Full text.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// When the note is given, e.g. `{ at = "on-noise" }` or `{ at = "rep", rep = 2 }`.
    pub when: RawNoteMoment,
}

/// When a note is given.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(
    rename_all = "kebab-case",
    tag = "at",
    content = "rep",
    deny_unknown_fields
)]
pub enum RawNoteMoment {
    /// Right after the last setup step, before the person says ready: the
    /// place for a note too long to fit in a phase.
    BeforeRolling,
    /// When the rolling starts, before the first rep.
    RollingStart,
    /// At the start of this rep (1-based).
    Rep(u32),
    /// When the person reports a noise without pain.
    OnNoise,
    /// When the person reports discomfort at or below the threshold.
    OnDiscomfort,
}

/// A rule that ends the session at once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStopRule {
    /// Identifier, e.g. `pain-with-pop`.
    pub id: String,
    /// What triggers it, e.g. `{ kind = "pain-over-spine" }` or `{ kind = "discomfort", above = 7 }`.
    pub trigger: RawStopTrigger,
    /// The message shown and spoken when it stops the session.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
}

/// What triggers a stop rule.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum RawStopTrigger {
    /// Pain that comes with a snap, crackle or pop.
    PainWithPop,
    /// Pain directly over the spine.
    PainOverSpine,
    /// Sharp, radiating, numb or tingling sensations.
    SharpOrRadiating,
    /// Any other pain the person reports.
    OtherPain,
    /// Discomfort rated above `above` on the 0-10 scale.
    Discomfort {
        /// Stop when discomfort is strictly above this (0-9).
        above: u8,
    },
}

/// A caution beyond the handout.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCaution {
    /// Identifier.
    pub id: String,
    /// The caution.
    pub text: String,
    /// Its source: the study (authors, year, journal).
    pub source: String,
}

impl From<RawProtocol> for model::Protocol {
    fn from(r: RawProtocol) -> Self {
        model::Protocol {
            id: r.id,
            title: r.title,
            version: r.version,
            area: r.area,
            summary: r.summary,
            credit: model::Credit {
                source_title: r.credit.source_title,
                author: r.credit.author,
                role: r.credit.role,
                text: r.credit.text,
            },
            indications: r
                .indications
                .into_iter()
                .map(|i| model::Indication {
                    id: i.id,
                    text: i.text,
                    rating: model::Rating {
                        id: i.rating.id,
                        label: i.rating.label,
                        question: i.rating.question,
                        low: i.rating.low,
                        high: i.rating.high,
                        higher_is_better: i.rating.higher_is_better,
                    },
                })
                .collect(),
            instruments: r
                .instruments
                .into_iter()
                .map(|i| model::Instrument {
                    id: i.id,
                    name: i.name,
                    note: i.note,
                })
                .collect(),
            default_instrument: r.default_instrument,
            screening: model::Screening {
                injury_rule: model::InjuryRule {
                    window_hours: r.screening.injury_rule.window_hours,
                    message: r.screening.injury_rule.message,
                },
                questions: r
                    .screening
                    .questions
                    .into_iter()
                    .map(|q| model::Question {
                        id: q.id,
                        text: q.text,
                        refuse_on: match q.refuse_on {
                            RawAnswer::Yes => model::Answer::Yes,
                            RawAnswer::No => model::Answer::No,
                        },
                        refusal: q.refusal,
                        injury_window: q.injury_window,
                        source: q.source,
                    })
                    .collect(),
            },
            setup: r
                .setup
                .into_iter()
                .map(|s| model::SetupStep {
                    id: s.id,
                    text: s.text,
                    cue: s.cue,
                    variants: s
                        .variants
                        .into_iter()
                        .map(|v| model::StepVariant {
                            instrument: v.instrument,
                            text: v.text,
                            cue: v.cue,
                        })
                        .collect(),
                })
                .collect(),
            movement: model::Movement {
                text: r.movement.text,
                out: direction(r.movement.out),
                back: direction(r.movement.back),
                reps: model::Reps {
                    min: r.movement.reps.min,
                    max: r.movement.reps.max,
                    default: r.movement.reps.default,
                },
                tempo: model::Tempo {
                    default_seconds: r.movement.tempo.default_seconds,
                    min_seconds: r.movement.tempo.min_seconds,
                    max_seconds: r.movement.tempo.max_seconds,
                    source: r.movement.tempo.source,
                },
                breathing: model::Breathing {
                    text: r.movement.breathing.text,
                    start: match r.movement.breathing.start {
                        RawPairing::InhaleOut => model::Pairing::InhaleOut,
                        RawPairing::InhaleBack => model::Pairing::InhaleBack,
                    },
                    alternate_each_session: r.movement.breathing.alternate_each_session,
                    switch_every_reps: r.movement.breathing.switch_every_reps,
                    inhale_cue: r.movement.breathing.inhale_cue,
                    exhale_cue: r.movement.breathing.exhale_cue,
                    inhale_short: r.movement.breathing.inhale_short,
                    exhale_short: r.movement.breathing.exhale_short,
                },
            },
            notes: r
                .notes
                .into_iter()
                .map(|n| model::Note {
                    id: n.id,
                    text: n.text,
                    cue: n.cue,
                    when: match n.when {
                        RawNoteMoment::BeforeRolling => model::NoteMoment::BeforeRolling,
                        RawNoteMoment::RollingStart => model::NoteMoment::RollingStart,
                        RawNoteMoment::Rep(k) => model::NoteMoment::Rep(k),
                        RawNoteMoment::OnNoise => model::NoteMoment::OnNoise,
                        RawNoteMoment::OnDiscomfort => model::NoteMoment::OnDiscomfort,
                    },
                })
                .collect(),
            stop_rules: r
                .stop_rules
                .into_iter()
                .map(|s| model::StopRule {
                    id: s.id,
                    trigger: match s.trigger {
                        RawStopTrigger::PainWithPop => model::StopTrigger::PainWithPop,
                        RawStopTrigger::PainOverSpine => model::StopTrigger::PainOverSpine,
                        RawStopTrigger::SharpOrRadiating => model::StopTrigger::SharpOrRadiating,
                        RawStopTrigger::OtherPain => model::StopTrigger::OtherPain,
                        RawStopTrigger::Discomfort { above } => {
                            model::StopTrigger::Discomfort { above }
                        }
                    },
                    message: s.message,
                    source: s.source,
                })
                .collect(),
            cautions: r
                .cautions
                .into_iter()
                .map(|c| model::Caution {
                    id: c.id,
                    text: c.text,
                    source: c.source,
                })
                .collect(),
        }
    }
}

fn direction(d: RawDirection) -> model::DirectionSpec {
    model::DirectionSpec {
        from: d.from,
        to: d.to,
        label: d.label,
        cue: d.cue,
        short_cue: d.short_cue,
    }
}
