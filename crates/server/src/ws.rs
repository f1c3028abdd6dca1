//! The WebSocket of a live session: `/api/sessions/{id}/ws`.
//!
//! Server to page: JSON text frames, each a [`ServerFrame`]: an engine
//! [`rollcoach_engine::Output`] in its serde form (`{"type": "phase", ...}`),
//! `hello` (on attach: the session id, protocol, clock `now` and `speed`),
//! `sync` (before each batch of outputs: the session clock at that moment) or
//! `error` (an input that did not fit, with why). Page to server: one
//! [`ClientFrame`] per text frame (`{"type": "pain", "kind": "spine"}`): an
//! engine input other than `timeout`, which only the server's clock sends.

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::oneshot;

use crate::live::{self, Command, LiveHandle, frame};
use crate::wire::{ClientFrame, ServerFrame};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/sessions/{id}/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !crate::lan::origin_ok(&headers, state.inner.config.access) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "WebSocket refused: its Origin is not this server's",
        )
        .into_response();
    }
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let heartbeat = state.inner.config.heartbeat;
    let Some(handle) = state.live_handle(id) else {
        return ApiError::not_found(format!(
            "session {id} is not live; GET /api/sessions/{id} shows how it ended"
        ))
        .into_response();
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return ApiError::bad_request(format!(
                "expected a WebSocket upgrade: {}",
                e.body_text()
            ))
            .into_response();
        }
    };
    // Pages send tiny frames. tungstenite zero-fills its whole read buffer
    // (128 KiB by default) on every read, so the default made every attached
    // page cost about 130 KB of resident memory; 1 KiB reads a few bytes of
    // input at once and grows for a larger frame.
    ws.max_message_size(4096)
        .read_buffer_size(1024)
        .on_upgrade(move |socket| attached(socket, handle, heartbeat))
}

async fn attached(mut socket: WebSocket, handle: LiveHandle, heartbeat: std::time::Duration) {
    let (frames_tx, mut frames) = live::client_channel();
    let (reply_tx, reply_rx) = oneshot::channel();
    if handle
        .tx
        .send(Command::Attach {
            frames: frames_tx,
            reply: reply_tx,
        })
        .await
        .is_err()
    {
        let _ = socket
            .send(Message::Text(frame(&ServerFrame::Error {
                error: "the session is no longer live".into(),
            })))
            .await;
        return;
    }
    let Ok(client) = reply_rx.await else { return };
    let mut ping = tokio::time::interval(heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = ping.tick() => {
                // Silent for three beats: the page is gone even if its
                // connection is not closed (a locked phone), so detach and let
                // the grace period pause the session.
                if last_heard.elapsed() > heartbeat * 3 {
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            out = frames.recv() => match out {
                Some(f) => {
                    if socket.send(Message::Text(f)).await.is_err() {
                        break;
                    }
                }
                // The session dropped this page (too slow) or ended its task.
                None => break,
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    last_heard = tokio::time::Instant::now();
                    let answer = match ClientFrame::parse(&text) {
                        Ok(input) => {
                            let (tx, rx) = oneshot::channel();
                            let input = input.into();
                            if handle.tx.send(Command::Input { input, reply: tx }).await.is_err() {
                                break;
                            }
                            rx.await.unwrap_or_else(|_| Err("the session is no longer live".into()))
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = answer {
                        let f = frame(&ServerFrame::Error { error: e });
                        if socket.send(Message::Text(f)).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                // Pongs (and pings, which axum answers) show the page is there;
                // binary frames mean nothing here.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
        }
    }
    let _ = handle.tx.send(Command::Detach { client }).await;
}
