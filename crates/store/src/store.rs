//! The [`Store`] trait: what rollcoach asks of a backend.

use rollcoach_engine::{Facts, Input, Outcome, Summary, Time};
use rollcoach_protocol::{Pairing, Protocol};

use crate::codec::from_json;
use crate::export::exported_session;
use crate::{
    Device, Event, ExportCursor, ExportDocument, ExportedInjury, ExportedSession, HistoryPoint,
    HistoryRow, ImportReport, ImportedBatch, ImportedInjuries, Injury, InjuryId, LiveSession,
    NewDevice, NewPairingToken, NewSession, Result, SessionEnd, SessionId, SessionOutcome,
    SessionRecord,
};

/// A place that keeps sessions, their append-only event logs, ratings and
/// the injury log: domain types in, domain types out, errors as
/// [`crate::StoreError`]. `rollcoach-store-sqlite` implements it over one
/// SQLite file; drivers (the CLI, the server) hold a `Box<dyn Store>` and name
/// no backend.
///
/// # The driver's contract
///
/// - Record the start with [`Store::begin_session`], then for every input:
///   [`Store::append_event`] first, then apply it to the engine. When
///   `append_event` returns, the input is durable as the backend promises
///   (SQLite: it survives the process being killed).
/// - Record the end with [`Store::finish_session`].
/// - A session whose driver died is ended by [`crate::recover_interrupted`]
///   from its log.
///
/// # One person's data
///
/// Every method reads and writes the data of the one person the store
/// belongs to. A backend for many people (a coach's server with a client
/// per person) will scope a store to a person the way the server scopes a
/// request: a `PersonId` given when the store is opened (or a
/// `for_person(&PersonId) -> Box<dyn Store>` on a shared backend), with
/// every method keeping its signature. Nothing here depends on there being
/// one person.
///
/// # Threads
///
/// A store is `Send` but need not be `Sync`: give each thread its own (see
/// [`Store::reader`]) or share one behind a lock. Methods take `&self`;
/// [`Store::transaction`] and the housekeeping hooks take `&mut self`.
pub trait Store: Send {
    // ----- sessions ------------------------------------------------------

    /// Records the start of a session, driven by this process
    /// ([`crate::Driver::this_process`]), and returns its id. `started_at`
    /// is the `now` given to the engine's `Session::new`; event times are
    /// relative to it.
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
    /// its reps, time, first pairing and ratings are recorded too; without
    /// one (a log that could not be replayed) the reps done stay unknown.
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

    /// One session.
    fn session(&self, session: SessionId) -> Result<SessionRecord>;

    /// The id here of the session with this uid, if there is one: the
    /// server's URLs name sessions by uid, which cannot be guessed.
    fn session_id_by_uid(&self, uid: &str) -> Result<Option<SessionId>>;

    /// A session's event log, in order.
    fn events(&self, session: SessionId) -> Result<Vec<Event>>;

    /// The protocol as it was when the session ran, as the JSON text it was
    /// stored as (export keeps it as is, so it survives model changes).
    fn protocol_json(&self, session: SessionId) -> Result<String>;

    /// The protocol as it was when the session ran.
    fn protocol_snapshot(&self, session: SessionId) -> Result<Protocol> {
        from_json(&self.protocol_json(session)?, session, "protocol snapshot")
    }

    /// Sessions that have not ended (live, or left by a crashed driver), oldest first.
    fn unfinished(&self) -> Result<Vec<SessionRecord>>;

    /// The sessions that have not ended with their drivers, for recovery, in
    /// the order of their ids.
    fn live_sessions(&self) -> Result<Vec<LiveSession>>;

    /// One session as [`Store::live_sessions`] gives it; `None` if it has
    /// ended, [`crate::NotFound::Session`] if there is none.
    fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>>;

    // ----- history -------------------------------------------------------

    /// Sessions, newest first; at most `limit` of them if given.
    fn history(&self, limit: Option<usize>) -> Result<Vec<SessionRecord>>;

    /// A page of the history, newest first: at most `limit` sessions that
    /// come before session `before` in that order (from the newest if
    /// `None`). The id of the last one is the next page's `before`.
    fn history_page(&self, limit: usize, before: Option<SessionId>) -> Result<Vec<SessionRecord>>;

