//! The store on its own thread: rusqlite is synchronous, so every call runs
//! there and the async side awaits the answer.
//!
//! Group commit: the thread takes every call that queued up while it was busy
//! and runs them in one transaction ([`Store::batch`]), answering each caller
//! only after the commit. A thousand live sessions logging their inputs then
//! pay one commit per batch instead of one each, and an input is still in the
//! log before its caller applies it.
//!
//! Reads that may take long (history, export) go to a third connection on a
//! thread of its own ([`StoreHandle::read`]), so they never wait in front of
//! a logged input either.
//!
//! Checkpoints: SQLite's automatic ones would sync the WAL and the database
//! on the logging path, so a second connection on a thread of its own copies
//! the WAL back (`PASSIVE`, never waiting for the writer). Under sustained
//! writes that alone never lets the WAL restart from its beginning: SQLite
//! restarts it only when a write transaction begins with every frame copied,
//! and the writer always adds frames while the checkpointer copies. So once
//! the WAL passes [`WAL_RESTART_PAGES`], the checkpointer asks the store
//! thread to finish the job: right after its next commit, with no frame added
//! since, a passive checkpoint on the writer's own connection copies the few
//! frames the checkpointer missed, and the next commit restarts the WAL. The
//! checkpointer first syncs the database file itself, so what the store
//! thread syncs is only what it copied. That costs the writer a millisecond
//! or two once per 16 MB of log. (A truncating checkpoint, which waits for
//! the writer and then copies what accumulated meanwhile, held it up for
//! ~100 ms, BENCHMARKS.md; it stays as the last resort past
//! [`WAL_PAGES_LIMIT`].)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rollcoach_store::Store;
use tokio::sync::oneshot;

use crate::ApiError;

/// What a call becomes once its batch is committed (`Ok`) or rolled back.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut Store) -> Reply + Send>;

/// Most calls in one transaction: bounds how long the first waits.
const MAX_BATCH: usize = 512;
/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Past this many WAL pages (16 MB at 4 KiB) the store thread finishes a
/// checkpoint so that the WAL restarts.
const WAL_RESTART_PAGES: i64 = 4_096;
/// How long the store thread waits for a moment when no call is queued
/// before it finishes a checkpoint anyway.
const FINISH_WITHIN: Duration = Duration::from_secs(1);
/// Past this many pages (64 MB) the restart has not happened (another
/// process holds an old snapshot, say): the checkpointer truncates the WAL,
/// holding up the writer while it waits for it.
const WAL_PAGES_LIMIT: i64 = 16_384;

/// A read-only call, run on the reader thread.
type ReadJob = Box<dyn FnOnce(&Store) + Send>;

/// A handle to the store thread (and, for a store in a file, the reader).
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: mpsc::Sender<Job>,
    reader: Option<mpsc::Sender<ReadJob>>,
}

