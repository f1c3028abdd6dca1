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
//! - Trust comes from a credential, never from an address alone (issue 24,
//!   finding 1): a connection on which a request showed a valid cookie or
//!   token is *credentialed*: it leaves the strangers' share and its
//!   address's count, and nobody's newcomer takes its place. An address
//!   from which a credential was shown (the last [`TRUSTED_REMEMBERED`] of
//!   them, in memory) is *remembered*: its new connections are exempt from
//!   the per-peer cap and may use [`ConnLimits::reserved_for_trusted`], the
//!   part of the overall cap strangers cannot take. This machine's own
//!   `127.0.0.1` and `::1` are never remembered: every account on the
//!   computer shares them, so a connection from there is a stranger until
//!   it shows a credential, held to the per-peer cap like any other; and at
//!   that cap, or when the strangers' share is full, a newcomer from there
//!   takes the place of the oldest connection from a loopback address that
//!   has shown none (so another account holding them cannot keep this
//!   computer's browser out).
//! - When the strangers' share is full, a stranger holding fewer connections
//!   than the largest holder takes the oldest connection of that holder (it
//!   is closed), so one or a few addresses cannot keep a newcomer, such as a
//!   phone about to pair or paired before a restart, out.
//! - A write the client does not take (it stopped reading an answer) for
//!   [`ConnLimits::write_timeout`] closes the connection; a streamed answer
//!   being produced for it stops and frees its thread and store handle
//!   (issue 24, finding 5). At most [`ConnLimits::max_streams`] streamed
//!   answers (the export, the whole history) run at once, at most
//!   [`ConnLimits::max_streams_per_person`] for one person's devices; the
//!   descriptors they hold are kept out of the connection caps when those
//!   are fitted to the open-file limit.
//! - An accept error (out of file descriptors, ...) is waited out briefly,
//!   never a busy loop and never the end of the server.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
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

/// File descriptors kept for everything but connections and streamed
/// answers (the database, its journal, the listener, ...) when the caps are
/// fitted to the process's open-file limit.
const FD_HEADROOM: u64 = 32;

/// File descriptors a streamed answer holds besides its connection: its
/// own store handle (SQLite: the database, its WAL and shared memory).
const FD_PER_STREAM: u64 = 3;

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
    /// Time a write of an answer may wait for the client to read, before
    /// the connection is closed (and a streamed answer's producer stops).
    /// Default 30 s.
    pub write_timeout: Duration,
    /// Streamed answers (`GET /api/export`, `GET /api/history?all=1`)
    /// running at once, at most; one more is answered 503 with
    /// `Retry-After`. Each holds a thread and a store handle of its own.
    /// Default 8.
    pub max_streams: usize,
    /// Streamed answers running at once for one person's devices and
    /// tokens. Default 2.
    pub max_streams_per_person: usize,
}

