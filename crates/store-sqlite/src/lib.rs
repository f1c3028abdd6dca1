//! rollcoach's SQLite store: one file holding people's sessions, their
//! append-only event logs, ratings, injuries and devices, behind the
//! backend-neutral traits: [`rollcoach_store::SessionLog`] (the terminal's
//! log, on one connection: [`SqliteStore`]) and
//! [`rollcoach_store::Records`] (a server's, on a pool: [`SqliteRecords`]).
//!
//! ```no_run
//! use rollcoach_store::{PersonId, Records};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let records = rollcoach_store_sqlite::SqliteRecords::open("/tmp/rollcoach.db")?;
//! rollcoach_store::recover_interrupted(&records)?;
//! let injuries = records.list_injuries(&PersonId::owner())?;
//! # Ok(()) }
//! ```
//!
//! Everything SQLite-specific lives here, one concern a module: opening and
//! checking the file (here), the schema and its migrations (`schema`),
//! transactions and batches (`tx`), session writes and reads
//! (`sessions`), history queries (`history`), injuries (`injuries`), the
//! import's inserts (`import`), sync's writes and the change log (`sync`),
//! devices (`devices`), WAL checkpoints (`checkpoint`), the traits and the
//! connection pool (`records`), process liveness for recovery (`owner`),
//! row mapping (`rows`) and the mapping of SQLite's errors to the store's
//! (`errors`).
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
//! - A file that cannot be written is opened read-only, to be read and
//!   exported ([`SqliteStore::read_only`] says why; writes fail with
//!   [`rollcoach_store::Backend::NotWritable`]).
//! - Every write transaction first checks, with one `stat`, that the path
//!   still names the file that was opened (its device and inode): once the
//!   file has been removed or replaced (a backup moved into place), writes
//!   fail with [`rollcoach_store::Backend::Replaced`] instead of landing in
//!   a file nobody will read or over the one put in its place, and a pool's
//!   new reader connection never creates a file where one was removed.
//! - A long-running writer ([`SqliteRecords::start_housekeeping`])
//!   checkpoints the WAL from a second connection on a thread of its own,
//!   so the path that logs inputs never syncs the database file (see
//!   `checkpoint`).
//!
//! # Threads
//!
//! A [`SqliteStore`] is `Send` but not `Sync` (it owns one SQLite
//! connection). [`SqliteRecords`] is `Sync`: one writer connection behind a
//! lock and a few reader connections; WAL lets readers and one writer work
//! at once, and writers of several processes wait up to [`BUSY_TIMEOUT`]
//! for each other.
#![deny(missing_docs)]

mod checkpoint;
mod devices;
mod errors;
mod history;
mod import;
mod injuries;
mod owner;
mod people;
mod records;
mod rows;
mod schema;
mod sessions;
mod sync;
#[cfg(test)]
mod tests;
mod tx;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rollcoach_store::{Backend, Result, StoreError};
use rusqlite::Connection;

pub use records::SqliteRecords;
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
    /// The file it opened (`None` in memory): every write transaction first
    /// checks that the path still names it ([`SqliteStore::check_writable`]).
    file: Option<FileId>,
    /// Why it was opened read-only, if it was ([`SqliteStore::read_only`]).
    read_only: Option<String>,
}

