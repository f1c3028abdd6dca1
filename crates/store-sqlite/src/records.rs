//! The traits for SQLite: [`SessionLog`] on one connection
//! ([`SqliteStore`]) and [`Records`] on a small pool ([`SqliteRecords`]):
//! one writer connection behind a lock (SQLite has one writer at a time in
//! any case) and reader connections for the reads, which WAL lets run while
//! the writer writes.
//!
//! **Group commit.** Writes that queue up for the writer while it is busy
//! share one transaction: a writer that finds others waiting leaves the
//! transaction open for them (its own write is a savepoint in it), and the
//! last of the run commits it. Each writer returns only once the
//! transaction that holds its write is committed (or with the commit's
//! error), so what a caller is told is stored is durable. Many phones
//! pushing at once then pay one commit per run, not one each.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use rollcoach_engine::{Facts, Input, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Accepted, Change, ChangeCursor, Device, Event, ExportCursor, ExportedInjury, ExportedSession,
    HistoryPoint, HistoryRow, ImportedBatch, ImportedInjuries, Injury, LiveSession, NewDevice,
    NewInjury, NewPairingToken, NewSession, PersonId, Records, Result, SessionEnd, SessionId,
    SessionLog, SessionRecord, VerifiedSession,
};

use crate::SqliteStore;

/// Reader connections kept open between reads.
const IDLE_READERS: usize = 4;

/// Most writes one transaction holds: bounds how long the first waits.
const MAX_BATCH: usize = 256;

/// The writer connection and the transaction runs left open on it.
#[derive(Debug)]
struct Writer {
    store: SqliteStore,
    /// The run of writes in the open transaction, if one is open.
    open: Option<u64>,
    /// Writes in it so far.
    writes: usize,
    /// The number the next run gets.
    next: u64,
}

/// Which runs are committed, for the writers waiting on theirs.
#[derive(Debug, Default)]
struct Commits {
    /// Every run up to this one has ended (committed or failed).
    done: u64,
    /// The runs whose commit failed, with why (the last few).
    failed: Vec<(u64, String)>,
}

impl SessionLog for SqliteStore {
    fn facts_for(&self, protocol: &Protocol) -> Result<Facts> {
        SqliteStore::facts_for(self, &PersonId::owner(), protocol)
    }

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

    fn events(&self, session: SessionId) -> Result<Vec<Event>> {
        SqliteStore::events(self, session)
    }

    fn protocol_json(&self, session: SessionId) -> Result<String> {
        SqliteStore::protocol_json(self, session)
    }

    fn orphaned_sessions(&self) -> Result<Vec<LiveSession>> {
        SqliteStore::orphaned_sessions(self)
    }

    fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>> {
        SqliteStore::live_session(self, session)
    }
}

/// People's records in one SQLite file, for many requests at once: see the
/// module docs. `Send + Sync`; share it in an `Arc`.
#[derive(Debug)]
pub struct SqliteRecords {
    writer: Mutex<Writer>,
    /// Writers waiting for the writer connection.
    waiting: AtomicUsize,
    commits: Mutex<Commits>,
    committed: Condvar,
    readers: Mutex<Vec<SqliteStore>>,
    path: PathBuf,
    in_memory: bool,
}

