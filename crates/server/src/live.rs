//! Live sessions: one engine per session, driven by a tokio task.
//!
//! The task owns the [`Session`]. It sleeps until the engine's next deadline,
//! computed as an absolute instant from the session's start (scaled by the
//! speed), so timer lateness never accumulates. Every input (the person's,
//! the deadline's `Timeout`, and the server's own `Pause` when no page has been
//! attached for the grace period) is appended to the store's event log before
//! the engine applies it, so replaying the log reproduces the session.
//!
//! Pages attach over the WebSocket and receive a `hello` frame and
//! [`Session::current`] first, then every output as it happens, each batch
//! preceded by a `sync` frame with the session's clock.

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use rollcoach_engine::{Input, Output, Session, Stage, Time};
use rollcoach_store::SessionId;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::store::StoreHandle;

/// One frame of JSON text for the pages.
pub(crate) type Frame = Utf8Bytes;

/// Frames a page may have waiting before it is dropped as too slow (it
/// reconnects and resynchronises from `current`).
const CLIENT_QUEUE: usize = 256;

/// Maps real time to the session's engine time, scaled by the speed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionClock {
    start_instant: Instant,
    start: Time,
    speed: f64,
}

impl SessionClock {
    /// A clock whose engine time `start` is the moment the wall clock read
    /// `start` (ms since the epoch), even if the session was set up (recorded
    /// in the store) after that: engine time `t` then falls at wall time
    /// `start + (t - start) / speed`, so a client can check each cue's timing
    /// against its own clock.
    pub(crate) fn new(start: Time, speed: f64) -> SessionClock {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let since_start = wall.saturating_sub(Duration::from_millis(start.0));
        let now = Instant::now();
        // A wall clock stepped far back or forth since `start`: keep now.
        let start_instant = if since_start < Duration::from_secs(60) {
            now.checked_sub(since_start).unwrap_or(now)
        } else {
            now
        };
        SessionClock {
            start_instant,
            start,
            speed,
        }
    }

    /// The session's engine time now.
    pub(crate) fn now(&self) -> Time {
        let real = self.start_instant.elapsed().as_secs_f64();
        self.start.plus_ms((real * 1000.0 * self.speed) as u64)
    }

    /// The real instant at which the engine time `t` comes.
    pub(crate) fn instant_for(&self, t: Time) -> Instant {
        let engine_ms = t.since(self.start) as f64;
        self.start_instant + Duration::from_secs_f64(engine_ms / 1000.0 / self.speed)
    }
}