impl Default for ConnLimits {
    fn default() -> ConnLimits {
        ConnLimits {
            max_connections: 256,
            max_per_peer: 32,
            reserved_for_trusted: 64,
            header_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_streams: 8,
            max_streams_per_person: 2,
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
        if self.max_streams == 0 {
            return Err("max_streams must be at least 1".into());
        }
        if self.max_streams_per_person == 0 {
            return Err("max_streams_per_person must be at least 1".into());
        }
        for (name, d) in [
            ("header_timeout", self.header_timeout),
            ("tls_handshake_timeout", self.tls_handshake_timeout),
            ("write_timeout", self.write_timeout),
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
        let streams = u64::try_from(self.max_streams)
            .unwrap_or(u64::MAX)
            .saturating_mul(FD_PER_STREAM);
        let room = usize::try_from(nofile.saturating_sub(FD_HEADROOM).saturating_sub(streams))
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
    /// Connections open that are [`Class::Stranger`].
    strangers: usize,
    /// Open connections by address, oldest first.
    by_ip: HashMap<IpAddr, VecDeque<Held>>,
    /// Addresses that presented a valid pairing cookie, oldest first.
    trusted: VecDeque<IpAddr>,
    next_id: u64,
}

/// What a connection has shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// No credential yet, from an address not remembered: counted in
    /// [`PeerState::strangers`] and its address's per-peer count; a
    /// newcomer may take its place.
    Stranger,
    /// No credential yet, from a remembered address.
    Remembered,
    /// A request on it showed a valid credential.
    Credentialed,
}

/// One open connection.
struct Held {
    id: u64,
    /// Dropping it closes the connection.
    _close: oneshot::Sender<()>,
    class: Class,
}

impl PeerState {
    fn is_remembered(&self, ip: IpAddr) -> bool {
        self.trusted.contains(&ip)
    }

    /// `ip`'s connections that are strangers'.
    fn strangers_of(&self, ip: IpAddr) -> usize {
        self.by_ip.get(&ip).map_or(0, |c| {
            c.iter().filter(|h| h.class == Class::Stranger).count()
        })
    }

    /// Counts `ip`'s connections that have shown no credential as a
    /// stranger's (`true`) or a remembered address's (`false`).
    fn recount(&mut self, ip: IpAddr, stranger: bool) {
        let (from, to) = if stranger {
            (Class::Remembered, Class::Stranger)
        } else {
            (Class::Stranger, Class::Remembered)
        };
        if let Some(conns) = self.by_ip.get_mut(&ip) {
            for held in conns.iter_mut().filter(|h| h.class == from) {
                held.class = to;
                if stranger {
                    self.strangers += 1;
                } else {
                    self.strangers -= 1;
                }
            }
        }
    }

    /// The oldest connection that has shown no credential from a loopback
    /// address: from this computer, whichever account opened it.
    fn oldest_local_stranger(&self) -> Option<(IpAddr, u64)> {
        self.by_ip
            .iter()
            .filter(|(ip, _)| is_loopback(**ip))
            .filter_map(|(ip, c)| {
                c.iter()
                    .find(|h| h.class == Class::Stranger)
                    .map(|h| (*ip, h.id))
            })
            .min_by_key(|(_, id)| *id)
    }

    /// Connection `id` of `ip` showed a credential.
    fn credential(&mut self, ip: IpAddr, id: u64) {
        let Some(held) = self
            .by_ip
            .get_mut(&ip)
            .and_then(|c| c.iter_mut().find(|h| h.id == id))
        else {
            return;
        };
        if held.class == Class::Stranger {
            self.strangers -= 1;
        }
        held.class = Class::Credentialed;
    }

    /// Forgets connection `id` of `ip` (`None`: its oldest stranger's
    /// connection), if it is still counted.
    fn remove(&mut self, ip: IpAddr, id: Option<u64>) {
        let Some(conns) = self.by_ip.get_mut(&ip) else {
            return;
        };
        let at = match id {
            Some(id) => conns.iter().position(|h| h.id == id),
            None => conns.iter().position(|h| h.class == Class::Stranger),
        };
        let Some(held) = at.and_then(|at| conns.remove(at)) else {
            return;
        };
        if conns.is_empty() {
            self.by_ip.remove(&ip);
        }
        self.total -= 1;
        if held.class == Class::Stranger {
            self.strangers -= 1;
        }
        // Dropping `held` closes the connection if it still runs.
    }
}

/// `127.0.0.1` and `::1` (also as `::ffff:127.0.0.1`): this machine's own
/// address, shared by every account on it, so never remembered as
/// trusted. Other `127.x` addresses are treated as any address (nothing
/// ordinary uses them; the tests play LAN devices and strangers from them).
fn is_this_machine(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => {
            v6 == Ipv6Addr::LOCALHOST || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST)
        }
    }
}

