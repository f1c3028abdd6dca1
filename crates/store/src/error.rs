//! The store's errors: each says which file or record, and what to do.

use std::path::PathBuf;

use rollcoach_engine::Time;

use crate::{InjuryId, SessionId};

/// Something the store could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database's directory could not be created.
    #[error("cannot create the directory {path} for the database: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database file could not be created.
    #[error("cannot create the database file {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The path is a directory.
    #[error(
        "{path} is a directory, not a database file; give a file path with --db or ROLLCOACH_DB"
    )]
    IsADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file is not an SQLite database.
    #[error(
        "{path} is not a rollcoach database (it is not an SQLite file); it was not modified. \
         Point --db or ROLLCOACH_DB at another file, or move this one away"
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// An SQLite file that belongs to another program.
    #[error(
        "{path} is an SQLite database of another program (it has tables but no rollcoach schema \
         version); it was not modified. Point --db or ROLLCOACH_DB at another file"
    )]
    NotRollcoach {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer rollcoach.
    #[error(
        "{path} was written by a newer rollcoach (schema version {found}; this rollcoach knows up \
         to {known}); it was not modified. Upgrade rollcoach to use it, or point --db elsewhere"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest this rollcoach knows.
        known: u32,
    },
    /// A migration failed; the file stays at the version before it.
    #[error(
        "{path}: migrating to schema version {version} failed (the file was left at the version before): {source}"
    )]
    Migration {
        /// The file.
        path: PathBuf,
        /// The version the failed migration leads to.
        version: u32,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// Any other SQLite error.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// No session has this id.
    #[error("no session with id {0}")]
    NoSuchSession(SessionId),
    /// The session has already ended; nothing can be added to it.
    #[error("session {session} has already ended ({outcome}); nothing more can be recorded for it")]
    SessionEnded {
        /// The session.
        session: SessionId,
        /// How it ended.
        outcome: String,
    },
    /// An event with this sequence number is already recorded.
    #[error("event {seq} of session {session} is already recorded; events are append-only")]
    DuplicateEvent {
        /// The session.
        session: SessionId,
        /// The sequence number.
        seq: u32,
    },
    /// No injury has this id.
    #[error("no injury with id {0}; `rollcoach injury list` shows the ids")]
    NoSuchInjury(InjuryId),
    /// The injury is already cleared.
    #[error("injury {id} is already cleared (at {cleared_at})")]
    InjuryAlreadyCleared {
        /// The injury.
        id: InjuryId,
        /// When it was cleared.
        cleared_at: DisplayTime,
    },
    /// A JSON column does not parse: the file was edited by hand or is damaged.
    #[error("session {session}: the stored {what} does not parse: {source}")]
    Corrupt {
        /// The session.
        session: SessionId,
        /// Which column.
        what: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Replaying a session's log through the engine failed.
    #[error("session {session}: replaying its event log failed: {reason}")]
    Replay {
        /// The session.
        session: SessionId,
        /// Why.
        reason: String,
    },
    /// An export document that cannot be imported.
    #[error("{0}")]
    BadExport(String),
}

/// A time shown in an error: RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DisplayTime(pub Time);

impl From<Time> for DisplayTime {
    fn from(t: Time) -> Self {
        DisplayTime(t)
    }
}

impl std::fmt::Display for DisplayTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match crate::timestamp(self.0) {
            Some(ts) => write!(f, "{ts}"),
            None => write!(f, "{} ms since the epoch", self.0.0),
        }
    }
}
