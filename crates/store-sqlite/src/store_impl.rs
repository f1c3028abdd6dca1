//! [`Store`] for [`SqliteStore`]: each method is the module of its concern.

use rollcoach_engine::{Facts, Input, Time};
use rollcoach_protocol::{Pairing, Protocol};
use rollcoach_store::{
    Device, Event, ExportCursor, ExportDocument, ExportedInjury, ExportedSession, HistoryPoint,
    HistoryRow, ImportReport, ImportedBatch, ImportedInjuries, Injury, InjuryId, LiveSession,
    NewDevice, NewPairingToken, NewSession, Result, SessionEnd, SessionId, SessionRecord, Store,
};

use crate::SqliteStore;

impl Store for SqliteStore {
    fn begin_session(&self, new: &NewSession<'_>) -> Result<SessionId> {
        SqliteStore::begin_session(self, new)
    }

    fn append_event(&self, session: SessionId, seq: u32, at_ms: u64, input: &Input) -> Result<()> {
        SqliteStore::append_event(self, session, seq, at_ms, input)
    }

    fn end_session(&self, session: SessionId, end: &SessionEnd<'_>) -> Result<()> {
        SqliteStore::end_session(self, session, end)
    }

    fn session(&self, session: SessionId) -> Result<SessionRecord> {
        SqliteStore::session(self, session)
    }

    fn session_id_by_uid(&self, uid: &str) -> Result<Option<SessionId>> {
        SqliteStore::session_id_by_uid(self, uid)
    }

    fn events(&self, session: SessionId) -> Result<Vec<Event>> {
        SqliteStore::events(self, session)
    }

    fn protocol_json(&self, session: SessionId) -> Result<String> {
        SqliteStore::protocol_json(self, session)
    }

    fn unfinished(&self) -> Result<Vec<SessionRecord>> {
        SqliteStore::unfinished(self)
    }

    fn live_sessions(&self) -> Result<Vec<LiveSession>> {
        SqliteStore::live_sessions(self)
    }

    fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>> {
        SqliteStore::live_session(self, session)
    }

    fn history(&self, limit: Option<usize>) -> Result<Vec<SessionRecord>> {
        SqliteStore::history(self, limit)
    }

    fn history_page(&self, limit: usize, before: Option<SessionId>) -> Result<Vec<SessionRecord>> {
        SqliteStore::history_page(self, limit, before)
    }

    fn session_count(&self) -> Result<u64> {
        SqliteStore::session_count(self)
    }

    fn history_points(&self) -> Result<Vec<HistoryPoint>> {
        SqliteStore::history_points(self)
    }

    fn last_pairing(&self, protocol_id: &str) -> Result<Option<Pairing>> {
        SqliteStore::last_pairing(self, protocol_id)
    }

    fn facts_for(&self, protocol: &Protocol) -> Result<Facts> {
        SqliteStore::facts_for(self, protocol)
    }

    fn add_injury(
        &self,
        area: &str,
        at: Time,
        note: Option<&str>,
        created_at: Time,
    ) -> Result<Injury> {
        SqliteStore::add_injury(self, area, at, note, created_at)
    }

    fn injury(&self, id: InjuryId) -> Result<Injury> {
        SqliteStore::injury(self, id)
    }

    fn list_injuries(&self) -> Result<Vec<Injury>> {
        SqliteStore::list_injuries(self)
    }

    fn clear_injury(&self, id: InjuryId, now: Time) -> Result<Injury> {
        SqliteStore::clear_injury(self, id, now)
    }

    fn import_checked(&self, doc: &ExportDocument) -> Result<ImportReport> {
        SqliteStore::import_checked(self, doc)
    }

    fn export_sessions(
        &self,
        after: Option<ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(SessionId, ExportedSession)>> {
        SqliteStore::export_sessions(self, after, limit)
    }

    fn rating_ids(&self) -> Result<Vec<String>> {
        SqliteStore::rating_ids(self)
    }

    fn import_sessions(&self, sessions: &[ExportedSession]) -> Result<ImportedBatch> {
        SqliteStore::import_sessions(self, sessions)
    }

    fn import_injuries(&self, injuries: &[ExportedInjury]) -> Result<ImportedInjuries> {
        SqliteStore::import_injuries(self, injuries)
    }

    fn remove_imported(&self, sessions: &[SessionId], injuries: &[InjuryId]) -> Result<()> {
        SqliteStore::remove_imported(self, sessions, injuries)
    }

    fn history_rows(&self, limit: usize, before: Option<SessionId>) -> Result<Vec<HistoryRow>> {
        SqliteStore::history_rows(self, limit, before)
    }

    fn add_device(&self, new: &NewDevice<'_>) -> Result<Device> {
        SqliteStore::add_device(self, new)
    }

    fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        SqliteStore::device_by_secret(self, secret_hash)
    }

    fn devices(&self) -> Result<Vec<Device>> {
        SqliteStore::devices(self)
    }

    fn revoke_device(&self, id: &str, now: Time) -> Result<Option<Device>> {
        SqliteStore::revoke_device(self, id, now)
    }

    fn touch_device(&self, id: &str, now: Time) -> Result<()> {
        SqliteStore::touch_device(self, id, now)
    }

    fn add_pairing_token(&self, token: &NewPairingToken<'_>) -> Result<()> {
        SqliteStore::add_pairing_token(self, token)
    }

    fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>> {
        SqliteStore::redeem_pairing_token(self, token_hash, now, device)
    }

    /// `BEGIN IMMEDIATE` ... `COMMIT`, each write inside a savepoint.
    fn transaction(&mut self, f: &mut dyn FnMut(&mut dyn Store) -> Result<()>) -> Result<()> {
        self.in_transaction(|s| f(s))
    }

    /// Another connection to the file; `None` in memory (a new connection
    /// would see another, empty database).
    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        if self.in_memory() {
            return Ok(None);
        }
        Ok(Some(Box::new(SqliteStore::open(&self.path)?)))
    }

    /// Starts the WAL checkpointer (see the `checkpoint` module).
    fn start_housekeeping(&mut self) -> Result<()> {
        self.start_checkpointer()
    }

    /// The checkpointer asks for a checkpoint between two transactions.
    fn housekeeping_due(&self) -> bool {
        self.checkpoint_due()
    }

    /// Finishes that checkpoint.
    fn housekeep(&mut self) -> Result<()> {
        self.finish_checkpoint()
    }
}
