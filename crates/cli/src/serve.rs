//! `rollcoach serve`: the guided session on a phone, through the browser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use rollcoach_server::{Access, AppState, Config};
use rollcoach_store::Speed;

use crate::{Global, UsageError};

/// Default port.
const PORT: u16 = 7878;

/// `rollcoach serve` arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  rollcoach serve                      # prints http://127.0.0.1:7878/?token=...: open it on this machine
  rollcoach serve --lan                # a phone on the same Wi-Fi scans the QR code
  rollcoach pair                       # while it runs: a one-time link for another device
  rollcoach devices list               # the devices it lets in; `devices revoke ID` shuts one out
  rollcoach serve --addr 127.0.0.1:0   # any free port (printed)
  rollcoach serve --speed 20           # a session clock twenty times faster, for demos and tests
  rollcoach serve --lan --tls-cert rollcoach.lan.pem --tls-key rollcoach.lan-key.pem
                                       # https, so the phone can install the app and use it offline")]
pub struct Args {
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:7878, or 0.0.0.0:7878 with --lan].
    #[arg(long, value_name = "ADDR")]
    addr: Option<SocketAddr>,
    /// Listen on every interface so a phone on the same network can connect. Prints a one-time
    /// pairing link and its QR code (`rollcoach pair` prints another); devices that have not
    /// paired are refused. Paired devices are kept in the database, so they stay paired.
    #[arg(long)]
    lan: bool,
    /// Session clock speed: 1 is real time, 20 runs twenty times faster (demos, tests).
    #[arg(long, default_value = "1", value_name = "FACTOR")]
    speed: Speed,
    /// No longer used (the page runs its sessions itself); accepted so that scripts that pass it
    /// still start the server.
    #[arg(long = "grace", hide = true, value_name = "SECONDS")]
    _grace: Option<u64>,
    /// Serve https with this PEM certificate (chain) for the name the phone opens; needs --tls-key.
    /// A phone's browser installs the app, keeps it offline and keeps the screen on only over https.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: Args, global: &Global) -> anyhow::Result<u8> {
    let addr = match (args.addr, args.lan) {
        (Some(addr), false) if !addr.ip().is_loopback() => {
            return Err(UsageError(format!(
                "{addr} is not a loopback address; add --lan to serve other devices (they must pair first)"
            ))
            .into());
        }
        (Some(addr), _) => addr,
        (None, false) => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), PORT),
        (None, true) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT),
    };

    // The certificate first: its errors need no database or port.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(rollcoach_server::tls::TlsConfig::from_pem_files(cert, key)?)
        }
        _ => None,
    };

    let catalog = crate::protocols::catalog(global);
    for problem in catalog.problems() {
        eprintln!("warning: skipping an invalid protocol file:\n{problem}");
    }
    let store = crate::db::open_store(global)?;
    store.require_writable()?;
    let runtime_base = crate::db::runtime_base(global)?;
    let config = Config {
        speed: args.speed.get(),
        access: if args.lan {
            Access::Lan
        } else {
            Access::Loopback
        },
        tls: tls.is_some(),
        ..Config::default()
    };
    // A long-running writer: the backend's own upkeep (SQLite: WAL
    // checkpoints) runs; without it the server still works, as a
    // short-lived process would.
    let _ = store.start_housekeeping();
    // Coaches and clients live beside the records, in either backend; with
    // none, the server answers as it did before accounts.
    let state = AppState::with_people(
        catalog.all().to_vec(),
        store.shared(),
        store.shared_people(),
        config,
    )?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let stop = StopSignals::watch()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let Banner { lines, bases } = banner(&state, local, args.lan, scheme);
        // For `rollcoach pair`: where this server is reached, written
        // before the address is printed, so `pair` finds any server whose
        // address has been seen.
        let runtime = crate::devices::write_runtime(&runtime_base, bases);
        for line in lines {
            say(&line);
        }
        let served = async {
            match tls {
                Some(tls) => rollcoach_server::serve_tls(listener, tls, state).await,
                None => rollcoach_server::serve(listener, state).await,
            }
        };
        let ended = tokio::select! {
            served = served => served.context("the server failed"),
            signal = stop.next() => {
                signal.map(|name| eprintln!("stopped ({name})"))
            }
        };
        // Gone however it ended (but SIGKILL), or `rollcoach pair` would
        // find a stale one; only this server's: another may run on the
        // same database.
        if let Some(runtime) = runtime {
            let _ = std::fs::remove_file(runtime);
        }
        ended.map(|()| crate::exit::OK)
    })
}