    /// How many sessions the store holds (refusals and live ones included).
    fn session_count(&self) -> Result<u64>;

    /// Every session as a [`HistoryPoint`], newest first: what
    /// [`crate::summarize`] and [`crate::rating_series`] need, read without
    /// the rest of the records, so ten years of daily sessions take a few
    /// milliseconds.
    fn history_points(&self) -> Result<Vec<HistoryPoint>>;

    /// The breathing pairing the most recent session of this protocol started
    /// with, if any session got that far.
    fn last_pairing(&self, protocol_id: &str) -> Result<Option<Pairing>>;

    /// What the engine needs to know from the store to start a session of
    /// `protocol`: the injuries in its area that are not cleared (oldest
    /// first; the engine applies the window) and the last pairing.
    fn facts_for(&self, protocol: &Protocol) -> Result<Facts>;

    // ----- injuries ------------------------------------------------------

    /// Logs an injury in `area` that happened `at`; `created_at` is now. It
    /// gets a new uid ([`crate::new_uid`] of `created_at`).
    fn add_injury(
        &self,
        area: &str,
        at: Time,
        note: Option<&str>,
        created_at: Time,
    ) -> Result<Injury>;

    /// One injury ([`crate::NotFound::Injury`] if there is none).
    fn injury(&self, id: InjuryId) -> Result<Injury>;

    /// All logged injuries, cleared or not, by when they happened.
    fn list_injuries(&self) -> Result<Vec<Injury>>;

    /// Marks an injury as cleared at `now`: it no longer refuses sessions.
    /// Refused with [`crate::Conflict::InjuryAlreadyCleared`] if it is.
    fn clear_injury(&self, id: InjuryId, now: Time) -> Result<Injury>;

    // ----- export and import ---------------------------------------------

    /// Everything in the store as an export document, `exported_at` now.
    fn export(&self, now: Time) -> Result<ExportDocument> {
        crate::export::export(self, now)
    }

    /// Adds the document's sessions and injuries, all or nothing, after
    /// [`ExportDocument::check`]. Sessions whose uid is already here are
    /// skipped (reported, not an error); imported sessions have no driver,
    /// so a session that was live when exported is ended by the next
    /// [`crate::recover_interrupted`].
    fn import(&self, doc: &ExportDocument) -> Result<ImportReport> {
        doc.check()?;
        self.import_checked(doc)
    }

    /// [`Store::import`] of a document that passed [`ExportDocument::check`]:
    /// the backend's part. Injuries as [`Store::import_injuries`] takes them.
    fn import_checked(&self, doc: &ExportDocument) -> Result<ImportReport>;

    // ----- streaming export and import (issue 14) -------------------------

