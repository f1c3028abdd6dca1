//! The engine's inputs, outputs, options and facts. All serde-serializable:
//! the server sends outputs as JSON, the store keeps inputs.

use rollcoach_protocol::{Answer, Pairing};
use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since the Unix epoch, as the driver's clock
/// (real or virtual) says. The engine never reads a clock itself.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(pub u64);

impl Time {
    /// This time plus `ms` milliseconds.
    pub fn plus_ms(self, ms: u64) -> Time {
        Time(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Choices the person (or driver) makes before the session starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Instrument id; `None` is the protocol's default instrument.
    pub instrument: Option<String>,
    /// Reps; `None` is the protocol's default. Must be within the protocol's min and max.
    pub reps: Option<u32>,
    /// Seconds per direction; `None` is the protocol's default. Must be within its range.
    pub tempo_seconds: Option<f64>,
    /// Indication ids the person chose as their reasons; their ratings are asked before and after.
    pub reasons: Vec<String>,
    /// Breathing pairing to start with; `None` derives it from the facts.
    pub pairing: Option<Pairing>,
}

/// What the store knows when the session starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Injuries in the protocol's area, with when they happened.
    pub injuries: Vec<InjuryFact>,
    /// The breathing pairing the last session of this protocol started with.
    pub last_pairing: Option<Pairing>,
}

/// A logged injury.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjuryFact {
    /// When it happened.
    pub at: Time,
    /// The person's note, if any.
    pub note: Option<String>,
}

/// The kind of pain the person reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PainKind {
    /// Pain that comes with a snap, crackle or pop.
    Pop,
    /// Pain directly over the spine.
    Spine,
    /// Sharp, radiating, numb or tingling.
    Sharp,
    /// Any other pain.
    Other,
}

/// Something that happened: a person's event, or a deadline reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Input {
    /// Answer to the current screening question.
    Answer {
        /// Yes or no.
        answer: Answer,
    },
    /// The person is ready (for the current setup step).
    Ready,
    /// A 0-10 rating for the current rating prompt; `None` skips it.
    Rating {
        /// 0 to 10, or `None` to skip.
        value: Option<u8>,
    },
    /// Freeze the current phase.
    Pause,
    /// Continue the paused phase with the time it had left.
    Resume,
    /// Current discomfort on the 0-10 scale.
    Discomfort {
        /// 0 to 10.
        level: u8,
    },
    /// The person reports pain.
    Pain {
        /// Which kind.
        kind: PainKind,
    },
    /// A snap, crackle or pop without pain.
    Noise,
    /// Switch the breathing pairing from the next phase on.
    SwitchBreathing,
    /// The person stops the session.
    Stop,
    /// The driver's clock reached `next_deadline()`.
    Timeout,
}

/// Which direction of the movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the shoulder blades toward the neck.
    Out,
    /// From the neck back to the shoulder blades.
    Back,
}

/// Which breath goes with a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Breath {
    /// Breathe in.
    Inhale,
    /// Breathe out.
    Exhale,
}

/// Before or after the rolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// Before the rolling.
    Before,
    /// After the rolling.
    After,
}

/// The stage of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Safety questions.
    Screening,
    /// Ratings before.
    RatingsBefore,
    /// Getting into position.
    Setup,
    /// Rolling with the breath.
    Rolling,
    /// Ratings after.
    RatingsAfter,
    /// Over.
    Ended,
}

/// What the person is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Prompt {
    /// A yes/no screening question.
    Screening {
        /// Question id.
        id: String,
        /// The question.
        text: String,
        /// 1-based index.
        index: u32,
        /// How many questions.
        of: u32,
    },
    /// A 0-10 rating (skippable).
    Rating {
        /// Before or after.
        when: When,
        /// Rating id.
        id: String,
        /// Short label.
        label: String,
        /// The question.
        question: String,
        /// Meaning of 0.
        low: String,
        /// Meaning of 10.
        high: String,
    },
    /// A setup step; answered with Ready.
    Ready {
        /// Step id.
        id: String,
        /// Full text of the step.
        text: String,
        /// 1-based index.
        index: u32,
        /// How many steps.
        of: u32,
    },
}

/// Why a session stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Pain with a snap, crackle or pop.
    PainWithPop,
    /// Pain directly over the spine.
    PainOverSpine,
    /// Sharp, radiating, numb or tingling.
    SharpOrRadiating,
    /// Any other pain.
    OtherPain,
    /// Discomfort above the threshold.
    TooMuchDiscomfort,
    /// The person stopped.
    ByPerson,
}

/// Why a session was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum RefusalReason {
    /// An injury in the area within the window, from the injury log.
    RecentInjury {
        /// When the logged injury happened.
        injured_at: Time,
        /// When the session becomes allowed.
        allowed_at: Time,
    },
    /// The refusing answer to a screening question.
    Answer {
        /// The question's id.
        question: String,
    },
}

/// How a session ended: exactly one per session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Outcome {
    /// All reps done and ratings asked.
    Completed,
    /// Stopped by a stop rule or the person.
    Stopped {
        /// Why.
        reason: StopReason,
    },
    /// Refused by screening.
    Refused {
        /// Why.
        reason: RefusalReason,
    },
}

/// A rating before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingResult {
    /// Rating id.
    pub id: String,
    /// Before (None: skipped or not reached).
    pub before: Option<u8>,
    /// After (None: skipped or not reached).
    pub after: Option<u8>,
}