/// Any loopback address (`127.x`, `::1`, also IPv4-mapped): only this
/// computer's processes connect from one.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
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

    /// Connection `conn` showed a valid credential: it is credentialed, and
    /// its address is remembered (unless it is this machine's).
    pub(crate) fn trust(&self, conn: ConnTag) {
        let ConnTag { ip, id } = conn;
        let mut st = self.lock();
        st.credential(ip, id);
        if is_this_machine(ip) || st.trusted.contains(&ip) {
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

    /// Whether `ip` is remembered as trusted now.
    #[cfg(test)]
    pub(crate) fn is_trusted(&self, ip: IpAddr) -> bool {
        self.lock().is_remembered(ip)
    }

    /// A place for a new connection from `ip`, or `None` if it is over a
    /// cap (then close it at once).
    pub(crate) fn admit(self: &Arc<Peers>, ip: IpAddr) -> Option<Slot> {
        let limits = &self.limits;
        let mut st = self.lock();
        let stranger = !st.is_remembered(ip);
        let mine = if stranger { st.strangers_of(ip) } else { 0 };
        if stranger && mine >= limits.max_per_peer {
            if !is_this_machine(ip) {
                return None;
            }
            // Every account on this computer shares this address: the
            // newest connection takes the place of the oldest one that has
            // shown no credential, so nobody holding them keeps this
            // computer's browser out.
            st.remove(ip, None);
        } else {
            if st.total >= limits.max_connections {
                return None;
            }
            if stranger && st.strangers >= limits.max_connections - limits.reserved_for_trusted {
                // Full: take the oldest connection of the largest stranger
                // holder, if it holds at least two more than this address
                // (so that the two end no further apart than they were).
                let largest = st
                    .by_ip
                    .keys()
                    .map(|other| (*other, st.strangers_of(*other)))
                    .max_by_key(|(_, n)| *n);
                match largest {
                    Some((other, n)) if n >= mine + 2 => st.remove(other, None),
                    // This computer's browser before any stranger from this
                    // computer (another account, on any loopback address).
                    _ => match st.oldest_local_stranger().filter(|_| is_this_machine(ip)) {
                        Some((other, id)) => st.remove(other, Some(id)),
                        None => return None,
                    },
                }
            }
        }
        let id = st.next_id;
        st.next_id += 1;
        let (tx, evicted) = oneshot::channel();
        let class = if stranger {
            Class::Stranger
        } else {
            Class::Remembered
        };
        st.by_ip.entry(ip).or_default().push_back(Held {
            id,
            _close: tx,
            class,
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

/// Which counted connection a request came on (a request extension).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnTag {
    ip: IpAddr,
    id: u64,
}

impl ConnTag {
    /// The peer's address (the sign-in rate limit counts failures by it).
    pub(crate) fn ip(&self) -> IpAddr {
        self.ip
    }
}

/// Marks the request's connection as credentialed and its peer as
/// remembered: called where a credential is accepted. Requests that did not
/// come through [`run`] (tests calling the router directly) have no
/// connection and change nothing.
pub(crate) fn trust(state: &AppState, req: &Request) {
    if let Some(conn) = req.extensions().get::<ConnTag>() {
        state.inner.peers.trust(*conn);
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
        let tag = ConnTag {
            ip: peer.ip(),
            id: slot.id,
        };
        tokio::spawn(async move {
            let mut slot = slot;
            let evicted = &mut slot.evicted;
            match tls {
                None => {
                    tokio::select! {
                        _ = serve_io(WriteTimeout::new(tcp, limits.write_timeout), peer, tag, app, &limits) => {}
                        _ = evicted => {}
                    }
                }
                Some(acceptor) => {
                    let served = async {
                        // A client that does not trust the certificate, or
                        // speaks plain http to the https port, just fails.
                        let handshake = tokio::time::timeout(
                            limits.tls_handshake_timeout,
                            acceptor.accept(WriteTimeout::new(tcp, limits.write_timeout)),
                        );
                        if let Ok(Ok(stream)) = handshake.await {
                            serve_io(stream, peer, tag, app, &limits).await;
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
async fn serve_io<I>(io: I, peer: SocketAddr, tag: ConnTag, app: Router, limits: &ConnLimits)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(tag);
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

/// A connection whose writes fail once the client has taken nothing for
/// `timeout` (it stopped reading): hyper then closes the connection, and
/// drops the answer's body, which stops a streamed answer's producer.
struct WriteTimeout<I> {
    io: I,
    timeout: Duration,
    /// Armed when a write could not go out; cleared when one does.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> WriteTimeout<I> {
    fn new(io: I, timeout: Duration) -> WriteTimeout<I> {
        WriteTimeout {
            io,
            timeout,
            stalled: None,
        }
    }

    /// What a write that returned `poll` gives: its result, or an error
    /// once writes have waited for `timeout`.
    fn timed<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client has not read the answer within the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteTimeout<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        this.timed(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.timed(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_flush(cx);
        this.timed(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_shutdown(cx);
        this.timed(cx, poll)
    }
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

    /// A credential shown from `ip` on no connection counted here: the
    /// address is remembered.
    fn remember(peers: &Peers, ip: IpAddr) {
        peers.trust(ConnTag { ip, id: u64::MAX });
    }

    /// A credential shown on `slot`'s connection.
    fn credential(peers: &Peers, slot: &Slot) {
        peers.trust(ConnTag {
            ip: slot.ip,
            id: slot.id,
        });
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

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
        // The paired phone still gets in, beyond the per-peer cap, up to
        // the overall cap.
        remember(&peers, ip(9));
        let phone = peers.admit(ip(9)).unwrap();
        // This machine's address is every account's: before a credential
        // it is a stranger, with no place in the reserve (issue 24,
        // finding 1).
        assert!(peers.admit(LOCAL).is_none());
        let phone2 = peers.admit(ip(9)).unwrap();
        assert!(peers.admit(ip(9)).is_none(), "the overall cap holds");
        drop((phone, phone2, strangers));
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
        credential(&peers, &phone);
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
            remember(
                &peers,
                IpAddr::V4(Ipv4Addr::new(10, 1, (i / 256) as u8, (i % 256) as u8)),
            );
        }
        assert!(!peers.is_trusted(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0))));
        assert!(peers.is_trusted(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1))));
        // This machine's address is never trusted for itself, not even
        // after a credential came from it (issue 24, finding 1).
        assert!(!peers.is_trusted(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        remember(&peers, LOCAL);
        assert!(!peers.is_trusted(LOCAL));
        assert!(!peers.is_trusted(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    }

    #[test]
    fn this_machine_is_held_to_the_per_peer_cap_until_it_shows_a_credential() {
        let peers = Arc::new(Peers::new(limits(100, 3, 10)));
        // Another account on this computer holds every place of 127.0.0.1.
        let mut held: Vec<Slot> = (0..3).map(|_| peers.admit(LOCAL).unwrap()).collect();
        assert_eq!(peers.lock().strangers, 3);
        // A newcomer from here takes the place of the oldest that showed
        // no credential: the count stays at the cap.
        let browser = peers.admit(LOCAL).expect("the newest gets in");
        assert!(held[0].evicted.try_recv().is_err(), "the oldest is closed");
        assert_eq!(peers.lock().strangers_of(LOCAL), 3);
        // Once it shows a credential it leaves the strangers' count, and no
        // newcomer takes its place.
        credential(&peers, &browser);
        assert_eq!(peers.lock().strangers_of(LOCAL), 2);
        for _ in 0..10 {
            held.push(peers.admit(LOCAL).unwrap());
        }
        let mut browser = browser;
        assert!(matches!(
            browser.evicted.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
        assert_eq!(peers.lock().total, 4, "three strangers and the browser");
        drop((held, browser));
        assert_eq!(peers.lock().total, 0);
        assert_eq!(peers.lock().strangers, 0);
    }

    #[test]
    fn this_computers_browser_takes_the_place_of_a_local_stranger_when_the_share_is_full() {
        let peers = Arc::new(Peers::new(limits(6, 2, 2)));
        let local = |last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        // Other accounts fill the strangers' share from 127.0.0.2..5, one
        // each, so none holds two more than a newcomer.
        let mut held: Vec<Slot> = (2..=5).map(|i| peers.admit(local(i)).unwrap()).collect();
        assert!(peers.admit(ip(9)).is_none(), "a LAN stranger waits");
        let _browser = peers.admit(LOCAL).expect("this computer's browser gets in");
        assert!(held[0].evicted.try_recv().is_err(), "the oldest local one");
        assert!(matches!(
            held[1].evicted.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
    }

    #[test]
    fn a_credentialed_connection_is_never_taken_by_a_newcomer() {
        let peers = Arc::new(Peers::new(limits(8, 4, 2)));
        // This machine holds four, the oldest credentialed; two other
        // strangers fill the share (three of here, two, one).
        let mut local: Vec<Slot> = (0..4).map(|_| peers.admit(LOCAL).unwrap()).collect();
        credential(&peers, &local[0]);
        let _two: Vec<Slot> = (0..2).map(|_| peers.admit(ip(2)).unwrap()).collect();
        let _three = peers.admit(ip(3)).unwrap();
        assert_eq!(peers.lock().strangers, 6);
        // A newcomer takes the oldest connection of the largest holder
        // that has shown no credential, not the credentialed one.
        let _newcomer = peers.admit(ip(4)).expect("takes a place");
        assert!(matches!(
            local[0].evicted.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
        assert!(
            local[1].evicted.try_recv().is_err(),
            "the oldest stranger's"
        );
        assert_eq!(peers.lock().total, 7);
    }

    #[test]
    fn limits_fit_the_open_file_limit() {
        let d = ConnLimits::default();
        assert_eq!(d.fitted_to(Some(20_000)), d);
        assert_eq!(d.fitted_to(None), d);
        // 32 kept for the rest, 3 for each of the 8 streamed answers.
        let small = d.fitted_to(Some(160 + 8 * 3));
        assert_eq!(small.max_connections, 128);
        assert_eq!(small.reserved_for_trusted, 32);
        assert_eq!(d.fitted_to(Some(160)).max_connections, 104);
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
        for (bad, name) in [
            (
                ConnLimits {
                    write_timeout: Duration::ZERO,
                    ..ConnLimits::default()
                },
                "write_timeout",
            ),
            (
                ConnLimits {
                    max_streams: 0,
                    ..ConnLimits::default()
                },
                "max_streams",
            ),
            (
                ConnLimits {
                    max_streams_per_person: 0,
                    ..ConnLimits::default()
                },
                "max_streams_per_person",
            ),
        ] {
            assert!(bad.check().unwrap_err().contains(name), "{name}");
        }
    }
}
