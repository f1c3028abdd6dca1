//! `rollcoach-load footprint`: the binary's size, `rollcoach --help` time,
//! how soon `rollcoach serve` accepts connections, and its idle memory.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::server::{self, rss_kib};
use crate::stats::{self, Summary};

/// `rollcoach-load footprint` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Times to start the server and to run `--help` (at most 1,000).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// The `rollcoach` binary [default: the one beside this tool].
    #[arg(long)]
    pub rollcoach: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A child killed when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free loopback port")?;
    Ok(l.local_addr()?)
}

/// Starts `serve` on `addr` and returns it with the time until a TCP
/// connection to it succeeded (polled every 100 µs, at most 10 s). Its
/// first line (the link with its token) is left in its stdout pipe: see
/// [`printed_token`].
fn start_serve(bin: &Path, db: &Path, addr: SocketAddr) -> anyhow::Result<(Killed, Duration)> {
    let t0 = Instant::now();
    let child = Command::new(bin)
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", &addr.to_string()])
        .env_remove("ROLLCOACH_NOW")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let mut child = Killed(child);
    loop {
        if TcpStream::connect(addr).is_ok() {
            return Ok((child, t0.elapsed()));
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("rollcoach serve exited with {status} before accepting connections");
        }
        if t0.elapsed() > Duration::from_secs(10) {
            bail!("rollcoach serve did not accept connections within 10 s");
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// The token of the link a started `serve` printed first (it prints it when
/// it listens, before it accepts).
fn printed_token(child: &mut Killed) -> anyhow::Result<Option<String>> {
    use std::io::BufRead as _;
    let stdout = child.0.stdout.take().context("no stdout from the server")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    Ok(crate::http::url_token(line.trim()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Measures and prints the footprint.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.runs == 0 || args.runs > 1000 {
        bail!("--runs must be from 1 to 1000, got {}", args.runs);
    }
    let bin = server::rollcoach_bin(args.rollcoach.as_deref())?;
    let size = std::fs::metadata(&bin)?.len();
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("footprint.db");

    // First start ever: creates and migrates the database.
    let (first, first_ready) = start_serve(&bin, &db, free_port()?)?;
    drop(first);

    // Later starts, on the existing database.
    let mut ready = Vec::new();
    for _ in 0..args.runs {
        let (_child, t) = start_serve(&bin, &db, free_port()?)?;
        ready.push(ms(t));
    }

    // Idle memory: a started server left alone, then after serving the page.
    let addr = free_port()?;
    let (mut child, _) = start_serve(&bin, &db, addr)?;
    let token = printed_token(&mut child)?;
    std::thread::sleep(Duration::from_secs(1));
    let pid = child.0.id();
    let idle = rss_kib(pid);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut conn = crate::http::Conn::connect(addr, token.as_deref()).await?;
        for path in ["/", "/api/protocols", "/api/history", "/api/injuries"] {
            let resp = conn.request("GET", path, None).await?;
            if resp.status != 200 {
                bail!("GET {path} answered {}", resp.status);
            }
        }
        anyhow::Ok(())
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let after_page = rss_kib(pid);
    drop(child);

    // `rollcoach --help`, spawn to exit.
    let mut help = Vec::new();
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let status = Command::new(&bin)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        help.push(ms(t0.elapsed()));
        if !status.success() {
            bail!("rollcoach --help exited with {status}");
        }
    }

    let mib = |b: u64| b as f64 / 1_048_576.0;
    println!("rollcoach-load footprint: {}", bin.display());
    println!("  release binary: {size} bytes ({:.2} MiB)", mib(size));
    println!(
        "  spawn -> accepting connections, fresh database: {:.2} ms",
        ms(first_ready)
    );
    println!(
        "  spawn -> accepting connections, existing database (ms): {}",
        stats::line(&ready)
    );
    let kib = |k: Option<u64>| {
        k.map_or("unknown".into(), |k| {
            format!("{k} KiB ({:.1} MiB)", k as f64 / 1024.0)
        })
    };
    println!(
        "  idle serve RSS: {} after 1 s; {} after serving the page and 3 API calls",
        kib(idle),
        kib(after_page)
    );
    println!(
        "  rollcoach --help, spawn -> exit (ms): {}",
        stats::line(&help)
    );
    if args.json {
        let summary = |v: &[f64]| Summary::of(v).map(Summary::to_json);
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "binary_bytes": size,
                "ready_fresh_db_ms": ms(first_ready),
                "ready_ms": summary(&ready),
                "idle_rss_kib": idle,
                "after_page_rss_kib": after_page,
                "help_ms": summary(&help),
            }))?
        );
    }
    Ok(())
}
