//! `rollcoach-load sync`: the server's scale now that pages run sessions
//! themselves: how many pushed sessions `rollcoach serve` verifies (replays
//! through the engine's runner) and stores per second, and how long a page
//! takes to push 1,000 sessions one by one.
//!
//! The sessions are real: each is run here by the engine's runner on a
//! virtual clock (the test kit's autopilot), as the page runs it (screening answered, ratings given,
//! setup steps, every phase to its deadline; one in ten stopped by pain at
//! rep 3, one in seven let go at rep 4 as a page closed mid-session), and
//! pushed with the log and end the runner gave, so the server's replay gets
//! what each claims. They are made and written as JSON before the clock
//! starts. A forged one (a "completed" claim with a pain stop inside) is
//! pushed at the end and must be refused.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use rollcoach_engine::{Input, Options, PainKind, Time};
use rollcoach_protocol::Protocol;
use rollcoach_store::{Event, ExportedSession, FinishedRun, SessionOutcome};
use rollcoach_testkit::{Act, Autopilot, Point};

use crate::http::{self, Conn};
use crate::server::{self, ServeOptions, Server};
use crate::stats;

/// Most sessions pushed in the concurrent part.
const MAX_SESSIONS: usize = 200_000;

/// `rollcoach-load sync` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Sessions pushed concurrently (the throughput figure).
    #[arg(long, default_value_t = 20_000)]
    pub sessions: usize,
    /// Connections pushing at once in the concurrent part.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Sessions then pushed one by one over one connection, as a page syncs
    /// its backlog (0: skip).
    #[arg(long, default_value_t = 1000)]
    pub one_by_one: usize,
    /// A `rollcoach serve` already running on loopback: the link it printed
    /// (http://127.0.0.1:7878/?token=...; its token lets the tool in);
    /// by default the tool starts its own on a free port with a fresh database.
    #[arg(long)]
    pub url: Option<String>,
    /// The `rollcoach` binary to start [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Directory for the started server's database [default: a temporary directory].
    #[arg(long)]
    pub db_dir: Option<PathBuf>,
    /// Threads of this client (the server has its own).
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
}

/// How a generated session goes.
#[derive(Debug, Clone, Copy)]
struct Plan {
    rating: Option<u8>,
    pain_at_rep: Option<u32>,
    gone_at_rep: Option<u32>,
}

fn plan(n: usize) -> Plan {
    Plan {
        rating: u8::try_from(n % 12).ok().filter(|r| *r <= 10),
        pain_at_rep: (n % 10 == 3).then_some(3),
        gone_at_rep: (n % 7 == 5).then_some(4),
    }
}

/// One session of `protocol` run by the engine's runner on a virtual clock
/// from `start`, as a page runs and pushes it.
fn run_session(
    protocol: &Arc<Protocol>,
    uid: String,
    start: Time,
    plan: Plan,
) -> anyhow::Result<ExportedSession> {
    let options = Options {
        reasons: protocol
            .indications
            .first()
            .map(|i| vec![i.id.clone()])
            .unwrap_or_default(),
        ..Options::default()
    };
    // A person who answers each prompt after 1.2 s and reacts after 1.2 s.
    let mut person = rollcoach_testkit::Plan::default()
        .options(options)
        .rating(plan.rating)
        .think_ms(1_200)
        .react_ms(1_200);
    if let Some(rep) = plan.pain_at_rep {
        person = person.at(
            Point::Rep(rep),
            Input::Pain {
                kind: PainKind::Pop,
            },
        );
    }
    if let Some(rep) = plan.gone_at_rep {
        person = person.at(Point::Rep(rep), Act::LetGo { after_ms: 1_500 });
    }
    let run = Autopilot::start(protocol.clone(), person, start)
        .context("the protocol's default options")?
        .run()?;
    let end = run
        .end
        .as_ref()
        .context("a session that neither ended nor was let go")?;
    let events: Vec<Event> = run.log.iter().map(Event::from).collect();
    Ok(ExportedSession::finished(FinishedRun {
        uid: &uid,
        protocol,
        protocol_json: &serde_json::to_value(&**protocol)?,
        options: &run.options,
        facts: &run.facts,
        started_at: start,
        events: &events,
        end,
    }))
}

/// `count` sessions as JSON bodies, uids `{prefix}-{n}`, started a minute
/// apart ending an hour ago.
fn bodies(protocol: &Arc<Protocol>, prefix: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let now = crate::wall_ms() as u64;
    (0..count)
        .map(|n| {
            let start = Time(now - 3_600_000 - (count - n) as u64 * 60_000);
            let s = run_session(protocol, format!("{prefix}-{n}"), start, plan(n))?;
            Ok(serde_json::to_string(&s)?)
        })
        .collect()
}

/// Pushes one body; the server's status and answer.
async fn push(conn: &mut Conn, body: &str) -> anyhow::Result<http::Response> {
    conn.request("POST", "/api/sync/sessions", Some(body)).await
}

