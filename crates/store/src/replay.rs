//! Replaying a recorded session through the engine's session runner: one
//! place for crash recovery ([`crate::recover_interrupted`]) and for
//! verifying a pushed session ([`crate::verify_session`]).

use std::sync::Arc;

use rollcoach_engine::{Facts, LogEntry, Options, Rejected, Runner, Summary, Time};
use rollcoach_protocol::Protocol;

use crate::{Event, SessionOutcome};

/// What a replay established.
pub(crate) struct Replayed {
    pub outcome: SessionOutcome,
    pub message: Option<String>,
    pub summary: Summary,
    /// Log entries the session rejected (a runner never logs one).
    pub rejected: Vec<Rejected>,
}

/// How a session started: what the engine's runner was given.
pub(crate) struct Start<'a> {
    pub protocol: Arc<Protocol>,
    pub options: &'a Options,
    pub facts: &'a Facts,
    pub started_at: Time,
}

/// Rebuilds the session from `events` with [`Runner::recover`], started as
/// `start` says. Inputs the engine refused live are refused again and change
/// nothing, as they did then (they are listed in [`Replayed::rejected`]). If
/// the log reached the end, that end is the outcome; otherwise the runner
/// interrupts the session at `interrupt_at` (never before its last input;
/// `None`: at its last input), with what it did up to then.
pub(crate) fn replay(
    start: Start<'_>,
    events: &[Event],
    interrupt_at: Option<Time>,
) -> Result<Replayed, String> {
    let log: Vec<LogEntry> = events
        .iter()
        .map(|e| LogEntry {
            seq: e.seq,
            at_ms: e.at_ms,
            input: e.input,
        })
        .collect();
    let restored = Runner::recover(
        start.protocol,
        start.options.clone(),
        start.facts.clone(),
        start.started_at,
        &log,
    )
    .map_err(|e| e.to_string())?;
    let mut runner = restored.runner;
    let last = start
        .started_at
        .plus_ms(events.last().map_or(0, |e| e.at_ms));
    let end = runner.interrupt(interrupt_at.unwrap_or(last));
    Ok(Replayed {
        outcome: end
            .outcome
            .map_or(SessionOutcome::Interrupted, SessionOutcome::from),
        message: end.message,
        summary: end.summary,
        rejected: restored.rejected,
    })
}
