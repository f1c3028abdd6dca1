//! What rollcoach asks of a backend, split by role:
//!
//! - [`SessionLog`]: the terminal's local log of the sessions it drives
//!   (synchronous, one process): begin, append each input before it is
//!   applied, end, and the sessions whose driver is gone for recovery.
//! - [`Records`]: a person's records, for a server that answers many
//!   requests at once (`Send + Sync`): every method takes the person it
//!   serves, so a call that forgets the scope does not compile. History,
//!   injuries, export and import, sync's accepted sessions and changes,
//!   devices and pairing links.
//!
//! A coach's store (assignments, adherence, alerts) will be a third trait
//! beside these. What is one backend's own (SQLite's group commit, its
//! reader connections, WAL checkpoints, process liveness) stays in that
//! backend; row ids stay inside backends, and uids name records at every
//! boundary.

use rollcoach_engine::{Facts, Input, Outcome, Summary, Time};
use rollcoach_protocol::Protocol;

use crate::codec::from_json;
use crate::{
    Accepted, Change, ChangeCursor, Device, Event, ExportCursor, ExportedInjury, ExportedSession,
    HistoryPoint, HistoryRow, ImportedBatch, ImportedInjuries, Injury, LiveSession, NewDevice,
    NewInjury, NewPairingToken, NewSession, PersonId, Result, SessionEnd, SessionId,
    SessionOutcome, SessionRecord, VerifiedSession,
};

/// The local log of the sessions a driver (the terminal) runs: the start,
/// every input before it is applied, the end.
///
/// # The driver's contract
///
/// - Record the start with [`SessionLog::begin_session`], then for every
///   input: [`SessionLog::append_event`] first, then apply it to the
///   engine. When `append_event` returns, the input is durable as the
///   backend promises (SQLite: it survives the process being killed).
/// - Record the end with [`SessionLog::finish_session`].
/// - A session whose driver died is ended by [`crate::recover_interrupted`]
///   from its log.
///
/// The log is the owner's: the terminal runs the sessions of the person at
/// the keyboard. A [`SessionId`] is the log's handle on a session it is
/// writing, valid in this process only; records leave it by uid.
pub trait SessionLog {
    /// What the engine needs to know to start a session of `protocol`
    /// ([`crate::rules::facts`] of the stored injuries and pairing).
    fn facts_for(&self, protocol: &Protocol) -> Result<Facts>;

