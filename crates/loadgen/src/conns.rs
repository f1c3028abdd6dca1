//! `rollcoach-load conns`: the paired phone's request latency while
//! strangers hold idle and half-sent connections (issue 13, finding 3).
//!
//! Starts `rollcoach serve --lan` on loopback under a low open-file limit
//! (`ulimit -n`, as on the machine where the finding was seen), pairs a
//! "phone" at 127.0.0.200, then holds `--idle` connections that send nothing
//! and `--half` that send half a request head, from `--strangers` addresses
//! 127.0.0.2, 127.0.0.3, ... (all loopback on Linux). Each is reopened when
//! the server closes it (after a pause), as a persistent attacker would.
//! Meanwhile the phone sends `--requests` requests, each on a new connection
//! with its cookie, and the tool reports how many were answered within
//! `--timeout-ms` and their latency.

use crate::footprint::Killed;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::server::{raise_nofile, rollcoach_bin, serving_addr};
use crate::stats::Summary;

/// The phone's address.
const PHONE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 200);

/// Half a request head: never complete.
const HALF_HEAD: &[u8] = b"GET /api/history HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: app";

/// `rollcoach-load conns` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Connections that send nothing.
    #[arg(long, default_value_t = 300)]
    pub idle: usize,
    /// Connections that send half a request head.
    #[arg(long, default_value_t = 300)]
    pub half: usize,
    /// Addresses the strangers come from (127.0.0.2 on; at most 190).
    #[arg(long, default_value_t = 20)]
    pub strangers: u8,
    /// Requests the phone sends, one after another.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// A request not answered within this many milliseconds counts as failed.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Pause of a stranger before reopening a closed connection, in ms.
    #[arg(long, default_value_t = 50)]
    pub reopen_ms: u64,
    /// The server's open-file limit (`ulimit -n`).
    #[arg(long, default_value_t = 256)]
    pub nofile: u64,
    /// The `rollcoach` binary [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Starts `rollcoach serve --lan --addr 127.0.0.1:0` under `ulimit -n`;
/// returns it, its address and its pairing path.
fn spawn(
    bin: &std::path::Path,
    db: &std::path::Path,
    nofile: u64,
) -> anyhow::Result<(Killed, SocketAddr, String)> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n "$0" && exec "$1" --db "$2" serve --lan --addr 127.0.0.1:0"#)
        .arg(nofile.to_string())
        .arg(bin)
        .arg(db)
        .env_remove("ROLLCOACH_NOW")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start sh")?;
    let stdout = child.stdout.take().context("no stdout from the server")?;
    let server = Killed(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut addr = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(a) = serving_addr(&line) {
                addr = Some(a);
            }
            if let (Some(a), Some(url)) = (addr, line.split_once("one time only): ")) {
                let path = url.1.split_once(&a.to_string()).map(|(_, p)| p.to_owned());
                let _ = tx.send((a, path));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok((addr, Some(path))) => Ok((server, addr, path)),
        Ok((_, None)) => bail!("cannot read the pairing path from the banner"),
        Err(_) => bail!("rollcoach serve --lan printed no pairing link within 20 s"),
    }
}

async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(server).await
}

/// `GET path` from the phone on a new connection; the whole answer.
async fn get(server: SocketAddr, path: &str, cookie: Option<&str>) -> anyhow::Result<String> {
    let mut conn = connect_from(PHONE, server).await?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let head =
        format!("GET {path} HTTP/1.1\r\nHost: {server}\r\n{cookie}Connection: close\r\n\r\n");
    conn.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

fn status(answer: &str) -> Option<u16> {
    answer.split(' ').nth(1)?.parse().ok()
}

/// One stranger's connection, reopened whenever it is closed, until `stop`.
async fn stranger(
    from: Ipv4Addr,
    server: SocketAddr,
    half: bool,
    reopen: Duration,
    stop: Arc<AtomicBool>,
    open: Arc<AtomicUsize>,
) {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut conn) = connect_from(from, server).await {
            open.fetch_add(1, Ordering::Relaxed);
            if !half || conn.write_all(HALF_HEAD).await.is_ok() {
                // Until the server closes it.
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 || stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
            open.fetch_sub(1, Ordering::Relaxed);
        }
        tokio::time::sleep(reopen).await;
    }
}

/// Runs the measurement.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.strangers == 0 || args.strangers > 190 {
        bail!(
            "--strangers must be 1 to 190 (127.0.0.2 to 127.0.0.191), got {}",
            args.strangers
        );
    }
    let bin = rollcoach_bin(args.rollcoach.as_deref())?;
    // This tool holds every connection's client end.
    raise_nofile(u64::try_from(args.idle + args.half).unwrap_or(u64::MAX) + 1024)?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let (server_proc, server, pair_path) = spawn(&bin, &dir.path().join("conns.db"), args.nofile)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        // Pair, and the first request with the cookie (as the page does).
        let answer = get(server, &pair_path, None).await?;
        let cookie = answer
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("pairing gave no cookie: {answer}"))?;
        let answer = get(server, "/api/config", Some(&cookie)).await?;
        if status(&answer) != Some(200) {
            bail!("the paired phone was refused before any load: {answer}");
        }

        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..args.idle + args.half {
            let from = Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(args.strangers)) as u8);
            tasks.push(tokio::spawn(stranger(
                from,
                server,
                i >= args.idle,
                Duration::from_millis(args.reopen_ms),
                Arc::clone(&stop),
                Arc::clone(&open),
            )));
        }
        // Let the strangers connect.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let held_at_start = open.load(Ordering::Relaxed);

        let limit = Duration::from_millis(args.timeout_ms);
        let mut answered = Vec::new();
        let mut failed = 0usize;
        for _ in 0..args.requests {
            let t = Instant::now();
            match tokio::time::timeout(limit, get(server, "/api/config", Some(&cookie))).await {
                Ok(Ok(a)) if status(&a) == Some(200) => {
                    answered.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                _ => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let held_at_end = open.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.abort();
        }
        Ok(json!({
            "idle": args.idle,
            "half": args.half,
            "strangers": args.strangers,
            "server_nofile": args.nofile,
            "requests": args.requests,
            "answered": answered.len(),
            "failed_or_over_timeout": failed,
            "timeout_ms": args.timeout_ms,
            "latency_ms": Summary::of(&answered).map(Summary::to_json),
            "stranger_connections_open_at_start": held_at_start,
            "stranger_connections_open_at_end": held_at_end,
        }))
    })?;
    drop(server_proc);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} idle + {} half-sent connections from {} addresses (server ulimit -n {}): \
             {}/{} phone requests answered within {} ms",
            args.idle,
            args.half,
            args.strangers,
            args.nofile,
            report["answered"],
            args.requests,
            args.timeout_ms
        );
        println!("  latency of the answered, ms: {}", report["latency_ms"]);
        println!(
            "  stranger connections open (client side): {} at start, {} at end",
            report["stranger_connections_open_at_start"],
            report["stranger_connections_open_at_end"]
        );
    }
    Ok(())
}
