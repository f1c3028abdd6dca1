//! rollcoach's server: `rollcoach serve`.
//!
//! The phone page runs its sessions itself (the engine's runner in
//! WebAssembly, on the phone's clock) and syncs each finished one here:
//! `POST /api/sync/sessions` stores a session only after replaying its event
//! log through the same runner and getting what the page claims
//! ([`rollcoach_store::verify_session`]). The server serves the page, the
//! protocols it runs, history, injuries, export and sync; it runs no session
//! itself. `/api/openapi.json` describes the API. [`app`] builds the router,
//! so tests can call it without a socket; [`serve`] runs it on a listener.
//!
//! Every request needs a device's cookie or a token ([`lan`]): on loopback
//! the browser gets its cookie by opening the link `serve` prints
//! ([`AppState::login_url`]); in LAN mode ([`Access::Lan`]) by opening a
//! one-time pairing link ([`AppState::pairing_url`], `rollcoach pair`).
//! Devices are kept in the store, so they stay paired across restarts.
#![deny(missing_docs)]

pub mod accounts;
mod api;
mod assets;
mod coach;
mod config;
mod conn;
mod devices;
mod error;
pub mod lan;
mod memory;
mod openapi;
mod store;
mod streamed;
mod sync;
pub mod tls;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rollcoach_engine::Time;
use rollcoach_protocol::Protocol;

pub use conn::{ConnLimits, TRUSTED_REMEMBERED};
pub use error::ApiError;

/// Largest request body accepted, in bytes: the protocol crate's
/// [`rollcoach_protocol::SYNC_BODY_LIMIT`], which `protocols lint` sizes
/// every protocol's sessions against.
pub const BODY_LIMIT: usize = rollcoach_protocol::SYNC_BODY_LIMIT;

/// Who may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Loopback only: a `Host` of this machine, and the cookie that the
    /// link `serve` prints gives (or its token as a bearer token).
    Loopback,
    /// Reachable from the LAN: every request needs a paired device's cookie.
    Lan,
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Session clock speed for the pages this server serves: 1.0 is real
    /// time, 20.0 runs twenty times faster (demos, tests). The page reads it
    /// and runs its session clock at it.
    pub speed: f64,
    /// Who may connect.
    pub access: Access,
    /// Served over https (`serve --tls-cert`): cookies get the `Secure`
    /// flag, so a browser never sends them over plain http.
    pub tls: bool,
    /// Timeouts and caps on connections, against a LAN denial of service
    /// (see [`ConnLimits`] for the defaults).
    pub limits: ConnLimits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            speed: 1.0,
            access: Access::Loopback,
            tls: false,
            limits: ConnLimits::default(),
        }
    }
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Shared with every replay that verifies a pushed session, not copied.
    protocols: Vec<Arc<Protocol>>,
    /// The same protocols with their JSON, for verifying pushed sessions.
    catalog: Arc<rollcoach_store::SyncCatalog>,
    store: store::StoreHandle,
    /// Who the server knows besides its owner (coaches, their clients):
    /// `None` on a server made without ([`AppState::new`]), which answers
    /// the accounts' routes as a server with no coaches.
    people: Option<Arc<dyn rollcoach_store::People>>,
    config: Config,
    auth: lan::Auth,
    /// Open connections by peer, and the trusted peers.
    peers: Arc<conn::Peers>,
    /// The streamed answers running.
    streams: Arc<streamed::Streams>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The speed is not one ([`rollcoach_store::Speed`]).
    #[error("--speed: {0}")]
    Speed(rollcoach_store::Invalid),
    /// The connection limits cannot work.
    #[error("connection limits: {0}")]
    Limits(String),
    /// The OS gave no randomness for the pairing token.
    #[error("could not get a random pairing token from the OS: {0}")]
    Random(String),
    /// The store could not record the pairing link.
    #[error("could not record the pairing link in the database: {0}")]
    Store(rollcoach_store::StoreError),
    /// A protocol could not be written as JSON (a bug in rollcoach).
    #[error("could not write protocol `{id}` as JSON: {error}")]
    Catalog {
        /// The protocol.
        id: String,
        /// Why.
        error: String,
    },
}

impl AppState {
    /// State over these protocols and this store (opened by the caller,
    /// whatever its backend).
    pub fn new(
        protocols: Vec<Protocol>,
        store: Arc<dyn rollcoach_store::Records>,
        config: Config,
    ) -> Result<AppState, StartError> {
        AppState::build(protocols, store, None, config)
    }

