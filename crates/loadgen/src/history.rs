//! `rollcoach-load history`: ten years of daily sessions, then how long
//! `rollcoach history` and `GET /api/history` (its first page, and every
//! page) take, and the database's size per session.
//!
//! The sessions are driven through the real engine (screening, ratings,
//! setup, every phase, ratings after) with each input in the event log, as
//! a driver records them; one in ten stops with pain, one in seven has a
//! noise and a discomfort report. They are recorded in an in-memory store and
//! imported into the file in one transaction (recording 90,000 events one
//! fsync at a time would take minutes and give the same file).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rollcoach_engine::{Input, Options, Output, PainKind, Prompt, Session, Stage, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{NewSession, Store};
use rollcoach_store_sqlite::SqliteStore;
use serde_json::json;

use crate::server::{self, ServeOptions, Server};
use crate::stats::{self, Summary};

const DAY_MS: u64 = 86_400_000;

/// `rollcoach-load history` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Daily sessions to record (3,650 is ten years; at most 20,000).
    #[arg(long, default_value_t = 3650)]
    pub days: u32,
    /// Times each query is run (at most 1,000).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Keep the database at this path instead of a temporary file.
    #[arg(long)]
    pub keep_db: Option<PathBuf>,
    /// The `rollcoach` binary [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn upper_back() -> anyhow::Result<Protocol> {
    rollcoach_protocol::builtin()
        .into_iter()
        .find(|p| p.id == "upper-back")
        .context("the built-in upper-back protocol is missing")
}

