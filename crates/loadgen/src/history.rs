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
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rollcoach_engine::{Input, LogEntry, Options, Output, PainKind, Prompt, Session, Stage, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{NewSession, PersonId, SessionLog};
use rollcoach_store_sqlite::{SqliteRecords, SqliteStore};
use rollcoach_testkit::{Autopilot, Point, Rate};
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
    /// Size of the document for the import figures, in MB (the ten years'
    /// sessions repeated, new uids); 0 skips the import figures.
    #[arg(long, default_value_t = 200)]
    pub import_mb: u64,
    /// Milliseconds between two inputs of the session that runs during the
    /// import (pain -> stop latency).
    #[arg(long, default_value_t = 10)]
    pub input_gap_ms: u64,
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
    store: &dyn SessionLog,
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
    // The k-th rating prompt (before, then after) is answered with rating(k).
    let rating = |k: u32| Some(((day * 7 + k * 3) % 11) as u8);
    let mut person = rollcoach_testkit::Plan::default()
        .options(options)
        .facts(facts)
        .think_ms(2_000)
        .react_ms(1_500);
    person.ratings = Rate::InOrder((1..=64).map(rating).collect());
    if day % 10 == 3 {
        person = person.at(
            Point::Rep(3),
            Input::Pain {
                kind: PainKind::Spine,
            },
        );
    }
    if day % 7 == 1 {
        person = person
            .at(Point::Rep(2), Input::Noise)
            .at(Point::Rep(4), Input::Discomfort { level: 4 });
    }
    let run = Autopilot::start(Arc::new(protocol.clone()), person, start)?
        .try_sink(|entries: &[LogEntry]| {
            entries
                .iter()
                .try_for_each(|e| store.append_event(id, e.seq, e.at_ms, &e.input))
        })
        .run()?;
    let end = run.end.as_ref().context("the session did not end")?;
    let (Some(outcome), Some(message)) = (&end.outcome, &end.message) else {
        bail!("session {day} ended without an end");
    };
    store.finish_session(id, end.ended_at, outcome, message, &end.summary)?;
    Ok(u32::try_from(run.log.len())?)
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
    let memory = SqliteRecords::new(memory);
    let doc = rollcoach_store::export(&memory, &PersonId::owner(), Time(today))?;
    drop(memory);
    let store = SqliteRecords::open(&db)?;
    let report = rollcoach_store::import(&store, &PersonId::owner(), &doc)?;
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
        let mut conn = crate::http::Conn::connect(server.addr, server.token.as_deref()).await?;
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
                // Pages are named by the uid of their last session.
                match doc["next"].as_str() {
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
    let whole = whole_history(&rt, &server, &args, days)?;
    let api_export = api_export_memory(&rt, &server)?;
    drop(server);
    let cli_export = cli_export_memory(&bin, &db, dir.path())?;
    let import = if args.import_mb > 0 {
        Some(import_figures(&bin, &db, &doc, dir.path(), &args)?)
    } else {
        None
    };

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
    println!(
        "  GET /api/history?all=1, every session in one request ({} B, {:.0} B per session) (ms): {}",
        whole.bytes,
        whole.bytes as f64 / f64::from(args.days),
        stats::line(&whole.ms)
    );
    println!(
        "  GET /api/history?all=1&charts=1 ({} B) (ms): {}",
        whole.charts_bytes,
        stats::line(&whole.charts_ms)
    );
    println!(
        "  GET /api/export ({} B) (ms): {}; server memory idle {:.1} MiB, peak during {:.1} MiB (growth {:.1} MiB), 2 s after {:.1} MiB",
        api_export.bytes,
        stats::line(&api_export.ms),
        mib(api_export.idle_kib),
        mib(api_export.peak_kib),
        mib(api_export.peak_kib.saturating_sub(api_export.idle_kib)),
        mib(api_export.after_kib),
    );
    println!(
        "  rollcoach export --format json -o FILE ({} B): {:.0} ms, peak memory {:.1} MiB",
        cli_export.bytes,
        cli_export.ms,
        mib(cli_export.peak_kib)
    );
    if let Some(i) = &import {
        println!(
            "  rollcoach import of a {:.0} MB document ({} sessions) into a new file: {:.1} s, peak memory {:.1} MiB",
            i.doc_bytes as f64 / 1e6,
            i.sessions,
            i.fresh_secs,
            mib(i.fresh_peak_kib)
        );
        println!(
            "  rollcoach export of that database ({} B): {:.1} s, peak memory {:.1} MiB",
            i.big_export_bytes,
            i.big_export_secs,
            mib(i.big_export_peak_kib)
        );
        println!(
            "  the same import into the ten-year file while sessions run on it ({:.1} s, {} sessions, {} inputs, {} failed):",
            i.busy_secs,
            i.pain_ms.len(),
            i.input_ms.len(),
            i.failed
        );
        println!(
            "    pain -> stop (logged and shown) (ms): {}",
            stats::line(&i.pain_ms)
        );
        println!(
            "    every input logged (ms):              {}",
            stats::line(&i.input_ms)
        );
        println!(
            "  and again with full-screen `rollcoach run` sessions in a pseudo-terminal ({:.1} s, {} sessions, {} failed):",
            i.terminal_secs,
            i.terminal_ms.len(),
            i.terminal_failed
        );
        println!(
            "    pain key -> end screen (ms): {}",
            stats::line(&i.terminal_ms)
        );
    }
    if args.json {
        let summary = |v: &[f64]| Summary::of(v).map(Summary::to_json);
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "days": args.days, "events": events, "db_bytes": bytes, "bytes_per_session": per,
                "cli_history_ms": summary(&text), "cli_history_json_ms": summary(&all_json),
                "api_history_ms": summary(&api), "api_body_bytes": body_len,
                "api_history_all_pages_ms": summary(&all_pages),
                "api_history_all_ms": summary(&whole.ms), "api_history_all_bytes": whole.bytes,
                "api_history_all_charts_ms": summary(&whole.charts_ms),
                "api_history_all_charts_bytes": whole.charts_bytes,
                "api_export_ms": summary(&api_export.ms), "api_export_bytes": api_export.bytes,
                "api_export_idle_kib": api_export.idle_kib, "api_export_peak_kib": api_export.peak_kib,
                "api_export_after_kib": api_export.after_kib,
                "cli_export_ms": cli_export.ms, "cli_export_peak_kib": cli_export.peak_kib,
                "cli_export_bytes": cli_export.bytes,
                "import": import.as_ref().map(|i| json!({
                    "doc_bytes": i.doc_bytes, "sessions": i.sessions,
                    "fresh_secs": i.fresh_secs, "fresh_peak_kib": i.fresh_peak_kib,
                    "big_export_secs": i.big_export_secs, "big_export_peak_kib": i.big_export_peak_kib,
                    "busy_secs": i.busy_secs, "pain_stop_ms": summary(&i.pain_ms),
                    "input_ms": summary(&i.input_ms), "failed": i.failed,
                    "terminal_secs": i.terminal_secs, "terminal_pain_stop_ms": summary(&i.terminal_ms),
                    "terminal_failed": i.terminal_failed,
                })),
            }))?
        );
    }
    Ok(())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `GET /api/history?all=1`, with and without charts.
