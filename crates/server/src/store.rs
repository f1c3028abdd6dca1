//! The records store for the async side: a [`Records`] answers many
//! requests at once (`Send + Sync`, shared in an `Arc`), and its calls
//! block, so each runs on tokio's blocking pool while the request awaits
//! it. What a backend does to serve many callers well (SQLite: a writer
//! lock, reader connections, WAL checkpoints) is the backend's own.
//!
//! The person a request is answered for is found once, by the guard
//! ([`crate::lan::guard`]), and reaches handlers as [`Person`]: every
//! records call takes it, so a handler that forgets it does not compile.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rollcoach_store::{PersonId, Records};

use crate::ApiError;
use crate::lan::Caller;

/// A handle to the records, cheap to clone.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    records: Arc<dyn Records>,
}

impl StoreHandle {
    pub(crate) fn new(records: Arc<dyn Records>) -> StoreHandle {
        StoreHandle { records }
    }

    /// The records, for a thread of the caller's own (a streamed answer).
    pub(crate) fn records(&self) -> Arc<dyn Records> {
        self.records.clone()
    }

    /// Runs `f` on the blocking pool and returns what it gives.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Records) -> R + Send + 'static,
    {
        let records = self.records.clone();
        tokio::task::spawn_blocking(move || f(records.as_ref()))
            .await
            .map_err(|_| ApiError::internal("the store failed during a call"))
    }

    /// [`StoreHandle::call`] of a call that only reads.
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Records) -> R + Send + 'static,
    {
        self.call(f).await
    }
}

/// The person a request is answered for: the owner for the terminal's
/// token, a paired device's person for a device.
#[derive(Debug, Clone)]
pub(crate) struct Person(pub PersonId);

impl<S: Send + Sync> FromRequestParts<S> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(caller) => Ok(Person(caller.person().clone())),
            // The guard lets no request without a credential through.
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "this request holds no credential this server accepts",
            )),
        }
    }
}
