//! `rollcoach serve`: the guided session on a phone, through the browser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use rollcoach_server::{Access, AppState, Config};

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
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    speed: f64,
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

/// Runs the server until Ctrl-C.
pub fn run(args: Args, global: &Global) -> anyhow::Result<u8> {
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 1000.0) {
        return Err(UsageError(format!(
            "--speed must be a number above 0 and at most 1000, got {}",
            args.speed
        ))
        .into());
    }
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
    let db_path = crate::db::db_path(global)?;
    let config = Config {
        speed: args.speed,
        access: if args.lan {
            Access::Lan
        } else {
            Access::Loopback
        },
        tls: tls.is_some(),
        ..Config::default()
    };
    let state = AppState::new(catalog.all().to_vec(), store, config)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let bases = print_banner(&state, local, args.lan, scheme);
        // For `rollcoach pair`: where this server is reached.
        let runtime = crate::devices::write_runtime(&db_path, bases);
        let served = async {
            match tls {
                Some(tls) => rollcoach_server::serve_tls(listener, tls, state).await,
                None => rollcoach_server::serve(listener, state).await,
            }
        };
        let ended = tokio::select! {
            served = served => served.context("the server failed"),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                Ok(())
            }
        };
        // Gone however it ended, or `rollcoach pair` would find a stale one.
        if let Some(runtime) = runtime {
            let _ = std::fs::remove_file(runtime);
        }
        ended.map(|()| crate::exit::OK)
    })
}

/// Prints a line, ignoring a closed stdout: the server keeps serving when
/// whoever started it stops reading (a pipe closed after the URL).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints where the server is and how to get in; returns the base
/// addresses devices reach it at, the likeliest first.
fn print_banner(state: &AppState, local: SocketAddr, lan: bool, scheme: &str) -> Vec<String> {
    if !lan {
        let base = format!("{scheme}://{local}");
        let url = state.login_url(&base).unwrap_or_else(|| format!("{base}/"));
        say!("rollcoach serving on {url}");
        say!(
            "Open that link in a browser on this machine: its token lets the browser in (other \
             accounts on this computer cannot get in without it; keep it to yourself). Ctrl-C stops."
        );
        return vec![base];
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
    say!("rollcoach serving on {base}/ (LAN: devices must pair first)");
    if let Some(url) = state.pairing_url(&base) {
        say!("Pair your phone (one time only): {url}");
        if let Some(qr) = rollcoach_server::lan::qr_unicode(&url) {
            say!("{qr}");
        }
        say!(
            "The link pairs one device within an hour; `rollcoach pair` prints another while this \
             runs. Paired devices stay paired (`rollcoach devices list`, `rollcoach devices revoke ID`)."
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
                say!("  or, on another network of this machine: {url}");
            }
            bases.push(other);
        }
    }
    if scheme == "https" {
        say!("https: open it by a name or address that the certificate holds.");
    }
    say!("Ctrl-C stops.");
    bases
}
