//! How large a session of a protocol can be when the phone syncs it: lint's
//! limit agrees with the server's (issue 24, finding 9).
//!
//! A pushed session carries the protocol's whole snapshot, its event log
//! and its end. The server takes a body of at most [`SYNC_BODY_LIMIT`]; a
//! protocol whose sessions could exceed it would run on the phone and then
//! never sync (413, refused for good), so `protocols lint` refuses it.

use crate::Protocol;

/// Largest request body the server accepts, a pushed session included
/// (64 KiB). `rollcoach_server::BODY_LIMIT` is this constant.
pub const SYNC_BODY_LIMIT: usize = 64 * 1024;

/// Most bytes one logged input takes in a pushed session's JSON
/// (`{"seq":4294967295,"at_ms":...,"input":{"kind":"discomfort","level":10}}`
/// is under 90).
const EVENT_BYTES: usize = 96;

/// Reports a person makes in a rep, at most, in the longest ordinary
/// session: a pause and its resume, a noise and a discomfort level.
const REPORTS_PER_REP: usize = 4;

/// The rest of a pushed session besides the snapshot, the log and its end
/// message: uid, times, options, the facts it started with, the claimed
/// outcome, counts, ratings and summary.
const RECORD_BYTES: usize = 6 * 1024;

/// What [`sync_size`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSize {
    /// The protocol's JSON form, in bytes: the snapshot every session carries.
    pub snapshot: usize,
    /// The longest ordinary session's log and end message, in bytes, at
    /// most: every screening answer, setup step and rating, each rep's two
    /// phases at `movement.reps.max` with four reports each, the longest
    /// message a session can end with.
    pub log: usize,
    /// Everything: snapshot, log and the rest of the record.
    pub total: usize,
}

/// An upper bound on the size of a pushed session of `protocol`.
pub fn sync_size(protocol: &Protocol) -> SyncSize {
    let snapshot = serde_json::to_string(protocol).map_or(usize::MAX / 4, |s| s.len());
    let reps = protocol.movement.reps.max as usize;
    let events = protocol.screening.questions.len()
        + protocol.setup.len()
        + 2 * protocol.ratings().len()
        + 4
        + reps * (2 + REPORTS_PER_REP);
    // The end message: a stop rule's, a refusal, the injury rule's; twice,
    // for JSON escapes.
    let message = protocol
        .stop_rules
        .iter()
        .map(|r| r.message.len())
        .chain(protocol.screening.questions.iter().map(|q| q.refusal.len()))
        .chain([protocol.screening.injury_rule.message.len()])
        .max()
        .unwrap_or(0)
        * 2;
    let log = events * EVENT_BYTES + message;
    SyncSize {
        snapshot,
        log,
        total: snapshot + log + RECORD_BYTES,
    }
}
