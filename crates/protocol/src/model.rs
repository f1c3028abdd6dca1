//! The protocol model: one set of types for every source.
//!
//! A protocol file (TOML, [`crate::parse`]) and a protocol that arrives as
//! JSON ([`Protocol::from_json`]: the page, an import's snapshot) both
//! deserialize into these types, and one check ([`Protocol::check`]) runs
//! every rule on the typed value. A [`Protocol`] that came through either is
//! valid: every reference resolves, the reps are in order, the tempo is
//! inside its range. Drivers and the engine can rely on that without
//! checking again. The same types derive the protocol file's JSON Schema
//! ([`crate::json_schema`]).

use serde::{Deserialize, Serialize};

/// Most reps a protocol may allow, and a session may run: a bound on the
/// time and memory any protocol file can make rollcoach use (at most 50
/// reps of 30 s each way: under an hour). Far above the handout's 5 to 8.
pub const MAX_REPS: u32 = 50;

/// Fewest seconds per direction a protocol may allow, and a session may run.
pub const MIN_TEMPO_SECONDS: f64 = 1.0;

/// Most seconds per direction a protocol may allow, and a session may run:
/// also a guard against typos (40 for 4.0), far above the 2-6 s that the
/// evidence supports (docs/evidence.md).
pub const MAX_TEMPO_SECONDS: f64 = 30.0;

/// The handout's injury window, in hours.
pub const HANDOUT_INJURY_WINDOW_HOURS: u32 = 48;

/// The body areas the handout covers: a shorter injury window there than
/// [`HANDOUT_INJURY_WINDOW_HOURS`] weakens the handout's rule.
pub const HANDOUT_AREAS: &[&str] = &["upper-back"];

/// A rollcoach protocol file: one guided mobility protocol, both the printable
/// handout and the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "full", schemars(title = "rollcoach protocol file"))]
#[serde(deny_unknown_fields)]
pub struct Protocol {
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
    pub credit: Credit,
    /// Reasons to consider the protocol, each with what is rated before and after.
    pub indications: Vec<Indication>,
    /// Tools the protocol can be done with.
    pub instruments: Vec<Instrument>,
    /// Safety questions and the injury rule, asked before anything moves.
    pub screening: Screening,
    /// Steps that bring the person into position, in order.
    pub setup: Vec<SetupStep>,
    /// The repeated movement.
    pub movement: Movement,
    /// Things told to the person at given moments.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// Rules that end the session at once.
    pub stop_rules: Vec<StopRule>,
    /// Cautions beyond the handout, each with its source.
    #[serde(default)]
    pub cautions: Vec<Caution>,
}

/// Credit of the source the protocol was adapted from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Credit {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Indication {
    /// Identifier, e.g. `soreness`.
    pub id: String,
    /// The reason in the handout's terms.
    pub text: String,
    /// What the person rates 0-10 before and after the session.
    pub rating: Rating,
}

/// A 0-10 self-rating recorded before and after a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rating {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Identifier, e.g. `foam-roller`.
    pub id: String,
    /// Name shown, e.g. "Foam roller".
    pub name: String,
    /// Instrument-specific advice.
    #[serde(default)]
    pub note: Option<String>,
}

/// Questions asked before anything moves, and the injury rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Screening {
    /// The recent-injury rule (the handout's 48 hours).
    pub injury_rule: InjuryRule,
    /// Yes/no questions asked in order.
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// No mobilizing an injury in the area that happened within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct InjuryRule {
    /// Window in hours, at least 1 (48 in the handout).
    #[cfg_attr(feature = "full", schemars(range(min = 1)))]
    pub window_hours: u32,
    /// Message given when the rule refuses a session.
    pub message: String,
}

impl InjuryRule {
    /// The window in milliseconds: an injury blocks the protocol from when it
    /// happened until this much later.
    pub fn window_ms(&self) -> u64 {
        u64::from(self.window_hours) * 3_600_000
    }
}

/// A yes/no screening question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Identifier, e.g. `recent-injury`.
    pub id: String,
    /// The question as shown and spoken.
    pub text: String,
    /// The answer that refuses the session.
    pub refuse_on: Answer,
    /// Why the session is refused, shown and spoken.
    pub refusal: String,
    /// Marks the question that asks about a recent injury in the area.
    #[serde(default)]
    pub injury_window: bool,
    /// Where the question comes from: `handout`, or the study (authors, year, journal).
    pub source: String,
}

