//! rollcoach's store: one SQLite file holding sessions, their append-only
//! event log, ratings and the injury log.
//!
//! # How drivers use it
//!
//! ```no_run
//! # use rollcoach_store::{Store, NewSession};
//! # use rollcoach_engine::{Input, Options, Output, Session, Time};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::open("/tmp/rollcoach.db")?;
//! store.recover_interrupted()?; // sessions of crashed drivers become `interrupted`
//! let protocol = rollcoach_protocol::builtin().remove(0);
//! let facts = store.facts_for(&protocol)?;
//! let options = Options::default();
//! let now = Time(1_700_000_000_000);
//! let id = store.begin_session(&NewSession {
//!     protocol: &protocol,
//!     options: &options,
//!     facts: &facts,
//!     started_at: now,
//! })?;
//! let mut session = Session::new(&protocol, options, facts, now)?;
//! let mut seq = 0;
//! // For every input: record it first, then apply it.
//! let input = Input::Ready;
//! let at = now.plus_ms(1500);
//! store.append_event(id, seq, at.since(now), &input)?;
//! seq += 1;
//! let _ = session.handle(input, at);
//! while let Some(out) = session.poll_output() {
//!     if let Output::End { outcome, message, summary } = out {
//!         store.finish_session(id, at, &outcome, &message, &summary)?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - The file is in WAL mode with `synchronous=NORMAL`: every
//!   [`Store::append_event`] is its own committed transaction, in the WAL
//!   before it returns, so a driver that records an input and only then
//!   applies it never loses an applied input when its process dies (`kill -9`,
//!   a crash). Only an operating-system crash or power cut can lose the last
//!   moments of a log, and the file stays consistent even then (SQLite's WAL
//!   guarantee); the session is then recovered from what the log kept. `FULL`
//!   would fsync every input, about 6 ms each on this project's machines
//!   (BENCHMARKS.md "Store"), which puts a disk flush between "pain" and the
//!   spoken stop.
//! - Opening migrates an older file ([`SCHEMA_VERSION`] is the newest known);
//!   a file written by a newer rollcoach is refused and never modified; a file
//!   that is not SQLite, or an SQLite file of another program, is refused.
//! - A live session remembers the process that drives it. The next
//!   [`Store::recover_interrupted`] (the CLI calls it on every open) replays
//!   the log of each live session whose process is gone and records it as
//!   `interrupted` with the reps it did.
//!
//! # Threads
//!
//! A [`Store`] is `Send` but not `Sync` (it owns one SQLite connection). Share
//! one behind a `Mutex`, or open one per thread: WAL lets readers and one
//! writer work at once, and writers wait up to [`BUSY_TIMEOUT`] for each
//! other.
#![deny(missing_docs)]

mod error;
mod export;
mod model;
mod owner;
mod replay;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rollcoach_engine::{Facts, Input, Outcome, RatingResult, Summary, Time};
use rollcoach_protocol::{Pairing, Protocol};
use rusqlite::{Connection, OptionalExtension, params};

pub use error::{DisplayTime, StoreError};
pub use export::{
    EXPORT_FORMAT, EXPORT_VERSION, ExportDocument, ExportedInjury, ExportedSession, ImportReport,
};
pub use model::{
    Event, Injury, InjuryId, NewSession, Recovered, SessionId, SessionOutcome, SessionRecord,
};
pub use stats::{
    HistoryPoint, HistorySummary, RatingChange, RatingSeries, SeriesPoint, local_date,
    rating_series, summarize, timestamp,
};

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Schema migrations, in order: migration `i` (0-based) brings the file from
/// `user_version` `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_shared_snapshots.sql"),
    include_str!("../migrations/0003_pairing_index.sql"),
];

