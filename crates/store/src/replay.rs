//! Replaying a recorded session through the engine's session runner.

use std::sync::Arc;

use rollcoach_engine::{LogEntry, Runner, Summary};
use rollcoach_protocol::Protocol;

use crate::{Event, SessionOutcome, SessionRecord};

/// What a replay established.
pub(crate) struct Replayed {
    pub outcome: SessionOutcome,
    pub message: Option<String>,
    pub summary: Summary,
}

/// Rebuilds the session from `events` with [`Runner::recover`], started as
/// `record` was. Inputs the engine refused live are refused again and change
/// nothing, as they did then. If the log reached the end, that end is the
/// outcome; otherwise the runner interrupts the session at its last input,
/// with what it did up to then.
pub(crate) fn replay(
    protocol: &Protocol,
    record: &SessionRecord,
    events: &[Event],
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
        Arc::new(protocol.clone()),
        record.options.clone(),
        record.facts.clone(),
        record.started_at,
        &log,
    )
    .map_err(|e| e.to_string())?;
    let mut runner = restored.runner;
    let last = record
        .started_at
        .plus_ms(events.last().map_or(0, |e| e.at_ms));
    let end = runner.interrupt(last);
    Ok(Replayed {
        outcome: end
            .outcome
            .map_or(SessionOutcome::Interrupted, SessionOutcome::from),
        message: end.message,
        summary: end.summary,
    })
}