/// A yes/no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// One setup step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupStep {
    /// Identifier, e.g. `lie-down`.
    pub id: String,
    /// Full text of the step.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// Wording for particular instruments.
    #[serde(default)]
    pub variants: Vec<StepVariant>,
}

/// Wording of a setup step for one instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StepVariant {
    /// The id of the instrument this wording is for.
    pub instrument: String,
    /// Full text for that instrument.
    pub text: String,
    /// Short spoken cue for that instrument.
    pub cue: String,
}

impl SetupStep {
    /// Text and cue for an instrument, falling back to the general wording.
    pub fn wording(&self, instrument: &str) -> (&str, &str) {
        self.variants
            .iter()
            .find(|v| v.instrument == instrument)
            .map(|v| (v.text.as_str(), v.cue.as_str()))
            .unwrap_or((self.text.as_str(), self.cue.as_str()))
    }
}

/// The repeated movement: one rep is `out` then `back`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Movement {
    /// What the movement is, in full.
    pub text: String,
    /// First half of a rep.
    pub out: DirectionSpec,
    /// Second half of a rep.
    pub back: DirectionSpec,
    /// How many reps.
    pub reps: Reps,
    /// Seconds per direction.
    pub tempo: Tempo,
    /// The breathing pairing.
    pub breathing: Breathing,
}

/// One direction of the movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DirectionSpec {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Reps {
    /// Fewest reps (at least 1; the handout says about 5).
    #[cfg_attr(feature = "full", schemars(range(min = 1, max = 50)))]
    pub min: u32,
    /// Most reps, at most 50 (the handout says about 8).
    #[cfg_attr(feature = "full", schemars(range(min = 1, max = 50)))]
    pub max: u32,
    /// Default, from `min` to `max`.
    #[cfg_attr(feature = "full", schemars(range(min = 1, max = 50)))]
    pub default: u32,
}

/// Seconds per direction, with its allowed range (min <= default <= max).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Tempo {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// Breathe in on the way out, out on the way back.
    InhaleOut,
    /// Breathe out on the way out, in on the way back.
    InhaleBack,
}

impl Pairing {
    /// The other pairing.
    pub fn switched(self) -> Pairing {
        match self {
            Pairing::InhaleOut => Pairing::InhaleBack,
            Pairing::InhaleBack => Pairing::InhaleOut,
        }
    }
}

/// The breathing rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Breathing {
    /// The rule in full.
    pub text: String,
    /// Pairing for a first session.
    pub start: Pairing,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// Identifier, e.g. `noises-normal`.
    pub id: String,
    /// Full text.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// When the note is given, e.g. `{ at = "on-noise" }` or `{ at = "rep", rep = 2 }`.
    pub when: NoteMoment,
}

/// When a note is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "kebab-case",
    tag = "at",
    content = "rep",
    deny_unknown_fields
)]
pub enum NoteMoment {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StopRule {
    /// Identifier, e.g. `pain-with-pop`.
    pub id: String,
    /// What triggers it, e.g. `{ kind = "pain-over-spine" }` or `{ kind = "discomfort", above = 7 }`.
    pub trigger: StopTrigger,
    /// The message shown and spoken when it stops the session.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
}

/// What triggers a stop rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum StopTrigger {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "full", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Caution {
    /// Identifier.
    pub id: String,
    /// The caution.
    pub text: String,
    /// Its source: the study (authors, year, journal).
    pub source: String,
}