struct Whole {
    ms: Vec<f64>,
    bytes: usize,
    charts_ms: Vec<f64>,
    charts_bytes: usize,
}

fn whole_history(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    args: &Args,
    days: usize,
) -> anyhow::Result<Whole> {
    rt.block_on(async {
        let mut conn = crate::http::Conn::connect(server.addr, server.token.as_deref()).await?;
        let mut w = Whole {
            ms: Vec::new(),
            bytes: 0,
            charts_ms: Vec::new(),
            charts_bytes: 0,
        };
        for charts in [false, true] {
            let path = if charts {
                "/api/history?all=1&charts=1"
            } else {
                "/api/history?all=1"
            };
            for _ in 0..args.runs {
                let t = Instant::now();
                let resp = conn.request("GET", path, None).await?;
                let took = ms(t.elapsed());
                if resp.status != 200 {
                    bail!("GET {path} answered {}: {}", resp.status, resp.body);
                }
                let doc: serde_json::Value = serde_json::from_str(&resp.body)?;
                if doc["sessions"].as_array().map_or(0, Vec::len) != days {
                    bail!("GET {path} did not list {days} sessions");
                }
                if charts {
                    w.charts_ms.push(took);
                    w.charts_bytes = resp.body.len();
                } else {
                    w.ms.push(took);
                    w.bytes = resp.body.len();
                }
            }
        }
        Ok(w)
    })
}

