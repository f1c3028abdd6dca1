//! Crash recovery, the same for every backend: a session whose driver died
//! is ended from its own event log and recorded as interrupted.
//!
//! The store only hands over what recovery needs (the live sessions and
//! their drivers, each session's record, protocol snapshot and log) and
//! takes the end through [`SessionLog::end_session`]. Replaying the log is the
//! engine's job; it happens in one place, [`replay_end`], so that switching
//! it to the engine's session runner touches nothing else.

use crate::replay;
use crate::{
    Conflict, Corrupt, LiveSession, Recovered, Result, SessionEnd, SessionId, SessionLog,
    SessionOutcome, StoreError,
};

/// Ends every live session whose driving process is gone, and returns them.
/// The outcome comes from replaying its event log through the engine:
/// `interrupted` with the reps done, or the engine's own outcome if the log
/// already reached the end (the driver died between the last input and
/// recording the end). A log that cannot be replayed is recorded as
/// `interrupted` with no reps count and the reason ([`Recovered::problem`])
/// rather than failing. Sessions whose process is alive, or where that
/// cannot be told (non-Linux), are left alone; imported sessions have no
/// process. The end time is the time of the last event.
pub fn recover_interrupted(store: &dyn SessionLog) -> Result<Vec<Recovered>> {
    let mut out = Vec::new();
    for live in store.orphaned_sessions()? {
        out.extend(end_from_log(store, &live)?);
    }
    Ok(out)
}

/// Ends a live session as [`recover_interrupted`] does, whoever drives it:
/// for a driver that is asked to quit mid-session (a signal) and records
/// what happened before it goes. `None` if it had already ended.
pub fn interrupt(store: &dyn SessionLog, session: SessionId) -> Result<Option<Recovered>> {
    match store.live_session(session)? {
        Some(live) => end_from_log(store, &live),
        None => Ok(None),
    }
}

/// Ends one live session from its log; `None` if another process ended it meanwhile.
fn end_from_log(store: &dyn SessionLog, live: &LiveSession) -> Result<Option<Recovered>> {
    match replay_end(store, live) {
        Ok(r) => Ok(r),
        // A log that cannot be replayed (damaged, or from an engine with
        // other rules) must not block every command: record the session
        // as interrupted without a count, and say why.
        Err(e @ StoreError::Corrupt(Corrupt::Record { .. } | Corrupt::Replay { .. })) => {
            end_unreplayable(store, live, &e.to_string())
        }
        Err(e) => Err(e),
    }
}

/// Replays the session's log through the engine and records the end it reaches.
fn replay_end(store: &dyn SessionLog, live: &LiveSession) -> Result<Option<Recovered>> {
    let session = live.id;
    let record = store.session(session)?;
    let protocol = store.protocol_snapshot(session)?;
    let events = store.events(session)?;
    let start = replay::Start {
        protocol: std::sync::Arc::new(protocol),
        options: &record.options,
        facts: &record.facts,
        started_at: record.started_at,
    };
    let replayed = replay::replay(start, &events, None).map_err(|reason| Corrupt::Replay {
        session: record.uid.clone(),
        reason,
    })?;
    let ended_at = record
        .started_at
        .plus_ms(events.last().map_or(0, |e| e.at_ms));
    let end = SessionEnd {
        ended_at,
        outcome: &replayed.outcome,
        message: replayed.message.as_deref(),
        summary: Some(&replayed.summary),
    };
    if !record_end(store, session, &end)? {
        return Ok(None);
    }
    Ok(Some(Recovered {
        uid: record.uid,
        protocol_id: record.protocol_id,
        started_at: record.started_at,
        outcome: replayed.outcome,
        reps_done: replayed.summary.reps_done,
        reps_target: replayed.summary.reps_target,
        problem: None,
    }))
}

/// Records a session whose log cannot be replayed as interrupted, with no
/// reps count and `problem` in its message.
fn end_unreplayable(
    store: &dyn SessionLog,
    live: &LiveSession,
    problem: &str,
) -> Result<Option<Recovered>> {
    let message = format!("recovery could not replay the event log: {problem}");
    let end = SessionEnd {
        ended_at: live.started_at.plus_ms(live.last_event_ms.unwrap_or(0)),
        outcome: &SessionOutcome::Interrupted,
        message: Some(&message),
        summary: None,
    };
    if !record_end(store, live.id, &end)? {
        return Ok(None);
    }
    Ok(Some(Recovered {
        uid: live.uid.clone(),
        protocol_id: live.protocol_id.clone(),
        started_at: live.started_at,
        outcome: SessionOutcome::Interrupted,
        reps_done: 0,
        reps_target: live.reps_target,
        problem: Some(message),
    }))
}

/// Records the end; `false` if the session had ended meanwhile.
fn record_end(store: &dyn SessionLog, session: SessionId, end: &SessionEnd<'_>) -> Result<bool> {
    match store.end_session(session, end) {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict(Conflict::SessionEnded { .. })) => Ok(false),
        Err(e) => Err(e),
    }
}