    /// As [`AppState::new`], with the people the server knows (usually the
    /// same backend as the records): coaches sign in, invite clients and
    /// see their clients' devices ([`rollcoach_store::People`]). A server
    /// with no coaches answers every other route exactly as without.
    pub fn with_people(
        protocols: Vec<Protocol>,
        store: Arc<dyn rollcoach_store::Records>,
        people: Arc<dyn rollcoach_store::People>,
        config: Config,
    ) -> Result<AppState, StartError> {
        AppState::build(protocols, store, Some(people), config)
    }

    fn build(
        protocols: Vec<Protocol>,
        store: Arc<dyn rollcoach_store::Records>,
        people: Option<Arc<dyn rollcoach_store::People>>,
        config: Config,
    ) -> Result<AppState, StartError> {
        rollcoach_store::Speed::parse(config.speed).map_err(StartError::Speed)?;
        config.limits.check().map_err(StartError::Limits)?;
        let peers = Arc::new(conn::Peers::new(
            config.limits.fitted_to(conn::nofile_limit()),
        ));
        let protocols: Vec<Arc<Protocol>> = protocols.into_iter().map(Arc::new).collect();
        let catalog =
            rollcoach_store::SyncCatalog::new(&protocols).map_err(|e| StartError::Catalog {
                id: protocols
                    .iter()
                    .map(|p| p.id.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                error: e.to_string(),
            })?;
        // Last: in LAN mode it writes a pairing link into the store, which a
        // start refused for its input should not leave behind.
        let auth = lan::Auth::new(store.as_ref(), config.access, config.tls)?;
        Ok(AppState {
            inner: Arc::new(Inner {
                protocols,
                catalog: Arc::new(catalog),
                store: store::StoreHandle::new(store),
                people,
                config,
                auth,
                streams: Arc::new(streamed::Streams::new(peers.limits())),
                peers,
            }),
        })
    }

    /// How the server runs.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The connection limits in force: [`Config::limits`], lowered to fit
    /// the process's open-file limit if that is lower.
    pub fn conn_limits(&self) -> &ConnLimits {
        self.inner.peers.limits()
    }

    /// The one-time pairing path (`/pair?token=...`) made at start in LAN
    /// mode, while this server has not seen it used (it also expires after
    /// [`lan::PAIRING_LINK_TTL_MS`]).
    pub fn pairing_path(&self) -> Option<String> {
        self.inner.auth.pairing_path()
    }

    /// On loopback, the path of the link `serve` prints (`/?token=...`):
    /// opening it lets a browser in (a cookie) for as long as it keeps it,
    /// across restarts.
    pub fn login_path(&self) -> Option<String> {
        self.inner.auth.login_path()
    }

    /// The full loopback link for a base such as `http://127.0.0.1:7878`.
    pub fn login_url(&self, base: &str) -> Option<String> {
        self.login_path()
            .map(|p| format!("{}{p}", base.trim_end_matches('/')))
    }

    /// On loopback, the token of that link: also accepted as
    /// `Authorization: Bearer TOKEN`, for scripts and tests that hold it.
    pub fn access_token(&self) -> Option<&str> {
        self.inner.auth.local_token()
    }

    /// The full pairing URL for a base such as `http://192.168.1.5:7878`.
    pub fn pairing_url(&self, base: &str) -> Option<String> {
        self.pairing_path()
            .map(|p| format!("{}{p}", base.trim_end_matches('/')))
    }

    fn protocol(&self, id: &str) -> Result<&Protocol, ApiError> {
        self.inner
            .protocols
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| {
                let known: Vec<&str> = self.inner.protocols.iter().map(|p| p.id.as_str()).collect();
                ApiError::not_found(format!(
                    "unknown protocol `{id}`; known protocols: {}",
                    known.join(", ")
                ))
            })
            .map(|p| &**p)
    }
}

/// The wall clock as engine time (ms since the Unix epoch).
pub(crate) fn wall_now() -> Time {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Time(ms)
}

/// The whole HTTP app: API, sync, pairing and the embedded page.
pub fn app(state: AppState) -> Router {
    // Every route, from the one table the OpenAPI document is made of.
    let router = openapi::router()
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let router = router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        lan::guard,
    ));
    router.with_state(state)
}

/// Serves the app on a bound listener, forever (the caller decides when to
/// stop, e.g. on Ctrl-C). Each connection runs on a task of its own, within
/// the timeouts and caps of [`Config::limits`]; an accept error (such as
/// running out of file descriptors) is waited out, never fatal.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    conn::run(listener, state, None).await
}

/// As [`serve`], over https with this certificate and key
/// (`serve --tls-cert/--tls-key`); the TLS handshake runs on the
/// connection's task, within [`ConnLimits::tls_handshake_timeout`].
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: tls::TlsConfig,
    state: AppState,
) -> std::io::Result<()> {
    conn::run(listener, state, Some(tls.acceptor())).await
}
