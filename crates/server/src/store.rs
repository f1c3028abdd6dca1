//! The store on its own thread: rusqlite is synchronous, so every call runs
//! there and the async side awaits the answer.
//!
//! Group commit: the thread takes every call that queued up while it was busy
//! and runs them in one transaction ([`Store::batch`]), answering each caller
//! only after the commit. A thousand live sessions logging their inputs then
//! pay one commit per batch instead of one each, and an input is still in the
//! log before its caller applies it. The WAL is checkpointed by a second
//! connection on a thread of its own, so a checkpoint never sits in front of
//! a logged input.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rollcoach_store::Store;
use tokio::sync::oneshot;

use crate::ApiError;

/// What a call becomes once its batch is committed (`Ok`) or rolled back.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut Store) -> Reply + Send>;

/// Most calls in one transaction: bounds how long the first waits.
const MAX_BATCH: usize = 512;
/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Under sustained writes a passive checkpoint never catches up with the
/// writer and the WAL keeps growing (107 MB in a minute of 1,000 sessions,
/// BENCHMARKS.md): past this many pages (64 MB at 4 KiB) the checkpointer
/// truncates it, briefly holding up the writer, about once per 64 MB.
const WAL_PAGES_LIMIT: i64 = 16_384;

/// A handle to the store thread.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Moves the store to a new thread that serves calls until every handle is gone.
    pub(crate) fn spawn(mut store: Store) -> std::io::Result<StoreHandle> {
        let checkpointer = spawn_checkpointer(&store)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rollcoach-store".into())
            .spawn(move || {
                // Dropped when this thread ends: tells the checkpointer to finish.
                let _checkpointer = checkpointer;
                while let Ok(first) = rx.recv() {
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
                }
            })?;
        Ok(StoreHandle { tx })
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

/// For a store in a file: turns its automatic checkpoints off and starts a
/// thread that checkpoints from its own connection until the returned sender
/// is dropped. In memory, or if the second connection cannot be had, the
/// store keeps SQLite's automatic checkpoints and no thread is started.
fn spawn_checkpointer(store: &Store) -> std::io::Result<Option<mpsc::Sender<()>>> {
    if store.path().as_os_str() == ":memory:" {
        return Ok(None);
    }
    let Ok(second) = Store::open(store.path()) else {
        return Ok(None);
    };
    if store.disable_auto_checkpoint().is_err() {
        return Ok(None);
    }
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("rollcoach-checkpoint".into())
        .spawn(move || {
            loop {
                let done = matches!(
                    stopped.recv_timeout(CHECKPOINT_EVERY),
                    Err(RecvTimeoutError::Disconnected)
                );
                // A failed checkpoint is retried next time; the WAL keeps
                // everything meanwhile.
                if let Ok((wal_pages, _)) = second.checkpoint()
                    && wal_pages > WAL_PAGES_LIMIT
                {
                    let _ = second.checkpoint_truncate();
                }
                if done {
                    break;
                }
            }
        })?;
    Ok(Some(stop))
}