impl StoreHandle {
    /// Moves the store to a new thread that serves calls until every handle is gone.
    pub(crate) fn spawn(mut store: Store) -> std::io::Result<StoreHandle> {
        let finish = Arc::new(AtomicBool::new(false));
        let checkpointer = spawn_checkpointer(&store, Arc::clone(&finish))?;
        let reader = spawn_reader(&store)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rollcoach-store".into())
            .spawn(move || {
                // Dropped when this thread ends: tells the checkpointer to finish.
                let _checkpointer = checkpointer;
                let mut next = None;
                let mut asked_at: Option<Instant> = None;
                loop {
                    let first = match next.take() {
                        Some(job) => job,
                        None => match rx.recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        },
                    };
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let mut replies = Vec::with_capacity(jobs.len());
                    let committed =
                        store.batch(|s| replies.extend(jobs.into_iter().map(|job| job(s))));
                    let result = committed.map_err(|e| e.to_string());
                    for reply in replies {
                        reply(result.clone());
                    }
                    // After the replies, and only while no call waits: a
                    // checkpoint never delays an answer. A failure is
                    // retried when the checkpointer asks again.
                    if finish.load(Ordering::Relaxed) {
                        let asked = *asked_at.get_or_insert_with(Instant::now);
                        let waiting = match rx.try_recv() {
                            Ok(job) => {
                                next = Some(job);
                                true
                            }
                            Err(TryRecvError::Empty) => false,
                            Err(TryRecvError::Disconnected) => break,
                        };
                        // Never busy for this long: finish anyway.
                        if !waiting || asked.elapsed() > FINISH_WITHIN {
                            let _ = store.checkpoint();
                            asked_at = None;
                            finish.store(false, Ordering::Relaxed);
                        }
                    }
                }
            })?;
        Ok(StoreHandle { tx, reader })
    }

    /// Runs `f`, which only reads, on the reader thread: a long read (ten
    /// years of history, an export) never holds up the inputs that live
    /// sessions log. It sees everything committed before it starts, which
    /// includes every [`StoreHandle::call`] that has answered. A store in
    /// memory has no second connection: `f` runs on the store thread.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&Store) -> R + Send + 'static,
    {
        let Some(reader) = &self.reader else {
            return self.call(move |store: &mut Store| f(store)).await;
        };
        let (tx, rx) = oneshot::channel();
        reader
            .send(Box::new(move |store: &Store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| ApiError::internal("the store's reader thread has stopped"))?;
        rx.await
            .map_err(|_| ApiError::internal("the store's reader thread failed during a call"))
    }

    /// Runs `f` on the store thread and returns its result once what it
    /// wrote is committed.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Box::new(move |store: &mut Store| {
                let value = f(store);
                Box::new(move |committed: Result<(), String>| {
                    let _ = tx.send(committed.map(|()| value));
                }) as Reply
            }))
            .map_err(|_| ApiError::internal("the store thread has stopped"))?;
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(ApiError::internal(format!(
                "the store could not commit: {e}"
            ))),
            Err(_) => Err(ApiError::internal("the store thread failed during a call")),
        }
    }
}

/// Another connection to the store's file; `None` in memory (a new
/// connection would see another, empty database) or if it cannot be opened.
fn another_connection(store: &Store) -> Option<Store> {
    if store.path().as_os_str() == ":memory:" {
        return None;
    }
    Store::open(store.path()).ok()
}

/// For a store in a file: a second connection on a thread of its own that
/// serves [`StoreHandle::read`] until every handle is gone.
fn spawn_reader(store: &Store) -> std::io::Result<Option<mpsc::Sender<ReadJob>>> {
    let Some(reader) = another_connection(store) else {
        return Ok(None);
    };
    let (tx, rx) = mpsc::channel::<ReadJob>();
    std::thread::Builder::new()
        .name("rollcoach-read".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job(&reader);
            }
        })?;
    Ok(Some(tx))
}

/// For a store in a file: turns its automatic checkpoints off and starts a
/// thread that checkpoints from its own connection until the returned sender
/// is dropped, setting `finish` when the store thread should finish one. In
/// memory, or if the second connection cannot be had, the store keeps
/// SQLite's automatic checkpoints and no thread is started.
fn spawn_checkpointer(
    store: &Store,
    finish: Arc<AtomicBool>,
) -> std::io::Result<Option<mpsc::Sender<()>>> {
    let Some(second) = another_connection(store) else {
        return Ok(None);
    };
    if store.disable_auto_checkpoint().is_err() {
        return Ok(None);
    }
    // Only to sync it (fsync acts on the file, whichever descriptor asks).
    let db_file = std::fs::File::open(store.path()).ok();
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("rollcoach-checkpoint".into())
        .spawn(move || {
            loop {
                let done = matches!(
                    stopped.recv_timeout(CHECKPOINT_EVERY),
                    Err(RecvTimeoutError::Disconnected)
                );
                // While the store thread has not yet finished the last one,
                // a checkpoint here would sync the WAL under its feet.
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
                    // The checkpoint that completes the copy syncs the
                    // database file, and with it every page the passive ones
                    // wrote (~10 ms for 16 MB of log here): sync them now, so
                    // the store thread's sync is of the few pages it copies.
                    Ok((wal_pages, _))
                        if wal_pages > WAL_RESTART_PAGES
                            && db_file.as_ref().is_none_or(|f| f.sync_data().is_ok()) =>
                    {
                        finish.store(true, Ordering::Relaxed);
                    }
                    _ => {}
                }
                if done {
                    break;
                }
            }
        })?;
    Ok(Some(stop))
}