/// Ctrl-C (SIGINT) and SIGTERM (what `kill` and service managers send),
/// watched from before the address is printed, so that a signal sent as
/// soon as it is seen stops the server the same way.
struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Starts watching; inside the runtime.
    fn watch() -> anyhow::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                int: signal(SignalKind::interrupt()).context("cannot watch for Ctrl-C")?,
                term: signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Waits for one; the name of the one that came.
    async fn next(mut self) -> anyhow::Result<&'static str> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => Ok("Ctrl-C"),
                _ = self.term.recv() => Ok("SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            tokio::signal::ctrl_c()
                .await
                .map(|()| "Ctrl-C")
                .context("cannot watch for Ctrl-C")
        }
    }
}

/// Prints a line, ignoring a closed stdout: the server keeps serving when
/// whoever started it stops reading (a pipe closed after the URL).
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Where the server is and how to get in, as lines to print, and the base
/// addresses devices reach it at, the likeliest first.
fn banner(state: &AppState, local: SocketAddr, lan: bool, scheme: &str) -> Banner {
    let mut lines = Vec::new();
    if !lan {
        let base = format!("{scheme}://{local}");
        let url = state.login_url(&base).unwrap_or_else(|| format!("{base}/"));
        lines.push(format!("rollcoach serving on {url}"));
        lines.push(
            "Open that link in a browser on this machine: its token lets the browser in (other \
             accounts on this computer cannot get in without it; keep it to yourself). Ctrl-C stops."
                .to_owned(),
        );
        return Banner {
            lines,
            bases: vec![base],
        };
    }
    let host = if local.ip().is_unspecified() {
        rollcoach_server::lan::lan_ipv4()
            .map(IpAddr::V4)
            .unwrap_or(local.ip())
    } else {
        local.ip()
    };
    let base = format!("{scheme}://{}", SocketAddr::new(host, local.port()));
    let mut bases = vec![base.clone()];
    lines.push(format!(
        "rollcoach serving on {base}/ (LAN: devices must pair first)"
    ));
    if let Some(url) = state.pairing_url(&base) {
        lines.push(format!("Pair your phone (one time only): {url}"));
        if let Some(qr) = rollcoach_server::lan::qr_unicode(&url) {
            lines.push(qr);
        }
        lines.push(
            "The link pairs one device within an hour; `rollcoach pair` prints another while this \
             runs. Paired devices stay paired (`rollcoach devices list`, `rollcoach devices revoke ID`)."
                .to_owned(),
        );
    }
    if local.ip().is_unspecified() {
        // The same one-time link at this machine's other addresses.
        for ip in rollcoach_server::lan::lan_ipv4s().into_iter().skip(1) {
            let other = format!(
                "{scheme}://{}",
                SocketAddr::new(IpAddr::V4(ip), local.port())
            );
            if let Some(url) = state.pairing_url(&other) {
                lines.push(format!("  or, on another network of this machine: {url}"));
            }
            bases.push(other);
        }
    }
    if scheme == "https" {
        lines.push("https: open it by a name or address that the certificate holds.".to_owned());
    }
    lines.push("Ctrl-C stops.".to_owned());
    Banner { lines, bases }
}

/// What [`banner`] gives.
struct Banner {
    lines: Vec<String>,
    bases: Vec<String>,
}