/// What a session did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Full reps done (out and back).
    pub reps_done: u32,
    /// Reps planned.
    pub reps_target: u32,
    /// Milliseconds spent rolling, pauses excluded.
    pub active_ms: u64,
    /// Pairings used, in order of first use.
    pub pairings: Vec<Pairing>,
    /// Ratings before and after.
    pub ratings: Vec<RatingResult>,
    /// Discomfort levels reported.
    pub discomfort: Vec<u8>,
    /// Noises without pain reported.
    pub noises: u32,
}

/// Something for the driver to show, say or act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Output {
    /// The session moved to another stage.
    Stage {
        /// The new stage.
        stage: Stage,
    },
    /// Something to show and speak.
    Cue {
        /// Text to show.
        text: String,
        /// Short text to speak.
        say: String,
    },
    /// The person is asked for an answer, readiness or a rating.
    Prompt(Prompt),
    /// A rolling phase starts.
    Phase {
        /// 1-based rep.
        rep: u32,
        /// Reps planned.
        of: u32,
        /// Direction.
        direction: Direction,
        /// Breath.
        breath: Breath,
        /// Where the pacer moves toward (the protocol's label, e.g. "neck").
        toward: String,
        /// Phase length in milliseconds.
        duration_ms: u64,
        /// When the phase ends.
        deadline: Time,
    },
    /// The phase is frozen.
    Paused {
        /// Milliseconds left in the phase.
        remaining_ms: u64,
    },
    /// The phase continues.
    Resumed {
        /// The phase's new deadline.
        deadline: Time,
        /// Milliseconds left in the phase.
        remaining_ms: u64,
    },
    /// The breathing pairing changes from the next phase.
    PairingSwitched {
        /// The new pairing.
        pairing: Pairing,
    },
    /// A note from the protocol.
    Note {
        /// Note id.
        id: String,
        /// Full text.
        text: String,
        /// Spoken cue.
        say: String,
    },
    /// A discomfort or noise report was logged; the session goes on.
    Acknowledged {
        /// What was logged, e.g. "discomfort 5" or "noise".
        what: String,
    },
    /// The session is over.
    End {
        /// How it ended.
        outcome: Outcome,
        /// The message (the protocol's stop or refusal message, or a completion line).
        message: String,
        /// What it did.
        summary: Summary,
    },
}

/// Options that do not fit the protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// Reps outside the protocol's range.
    #[error("reps must be between {min} and {max} for this protocol, got {got}")]
    Reps {
        /// Given.
        got: u32,
        /// Minimum.
        min: u32,
        /// Maximum.
        max: u32,
    },
    /// Tempo outside the protocol's range.
    #[error(
        "tempo must be between {min} and {max} seconds per direction for this protocol, got {got}"
    )]
    Tempo {
        /// Given.
        got: f64,
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
    },
    /// The reps to run are above [`rollcoach_protocol::MAX_REPS`]: the
    /// protocol allows more than rollcoach runs (a file that did not pass
    /// `rollcoach protocols lint`). Checked again here so that no protocol
    /// can make a session take unbounded time or memory.
    #[error(
        "{got} reps is more than rollcoach runs in one session (at most {max}); \
         the protocol allows too many: fix `movement.reps` (`rollcoach protocols lint` checks it)"
    )]
    RepsLimit {
        /// The reps the session would run.
        got: u32,
        /// [`rollcoach_protocol::MAX_REPS`].
        max: u32,
    },
    /// The tempo to run is outside [`rollcoach_protocol::MIN_TEMPO_SECONDS`]
    /// to [`rollcoach_protocol::MAX_TEMPO_SECONDS`]: the protocol allows a
    /// tempo rollcoach does not run (a file that did not pass `lint`).
    #[error(
        "a tempo of {got} s per direction is outside what rollcoach runs ({min} to {max} s); \
         fix `movement.tempo` in the protocol (`rollcoach protocols lint` checks it)"
    )]
    TempoLimit {
        /// The tempo the session would run.
        got: f64,
        /// [`rollcoach_protocol::MIN_TEMPO_SECONDS`].
        min: f64,
        /// [`rollcoach_protocol::MAX_TEMPO_SECONDS`].
        max: f64,
    },
    /// Unknown instrument.
    #[error("unknown instrument `{got}`; this protocol has: {known}")]
    Instrument {
        /// Given.
        got: String,
        /// Known ids, comma-separated.
        known: String,
    },
    /// Unknown reason.
    #[error("unknown reason `{got}`; this protocol has: {known}")]
    Reason {
        /// Given.
        got: String,
        /// Known ids, comma-separated.
        known: String,
    },
}

/// An input that does not fit the session's current state. Nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The input is not expected now.
    #[error("`{input}` does not fit now: the session is {state}")]
    NotNow {
        /// The input's name.
        input: &'static str,
        /// What the session is doing.
        state: String,
    },
    /// A rating or discomfort level above 10.
    #[error("{what} must be from 0 to 10, got {got}")]
    OutOfScale {
        /// What was rated.
        what: &'static str,
        /// Given.
        got: u8,
    },
    /// Time went backwards.
    #[error("time went backwards: {now:?} is before {last:?}")]
    TimeWentBack {
        /// Given.
        now: Time,
        /// Last time seen.
        last: Time,
    },
    /// The session is over.
    #[error("the session has ended")]
    Ended,
}
