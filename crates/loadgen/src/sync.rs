//! `rollcoach-load sync`: the server's scale now that pages run sessions
//! themselves: how many pushed sessions `rollcoach serve` verifies (replays
//! through the engine's runner) and stores per second, and how long a page
//! takes to push 1,000 sessions one by one.
//!
//! The sessions are real: each is run here by the engine's [`Runner`] on a
//! virtual clock, as the page runs it (screening answered, ratings given,
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
use rollcoach_engine::{Facts, Input, Options, Output, PainKind, Prompt, Runner, Time};
use rollcoach_protocol::{Answer, Protocol};
use rollcoach_store::{Event, ExportedSession, FinishedRun, SessionOutcome};

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
    let mut runner = Runner::start(protocol.clone(), options.clone(), Facts::default(), start)
        .context("the protocol's default options")?;
    let mut log = Vec::new();
    let mut now = start;
    let end = 'run: loop {
        if let Some(end) = runner.end_record() {
            break end;
        }
        let mut reply = None;
        while let Some((_, out)) = runner.poll_output() {
            match out {
                Output::Prompt(Prompt::Screening { .. }) => {
                    reply = Some(Input::Answer { answer: Answer::No });
                }
                Output::Prompt(Prompt::Rating { .. }) => {
                    reply = Some(Input::Rating { value: plan.rating });
                }
                Output::Prompt(Prompt::Ready { .. }) => reply = Some(Input::Ready),
                Output::Phase { rep, .. } if Some(rep) == plan.pain_at_rep => {
                    reply = Some(Input::Pain {
                        kind: PainKind::Pop,
                    });
                }
                Output::Phase { rep, .. } if Some(rep) == plan.gone_at_rep => {
                    break 'run runner.interrupt(now.plus_ms(1_500));
                }
                _ => {}
            }
        }
        let batch = match reply {
            Some(input) => {
                now = now.plus_ms(1_200);
                runner.offer(input, now)?
            }
            None => {
                now = runner
                    .next_deadline()
                    .context("a session that waits for nothing")?;
                runner.advance(now)
            }
        };
        log.extend_from_slice(batch.entries());
        runner.commit(batch)?;
    };
    let events: Vec<Event> = log.iter().map(Event::from).collect();
    Ok(ExportedSession::finished(FinishedRun {
        uid: &uid,
        protocol,
        protocol_json: &serde_json::to_value(&**protocol)?,
        options: &options,
        facts: &Facts::default(),
        started_at: start,
        events: &events,
        end: &end,
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
    let protocol = Arc::new(
        rollcoach_protocol::builtin()
            .into_iter()
            .find(|p| p.id == "upper-back")
            .context("the built-in upper-back protocol")?,
    );
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

    let (one_total, one_each, again, forged, total) = runtime.block_on(async {
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
        anyhow::Ok((total, each, again, forged, v["total"].as_u64()))
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
    if again.status != 200 || forged.status != 422 {
        bail!("the server did not answer a repeat with 200 and a forgery with 422");
    }
    Ok(())
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
        let protocol = Arc::new(rollcoach_protocol::builtin().remove(0));
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
