//! Connections: the accept loop of [`crate::serve`] and [`crate::serve_tls`],
//! with timeouts and caps so that nobody on the network can hold every
//! connection and lock the paired phone out.
//!
//! - A connection that has not sent a complete request head within
//!   [`ConnLimits::header_timeout`] is closed; hyper restarts that timer
//!   whenever a kept-alive connection waits for its next request, so it is
//!   the idle keep-alive timeout too. Over https the TLS handshake must end
//!   within [`ConnLimits::tls_handshake_timeout`].
//! - At most [`ConnLimits::max_connections`] connections are open at once,
//!   and at most [`ConnLimits::max_per_peer`] from one IP address that is not
//!   trusted. A connection over a cap is closed as soon as it is accepted:
//!   it holds no file descriptor.
//! - Trusted peers: this machine's own `127.0.0.1` and `::1`, and every
//!   address that presented a valid pairing cookie (the last
//!   [`TRUSTED_REMEMBERED`] of them, in memory). They are exempt from the
//!   per-peer cap, and [`ConnLimits::reserved_for_trusted`] of the overall
//!   cap is theirs alone: strangers filling their share cannot keep them out.
//! - When the strangers' share is full, a stranger holding fewer connections
//!   than the largest holder takes the oldest connection of that holder (it
//!   is closed), so one or a few addresses cannot keep a newcomer, such as a
//!   phone about to pair or paired before a restart, out.
//! - An accept error (out of file descriptors, ...) is waited out briefly,
//!   never a busy loop and never the end of the server.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::AppState;

/// How many trusted (paired) addresses are remembered; the oldest is
/// forgotten first.
pub const TRUSTED_REMEMBERED: usize = 64;

/// File descriptors kept for everything but connections (the database, its
/// journal, the streamed answers' threads, ...) when the caps are fitted to
/// the process's open-file limit.
const FD_HEADROOM: u64 = 32;

/// Largest buffered request head and read buffer per connection, in bytes.
const MAX_BUF: usize = 64 * 1024;

/// Timeouts and caps on connections ([`crate::Config::limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections open at once, at most. Default 256. If the process's
    /// open-file limit is lower, the server uses that limit less 32 instead
    /// (and the reserve shrinks in proportion).
    pub max_connections: usize,
    /// Connections open at once from one IP address that is not trusted.
    /// Default 32.
    pub max_per_peer: usize,
    /// Part of `max_connections` that only trusted peers (paired devices,
    /// this machine) may use. Default 64; below `max_connections`.
    pub reserved_for_trusted: usize,
    /// Time a connection has to send a complete request head, from when it
    /// opens or from the end of its previous answer (so also the idle
    /// keep-alive timeout). Default 10 s.
    pub header_timeout: Duration,
    /// Time an https client has to finish the TLS handshake. Default 10 s.
    pub tls_handshake_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> ConnLimits {
        ConnLimits {
            max_connections: 256,
            max_per_peer: 32,
            reserved_for_trusted: 64,
            header_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnLimits {
    /// Why these limits cannot work, if they cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        if self.max_per_peer == 0 {
            return Err("max_per_peer must be at least 1".into());
        }
        if self.reserved_for_trusted >= self.max_connections {
            return Err(format!(
                "reserved_for_trusted ({}) must be below max_connections ({}), or strangers \
                 (a phone about to pair) could never connect",
                self.reserved_for_trusted, self.max_connections
            ));
        }
        for (name, d) in [
            ("header_timeout", self.header_timeout),
            ("tls_handshake_timeout", self.tls_handshake_timeout),
        ] {
            if d.is_zero() {
                return Err(format!("{name} must be above 0"));
            }
        }
        Ok(())
    }

    /// These limits within an open-file limit of `nofile` descriptors.
    pub(crate) fn fitted_to(&self, nofile: Option<u64>) -> ConnLimits {
        let Some(nofile) = nofile else {
            return self.clone();
        };
        let room = usize::try_from(nofile.saturating_sub(FD_HEADROOM))
            .unwrap_or(usize::MAX)
            .max(2);
        if room >= self.max_connections {
            return self.clone();
        }
        // Keep the reserve's share of the whole.
        let reserved = (self.reserved_for_trusted * room / self.max_connections).min(room - 1);
        ConnLimits {
            max_connections: room,
            reserved_for_trusted: reserved,
            ..self.clone()
        }
    }
}