/// Adds one row of the ratings table (its rating id, whether it is the
/// value before, the value) to a session's list. Rows come sorted by rating
/// id, so the same id is the last entry.
fn add_rating(list: &mut Vec<RatingResult>, id: &str, before: bool, value: u8) {
    if list.last().is_none_or(|r| r.id != id) {
        list.push(RatingResult {
            id: id.to_owned(),
            before: None,
            after: None,
        });
    }
    if let Some(entry) = list.last_mut() {
        *(if before {
            &mut entry.before
        } else {
            &mut entry.after
        }) = Some(value);
    }
}

/// The pairing of the newest session of a protocol that has one; served by
/// the partial index `sessions_with_pairing` (schema 3), so live sessions,
/// which have none yet, are never read.
const LAST_PAIRING_SQL: &str = "SELECT pairing FROM sessions
     WHERE protocol_id = ?1 AND pairing IS NOT NULL
     ORDER BY started_at DESC, id DESC LIMIT 1";

/// Every session's start and whether it counts, newest first; served by the
/// covering index `sessions_by_start_outcome` (schema 3), so no session row
/// is read.
const HISTORY_POINTS_SQL: &str =
    "SELECT id, started_at, outcome IS NULL OR outcome <> 'refused' FROM sessions
     ORDER BY started_at DESC, id DESC";

/// The newest schema version this rollcoach knows (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQL of the migration that brings a file to schema `version` (1-based),
/// for tests and tools that build files of older versions.
pub fn migration_sql(version: u32) -> Option<&'static str> {
    let index = usize::try_from(version).ok()?.checked_sub(1)?;
    MIGRATIONS.get(index).copied()
}

/// The rollcoach store: one SQLite connection. See the crate docs.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Inside [`Store::batch`]: writes use savepoints in its transaction.
    in_batch: std::cell::Cell<bool>,
}

fn ms(t: Time) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

fn time(v: i64) -> Time {
    Time(u64::try_from(v).unwrap_or(0))
}

