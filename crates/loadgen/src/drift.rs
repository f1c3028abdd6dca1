//! `rollcoach-load drift`: one long session on the server's real timers,
//! and in the same run a naive driver that sleeps each phase's duration after
//! each phase; how far each one's last phase change is from its schedule.
//!
//! The protocol is the built-in upper back with enough reps to roll for
//! `--minutes` (a benchmark-only copy, `drift-bench`, written to a temporary
//! protocols directory; the built-in allows 5-8 reps, about a minute).
//!
//! The schedule of both is the same: phase k (from 0) starts at the rolling's
//! start plus k phase durations. The server's lateness is measured at the
//! client, against the session clock mapped to the wall clock (see
//! `load.rs`). The naive driver runs in this process on its own thread, with
//! the same engine and a store on a file like the server's: after each phase
//! it sleeps the phase's duration, then logs and applies the timeout at the
//! phase's deadline (it counts time by adding up the durations it slept, as
//! `loop { cue(); sleep(duration) }` does), so every wake-up's lateness and
//! the logging time add up. (A naive driver that passed its real clock
//! instead would see the engine catch up by skipping a phase whenever it fell
//! a whole phase behind: cues lost instead of late.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use rollcoach_engine::{Input, Options, Output, Prompt, Session, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{NewSession, Store};
use rollcoach_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::server::{self, ServeOptions, Server};
use crate::stats;
use crate::wall_ms;

const UPPER_BACK: &str = include_str!("../../../protocols/upper-back.toml");

/// `rollcoach-load drift` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Minutes of rolling, session time (at most 120).
    #[arg(long, default_value_t = 30.0)]
    pub minutes: f64,
    /// Session clock speed (`rollcoach serve --speed`); 20 runs 30 minutes in 90 s.
    #[arg(long, default_value_t = 20.0)]
    pub speed: f64,
    /// The `rollcoach` binary [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The upper-back protocol as `drift-bench`, allowing and defaulting to `reps`.
pub fn drift_protocol_source(reps: u32) -> anyhow::Result<String> {
    let reps_table = "[movement.reps]\nmin = 5\nmax = 8\ndefault = 6\n";
    if !UPPER_BACK.contains(reps_table) || !UPPER_BACK.contains("id = \"upper-back\"\n") {
        bail!("protocols/upper-back.toml changed shape: update drift_protocol_source");
    }
    Ok(UPPER_BACK
        .replacen("id = \"upper-back\"\n", "id = \"drift-bench\"\n", 1)
        .replacen(
            reps_table,
            &format!("[movement.reps]\nmin = 5\nmax = {reps}\ndefault = {reps}\n"),
            1,
        ))
}

/// Where phase changes fell against their schedule.
#[derive(Debug, Default, Clone)]
pub struct Track {
    /// Lateness of each deadline-started phase change (ms, real time).
    pub lateness: Vec<f64>,
    /// Phase changes seen (the first one included).
    pub phases: u32,
}

impl Track {
    fn last(&self) -> Option<f64> {
        self.lateness.last().copied()
    }
}

/// Runs the demonstration and prints the report.
pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.minutes > 0.0 && args.minutes <= 120.0) {
        bail!(
            "--minutes must be above 0 and at most 120, got {}",
            args.minutes
        );
    }
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1000.0) {
        bail!(
            "--speed must be above 0 and at most 1000, got {}",
            args.speed
        );
    }
    let bin = server::rollcoach_bin(args.rollcoach.as_deref())?;
    let dir = tempfile::tempdir()?;
    let tempo_ms = 4000u64;
    let reps = ((args.minutes * 60_000.0) / (2.0 * tempo_ms as f64))
        .ceil()
        .max(5.0) as u32;
    let source = drift_protocol_source(reps)?;
    let protocol = rollcoach_protocol::parse(&source)
        .map_err(|d| anyhow::anyhow!("the drift-bench protocol does not validate: {d:?}"))?;
    let protocols_dir = dir.path().join("protocols");
    std::fs::create_dir_all(&protocols_dir)?;
    std::fs::write(protocols_dir.join("drift-bench.toml"), &source)?;

    let server = Server::spawn(&ServeOptions {
        bin: &bin,
        db: &dir.path().join("server.db"),
        speed: args.speed,
        protocols_dir: Some(&protocols_dir),
        grace_secs: 600,
    })?;
    let real_secs = args.minutes * 60.0 / args.speed;
    eprintln!(
        "{reps} reps of {tempo_ms} ms per direction ({:.1} min session time) at speed {}: about {real_secs:.0} s",
        f64::from(reps) * 2.0 * tempo_ms as f64 / 60_000.0,
        args.speed
    );

    let naive_db = dir.path().join("naive.db");
    let naive = {
        let (protocol, speed) = (protocol.clone(), args.speed);
        std::thread::Builder::new()
            .name("naive-driver".into())
            .spawn(move || naive_driver(&protocol, reps, speed, &naive_db))?
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let limit = Duration::from_secs_f64(real_secs * 1.5 + 30.0);
    let served = rt.block_on(async {
        tokio::time::timeout(limit, served_session(server.addr, reps, args.speed))
            .await
            .context("the server's session did not end in time")?
    })?;
    let naive = naive
        .join()
        .map_err(|_| anyhow::anyhow!("the naive driver panicked"))??;
    drop(server);

    let ms_session = |real: f64| real * args.speed;
    println!(
        "rollcoach-load drift: {} phase changes over {:.1} min of session time, speed {}",
        served.phases,
        f64::from(reps) * 2.0 * tempo_ms as f64 / 60_000.0,
        args.speed
    );
    for (name, t) in [
        ("server (absolute deadlines)", &served),
        ("naive driver (sleep each phase)", &naive),
    ] {
        let last = t.last().unwrap_or(f64::NAN);
        println!(
            "  {name}: last phase change {last:+.3} ms real ({:+.0} ms session time) from its schedule; every change (ms real): {}",
            ms_session(last),
            stats::line(&t.lateness)
        );
    }
    if args.json {
        let summary = |v: &[f64]| stats::Summary::of(v).map(stats::Summary::to_json);
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "minutes": args.minutes, "speed": args.speed, "reps": reps, "tempo_ms": tempo_ms,
                "server": {"phases": served.phases, "last_ms": served.last(), "lateness_ms": summary(&served.lateness)},
                "naive": {"phases": naive.phases, "last_ms": naive.last(), "lateness_ms": summary(&naive.lateness)},
            }))?
        );
    }
    Ok(())
}

