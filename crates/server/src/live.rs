//! Live sessions: one engine [`Runner`] per session, driven by a tokio task.
//!
//! The task owns the runner. It sleeps until the runner's next deadline,
//! computed as an absolute instant from the session's start (scaled by the
//! speed), so timer lateness never accumulates. Every input (the person's,
//! the deadlines' timeouts, and the server's own `Pause` when no page has been
//! attached for the grace period) is offered to the runner, and the entries
//! it hands back are appended to the store's event log before the runner
//! applies them, so replaying the log reproduces the session.
//!
//! Pages attach over the WebSocket and receive a `hello` frame and
//! [`Runner::current`] first, then every output as it happens, each batch
//! preceded by a `sync` frame with the session's clock (frames: [`crate::wire`]).

use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use rollcoach_engine::{Batch, Input, LogEntry, Output, Runner, Session, Stage, Time};
use rollcoach_store::{SessionEnd, SessionId, SessionOutcome};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::store::StoreHandle;
use crate::wire::ServerFrame;

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
    /// The session, fresh from `Session::with_arc` (no input applied yet).
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
    runner: Runner,
    clock: SessionClock,
    store: StoreHandle,
    grace: Duration,
    linger: Duration,
    abandon: Duration,
    clients: Vec<Client>,
    next_client: u64,
    /// When the last page went away (or the session started without one).
    alone_since: Option<Instant>,
    /// The engine has ended the session (and its end was sent on to the store).
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
        runner: Runner::new(params.session),
        clock: params.clock,
        store: params.store,
        grace: params.grace,
        linger: params.linger,
        abandon: params.abandon,
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
        // question): nobody is attached yet; the backlog gives them on attach.
        self.drain().await;
        loop {
            let deadline = self.runner.next_deadline();
            let deadline_at = deadline.map(|t| self.clock.instant_for(t));
            let alone_at = self.alone_since;
            // Rolling with nobody watching: pause after the grace period.
            let grace_at = alone_at
                .filter(|_| {
                    !self.ended
                        && self.runner.session().stage() == Stage::Rolling
                        && !self.runner.session().is_paused()
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
                    // Advance to the deadline itself: the engine then starts
                    // the next phase exactly there, so lateness never accumulates.
                    if let Some(t) = deadline {
                        let _ = self.advance(t).await;
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
        self.clock.now().max(self.runner.cursor())
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
                let hello = frame(&ServerFrame::Hello {
                    session: self.id.0,
                    protocol: self.protocol_id.clone(),
                    now,
                    speed: self.clock.speed,
                });
                let mut batch = match self.backlog.take() {
                    // The opening's own `sync` frames carry older times: the
                    // hello after them sets the page's clock to now.
                    Some(mut opening) => {
                        opening.push(hello);
                        opening
                    }
                    None => {
                        let mut batch = vec![hello];
                        batch.extend(
                            self.runner
                                .current(now)
                                .into_iter()
                                .map(|o| frame(&ServerFrame::Output(o))),
                        );
                        batch
                    }
                };
                if let Some(err) = &self.broken {
                    batch.push(frame(&ServerFrame::Error { error: err.clone() }));
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
                let session = self.runner.session();
                let snapshot = Snapshot {
                    id: self.id.0,
                    protocol: &self.protocol_id,
                    live: true,
                    stage: session.stage(),
                    paused: session.is_paused(),
                    reps_done: session.reps_done(),
                    reps_target: session.reps_target(),
                    attached: self.clients.len(),
                    now,
                    current: self.runner.current(now),
                };
                // Plain data: it always converts.
                let _ = reply.send(serde_json::to_value(snapshot).unwrap_or_default());
            }
        }
    }

    /// Applies `input` at `now`, after any deadline that passed before it
    /// (a page's input can win the race against the timer).
    async fn apply(&mut self, input: Input, now: Time) -> Result<(), String> {
        if let Some(err) = &self.broken {
            return Err(err.clone());
        }
        // An input the engine would reject changes nothing, so it is not
        // recorded as if it had happened.
        let batch = self.runner.offer(input, now).map_err(|e| e.to_string())?;
        self.write(batch).await
    }

    /// Times out every deadline up to `now`, each at its own deadline.
    async fn advance(&mut self, now: Time) -> Result<(), String> {
        if let Some(err) = &self.broken {
            return Err(err.clone());
        }
        let batch = self.runner.advance(now);
        self.write(batch).await
    }

    /// Logs the batch's entries, then has the runner apply them and sends
    /// what they produced.
    async fn write(&mut self, batch: Batch) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let id = self.id;
        let entries: Vec<LogEntry> = batch.entries().to_vec();
        let logged = self
            .store
            .call(move |s| {
                entries
                    .iter()
                    .try_for_each(|e| s.append_event(id, e.seq, e.at_ms, &e.input))
            })
            .await;
        match logged {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.break_down(format!("could not record the input: {e}"))),
            Err(e) => return Err(self.break_down(e.message)),
        }
        self.runner.commit(batch).map_err(|e| e.to_string())?;
        self.drain().await;
        Ok(())
    }

    /// Nobody has watched the session for the abandon period: records it as
    /// interrupted, as a crashed driver's session is, and stops taking
    /// inputs; the task leaves after the linger period.
    async fn abandoned(&mut self) {
        let id = self.id;
        let minutes = self.abandon.as_secs() / 60;
        // The runner works out what the session did; the store records it.
        let end = self.runner.interrupt(self.runner.cursor());
        let recorded = self
            .store
            .call(move |s| {
                s.end_session(
                    id,
                    &SessionEnd {
                        ended_at: end.ended_at,
                        outcome: &SessionOutcome::Interrupted,
                        message: None,
                        summary: Some(&end.summary),
                    },
                )
            })
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
        // The runner is interrupted: no deadline fires any more.
        self.ended = true;
        self.broken = Some(why);
        self.alone_since = Some(Instant::now());
    }

    /// The store failed: stop taking inputs, tell the pages.
    fn break_down(&mut self, err: String) -> String {
        let err = format!("{err}; the session cannot continue safely, stop rolling");
        self.broken = Some(err.clone());
        // It takes no more input, and no deadline fires any more.
        let _ = self.runner.interrupt(self.runner.cursor());
        self.broadcast(vec![frame(&ServerFrame::Error { error: err.clone() })]);
        if self.clients.is_empty() && self.alone_since.is_none() {
            self.alone_since = Some(Instant::now());
        }
        err
    }

    /// Sends every queued output to the pages, each run of outputs of one
    /// time after a `sync` frame with that time; records the end.
    async fn drain(&mut self) {
        let mut batch = Vec::new();
        let mut synced = None;
        while let Some((at, out)) = self.runner.poll_output() {
            if synced != Some(at) {
                batch.push(frame(&ServerFrame::Sync {
                    now: at,
                    speed: self.clock.speed,
                }));
                synced = Some(at);
            }
            batch.push(frame(&ServerFrame::Output(out)));
        }
        self.broadcast(batch);
        if self.ended || self.broken.is_some() {
            return;
        }
        let Some(end) = self.runner.end_record() else {
            return;
        };
        self.ended = true;
        let (Some(outcome), Some(message)) = (end.outcome, end.message) else {
            return;
        };
        let (id, at, summary) = (self.id, end.ended_at, end.summary);
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
            self.broadcast(vec![frame(&ServerFrame::Error {
                error: format!("the session ended but its end could not be recorded: {e}"),
            })]);
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

/// A frame as JSON text.
pub(crate) fn frame(f: &ServerFrame) -> Frame {
    Utf8Bytes::from(f.to_json())
}

/// What `GET /api/sessions/{id}` shows of a live session.
#[derive(Serialize)]
struct Snapshot<'a> {
    id: i64,
    protocol: &'a str,
    live: bool,
    stage: Stage,
    paused: bool,
    reps_done: u32,
    reps_target: u32,
    attached: usize,
    now: Time,
    current: Vec<Output>,
}

/// Queue size of a page's frames.
pub(crate) fn client_channel() -> (mpsc::Sender<Frame>, mpsc::Receiver<Frame>) {
    mpsc::channel(CLIENT_QUEUE)
}