impl Protocol {
    /// The instrument with this id.
    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.id == id)
    }

    /// The stop rule with this trigger kind, if the protocol has one.
    pub fn stop_rule(&self, pred: impl Fn(&StopTrigger) -> bool) -> Option<&StopRule> {
        self.stop_rules.iter().find(|r| pred(&r.trigger))
    }

    /// The discomfort threshold: discomfort strictly above it stops the session.
    pub fn discomfort_threshold(&self) -> Option<u8> {
        self.stop_rules.iter().find_map(|r| match r.trigger {
            StopTrigger::Discomfort { above } => Some(above),
            _ => None,
        })
    }

    /// Estimated rolling time in seconds at the default reps and tempo.
    pub fn estimated_rolling_seconds(&self) -> f64 {
        f64::from(self.movement.reps.default) * 2.0 * self.movement.tempo.default_seconds
    }

    /// Where this protocol weakens the handout's safety rules: no screening
    /// questions, a recent-injury question that refuses on "no", an injury
    /// window shorter than the handout's 48 hours in an area the handout
    /// covers ([`HANDOUT_AREAS`]), no discomfort stop rule. A coach's content,
    /// so these are warnings (shown by `protocols lint` and `protocols show`,
    /// in the server's protocol JSON and on the page's handout), not errors.
    pub fn safety_warnings(&self) -> Vec<SafetyWarning> {
        let mut out = Vec::new();
        let questions = &self.screening.questions;
        if questions.is_empty() {
            out.push(SafetyWarning {
                path: "screening.questions".into(),
                message: "no screening questions: nothing is asked before the session starts, \
                          while the handout asks about a recent injury in the area first"
                    .into(),
                hint: "add `[[screening.questions]]`, at least the recent-injury question \
                       (`injury_window = true`, `refuse_on = \"yes\"`) as in protocols/upper-back.toml"
                    .into(),
            });
        }
        for (i, q) in questions.iter().enumerate() {
            if (q.injury_window || q.id == "recent-injury") && q.refuse_on == Answer::No {
                out.push(SafetyWarning {
                    path: format!("screening.questions[{i}].refuse_on"),
                    message: format!(
                        "the recent-injury question `{}` refuses on \"no\": a person who answers \
                         \"yes\" (injured) is let through",
                        q.id
                    ),
                    hint: "ask it as the handout does (\"Have you injured ... in the last 48 hours?\") \
                           with `refuse_on = \"yes\"`"
                        .into(),
                });
            }
        }
        let window = self.screening.injury_rule.window_hours;
        if window < HANDOUT_INJURY_WINDOW_HOURS && HANDOUT_AREAS.contains(&self.area.as_str()) {
            out.push(SafetyWarning {
                path: "screening.injury_rule.window_hours".into(),
                message: format!(
                    "the injury window is {window} hours, shorter than the handout's \
                     {HANDOUT_INJURY_WINDOW_HOURS} hours for the {} area",
                    self.area
                ),
                hint: format!(
                    "use `window_hours = {HANDOUT_INJURY_WINDOW_HOURS}` or more, as the handout says"
                ),
            });
        }
        if self.discomfort_threshold().is_none() {
            out.push(SafetyWarning {
                path: "stop_rules".into(),
                message: "no discomfort rule: the session never stops for rising discomfort".into(),
                hint:
                    "add a `[[stop_rules]]` with `trigger = { kind = \"discomfort\", above = 7 }` \
                       as in protocols/upper-back.toml"
                        .into(),
            });
        }
        out
    }

    /// Every way this protocol weakens `base`, the protocol it derives from
    /// (a built-in: see [`crate::derived_builtin`]): a stop rule of `base`
    /// it does not have, a discomfort stop above `base`'s, a shorter injury
    /// window, a screening question of `base` (by id) it does not ask, asks
    /// refusing on the other answer, or no longer marks as the injury-window
    /// question. Each names the field, what `base` has, and the fix.
    pub fn weakened_from(&self, base: &Protocol) -> Vec<SafetyWarning> {
        let mut out = Vec::new();
        let keep = |what: &str| {
            format!(
                "keep {what} as built-in `{}` has it, or give up deriving from it",
                base.id
            )
        };
        for rule in &base.stop_rules {
            let kind = std::mem::discriminant(&rule.trigger);
            let mine = self
                .stop_rules
                .iter()
                .position(|r| std::mem::discriminant(&r.trigger) == kind);
            match (mine, rule.trigger) {
                (None, _) => out.push(SafetyWarning {
                    path: "stop_rules".into(),
                    message: format!(
                        "no stop rule for what built-in `{}`'s `{}` stops on: {}",
                        base.id,
                        rule.id,
                        rule.message.trim()
                    ),
                    hint: keep("the stop rule"),
                }),
                (Some(j), StopTrigger::Discomfort { above: theirs }) => {
                    if let StopTrigger::Discomfort { above } = self.stop_rules[j].trigger
                        && above > theirs
                    {
                        out.push(SafetyWarning {
                            path: format!("stop_rules[{j}].trigger.above"),
                            message: format!(
                                "the discomfort stop is above {above}, later than built-in \
                                 `{}`'s above {theirs}",
                                base.id
                            ),
                            hint: format!("use `above = {theirs}` or lower"),
                        });
                    }
                }
                (Some(_), _) => {}
            }
        }
        let (window, theirs) = (
            self.screening.injury_rule.window_hours,
            base.screening.injury_rule.window_hours,
        );
        if window < theirs {
            out.push(SafetyWarning {
                path: "screening.injury_rule.window_hours".into(),
                message: format!(
                    "the injury window is {window} hours, shorter than built-in `{}`'s {theirs}",
                    base.id
                ),
                hint: format!("use `window_hours = {theirs}` or more"),
            });
        }
        for q in &base.screening.questions {
            let Some(j) = self.screening.questions.iter().position(|m| m.id == q.id) else {
                out.push(SafetyWarning {
                    path: "screening.questions".into(),
                    message: format!(
                        "built-in `{}`'s screening question `{}` (\"{}\", refusing on \"{}\") \
                         is not asked: a question under another id is not known to ask the same",
                        base.id,
                        q.id,
                        q.text.trim(),
                        answer_word(q.refuse_on)
                    ),
                    hint: keep(&format!("the question `{}` with its `refuse_on`", q.id)),
                });
                continue;
            };
            let mine = &self.screening.questions[j];
            if mine.refuse_on != q.refuse_on {
                out.push(SafetyWarning {
                    path: format!("screening.questions[{j}].refuse_on"),
                    message: format!(
                        "the screening question `{}` refuses on \"{}\", built-in `{}`'s on \
                         \"{}\": the answer it refused is let through",
                        q.id,
                        answer_word(mine.refuse_on),
                        base.id,
                        answer_word(q.refuse_on)
                    ),
                    hint: format!("use `refuse_on = \"{}\"`", answer_word(q.refuse_on)),
                });
            }
            if q.injury_window && !mine.injury_window {
                out.push(SafetyWarning {
                    path: format!("screening.questions[{j}].injury_window"),
                    message: format!(
                        "the screening question `{}` is not marked as the recent-injury \
                         question, as built-in `{}`'s is: a \"yes\" does not log the injury \
                         nor block the area",
                        q.id, base.id
                    ),
                    hint: "add `injury_window = true`".into(),
                });
            }
        }
        out
    }

    /// All ratings of the indications, without duplicates, in order.
    pub fn ratings(&self) -> Vec<&Rating> {
        let mut out: Vec<&Rating> = Vec::new();
        for i in &self.indications {
            if !out.iter().any(|r| r.id == i.rating.id) {
                out.push(&i.rating);
            }
        }
        out
    }
}

