//! The store on its own thread: rusqlite is synchronous, so every call runs
//! there, one at a time, and the async side awaits the answer.

use rollcoach_store::Store;
use tokio::sync::oneshot;

use crate::ApiError;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A handle to the store thread.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: std::sync::mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Moves the store to a new thread that serves calls until every handle is gone.
    pub(crate) fn spawn(mut store: Store) -> std::io::Result<StoreHandle> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rollcoach-store".into())
            .spawn(move || {
                for job in rx {
                    job(&mut store);
                }
            })?;
        Ok(StoreHandle { tx })
    }

    /// Runs `f` on the store thread and returns its result.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Box::new(move |store: &mut Store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| ApiError::internal("the store thread has stopped"))?;
        rx.await
            .map_err(|_| ApiError::internal("the store thread failed during a call"))
    }
}