impl SqliteRecords {
    /// Opens (creating and migrating it as [`SqliteStore::open`] does) the
    /// database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteRecords> {
        Ok(SqliteRecords::new(SqliteStore::open(path)?))
    }

    /// A fresh store in memory, for tests: one connection does everything.
    pub fn open_in_memory() -> Result<SqliteRecords> {
        Ok(SqliteRecords::new(SqliteStore::open_in_memory()?))
    }

    /// The records on an open store, which becomes the writer.
    pub fn new(store: SqliteStore) -> SqliteRecords {
        SqliteRecords {
            path: store.path().to_path_buf(),
            in_memory: store.path().as_os_str() == ":memory:",
            writer: Mutex::new(Writer {
                store,
                open: None,
                writes: 0,
                next: 1,
            }),
            waiting: AtomicUsize::new(0),
            commits: Mutex::new(Commits::default()),
            committed: Condvar::new(),
            readers: Mutex::new(Vec::new()),
        }
    }

    /// The file (`:memory:` in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts the WAL checkpointer (see the `checkpoint` module), for a
    /// process that keeps the file open and writes to it for long (a
    /// server): the writer then finishes each checkpoint it asks for after
    /// a write, so the WAL restarts and the path that writes never syncs
    /// the database file.
    pub fn start_housekeeping(&self) -> Result<()> {
        self.lock_writer().store.start_checkpointer()
    }

    /// The id of the process that drives the owner's live session `uid`
    /// (the terminal's log is the owner's; SQLite keeps it for recovery);
    /// `None` once it has ended, or for a session nobody drives (imported)
    /// or that the owner does not have (another person's under that uid).
    pub fn driver_pid(&self, uid: &str) -> Result<Option<u32>> {
        self.read(|s| s.driver_pid(&PersonId::owner(), uid))
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while writing is caught by `write`, which ends its run:
        // the connection is still good.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a write on the writer connection, in the open run of writes or
    /// a new one (see the module docs: group commit), and returns once that
    /// run is committed; then the checkpoint the checkpointer asks for.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&SqliteStore) -> Result<T>) -> Result<T> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut w = self.lock_writer();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let run = match w.open {
            Some(run) => run,
            None => {
                // A read-only file, or one removed or replaced under this
                // process, takes no write (as `SqliteStore::write_with`).
                w.store.check_writable()?;
                w.store
                    .conn
                    .execute_batch("BEGIN IMMEDIATE")
                    .map_err(w.store.err())?;
                w.store.in_batch.set(true);
                let run = w.next;
                w.next += 1;
                w.open = Some(run);
                w.writes = 0;
                run
            }
        };
        // Each write inside is a savepoint (`in_batch`): a failed one
        // leaves the run's other writes alone.
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&w.store)));
        w.writes += 1;
        if out.is_ok() && self.waiting.load(Ordering::SeqCst) > 0 && w.writes < MAX_BATCH {
            // Others wait for the writer: the last of them commits.
            drop(w);
            return match self.wait_for(run) {
                Ok(()) => out.unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(e) => Err(e),
            };
        }
        let committed = match w.store.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = w.store.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        };
        w.store.in_batch.set(false);
        w.open = None;
        let failed = committed.as_ref().err().map(ToString::to_string);
        let committed = committed.map_err(w.store.err());
        if committed.is_ok() && w.store.checkpoint_due() {
            // A failed checkpoint is retried when the checkpointer asks again.
            let _ = w.store.finish_checkpoint();
        }
        {
            let mut c = self.commits.lock().unwrap_or_else(|e| e.into_inner());
            c.done = run;
            if let Some(why) = failed {
                c.failed.push((run, why));
                let keep = c.failed.len().saturating_sub(64);
                c.failed.drain(..keep);
            }
        }
        self.committed.notify_all();
        drop(w);
        let out = out.unwrap_or_else(|p| std::panic::resume_unwind(p));
        committed.and(out)
    }

    /// Waits until the run `run` has ended: `Ok` once it is committed, the
    /// commit's error otherwise.
    fn wait_for(&self, run: u64) -> Result<()> {
        let mut c = self.commits.lock().unwrap_or_else(|e| e.into_inner());
        while c.done < run {
            c = self.committed.wait(c).unwrap_or_else(|e| e.into_inner());
        }
        match c.failed.iter().find(|(r, _)| *r == run) {
            Some((_, why)) => Err(rollcoach_store::Backend::Failed {
                location: self.path.display().to_string(),
                source: format!("the commit that held this write failed: {why}").into(),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Runs a read on a reader connection (the writer's in memory, where
    /// another connection would see another database).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&SqliteStore) -> Result<T>) -> Result<T> {
        if self.in_memory {
            return f(&self.lock_writer().store);
        }
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reader = match idle {
            Some(r) => r,
            None => SqliteStore::open_existing(&self.path)?,
        };
        let out = f(&reader);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(reader);
        }
        out
    }
}

impl SessionLog for SqliteRecords {
    fn facts_for(&self, protocol: &Protocol) -> Result<Facts> {
        self.read(|s| SessionLog::facts_for(s, protocol))
    }

    fn begin_session(&self, new: &NewSession<'_>) -> Result<SessionId> {
        self.write(|s| s.begin_session(new))
    }

    fn append_event(&self, session: SessionId, seq: u32, at_ms: u64, input: &Input) -> Result<()> {
        self.write(|s| s.append_event(session, seq, at_ms, input))
    }

    fn end_session(&self, session: SessionId, end: &SessionEnd<'_>) -> Result<()> {
        self.write(|s| s.end_session(session, end))
    }

    fn session(&self, session: SessionId) -> Result<SessionRecord> {
        self.read(|s| s.session(session))
    }

    fn events(&self, session: SessionId) -> Result<Vec<Event>> {
        self.read(|s| s.events(session))
    }

    fn protocol_json(&self, session: SessionId) -> Result<String> {
        self.read(|s| s.protocol_json(session))
    }

    fn orphaned_sessions(&self) -> Result<Vec<LiveSession>> {
        self.read(|s| s.orphaned_sessions())
    }

    fn live_session(&self, session: SessionId) -> Result<Option<LiveSession>> {
        self.read(|s| s.live_session(session))
    }
}

impl Records for SqliteRecords {
    fn session(&self, person: &PersonId, uid: &str) -> Result<SessionRecord> {
        self.read(|s| s.session_by_uid(person, uid))
    }

    fn events(&self, person: &PersonId, uid: &str) -> Result<Vec<Event>> {
        self.read(|s| s.events(s.session_id_of(person, uid)?))
    }

    fn protocol_json(&self, person: &PersonId, uid: &str) -> Result<String> {
        self.read(|s| s.protocol_json(s.session_id_of(person, uid)?))
    }

    fn history_page(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SessionRecord>> {
        self.read(|s| s.history_page(person, limit, before))
    }

    fn history_rows(
        &self,
        person: &PersonId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<HistoryRow>> {
        self.read(|s| s.history_rows(person, limit, before))
    }

    fn session_count(&self, person: &PersonId) -> Result<u64> {
        self.read(|s| s.session_count(person))
    }

    fn history_points(&self, person: &PersonId) -> Result<Vec<HistoryPoint>> {
        self.read(|s| s.history_points(person))
    }

    fn facts_for(&self, person: &PersonId, protocol: &Protocol) -> Result<Facts> {
        self.read(|s| s.facts_for(person, protocol))
    }

    fn add_injury(&self, person: &PersonId, new: &NewInjury) -> Result<Injury> {
        self.write(|s| s.add_injury(person, new))
    }

    fn list_injuries(&self, person: &PersonId) -> Result<Vec<Injury>> {
        self.read(|s| s.list_injuries(person))
    }

    fn clear_injury(&self, person: &PersonId, uid: &str, now: Time) -> Result<Injury> {
        self.write(|s| s.clear_injury(person, uid, now))
    }

    fn export_sessions(
        &self,
        person: &PersonId,
        after: Option<&ExportCursor>,
        limit: usize,
    ) -> Result<Vec<(ExportCursor, ExportedSession)>> {
        self.read(|s| s.export_sessions(person, after, limit))
    }

    fn rating_ids(&self, person: &PersonId) -> Result<Vec<String>> {
        self.read(|s| s.rating_ids(person))
    }

    fn import_sessions(
        &self,
        person: &PersonId,
        sessions: &[ExportedSession],
    ) -> Result<ImportedBatch> {
        self.write(|s| s.import_sessions(person, sessions))
    }

    fn import_injuries(
        &self,
        person: &PersonId,
        injuries: &[ExportedInjury],
    ) -> Result<ImportedInjuries> {
        self.write(|s| s.import_injuries(person, injuries))
    }

    fn remove_imported(
        &self,
        person: &PersonId,
        sessions: &[String],
        injuries: &[String],
    ) -> Result<()> {
        self.write(|s| s.remove_imported(person, sessions, injuries))
    }

    fn accept_session(&self, person: &PersonId, session: &VerifiedSession) -> Result<Accepted> {
        self.write(|s| s.accept_session(person, session))
    }

    fn changes_since(
        &self,
        person: &PersonId,
        since: Option<&ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>> {
        self.read(|s| s.changes_since(person, since, limit))
    }

    fn add_device(&self, person: &PersonId, new: &NewDevice<'_>) -> Result<Device> {
        self.write(|s| s.add_device(person, new))
    }

    fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        self.read(|s| s.device_by_secret(secret_hash))
    }

    fn devices(&self, person: &PersonId) -> Result<Vec<Device>> {
        self.read(|s| s.devices(person))
    }

    fn device_secret_hashes(&self, person: &PersonId) -> Result<Vec<(String, String)>> {
        self.read(|s| s.device_secret_hashes(person))
    }

    fn revoke_device(&self, person: &PersonId, id: &str, now: Time) -> Result<Option<Device>> {
        self.write(|s| s.revoke_device(person, id, now))
    }

    fn touch_device(&self, person: &PersonId, id: &str, now: Time) -> Result<()> {
        self.write(|s| s.touch_device(person, id, now))
    }

    fn add_pairing_token(&self, person: &PersonId, token: &NewPairingToken<'_>) -> Result<()> {
        self.write(|s| s.add_pairing_token(person, token))
    }

    fn redeem_pairing_token(
        &self,
        token_hash: &str,
        now: Time,
        device: &NewDevice<'_>,
    ) -> Result<Option<Device>> {
        self.write(|s| s.redeem_pairing_token(token_hash, now, device))
    }
}