/// The peak of a process's resident memory, polled every 2 ms until
/// `done` says the work is over (KiB).
fn poll_peak(pid: u32, done: &std::sync::atomic::AtomicBool) -> u64 {
    let mut peak = 0;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        if let Some(kib) = server::rss_kib(pid) {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    peak
}

/// `GET /api/export` three times: time, and the server's memory before,
/// at its peak during, and 2 s after.
struct ApiExport {
    ms: Vec<f64>,
    bytes: usize,
    idle_kib: u64,
    peak_kib: u64,
    after_kib: u64,
}

fn api_export_memory(rt: &tokio::runtime::Runtime, server: &Server) -> anyhow::Result<ApiExport> {
    std::thread::sleep(Duration::from_secs(1));
    let idle_kib = server
        .rss_kib()
        .context("cannot read the server's memory")?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let pid = server.pid();
    let (result, peak_kib) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_peak(pid, &done));
        let result = rt.block_on(async {
            let mut conn = crate::http::Conn::connect(server.addr, server.token.as_deref()).await?;
            let (mut v, mut bytes) = (Vec::new(), 0);
            for _ in 0..3 {
                let t = Instant::now();
                let resp = conn.request("GET", "/api/export", None).await?;
                v.push(ms(t.elapsed()));
                if resp.status != 200 {
                    bail!("GET /api/export answered {}", resp.status);
                }
                bytes = resp.body.len();
            }
            anyhow::Ok((v, bytes))
        });
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (result, poller.join().unwrap_or(0))
    });
    let (ms, bytes) = result?;
    std::thread::sleep(Duration::from_secs(2));
    let after_kib = server.rss_kib().unwrap_or(0);
    Ok(ApiExport {
        ms,
        bytes,
        idle_kib,
        peak_kib,
        after_kib,
    })
}

/// A command run to its end: how long it took and its peak memory.
struct Measured {
    secs: f64,
    peak_kib: u64,
    stdout: String,
}

fn measure(mut cmd: Command) -> anyhow::Result<Measured> {
    let t = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start rollcoach")?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let pid = child.id();
    let (out, peak_kib) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_peak(pid, &done));
        let out = child.wait_with_output();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (out, poller.join().unwrap_or(0))
    });
    let secs = t.elapsed().as_secs_f64();
    let out = out?;
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Measured {
        secs,
        peak_kib,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

struct CliExport {
    ms: f64,
    peak_kib: u64,
    bytes: u64,
}

fn cli_export_memory(
    bin: &std::path::Path,
    db: &std::path::Path,
    dir: &std::path::Path,
) -> anyhow::Result<CliExport> {
    let out = dir.join("export.json");
    let mut cmd = Command::new(bin);
    cmd.arg("--db")
        .arg(db)
        .args(["export", "--format", "json", "-o"])
        .arg(&out);
    let m = measure(cmd)?;
    let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&out);
    Ok(CliExport {
        ms: m.secs * 1000.0,
        peak_kib: m.peak_kib,
        bytes,
    })
}

