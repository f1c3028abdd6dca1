//! rollcoach's server: `rollcoach serve`.
//!
//! Each live session is one [`rollcoach_engine::Runner`] owned by a tokio
//! task that sleeps until the engine's next deadline, computed from the
//! session's start instant, so cues never drift. The phone page connects over
//! a WebSocket (`/api/sessions/{id}/ws`, frames typed in [`wire`]): the server
//! sends the engine's outputs as JSON and the page sends the person's inputs,
//! each appended to the store's event log before the engine applies it. The JSON API serves
//! protocols, sessions, history, injuries and export; `/api/openapi.json`
//! describes it. [`app`] builds the router, so tests can call it without a
//! socket; [`serve`] runs it on a listener.
//!
//! In LAN mode ([`Access::Lan`]) every request needs the pairing cookie, got
//! by opening the one-time pairing URL ([`AppState::pairing_url`]).
#![deny(missing_docs)]

mod api;
mod assets;
mod error;
pub mod lan;
mod live;
mod openapi;
mod store;
mod streamed;
mod timer;
pub mod wire;
mod ws;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rollcoach_engine::Time;
use rollcoach_protocol::Protocol;

pub use error::ApiError;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Who may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Loopback only: no pairing needed.
    Loopback,
    /// Reachable from the LAN: every request needs the pairing cookie, and
    /// WebSocket upgrades must come from the server's own origin.
    Lan,
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Session clock speed: 1.0 is real time, 20.0 runs twenty times faster.
    pub speed: f64,
    /// How long (real time) a rolling session may have no page attached
    /// before the server pauses it.
    pub grace: Duration,
    /// How long (real time) an ended session stays live for a page to
    /// reconnect and see the end.
    pub linger: Duration,
    /// How long (real time) a session that has not ended may have no page
    /// attached before the server records it as interrupted and lets it go
    /// (a page closed during screening or setup, or left after the grace
    /// pause). Without it such sessions would stay in memory until restart.
    pub abandon: Duration,
    /// How often (real time) the server pings an attached page. A page that
    /// has sent nothing, not even a pong, for three of these is taken as gone
    /// (a locked phone can leave its connection open without a word).
    pub heartbeat: Duration,
    /// Who may connect.
    pub access: Access,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            speed: 1.0,
            grace: Duration::from_secs(20),
            linger: Duration::from_secs(60),
            abandon: Duration::from_secs(30 * 60),
            heartbeat: Duration::from_secs(5),
            access: Access::Loopback,
        }
    }
}

/// The most sessions live at once; more is refused with 503.
pub const MAX_LIVE_SESSIONS: usize = 20_000;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Shared with every live session of them (`Session::with_arc`), not copied.
    protocols: Vec<Arc<Protocol>>,
    store: store::StoreHandle,
    config: Config,
    live: Mutex<HashMap<i64, live::LiveHandle>>,
    pairing: Option<lan::Pairing>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The speed is not a positive number.
    #[error("--speed must be a number above 0 and at most 1000, got {0}")]
    Speed(f64),
    /// The OS refused a thread for the store.
    #[error("could not start the store thread: {0}")]
    Thread(std::io::Error),
    /// The OS gave no randomness for the pairing token.
    #[error("could not get a random pairing token from the OS: {0}")]
    Random(String),
}

impl AppState {
    /// State over these protocols and this store (opened by the caller,
    /// whatever its backend).
    pub fn new(
        protocols: Vec<Protocol>,
        store: Box<dyn rollcoach_store::Store>,
        config: Config,
    ) -> Result<AppState, StartError> {
        if !(config.speed.is_finite() && config.speed > 0.0 && config.speed <= 1000.0) {
            return Err(StartError::Speed(config.speed));
        }
        let pairing = match config.access {
            Access::Loopback => None,
            Access::Lan => Some(lan::Pairing::new().map_err(StartError::Random)?),
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                protocols: protocols.into_iter().map(Arc::new).collect(),
                store: store::StoreHandle::spawn(store).map_err(StartError::Thread)?,
                config,
                live: Mutex::new(HashMap::new()),
                pairing,
            }),
        })
    }

    /// The one-time pairing path (`/pair?token=...`) in LAN mode, while it
    /// has not been used.
    pub fn pairing_path(&self) -> Option<String> {
        self.inner.pairing.as_ref().and_then(|p| p.path())
    }

    /// The full pairing URL for a base such as `http://192.168.1.5:7878`.
    pub fn pairing_url(&self, base: &str) -> Option<String> {
        self.pairing_path()
            .map(|p| format!("{}{p}", base.trim_end_matches('/')))
    }

    /// Number of sessions live right now.
    pub fn live_sessions(&self) -> usize {
        self.inner.live.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn protocol(&self, id: &str) -> Result<&Protocol, ApiError> {
        self.protocol_arc(id).map(|p| &**p)
    }

    fn protocol_arc(&self, id: &str) -> Result<&Arc<Protocol>, ApiError> {
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

/// The whole HTTP app: API, WebSocket, pairing and the embedded page.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .merge(api::routes())
        .merge(ws::routes())
        .merge(lan::routes())
        .merge(assets::routes())
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
/// stop, e.g. on Ctrl-C; sessions left live are recovered from their logs
/// the next time the store is opened).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // A batch of frames (sync, then the phase or the stop) is several small
    // writes: with Nagle's algorithm the second waits for the page's delayed
    // ACK, up to 40 ms late.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(state)).await
}
