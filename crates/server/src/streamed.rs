//! Long answers (the export, the whole history) streamed as they are
//! written: a producer on a thread of its own, with a store handle of its
//! own ([`rollcoach_store::Store::reader`]), writes into a small bounded
//! channel, and the body sends each chunk as it comes. The server holds a
//! few chunks of the answer at a time, not the answer; a client that reads
//! slowly slows the producer, and one that goes away stops it. After a long
//! answer the allocator's free pages go back to the system
//! ([`crate::memory`]), so the server returns to its idle size.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rollcoach_store::{Store, TransferError};
use tokio::sync::mpsc;

use crate::memory::TrimAfter;
use crate::{ApiError, AppState};

/// Bytes gathered before a chunk goes to the body.
const CHUNK: usize = 64 * 1024;
/// Chunks the channel holds before the producer waits for the client.
const CHUNKS_AHEAD: usize = 4;

type Chunk = Result<Bytes, io::Error>;

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
    Box<dyn FnOnce(&dyn Store, &mut dyn Write) -> Result<(), TransferError> + Send>;

/// Runs `produce` with a store handle of its own on a thread of its own (on
/// the reader thread when the backend has no second handle) and answers
/// with what it writes, as JSON, streamed. A failure before the first byte
/// is an error answer; after it, the body is cut short (the client sees a
/// broken transfer, never a truncated document that looks whole).
pub(crate) async fn json_stream(
    state: &AppState,
    attachment: Option<&'static str>,
    produce: Produce,
) -> Result<Response, ApiError> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHUNKS_AHEAD);
    let store = state.inner.store.clone();
    tokio::spawn(async move {
        let _ = store
            .read(move |s: &dyn Store| {
                let run = move |store: &dyn Store, tx: &mpsc::Sender<Chunk>| {
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
                match s.reader() {
                    // Its own connection and thread: the reader thread stays free.
                    Ok(Some(own)) => {
                        let tx2 = tx.clone();
                        let spawned = std::thread::Builder::new()
                            .name("rollcoach-stream".into())
                            .spawn(move || {
                                run(own.as_ref(), &tx2);
                                // The connection (and its page cache) goes
                                // before the channel closes, so the trim
                                // when the body ends finds its memory free.
                                drop(own);
                                drop(tx2);
                            });
                        if let Err(e) = spawned {
                            let _ = tx.blocking_send(Err(e));
                        }
                    }
                    _ => run(s, &tx),
                }
            })
            .await;
    });
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
    let rest = futures_util::stream::unfold((rx, trim), |(mut rx, mut trim)| async move {
        let chunk = rx.recv().await?;
        if let Ok(bytes) = &chunk {
            trim.bytes += bytes.len() as u64;
        }
        Some((chunk, (rx, trim)))
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
