//! The validated protocol model.
//!
//! A [`Protocol`] is what a protocol file means once it has been parsed and
//! checked (see [`crate::parse`]): every reference resolves, the reps are in
//! order, the tempo is inside its range. Drivers and the engine can rely on
//! that without checking again.

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

/// One guided mobility protocol: both the printable handout and the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// Stable identifier, e.g. `upper-back`.
    pub id: String,
    /// Title shown to the person.
    pub title: String,
    /// Version of this protocol's content (bumped when the content changes).
    pub version: u32,
    /// Body area; the injury rule applies per area (e.g. `upper-back`).
    pub area: String,
    /// One-paragraph summary of what the protocol is for.
    pub summary: String,
    /// Where the content comes from.
    pub credit: Credit,
    /// Reasons to consider the protocol, each with what is rated before and after.
    pub indications: Vec<Indication>,
    /// Tools that can be used; the first is the default unless `default_instrument` says otherwise.
    pub instruments: Vec<Instrument>,
    /// Id of the default instrument.
    pub default_instrument: String,
    /// Safety questions and the injury rule, asked before anything moves.
    pub screening: Screening,
    /// Steps that bring the person into position, in order.
    pub setup: Vec<SetupStep>,
    /// The repeated movement.
    pub movement: Movement,
    /// Things to tell the person at given moments.
    pub notes: Vec<Note>,
    /// Rules that end the session at once.
    pub stop_rules: Vec<StopRule>,
    /// Cautions beyond the handout, each with its source.
    #[serde(default)]
    pub cautions: Vec<Caution>,
}

/// Credit of the source the protocol was adapted from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct Rating {
    /// Identifier, e.g. `upper-back-soreness`.
    pub id: String,
    /// Short label, e.g. "Upper-back soreness".
    pub label: String,
    /// The question asked, e.g. "How sore is your upper back right now?".
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
pub struct Instrument {
    /// Identifier, e.g. `foam-roller`.
    pub id: String,
    /// Name shown, e.g. "Foam roller".
    pub name: String,
    /// Instrument-specific advice, if any.
    pub note: Option<String>,
}

/// Questions asked before anything moves, and the injury rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// The recent-injury rule (the handout's 48 hours).
    pub injury_rule: InjuryRule,
    /// Questions asked in order.
    pub questions: Vec<Question>,
}

/// No mobilizing an injury in the area that happened within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjuryRule {
    /// Window in hours (48 in the handout).
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
pub struct Question {
    /// Identifier, e.g. `recent-injury`.
    pub id: String,
    /// The question as shown and spoken.
    pub text: String,
    /// The answer that refuses the session.
    pub refuse_on: Answer,
    /// Why the session is refused, shown and spoken.
    pub refusal: String,
    /// Marks a question that asks about a recent injury in the area
    /// (the handout's 48-hour rule asked of the person).
    #[serde(default)]
    pub injury_window: bool,
    /// Where the question comes from: `handout`, or the study (authors, year, journal).
    pub source: String,
}

/// A yes/no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// One setup step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupStep {
    /// Identifier, e.g. `lie-down`.
    pub id: String,
    /// Full text of the step.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// Wording for particular instruments, keyed by instrument id.
    #[serde(default)]
    pub variants: Vec<StepVariant>,
}

/// Wording of a setup step for one instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepVariant {
    /// The instrument id this wording is for.
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
pub struct Movement {
    /// What the movement is, in full.
    pub text: String,
    /// First half of a rep (toward the base of the neck).
    pub out: DirectionSpec,
    /// Second half of a rep (back to the base of the shoulder blades).
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
pub struct DirectionSpec {
    /// Where the direction starts, e.g. "the base of your shoulder blades".
    pub from: String,
    /// Where it ends, e.g. "the base of your neck".
    pub to: String,
    /// Short label for the pacer end it moves toward, e.g. "neck".
    pub label: String,
    /// Spoken cue, e.g. "roll toward your neck".
    pub cue: String,
    /// A shorter spoken cue for short phases, said after the short breath
    /// word, e.g. "to your neck" ("in, to your neck").
    #[serde(default)]
    pub short_cue: Option<String>,
}

/// Rep count: minimum, maximum and default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reps {
    /// Fewest reps (5 in the handout).
    pub min: u32,
    /// Most reps (8 in the handout).
    pub max: u32,
    /// Default, between the two.
    pub default: u32,
}

/// Seconds per direction, with its allowed range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// Breathe in on the way out (toward the neck), out on the way back.
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
pub struct Breathing {
    /// The rule in full.
    pub text: String,
    /// Pairing for a first session.
    pub start: Pairing,
    /// Start each session with the other pairing than the last one.
    pub alternate_each_session: bool,
    /// Switch the pairing within a session after this many reps (none: never).
    pub switch_every_reps: Option<u32>,
    /// Cue for an inhale, e.g. "breathe in".
    pub inhale_cue: String,
    /// Cue for an exhale, e.g. "breathe out".
    pub exhale_cue: String,
    /// Short word for an inhale, for short phases, e.g. "in".
    #[serde(default)]
    pub inhale_short: Option<String>,
    /// Short word for an exhale, for short phases, e.g. "out".
    #[serde(default)]
    pub exhale_short: Option<String>,
}

/// A note told at a given moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Identifier, e.g. `noises-normal`.
    pub id: String,
    /// Full text.
    pub text: String,
    /// Short spoken cue.
    pub cue: String,
    /// When the note is given.
    pub when: NoteMoment,
}

/// When a note is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "at", content = "rep")]
pub enum NoteMoment {
    /// Right after the last setup step, while the person is being talked
    /// into the movement and before they say ready: the place for a note
    /// too long to fit in a phase.
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
pub struct StopRule {
    /// Identifier, e.g. `pain-with-pop`.
    pub id: String,
    /// What triggers it.
    pub trigger: StopTrigger,
    /// The message shown and spoken when it stops the session.
    pub message: String,
    /// Where the rule comes from.
    pub source: String,
}

/// What triggers a stop rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
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
        /// Stop when discomfort is strictly above this.
        above: u8,
    },
}

/// A caution beyond the handout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
/// [`Protocol::safety_warnings`]). Serialized as `{"path", "message", "hint"}`.
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