/// The process's soft open-file limit, if it can be read.
pub(crate) fn nofile_limit() -> Option<u64> {
    rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
}

/// Who holds which connection, and who is trusted.
pub(crate) struct Peers {
    limits: ConnLimits,
    state: Mutex<PeerState>,
}

#[derive(Default)]
struct PeerState {
    /// Connections open, trusted or not.
    total: usize,
    /// Connections open from addresses not trusted when they were counted.
    strangers: usize,
    /// Open connections by address, oldest first.
    by_ip: HashMap<IpAddr, VecDeque<Held>>,
    /// Addresses that presented a valid pairing cookie, oldest first.
    trusted: VecDeque<IpAddr>,
    next_id: u64,
}

/// One open connection.
struct Held {
    id: u64,
    /// Dropping it closes the connection.
    _close: oneshot::Sender<()>,
    /// Counted in [`PeerState::strangers`]; the same for every connection
    /// of an address.
    stranger: bool,
}

impl PeerState {
    fn is_trusted(&self, ip: IpAddr) -> bool {
        is_this_machine(ip) || self.trusted.contains(&ip)
    }

    fn held(&self, ip: IpAddr) -> usize {
        self.by_ip.get(&ip).map_or(0, VecDeque::len)
    }

    /// Counts `ip`'s open connections as a stranger's (`true`) or not.
    fn recount(&mut self, ip: IpAddr, stranger: bool) {
        if let Some(conns) = self.by_ip.get_mut(&ip) {
            for held in conns.iter_mut().filter(|h| h.stranger != stranger) {
                held.stranger = stranger;
                if stranger {
                    self.strangers += 1;
                } else {
                    self.strangers -= 1;
                }
            }
        }
    }

    /// Forgets connection `id` of `ip`, if it is still counted.
    fn remove(&mut self, ip: IpAddr, id: Option<u64>) {
        let Some(conns) = self.by_ip.get_mut(&ip) else {
            return;
        };
        let at = match id {
            Some(id) => conns.iter().position(|h| h.id == id),
            None => (!conns.is_empty()).then_some(0),
        };
        let Some(held) = at.and_then(|at| conns.remove(at)) else {
            return;
        };
        if conns.is_empty() {
            self.by_ip.remove(&ip);
        }
        self.total -= 1;
        if held.stranger {
            self.strangers -= 1;
        }
        // Dropping `held` closes the connection if it still runs.
    }
}

/// `127.0.0.1` and `::1` (also as `::ffff:127.0.0.1`): a browser on this
/// machine. Other `127.x` addresses are not trusted (nothing ordinary uses
/// them; the tests play strangers from them).
fn is_this_machine(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => {
            v6 == Ipv6Addr::LOCALHOST || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST)
        }
    }
}

/// An admitted connection's place; dropping it frees the place.
pub(crate) struct Slot {
    peers: Arc<Peers>,
    ip: IpAddr,
    id: u64,
    /// Fires (with an error) when the connection is evicted.
    pub(crate) evicted: oneshot::Receiver<()>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Nothing to do if it was evicted (already counted out).
        self.peers.lock().remove(self.ip, Some(self.id));
    }
}

impl Peers {
    pub(crate) fn new(limits: ConnLimits) -> Peers {
        Peers {
            limits,
            state: Mutex::new(PeerState::default()),
        }
    }