    /// Records the start of a session driven by this process and returns
    /// its handle. `started_at` is the `now` given to the engine's
    /// `Session::new`; event times are relative to it.
    fn begin_session(&self, new: &NewSession<'_>) -> Result<SessionId>;

    /// Appends one input to a live session's event log, `at_ms` after the
    /// session's start, durably before it returns. Call it before applying
    /// the input to the engine. `seq` numbers the inputs of a session from
    /// 0; a `seq` already recorded is refused
    /// ([`crate::Conflict::DuplicateEvent`]), as is an event for a session
    /// that has ended ([`crate::Conflict::SessionEnded`]).
    fn append_event(&self, session: SessionId, seq: u32, at_ms: u64, input: &Input) -> Result<()>;

    /// Records how a live session ended. Refused with
    /// [`crate::Conflict::SessionEnded`] if it already has. With a summary,
    /// what [`crate::rules::recorded_end`] derives from it is recorded too;
    /// without one (a log that could not be replayed) the reps done stay
    /// unknown.
    fn end_session(&self, session: SessionId, end: &SessionEnd<'_>) -> Result<()>;

    /// Records how a live session ended (the engine's `Output::End`), at
    /// `ended_at`, with the ratings of its summary.
    fn finish_session(
        &self,
        session: SessionId,
        ended_at: Time,
        outcome: &Outcome,
        message: &str,
        summary: &Summary,
    ) -> Result<()> {
        self.end_session(
            session,
            &SessionEnd {
                ended_at,
                outcome: &SessionOutcome::from(outcome.clone()),
                message: Some(message),
                summary: Some(summary),
            },
        )
    }

    /// A session of this log, live or ended.
    fn session(&self, session: SessionId) -> Result<SessionRecord>;

    /// A session's event log, in order.
    fn events(&self, session: SessionId) -> Result<Vec<Event>>;

    /// The protocol as it was when the session ran, as the JSON text it was
    /// stored as.
    fn protocol_json(&self, session: SessionId) -> Result<String>;

    /// The protocol as it was when the session ran.
    fn protocol_snapshot(&self, session: SessionId) -> Result<Protocol> {
        from_json(&self.protocol_json(session)?, session, "protocol snapshot")
    }

    /// The sessions that have not ended and whose driver is gone (its
    /// process ended, or nobody drives it: imported), in the order they
    /// were begun: what recovery ends. The backend tells a live driver from
    /// a dead one; sessions whose driver runs are left out.
    fn orphaned_sessions(&self) -> Result<Vec<LiveSession>>;

    /// One session as [`SessionLog::orphaned_sessions`] gives it, whoever
    /// drives it; `None` if it has ended, [`crate::NotFound::Session`] if
    /// there is none.
    fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>>;
}

/// People's records, for a server that answers many requests at once:
/// `Send + Sync`, every method taking the person it serves. A record of
/// another person is not there: reads answer [`crate::NotFound`], writes
/// touch nothing of theirs.
///
/// Methods block; an async caller runs them off its reactor
/// (`tokio::task::spawn_blocking`). Backends keep their own pools and
/// batching behind `&self`.
pub trait Records: Send + Sync {
    // ----- sessions ------------------------------------------------------

    /// One session by uid ([`crate::NotFound::SessionUid`] if the person
    /// has none with it).
    fn session(&self, person: &PersonId, uid: &str) -> Result<SessionRecord>;

    /// A session's event log, in order.
    fn events(&self, person: &PersonId, uid: &str) -> Result<Vec<Event>>;

    /// The protocol as it was when the session ran, as stored.
    fn protocol_json(&self, person: &PersonId, uid: &str) -> Result<String>;

    /// A page of the person's history, newest first: at most `limit`
    /// sessions that come after the session `before` (a uid) in that order,
    /// from the newest if `None`. The last one's uid is the next page's
    /// `before`.
    fn history_page(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SessionRecord>>;

    /// [`Records::history_page`] in its compact form.
    fn history_rows(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<HistoryRow>>;

    /// How many sessions the person has (refusals and live ones included).
    fn session_count(&self, person: &PersonId) -> Result<u64>;

    /// Every session of the person as a [`HistoryPoint`], newest first.
    fn history_points(&self, person: &PersonId) -> Result<Vec<HistoryPoint>>;

    /// What the engine needs to start a session of `protocol` for the
    /// person ([`crate::rules::facts`]).
    fn facts_for(&self, person: &PersonId, protocol: &Protocol) -> Result<Facts>;

    // ----- injuries ------------------------------------------------------

    /// Logs an injury for the person; it gets a new uid.
    fn add_injury(&self, person: &PersonId, new: &NewInjury) -> Result<Injury>;

    /// The person's injuries, cleared or not, in the order they were logged.
    fn list_injuries(&self, person: &PersonId) -> Result<Vec<Injury>>;

    /// Marks the person's injury `uid` as cleared at `now`. Refused with
    /// [`crate::Conflict::InjuryAlreadyCleared`] if it is,
    /// [`crate::NotFound::InjuryUid`] if there is none.
    fn clear_injury(&self, person: &PersonId, uid: &str, now: Time) -> Result<Injury>;

    // ----- export and import ---------------------------------------------

    /// A page of the person's sessions for an export, oldest first: at most
    /// `limit` that come after `after`, each with the cursor after it.
    fn export_sessions(
        &self,
        person: &PersonId,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(ExportCursor, ExportedSession)>>;

    /// Every rating id that has a value in some session of the person, sorted.
    fn rating_ids(&self, person: &PersonId) -> Result<Vec<String>>;

    /// Writes a few checked sessions of an import in one short
    /// transaction: each is added, or skipped when the person has its uid.
    fn import_sessions(
        &self,
        person: &PersonId,
        sessions: &[ExportedSession],
    ) -> Result<ImportedBatch>;

    /// Writes the injuries of an import in one transaction, by uid, as
    /// [`crate::rules::merge_injury`] decides for each.
    fn import_injuries(
        &self,
        person: &PersonId,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries>;

    /// Removes what an import added (sessions by uid with their logs and
    /// ratings, injuries by uid) in one transaction.
    fn remove_imported(
        &self,
        person: &PersonId,
        sessions: &[String],
        injuries: &[String],
    ) -> Result<()>;

    // ----- sync ----------------------------------------------------------

    /// Stores a pushed session that [`crate::sync::accept`] verified, with
    /// what its replay derived: [`Accepted::Stored`];
    /// [`Accepted::Already`] when the person has it, the same in every
    /// field, log and snapshot ([`VerifiedSession::is_stored_as`]: the same
    /// session pushed twice, or by two servers at once, is stored once); or
    /// [`Accepted::Differs`], nothing stored, when the uid holds another
    /// session.
    fn accept_session(&self, person: &PersonId, session: &VerifiedSession) -> Result<Accepted>;

    /// What changed for the person after `since` (from the start if
    /// `None`), oldest first, at most `limit`: sessions stored and injuries
    /// logged or cleared, each with the cursor after it.
    fn changes_since(
        &self,
        person: &PersonId,
        since: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>>;

    // ----- devices -------------------------------------------------------

    /// Records a device of the person. Its id and secret hash are unique
    /// ([`crate::Conflict::Constraint`] otherwise).
    fn add_device(&self, person: &PersonId, new: &NewDevice<'_>) -> Result<Device>;

    /// The device whose secret has this hash, unless it is revoked, with
    /// its person: how a server finds who is calling (the one unscoped
    /// read: it is what gives the scope).
    fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>>;

    /// The person's devices, revoked ones too, oldest first.
    fn devices(&self, person: &PersonId) -> Result<Vec<Device>>;

    /// The hash of each of the person's devices' secrets, by device id
    /// (oldest first): what moving a server to another database needs so
    /// that its paired phones are still let in (`rollcoach migrate`).
    /// Never a secret: only the hashes that are stored.
    fn device_secret_hashes(&self, person: &PersonId) -> Result<Vec<(String, String)>>;

    /// Revokes the person's device at `now`. `None` if they have no such
    /// device; one revoked already keeps its first revocation time.
    fn revoke_device(&self, person: &PersonId, id: &str, now: Time) -> Result<Option<Device>>;

    /// Notes that the person's device was let in at `now`.
    fn touch_device(&self, person: &PersonId, id: &str, now: Time) -> Result<()>;

    /// Records a one-time pairing link for a device of the person (by its
    /// token's hash), and forgets the links that have expired.
    fn add_pairing_token(&self, person: &PersonId, token: &NewPairingToken<'_>) -> Result<()>;

    /// Spends the pairing link whose token has this hash, if it is waiting
    /// and has not expired at `now`, and records `device` for the link's
    /// person in the same transaction. `None` (nothing written) for a link
    /// that is unknown, spent or expired.
    fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>>;
}
