//! The store on its own thread: a [`Store`] is synchronous, so every call
//! runs there and the async side awaits the answer.
//!
//! Group commit: the thread takes every call that queued up while it was busy
//! and runs them as one unit ([`Store::transaction`]), answering each caller
//! only after it is committed. A thousand live sessions logging their inputs
//! then pay one commit per batch instead of one each, and an input is still
//! in the log before its caller applies it.
//!
//! Reads that may take long (history, export) go to a second handle
//! ([`Store::reader`]) on a thread of its own ([`StoreHandle::read`]), so
//! they never wait in front of a logged input either.
//!
//! Housekeeping: the backend may keep its own background work
//! ([`Store::start_housekeeping`]) and ask for a moment on this thread
//! ([`Store::housekeeping_due`]); the thread gives it one between two
//! batches, when no call waits, or after [`HOUSEKEEPING_WITHIN`] if calls
//! keep coming.

use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use rollcoach_store::Store;
use tokio::sync::oneshot;

use crate::ApiError;

/// What a call becomes once its batch is committed (`Ok`) or undone.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut dyn Store) -> Reply + Send>;

/// Most calls in one transaction: bounds how long the first waits.
const MAX_BATCH: usize = 512;
/// How long the store thread waits for a moment when no call is queued
/// before it gives the backend its housekeeping anyway.
const HOUSEKEEPING_WITHIN: Duration = Duration::from_secs(1);

/// A read-only call, run on the reader thread.
type ReadJob = Box<dyn FnOnce(&dyn Store) + Send>;

/// A handle to the store thread (and, when the backend has a second handle,
/// the reader).
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: mpsc::Sender<Job>,
    reader: Option<mpsc::Sender<ReadJob>>,
}

impl StoreHandle {
    /// Moves the store to a new thread that serves calls until every handle is gone.
    pub(crate) fn spawn(mut store: Box<dyn Store>) -> std::io::Result<StoreHandle> {
        // Without its housekeeping the backend still works, as it would for
        // a short-lived process; nothing to refuse the server for.
        let _ = store.start_housekeeping();
        let reader = spawn_reader(store.as_ref())?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rollcoach-store".into())
            .spawn(move || serve(store.as_mut(), &rx))?;
        Ok(StoreHandle { tx, reader })
    }

    /// Runs `f`, which only reads, on the reader thread: a long read (ten
    /// years of history, an export) never holds up the inputs that live
    /// sessions log. It sees everything committed before it starts, which
    /// includes every [`StoreHandle::call`] that has answered. A backend
    /// without a second handle (a store in memory) runs `f` on the store
    /// thread.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> R + Send + 'static,
    {
        let Some(reader) = &self.reader else {
            return self.call(move |store: &mut dyn Store| f(store)).await;
        };
        let (tx, rx) = oneshot::channel();
        reader
            .send(Box::new(move |store: &dyn Store| {
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
        F: FnOnce(&mut dyn Store) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Box::new(move |store: &mut dyn Store| {
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

/// The store thread: batches of queued calls, each batch one transaction,
/// and the backend's housekeeping between them.
fn serve(store: &mut dyn Store, rx: &mpsc::Receiver<Job>) {
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
        let mut batch = Some(jobs);
        let committed = store.transaction(&mut |s| {
            if let Some(jobs) = batch.take() {
                replies.extend(jobs.into_iter().map(|job| job(&mut *s)));
            }
            Ok(())
        });
        let result = committed.map_err(|e| e.to_string());
        for reply in replies {
            reply(result.clone());
        }
        // After the replies, and only while no call waits: housekeeping
        // never delays an answer. A failure is retried when the backend
        // asks again.
        if store.housekeeping_due() {
            let asked = *asked_at.get_or_insert_with(Instant::now);
            let waiting = match rx.try_recv() {
                Ok(job) => {
                    next = Some(job);
                    true
                }
                Err(TryRecvError::Empty) => false,
                Err(TryRecvError::Disconnected) => break,
            };
            // Never busy for this long: do it anyway.
            if !waiting || asked.elapsed() > HOUSEKEEPING_WITHIN {
                let _ = store.housekeep();
                asked_at = None;
            }
        }
    }
}

/// When the backend has a second handle: a thread of its own that serves
/// [`StoreHandle::read`] with it until every handle is gone.
fn spawn_reader(store: &dyn Store) -> std::io::Result<Option<mpsc::Sender<ReadJob>>> {
    // A second handle that cannot be had leaves the reads on the store thread.
    let Some(reader) = store.reader().ok().flatten() else {
        return Ok(None);
    };
    let (tx, rx) = mpsc::channel::<ReadJob>();
    std::thread::Builder::new()
        .name("rollcoach-read".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job(reader.as_ref());
            }
        })?;
    Ok(Some(tx))
}