struct ImportFigures {
    doc_bytes: u64,
    sessions: u64,
    fresh_secs: f64,
    fresh_peak_kib: u64,
    big_export_secs: f64,
    big_export_peak_kib: u64,
    big_export_bytes: u64,
    busy_secs: f64,
    pain_ms: Vec<f64>,
    input_ms: Vec<f64>,
    failed: u32,
    /// The same import again, with full-screen sessions in a pseudo-terminal.
    terminal_secs: f64,
    terminal_ms: Vec<f64>,
    terminal_failed: u32,
}

/// Writes an export document of at least `mb` MB: the sessions of `doc`
/// again and again, each copy with new uids and a day later than the last.
fn write_big_document(
    doc: &rollcoach_store::ExportDocument,
    mb: u64,
    path: &std::path::Path,
) -> anyhow::Result<(u64, u64)> {
    // The copies are written with less indentation than the export's: count
    // one, as written, to know how many make `mb`.
    let mut one = Vec::new();
    for session in &doc.sessions {
        serde_json::to_writer_pretty(&mut one, session)?;
        one.extend_from_slice(b",\n");
    }
    let one = one.len() as u64;
    let copies = (mb * 1_000_000).div_ceil(one.max(1)).max(1);
    let file = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(file);
    use std::io::Write as _;
    write!(
        w,
        "{{\"format\":{},\"version\":{},\"exported_at\":{},\"sessions\":[",
        serde_json::to_string(&doc.format)?,
        doc.version,
        doc.exported_at.0
    )?;
    let mut first = true;
    for copy in 0..copies {
        for session in &doc.sessions {
            let mut session = session.clone();
            session.uid = format!("{}-{copy}", session.uid);
            // Each copy an hour earlier than the one after it: the times
            // stay in the ten years (import refuses a session before 2000).
            let back = (copies - copy) * 3_600_000;
            session.started_at = Time(session.started_at.0.saturating_sub(back));
            session.ended_at = session.ended_at.map(|t| Time(t.0.saturating_sub(back)));
            w.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer_pretty(&mut w, &session)?;
        }
    }
    write!(
        w,
        "\n],\"injuries\":{}}}\n",
        serde_json::to_string(&doc.injuries)?
    )?;
    w.flush()?;
    Ok((
        std::fs::metadata(path)?.len(),
        copies * doc.sessions.len() as u64,
    ))
}

/// One session driven as the terminal drives it (each input logged, then
/// applied), with `gap` between inputs, stopped by pain in its third rep:
/// how long each input took to log, and pain until the stop is shown.
fn timed_session(
    store: &dyn SessionLog,
    protocol: &Protocol,
    start: Time,
    gap: Duration,
    inputs: &mut Vec<f64>,
) -> anyhow::Result<f64> {
    let options = Options::default();
    let facts = store.facts_for(protocol)?;
    let id = store.begin_session(&NewSession {
        protocol,
        options: &options,
        facts: &facts,
        started_at: start,
    })?;
    let mut session = Session::new(protocol, options, facts, start)?;
    let (mut now, mut seq) = (start, 0u32);
    loop {
        let mut reply = None;
        while let Some(out) = session.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    reply = Some(Input::Answer { answer: Answer::No })
                }
                Output::Prompt(Prompt::Rating { .. }) => {
                    reply = Some(Input::Rating { value: None })
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { rep: 3, .. } => {
                    reply = Some(Input::Pain {
                        kind: PainKind::Sharp,
                    });
                }
                _ => {}
            }
        }
        let input = match reply {
            Some(i) => i,
            None if session.stage() == Stage::Ended => bail!("the session ended without a stop"),
            None => Input::Timeout,
        };
        now = match input {
            Input::Timeout => session.next_deadline().context("no deadline")?,
            _ => now.plus_ms(1000),
        };
        std::thread::sleep(gap);
        let pain = matches!(input, Input::Pain { .. });
        let t = Instant::now();
        store.append_event(id, seq, now.since(start), &input)?;
        inputs.push(ms(t.elapsed()));
        seq += 1;
        session.handle(input, now)?;
        if pain {
            while let Some(out) = session.poll_output() {
                if let Output::End {
                    outcome,
                    message,
                    summary,
                } = out
                {
                    // The stop is shown: that is the latency.
                    let shown = ms(t.elapsed());
                    store.finish_session(id, now, &outcome, &message, &summary)?;
                    return Ok(shown);
                }
            }
            bail!("pain did not stop the session");
        }
    }
}

