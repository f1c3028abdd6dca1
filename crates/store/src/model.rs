//! The records the store reads and writes.

use std::hash::{BuildHasher, Hasher};

use rollcoach_engine::{
    Facts, Input, Options, Outcome, RatingResult, RefusalReason, StopReason, Summary, Time,
};
use rollcoach_protocol::{Pairing, Protocol};
use serde::{Deserialize, Serialize};

/// A [`crate::SessionLog`]'s handle on a session it writes, valid in this
/// process only: records leave a store by uid ([`SessionRecord::uid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub i64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What [`crate::SessionLog::begin_session`] records: exactly what the engine's
/// `Session::new` was given, so the session can be replayed.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// The protocol (stored as a snapshot).
    pub protocol: &'a Protocol,
    /// The options.
    pub options: &'a Options,
    /// The facts (from [`crate::SessionLog::facts_for`]).
    pub facts: &'a Facts,
    /// The `now` given to `Session::new`.
    pub started_at: Time,
}

/// How a session ended, as recorded: the engine's [`Outcome`], or
/// `interrupted` when its driver died before the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum SessionOutcome {
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
    /// The driving process died before the session ended.
    Interrupted,
}

impl From<Outcome> for SessionOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Completed => SessionOutcome::Completed,
            Outcome::Stopped { reason } => SessionOutcome::Stopped { reason },
            Outcome::Refused { reason } => SessionOutcome::Refused { reason },
        }
    }
}

impl SessionOutcome {
    /// `completed`, `stopped`, `refused` or `interrupted`.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionOutcome::Completed => "completed",
            SessionOutcome::Stopped { .. } => "stopped",
            SessionOutcome::Refused { .. } => "refused",
            SessionOutcome::Interrupted => "interrupted",
        }
    }

    /// A short reason id: the stop reason (`pain-with-pop`, `by-person`, ...),
    /// `recent-injury`, or `answer:<question id>` for a refusing answer.
    pub fn reason_id(&self) -> Option<String> {
        match self {
            SessionOutcome::Completed | SessionOutcome::Interrupted => None,
            SessionOutcome::Stopped { reason } => match serde_json::to_value(reason) {
                Ok(serde_json::Value::String(s)) => Some(s),
                _ => None,
            },
            SessionOutcome::Refused {
                reason: RefusalReason::RecentInjury { .. },
            } => Some("recent-injury".to_owned()),
            SessionOutcome::Refused {
                reason: RefusalReason::Answer { question },
            } => Some(format!("answer:{question}")),
        }
    }

    /// Whether the person actually got to the session (everything but a refusal).
    pub fn counts_as_session(&self) -> bool {
        !matches!(self, SessionOutcome::Refused { .. })
    }
}

/// One recorded session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Globally unique id (kept by export and import).
    pub uid: String,
    /// The protocol's id.
    pub protocol_id: String,
    /// The protocol's content version.
    pub protocol_version: u32,
    /// The protocol's body area.
    pub area: String,
    /// The options the session ran with.
    pub options: Options,
    /// The facts the session started with.
    pub facts: Facts,
    /// When it started.
    pub started_at: Time,
    /// When it ended (`None` while live).
    pub ended_at: Option<Time>,
    /// How it ended (`None` while live).
    pub outcome: Option<SessionOutcome>,
    /// Short reason id, see [`SessionOutcome::reason_id`].
    pub reason: Option<String>,
    /// The end message (the protocol's stop or refusal message, or a completion line).
    pub message: Option<String>,
    /// Full reps done (`None` while live).
    pub reps_done: Option<u32>,
    /// Reps planned.
    pub reps_target: u32,
    /// Milliseconds spent rolling, pauses excluded (`None` while live).
    pub active_ms: Option<u64>,
    /// The breathing pairing the session started with, once known.
    pub pairing: Option<Pairing>,
    /// Ratings before and after that have a value, by rating id.
    pub ratings: Vec<RatingResult>,
    /// The engine's summary (`None` while live).
    pub summary: Option<Summary>,
}

impl SessionRecord {
    /// Milliseconds from start to end, if it ended.
    pub fn duration_ms(&self) -> Option<u64> {
        self.ended_at.map(|e| e.since(self.started_at))
    }
}

/// One recorded input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Sequence number within the session, from 0.
    pub seq: u32,
    /// Milliseconds after the session's start.
    pub at_ms: u64,
    /// The input.
    pub input: Input,
}