/// What a page or the API asks of a live session.
pub(crate) enum Command {
    /// Log and apply a person's input; answers whether the engine took it.
    Input {
        input: Input,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// A page attaches: it gets `hello` and `current` first, then every output.
    Attach {
        frames: mpsc::Sender<Frame>,
        reply: oneshot::Sender<u64>,
    },
    /// A page went away.
    Detach { client: u64 },
    /// A snapshot for `GET /api/sessions/{id}`.
    Snapshot {
        reply: oneshot::Sender<serde_json::Value>,
    },
}

/// A handle to a live session's task.
#[derive(Clone)]
pub(crate) struct LiveHandle {
    pub(crate) tx: mpsc::Sender<Command>,
}

/// Hooks the task calls when it is done.
pub(crate) struct LiveParams {
    pub(crate) id: SessionId,
    pub(crate) protocol_id: String,
    pub(crate) session: Session,
    pub(crate) clock: SessionClock,
    pub(crate) store: StoreHandle,
    pub(crate) grace: Duration,
    pub(crate) linger: Duration,
    pub(crate) abandon: Duration,
    /// Called once, when the task ends, to take the session off the live map.
    pub(crate) on_exit: Box<dyn FnOnce() + Send>,
}

struct Client {
    id: u64,
    frames: mpsc::Sender<Frame>,
}

struct Live {
    id: SessionId,
    protocol_id: String,
    session: Session,
    clock: SessionClock,
    store: StoreHandle,
    grace: Duration,
    linger: Duration,
    abandon: Duration,
    seq: u32,
    clients: Vec<Client>,
    next_client: u64,
    /// When the last page went away (or the session started without one).
    alone_since: Option<Instant>,
    /// The engine has ended the session.
    ended: bool,
    /// The store failed: the session can no longer record inputs truthfully.
    broken: Option<String>,
    /// Outputs sent before any page attached (the session's opening), given
    /// whole to the first page instead of the `current` summary.
    backlog: Option<Vec<Frame>>,
}

/// Starts the task of a session just created (its first outputs still queued).
pub(crate) fn spawn(params: LiveParams) -> LiveHandle {
    let (tx, rx) = mpsc::channel(64);
    let live = Live {
        id: params.id,
        protocol_id: params.protocol_id,
        session: params.session,
        clock: params.clock,
        store: params.store,
        grace: params.grace,
        linger: params.linger,
        abandon: params.abandon,
        seq: 0,
        clients: Vec::new(),
        next_client: 1,
        alone_since: Some(Instant::now()),
        ended: false,
        broken: None,
        backlog: Some(Vec::new()),
    };
    let on_exit = params.on_exit;
    tokio::spawn(async move {
        live.run(rx).await;
        on_exit();
    });
    LiveHandle { tx }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Like [`sleep_until_opt`], to the microsecond rather than to tokio's 1 ms tick.
async fn precise_sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => crate::timer::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Live {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        // The outputs of Session::new (a refusal by the injury log, the first
        // question): nobody is attached yet; `current` gives them on attach.
        self.drain().await;
        loop {
            let deadline = self.session.next_deadline();
            let deadline_at = deadline.map(|t| self.clock.instant_for(t));
            let alone_at = self.alone_since;
            // Rolling with nobody watching: pause after the grace period.
            let grace_at = alone_at
                .filter(|_| {
                    !self.ended
                        && self.session.stage() == Stage::Rolling
                        && !self.session.is_paused()
                })
                .map(|t| t + self.grace);
            // Ended, or broken, with nobody watching: leave after the linger period.
            let linger_at = alone_at
                .filter(|_| self.ended || self.broken.is_some())
                .map(|t| t + self.linger);
            // Not ended, and nobody has watched for a long time: left.
            let abandon_at = alone_at
                .filter(|_| !self.ended && self.broken.is_none())
                .map(|t| t + self.abandon);
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                () = precise_sleep_until_opt(deadline_at) => {
                    // Pass the deadline itself as `now`: the engine then starts
                    // the next phase exactly there, so lateness never accumulates.
                    if let Some(t) = deadline {
                        let _ = self.apply(Input::Timeout, t.max(self.session.last_time())).await;
                    }
                }
                () = sleep_until_opt(grace_at) => {
                    let now = self.now();
                    let _ = self.apply(Input::Pause, now).await;
                }
                () = sleep_until_opt(linger_at) => break,
                () = sleep_until_opt(abandon_at) => self.abandoned().await,
            }
        }
    }

