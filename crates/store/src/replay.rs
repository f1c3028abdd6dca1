//! Replaying a recorded session through the engine.

use rollcoach_engine::{Input, Output, Summary};
use rollcoach_protocol::Protocol;

use crate::{Event, SessionOutcome, SessionRecord};

/// What a replay established.
pub(crate) struct Replayed {
    pub outcome: SessionOutcome,
    pub message: Option<String>,
    pub summary: Summary,
}

/// Replays `events` through [`rollcoach_engine::replay`] into a session
/// started as `record` was. Inputs the engine refused live are refused again
/// and change nothing, as they did then. If the log reached the end, that
/// end is the outcome; otherwise the session is `interrupted` with what it
/// did up to its last input.
pub(crate) fn replay(
    protocol: &Protocol,
    record: &SessionRecord,
    events: &[Event],
) -> Result<Replayed, String> {
    let log: Vec<(u64, Input)> = events.iter().map(|e| (e.at_ms, e.input)).collect();
    let replay = rollcoach_engine::replay(
        protocol,
        record.options.clone(),
        record.facts.clone(),
        record.started_at,
        &log,
    )
    .map_err(|e| format!("the recorded options no longer fit the protocol: {e}"))?;
    let end = replay.outputs.into_iter().find_map(|o| match o {
        Output::End {
            outcome,
            message,
            summary,
        } => Some((outcome, message, summary)),
        _ => None,
    });
    Ok(match end {
        Some((outcome, message, summary)) => Replayed {
            outcome: outcome.into(),
            message: Some(message),
            summary,
        },
        None => Replayed {
            outcome: SessionOutcome::Interrupted,
            message: None,
            summary: replay.session.summary(),
        },
    })
}