impl Store {
    /// Opens (creating it and its parent directories if needed) the database
    /// at `path`, and migrates it to [`SCHEMA_VERSION`]. A new file is
    /// readable and writable by its owner only (mode 0600 on Unix).
    ///
    /// Refuses, without modifying it, a file written by a newer rollcoach
    /// ([`StoreError::TooNew`]), a file that is not SQLite
    /// ([`StoreError::NotADatabase`]) and an SQLite file of another program
    /// ([`StoreError::NotRollcoach`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        if path.is_dir() {
            return Err(StoreError::IsADirectory { path });
        }
        if !path.exists() {
            Store::create_private(&path)?;
        }
        let conn = Connection::open(&path).map_err(|source| StoreError::Sqlite {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path)
    }

    /// Health data: a new file is readable by its owner only. It is created
    /// empty (an empty file is an empty database) before SQLite opens it, so
    /// SQLite gives its `-wal` and `-shm` files the same permissions.
    fn create_private(path: &Path) -> Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => Ok(()),
            // Another process created it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(StoreError::Create {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// A fresh store in memory, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path)
    }

    /// The file this store was opened from (`:memory:` in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<Store> {
        let store = Store {
            conn,
            path,
            in_batch: std::cell::Cell::new(false),
        };
        store.conn.busy_timeout(BUSY_TIMEOUT).map_err(store.err())?;
        // Check the file before changing anything (WAL mode rewrites the
        // header), in one read transaction so that another process migrating
        // the file meanwhile cannot make it look half-made.
        store.conn.execute_batch("BEGIN").map_err(store.err())?;
        let checked = store.check_file();
        let _ = store.conn.execute_batch("COMMIT");
        checked?;
        store
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(store.err())?;
        store
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(store.err())?;
        store
            .conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(store.err())?;
        store.migrate()?;
        Ok(store)
    }

    /// Refuses a file from a newer rollcoach or from another program.
    fn check_file(&self) -> Result<()> {
        let found = self.user_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == 0 {
            let tables: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(self.err())?;
            if tables > 0 {
                return Err(StoreError::NotRollcoach {
                    path: self.path.clone(),
                });
            }
        }
        Ok(())
    }

    /// The file's schema version (`PRAGMA user_version`).
    pub fn user_version(&self) -> Result<u32> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| {
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
                    StoreError::NotADatabase {
                        path: self.path.clone(),
                    }
                } else {
                    self.err()(source)
                }
            })?;
        Ok(u32::try_from(v).unwrap_or(u32::MAX))
    }

    fn migrate(&self) -> Result<()> {
        loop {
            // One transaction per step; re-read inside it so two processes
            // opening an old file at once do not both migrate it.
            let done = self.write(|conn| {
                let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                let v = u32::try_from(v).unwrap_or(u32::MAX);
                if v >= SCHEMA_VERSION {
                    return Ok(true);
                }
                let sql = migration_sql(v + 1).unwrap_or_default();
                conn.execute_batch(sql)?;
                conn.pragma_update(None, "user_version", v + 1)?;
                Ok(false)
            });
            match done {
                Ok(true) => return Ok(()),
                Ok(false) => continue,
                Err(StoreError::Sqlite { path, source }) => {
                    return Err(StoreError::Migration {
                        path,
                        version: self.user_version().unwrap_or(0) + 1,
                        source,
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Maps an SQLite error to [`StoreError::Sqlite`] with this store's path.
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: committed if it returns
    /// `Ok`, rolled back otherwise.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>) -> Result<T> {
        self.write_with(|conn| f(conn).map_err(self.err()))
    }

    fn write_with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.in_batch.get() {
            // Within a batch: a savepoint, so one failed write leaves the
            // batch's other writes alone.
            self.conn
                .execute_batch("SAVEPOINT write")
                .map_err(self.err())?;
            let result = f(&self.conn);
            let end = if result.is_ok() {
                "RELEASE write"
            } else {
                "ROLLBACK TO write; RELEASE write"
            };
            self.conn.execute_batch(end).map_err(self.err())?;
            return result;
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err())?;
        match f(&self.conn) {
            Ok(v) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(self.err()(e));
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `f` with every write it makes in one transaction (group commit):
    /// a server logging inputs of many sessions pays one commit for all the
    /// inputs that queued up meanwhile, not one each. Each write inside keeps
    /// its own all-or-nothing behaviour (a savepoint); nothing `f` wrote is
    /// durable until this returns `Ok`, so reply to the writers only then.
    /// If the commit fails, every write of the batch is rolled back.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> Result<T> {
        if self.in_batch.get() {
            return Ok(f(self));
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err())?;
        self.in_batch.set(true);
        let value = f(self);
        self.in_batch.set(false);
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err()(e));
        }
        Ok(value)
    }

    /// Stops SQLite from checkpointing the WAL inside this connection's
    /// commits (`wal_autocheckpoint = 0`): a server then checkpoints from
    /// another connection with [`Store::checkpoint`], off the path that logs
    /// inputs.
    pub fn disable_auto_checkpoint(&self) -> Result<()> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(self.err())
    }

    /// Copies what it can of the WAL into the database file without waiting
    /// for readers or writers (`PRAGMA wal_checkpoint(PASSIVE)`). Returns the
    /// WAL's size in pages and how many of them are now checkpointed.
    ///
    /// SQLite restarts the WAL from its beginning only when a write
    /// transaction starts with every frame copied; under sustained writes a
    /// checkpoint from another connection never gets there. Called on the
    /// writing connection between two of its transactions, after another
    /// connection has copied the bulk, it copies the rest and the next write
    /// restarts the WAL.
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .map_err(self.err())
    }

    /// Checkpoints the whole WAL and truncates it to zero bytes
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`): it waits for the writer, so it is
    /// for when passive checkpoints cannot keep up with sustained writes and
    /// the WAL would otherwise keep growing. Returns whether it completed.
    pub fn checkpoint_truncate(&self) -> Result<bool> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok(r.get::<_, i64>(0)? == 0)
            })
            .map_err(self.err())
    }

    // ----- sessions -------------------------------------------------------

    /// Records the start of a session, owned by this process, and returns its
    /// id. `started_at` is the `now` given to the engine's `Session::new`;
    /// event times are relative to it.
    pub fn begin_session(&self, new: &NewSession<'_>) -> Result<SessionId> {
        let uid = model::new_uid(new.started_at);
        let reps_target = new
            .options
            .reps
            .unwrap_or(new.protocol.movement.reps.default);
        let pid = std::process::id();
        let started = owner::process_start(pid);
        let protocol_json = to_json(new.protocol);
        let options_json = to_json(new.options);
        let facts_json = to_json(new.facts);
        let pairing = new.options.pairing.map(pairing_str);
        self.write(|conn| {
            conn.execute(
                "INSERT INTO sessions (uid, protocol_id, protocol_version, protocol_json, area,
                     options_json, facts_json, started_at, reps_target, pairing, owner_pid, owner_started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    uid,
                    new.protocol.id,
                    new.protocol.version,
                    protocol_json,
                    new.protocol.area,
                    options_json,
                    facts_json,
                    ms(new.started_at),
                    reps_target,
                    pairing,
                    pid,
                    started,
                ],
            )?;
            Ok(SessionId(conn.last_insert_rowid()))
        })
    }

    /// Appends one input to a live session's event log, `at_ms` after the
    /// session's start, as its own committed transaction. Call it before
    /// applying the input to the engine. `seq` numbers the inputs of a session
    /// from 0; a `seq` already recorded is refused
    /// ([`StoreError::DuplicateEvent`]), as is an event for a session that has
    /// ended.
    pub fn append_event(
        &self,
        session: SessionId,
        seq: u32,
        at_ms: u64,
        input: &Input,
    ) -> Result<()> {
        let json = to_json(input);
        let at = i64::try_from(at_ms).unwrap_or(i64::MAX);
        // One statement: atomic, and it only inserts while the session is live.
        // Prepared once per connection: a server logs thousands a second.
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO events (session_id, seq, at_ms, input_json)
                 SELECT id, ?2, ?3, ?4 FROM sessions WHERE id = ?1 AND outcome IS NULL",
            )
            .and_then(|mut statement| statement.execute(params![session.0, seq, at, json]));
        match inserted {
            Ok(1) => Ok(()),
            Ok(_) => Err(self.not_live(session)),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::DuplicateEvent { session, seq })
            }
            Err(e) => Err(self.err()(e)),
        }
    }

    /// Why `session` is not live: it does not exist, or it has ended.
    fn not_live(&self, session: SessionId) -> StoreError {
        let outcome: Result<Option<Option<String>>, _> = self
            .conn
            .query_row(
                "SELECT outcome FROM sessions WHERE id = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional();
        match outcome {
            Ok(None) => StoreError::NoSuchSession(session),
            Ok(Some(outcome)) => StoreError::SessionEnded {
                session,
                outcome: outcome.unwrap_or_default(),
            },
            Err(e) => self.err()(e),
        }
    }

    /// Records how a live session ended (the engine's `Output::End`), at
    /// `ended_at`, with the ratings of its summary.
    pub fn finish_session(
        &self,
        session: SessionId,
        ended_at: Time,
        outcome: &Outcome,
        message: &str,
        summary: &Summary,
    ) -> Result<()> {
        self.finish(
            session,
            ended_at,
            &SessionOutcome::from(outcome.clone()),
            Some(message),
            summary,
        )
    }

    fn finish(
        &self,
        session: SessionId,
        ended_at: Time,
        outcome: &SessionOutcome,
        message: Option<&str>,
        summary: &Summary,
    ) -> Result<()> {
        let outcome_json = to_json(outcome);
        let summary_json = to_json(summary);
        let pairing = summary.pairings.first().copied().map(pairing_str);
        let updated = self.write(|conn| {
            let n = conn.execute(
                "UPDATE sessions SET ended_at = ?2, outcome = ?3, reason = ?4, outcome_json = ?5,
                     message = ?6, reps_done = ?7, reps_target = ?8, active_ms = ?9,
                     pairing = coalesce(?10, pairing), summary_json = ?11
                 WHERE id = ?1 AND outcome IS NULL",
                params![
                    session.0,
                    ms(ended_at),
                    outcome.kind(),
                    outcome.reason_id(),
                    outcome_json,
                    message,
                    summary.reps_done,
                    summary.reps_target,
                    i64::try_from(summary.active_ms).unwrap_or(i64::MAX),
                    pairing,
                    summary_json,
                ],
            )?;
            if n == 1 {
                insert_ratings(conn, session, &summary.ratings)?;
            }
            Ok(n)
        })?;
        if updated == 1 {
            Ok(())
        } else {
            Err(self.not_live(session))
        }
    }

    /// One session.
    pub fn session(&self, session: SessionId) -> Result<SessionRecord> {
        let mut rows = self.records("WHERE id = ?1", &[&session.0])?;
        rows.pop().ok_or(StoreError::NoSuchSession(session))
    }

    /// Sessions, newest first; at most `limit` of them if given.
    pub fn history(&self, limit: Option<usize>) -> Result<Vec<SessionRecord>> {
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        self.records("ORDER BY started_at DESC, id DESC LIMIT ?1", &[&limit])
    }

    /// A page of the history, newest first: at most `limit` sessions that
    /// come before session `before` in that order (from the newest if
    /// `None`). The id of the last one is the next page's `before`.
    pub fn history_page(
        &self,
        limit: usize,
        before: Option<SessionId>,
    ) -> Result<Vec<SessionRecord>> {
        let Some(before) = before else {
            return self.history(Some(limit));
        };
        self.records(
            "WHERE (started_at, id) < (SELECT started_at, id FROM sessions WHERE id = ?2)
             ORDER BY started_at DESC, id DESC LIMIT ?1",
            &[&i64::try_from(limit).unwrap_or(i64::MAX), &before.0],
        )
    }

    /// How many sessions the file holds (refusals and live ones included).
    pub fn session_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(self.err())
    }

    /// Every session as a [`HistoryPoint`], newest first: what
    /// [`summarize`] and [`rating_series`] need, read without the JSON
    /// columns, so ten years of daily sessions take a few milliseconds.
    pub fn history_points(&self) -> Result<Vec<HistoryPoint>> {
        let mut stmt = self
            .conn
            .prepare_cached(HISTORY_POINTS_SQL)
            .map_err(self.err())?;
        let mut points = Vec::new();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (id, started_at, counts) = row.map_err(self.err())?;
            points.push(HistoryPoint {
                id: SessionId(id),
                started_at: Time(u64::try_from(started_at).unwrap_or(0)),
                counts,
                ratings: Vec::new(),
            });
        }
        // In the table's key order (session, rating id), read in place: ten
        // years hold ~14,000 rows. (Grouping before and after into one row
        // in SQL took four times as long.)
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                 ORDER BY session_id, rating_id",
            )
            .map_err(self.err())?;
        // The points by session id, to walk alongside the rows (no hashing).
        let mut by_id: Vec<(i64, usize)> = points.iter().map(|p| p.id.0).zip(0..).collect();
        by_id.sort_unstable();
        let mut next = by_id.iter().peekable();
        let mut rows = stmt.query([]).map_err(self.err())?;
        while let Some(r) = rows.next().map_err(self.err())? {
            let session: i64 = r.get(0).map_err(self.err())?;
            while next.next_if(|(id, _)| *id < session).is_some() {}
            let Some(point) = next
                .peek()
                .filter(|(id, _)| *id == session)
                .and_then(|&&(_, i)| points.get_mut(i))
            else {
                continue;
            };
            let id = r
                .get_ref(1)
                .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
                .map_err(self.err())?;
            let before: bool = r.get(2).map_err(self.err())?;
            let value: u8 = r.get(3).map_err(self.err())?;
            add_rating(&mut point.ratings, id, before, value);
        }
        Ok(points)
    }

    /// Sessions that have not ended (live, or left by a crashed driver), oldest first.
    pub fn unfinished(&self) -> Result<Vec<SessionRecord>> {
        self.records("WHERE outcome IS NULL ORDER BY started_at, id", &[])
    }

    /// A session's event log, in order.
    pub fn events(&self, session: SessionId) -> Result<Vec<Event>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at_ms, input_json FROM events WHERE session_id = ?1 ORDER BY seq",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([session.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at_ms, json) = row.map_err(self.err())?;
            let input = from_json(&json, session, "event input")?;
            out.push(Event {
                seq: u32::try_from(seq).unwrap_or(u32::MAX),
                at_ms: u64::try_from(at_ms).unwrap_or(0),
                input,
            });
        }
        Ok(out)
    }

    /// The protocol as it was when the session ran.
    pub fn protocol_snapshot(&self, session: SessionId) -> Result<Protocol> {
        let json = self.protocol_json(session)?;
        from_json(&json, session, "protocol snapshot")
    }

    fn protocol_json(&self, session: SessionId) -> Result<String> {
        self.conn
            .query_row(
                "SELECT COALESCE(p.protocol_json, s.protocol_json)
                   FROM sessions s LEFT JOIN protocol_snapshots p ON p.id = s.snapshot_id
                  WHERE s.id = ?1",
                [session.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?
            .ok_or(StoreError::NoSuchSession(session))
    }

    /// Sessions selected by `tail` (a WHERE/ORDER/LIMIT clause over
    /// `sessions`), with their ratings read in one more query.
    fn records(&self, tail: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<SessionRecord>> {
        let mut ratings: HashMap<i64, Vec<RatingResult>> = HashMap::new();
        {
            let sql = format!(
                "SELECT session_id, rating_id, moment = 'before', value FROM ratings
                 WHERE session_id IN (SELECT id FROM sessions {tail})
                 ORDER BY session_id, rating_id"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
            let rows = stmt
                .query_map(params, |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, u8>(3)?,
                    ))
                })
                .map_err(self.err())?;
            for row in rows {
                let (session, id, before, value) = row.map_err(self.err())?;
                add_rating(ratings.entry(session).or_default(), &id, before, value);
            }
        }
        let sql = format!(
            "SELECT id, uid, protocol_id, protocol_version, area, options_json, facts_json,
                    started_at, ended_at, outcome_json, reason, message, reps_done, reps_target,
                    active_ms, pairing, summary_json, owner_pid
             FROM sessions {tail}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params, model::RawSession::from_row)
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let raw = row.map_err(self.err())?;
            let r = ratings.remove(&raw.id).unwrap_or_default();
            out.push(raw.into_record(r)?);
        }
        Ok(out)
    }

    /// The breathing pairing the most recent session of this protocol started
    /// with, if any session got that far.
    pub fn last_pairing(&self, protocol_id: &str) -> Result<Option<Pairing>> {
        let p: Option<String> = self
            .conn
            .query_row(LAST_PAIRING_SQL, [protocol_id], |r| r.get(0))
            .optional()
            .map_err(self.err())?;
        Ok(p.and_then(|p| parse_pairing(&p)))
    }

    /// What the engine needs to know from the store to start a session of
    /// `protocol`: the injuries in its area that are not cleared (oldest
    /// first; the engine applies the window) and the last pairing.
    pub fn facts_for(&self, protocol: &Protocol) -> Result<Facts> {
        let injuries = self
            .injuries_where(
                "WHERE area = ?1 AND cleared_at IS NULL ORDER BY at, id",
                [&protocol.area],
            )?
            .into_iter()
            .map(|i| rollcoach_engine::InjuryFact {
                at: i.at,
                note: i.note,
            })
            .collect();
        Ok(Facts {
            injuries,
            last_pairing: self.last_pairing(&protocol.id)?,
        })
    }

    /// Marks every unfinished session whose driving process is gone as
    /// ended, and returns them. The outcome comes from replaying its event
    /// log through the engine: `interrupted` with the reps done, or the
    /// engine's own outcome if the log already reached the end (the driver
    /// died between the last input and recording the end). A log that
    /// cannot be replayed is recorded as `interrupted` with no reps count and
    /// the reason ([`Recovered::problem`]) rather than failing. Sessions whose
    /// process is alive, or where that cannot be told (non-Linux), are left
    /// alone; imported sessions have no process. The end time is the time of
    /// the last event.
    pub fn recover_interrupted(&self) -> Result<Vec<Recovered>> {
        let mut out = Vec::new();
        let candidates: Vec<(i64, Option<u32>, Option<String>)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id, owner_pid, owner_started FROM sessions WHERE outcome IS NULL ORDER BY id")
                .map_err(self.err())?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(self.err())?;
            rows.collect::<Result<_, _>>().map_err(self.err())?
        };
        for (id, pid, started) in candidates {
            if owner::alive(pid, started.as_deref()) {
                continue;
            }
            out.extend(self.interrupt(SessionId(id))?);
        }
        Ok(out)
    }

    /// Ends a live session as [`Self::recover_interrupted`] does, whoever
    /// drives it: for a driver that is asked to quit mid-session (a signal)
    /// and records what happened before it goes. `None` if it had already
    /// ended.
    pub fn interrupt(&self, session: SessionId) -> Result<Option<Recovered>> {
        match self.recover_one(session) {
            Ok(r) => Ok(r),
            // A log that cannot be replayed (damaged, or from an engine with
            // other rules) must not block every command: record the session
            // as interrupted without a count, and say why.
            Err(e @ (StoreError::Corrupt { .. } | StoreError::Replay { .. })) => {
                self.mark_unreplayable(session, &e.to_string())
            }
            Err(e) => Err(e),
        }
    }

    /// Replays one session and records its end; `None` if another process
    /// ended it meanwhile.
    fn recover_one(&self, session: SessionId) -> Result<Option<Recovered>> {
        let record = self.session(session)?;
        let protocol = self.protocol_snapshot(session)?;
        let events = self.events(session)?;
        let replayed = replay::replay(&protocol, &record, &events)
            .map_err(|reason| StoreError::Replay { session, reason })?;
        let ended_at = record
            .started_at
            .plus_ms(events.last().map_or(0, |e| e.at_ms));
        match self.finish(
            session,
            ended_at,
            &replayed.outcome,
            replayed.message.as_deref(),
            &replayed.summary,
        ) {
            Ok(()) => {}
            Err(StoreError::SessionEnded { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        Ok(Some(Recovered {
            id: session,
            protocol_id: record.protocol_id,
            started_at: record.started_at,
            outcome: replayed.outcome,
            reps_done: replayed.summary.reps_done,
            reps_target: replayed.summary.reps_target,
            problem: None,
        }))
    }

    /// Records a session whose log cannot be replayed as interrupted, with
    /// no reps count and `problem` as its message.
    fn mark_unreplayable(&self, session: SessionId, problem: &str) -> Result<Option<Recovered>> {
        let message = format!("recovery could not replay the event log: {problem}");
        let row = self.write(|conn| {
            let n = conn.execute(
                "UPDATE sessions SET outcome = 'interrupted', outcome_json = ?2, message = ?3,
                     ended_at = started_at + coalesce(
                         (SELECT max(at_ms) FROM events WHERE session_id = ?1), 0)
                 WHERE id = ?1 AND outcome IS NULL",
                params![session.0, to_json(&SessionOutcome::Interrupted), message],
            )?;
            if n == 0 {
                return Ok(None);
            }
            conn.query_row(
                "SELECT protocol_id, started_at, reps_target FROM sessions WHERE id = ?1",
                [session.0],
                |r| {
                    Ok(Some((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, u32>(2)?,
                    )))
                },
            )
        })?;
        Ok(row.map(|(protocol_id, started_at, reps_target)| Recovered {
            id: session,
            protocol_id,
            started_at: time(started_at),
            outcome: SessionOutcome::Interrupted,
            reps_done: 0,
            reps_target,
            problem: Some(message),
        }))
    }

    // ----- injuries -------------------------------------------------------

    /// Logs an injury in `area` that happened `at`; `created_at` is now.
    pub fn add_injury(
        &self,
        area: &str,
        at: Time,
        note: Option<&str>,
        created_at: Time,
    ) -> Result<Injury> {
        let id = self.write(|conn| {
            conn.execute(
                "INSERT INTO injuries (area, at, note, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![area, ms(at), note, ms(created_at)],
            )?;
            Ok(InjuryId(conn.last_insert_rowid()))
        })?;
        self.injury(id)
    }

    /// One injury.
    pub fn injury(&self, id: InjuryId) -> Result<Injury> {
        self.injuries_where("WHERE id = ?1", [id.0])?
            .pop()
            .ok_or(StoreError::NoSuchInjury(id))
    }

    /// All logged injuries, cleared or not, by when they happened.
    pub fn list_injuries(&self) -> Result<Vec<Injury>> {
        self.injuries_where("ORDER BY at, id", [])
    }

    /// Marks an injury as cleared at `now`: it no longer refuses sessions.
    pub fn clear_injury(&self, id: InjuryId, now: Time) -> Result<Injury> {
        let n = self.write(|conn| {
            conn.execute(
                "UPDATE injuries SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                params![id.0, ms(now)],
            )
        })?;
        let injury = self.injury(id)?;
        if n == 0 {
            return Err(StoreError::InjuryAlreadyCleared {
                id,
                cleared_at: injury.cleared_at.unwrap_or_default().into(),
            });
        }
        Ok(injury)
    }

    fn injuries_where(&self, tail: &str, params: impl rusqlite::Params) -> Result<Vec<Injury>> {
        let sql = format!("SELECT id, area, at, note, created_at, cleared_at FROM injuries {tail}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(Injury {
                    id: InjuryId(r.get(0)?),
                    area: r.get(1)?,
                    at: time(r.get(2)?),
                    note: r.get(3)?,
                    created_at: time(r.get(4)?),
                    cleared_at: r.get::<_, Option<i64>>(5)?.map(time),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

fn insert_ratings(
    conn: &Connection,
    session: SessionId,
    ratings: &[RatingResult],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO ratings (session_id, rating_id, moment, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in ratings {
        for (moment, value) in [("before", r.before), ("after", r.after)] {
            if let Some(v) = value {
                stmt.execute(params![session.0, r.id, moment, v])?;
            }
        }
    }
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> String {
    // The engine and protocol types are plain data; serializing them cannot fail.
    serde_json::to_string(value).expect("serializable engine type")
}

fn from_json<T: serde::de::DeserializeOwned>(
    json: &str,
    session: SessionId,
    what: &'static str,
) -> Result<T> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt {
        session,
        what,
        source,
    })
}

fn pairing_str(p: Pairing) -> &'static str {
    match p {
        Pairing::InhaleOut => "inhale-out",
        Pairing::InhaleBack => "inhale-back",
    }
}

fn parse_pairing(s: &str) -> Option<Pairing> {
    match s {
        "inhale-out" => Some(Pairing::InhaleOut),
        "inhale-back" => Some(Pairing::InhaleBack),
        _ => None,
    }
}
