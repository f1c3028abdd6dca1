//! WAL checkpoints for a long-running writer (a server).
//!
//! SQLite's automatic checkpoints would sync the WAL and the database on the
//! path that logs inputs, so [`SqliteStore::start_checkpointer`] turns them
//! off and a second connection on a thread of its own copies the WAL back
//! (`PASSIVE`, never waiting for the writer). Under sustained writes that
//! alone never lets the WAL restart from its beginning: SQLite restarts it
//! only when a write transaction begins with every frame copied, and the
//! writer always adds frames while the checkpointer copies. So once the WAL
//! passes [`WAL_RESTART_PAGES`], the checkpointer asks the writer to finish
//! the job (the store's `housekeeping_due`): right after its next commit,
//! with no frame added since, a passive checkpoint on the writer's own
//! connection (`housekeep`) copies the few frames the checkpointer missed,
//! and the next commit restarts the WAL. The checkpointer first syncs the
//! database file itself, so what the writer syncs is only what it copied.
//! That costs the writer a millisecond or two once per 16 MB of log. (A
//! truncating checkpoint, which waits for the writer and then copies what
//! accumulated meanwhile, held it up for ~100 ms, BENCHMARKS.md; it stays as
//! the last resort past [`WAL_PAGES_LIMIT`].)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rollcoach_store::{Backend, Result};

use crate::SqliteStore;

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Past this many WAL pages (16 MB at 4 KiB) the writer finishes a
/// checkpoint so that the WAL restarts.
const WAL_RESTART_PAGES: i64 = 4_096;
/// Past this many pages (64 MB) the restart has not happened (another
/// process holds an old snapshot, say): the checkpointer truncates the WAL,
/// holding up the writer while it waits for it.
const WAL_PAGES_LIMIT: i64 = 16_384;

/// The checkpointer thread of a writer; it stops when this is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    /// Set by the thread when the writer should finish a checkpoint.
    finish: Arc<AtomicBool>,
    /// Dropped with the store: tells the thread to stop.
    _stop: mpsc::Sender<()>,
}

impl SqliteStore {
    /// Stops SQLite from checkpointing the WAL inside this connection's
    /// commits (`wal_autocheckpoint = 0`): another connection then
    /// checkpoints with [`SqliteStore::checkpoint`], off the path that logs
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

    /// For a store in a file: turns its automatic checkpoints off and starts
    /// a thread that checkpoints from its own connection until this store is
    /// dropped. In memory, or if the second connection cannot be had, the
    /// store keeps SQLite's automatic checkpoints and no thread is started.
    pub(crate) fn start_checkpointer(&mut self) -> Result<()> {
        if self.checkpointer.is_some() || self.in_memory() {
            return Ok(());
        }
        let Ok(second) = SqliteStore::open(&self.path) else {
            return Ok(());
        };
        if self.disable_auto_checkpoint().is_err() {
            return Ok(());
        }
        // Only to sync it (fsync acts on the file, whichever descriptor asks).
        let db_file = std::fs::File::open(&self.path).ok();
        let finish = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let asked = Arc::clone(&finish);
        std::thread::Builder::new()
            .name("rollcoach-checkpoint".into())
            .spawn(move || checkpoint_loop(&second, db_file.as_ref(), &asked, &stopped))
            .map_err(|source| Backend::Failed {
                location: self.path.display().to_string(),
                source: Box::new(source),
            })?;
        self.checkpointer = Some(Checkpointer {
            finish,
            _stop: stop,
        });
        Ok(())
    }

    /// Whether the checkpointer asks this (writing) connection to finish a checkpoint.
    pub(crate) fn checkpoint_due(&self) -> bool {
        self.checkpointer
            .as_ref()
            .is_some_and(|c| c.finish.load(Ordering::Relaxed))
    }

    /// Finishes the checkpoint the checkpointer asked for. A failure is
    /// retried when it asks again.
    pub(crate) fn finish_checkpoint(&mut self) -> Result<()> {
        let done = self.checkpoint();
        if let Some(c) = &self.checkpointer {
            c.finish.store(false, Ordering::Relaxed);
        }
        done.map(|_| ())
    }
}

/// The checkpointer thread: every [`CHECKPOINT_EVERY`] a passive checkpoint
/// from `second`, asking the writer (`finish`) to finish one past
/// [`WAL_RESTART_PAGES`], until `stopped` is disconnected.
fn checkpoint_loop(
    second: &SqliteStore,
    db_file: Option<&std::fs::File>,
    finish: &AtomicBool,
    stopped: &mpsc::Receiver<()>,
) {
    loop {
        let done = matches!(
            stopped.recv_timeout(CHECKPOINT_EVERY),
            Err(RecvTimeoutError::Disconnected)
        );
        // While the writer has not yet finished the last one, a checkpoint
        // here would sync the WAL under its feet.
        if finish.load(Ordering::Relaxed) {
            if done {
                break;
            }
            continue;
        }
        // A failed checkpoint is retried next time; the WAL keeps
        // everything meanwhile.
        match second.checkpoint() {
            Ok((wal_pages, _)) if wal_pages > WAL_PAGES_LIMIT => {
                let _ = second.checkpoint_truncate();
            }
            // The checkpoint that completes the copy syncs the database
            // file, and with it every page the passive ones wrote (~10 ms
            // for 16 MB of log here): sync them now, so the writer's sync is
            // of the few pages it copies.
            Ok((wal_pages, _))
                if wal_pages > WAL_RESTART_PAGES
                    && db_file.is_none_or(|f| f.sync_data().is_ok()) =>
            {
                finish.store(true, Ordering::Relaxed);
            }
            _ => {}
        }
        if done {
            break;
        }
    }
}
