//! `rollcoach-load`: benchmarks of rollcoach at scale, on this machine only.
//!
//! - `sync`: N sessions run here by the engine's runner, as the page runs
//!   them, pushed to a real `rollcoach serve` on loopback; sessions verified
//!   (replayed) and stored per second, and a page's 1,000 pushes one by one.
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

mod conns;
mod cues;
mod footprint;
mod history;
mod http;
mod server;
mod stats;
mod sync;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks of rollcoach at scale (loopback only, bounded runs).
#[derive(Debug, Parser)]
#[command(
    name = "rollcoach-load",
    version,
    after_help = "\
Examples:
  rollcoach-load sync --sessions 20000              # pushed sessions verified and stored per second
  rollcoach-load history --days 3650                # ten years of daily sessions
  rollcoach-load footprint
  rollcoach-load cues --bin target/release/rollcoach --tempo 2,4,6
  rollcoach-load conns --idle 300 --half 300     # the paired phone while strangers hold connections

Build first: cargo build --release -p rollcoach -p rollcoach-load"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Push N sessions run by the engine here, as pages do: verified and stored per second.
    Sync(sync::Args),
    /// Ten years of daily sessions: history latency (CLI and API), database size.
    History(history::Args),
    /// Whole terminal sessions with a stand-in espeak-ng: breath-cue lateness, drops, cuts.
    Cues(cues::Args),
    /// Idle memory, time to accept connections, binary size, --help time.
    Footprint(footprint::Args),
    /// The paired phone's requests while strangers hold idle and half-sent connections.
    Conns(conns::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sync(args) => sync::run(args),
        Command::History(args) => history::run(args),
        Command::Cues(args) => cues::run(args),
        Command::Footprint(args) => footprint::run(args),
        Command::Conns(args) => conns::run(args),
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
