//! One way in (issue 19): the values that enter rollcoach from outside, each
//! a type with a private field and one `parse`. The CLI, every HTTP route,
//! sync, import and the page's WebAssembly module parse through these, so
//! that what one writer accepts every reader accepts too (an export
//! re-imports), and a value of one of these types has been checked.
//!
//! - [`Uid`]: a session's or an injury's uid (1 to 128 ASCII letters,
//!   digits, `-`, `_`, `.`, `:`); [`Uid::new`] is the one maker.
//! - [`InjuryNote`]: at most [`NOTE_MAX_CHARS`] characters, nothing a
//!   terminal acts on (control characters but newline and tab,
//!   bidirectional overrides and isolates).
//! - [`RecordTime`]: a time rollcoach records, from [`EARLIEST`] to now plus
//!   the clock skew the engine allows; [`InjuryTime`]: an injury's time,
//!   the same bounds by the engine's own rule
//!   ([`rollcoach_engine::check_injury_time`]), as it is to be recorded.
//! - [`Area`]: an area some protocol covers
//!   ([`rollcoach_protocol::check_area`]).
//! - [`Speed`]: a session clock factor in (0, 1000].
//! - [`SessionOptions`]: a session's options, checked against its protocol
//!   by the engine's rule ([`rollcoach_engine::Options::check`]).
//!
//! Every refusal is an [`Invalid`]: the field, the problem and the fix.
//! [`Uid`], [`InjuryNote`] and [`Speed`] deserialize through their `parse`,
//! so a typed request body cannot hold an unchecked one; the others need
//! what they are checked against (now, the protocols), so a body holds the
//! plain value and the handler parses it.
//!
//! Protocol ids are `rollcoach_protocol`'s to type (issue 19 gives them a
//! type of their own there).

use std::borrow::Cow;
use std::fmt;

use rollcoach_engine::{INJURY_CLOCK_SKEW_MS, Options, OptionsError, Time, check_injury_time};
use rollcoach_protocol::Protocol;
use serde::{Deserialize, Serialize};

use crate::DisplayTime;

/// The earliest time a session or an injury may have: 2000-01-01T00:00:00Z.
/// Anything before is a clock that was never set, or a forged record.
pub const EARLIEST: Time = Time(946_684_800_000);

/// The longest uid accepted, in bytes.
pub const MAX_UID_LEN: usize = 128;

/// The longest injury note accepted, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// The fastest session clock, a factor of real time.
pub const SPEED_MAX: f64 = 1000.0;

/// A value refused at the way in: which field, what is wrong, how to fix
/// it. Shown as `problem; fix` (the problem names what it is about);
/// [`Invalid::named`] puts the field in front, for answers that carry a
/// whole body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}; {fix}")]
pub struct Invalid {
    field: Cow<'static, str>,
    problem: String,
    fix: String,
}