/// Runs the benchmark and prints the report.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.sessions == 0 || args.sessions > MAX_SESSIONS {
        bail!(
            "--sessions must be from 1 to {MAX_SESSIONS}, got {}",
            args.sessions
        );
    }
    if args.concurrency == 0 || args.concurrency > 1024 || args.client_threads == 0 {
        bail!("--concurrency must be from 1 to 1024, and --client-threads at least 1");
    }
    // One socket per connection here, one in the server (which inherits this limit).
    server::raise_nofile(args.concurrency as u64 + 256)?;
    let protocol = rollcoach_testkit::protocol_arc("upper-back");
    let run_id = format!("{:x}", crate::wall_ms() as u64);
    let made = Instant::now();
    let concurrent = bodies(&protocol, &format!("load-{run_id}"), args.sessions)?;
    let single = bodies(&protocol, &format!("page-{run_id}"), args.one_by_one)?;
    let made_s = made.elapsed().as_secs_f64();
    let sizes: Vec<f64> = concurrent.iter().map(|b| b.len() as f64).collect();
    let kinds = outcomes(&concurrent);

    let dir = match &args.db_dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .context("cannot create a temporary directory for the database")?;
    let (server, addr, token) = match &args.url {
        Some(url) => (None, http::loopback_addr(url)?, http::url_token(url)),
        None => {
            let bin = server::rollcoach_bin(args.rollcoach.as_deref())?;
            let db = dir.path().join("sync.db");
            let s = Server::spawn(&ServeOptions {
                bin: &bin,
                db: &db,
                speed: 1.0,
                protocols_dir: None,
            })?;
            let (addr, token) = (s.addr, s.token.clone());
            (Some(s), addr, token)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cpu_before = server.as_ref().and_then(|s| server::cpu_ticks(s.pid()));
    let concurrent = Arc::new(concurrent);
    let (elapsed, latencies) = runtime.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (next, bodies, token) = (next.clone(), concurrent.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::connect(addr, token.as_deref()).await?;
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let r = push(&mut conn, body).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    if r.status != 201 {
                        bail!("session {i}: {} {}", r.status, r.body);
                    }
                }
                anyhow::Ok(lat)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.context("a pushing task failed")??);
        }
        anyhow::Ok((started.elapsed().as_secs_f64(), all))
    })?;
    let cpu_after = server.as_ref().and_then(|s| server::cpu_ticks(s.pid()));
    let rss = server.as_ref().and_then(Server::rss_kib);
    let server_cores = cpu_before
        .zip(cpu_after)
        .map(|(a, b)| (b - a) as f64 / 100.0 / elapsed);

    let (one_total, one_each, again, forged, total, rounds) = runtime.block_on(async {
        let mut conn = Conn::connect(addr, token.as_deref()).await?;
        let started = Instant::now();
        let mut each = Vec::new();
        for (i, body) in single.iter().enumerate() {
            let t = Instant::now();
            let r = push(&mut conn, body).await?;
            each.push(t.elapsed().as_secs_f64() * 1000.0);
            if r.status != 201 {
                bail!("one by one, session {i}: {} {}", r.status, r.body);
            }
        }
        let total = started.elapsed().as_secs_f64();
        // Pushing one again is idempotent; a forgery is refused.
        let again = push(&mut conn, &concurrent[0]).await?;
        let mut forged: ExportedSession = serde_json::from_str(
            concurrent
                .iter()
                .find(|b| b.contains("\"outcome\":{\"outcome\":\"stopped\""))
                .context("a pain stop among the sessions")?,
        )?;
        forged.uid = format!("forged-{run_id}");
        forged.outcome = Some(SessionOutcome::Completed);
        forged.reason = None;
        let forged = push(&mut conn, &serde_json::to_string(&forged)?).await?;
        let history = conn.request("GET", "/api/history?limit=1", None).await?;
        let v: serde_json::Value = serde_json::from_str(&history.body)?;
        let rounds = idle_rounds(&mut conn).await?;
        anyhow::Ok((total, each, again, forged, v["total"].as_u64(), rounds))
    })?;
    drop(server);

    let n = args.sessions as f64;
    println!(
        "rollcoach-load sync: {} sessions over {} connections, then {} one by one",
        args.sessions, args.concurrency, args.one_by_one
    );
    println!(
        "  sessions made by the engine's runner here: {} in {made_s:.1} s ({kinds}); JSON {}",
        args.sessions + args.one_by_one,
        stats::line(&sizes)
    );
    println!(
        "  verified (replayed) and stored: {:.0} sessions/s ({} in {elapsed:.2} s); server CPU {}",
        n / elapsed,
        args.sessions,
        server_cores.map_or("unknown".to_owned(), |c| format!("{c:.2} cores of 2"))
    );
    println!(
        "  push latency under load (ms): {}",
        stats::line(&latencies)
    );
    if args.one_by_one > 0 {
        println!(
            "  {} pushed one by one, as a page: {one_total:.2} s; each (ms): {}",
            args.one_by_one,
            stats::line(&one_each)
        );
    }
    println!(
        "  pushed again: {} {}; forged \"completed\" with a pain stop: {} {}",
        again.status, again.body, forged.status, forged.body
    );
    println!(
        "  history total after the run: {}; server RSS after the concurrent part: {}",
        total.map_or("unknown".to_owned(), |t| t.to_string()),
        rss.map_or("unknown".to_owned(), |k| format!("{k} KiB"))
    );
    println!(
        "  a device's sync round with nothing new, median of {ROUNDS}: \
         the full pull (GET /api/injuries, then GET /api/history?limit=200 to its end) \
         {} bytes in {:.1} ms; GET /api/sync/changes?since=CURSOR {} bytes in {:.2} ms",
        rounds.full_bytes, rounds.full_ms, rounds.changes_bytes, rounds.changes_ms
    );
    if again.status != 200 || forged.status != 422 {
        bail!("the server did not answer a repeat with 200 and a forgery with 422");
    }
    Ok(())
}