    /// The limits in force (fitted to the open-file limit).
    pub(crate) fn limits(&self) -> &ConnLimits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, PeerState> {
        // Nothing panics while holding the lock; if something did, the
        // counts are still whole (each update is one statement).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers `ip` as trusted (it presented a valid pairing cookie).
    pub(crate) fn trust(&self, ip: IpAddr) {
        if is_this_machine(ip) {
            return;
        }
        let mut st = self.lock();
        if st.trusted.contains(&ip) {
            return;
        }
        if st.trusted.len() >= TRUSTED_REMEMBERED
            && let Some(forgotten) = st.trusted.pop_front()
        {
            st.recount(forgotten, true);
        }
        st.trusted.push_back(ip);
        st.recount(ip, false);
    }

    /// Whether `ip` is trusted now.
    #[cfg(test)]
    pub(crate) fn is_trusted(&self, ip: IpAddr) -> bool {
        self.lock().is_trusted(ip)
    }

    /// A place for a new connection from `ip`, or `None` if it is over a
    /// cap (then close it at once).
    pub(crate) fn admit(self: &Arc<Peers>, ip: IpAddr) -> Option<Slot> {
        let limits = &self.limits;
        let mut st = self.lock();
        if st.total >= limits.max_connections {
            return None;
        }
        let stranger = !st.is_trusted(ip);
        if stranger {
            let mine = st.held(ip);
            if mine >= limits.max_per_peer {
                return None;
            }
            if st.strangers >= limits.max_connections - limits.reserved_for_trusted {
                // Full: take the oldest connection of the largest stranger
                // holder, if it holds at least two more than this address
                // (so that the two end no further apart than they were).
                let largest = st
                    .by_ip
                    .iter()
                    .filter(|(_, c)| c.front().is_some_and(|h| h.stranger))
                    .max_by_key(|(_, c)| c.len())
                    .map(|(other, c)| (*other, c.len()));
                match largest {
                    Some((other, n)) if n >= mine + 2 => st.remove(other, None),
                    _ => return None,
                }
            }
        }
        let id = st.next_id;
        st.next_id += 1;
        let (tx, evicted) = oneshot::channel();
        st.by_ip.entry(ip).or_default().push_back(Held {
            id,
            _close: tx,
            stranger,
        });
        st.total += 1;
        if stranger {
            st.strangers += 1;
        }
        Some(Slot {
            peers: Arc::clone(self),
            ip,
            id,
            evicted,
        })
    }
}

/// Marks the request's peer as trusted: called where the pairing cookie is
/// accepted. Requests that did not come through [`run`] (tests calling the
/// router directly) have no peer and change nothing.
pub(crate) fn trust(state: &AppState, req: &Request) {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        state.inner.peers.trust(peer.ip());
    }
}

/// Accept errors that concern one connection only (it went away before it
/// was accepted): take the next.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Serves `state` on `listener`, over TLS if `tls` is given, forever.
pub(crate) async fn run(
    listener: TcpListener,
    state: AppState,
    tls: Option<TlsAcceptor>,
) -> io::Result<()> {
    let peers = Arc::clone(&state.inner.peers);
    let limits = peers.limits().clone();
    let app = crate::app(state);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(_) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory: wait
                // for connections to close rather than spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = peers.admit(peer.ip()) else {
            // Over a cap: closed now, so it holds no descriptor.
            drop(tcp);
            continue;
        };
        // An answer written in several small writes would otherwise wait for
        // the client's delayed ACK (Nagle's algorithm), up to 40 ms.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let limits = limits.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut slot = slot;
            let evicted = &mut slot.evicted;
            match tls {
                None => {
                    tokio::select! {
                        _ = serve_io(tcp, peer, app, &limits) => {}
                        _ = evicted => {}
                    }
                }
                Some(acceptor) => {
                    let served = async {
                        // A client that does not trust the certificate, or
                        // speaks plain http to the https port, just fails.
                        let handshake = tokio::time::timeout(
                            limits.tls_handshake_timeout,
                            acceptor.accept(tcp),
                        );
                        if let Ok(Ok(stream)) = handshake.await {
                            serve_io(stream, peer, app, &limits).await;
                        }
                    };
                    tokio::select! {
                        _ = served => {}
                        _ = evicted => {}
                    }
                }
            }
            drop(slot);
        });
    }
}