impl Invalid {
    fn new(field: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Invalid {
        Invalid {
            field: Cow::Borrowed(field),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// The field, as the input names it (`uid`, `note`, `at`, `speed`, ...).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// How to fix it.
    pub fn fix(&self) -> &str {
        &self.fix
    }

    /// The same refusal about the field as this input names it: `--note`
    /// on the command line, `created_at` in an export document.
    #[must_use]
    pub fn in_field(mut self, field: impl Into<Cow<'static, str>>) -> Invalid {
        self.field = field.into();
        self
    }

    /// The same refusal with another fix (a front-end's own words for it).
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Invalid {
        self.fix = fix.into();
        self
    }

    /// `` `field`: problem; fix ``.
    pub fn named(&self) -> String {
        format!("`{}`: {self}", self.field)
    }
}

/// Text from outside, shown safely: control characters escaped, cut after
/// 64 characters.
pub(crate) fn shown(text: &str) -> String {
    let cut: String = text.chars().take(64).collect();
    let mut out: String = cut.chars().flat_map(char::escape_debug).collect();
    if text.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

/// Whether `c` is a character a terminal acts on (a control character other
/// than newline and tab), or one that reorders what it shows (the
/// bidirectional overrides and isolates). rollcoach never writes them. The
/// protocol crate's rule, the one `protocols lint` applies to every text of
/// a protocol file, so that nothing a protocol says is text the import refuses.
pub use rollcoach_protocol::is_unprintable;

// ----- uids -----------------------------------------------------------------

/// What is wrong with `uid` as a uid, if anything.
pub(crate) fn uid_problem(uid: &str) -> Option<&'static str> {
    if uid.is_empty() {
        Some("is empty")
    } else if uid.len() > MAX_UID_LEN {
        Some("is longer than 128 bytes")
    } else if uid.chars().any(char::is_control) {
        Some("holds control characters")
    } else if !uid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        Some("holds characters other than ASCII letters, digits, `-`, `_`, `.` and `:`")
    } else {
        None
    }
}

/// A session's or an injury's uid: 1 to 128 ASCII letters, digits, `-`,
/// `_`, `.` and `:`. Those rollcoach makes ([`Uid::new`]) are the time in
/// 12 hex digits, `-`, and 64 random bits in 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uid(String);

impl Uid {
    /// `text` as a uid, or why it is not one (field `uid`).
    pub fn parse(text: &str) -> Result<Uid, Invalid> {
        match uid_problem(text) {
            None => Ok(Uid(text.to_owned())),
            Some(why) => Err(Invalid::new(
                "uid",
                format!("the uid \"{}\" {why}", shown(text)),
                "give the uid rollcoach wrote (1 to 128 ASCII letters, digits, `-`, `_`, `.` \
                 or `:`)",
            )),
        }
    }

    /// A new uid: `time` (a session's start, an injury's logging time) in
    /// 12 hex digits, then `random`'s 64 bits in 16: `019b7a0a0c00-9f3c2e7a1b4d5c6e`.
    /// The one maker: the stores ([`crate::new_uid`]) and the page (through
    /// the WebAssembly module, with `crypto.getRandomValues` bits) call it.
    pub fn new(time: Time, random: u64) -> Uid {
        Uid(format!("{:012x}-{random:016x}", time.0))
    }

    /// The uid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uid as a `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Uid {
    type Error = Invalid;
    fn try_from(text: String) -> Result<Uid, Invalid> {
        match uid_problem(&text) {
            None => Ok(Uid(text)),
            Some(_) => Uid::parse(&text),
        }
    }
}

impl From<Uid> for String {
    fn from(uid: Uid) -> String {
        uid.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ----- injury notes ---------------------------------------------------------

/// An injury's note: at most [`NOTE_MAX_CHARS`] characters, none that a
/// terminal acts on ([`is_unprintable`]). Import, sync, `POST /api/injuries`
/// and `rollcoach injury add` take the same notes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InjuryNote(String);

impl InjuryNote {
    /// `text`, exactly, as a note, or why it cannot be one (field `note`).
    pub fn parse(text: &str) -> Result<InjuryNote, Invalid> {
        let chars = text.chars().count();
        if chars > NOTE_MAX_CHARS {
            return Err(Invalid::new(
                "note",
                format!(
                    "the note is {chars} characters long; an injury's note holds at most \
                     {NOTE_MAX_CHARS}"
                ),
                format!("shorten the note to {NOTE_MAX_CHARS} characters or fewer"),
            ));
        }
        if let Some(c) = text.chars().find(|c| is_unprintable(*c)) {
            return Err(Invalid::new(
                "note",
                format!(
                    "the note holds U+{:04X} (a control character or a bidirectional override), \
                     which a terminal would act on",
                    u32::from(c)
                ),
                "remove the control characters from the note",
            ));
        }
        Ok(InjuryNote(text.to_owned()))
    }

    /// A note as a person types it: trimmed, and none when nothing is left.
    pub fn from_input(text: Option<&str>) -> Result<Option<InjuryNote>, Invalid> {
        match text.map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => InjuryNote::parse(t).map(Some),
        }
    }

    /// The note as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InjuryNote {
    type Error = Invalid;
    fn try_from(text: String) -> Result<InjuryNote, Invalid> {
        InjuryNote::parse(&text)
    }
}

impl From<InjuryNote> for String {
    fn from(note: InjuryNote) -> String {
        note.0
    }
}

impl fmt::Display for InjuryNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ----- times ----------------------------------------------------------------

fn too_early(field: &'static str, t: Time) -> Invalid {
    Invalid::new(
        field,
        format!(
            "{} is before {}: nothing rollcoach records is that old",
            DisplayTime(t),
            DisplayTime(EARLIEST)
        ),
        "if this computer's clock is wrong, set it right; otherwise give the time it happened",
    )
}

/// A time rollcoach records (a session's start or end, an injury's logging
/// or clearing, an export's writing): from [`EARLIEST`] to now plus the
/// clock skew the engine allows an injury ([`INJURY_CLOCK_SKEW_MS`], by
/// [`check_injury_time`]'s rule). Kept as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordTime(Time);

impl RecordTime {
    /// `at`, checked at `now` (field `time`: name it with
    /// [`Invalid::in_field`]).
    pub fn parse(at: Time, now: Time) -> Result<RecordTime, Invalid> {
        if at < EARLIEST {
            return Err(too_early("time", at));
        }
        if check_injury_time(at, now).is_err() {
            return Err(Invalid::new(
                "time",
                format!(
                    "{} is in the future (now is {}; up to {} minutes ahead is allowed for clock \
                     skew)",
                    DisplayTime(at),
                    DisplayTime(now),
                    INJURY_CLOCK_SKEW_MS / 60_000
                ),
                "if this computer's clock is behind, set it right; otherwise give the time it \
                 happened",
            ));
        }
        Ok(RecordTime(at))
    }

    /// The time.
    pub fn get(self) -> Time {
        self.0
    }
}

/// An injury's time (when it happened) as it is to be recorded: not before
/// [`EARLIEST`], not later than when it is logged, as the engine's rule
/// ([`check_injury_time`]) says, which records a time at most
/// [`INJURY_CLOCK_SKEW_MS`] ahead as the logging time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InjuryTime(Time);

impl InjuryTime {
    /// `at` for an injury logged at `logged` (field `at`).
    pub fn parse(at: Time, logged: Time) -> Result<InjuryTime, Invalid> {
        if at < EARLIEST {
            // Without the time itself: the page's module has no calendar
            // (the time is what the person gave, in their own form).
            return Err(Invalid::new(
                "at",
                "an injury cannot be dated before 2000-01-01T00:00:00Z: nothing rollcoach \
                 records is that old",
                "give when the injury happened, or leave the time out to log it now",
            ));
        }
        check_injury_time(at, logged).map(InjuryTime).map_err(|e| {
            // The engine's words are `problem; fix`.
            let words = e.to_string();
            let (problem, fix) = words
                .split_once("; ")
                .unwrap_or((&words, "give when the injury happened"));
            Invalid::new("at", problem, fix)
        })
    }

    /// The time to record.
    pub fn get(self) -> Time {
        self.0
    }
}

// ----- areas ----------------------------------------------------------------

/// An injury's area: one that some protocol covers (a misspelt area would
/// never block anything), by [`rollcoach_protocol::check_area`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Area(String);

impl Area {
    /// `text` as an area of `protocols` (field `area`).
    pub fn parse<'a>(
        protocols: impl IntoIterator<Item = &'a Protocol>,
        text: &str,
    ) -> Result<Area, Invalid> {
        rollcoach_protocol::check_area(protocols, text)
            .map(|()| Area(text.to_owned()))
            .map_err(|e| {
                Invalid::new(
                    "area",
                    format!("unknown area `{}`: no protocol covers it", shown(&e.area)),
                    format!("give one of the known areas: {}", e.known.join(", ")),
                )
            })
    }

    /// The area as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ----- speed ----------------------------------------------------------------

/// A session clock's speed: a factor of real time above 0 and at most
/// [`SPEED_MAX`] (`serve --speed`, `web export --speed`, `run --speed`,
/// whose `max`, no waiting at all, is the CLI's on top of this).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Speed(f64);

impl Speed {
    /// Real time.
    pub const REAL_TIME: Speed = Speed(1.0);

    /// `factor` as a speed (field `speed`).
    pub fn parse(factor: f64) -> Result<Speed, Invalid> {
        if factor.is_finite() && factor > 0.0 && factor <= SPEED_MAX {
            Ok(Speed(factor))
        } else {
            Err(Invalid::new(
                "speed",
                format!(
                    "{factor} is not a speed: a session clock runs above 0 and at most 1000 \
                     times real time"
                ),
                SPEED_FIX,
            ))
        }
    }

    /// The factor.
    pub fn get(self) -> f64 {
        self.0
    }
}

const SPEED_FIX: &str = "give a factor such as 1 (real time) or 20 (twenty times faster)";

impl std::str::FromStr for Speed {
    type Err = Invalid;
    fn from_str(text: &str) -> Result<Speed, Invalid> {
        match text.trim().parse::<f64>() {
            Ok(f) => Speed::parse(f),
            Err(_) => Err(Invalid::new(
                "speed",
                format!("`{}` is not a number", shown(text)),
                SPEED_FIX,
            )),
        }
    }
}

impl TryFrom<f64> for Speed {
    type Error = Invalid;
    fn try_from(factor: f64) -> Result<Speed, Invalid> {
        Speed::parse(factor)
    }
}

impl From<Speed> for f64 {
    fn from(s: Speed) -> f64 {
        s.0
    }
}

impl Default for Speed {
    fn default() -> Speed {
        Speed::REAL_TIME
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ----- session options ------------------------------------------------------

/// A session's options, checked against its protocol by the engine's rule
/// ([`Options::check`], what every session start checks): reps and tempo
/// within the protocol's ranges, a known instrument, known reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionOptions(Options);

impl SessionOptions {
    /// `options` for a session of `protocol` (fields `reps`,
    /// `tempo_seconds`, `instrument`, `reasons`).
    pub fn parse(protocol: &Protocol, options: Options) -> Result<SessionOptions, Invalid> {
        match options.check(protocol) {
            Ok(()) => Ok(SessionOptions(options)),
            Err(e) => Err(options_invalid(protocol, &e)),
        }
    }

    /// The options.
    pub fn get(&self) -> &Options {
        &self.0
    }

    /// The options, to start the session with.
    pub fn into_options(self) -> Options {
        self.0
    }
}

fn options_invalid(p: &Protocol, e: &OptionsError) -> Invalid {
    let mv = &p.movement;
    let (field, fix) = match e {
        OptionsError::Reps { min, max, .. } => (
            "reps",
            format!(
                "give reps from {min} to {max}, or leave them out for the protocol's {}",
                mv.reps.default
            ),
        ),
        OptionsError::Tempo { min, max, .. } => (
            "tempo_seconds",
            format!(
                "give a tempo from {min} to {max} seconds, or leave it out for the protocol's {}",
                mv.tempo.default_seconds
            ),
        ),
        OptionsError::RepsLimit { .. } => (
            "reps",
            "fix the protocol's `movement.reps` (`rollcoach protocols lint` checks it)".to_owned(),
        ),
        OptionsError::TempoLimit { .. } => (
            "tempo_seconds",
            "fix the protocol's `movement.tempo` (`rollcoach protocols lint` checks it)".to_owned(),
        ),
        OptionsError::Instrument { known, .. } => (
            "instrument",
            format!("give one of the protocol's instruments ({known}), or leave it out"),
        ),
        OptionsError::Reason { known, .. } => (
            "reasons",
            format!("give the protocol's indication ids ({known}), or none"),
        ),
    };
    Invalid::new(field, e.to_string(), fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Time = Time(1_767_225_600_000); // 2026-01-01T00:00:00Z

    #[test]
    fn uids_are_the_sync_rule_and_new_makes_one() {
        for ok in [
            "a",
            "019b7a0a0c00-9f3c2e7a1b4d5c6e",
            "x.y:z_1-2",
            &"u".repeat(128),
        ] {
            assert_eq!(Uid::parse(ok).unwrap().as_str(), ok);
        }
        for (bad, why) in [
            ("", "is empty"),
            (&"u".repeat(129), "longer than 128 bytes"),
            ("a\u{1b}[31m", "control characters"),
            ("a b", "other than ASCII letters"),
            ("é", "other than ASCII letters"),
        ] {
            let e = Uid::parse(bad).unwrap_err();
            assert_eq!(e.field(), "uid");
            assert!(e.problem().contains(why), "{bad:?}: {e}");
            assert!(e.fix().contains("1 to 128"), "{e}");
        }
        let uid = Uid::new(Time(0x019b_7a0a_0c00), 0x9f3c_2e7a_1b4d_5c6e);
        assert_eq!(uid.as_str(), "019b7a0a0c00-9f3c2e7a1b4d5c6e");
        assert_eq!(
            Uid::new(Time(1), 0).as_str(),
            "000000000001-0000000000000000"
        );
        assert!(Uid::parse(Uid::new(Time(u64::MAX), u64::MAX).as_str()).is_ok());
    }

    #[test]
    fn a_uid_deserializes_only_through_parse() {
        let uid: Uid = serde_json::from_str("\"abc-1\"").unwrap();
        assert_eq!(serde_json::to_string(&uid).unwrap(), "\"abc-1\"");
        let e = serde_json::from_str::<Uid>("\"a/b\"").unwrap_err();
        assert!(e.to_string().contains("other than ASCII letters"), "{e}");
    }

    #[test]
    fn notes_hold_no_terminal_escapes_and_at_most_500_characters() {
        assert_eq!(
            InjuryNote::parse("fell\non it\t").unwrap().as_str(),
            "fell\non it\t"
        );
        assert!(InjuryNote::parse(&"é".repeat(500)).is_ok());
        let e = InjuryNote::parse(&"é".repeat(501)).unwrap_err();
        assert_eq!(e.field(), "note");
        assert!(e.problem().contains("501 characters"), "{e}");
        assert!(e.fix().contains("500"), "{e}");
        for bad in ["\u{1b}[31m", "a\0b", "\u{202e}evil", "x\u{2066}", "\r"] {
            let e = InjuryNote::parse(bad).unwrap_err();
            assert_eq!(e.field(), "note");
            assert!(
                e.problem().contains("a terminal would act on"),
                "{bad:?}: {e}"
            );
            assert!(e.fix().contains("remove the control characters"), "{e}");
        }
        assert_eq!(InjuryNote::from_input(Some("  ")).unwrap(), None);
        assert_eq!(InjuryNote::from_input(None).unwrap(), None);
        assert_eq!(
            InjuryNote::from_input(Some(" sore "))
                .unwrap()
                .unwrap()
                .as_str(),
            "sore"
        );
        assert!(serde_json::from_str::<InjuryNote>("\"\\u0000\"").is_err());
    }

    #[test]
    fn record_times_are_from_2000_to_now_plus_the_skew() {
        assert_eq!(RecordTime::parse(EARLIEST, NOW).unwrap().get(), EARLIEST);
        let skewed = NOW.plus_ms(INJURY_CLOCK_SKEW_MS);
        assert_eq!(
            RecordTime::parse(skewed, NOW).unwrap().get(),
            skewed,
            "kept as given"
        );
        let e = RecordTime::parse(skewed.plus_ms(1), NOW).unwrap_err();
        assert!(e.problem().contains("is in the future"), "{e}");
        let e = RecordTime::parse(Time(EARLIEST.0 - 1), NOW)
            .unwrap_err()
            .in_field("created_at");
        assert_eq!(e.field(), "created_at");
        assert!(e.problem().contains("before 2000-01-01"), "{e}");
        assert_eq!(e.named(), format!("`created_at`: {e}"));
    }

    #[test]
    fn injury_times_follow_the_engines_rule_and_are_not_before_2000() {
        assert_eq!(InjuryTime::parse(EARLIEST, NOW).unwrap().get(), EARLIEST);
        assert_eq!(
            InjuryTime::parse(NOW.plus_ms(60_000), NOW).unwrap().get(),
            NOW
        );
        let e = InjuryTime::parse(NOW.plus_ms(6 * 86_400_000 + 30_000), NOW).unwrap_err();
        assert_eq!(e.field(), "at");
        assert_eq!(
            e.to_string(),
            "an injury cannot be dated in the future: the time given is 6 days ahead of now; \
             give when the injury happened, or leave the time out to log it now",
            "the engine's words"
        );
        let e = InjuryTime::parse(Time(915_148_800_000), NOW).unwrap_err(); // 1999
        assert_eq!(e.field(), "at");
        assert!(
            e.problem().contains("cannot be dated before 2000-01-01"),
            "{e}"
        );
        assert!(e.fix().contains("when the injury happened"), "{e}");
        assert!(InjuryTime::parse(Time(0), NOW).is_err());
    }

    #[test]
    fn areas_are_those_the_protocols_cover() {
        let protocols = rollcoach_protocol::builtin();
        assert_eq!(
            Area::parse(&protocols, "upper-back").unwrap().as_str(),
            "upper-back"
        );
        let e = Area::parse(&protocols, "knee").unwrap_err();
        assert_eq!(e.field(), "area");
        assert!(
            e.to_string().starts_with(
                "unknown area `knee`: no protocol covers it; give one of the known areas: "
            ),
            "{e}"
        );
        let e = Area::parse(&protocols, "\u{1b}[2J").unwrap_err();
        assert!(e.problem().contains("\\u{1b}"), "shown escaped: {e}");
    }

    #[test]
    fn speeds_are_above_0_and_at_most_1000() {
        for ok in [0.001, 1.0, 20.0, 1000.0] {
            assert_eq!(Speed::parse(ok).unwrap().get(), ok);
        }
        for bad in [0.0, -1.0, 1000.5, f64::NAN, f64::INFINITY] {
            let e = Speed::parse(bad).unwrap_err();
            assert_eq!(e.field(), "speed");
            assert!(e.problem().contains("above 0 and at most 1000"), "{e}");
        }
        assert_eq!("20".parse::<Speed>().unwrap().get(), 20.0);
        let e = "fast".parse::<Speed>().unwrap_err();
        assert!(e.problem().contains("`fast` is not a number"), "{e}");
        assert!("NaN".parse::<Speed>().is_err());
        assert!(serde_json::from_str::<Speed>("0").is_err());
        assert_eq!(serde_json::to_string(&Speed::REAL_TIME).unwrap(), "1.0");
    }

    #[test]
    fn options_are_checked_against_the_protocol_by_the_engines_rule() {
        let p = rollcoach_protocol::builtin().remove(0);
        let ok = Options {
            reps: Some(p.movement.reps.max),
            ..Options::default()
        };
        assert_eq!(SessionOptions::parse(&p, ok.clone()).unwrap().get(), &ok);
        let cases = [
            (
                Options {
                    reps: Some(p.movement.reps.max + 1),
                    ..Options::default()
                },
                "reps",
                "reps must be between",
            ),
            (
                Options {
                    tempo_seconds: Some(f64::NAN),
                    ..Options::default()
                },
                "tempo_seconds",
                "tempo must be between",
            ),
            (
                Options {
                    instrument: Some("massage-gun".into()),
                    ..Options::default()
                },
                "instrument",
                "unknown instrument `massage-gun`",
            ),
            (
                Options {
                    reasons: vec!["knees".into()],
                    ..Options::default()
                },
                "reasons",
                "unknown reason `knees`",
            ),
        ];
        for (options, field, problem) in cases {
            let e = SessionOptions::parse(&p, options.clone()).unwrap_err();
            assert_eq!(e.field(), field);
            assert!(e.problem().starts_with(problem), "{e}");
            assert!(!e.fix().is_empty());
            // The same verdict as a session start.
            let started = rollcoach_engine::Session::new(&p, options, Default::default(), NOW);
            assert_eq!(started.unwrap_err().to_string(), e.problem());
        }
    }
}
