//! A finished run as the export document holds it: what a store records at a
//! session's end, computed from the run alone, so a driver that keeps no
//! store ([`crate::Records`]) (the phone page, through its WebAssembly module) writes
//! exactly the record a store would, and a server can check a pushed record
//! against the one its own replay gives.

use rollcoach_engine::{EndRecord, Facts, LogEntry, Options, RatingResult, Time};
use rollcoach_protocol::Protocol;

use crate::{Event, ExportedSession, SessionOutcome};

/// One run of a session, ended or interrupted: everything a store was given
/// at its start, its log, and its end.
#[derive(Debug, Clone, Copy)]
pub struct FinishedRun<'a> {
    /// The session's globally unique id.
    pub uid: &'a str,
    /// The protocol it ran.
    pub protocol: &'a Protocol,
    /// The protocol's serde JSON, kept as given (it survives model changes).
    pub protocol_json: &'a serde_json::Value,
    /// The options.
    pub options: &'a Options,
    /// The facts at the start.
    pub facts: &'a Facts,
    /// When it started.
    pub started_at: Time,
    /// Every logged input, in order.
    pub events: &'a [Event],
    /// How it ended ([`rollcoach_engine::Runner::end_record`] or
    /// [`rollcoach_engine::Runner::interrupt`]).
    pub end: &'a EndRecord,
}

/// The ratings a store gives back for a summary: those with a value, by
/// rating id (a store keeps one row per value and reads them sorted).
pub fn stored_ratings(ratings: &[RatingResult]) -> Vec<RatingResult> {
    let mut out: Vec<RatingResult> = ratings
        .iter()
        .filter(|r| r.before.is_some() || r.after.is_some())
        .cloned()
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

impl ExportedSession {
    /// The record of a finished run, field for field as a store writes it
    /// when the session ends (`begin_session`, then `end_session` with the
    /// end record) and [`crate::export`] reads it back: the outcome
    /// (`interrupted` when the end record has none), its reason id, the
    /// message, reps done and planned, active time, the starting pairing
    /// (the summary's first, else the chosen one), the ratings that have a
    /// value, the summary, and the log.
    pub fn finished(run: FinishedRun<'_>) -> ExportedSession {
        let end = run.end;
        let outcome = end
            .outcome
            .clone()
            .map_or(SessionOutcome::Interrupted, SessionOutcome::from);
        let summary = &end.summary;
        ExportedSession {
            uid: run.uid.to_owned(),
            protocol_id: run.protocol.id.clone(),
            protocol_version: run.protocol.version,
            area: run.protocol.area.clone(),
            protocol: run.protocol_json.clone(),
            options: run.options.clone(),
            facts: run.facts.clone(),
            started_at: run.started_at,
            ended_at: Some(end.ended_at),
            reason: outcome.reason_id(),
            outcome: Some(outcome),
            message: end.message.clone(),
            reps_done: Some(summary.reps_done),
            reps_target: summary.reps_target,
            active_ms: Some(summary.active_ms),
            pairing: summary.pairings.first().copied().or(run.options.pairing),
            ratings: stored_ratings(&summary.ratings),
            summary: Some(summary.clone()),
            events: run.events.to_vec(),
        }
    }
}

impl From<&LogEntry> for Event {
    fn from(e: &LogEntry) -> Event {
        Event {
            seq: e.seq,
            at_ms: e.at_ms,
            input: e.input,
        }
    }
}