/// Serves HTTP/1.1 on one connection until it closes or times out.
async fn serve_io<I>(io: I, peer: SocketAddr, app: Router, limits: &ConnLimits)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_BUF);
    // A connection error (the client went away, a timeout, a bad request
    // head, already answered 400 by hyper) ends this connection only.
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_peer: usize, reserved: usize) -> ConnLimits {
        ConnLimits {
            max_connections: max,
            max_per_peer: per_peer,
            reserved_for_trusted: reserved,
            ..ConnLimits::default()
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    #[test]
    fn a_stranger_is_held_to_its_per_peer_cap() {
        let peers = Arc::new(Peers::new(limits(100, 3, 10)));
        let held: Vec<Slot> = (0..3).map(|_| peers.admit(ip(1)).unwrap()).collect();
        assert!(peers.admit(ip(1)).is_none());
        assert!(
            peers.admit(ip(2)).is_some(),
            "another address still gets in"
        );
        drop(held);
        assert!(peers.admit(ip(1)).is_some(), "freed places are reused");
    }

    #[test]
    fn the_reserve_is_kept_for_trusted_peers() {
        let peers = Arc::new(Peers::new(limits(6, 1, 2)));
        // Four strangers with one connection each fill their share: the
        // next stranger is refused (nobody holds two more than it).
        let strangers: Vec<Slot> = (1..=4).map(|i| peers.admit(ip(i)).unwrap()).collect();
        assert!(peers.admit(ip(5)).is_none());
        // The paired phone and this machine still get in, beyond the
        // per-peer cap, up to the overall cap.
        peers.trust(ip(9));
        let phone = peers.admit(ip(9)).unwrap();
        let local = peers.admit(IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        assert!(peers.admit(ip(9)).is_none(), "the overall cap holds");
        drop((phone, local, strangers));
    }

    #[test]
    fn a_newcomer_takes_the_oldest_connection_of_the_largest_holder() {
        let peers = Arc::new(Peers::new(limits(8, 4, 2)));
        let mut big: Vec<Slot> = (0..4).map(|_| peers.admit(ip(1)).unwrap()).collect();
        let _other: Vec<Slot> = (0..2).map(|_| peers.admit(ip(2)).unwrap()).collect();
        // The strangers' share (6) is full; ip 3 holds none, ip 1 holds 4.
        let newcomer = peers.admit(ip(3)).expect("takes a place");
        // ip 1's oldest connection was told to close.
        assert!(big[0].evicted.try_recv().is_err());
        assert!(matches!(
            big[1].evicted.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
        drop(big.remove(0));
        // Now ip 1 holds 3, ip 2 holds 2, ip 3 holds 1: ip 3 may take one
        // more from ip 1 (3 >= 1 + 2), then no more.
        let _second = peers.admit(ip(3)).expect("takes a place");
        assert!(peers.admit(ip(3)).is_none(), "everyone holds two: even");
        drop(newcomer);
    }

    #[test]
    fn a_stranger_that_pairs_leaves_the_strangers_share() {
        let peers = Arc::new(Peers::new(limits(5, 1, 2)));
        let phone = peers.admit(ip(1)).unwrap();
        let others: Vec<Slot> = (3..=4).map(|i| peers.admit(ip(i)).unwrap()).collect();
        assert!(
            peers.admit(ip(2)).is_none(),
            "the strangers' share (3) is full"
        );
        peers.trust(ip(1));
        let other = peers
            .admit(ip(2))
            .expect("the phone's connection left the share");
        drop(phone);
        assert_eq!(peers.lock().total, 3);
        assert_eq!(peers.lock().strangers, 3);
        drop((other, others));
        assert_eq!(peers.lock().total, 0);
        assert_eq!(peers.lock().strangers, 0);
        assert!(peers.lock().by_ip.is_empty());
    }

    #[test]
    fn trust_is_remembered_for_the_last_addresses_only() {
        let peers = Peers::new(ConnLimits::default());
        for i in 0..=TRUSTED_REMEMBERED {
            peers.trust(IpAddr::V4(Ipv4Addr::new(
                10,
                1,
                (i / 256) as u8,
                (i % 256) as u8,
            )));
        }
        assert!(!peers.is_trusted(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0))));
        assert!(peers.is_trusted(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1))));
        assert!(peers.is_trusted(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(!peers.is_trusted(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    }

    #[test]
    fn limits_fit_the_open_file_limit() {
        let d = ConnLimits::default();
        assert_eq!(d.fitted_to(Some(20_000)), d);
        assert_eq!(d.fitted_to(None), d);
        let small = d.fitted_to(Some(160));
        assert_eq!(small.max_connections, 128);
        assert_eq!(small.reserved_for_trusted, 32);
        assert!(small.check().is_ok());
        assert!(d.fitted_to(Some(0)).check().is_ok());
    }

    #[test]
    fn impossible_limits_are_refused() {
        let bad = limits(10, 1, 10);
        assert!(bad.check().unwrap_err().contains("reserved_for_trusted"));
        assert!(limits(0, 1, 0).check().is_err());
        assert!(limits(10, 0, 0).check().is_err());
        let zero = ConnLimits {
            header_timeout: Duration::ZERO,
            ..ConnLimits::default()
        };
        assert!(zero.check().unwrap_err().contains("header_timeout"));
    }
}
