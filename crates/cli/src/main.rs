//! The `rollcoach` binary: a thin layer of clap commands over the protocol,
//! engine, store and server crates.
// Doc comments here double as `--help` text, where `<data dir>` reads right.
#![allow(rustdoc::invalid_html_tags)]

/// `println!` for command output: a closed pipe (`rollcoach history | head`)
/// ends the program quietly instead of panicking, and control characters
/// from data are escaped ([`term::escape`]).
macro_rules! outln {
    () => {
        outln!("")
    };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        if let Err(err) = writeln!(std::io::stdout().lock(), "{}", $crate::term::escape(&text)) {
            $crate::stdout_failed(err)
        }
    }};
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let mut stdout = std::io::stdout().lock();
        if let Err(err) = write!(stdout, "{}", $crate::term::escape(&text)).and_then(|()| stdout.flush()) {
            $crate::stdout_failed(err)
        }
    }};
}

/// Shadows the standard `eprintln!` in the whole crate (macros defined here
/// come before every module): std's panics when standard error is a closed
/// pipe (`rollcoach run ... 2>&1 | head -1`); this one ignores a failed write
/// (there is nowhere left to report it) and escapes control characters from
/// data ([`term::escape`]).
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stderr().lock(), "{}", $crate::term::escape(&text));
    }};
}

/// Standard output went away: a closed pipe is a normal end, anything else an error.
fn stdout_failed(err: std::io::Error) -> ! {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(exit::OK));
    }
    eprintln!("error: cannot write to standard output: {err}");
    std::process::exit(i32::from(exit::FAILURE));
}

mod coach;
mod db;
mod devices;
mod history;
mod injury;
mod migrate;
mod protocols;
mod run;
mod serve;
mod term;
mod transfer;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// The session completed (or the command succeeded).
    pub const OK: u8 = 0;
    /// Anything else went wrong.
    pub const FAILURE: u8 = 1;
    /// Usage error: bad flag, value out of range, unknown protocol.
    pub const USAGE: u8 = 2;
    /// The session was stopped (a safety rule or the person).
    pub const STOPPED: u8 = 3;
    /// The session was refused by screening.
    pub const REFUSED: u8 = 4;
}

/// An error in what the user asked for: exits with code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

const AFTER_HELP: &str = "\
Exit codes:
  0  completed (or the command succeeded)
  1  any other error
  2  usage error: bad flag, reps or tempo outside the protocol's range, unknown protocol
  3  session stopped (a safety rule or the person)
  4  session refused by screening

Examples:
  rollcoach run upper-back
  rollcoach protocols list
  rollcoach serve

Adapted from Foam Rolling the Upper Back, by Nick April, coach at Bent On Better.";

/// rollcoach: a guided, safe, spoken mobility session from a coach's handout.
#[derive(Debug, Parser)]
#[command(name = "rollcoach", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Directory of user protocol files [default: <config dir>/rollcoach/protocols].
    #[arg(long, global = true, env = "ROLLCOACH_PROTOCOLS", value_name = "DIR")]
    pub protocols_dir: Option<PathBuf>,
    /// The database: a SQLite file (a path, or `sqlite://PATH`), or a
    /// server's PostgreSQL (`postgres://...`, `postgresql://...`)
    /// [default: <data dir>/rollcoach/rollcoach.db].
    #[arg(long, global = true, env = "ROLLCOACH_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List, show, lint and render protocol files.
    #[command(subcommand)]
    Protocols(protocols::Command),
    /// Serve the guided session to a phone's browser (loopback by default; --lan to pair a phone).
    Serve(serve::Args),
    /// Print a one-time link (and QR code) that pairs another device with the running `serve`.
    Pair(devices::PairArgs),
    /// List and revoke the devices `serve` lets in.
    #[command(subcommand)]
    Devices(devices::Command),
    /// Add and list coaches: they sign in on the page and invite their clients.
    #[command(subcommand)]
    Coach(coach::Command),
    /// Run a guided session: full screen in a terminal, a script of events otherwise.
    Run(run::Args),
    /// Log, list and clear injuries (the 48-hour rule reads this log).
    #[command(subcommand)]
    Injury(injury::Command),
    /// Past sessions with ratings, a summary and a chart of the ratings over time.
    History(history::Args),
    /// Export every session (ratings, event logs) and the injury log as JSON or CSV.
    Export(transfer::ExportArgs),
    /// Import a JSON export; sessions already in the database are skipped.
    Import(transfer::ImportArgs),
    /// Move a server's data (everyone's, or one person's) to another database, e.g. SQLite to PostgreSQL.
    Migrate(migrate::Args),
    /// The phone app as static files, for any https host.
    #[command(subcommand)]
    Web(web::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Protocols(cmd) => protocols::run(cmd, &cli.global),
        Command::Serve(args) => serve::run(args, &cli.global),
        Command::Pair(args) => devices::pair(args, &cli.global),
        Command::Devices(cmd) => devices::run(cmd, &cli.global),
        Command::Coach(cmd) => coach::run(cmd, &cli.global),
        Command::Run(args) => run::run(args, &cli.global),
        Command::Injury(cmd) => injury::run(cmd, &cli.global),
        Command::History(args) => history::run(args, &cli.global),
        Command::Export(args) => transfer::export(args, &cli.global),
        Command::Import(args) => transfer::import(args, &cli.global),
        Command::Migrate(args) => migrate::run(args, &cli.global),
        Command::Web(cmd) => web::run(cmd, &cli.global),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", report(&err));
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
    }
}

/// An error and its causes, each said once: a cause whose text the message
/// already holds (a store error that quotes SQLite's, an I/O error quoted by
/// its context) is not repeated.
fn report(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