/// A logged injury.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Injury {
    /// Its number in its person's injury log (1, 2, 3, ... in the order
    /// they were logged): what `rollcoach injury list` shows and `injury
    /// clear N` takes. A copy elsewhere may have another number; the
    /// [`Injury::uid`] is what names it everywhere. (0 for a copy that has
    /// none: the page's.) Written `id` in the CLI's `injury list --json`,
    /// the name it has always had there.
    #[serde(default, rename = "id")]
    pub number: u32,
    /// Globally unique id (kept by export and import, which deduplicates
    /// injuries by it): [`new_uid`] of its logging time, or
    /// [`legacy_injury_uid`] for an injury logged before injuries had one.
    pub uid: String,
    /// Body area, e.g. `upper-back`.
    pub area: String,
    /// When it happened.
    pub at: Time,
    /// The person's note.
    pub note: Option<String>,
    /// When it was logged.
    pub created_at: Time,
    /// When it was cleared (`None`: it still counts).
    pub cleared_at: Option<Time>,
}

/// An injury to log ([`crate::Records::add_injury`]): the person's words,
/// checked by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInjury {
    /// Body area, one a protocol covers.
    pub area: String,
    /// When it happened.
    pub at: Time,
    /// The person's note.
    pub note: Option<String>,
    /// Now: when it is logged (its uid is made of it).
    pub created_at: Time,
}

/// A session [`crate::recover_interrupted`] or [`crate::interrupt`] ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovered {
    /// The session.
    pub uid: String,
    /// Its protocol.
    pub protocol_id: String,
    /// When it started.
    pub started_at: Time,
    /// The outcome recorded (`interrupted` unless the log reached the end).
    pub outcome: SessionOutcome,
    /// Reps done according to its log.
    pub reps_done: u32,
    /// Reps planned.
    pub reps_target: u32,
    /// Set when the log could not be replayed: why (`reps_done` is then 0
    /// and unknown, and the record's `reps_done` is empty).
    pub problem: Option<String>,
}

/// A new globally unique id: the time and 64 random bits, in hex
/// (`019b7a0a0c00-9f3c2e7a1b4d5c6e`). Backends call it in
/// [`crate::SessionLog::begin_session`] with the start ([`SessionRecord::uid`])
/// and in [`crate::Records::add_injury`] with the logging time ([`Injury::uid`]).
pub fn new_uid(started_at: Time) -> String {
    // std's RandomState is seeded randomly per process; mixing in a counter
    // keeps ids from one process distinct.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u32(std::process::id());
    crate::Uid::new(started_at, h.finish()).into_string()
}

/// The uid of an injury logged before injuries had one (schema 4 and older,
/// export documents without injury uids): derived from what identified it
/// then, so every copy of it gets the same uid wherever it is derived:
/// `<created_at>-<at>-<n>-<area>`, the two times in 12 hex digits as in
/// [`new_uid`], `n` (from 1) its rank among the injuries of the same area,
/// time and logging time (by id in a database, by order in a document,
/// which lists them by id). It cannot equal a [`new_uid`] (those have one
/// `-`). The SQLite migration 5 backfills stored injuries with the same
/// rule in SQL, and the page (web/local.js) its own.
pub fn legacy_injury_uid(area: &str, at: Time, created_at: Time, n: u32) -> String {
    format!("{:012x}-{:012x}-{n}-{area}", created_at.0, at.0)
}

/// How a session ended, for [`crate::SessionLog::end_session`]: what the engine's
/// `Output::End` says, or what recovery established.
#[derive(Debug, Clone, Copy)]
pub struct SessionEnd<'a> {
    /// When it ended.
    pub ended_at: Time,
    /// How.
    pub outcome: &'a SessionOutcome,
    /// The end message, if any.
    pub message: Option<&'a str>,
    /// The engine's summary; `None` when the log could not be replayed (the
    /// reps done are then unknown).
    pub summary: Option<&'a Summary>,
}

/// A session that has not ended, as recovery sees it: only plain values,
/// so a session whose stored JSON is damaged can still be ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// The log's handle on it.
    pub id: SessionId,
    /// Its uid.
    pub uid: String,
    /// Its protocol's id.
    pub protocol_id: String,
    /// When it started.
    pub started_at: Time,
    /// Reps planned.
    pub reps_target: u32,
    /// Milliseconds after the start of its last logged input (`None`: none yet).
    pub last_event_ms: Option<u64>,
}