    fn now(&self) -> Time {
        // Never before the last input, so the engine never sees time go back.
        self.clock.now().max(self.session.last_time())
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Input { input, reply } => {
                let now = self.now();
                let result = self.apply(input, now).await;
                let _ = reply.send(result);
            }
            Command::Attach { frames, reply } => {
                let id = self.next_client;
                self.next_client += 1;
                let now = self.now();
                let hello = frame(&json!({
                    "type": "hello",
                    "session": self.id.0,
                    "protocol": self.protocol_id,
                    "now": now,
                    "speed": self.clock.speed,
                }));
                let mut batch = match self.backlog.take() {
                    // The opening's own `sync` frames carry older times: the
                    // hello after them sets the page's clock to now.
                    Some(mut opening) => {
                        opening.push(hello);
                        opening
                    }
                    None => {
                        let mut batch = vec![hello];
                        batch.extend(self.session.current(now).iter().map(frame));
                        batch
                    }
                };
                if let Some(err) = &self.broken {
                    batch.push(frame(&json!({"type": "error", "error": err})));
                }
                let client = Client { id, frames };
                if batch.into_iter().all(|f| client.frames.try_send(f).is_ok()) {
                    self.clients.push(client);
                    self.alone_since = None;
                }
                let _ = reply.send(id);
            }
            Command::Detach { client } => {
                self.clients.retain(|c| c.id != client);
                if self.clients.is_empty() && self.alone_since.is_none() {
                    self.alone_since = Some(Instant::now());
                }
            }
            Command::Snapshot { reply } => {
                let now = self.now();
                let _ = reply.send(json!({
                    "id": self.id.0,
                    "protocol": self.protocol_id,
                    "live": true,
                    "stage": self.session.stage(),
                    "paused": self.session.is_paused(),
                    "reps_done": self.session.reps_done(),
                    "reps_target": self.session.reps_target(),
                    "attached": self.clients.len(),
                    "now": now,
                    "current": self.session.current(now),
                }));
            }
        }
    }

    /// Applies `input` at `now`, after any deadline that passed before it
    /// (a page's input can win the race against the timer).
    async fn apply(&mut self, input: Input, now: Time) -> Result<(), String> {
        if input != Input::Timeout {
            while let Some(deadline) = self.session.next_deadline().filter(|d| *d <= now) {
                self.apply_one(Input::Timeout, deadline).await?;
            }
        }
        self.apply_one(input, now).await
    }

    /// Logs `input`, then applies it and sends what it produced.
    async fn apply_one(&mut self, input: Input, now: Time) -> Result<(), String> {
        if let Some(err) = &self.broken {
            return Err(err.clone());
        }
        // Check first: an input the engine would reject changes nothing, so
        // it is not recorded as if it had happened.
        self.session.check(input, now).map_err(|e| e.to_string())?;
        let (id, seq, at_ms) = (self.id, self.seq, now.since(self.session.started_at()));
        let logged = self
            .store
            .call(move |s| s.append_event(id, seq, at_ms, &input))
            .await;
        match logged {
            Ok(Ok(())) => self.seq += 1,
            Ok(Err(e)) => return Err(self.break_down(format!("could not record the input: {e}"))),
            Err(e) => return Err(self.break_down(e.message)),
        }
        self.session.handle(input, now).map_err(|e| e.to_string())?;
        self.drain().await;
        Ok(())
    }

    /// Nobody has watched the session for the abandon period: records it as
    /// interrupted, as a crashed driver's session is, and stops taking
    /// inputs; the task leaves after the linger period.
    async fn abandoned(&mut self) {
        let id = self.id;
        let minutes = self.abandon.as_secs() / 60;
        let recorded = self
            .store
            .call(move |s| rollcoach_store::interrupt(s, id))
            .await;
        let why = match recorded {
            Ok(Ok(_)) => format!(
                "nobody attached to this session for {minutes} minutes: it is recorded as interrupted; start a new one"
            ),
            Ok(Err(e)) => {
                format!("the session was left and could not be recorded as interrupted: {e}")
            }
            Err(e) => format!(
                "the session was left and could not be recorded as interrupted: {}",
                e.message
            ),
        };
        self.ended = true;
        self.broken = Some(why);
        self.alone_since = Some(Instant::now());
    }

    /// The store failed: stop taking inputs, tell the pages.
    fn break_down(&mut self, err: String) -> String {
        let err = format!("{err}; the session cannot continue safely, stop rolling");
        self.broken = Some(err.clone());
        self.broadcast(vec![frame(&json!({"type": "error", "error": err}))]);
        if self.clients.is_empty() && self.alone_since.is_none() {
            self.alone_since = Some(Instant::now());
        }
        err
    }

    /// Sends every queued output to the pages; records the end.
    async fn drain(&mut self) {
        let mut batch = Vec::new();
        let mut end = None;
        while let Some(out) = self.session.poll_output() {
            if batch.is_empty() {
                batch.push(frame(&json!({
                    "type": "sync",
                    "now": self.session.last_time(),
                    "speed": self.clock.speed,
                })));
            }
            batch.push(frame(&out));
            if let Output::End {
                outcome,
                message,
                summary,
            } = out
            {
                end = Some((outcome, message, summary));
            }
        }
        self.broadcast(batch);
        if let Some((outcome, message, summary)) = end {
            self.ended = true;
            let (id, at) = (self.id, self.session.last_time());
            let recorded = self
                .store
                .call(move |s| s.finish_session(id, at, &outcome, &message, &summary))
                .await;
            let err = match recorded {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.message),
            };
            if let Some(e) = err {
                self.broadcast(vec![frame(&json!({
                    "type": "error",
                    "error": format!("the session ended but its end could not be recorded: {e}"),
                }))]);
            }
        }
    }

    fn broadcast(&mut self, batch: Vec<Frame>) {
        if batch.is_empty() {
            return;
        }
        if let Some(backlog) = &mut self.backlog {
            backlog.extend(batch);
            return;
        }
        // A page that cannot keep up is dropped; it reconnects and catches up.
        self.clients
            .retain(|c| batch.iter().all(|f| c.frames.try_send(f.clone()).is_ok()));
        if self.clients.is_empty() && self.alone_since.is_none() {
            self.alone_since = Some(Instant::now());
        }
    }
}

/// A JSON frame.
pub(crate) fn frame(value: &impl serde::Serialize) -> Frame {
    // Engine outputs and json! values are plain data: serializing cannot fail.
    Utf8Bytes::from(serde_json::to_string(value).unwrap_or_else(|e| {
        json!({"type": "error", "error": format!("internal: {e}")}).to_string()
    }))
}

/// Queue size of a page's frames.
pub(crate) fn client_channel() -> (mpsc::Sender<Frame>, mpsc::Receiver<Frame>) {
    mpsc::channel(CLIENT_QUEUE)
}