/// The identity of a database file: its device and inode (Unix). A file
/// removed, or replaced by another (a backup copied or moved into place),
/// has another or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The file at `path` now; `Ok(None)` where identities are not known.
    fn of(path: &Path) -> std::io::Result<Option<FileId>> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let m = std::fs::metadata(path)?;
            Ok(Some(FileId {
                dev: m.dev(),
                ino: m.ino(),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Ok(None)
        }
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the database
    /// at `path`, and migrates it to [`SCHEMA_VERSION`]. A new file is
    /// readable and writable by its owner only (mode 0600 on Unix).
    ///
    /// Refuses, without modifying it, a file written by a newer rollcoach
    /// ([`rollcoach_store::Conflict::TooNew`]), a file that is not SQLite
    /// ([`rollcoach_store::Corrupt::NotADatabase`]) and an SQLite file of
    /// another program ([`rollcoach_store::Corrupt::NotRollcoach`]).
    ///
    /// A file it cannot write (a read-only file, directory or mount, or no
    /// permission) is opened read-only, so that its data can still be read
    /// and exported: [`SqliteStore::read_only`] says why, and every write
    /// fails with [`rollcoach_store::Backend::NotWritable`] saying so. A
    /// long-running writer checks it and refuses to start. A file it cannot
    /// write and that does not exist yet, or that is of an older schema (it
    /// would have to be migrated to be read), is refused with
    /// [`rollcoach_store::Backend::NotWritable`].
    ///
    /// Once open, every write transaction checks that the path still names
    /// the file it opened: a file removed or replaced meanwhile fails the
    /// write with [`rollcoach_store::Backend::Replaced`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_at(path.as_ref(), true)
    }

    /// [`SqliteStore::open`] for another connection to a file already open
    /// (a pool's reader): never creates the file, so a file removed under a
    /// running server is not replaced by an empty one.
    pub(crate) fn open_existing(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_at(path, false)
    }

    fn open_at(path: &Path, create: bool) -> Result<SqliteStore> {
        let path = path.to_path_buf();
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|_| create) {
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
            if !create {
                return Err(Backend::Replaced {
                    location: path.display().to_string(),
                    what: "removed",
                }
                .into());
            }
            SqliteStore::create_private(&path)?;
        }
        let file = FileId::of(&path).ok().flatten();
        match SqliteStore::open_writable(path.clone()) {
            Ok(mut store) => {
                store.file = file;
                Ok(store)
            }
            Err(StoreError::Backend(Backend::NotWritable { reason, .. })) => {
                let mut store = SqliteStore::open_read_only(path, reason)?;
                store.file = file;
                Ok(store)
            }
            Err(e) => Err(e),
        }
    }

    /// Opens the file read and write; [`Backend::NotWritable`] if it cannot
    /// be written.
    fn open_writable(path: PathBuf) -> Result<SqliteStore> {
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

    /// Opens a file that cannot be written (`why`) read-only
    /// (`SQLITE_OPEN_READ_ONLY`), to be read and exported. Where SQLite
    /// cannot make the `-shm` file a WAL database needs (a read-only
    /// directory), and no `-wal` file holds anything (the file was closed
    /// cleanly), the file is read as it is (`immutable=1`).
    fn open_read_only(path: PathBuf, why: String) -> Result<SqliteStore> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let refused = |reason: String| -> StoreError {
            Backend::NotWritable {
                location: path.display().to_string(),
                reason,
            }
            .into()
        };
        let open = |uri: &str| -> Result<SqliteStore> {
            let conn = Connection::open_with_flags(uri, flags)
                .map_err(|e| errors::from_sqlite(&path, e))?;
            let store = SqliteStore::new(conn, path.clone(), Some(why.clone()));
            store.conn.busy_timeout(BUSY_TIMEOUT).map_err(store.err())?;
            store.conn.execute_batch("BEGIN").map_err(store.err())?;
            let checked = store.check_file().and_then(|()| store.user_version());
            let _ = store.conn.execute_batch("COMMIT");
            let version = checked?;
            if version < SCHEMA_VERSION {
                return Err(refused(format!(
                    "{why}; it is of an older rollcoach (schema version {version}), which must \
                     migrate it, writing it, before it can be read"
                )));
            }
            Ok(store)
        };
        let uri = file_uri(&path);
        match open(&uri) {
            Err(StoreError::Backend(Backend::NotWritable { .. })) if !wal_has_frames(&path) => {
                open(&format!("{uri}?immutable=1"))
            }
            other => other,
        }
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

    /// Why the file was opened read-only (see [`SqliteStore::open`]), if it was.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// Whether this store may write now: not if it was opened read-only
    /// ([`Backend::NotWritable`]), nor once its path no longer names the
    /// file it opened ([`Backend::Replaced`]: removed, or replaced by
    /// another file). One `stat` of the path, before each write transaction.
    pub(crate) fn check_writable(&self) -> Result<()> {
        let location = || self.path.display().to_string();
        if let Some(why) = &self.read_only {
            return Err(Backend::NotWritable {
                location: location(),
                reason: format!(
                    "{why}; it was opened read-only, so it can be read (`rollcoach history`, \
                     `export`, `injury list`) but not changed"
                ),
            }
            .into());
        }
        let Some(opened) = self.file else {
            return Ok(());
        };
        let what = match FileId::of(&self.path) {
            Ok(Some(now)) if now != opened => "replaced by another file",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "removed",
            // The same file, or one that cannot be checked: SQLite says
            // if the write fails.
            _ => return Ok(()),
        };
        Err(Backend::Replaced {
            location: location(),
            what,
        }
        .into())
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

    fn new(conn: Connection, path: PathBuf, read_only: Option<String>) -> SqliteStore {
        SqliteStore {
            conn,
            path,
            in_batch: Cell::new(false),
            checkpointer: None,
            import_batches: Cell::new(0),
            file: None,
            read_only,
        }
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<SqliteStore> {
        let store = SqliteStore::new(conn, path, None);
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

/// `path` as an SQLite `file:` URI (its `%`, `?` and `#` escaped).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri
}

/// Whether the database's `-wal` file exists and holds frames not yet in
/// the database (a process died with it open): reading the file alone
/// would then miss them.
fn wal_has_frames(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0)
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
