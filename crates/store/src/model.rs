//! The records the store reads and writes.

use std::hash::{BuildHasher, Hasher};

use rollcoach_engine::{
    Facts, Input, Options, Outcome, RatingResult, RefusalReason, StopReason, Summary, Time,
};
use rollcoach_protocol::{Pairing, Protocol};
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError, from_json, parse_pairing, time};

/// A session's id in this file (not stable across export/import: see
/// [`SessionRecord::uid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub i64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An injury's id in this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InjuryId(pub i64);

impl std::fmt::Display for InjuryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What [`crate::Store::begin_session`] records: exactly what the engine's
/// `Session::new` was given, so the session can be replayed.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// The protocol (stored as a snapshot).
    pub protocol: &'a Protocol,
    /// The options.
    pub options: &'a Options,
    /// The facts (from [`crate::Store::facts_for`]).
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
    /// Id in this file.
    pub id: SessionId,
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
    /// The process that drives (or drove) the session.
    pub owner_pid: Option<u32>,
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
    /// Id in this file.
    pub id: InjuryId,
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

/// A session [`crate::Store::recover_interrupted`] ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovered {
    /// The session.
    pub id: SessionId,
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

/// A new globally unique id: the start time and 64 random bits, in hex.
pub(crate) fn new_uid(started_at: Time) -> String {
    // std's RandomState is seeded randomly per process; mixing in a counter
    // keeps ids from one process distinct.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u32(std::process::id());
    format!("{:012x}-{:016x}", started_at.0, h.finish())
}

/// A `sessions` row before its JSON columns are parsed.
pub(crate) struct RawSession {
    pub id: i64,
    uid: String,
    protocol_id: String,
    protocol_version: u32,
    area: String,
    options_json: String,
    facts_json: String,
    started_at: i64,
    ended_at: Option<i64>,
    outcome_json: Option<String>,
    reason: Option<String>,
    message: Option<String>,
    reps_done: Option<u32>,
    reps_target: u32,
    active_ms: Option<i64>,
    pairing: Option<String>,
    summary_json: Option<String>,
    owner_pid: Option<u32>,
}

impl RawSession {
    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSession> {
        Ok(RawSession {
            id: r.get(0)?,
            uid: r.get(1)?,
            protocol_id: r.get(2)?,
            protocol_version: r.get(3)?,
            area: r.get(4)?,
            options_json: r.get(5)?,
            facts_json: r.get(6)?,
            started_at: r.get(7)?,
            ended_at: r.get(8)?,
            outcome_json: r.get(9)?,
            reason: r.get(10)?,
            message: r.get(11)?,
            reps_done: r.get(12)?,
            reps_target: r.get(13)?,
            active_ms: r.get(14)?,
            pairing: r.get(15)?,
            summary_json: r.get(16)?,
            owner_pid: r.get(17)?,
        })
    }

    pub(crate) fn into_record(
        self,
        ratings: Vec<RatingResult>,
    ) -> Result<SessionRecord, StoreError> {
        let id = SessionId(self.id);
        Ok(SessionRecord {
            id,
            uid: self.uid,
            protocol_id: self.protocol_id,
            protocol_version: self.protocol_version,
            area: self.area,
            options: from_json(&self.options_json, id, "options")?,
            facts: from_json(&self.facts_json, id, "facts")?,
            started_at: time(self.started_at),
            ended_at: self.ended_at.map(time),
            outcome: self
                .outcome_json
                .map(|j| from_json(&j, id, "outcome"))
                .transpose()?,
            reason: self.reason,
            message: self.message,
            reps_done: self.reps_done,
            reps_target: self.reps_target,
            active_ms: self.active_ms.map(|v| u64::try_from(v).unwrap_or(0)),
            pairing: self.pairing.as_deref().and_then(parse_pairing),
            ratings,
            summary: self
                .summary_json
                .map(|j| from_json(&j, id, "summary"))
                .transpose()?,
            owner_pid: self.owner_pid,
        })
    }
}
