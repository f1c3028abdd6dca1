//! `rollcoach-load sessions`: N live WebSocket sessions against a real
//! `rollcoach serve` on loopback.
//!
//! Every session is created with `POST /api/sessions`, attached over its
//! WebSocket, and answered through screening and setup up to the last
//! "ready". When all of them wait there, they are released one after the
//! other, spread evenly over one phase, so the server then carries N rolling
//! sessions whose phase changes are spread evenly in time (as N people
//! starting at random moments would be).
//!
//! Measured at the client, on its wall clock:
//! - cue timing: each phase change's arrival minus its scheduled time. A
//!   phase's scheduled start is the previous phase's deadline, which is
//!   `deadline - duration_ms` of the phase frame itself. Deadlines are in the
//!   session's clock (ms since the epoch, scaled by `--speed` from the
//!   session's start): engine time `t` falls at wall time
//!   `start + (t - start) / speed`, where `start` is the `now` of the
//!   session's first `sync` frame (the moment `Session::new` ran). The
//!   first phase of a session is started by the person's "ready", not by a
//!   deadline, so it is timed separately (ready -> first phase).
//! - stop latency: every `--pain-every`-th session reports pain over the
//!   spine during its last rep; the time from sending it to the `end` frame.
//! - input latency: the other sessions report a noise without pain halfway
//!   through; the time to its `acknowledged` frame.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::server::{self, ServeOptions, Server};
use crate::stats::{self, Summary};
use crate::{http, wall_ms};

/// Most sessions one run may open.
pub const MAX_SESSIONS: usize = 20_000;
/// Longest a run may last, in seconds.
pub const MAX_SECONDS: u64 = 1_800;

/// `rollcoach-load sessions` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Live sessions to open (at most 20,000).
    #[arg(long, default_value_t = 1000)]
    pub sessions: usize,
    /// The server's session clock speed (`rollcoach serve --speed`).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Seconds per direction (session time), within the protocol's 2-6.
    #[arg(long, default_value_t = 4.0)]
    pub tempo: f64,
    /// Reps per session, within the protocol's 5-8.
    #[arg(long, default_value_t = 8)]
    pub reps: u32,
    /// Every K-th session reports pain in its last rep (stop latency); the others report a noise.
    #[arg(long, default_value_t = 10)]
    pub pain_every: usize,
    /// Sessions created at once (each over its own keep-alive HTTP connection).
    #[arg(long, default_value_t = 32)]
    pub ramp: usize,
    /// The whole run stops after this many seconds, finished or not (at most 1,800).
    #[arg(long, default_value_t = 300)]
    pub max_seconds: u64,
    /// A `rollcoach serve` already running on loopback (e.g. http://127.0.0.1:7878);
    /// by default the tool starts its own on a free port with a fresh database.
    #[arg(long)]
    pub url: Option<String>,
    /// The `rollcoach` binary to start [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Directory for the started server's database [default: a temporary
    /// directory beside the others; /dev/shm puts it in memory, where fsync
    /// costs nothing, to tell disk time from the rest].
    #[arg(long)]
    pub db_dir: Option<PathBuf>,
    /// Worker threads of the client's runtime (the server has its own).
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Samples gathered by the sessions.
#[derive(Debug, Default)]
struct Samples {
    /// Phase change lateness (ms), phases started by a deadline.
    lateness: Vec<f64>,
    /// When (wall ms) each phase change later than 10 ms arrived.
    late_at: Vec<f64>,
    /// The person's ready to the first phase (ms).
    first_phase: Vec<f64>,
    /// Pain to the end frame (ms).
    stop: Vec<f64>,
    /// Noise to its acknowledgement (ms).
    ack: Vec<f64>,
    completed: usize,
    stopped: usize,
    errors: Vec<String>,
}

struct Shared {
    samples: Mutex<Samples>,
    at_barrier: AtomicUsize,
    failed: AtomicUsize,
    rolling: AtomicUsize,
    max_rolling: AtomicUsize,
}