/// The session on the server, over its WebSocket.
async fn served_session(
    addr: std::net::SocketAddr,
    reps: u32,
    speed: f64,
) -> anyhow::Result<Track> {
    let mut conn = crate::http::Conn::connect(addr).await?;
    let body = json!({"protocol": "drift-bench", "options": {"reps": reps, "tempo_seconds": 4.0}})
        .to_string();
    let resp = conn.request("POST", "/api/sessions", Some(&body)).await?;
    if resp.status != 201 {
        bail!("POST /api/sessions answered {}: {}", resp.status, resp.body);
    }
    let id = serde_json::from_str::<Value>(&resp.body)?["id"]
        .as_i64()
        .context("no session id")?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("ws://{addr}/api/sessions/{id}/ws"), tcp).await?;
    let mut track = Track::default();
    let mut start = None;
    let mut rolling_start = None;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        let arrival = wall_ms();
        let v: Value = serde_json::from_str(text.as_str())?;
        match v["type"].as_str().unwrap_or_default() {
            "sync" if start.is_none() => start = v["now"].as_u64().map(|t| t as f64),
            "prompt" => {
                let reply = match v["kind"].as_str().unwrap_or_default() {
                    "screening" => r#"{"type":"answer","answer":"no"}"#,
                    "rating" => r#"{"type":"rating","value":null}"#,
                    _ => r#"{"type":"ready"}"#,
                };
                ws.send(Message::text(reply)).await?;
            }
            "phase" => {
                let start = start.context("a phase before any sync frame")?;
                let (deadline, duration) = (
                    v["deadline"].as_u64().context("no deadline")? as f64,
                    v["duration_ms"].as_u64().context("no duration_ms")? as f64,
                );
                let begins = deadline - duration;
                // The schedule: the rolling's start plus k whole phases.
                let first = *rolling_start.get_or_insert(begins);
                if track.phases > 0 {
                    let scheduled = first + f64::from(track.phases) * duration;
                    let scheduled_wall = start + (scheduled - start) / speed;
                    track.lateness.push(arrival - scheduled_wall);
                }
                track.phases += 1;
            }
            "end" => break,
            "error" => bail!("the server said: {}", v["error"]),
            _ => {}
        }
    }
    Ok(track)
}

/// A driver that sleeps each phase's duration, then says the phase is over.
fn naive_driver(protocol: &Protocol, reps: u32, speed: f64, db: &Path) -> anyhow::Result<Track> {
    let store = SqliteStore::open(db)?;
    let options = Options {
        reps: Some(reps),
        tempo_seconds: Some(4.0),
        ..Options::default()
    };
    let facts = store.facts_for(protocol)?;
    let start = Time(wall_ms() as u64);
    let id = store.begin_session(&NewSession {
        protocol,
        options: &options,
        facts: &facts,
        started_at: start,
    })?;
    let mut session = Session::new(protocol, options, facts, start)?;
    let mut track = Track::default();
    let mut rolling_start: Option<Instant> = None;
    let mut seq = 0u32;
    loop {
        let mut reply = None;
        let mut sleep_for = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    reply = Some(Input::Answer { answer: Answer::No })
                }
                Output::Prompt(Prompt::Rating { .. }) => {
                    reply = Some(Input::Rating { value: None })
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { duration_ms, .. } => {
                    let now = Instant::now();
                    let first = *rolling_start.get_or_insert(now);
                    let phase = Duration::from_secs_f64(duration_ms as f64 / 1000.0 / speed);
                    if track.phases > 0 {
                        let scheduled = first + phase * track.phases;
                        track
                            .lateness
                            .push(now.saturating_duration_since(scheduled).as_secs_f64() * 1000.0);
                    }
                    track.phases += 1;
                    sleep_for = Some(phase);
                }
                Output::End {
                    outcome,
                    message,
                    summary,
                } => {
                    store.finish_session(id, session.last_time(), &outcome, &message, &summary)?;
                    return Ok(track);
                }
                _ => {}
            }
        }
        if let Some(d) = sleep_for {
            std::thread::sleep(d);
        }
        let input = reply.unwrap_or(Input::Timeout);
        // Time is what it slept: the deadline it waited for (prompts answer at once).
        let now = match input {
            Input::Timeout => session
                .next_deadline()
                .context("no deadline and no prompt")?,
            _ => session.last_time(),
        };
        store.append_event(id, seq, now.since(start), &input)?;
        seq += 1;
        session.handle(input, now)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drift_protocol_is_the_upper_back_with_more_reps() {
        let p = rollcoach_protocol::parse(&drift_protocol_source(225).unwrap()).unwrap();
        assert_eq!(p.id, "drift-bench");
        assert_eq!((p.movement.reps.max, p.movement.reps.default), (225, 225));
    }
}
