//! rollcoach's SQLite store: one file holding sessions, their append-only
//! event log, ratings and the injury log, behind the backend-neutral
//! [`rollcoach_store::Store`] trait.
//!
//! ```no_run
//! use rollcoach_store::Store;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store: Box<dyn Store> = Box::new(rollcoach_store_sqlite::SqliteStore::open("/tmp/rollcoach.db")?);
//! rollcoach_store::recover_interrupted(&*store)?;
//! # Ok(()) }
//! ```
//!
//! Everything SQLite-specific lives here, one concern a module: opening and
//! checking the file (here), the schema and its migrations (`schema`),
//! transactions and group commit (`tx`), session writes and reads
//! (`sessions`), history queries (`history`), injuries (`injuries`), the
//! import's inserts (`import`), WAL checkpoints (`checkpoint`), row mapping
//! (`rows`) and the mapping of SQLite's errors to the store's (`errors`).
//!
//! # Guarantees
//!
//! - The file is in WAL mode with `synchronous=NORMAL`: every
//!   `append_event` is its own committed transaction, in the WAL before it
//!   returns, so a driver that records an input and only then applies it
//!   never loses an applied input when its process dies (`kill -9`, a
//!   crash). Only an operating-system crash or power cut can lose the last
//!   moments of a log, and the file stays consistent even then (SQLite's WAL
//!   guarantee); the session is then recovered from what the log kept.
//!   `FULL` would fsync every input, about 6 ms each on this project's
//!   machines (BENCHMARKS.md "Store"), which puts a disk flush between
//!   "pain" and the spoken stop.
//! - Opening migrates an older file ([`SCHEMA_VERSION`] is the newest known);
//!   a file written by a newer rollcoach is refused and never modified; a file
//!   that is not SQLite, or an SQLite file of another program, is refused.
//! - A long-running writer ([`rollcoach_store::Store::start_housekeeping`])
//!   checkpoints the WAL from a second connection on a thread of its own,
//!   so the path that logs inputs never syncs the database file (see
//!   `checkpoint`).
//!
//! # Threads
//!
//! A [`SqliteStore`] is `Send` but not `Sync` (it owns one SQLite
//! connection). Share one behind a `Mutex`, or open one per thread
//! ([`rollcoach_store::Store::reader`]): WAL lets readers and one writer work
//! at once, and writers wait up to [`BUSY_TIMEOUT`] for each other.
#![deny(missing_docs)]

mod checkpoint;
mod devices;
mod errors;
mod history;
mod import;
mod injuries;
mod rows;
mod schema;
mod sessions;
mod store_impl;
#[cfg(test)]
mod tests;
mod tx;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rollcoach_store::{Backend, Result};
use rusqlite::Connection;

pub use schema::{SCHEMA_VERSION, migration_sql};

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The rollcoach store in one SQLite file (or in memory). See the crate docs.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Inside a transaction ([`SqliteStore::batch`]): writes use savepoints in it.
    in_batch: Cell<bool>,
    /// The checkpointer thread, once started.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// Batches of a streamed import written on this connection (see
    /// `import::CHECKPOINT_EVERY`).
    import_batches: Cell<u32>,
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the database
    /// at `path`, and migrates it to [`SCHEMA_VERSION`]. A new file is
    /// readable and writable by its owner only (mode 0600 on Unix).
    ///
    /// Refuses, without modifying it, a file written by a newer rollcoach
    /// ([`rollcoach_store::Conflict::TooNew`]), a file that is not SQLite
    /// ([`rollcoach_store::Corrupt::NotADatabase`]) and an SQLite file of
    /// another program ([`rollcoach_store::Corrupt::NotRollcoach`]), and a
    /// database it cannot write ([`rollcoach_store::Backend::NotWritable`]: a
    /// read-only file, directory or mount, or no permission), so a long-running
    /// writer never starts on a file that fails at its first write.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| {
                match not_writable(&path, &source, "cannot create its directory", parent) {
                    Some(e) => e,
                    None => Backend::CreateDir {
                        path: parent.to_path_buf(),
                        source,
                    },
                }
            })?;
        }
        if path.is_dir() {
            return Err(Backend::IsADirectory { path }.into());
        }
        if !path.exists() {
            SqliteStore::create_private(&path)?;
        }
        let conn = Connection::open(&path).map_err(|e| errors::from_sqlite(&path, e))?;
        // SQLite opens a file it may not write read-only, without an error.
        if conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| errors::from_sqlite(&path, e))?
        {
            return Err(Backend::NotWritable {
                location: path.display().to_string(),
                reason: "the file is read-only here (its permissions, or a read-only disk)".into(),
            }
            .into());
        }
        SqliteStore::setup(conn, path)
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
            Err(source) => {
                Err(
                    match not_writable(path, &source, "cannot create it in", parent_of(path)) {
                        Some(e) => e,
                        None => Backend::Create {
                            path: path.to_path_buf(),
                            source,
                        },
                    }
                    .into(),
                )
            }
        }
    }

    /// A fresh store in memory, for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| errors::from_sqlite(&path, e))?;
        SqliteStore::setup(conn, path)
    }

    /// The file this store was opened from (`:memory:` in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store is in memory (no other connection can see it).
    fn in_memory(&self) -> bool {
        self.path.as_os_str() == ":memory:"
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<SqliteStore> {
        let store = SqliteStore {
            conn,
            path,
            in_batch: Cell::new(false),
            checkpointer: None,
            import_batches: Cell::new(0),
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
}

/// The directory a database file is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// An I/O error that means "this place cannot be written" (no permission, a
/// read-only file system) as [`Backend::NotWritable`], saying what failed on
/// which directory; other errors are left to the caller.
fn not_writable(path: &Path, e: &std::io::Error, what: &str, dir: &Path) -> Option<Backend> {
    use std::io::ErrorKind;
    let why = match e.kind() {
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::ReadOnlyFilesystem => "a read-only file system",
        _ => return None,
    };
    Some(Backend::NotWritable {
        location: path.display().to_string(),
        reason: format!("{what} {}: {why}", dir.display()),
    })
}