/// A way a protocol weakens the handout's safety rules (see
/// [`Protocol::safety_warnings`]) or the built-in it derives from
/// ([`Protocol::weakened_from`]). Serialized as `{"path", "message", "hint"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyWarning {
    /// Where in the protocol file, as a dotted path with indexes, e.g.
    /// `screening.questions[0].refuse_on`.
    pub path: String,
    /// What is weakened.
    pub message: String,
    /// How to follow the handout.
    pub hint: String,
}

/// The body areas `protocols` cover, sorted, without duplicates: the areas an
/// injury can be logged in.
pub fn areas<'a>(protocols: impl IntoIterator<Item = &'a Protocol>) -> Vec<&'a str> {
    let mut areas: Vec<&str> = protocols.into_iter().map(|p| p.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    areas
}

/// Checks that some protocol covers `area`. A misspelt area would never
/// block anything, so every input of an injury goes through here.
pub fn check_area<'a>(
    protocols: impl IntoIterator<Item = &'a Protocol>,
    area: &str,
) -> Result<(), UnknownArea> {
    let known = areas(protocols);
    if known.contains(&area) {
        Ok(())
    } else {
        Err(UnknownArea {
            area: area.to_owned(),
            known: known.into_iter().map(str::to_owned).collect(),
        })
    }
}

/// An injury's area that no protocol covers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown area `{area}`: no protocol covers it; give one of the known areas: {}",
    known.join(", ")
)]
pub struct UnknownArea {
    /// The area given.
    pub area: String,
    /// The areas the protocols cover.
    pub known: Vec<String>,
}

/// An answer as the file writes it.
fn answer_word(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::No => "no",
    }
}