/// Rounds of each kind timed for [`idle_rounds`].
const ROUNDS: usize = 5;

/// What a device's sync round with nothing new costs, both ways: the pull
/// the page did before issue 19 (the injuries, then every history page),
/// and the changes after the cursor it keeps now.
struct Rounds {
    full_bytes: usize,
    full_ms: f64,
    changes_bytes: usize,
    changes_ms: f64,
}

async fn idle_rounds(conn: &mut Conn) -> anyhow::Result<Rounds> {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut full, mut full_bytes) = (Vec::new(), 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let mut bytes = conn.request("GET", "/api/injuries", None).await?.body.len();
        let mut before: Option<String> = None;
        for _ in 0..50 {
            let path = match &before {
                None => "/api/history?limit=200".to_owned(),
                Some(b) => format!("/api/history?limit=200&before={b}"),
            };
            let r = conn.request("GET", &path, None).await?;
            bytes += r.body.len();
            let v: serde_json::Value = serde_json::from_str(&r.body)?;
            match v["next"].as_str() {
                Some(next) => before = Some(next.to_owned()),
                None => break,
            }
        }
        full.push(t.elapsed().as_secs_f64() * 1000.0);
        full_bytes = bytes;
    }
    // The cursor at the end, as a device that has pulled everything keeps it.
    let mut since: Option<String> = None;
    loop {
        let path = match &since {
            None => "/api/sync/changes".to_owned(),
            Some(c) => format!("/api/sync/changes?since={c}"),
        };
        let r = conn.request("GET", &path, None).await?;
        if r.status != 200 {
            bail!("GET {path}: {} {}", r.status, r.body);
        }
        let v: serde_json::Value = serde_json::from_str(&r.body)?;
        since = v["next"].as_str().map(str::to_owned).or(since);
        if v["more"] != serde_json::Value::Bool(true) {
            break;
        }
    }
    let since = since.context("the changes gave no cursor")?;
    let (mut changes, mut changes_bytes) = (Vec::new(), 0);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let r = conn
            .request("GET", &format!("/api/sync/changes?since={since}"), None)
            .await?;
        changes.push(t.elapsed().as_secs_f64() * 1000.0);
        let v: serde_json::Value = serde_json::from_str(&r.body)?;
        if v["changes"].as_array().is_none_or(|c| !c.is_empty()) {
            bail!("a round with nothing new got changes: {}", r.body);
        }
        changes_bytes = r.body.len();
    }
    Ok(Rounds {
        full_bytes,
        full_ms: median(full),
        changes_bytes,
        changes_ms: median(changes),
    })
}

/// How the sessions ended, counted.
fn outcomes(bodies: &[String]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for b in bodies {
        let kind = ["completed", "stopped", "interrupted", "refused"]
            .into_iter()
            .find(|k| b.contains(&format!("\"outcome\":{{\"outcome\":\"{k}\"")))
            .unwrap_or("other");
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sessions_verify_and_cover_each_ending() {
        let protocol = rollcoach_testkit::protocol_arc("upper-back");
        let catalog = rollcoach_store::SyncCatalog::new(std::slice::from_ref(&protocol)).unwrap();
        let now = Time(crate::wall_ms() as u64);
        let mut kinds = std::collections::BTreeSet::new();
        for n in 0..40 {
            let start = Time(now.0 - 3_600_000 - n as u64 * 60_000);
            let s = run_session(&protocol, format!("t-{n}"), start, plan(n)).unwrap();
            rollcoach_store::verify_session(&s, &catalog, now)
                .unwrap_or_else(|e| panic!("session {n}: {e}"));
            kinds.insert(s.outcome.unwrap().kind());
        }
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["completed", "interrupted", "stopped"]
        );
    }
}