fn import_figures(
    bin: &std::path::Path,
    db: &std::path::Path,
    doc: &rollcoach_store::ExportDocument,
    dir: &std::path::Path,
    args: &Args,
) -> anyhow::Result<ImportFigures> {
    let big = dir.join("big.json");
    let (doc_bytes, sessions) = write_big_document(doc, args.import_mb, &big)?;
    eprintln!("wrote a {doc_bytes}-byte document of {sessions} sessions");

    // Into a new file: time and peak memory.
    let fresh = dir.join("fresh.db");
    let mut cmd = Command::new(bin);
    cmd.arg("--db").arg(&fresh).arg("import").arg(&big);
    let m = measure(cmd)?;
    if !m
        .stdout
        .contains(&format!("Imported {sessions} of {sessions} sessions"))
    {
        bail!("the import did not import every session: {}", m.stdout);
    }
    // And export it again: peak memory of the export of a big file.
    let out = dir.join("big-again.json");
    let mut cmd = Command::new(bin);
    cmd.arg("--db").arg(&fresh).args(["export", "-o"]).arg(&out);
    let e = measure(cmd)?;
    let big_export_bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&out);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = fresh.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }

    // Into a copy of the ten-year file while sessions run on it.
    let busy = dir.join("busy.db");
    std::fs::copy(db, &busy)?;
    let protocol = upper_back()?;
    let session_store = SqliteStore::open(&busy)?;
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg("--db")
        .arg(&busy)
        .arg("import")
        .arg(&big)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let (mut pain_ms, mut input_ms, mut failed) = (Vec::new(), Vec::new(), 0u32);
    let gap = Duration::from_millis(args.input_gap_ms);
    let start = Time(crate::wall_ms() as u64);
    let mut n = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        match timed_session(
            &session_store,
            &protocol,
            start.plus_ms(n * 3_600_000),
            gap,
            &mut input_ms,
        ) {
            Ok(v) => pain_ms.push(v),
            Err(e) => {
                failed += 1;
                eprintln!("a session failed during the import: {e:#}");
            }
        }
        n += 1;
    };
    let busy_secs = t.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        bail!("the import during sessions failed: {err}");
    }
    drop(session_store);

    // Again, with the real full-screen terminal session in a pseudo-terminal
    // (a few seconds each): the import again into a fresh copy until there
    // are 20 samples, at most 5 times.
    let busy2 = dir.join("busy-terminal.db");
    let (mut terminal_ms, mut terminal_failed) = (Vec::new(), 0u32);
    let mut terminal_secs = 0.0;
    for _ in 0..5 {
        if terminal_ms.len() >= 20 {
            break;
        }
        for suffix in ["-wal", "-shm"] {
            let mut p = busy2.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        std::fs::copy(db, &busy2)?;
        let t = Instant::now();
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(&busy2)
            .arg("import")
            .arg(&big)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            match crate::terminal::pain_to_stop(bin, &busy2) {
                Ok(v) => terminal_ms.push(v),
                Err(e) => {
                    terminal_failed += 1;
                    eprintln!("a terminal session failed during the import: {e:#}");
                }
            }
        };
        terminal_secs += t.elapsed().as_secs_f64();
        if !status.success() {
            bail!("the import during terminal sessions failed");
        }
    }
    let _ = std::fs::remove_file(&big);
    Ok(ImportFigures {
        doc_bytes,
        sessions,
        fresh_secs: m.secs,
        fresh_peak_kib: m.peak_kib,
        big_export_secs: e.secs,
        big_export_peak_kib: e.peak_kib,
        big_export_bytes,
        busy_secs,
        pain_ms,
        input_ms,
        failed,
        terminal_secs,
        terminal_ms,
        terminal_failed,
    })
}
