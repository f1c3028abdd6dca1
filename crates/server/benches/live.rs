//! Live-session figures of `rollcoach serve` on loopback (issue 5):
//!
//! - phase-change lateness at the client with N live sessions;
//! - a pain report to the stop message back at the client, with N live sessions;
//! - idle resident memory of the release `rollcoach serve` and its time from
//!   start to accepting connections.
//!
//! ```text
//! cargo build --release -p rollcoach        # for the footprint figures
//! cargo bench -p rollcoach-server --bench live -- [--sessions 1000] [--probes 200]
//! ```
//!
//! Everything runs on 127.0.0.1, bounded in sessions and time, and stops by
//! itself. The server runs in this process (same code as `serve`), with a
//! real SQLite file in a temporary directory; the clients are
//! tokio-tungstenite WebSockets over loopback.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rollcoach_server::{AppState, Config};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const TEMPO_S: f64 = 4.0;
const REPS: u32 = 5;
/// No run may take longer than this.
const LIMIT: Duration = Duration::from_secs(240);

struct Args {
    sessions: usize,
    probes: usize,
}

fn args() -> Args {
    let mut a = Args {
        sessions: 1000,
        probes: 200,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value: Option<usize> = argv.get(i + 1).and_then(|v| v.parse().ok());
        match (argv[i].as_str(), value) {
            ("--sessions", Some(v)) => a.sessions = v.min(5000),
            ("--probes", Some(v)) => a.probes = v.min(1000),
            _ => {}
        }
        i += 1;
    }
    a
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{name}: n={} median={:.3} ms p99={:.3} ms max={:.3} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    let _ = ws.send(Message::Text(v.to_string().into())).await;
}

async fn start_session(addr: SocketAddr) -> Ws {
    let body =
        json!({"protocol": "upper-back", "options": {"reps": REPS, "tempo_seconds": TEMPO_S}})
            .to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /api/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut resp = String::new();
    stream.read_to_string(&mut resp).await.expect("read");
    let json_start = resp.find("\r\n\r\n").expect("response body") + 4;
    let created: Value = serde_json::from_str(&resp[json_start..]).expect("created JSON");
    let id = created["id"].as_i64().expect("session id");
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/sessions/{id}/ws"))
        .await
        .expect("websocket");
    ws
}

/// Answers the prompts until the first phase; returns its arrival instant.
async fn to_rolling(ws: &mut Ws) -> Instant {
    while let Some(f) = next(ws).await {
        match (f["type"].as_str(), f["kind"].as_str()) {
            (Some("prompt"), Some("screening")) => {
                send(ws, json!({"type": "answer", "answer": "no"})).await
            }
            (Some("prompt"), Some("ready")) => send(ws, json!({"type": "ready"})).await,
            (Some("phase"), _) => return Instant::now(),
            _ => {}
        }
    }
    panic!("session ended before rolling");
}

/// A session rolled to the end: the lateness of each phase change (ms),
/// against a schedule anchored on its earliest-arriving phase.
async fn background(addr: SocketAddr) -> Vec<f64> {
    let mut ws = start_session(addr).await;
    let first = to_rolling(&mut ws).await;
    let mut arrivals = vec![(0u32, first)];
    let mut index = 0u32;
    while let Some(f) = next(&mut ws).await {
        match f["type"].as_str() {
            Some("phase") => {
                index += 1;
                arrivals.push((index, Instant::now()));
            }
            Some("prompt") => send(&mut ws, json!({"type": "rating", "value": null})).await,
            Some("end") => break,
            _ => {}
        }
    }
    // Phase k is due k tempos after phase 0 (absolute deadlines). The first
    // phase starts on the person's `ready`, not a timer, so the anchor is the
    // earliest arrival once shifted back: lateness is then measured against
    // the best delivery this session saw.
    let phase = Duration::from_secs_f64(TEMPO_S);
    let anchor = arrivals
        .iter()
        .skip(1)
        .map(|(k, t)| *t - phase * *k)
        .min()
        .unwrap_or(first);
    arrivals
        .iter()
        .skip(1)
        .map(|(k, t)| {
            t.saturating_duration_since(anchor + phase * *k)
                .as_secs_f64()
                * 1000.0
        })
        .collect()
}