/// Records session `day` (started at `start`) through the engine; returns how
/// many inputs its log holds.
pub fn record_session(
    store: &dyn Store,
    protocol: &Protocol,
    day: u32,
    start: Time,
) -> anyhow::Result<u32> {
    let options = Options {
        reasons: vec!["soreness".into(), "posture".into()],
        ..Options::default()
    };
    let facts = store.facts_for(protocol)?;
    let id = store.begin_session(&NewSession {
        protocol,
        options: &options,
        facts: &facts,
        started_at: start,
    })?;
    let mut session = Session::new(protocol, options, facts, start)?;
    let rating = |k: u32| Some(((day * 7 + k * 3) % 11) as u8);
    let (mut now, mut seq, mut ratings) = (start, 0u32, 0u32);
    loop {
        let mut reply = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    reply = Some(Input::Answer { answer: Answer::No })
                }
                Output::Prompt(Prompt::Rating { .. }) => {
                    ratings += 1;
                    reply = Some(Input::Rating {
                        value: rating(ratings),
                    });
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { rep, direction, .. } => {
                    let out = direction == rollcoach_engine::Direction::Out;
                    if day % 10 == 3 && rep == 3 && out {
                        reply = Some(Input::Pain {
                            kind: PainKind::Spine,
                        });
                    } else if day % 7 == 1 && rep == 2 && out {
                        reply = Some(Input::Noise);
                    } else if day % 7 == 1 && rep == 4 && out {
                        reply = Some(Input::Discomfort { level: 4 });
                    }
                }
                Output::End {
                    outcome,
                    message,
                    summary,
                } => {
                    store.finish_session(id, now, &outcome, &message, &summary)?;
                    return Ok(seq);
                }
                _ => {}
            }
        }
        let input = match reply {
            Some(i) => i,
            None if session.stage() == Stage::Ended => bail!("session {day} ended without an end"),
            None => Input::Timeout,
        };
        now = match input {
            Input::Timeout => session
                .next_deadline()
                .context("no deadline and no prompt")?,
            Input::Noise | Input::Discomfort { .. } | Input::Pain { .. } => now.plus_ms(1500),
            _ => now.plus_ms(2000),
        };
        store.append_event(id, seq, now.since(start), &input)?;
        seq += 1;
        session.handle(input, now)?;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Builds the history and measures it.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.days == 0 || args.days > 20_000 {
        bail!("--days must be from 1 to 20000, got {}", args.days);
    }
    if args.runs == 0 || args.runs > 1000 {
        bail!("--runs must be from 1 to 1000, got {}", args.runs);
    }
    let bin = server::rollcoach_bin(args.rollcoach.as_deref())?;
    let dir = tempfile::tempdir()?;
    let db = match &args.keep_db {
        Some(p) => {
            if p.exists() {
                bail!(
                    "{} exists already; give a new path to --keep-db",
                    p.display()
                );
            }
            p.clone()
        }
        None => dir.path().join("history.db"),
    };
    let protocol = upper_back()?;

    // Ten years of mornings, ending yesterday.
    let t0 = Instant::now();
    let today = crate::wall_ms() as u64 / DAY_MS * DAY_MS;
    let first = today - u64::from(args.days) * DAY_MS + 7 * 3_600_000;
    let memory = SqliteStore::open_in_memory()?;
    let mut events = 0u64;
    for day in 0..args.days {
        events += u64::from(record_session(
            &memory,
            &protocol,
            day,
            Time(first + u64::from(day) * DAY_MS),
        )?);
    }
    let doc = memory.export(Time(today))?;
    drop(memory);
    let store = SqliteStore::open(&db)?;
    let report = store.import(&doc)?;
    drop(store);
    let build_secs = t0.elapsed().as_secs_f64();
    let mut bytes = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    }
    eprintln!(
        "{} sessions, {events} events, built in {build_secs:.1} s ({report:?})",
        args.days
    );

    // `rollcoach history`, spawn to exit, text and JSON.
    let cli = |extra: &[&str]| -> anyhow::Result<Vec<f64>> {
        let mut v = Vec::new();
        for _ in 0..args.runs {
            let t = Instant::now();
            let out = Command::new(&bin)
                .arg("--db")
                .arg(&db)
                .arg("history")
                .args(extra)
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .output()?;
            v.push(ms(t.elapsed()));
            if !out.status.success() {
                bail!(
                    "rollcoach history failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Ok(v)
    };
    let text = cli(&[])?;
    let all_json = cli(&["--json", "--limit", &args.days.to_string()])?;

    // GET /api/history on a running server: the first page, as the history
    // page asks for it, then every session in pages of 500.
    let server = Server::spawn(&ServeOptions {
        bin: &bin,
        db: &db,
        speed: 1.0,
        protocols_dir: None,
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let days = args.days as usize;
    let (api, body_len, all_pages) = rt.block_on(async {
        let mut conn = crate::http::Conn::connect(server.addr).await?;
        let mut get = async |path: &str| -> anyhow::Result<(serde_json::Value, usize)> {
            let resp = conn.request("GET", path, None).await?;
            if resp.status != 200 {
                bail!("GET {path} answered {}: {}", resp.status, resp.body);
            }
            Ok((serde_json::from_str(&resp.body)?, resp.body.len()))
        };
        let (mut first, mut every) = (Vec::new(), Vec::new());
        let mut len = 0;
        for _ in 0..args.runs {
            let t = Instant::now();
            let (doc, body) = get("/api/history").await?;
            first.push(ms(t.elapsed()));
            let n = doc["sessions"].as_array().map_or(0, Vec::len);
            if n != days.min(50) || doc["total"] != days {
                bail!(
                    "GET /api/history listed {n} of {}, expected {} of {days}",
                    doc["total"],
                    days.min(50)
                );
            }
            len = body;
        }
        for _ in 0..args.runs.min(5) {
            let t = Instant::now();
            let mut seen = 0;
            let mut path = "/api/history?limit=500".to_owned();
            loop {
                let (doc, _) = get(&path).await?;
                seen += doc["sessions"].as_array().map_or(0, Vec::len);
                match doc["next"].as_i64() {
                    Some(next) => path = format!("/api/history?limit=500&before={next}"),
                    None => break,
                }
            }
            every.push(ms(t.elapsed()));
            if seen != days {
                bail!("the pages of GET /api/history listed {seen} sessions, expected {days}");
            }
        }
        anyhow::Ok((first, len, every))
    })?;
    drop(server);

    let per = bytes as f64 / f64::from(args.days);
    println!(
        "rollcoach-load history: {} daily sessions, {events} events",
        args.days
    );
    println!(
        "  database: {bytes} bytes ({:.1} MiB), {per:.0} B per session",
        bytes as f64 / 1_048_576.0
    );
    println!(
        "  rollcoach history (ms):                 {}",
        stats::line(&text)
    );
    println!(
        "  rollcoach history --json --limit {} (ms): {}",
        args.days,
        stats::line(&all_json)
    );
    println!(
        "  GET /api/history (first page, 50 sessions, {body_len} B) (ms): {}",
        stats::line(&api)
    );
    println!(
        "  GET /api/history?limit=500, every page (ms): {}",
        stats::line(&all_pages)
    );
    if args.json {
        let summary = |v: &[f64]| Summary::of(v).map(Summary::to_json);
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "days": args.days, "events": events, "db_bytes": bytes, "bytes_per_session": per,
                "cli_history_ms": summary(&text), "cli_history_json_ms": summary(&all_json),
                "api_history_ms": summary(&api), "api_body_bytes": body_len,
                "api_history_all_pages_ms": summary(&all_pages),
            }))?
        );
    }
    Ok(())
}