    /// A page of sessions for an export, oldest first (by start, then id):
    /// at most `limit` that come after `after` in that order (from the
    /// oldest if `None`), each with its id here. An export reads the whole
    /// history a page at a time ([`crate::write_export_json`]), so its memory
    /// does not grow with the history.
    fn export_sessions(
        &self,
        after: Option<ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(SessionId, ExportedSession)>> {
        let mut points = self.history_points()?;
        points.reverse();
        let mut out = Vec::new();
        for p in points {
            if out.len() >= limit {
                break;
            }
            if after.is_some_and(|a| (p.started_at, p.id) <= (a.started_at, a.id)) {
                continue;
            }
            let record = self.session(p.id)?;
            let session = exported_session(record, &self.protocol_json(p.id)?, self.events(p.id)?)?;
            out.push((p.id, session));
        }
        Ok(out)
    }

    /// Every rating id that has a value in some session, sorted (the CSV
    /// export's rating columns).
    fn rating_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self
            .history_points()?
            .into_iter()
            .flat_map(|p| p.ratings.into_iter().map(|r| r.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Writes a few sessions of an import, checked by
    /// [`ExportDocument::check`]'s rules, in one short transaction: each is
    /// added, or skipped when its uid is already here. A streamed import
    /// ([`crate::import_stream`]) calls it batch after batch, so no write
    /// lock is held for long, and undoes what it added with
    /// [`Store::remove_imported`] if a later batch fails.
    fn import_sessions(&self, sessions: &[ExportedSession]) -> Result<ImportedBatch>;

    /// Writes the injuries of an import in one transaction, by uid: one whose
    /// uid the store does not have is added (with its clearing); one it has
    /// is skipped, except that a clear is applied: an injury not cleared here
    /// that the document has cleared is cleared at the document's
    /// `cleared_at`. Nothing is ever un-cleared, and an injury cleared here
    /// keeps its own `cleared_at`. One whose uid the store has with another
    /// area, time, note or logging time (injuries are never edited, so it is
    /// not the same injury) refuses the whole write with
    /// [`crate::Conflict::InjuryDiffers`].
    fn import_injuries(&self, injuries: &[ExportedInjury]) -> Result<ImportedInjuries>;

    /// Removes what an import added (sessions with their logs and ratings,
    /// injuries), in one transaction: the undo of an import that failed
    /// part-way.
    fn remove_imported(&self, sessions: &[SessionId], injuries: &[InjuryId]) -> Result<()>;

    /// A page of the history in its compact form, newest first (the order of
    /// [`Store::history_page`]): at most `limit` sessions that come before
    /// session `before` (from the newest if `None`).
    fn history_rows(&self, limit: usize, before: Option<SessionId>) -> Result<Vec<HistoryRow>> {
        Ok(self
            .history_page(limit, before)?
            .into_iter()
            .map(HistoryRow::from)
            .collect())
    }

    // ----- devices (issue 13) ---------------------------------------------

    /// Records a device let in by `rollcoach serve`. Its id and secret hash
    /// are unique ([`crate::Conflict::Constraint`] otherwise).
    fn add_device(&self, new: &NewDevice<'_>) -> Result<Device>;

    /// The device whose secret has this hash, unless it is revoked: what the
    /// server checks on every request.
    fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>>;

    /// Every device, revoked ones too, oldest first.
    fn devices(&self) -> Result<Vec<Device>>;

    /// Revokes a device at `now`: from then on [`Store::device_by_secret`]
    /// does not find it. `None` if there is no such device; a device revoked
    /// already keeps its first revocation time.
    fn revoke_device(&self, id: &str, now: Time) -> Result<Option<Device>>;

    /// Notes that a device was let in at `now`.
    fn touch_device(&self, id: &str, now: Time) -> Result<()>;

    /// Records a one-time pairing link (by its token's hash), and forgets
    /// the links that have expired.
    fn add_pairing_token(&self, token: &NewPairingToken<'_>) -> Result<()>;

    /// Spends the pairing link whose token has this hash, if it is waiting
    /// and has not expired at `now`, and records `device` in the same
    /// transaction: the link pairs exactly one device. `None` (nothing
    /// written) for a link that is unknown, spent or expired.
    fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>>;

    // ----- running a server ----------------------------------------------

    /// Runs `f` with every write it makes as one unit (group commit): a
    /// server logging inputs of many sessions pays one commit for all the
    /// inputs that queued up meanwhile, not one each. Each write inside keeps
    /// its own all-or-nothing behaviour; nothing `f` wrote is durable until
    /// this returns `Ok`, so answer the writers only then. If `f` fails or
    /// the commit does, every write of the batch is undone.
    fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Store) -> Result<()>) -> Result<()>;

    /// Another handle on the same data, for a thread that serves long reads
    /// (ten years of history, an export) so that they never wait in front
    /// of a logged input. `None` when the backend has no second handle (a
    /// store in memory): run those reads on this one.
    fn reader(&self) -> Result<Option<Box<dyn Store>>>;

    /// Starts the backend's own background housekeeping, for a process that
    /// keeps the store open and writes to it for a long time (a server). The
    /// backend may ask for [`Store::housekeep`] calls from then on.
    fn start_housekeeping(&mut self) -> Result<()> {
        Ok(())
    }

    /// Whether the backend asks for a [`Store::housekeep`] call. Whoever runs
    /// the transactions calls it between two of them, when no call waits
    /// (or after a short while if calls keep coming).
    fn housekeeping_due(&self) -> bool {
        false
    }

    /// Does the housekeeping the backend asked for, between two transactions.
    /// A failure is not the caller's problem: the backend asks again.
    fn housekeep(&mut self) -> Result<()> {
        Ok(())
    }
}