impl Shared {
    fn push(&self, f: impl FnOnce(&mut Samples)) {
        if let Ok(mut s) = self.samples.lock() {
            f(&mut s);
        }
    }

    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        self.push(|s| s.errors.push(what));
    }
}

/// What one session does.
#[derive(Debug, Clone, Copy)]
struct Plan {
    index: usize,
    sessions: usize,
    speed: f64,
    /// Seconds per direction, session time.
    tempo: f64,
    pain: bool,
    /// Where within its phase the pain or noise is reported, 0-1.
    at_fraction: f64,
}

/// Runs the load test and prints the report.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.sessions == 0 || args.sessions > MAX_SESSIONS {
        bail!(
            "--sessions must be from 1 to {MAX_SESSIONS}, got {}",
            args.sessions
        );
    }
    if args.max_seconds == 0 || args.max_seconds > MAX_SECONDS {
        bail!(
            "--max-seconds must be from 1 to {MAX_SECONDS}, got {}",
            args.max_seconds
        );
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1000.0) {
        bail!(
            "--speed must be above 0 and at most 1000, got {}",
            args.speed
        );
    }
    if args.pain_every == 0 || args.ramp == 0 || args.client_threads == 0 {
        bail!("--pain-every, --ramp and --client-threads must be at least 1");
    }
    // One socket per session here, one in the server (which inherits this limit).
    let want = args.sessions as u64 + 256;
    let limit = server::raise_nofile(want)?;
    if limit < want {
        bail!(
            "the open-file limit is {limit}, below the {want} that {} sessions need; raise the hard limit (ulimit -Hn, /etc/security/limits.conf) or open fewer sessions",
            args.sessions
        );
    }
    let dir = match &args.db_dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .context("cannot create a temporary directory for the database")?;
    let (server, addr) = match &args.url {
        Some(url) => (None, http::loopback_addr(url)?),
        None => {
            let bin = server::rollcoach_bin(args.rollcoach.as_deref())?;
            let db = dir.path().join("load.db");
            let s = Server::spawn(&ServeOptions {
                bin: &bin,
                db: &db,
                speed: args.speed,
                protocols_dir: None,
                grace_secs: 600,
            })?;
            let addr = s.addr;
            (Some(s), addr)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(drive(&args, addr, server.as_ref()))?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    drop(server);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

async fn drive(args: &Args, addr: SocketAddr, server: Option<&Server>) -> anyhow::Result<Value> {
    let n = args.sessions;
    let run_deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let shared = Arc::new(Shared {
        samples: Mutex::new(Samples::default()),
        at_barrier: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        rolling: AtomicUsize::new(0),
        max_rolling: AtomicUsize::new(0),
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.and_then(Server::rss_kib);
    eprintln!(
        "server on http://{addr}/ (idle RSS {}); opening {n} sessions, {} at a time",
        idle_rss.map_or("unknown".into(), |k| format!("{k} KiB")),
        args.ramp
    );

    // Create the sessions; each starts its task as soon as it exists.
    let t_create = Instant::now();
    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let next = Arc::new(AtomicUsize::new(0));
    let (id_tx, mut id_rx) = mpsc::channel::<(usize, i64)>(1024);
    let body = json!({
        "protocol": "upper-back",
        "options": {"reps": args.reps, "tempo_seconds": args.tempo},
    })
    .to_string();
    for _ in 0..args.ramp.min(n) {
        let (next, id_tx, body, shared) =
            (next.clone(), id_tx.clone(), body.clone(), shared.clone());
        tokio::spawn(async move {
            let mut conn = match http::Conn::connect(addr).await {
                Ok(c) => c,
                Err(e) => return shared.fail(format!("{e:#}")),
            };
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                match create(&mut conn, &body).await {
                    Ok(id) => {
                        if id_tx.send((i, id)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => shared.fail(format!("creating session {i}: {e:#}")),
                }
            }
        });
    }
    drop(id_tx);
    let mut tasks = tokio::task::JoinSet::new();
    let mut created = 0usize;
    while let Some((i, id)) = id_rx.recv().await {
        created += 1;
        let plan = Plan {
            index: i,
            sessions: n,
            speed: args.speed,
            tempo: args.tempo,
            pain: i.is_multiple_of(args.pain_every),
            at_fraction: 0.1
                + 0.8 * ((i as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0,
        };
        tasks.spawn(session(id, addr, plan, shared.clone(), go_rx.clone()));
        if created.is_multiple_of(1000) {
            eprintln!("  {created} created");
        }
        if Instant::now() > run_deadline {
            break;
        }
    }
    let create_secs = t_create.elapsed().as_secs_f64();

    // Wait until every session waits at its last setup step, then release them.
    loop {
        let waiting = shared.at_barrier.load(Ordering::SeqCst);
        let failed = shared.failed.load(Ordering::SeqCst);
        if waiting + failed >= n || Instant::now() > run_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let setup_secs = t_create.elapsed().as_secs_f64();
    let waiting = shared.at_barrier.load(Ordering::SeqCst);
    let barrier_rss = server.and_then(Server::rss_kib);
    eprintln!(
        "{waiting} sessions live and ready after {setup_secs:.1} s (created in {create_secs:.1} s); server RSS {}; rolling",
        barrier_rss.map_or("unknown".into(), |k| format!("{k} KiB"))
    );
    let _ = go_tx.send(Some(Instant::now() + Duration::from_millis(200)));
    let go_wall = crate::wall_ms() + 200.0;
    let cpu_at_go = (
        server.and_then(|s| server::cpu_ticks(s.pid())),
        server::cpu_ticks(std::process::id()),
        Instant::now(),
    );

    // Sample the server's memory and the rolling count while they roll.
    let mut peak_rss = barrier_rss.unwrap_or(0);
    let mut rss_all_rolling = None;
    let mut timed_out = false;
    loop {
        tokio::select! {
            joined = tasks.join_next() => if joined.is_none() { break },
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                let rss = server.and_then(Server::rss_kib);
                if let Some(rss) = rss {
                    peak_rss = peak_rss.max(rss);
                    if rss_all_rolling.is_none() && shared.rolling.load(Ordering::SeqCst) >= waiting {
                        rss_all_rolling = Some(rss);
                    }
                }
                if Instant::now() > run_deadline {
                    timed_out = true;
                    tasks.abort_all();
                }
            }
        }
    }
    let total_secs = t_create.elapsed().as_secs_f64();
    // Cores used from the release to the end (100 ticks a second).
    let secs = cpu_at_go.2.elapsed().as_secs_f64();
    let cores = |before: Option<u64>, after: Option<u64>| {
        before
            .zip(after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / 100.0 / secs)
    };
    let server_cores = cores(cpu_at_go.0, server.and_then(|s| server::cpu_ticks(s.pid())));
    let client_cores = cores(cpu_at_go.1, server::cpu_ticks(std::process::id()));
    let s = shared
        .samples
        .lock()
        .map_err(|_| anyhow::anyhow!("a session task panicked"))?;
    let per_session = |rss: Option<u64>| {
        rss.zip(idle_rss)
            .map(|(r, i)| (r.saturating_sub(i) as f64) * 1024.0 / waiting.max(1) as f64)
    };
    let max_rolling = shared.max_rolling.load(Ordering::SeqCst);
    println!(
        "rollcoach-load sessions: {n} sessions, speed {}, tempo {} s, {} reps",
        args.speed, args.tempo, args.reps
    );
    println!(
        "  created {created} in {create_secs:.1} s; {waiting} reached the last setup step after {setup_secs:.1} s; most rolling at once {max_rolling}; run {total_secs:.1} s{}",
        if timed_out {
            " (STOPPED at --max-seconds)"
        } else {
            ""
        }
    );
    println!(
        "  completed {}, stopped by pain {}, errors {}",
        s.completed,
        s.stopped,
        s.errors.len()
    );
    for e in s.errors.iter().take(5) {
        println!("    error: {e}");
    }
    println!("  phase change lateness (ms): {}", stats::line(&s.lateness));
    let worst = worst_seconds(&s.late_at, go_wall, 3);
    if !worst.is_empty() {
        let text: Vec<String> = worst
            .iter()
            .map(|(sec, n)| format!("{n} in second {sec}"))
            .collect();
        println!(
            "    later than 10 ms: {} changes; most: {}",
            s.late_at.len(),
            text.join(", ")
        );
    }
    println!(
        "  ready -> first phase (ms):  {}",
        stats::line(&s.first_phase)
    );
    println!("  pain -> stop message (ms):  {}", stats::line(&s.stop));
    println!("  noise -> acknowledged (ms): {}", stats::line(&s.ack));
    let kib = |k: Option<u64>| k.map_or("unknown".to_string(), |k| format!("{k} KiB"));
    println!(
        "  server RSS: idle {}, {waiting} live at the last setup step {}, all rolling {}, peak {} KiB",
        kib(idle_rss),
        kib(barrier_rss),
        kib(rss_all_rolling),
        peak_rss
    );
    let fmt_cores = |c: Option<f64>| c.map_or("unknown".into(), |c| format!("{c:.2}"));
    println!(
        "  CPU while rolling, in cores (of {}): server {}, this client {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        fmt_cores(server_cores),
        fmt_cores(client_cores)
    );
    if let Some(b) = per_session(rss_all_rolling.or(Some(peak_rss))) {
        println!(
            "  per live session above idle: {:.0} B ({:.1} KB)",
            b,
            b / 1000.0
        );
    }
    let summary = |v: &[f64]| Summary::of(v).map(Summary::to_json);
    Ok(json!({
        "sessions": n, "speed": args.speed, "tempo": args.tempo, "reps": args.reps,
        "created": created, "live_at_barrier": waiting, "max_rolling": max_rolling,
        "create_secs": create_secs, "setup_secs": setup_secs, "total_secs": total_secs,
        "timed_out": timed_out, "completed": s.completed, "stopped": s.stopped,
        "errors": s.errors.len(),
        "lateness_ms": summary(&s.lateness), "first_phase_ms": summary(&s.first_phase),
        "stop_ms": summary(&s.stop), "ack_ms": summary(&s.ack),
        "rss_kib": {"idle": idle_rss, "barrier": barrier_rss, "all_rolling": rss_all_rolling, "peak": peak_rss},
        "bytes_per_session": per_session(rss_all_rolling.or(Some(peak_rss))),
        "server_cores": server_cores, "client_cores": client_cores,
        "late_over_10ms": s.late_at.len(), "worst_seconds": worst,
    }))
}

async fn create(conn: &mut http::Conn, body: &str) -> anyhow::Result<i64> {
    let resp = conn.request("POST", "/api/sessions", Some(body)).await?;
    if resp.status != 201 {
        bail!("POST /api/sessions answered {}: {}", resp.status, resp.body);
    }
    let v: Value = serde_json::from_str(&resp.body).context("the answer is not JSON")?;
    v["id"].as_i64().context("the answer has no `id`")
}

/// What a session will send later.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Pain,
    Noise,
}

async fn session(
    id: i64,
    addr: SocketAddr,
    plan: Plan,
    shared: Arc<Shared>,
    go: watch::Receiver<Option<Instant>>,
) {
    let mut state = SessionState::default();
    if let Err(e) = run_session(id, addr, plan, &shared, go, &mut state).await {
        if !state.rolling {
            shared.fail(format!("session {id}: {e:#}"));
        } else {
            shared.push(|s| s.errors.push(format!("session {id}: {e:#}")));
        }
    }
    if state.rolling {
        shared.rolling.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct SessionState {
    /// The server's clock speed, from its frames.
    speed: Option<f64>,
    start: Option<f64>,
    rolling: bool,
    ready_sent: Option<f64>,
    pending: Option<(tokio::time::Instant, Action)>,
    pain_sent: Option<f64>,
    noise_sent: Option<f64>,
}

async fn run_session(
    id: i64,
    addr: SocketAddr,
    plan: Plan,
    shared: &Shared,
    mut go: watch::Receiver<Option<Instant>>,
    st: &mut SessionState,
) -> anyhow::Result<()> {
    let tcp = TcpStream::connect(addr).await.context("connect")?;
    tcp.set_nodelay(true)?;
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}/api/sessions/{id}/ws"),
        tcp,
        Some(crate::small_ws_buffers()),
    )
    .await
    .context("WebSocket handshake")?;
    loop {
        let msg = tokio::select! {
            msg = ws.next() => msg,
            () = sleep_until_opt(st.pending.map(|p| p.0)) => {
                let Some((_, action)) = st.pending.take() else { continue };
                let (text, slot) = match action {
                    Action::Pain => (r#"{"type":"pain","kind":"spine"}"#, &mut st.pain_sent),
                    Action::Noise => (r#"{"type":"noise"}"#, &mut st.noise_sent),
                };
                *slot = Some(wall_ms());
                ws.send(Message::text(text)).await.context("send")?;
                continue;
            }
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => {
                bail!("the server closed the WebSocket before the end")
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e).context("receive"),
        };
        let arrival = wall_ms();
        let v: Value = serde_json::from_str(text.as_str()).context("a frame that is not JSON")?;
        match v["type"].as_str().unwrap_or_default() {
            "sync" | "hello" => {
                if v["type"] == "sync" && st.start.is_none() {
                    st.start = v["now"].as_u64().map(|t| t as f64);
                }
                // The server's own clock speed (it may have been started without this tool).
                if let Some(speed) = v["speed"].as_f64().filter(|s| *s > 0.0) {
                    st.speed = Some(speed);
                }
            }
            "prompt" => {
                let reply = match v["kind"].as_str().unwrap_or_default() {
                    "screening" => r#"{"type":"answer","answer":"no"}"#,
                    "rating" => r#"{"type":"rating","value":null}"#,
                    "ready" => {
                        if v["index"] == v["of"] {
                            shared.at_barrier.fetch_add(1, Ordering::SeqCst);
                            // Keep reading while waiting, as a page does: the
                            // server pings every attached page and detaches one
                            // that does not answer (tungstenite answers on read).
                            let go_at = loop {
                                if let Some(at) = *go.borrow_and_update() {
                                    break at;
                                }
                                tokio::select! {
                                    changed = go.changed() => changed.context("the run was stopped")?,
                                    msg = ws.next() => idle_frame(msg)?,
                                }
                            };
                            let phase = Duration::from_secs_f64(plan.tempo / plan.speed);
                            let offset = phase.mul_f64(plan.index as f64 / plan.sessions as f64);
                            let release = tokio::time::Instant::from_std(go_at + offset);
                            loop {
                                tokio::select! {
                                    () = tokio::time::sleep_until(release) => break,
                                    msg = ws.next() => idle_frame(msg)?,
                                }
                            }
                            st.ready_sent = Some(wall_ms());
                        }
                        r#"{"type":"ready"}"#
                    }
                    other => bail!("unexpected prompt kind `{other}`"),
                };
                ws.send(Message::text(reply)).await.context("send")?;
            }
            "phase" => {
                let (deadline, duration) = (
                    v["deadline"].as_u64().context("phase without deadline")? as f64,
                    v["duration_ms"]
                        .as_u64()
                        .context("phase without duration_ms")? as f64,
                );
                let start = st.start.context("a phase before any sync frame")?;
                if !st.rolling {
                    st.rolling = true;
                    let now_rolling = shared.rolling.fetch_add(1, Ordering::SeqCst) + 1;
                    shared.max_rolling.fetch_max(now_rolling, Ordering::SeqCst);
                    if let Some(sent) = st.ready_sent {
                        shared.push(|s| s.first_phase.push(arrival - sent));
                    }
                } else {
                    let speed = st.speed.unwrap_or(plan.speed);
                    let scheduled = start + (deadline - duration - start) / speed;
                    shared.push(|s| {
                        s.lateness.push(arrival - scheduled);
                        if arrival - scheduled > 10.0 {
                            s.late_at.push(arrival);
                        }
                    });
                }
                let (rep, of) = (
                    v["rep"].as_u64().unwrap_or(0),
                    v["of"].as_u64().unwrap_or(0),
                );
                let out = v["direction"] == "out";
                let action = match (plan.pain, out) {
                    (true, true) if rep == of => Some(Action::Pain),
                    (false, true) if rep == of.div_ceil(2) => Some(Action::Noise),
                    _ => None,
                };
                if let Some(action) = action {
                    let after =
                        Duration::from_secs_f64(duration / 1000.0 / plan.speed * plan.at_fraction);
                    st.pending = Some((tokio::time::Instant::now() + after, action));
                }
            }
            "acknowledged" => {
                if let Some(sent) = st.noise_sent.take() {
                    shared.push(|s| s.ack.push(arrival - sent));
                }
            }
            "end" => {
                match v["outcome"]["outcome"].as_str() {
                    Some("completed") => shared.push(|s| s.completed += 1),
                    Some("stopped") => {
                        if let Some(sent) = st.pain_sent {
                            shared.push(|s| {
                                s.stop.push(arrival - sent);
                                s.stopped += 1;
                            });
                        }
                    }
                    other => bail!(
                        "the session ended unexpectedly: {other:?}: {}",
                        v["message"]
                    ),
                }
                let _ = ws.close(None).await;
                return Ok(());
            }
            "error" => bail!("the server said: {}", v["error"]),
            _ => {}
        }
    }
}

/// A frame that came while the session waits at its last setup step: the
/// rest of the prompt's batch (its cue) and pings (answered by tungstenite).
fn idle_frame(
    msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> anyhow::Result<()> {
    match msg {
        Some(Ok(Message::Text(t))) => {
            let v: Value = serde_json::from_str(t.as_str()).context("a frame that is not JSON")?;
            match v["type"].as_str().unwrap_or_default() {
                "error" => bail!("the server said: {}", v["error"]),
                "end" => bail!("the session ended while waiting to start: {}", v["message"]),
                _ => Ok(()),
            }
        }
        Some(Ok(Message::Close(_))) | None => {
            bail!("the server closed the WebSocket while waiting")
        }
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(e).context("receive while waiting"),
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The `k` seconds (counted from `origin`, wall ms) holding the most events, most first.
fn worst_seconds(at: &[f64], origin: f64, k: usize) -> Vec<(i64, usize)> {
    let mut counts = std::collections::BTreeMap::<i64, usize>::new();
    for t in at {
        *counts
            .entry(((t - origin) / 1000.0).floor() as i64)
            .or_default() += 1;
    }
    let mut v: Vec<(i64, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_seconds_counts_events_per_second_from_the_origin() {
        let at = [1000.0, 1500.0, 1999.0, 3000.5, 3100.0, 900.0, 5000.0];
        assert_eq!(worst_seconds(&at, 1000.0, 2), vec![(0, 3), (2, 2)]);
        assert_eq!(worst_seconds(&at, 1000.0, 9).len(), 4);
        assert!(worst_seconds(&[], 0.0, 3).is_empty());
    }
}
