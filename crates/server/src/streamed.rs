//! Long answers (the export, the whole history) streamed as they are
//! written: a producer on a thread of its own (the backend gives it its
//! own reads: SQLite, a reader connection), writes into a small bounded
//! channel, and the body sends each chunk as it comes. The server holds a
//! few chunks of the answer at a time, not the answer; a client that reads
//! slowly slows the producer, and one that goes away stops it. After a long
//! answer the allocator's free pages go back to the system
//! ([`crate::memory`]), so the server returns to its idle size.
//!
//! Each running answer holds a thread and a store handle, so only so many
//! run at once ([`Streams`]: [`crate::ConnLimits::max_streams`], and
//! [`crate::ConnLimits::max_streams_per_person`] for one person); one more
//! is answered 503 with `Retry-After`. A client that stops reading is cut
//! off after [`crate::ConnLimits::write_timeout`] (the connection's writes
//! time out, the body is dropped, the producer's next send fails and its
//! thread ends), so unread downloads do not pile up (issue 24, finding 5).

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rollcoach_store::{PersonId, Records, TransferError};
use tokio::sync::mpsc;

use crate::memory::TrimAfter;
use crate::{ApiError, AppState};

/// Bytes gathered before a chunk goes to the body.
const CHUNK: usize = 64 * 1024;
/// Chunks the channel holds before the producer waits for the client.
const CHUNKS_AHEAD: usize = 4;

type Chunk = Result<Bytes, io::Error>;

/// Seconds a client refused for too many streamed answers is told to wait.
const RETRY_AFTER_S: u32 = 5;

/// The streamed answers running, in all and by person.
pub(crate) struct Streams {
    max: usize,
    per_person: usize,
    running: Mutex<(usize, HashMap<PersonId, usize>)>,
}

/// A running streamed answer's place; dropping it frees the place.
pub(crate) struct StreamPlace {
    streams: Arc<Streams>,
    person: PersonId,
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut running = self.streams.lock();
        running.0 -= 1;
        if let Some(n) = running.1.get_mut(&self.person) {
            *n -= 1;
            if *n == 0 {
                running.1.remove(&self.person);
            }
        }
    }
}

impl Streams {
    pub(crate) fn new(limits: &crate::ConnLimits) -> Streams {
        Streams {
            max: limits.max_streams,
            per_person: limits.max_streams_per_person,
            running: Mutex::new((0, HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, HashMap<PersonId, usize>)> {
        // Each update is whole; a poisoned lock still holds true counts.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one more streamed answer for `person`, or why not.
    fn enter(self: &Arc<Streams>, person: &PersonId) -> Result<StreamPlace, String> {
        let mut running = self.lock();
        let mine = running.1.get(person).copied().unwrap_or(0);
        let why = if mine >= self.per_person {
            Some(format!(
                "this person already has {mine} downloads (export or the whole history) being sent, \
                 at most {} at once: finish or cancel one, then try again",
                self.per_person
            ))
        } else if running.0 >= self.max {
            Some(format!(
                "the server is sending {} downloads (export or the whole history), at most {} at \
                 once: try again in a few seconds",
                running.0, self.max
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(why);
        }
        running.0 += 1;
        *running.1.entry(person.clone()).or_insert(0) += 1;
        Ok(StreamPlace {
            streams: Arc::clone(self),
            person: person.clone(),
        })
    }
}

/// A [`Write`] into the body's channel, from a thread that may block.
struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// What writes a streamed answer with a store.
pub(crate) type Produce =
    Box<dyn FnOnce(&dyn Records, &mut dyn Write) -> Result<(), TransferError> + Send>;

/// Runs `produce` for `person` with a store handle of its own on a thread
/// of its own (on the reader thread when the backend has no second handle)
/// and answers with what it writes, as JSON, streamed; or 503 when too many
/// run already ([`Streams`]). A failure before the first byte is an error
/// answer; after it, the body is cut short (the client sees a broken
/// transfer, never a truncated document that looks whole).
pub(crate) async fn json_stream(
    state: &AppState,
    person: &PersonId,
    attachment: Option<&'static str>,
    produce: Produce,
) -> Result<Response, ApiError> {
    let place = match state.inner.streams.enter(person) {
        Ok(place) => Arc::new(place),
        Err(why) => return Ok(crate::error::busy(why, RETRY_AFTER_S)),
    };
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHUNKS_AHEAD);
    let records = state.inner.store.records();
    let run = move |store: &dyn Records, tx: &mpsc::Sender<Chunk>| {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = produce(store, &mut out).and_then(|()| {
            out.flush().map_err(|source| TransferError::Io {
                what: "the answer",
                source,
            })
        });
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    };
    // A thread of its own: a slow client holds it, not a pool thread.
    let tx2 = tx.clone();
    let thread_place = Arc::clone(&place);
    let spawned = std::thread::Builder::new()
        .name("rollcoach-stream".into())
        .spawn(move || {
            run(records.as_ref(), &tx2);
            // The backend's resources go back before the channel closes, so
            // the trim when the body ends finds their memory free.
            drop(records);
            drop(tx2);
            drop(thread_place);
        });
    if let Err(e) = spawned {
        return Err(ApiError::internal(format!(
            "could not start a thread for the answer: {e}"
        )));
    }
    drop(tx);
    let first = match rx.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => return Err(ApiError::internal(e.to_string())),
        None => return Err(ApiError::internal("the answer could not be produced")),
    };
    // The trim runs when the body is dropped: every chunk sent and freed,
    // or the client gone.
    let trim = TrimAfter {
        bytes: first.len() as u64,
    };
    // The place is held until the body is done with too (sent or dropped).
    let rest =
        futures_util::stream::unfold((rx, trim, place), |(mut rx, mut trim, place)| async move {
            let chunk = rx.recv().await?;
            if let Ok(bytes) = &chunk {
                trim.bytes += bytes.len() as u64;
            }
            Some((chunk, (rx, trim, place)))
        });
    let body = futures_util::stream::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, io::Error>(first) }),
        rest,
    );
    let mut resp = Body::from_stream(body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(name) = attachment {
        headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    }
    Ok(resp)
}
