//! `rollcoach pair` and `rollcoach devices list|revoke`: the devices that
//! `rollcoach serve` lets in (issue 13).
//!
//! These work on the database only, like every other command: `pair`
//! records a one-time pairing link (its token's hash) that any `serve` on
//! the same database accepts within an hour, and prints it for the address
//! the running `serve` wrote in its runtime file ([`RuntimeFile`], beside
//! the database) or the one given with `--url`. `devices revoke` marks the
//! device revoked; the server checks the database on every request, so the
//! device's next request is refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use rollcoach_engine::Time;
use rollcoach_store::Device;
use serde::{Deserialize, Serialize};

use crate::db::{self, format_local};
use crate::{Global, UsageError};

/// `rollcoach pair` arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  rollcoach pair                               # while `rollcoach serve --lan` runs
  rollcoach pair --url http://192.168.1.5:7878 # the address the phone reaches the server at")]
pub struct PairArgs {
    /// The address the device reaches the server at [default: the one the running `rollcoach
    /// serve` on this database prints].
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// `rollcoach devices` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the devices `rollcoach serve` lets in (and the revoked ones).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device: its next request to `rollcoach serve` is refused.
    Revoke {
        /// The device's id, from `rollcoach devices list`.
        id: String,
    },
}

/// What a running `serve` tells other commands, in its own runtime file
/// beside the database, `<database>.serve.<pid>.json` ([`runtime_path`]):
/// several servers may run on one database, and each removes only its own
/// file when it stops.
#[derive(Debug, Serialize, Deserialize)]
pub struct RuntimeFile {
    /// The server's process id.
    pub pid: u32,
    /// The base addresses devices reach it at, the likeliest first.
    pub urls: Vec<String>,
}

/// The runtime file of the server `pid` on the database at `db`.
pub fn runtime_path(db: &Path, pid: u32) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".serve.{pid}.json"));
    PathBuf::from(name)
}

/// Writes this process's runtime file (owner-only); a failure only loses
/// `pair`'s default address.
pub fn write_runtime(db: &Path, urls: Vec<String>) -> Option<PathBuf> {
    let path = runtime_path(db, std::process::id());
    let text = serde_json::to_string(&RuntimeFile {
        pid: std::process::id(),
        urls,
    })
    .ok()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write as _;
    let mut file = options.open(&path).ok()?;
    file.write_all(text.as_bytes()).ok()?;
    Some(path)
}

/// The runtime files of the servers on the database at `db`, the most
/// recently written first (the one of an older rollcoach,
/// `<database>.serve.json`, too). A file left by a server that was killed
/// outright is among them: [`pair`] keeps only those whose address answers.
fn runtime_files(db: &Path) -> Vec<RuntimeFile> {
    let Some(name) = db.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!("{name}.serve.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, RuntimeFile)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".json")
        })
        .filter_map(|e| {
            let written = e.metadata().and_then(|m| m.modified()).ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some((written, serde_json::from_str(&text).ok()?))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, r)| r).collect()
}

/// The wall clock (pairing links expire on the server's clock, never a
/// pinned one).
pub(crate) fn wall_now() -> Time {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Time(ms)
}

/// Whether something answers at the `host:port` of `url`.
fn answers(url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    authority.to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
    })
}

/// The base address of a `rollcoach serve` running on the database at
/// `db` that answers now, if any.
pub(crate) fn running_server(db: &Path) -> Option<String> {
    runtime_files(db)
        .into_iter()
        .filter_map(|r| r.urls.into_iter().next())
        .find(|u| answers(u))
}

/// `rollcoach pair`.
pub fn pair(args: PairArgs, global: &Global) -> anyhow::Result<u8> {
    let runtime = db::runtime_base(global)?;
    let base = match args.url {
        Some(url) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(UsageError(format!(
                    "--url {url:?} is not an http:// or https:// address, e.g. http://192.168.1.5:7878"
                ))
                .into());
            }
            url
        }
        None => running_server(&runtime).ok_or_else(|| {
            UsageError(format!(
                "no `rollcoach serve` is running on {}: start one (`rollcoach serve --lan` prints \
                     its own pairing link), or give the address devices reach it at with --url",
                db::location_shown(global)
            ))
        })?,
    };
    let store = db::open_store(global)?;
    let path = rollcoach_server::lan::new_pairing_link(
        store.records(),
        store.owner(),
        "the terminal (rollcoach pair)",
        wall_now(),
    )
    .context("cannot record the pairing link")?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    outln!("Pair a device (one time, within an hour): {url}");
    if let Some(qr) = rollcoach_server::lan::qr_unicode(&url) {
        outln!("{qr}");
    }
    Ok(crate::exit::OK)
}

/// `rollcoach devices ...`.
pub fn run(cmd: Command, global: &Global) -> anyhow::Result<u8> {
    let store = db::open_store(global)?;
    match cmd {
        Command::List { json } => {
            let devices = store.records().devices(store.owner())?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&devices)?);
                return Ok(crate::exit::OK);
            }
            if devices.is_empty() {
                outln!(
                    "No devices. `rollcoach serve` lets in the browsers that open its link; `rollcoach pair` pairs another."
                );
                return Ok(crate::exit::OK);
            }
            outln!(
                "{:<10} {:<26} {:<17} {:<17} STATUS",
                "ID",
                "NAME",
                "PAIRED",
                "LAST SEEN"
            );
            for d in &devices {
                outln!("{}", row(d));
            }
            Ok(crate::exit::OK)
        }
        Command::Revoke { id } => {
            match store
                .records()
                .revoke_device(store.owner(), &id, wall_now())?
            {
                Some(d) => {
                    outln!(
                        "Revoked device {} ({}): it is refused from its next request.",
                        d.id,
                        crate::term::one_line(&d.name)
                    );
                    Ok(crate::exit::OK)
                }
                None => Err(UsageError(format!(
                    "no device with id {id:?}; `rollcoach devices list` shows the ids"
                ))
                .into()),
            }
        }
    }
}

fn row(d: &Device) -> String {
    let status = match d.revoked_at {
        Some(t) => format!("revoked {}", format_local(t)),
        None => "active".to_owned(),
    };
    format!(
        "{:<10} {:<26} {:<17} {:<17} {status} (via {})",
        d.id,
        crate::term::one_line(&d.name),
        format_local(d.created_at),
        d.last_seen_at.map_or_else(|| "-".to_owned(), format_local),
        d.via
    )
}
