//! `rollcoach-load`: benchmarks of rollcoach at scale, on this machine only.
//!
//! - `sessions`: N live WebSocket sessions against a real `rollcoach serve`
//!   on loopback; cue timing, stop latency, memory per live session.
//! - `drift`: one long session on the server's real timers next to a naive
//!   driver that sleeps each phase's duration; how far each falls behind.
//! - `history`: ten years of daily sessions; `rollcoach history` and
//!   `GET /api/history` latency, database size per session.
//! - `cues`: whole sessions in the full-screen terminal with a stand-in
//!   espeak-ng; breath-cue start lateness, cues dropped and cut, per tempo.
//! - `footprint`: idle memory of `serve`, time to accept connections,
//!   binary size, `rollcoach --help` time.
//!
//! Every run is bounded in sessions and time, talks only to loopback, starts
//! its own server (on a free port, with a fresh database in a temporary
//! directory) unless given one, and stops by itself. Figures go in
//! BENCHMARKS.md.

mod cues;
mod drift;
mod footprint;
mod history;
mod http;
mod load;
mod server;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks of rollcoach at scale (loopback only, bounded runs).
#[derive(Debug, Parser)]
#[command(
    name = "rollcoach-load",
    version,
    after_help = "\
Examples:
  rollcoach-load sessions --sessions 10000          # 10,000 live sessions, real time
  rollcoach-load drift --minutes 30 --speed 20      # a 30-minute session in 90 s
  rollcoach-load history --days 3650                # ten years of daily sessions
  rollcoach-load footprint
  rollcoach-load cues --bin target/release/rollcoach --tempo 2,4,6

Build first: cargo build --release -p rollcoach -p rollcoach-load"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open N live WebSocket sessions and measure cue timing, stop latency and memory.
    Sessions(load::Args),
    /// A long session on the server's timers next to a naive sleeping driver: drift.
    Drift(drift::Args),
    /// Ten years of daily sessions: history latency (CLI and API), database size.
    History(history::Args),
    /// Whole terminal sessions with a stand-in espeak-ng: breath-cue lateness, drops, cuts.
    Cues(cues::Args),
    /// Idle memory, time to accept connections, binary size, --help time.
    Footprint(footprint::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sessions(args) => load::run(args),
        Command::Drift(args) => drift::run(args),
        Command::History(args) => history::run(args),
        Command::Cues(args) => cues::run(args),
        Command::Footprint(args) => footprint::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The wall clock in milliseconds since the Unix epoch, with sub-ms precision.
pub(crate) fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// WebSocket buffers for many small frames: tungstenite zero-fills its whole
/// read buffer (128 KiB by default) on every read, which would make 10,000
/// client sockets cost 1.3 GB.
pub(crate) fn small_ws_buffers() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}
