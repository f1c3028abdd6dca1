//! The store's errors, in four kinds every backend maps its own failures to:
//! [`NotFound`], [`Conflict`], [`Corrupt`] and [`Backend`]. Each says which
//! record or which store, and what to do about it.

use std::path::PathBuf;

use rollcoach_engine::Time;

use crate::SessionId;

/// A backend's own error (an SQLite error, say), kept as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Something the store could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// What was asked for is not in the store.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The request does not fit what the store holds (a session that has
    /// ended, an event already recorded, a store written by a newer rollcoach).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// Data that cannot be read as what it should be: a damaged record, a
    /// file that is not a rollcoach store, an export document that does not fit.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    /// The backend itself failed: it could not be created or opened, it is
    /// busy, a migration failed, its disk is full, ...
    #[error(transparent)]
    Backend(#[from] Backend),
}

/// What was asked for is not in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotFound {
    /// No session has this id.
    #[error("no session with id {0}")]
    Session(SessionId),
    /// The person has no session with this uid.
    #[error("no session with uid {0}")]
    SessionUid(String),
    /// The person has no injury with this uid.
    #[error("no injury with uid {0}; `rollcoach injury list` shows the injuries")]
    InjuryUid(String),
    /// No such person (or not one the caller may name: a client of another
    /// coach, a coach id that is a client's).
    #[error("no person with id {0}")]
    Person(String),
}

/// The request does not fit what the store holds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
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
    /// The injury is already cleared.
    #[error("injury {uid} is already cleared (at {cleared_at})")]
    InjuryAlreadyCleared {
        /// The injury's uid.
        uid: String,
        /// When it was cleared.
        cleared_at: DisplayTime,
    },
    /// An imported injury has the uid of a stored one but not its content:
    /// injuries are never edited (only cleared), so it is not the same one.
    #[error(
        "injury {uid:?}: the database has an injury with this uid but another {field}; an \
         injury is never edited (only cleared), so they are not the same injury: remove this \
         one from what is imported, or give it a new uid"
    )]
    InjuryDiffers {
        /// The uid.
        uid: String,
        /// The first field that differs (`area`, `at`, `note`, `created_at`).
        field: &'static str,
    },
    /// A coach with this name (case-insensitively) is already there.
    #[error(
        "a coach named {name:?} is already there; coach names are unique (case does not count): give another name"
    )]
    CoachName {
        /// The name asked for.
        name: String,
    },
    /// The store was written by a newer rollcoach.
    #[error(
        "{location} was written by a newer rollcoach (schema version {found}; this rollcoach knows up \
         to {known}); it was not modified. Upgrade rollcoach to use it, or point --db elsewhere"
    )]
    TooNew {
        /// Where the store is (a file path).
        location: String,
        /// Its schema version.
        found: u32,
        /// The newest this rollcoach knows.
        known: u32,
    },
    /// A write the backend refused because it breaks one of the store's
    /// rules (a unique or foreign key), other than those above.
    #[error("database {location}: {source}")]
    Constraint {
        /// Where the store is.
        location: String,
        /// The backend's error.
        source: BoxError,
    },
}

/// Data that cannot be read as what it should be.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Corrupt {
    /// A stored JSON value does not parse: the store was edited by hand or is damaged.
    #[error("session {session}: the stored {what} does not parse: {source}")]
    Record {
        /// The session (its uid, or the log's handle).
        session: String,
        /// Which value.
        what: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Replaying a session's log through the engine failed.
    #[error("session {session}: replaying its event log failed: {reason}")]
    Replay {
        /// The session (its uid, or the log's handle).
        session: String,
        /// Why.
        reason: String,
    },
    /// The file is not a database of the backend's kind.
    #[error(
        "{location} is not a rollcoach database (it is not an SQLite file); it was not modified. \
         Point --db or ROLLCOACH_DB at another file, or move this one away"
    )]
    NotADatabase {
        /// The file.
        location: String,
    },
    /// A database of another program.
    #[error(
        "{location} is an SQLite database of another program (it has tables but no rollcoach schema \
         version); it was not modified. Point --db or ROLLCOACH_DB at another file"
    )]
    NotRollcoach {
        /// The file.
        location: String,
    },
    /// The backend found its own data damaged.
    #[error(
        "database {location} is damaged ({source}); rollcoach did not modify it. To restore: move \
         it away, then `rollcoach --db {location} import EXPORT.json` with your last export (a file \
         written by `rollcoach export`); `rollcoach export -o FILE` may first save what still reads"
    )]
    Damaged {
        /// Where the store is.
        location: String,
        /// The backend's error.
        source: BoxError,
    },
    /// An export document that cannot be imported.
    #[error("{0}")]
    Export(String),
}

/// The backend itself failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Backend {
    /// The store's directory could not be created.
    #[error("cannot create the directory {path} for the database: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The store's file could not be created.
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
    /// A migration failed; the store stays at the version before it.
    #[error(
        "{location}: migrating to schema version {version} failed (the file was left at the version before): {source}"
    )]
    Migration {
        /// Where the store is.
        location: String,
        /// The version the failed migration leads to.
        version: u32,
        /// The backend's error.
        source: BoxError,
    },
    /// The store cannot be written where it is (a read-only file, directory
    /// or mount, or no permission). A backend may still open it read-only,
    /// so that it can be read and exported; then every write fails with
    /// this, and a long-running writer refuses to start with it rather than
    /// fail at its first write.
    #[error(
        "cannot write the database {location}: {reason}. rollcoach needs a database it can write; \
         give a file in a writable place with --db PATH (or ROLLCOACH_DB), or make this one writable"
    )]
    NotWritable {
        /// Where the store is.
        location: String,
        /// Why it cannot be written, in words.
        reason: String,
    },
    /// The store's file was removed or replaced by another file since it
    /// was opened (by hand, or by another program): what would be written
    /// now would land in a file nobody reads, or overwrite the one put in
    /// its place, so nothing more is written until the store is opened again.
    #[error(
        "the database {location} was {what} while rollcoach had it open; nothing more is written \
         to it (the old file is gone, or another one is in its place). Restart `rollcoach serve` \
         (or the command) to open the file that is there now"
    )]
    Replaced {
        /// Where the store is.
        location: String,
        /// What happened to it: `removed`, `replaced by another file`.
        what: &'static str,
    },
    /// Another process holds the store for longer than the backend waits.
    #[error(
        "database {location}: {source} (another rollcoach process is writing to it; try again)"
    )]
    Busy {
        /// Where the store is.
        location: String,
        /// The backend's error.
        source: BoxError,
    },
    /// Any other failure of the backend (I/O, a full disk, ...).
    #[error("database {location}: {source}")]
    Failed {
        /// Where the store is.
        location: String,
        /// The backend's error.
        source: BoxError,
    },
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