/// A session that reports pain over the spine mid-phase: ms from sending it
/// to the stop message arriving.
async fn probe(addr: SocketAddr, delay_ms: u64) -> f64 {
    let mut ws = start_session(addr).await;
    to_rolling(&mut ws).await;
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    let sent = Instant::now();
    send(&mut ws, json!({"type": "pain", "kind": "spine"})).await;
    while let Some(f) = next(&mut ws).await {
        if f["type"] == "end" {
            return sent.elapsed().as_secs_f64() * 1000.0;
        }
    }
    panic!("no stop message");
}

async fn live_figures(a: &Args) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        rollcoach_store_sqlite::SqliteStore::open(dir.path().join("bench.db")).expect("store");
    let state = AppState::new(
        rollcoach_protocol::builtin(),
        Box::new(store),
        Config {
            grace: Duration::from_secs(120),
            ..Config::default()
        },
    )
    .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(rollcoach_server::serve(listener, state.clone()));

    // Spread the background sessions' starts over one phase, so their phase
    // changes are spread as real people's would be.
    let spread = Duration::from_secs_f64(TEMPO_S);
    let mut tasks = Vec::new();
    for i in 0..a.sessions {
        let at = spread.mul_f64(i as f64 / a.sessions.max(1) as f64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(at).await;
            background(addr).await
        }));
    }
    // Probes start once every background session is live, spread over two phases.
    tokio::time::sleep(spread + Duration::from_millis(500)).await;
    let live = state.live_sessions();
    let mut probes = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..a.probes {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = 100 + seed % 1500;
        let at = (spread * 2).mul_f64(i as f64 / a.probes.max(1) as f64);
        probes.push(tokio::spawn(async move {
            tokio::time::sleep(at).await;
            probe(addr, delay).await
        }));
    }
    let mut stop_ms = Vec::new();
    for p in probes {
        stop_ms.push(p.await.expect("probe"));
    }
    let mut late_ms = Vec::new();
    for t in tasks {
        late_ms.extend(t.await.expect("session"));
    }
    println!("live sessions when the probes started: {live}");
    report(
        &format!(
            "phase-change lateness at the client, {} live sessions",
            a.sessions
        ),
        late_ms,
    );
    report(
        &format!(
            "pain over the spine -> stop message at the client, {} live sessions",
            a.sessions
        ),
        stop_ms,
    );
}

/// Idle RSS and time to accept connections of the release binary, if built.
fn footprint() {
    let bin =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/rollcoach");
    if !bin.is_file() {
        println!("footprint: skipped, build it first: cargo build --release -p rollcoach");
        return;
    }
    let mut ready_ms = Vec::new();
    let mut rss_kb = Vec::new();
    for _ in 0..10 {
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let mut child = std::process::Command::new(&bin)
            .arg("--db")
            .arg(dir.path().join("f.db"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("ROLLCOACH_PROTOCOLS", dir.path().join("protocols"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn rollcoach serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("banner");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("URL printed");
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("addr");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "serve did not accept within 5 s");
            std::thread::sleep(Duration::from_micros(200));
        }
        ready_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(500));
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        if let Some(kb) = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
        {
            rss_kb.push(kb);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    report("serve: start to accepting connections", ready_ms);
    let mut mb: Vec<f64> = rss_kb.iter().map(|kb| kb / 1024.0).collect();
    mb.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "serve: idle resident memory median={:.1} MB max={:.1} MB (n={})",
        percentile(&mb, 50.0),
        mb.last().copied().unwrap_or(f64::NAN),
        mb.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let a = args();
    footprint();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if tokio::time::timeout(LIMIT, live_figures(&a)).await.is_err() {
            println!("live figures: gave up after {LIMIT:?}");
        }
    });
}
