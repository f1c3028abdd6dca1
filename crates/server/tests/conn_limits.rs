//! Connection limits against a LAN denial of service (issue 13, finding 3):
//! strangers holding idle and half-sent connections cannot lock the paired
//! phone out, a half-sent request head is closed after the header timeout,
//! connections over a cap are closed. Against the real server on a real
//! socket; strangers are played from 127.0.0.2, 127.0.0.3, ... (all
//! loopback on Linux), the paired phone from 127.0.0.200.
//!
//! No timing is asserted beyond generous bounds (an answer at all within
//! 5 s, a close within 15 s): correctness, not speed.

mod common;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::*;
use rollcoach_server::{Access, AppState, Config, ConnLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The paired phone's address.
const PHONE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 200);

/// How long a request of the paired client may take before the test fails:
/// a correctness bound, far above any real figure.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// How long the server may take to close a connection it should close.
const CLOSED_WITHIN: Duration = Duration::from_secs(15);

/// A stranger's address: 127.0.0.(1 + n).
fn stranger(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 1 + n)
}

fn config(access: Access, limits: ConnLimits) -> Config {
    Config {
        access,
        limits,
        ..Config::default()
    }
}

/// Small caps; timeouts long enough that nothing held times out during a
/// test unless the test is about timeouts.
fn small_caps() -> ConnLimits {
    ConnLimits {
        max_connections: 64,
        max_per_peer: 8,
        reserved_for_trusted: 16,
        header_timeout: Duration::from_secs(120),
        tls_handshake_timeout: Duration::from_secs(120),
        write_timeout: Duration::from_secs(120),
        ..ConnLimits::default()
    }
}

async fn serve(state: AppState) -> SocketAddr {
    listen(state).await
}

/// A connection to `server` from `from`.
async fn connect_from(from: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .unwrap_or_else(|e| panic!("cannot bind a client socket to {from}: {e}"));
    socket.connect(server).await.expect("connect")
}

/// The header line of a credential: a device's cookie (`name=value`).
fn cookie(c: &str) -> String {
    format!("Cookie: {c}")
}

/// The header line of the loopback server's own token (what the link
/// `serve` prints carries).
fn bearer(state: &AppState) -> String {
    format!(
        "Authorization: Bearer {}",
        state.access_token().expect("a loopback server has a token")
    )
}

/// Sends `GET path` with the `credential` header line on a new connection
/// from `from` and reads the whole answer (`Connection: close`); its status
/// line and headers.
async fn request_from(
    from: Ipv4Addr,
    server: SocketAddr,
    path: &str,
    credential: Option<&str>,
) -> String {
    let exchange = async {
        let mut conn = connect_from(from, server).await;
        let credential = credential.map(|c| format!("{c}\r\n")).unwrap_or_default();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\n{credential}Connection: close\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).await.expect("send");
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    };
    tokio::time::timeout(ANSWER_WITHIN, exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {path} from {from} got no answer within {ANSWER_WITHIN:?}"))
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// Pairs the phone over the socket and makes its first request; returns
/// its cookie (`name=value`).
async fn pair_phone(state: &AppState, server: SocketAddr) -> String {
    let path = state
        .pairing_path()
        .expect("a LAN server has a pairing link");
    let answer = request_from(PHONE, server, &path, None).await;
    assert_eq!(status(&answer), 303, "{answer}");
    let set = answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie in {answer}"));
    let cookie = set.split(';').next().unwrap().to_owned();
    // The browser follows the redirect with its new cookie: from then on
    // the phone's address is trusted.
    let answer = request_from(PHONE, server, "/api/config", Some(&self::cookie(&cookie))).await;
    assert_eq!(status(&answer), 200, "{answer}");
    cookie
}

/// Whether the server has closed `conn` (end of stream or reset); `false`
/// while it is open with nothing to read.
fn is_closed(conn: &TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match conn.try_read(&mut buf) {
            Ok(0) => return true,
            // Bytes (none are expected): read on to the end.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Waits (at most [`CLOSED_WITHIN`]) until at least `n` of `conns` are
/// closed by the server; returns how many are.
async fn closed_at_least(conns: &[TcpStream], n: usize, what: &str) -> usize {
    let deadline = tokio::time::Instant::now() + CLOSED_WITHIN;
    loop {
        let closed = conns.iter().filter(|c| is_closed(c)).count();
        if closed >= n {
            return closed;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {closed} of {} connections closed by the server within {CLOSED_WITHIN:?}, \
             expected at least {n}",
            conns.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most [`CLOSED_WITHIN`]) for the server to close `conn`.
async fn closed_by_server(mut conn: TcpStream, what: &str) {
    let drained = async {
        let mut buf = [0u8; 1024];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(CLOSED_WITHIN, drained)
        .await
        .unwrap_or_else(|_| panic!("{what}: the server kept it open for {CLOSED_WITHIN:?}"));
}

/// Half a request head: no blank line, so never complete.
const HALF_HEAD: &[u8] = b"GET /api/history HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: app";

/// `per_address` connections from each of `addresses` strangers (counted
/// from 127.0.0.2), every other one with half a request head sent.
async fn hold(server: SocketAddr, addresses: u8, per_address: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for a in 1..=addresses {
        for i in 0..per_address {
            let mut conn = connect_from(stranger(a), server).await;
            if i % 2 == 1 {
                // Over a cap the server may already have closed it.
                let _ = conn.write_all(HALF_HEAD).await;
            }
            held.push(conn);
        }
    }
    held
}

#[tokio::test]
async fn binding_clients_to_other_loopback_addresses_works() {
    // What the other tests rely on to play several strangers.
    let state = state();
    let server = serve(state.clone()).await;
    let answer = request_from(stranger(5), server, "/api/config", Some(&bearer(&state))).await;
    assert_eq!(status(&answer), 200, "{answer}");
}

#[tokio::test]
async fn a_paired_phone_is_served_while_strangers_hold_idle_and_half_sent_connections() {
    let limits = small_caps();
    let share = limits.max_connections - limits.reserved_for_trusted;
    let state = state_with(config(Access::Lan, limits));
    let server = serve(state.clone()).await;
    let cookie = pair_phone(&state, server).await;

    // Ten strangers with ten connections each, half of them half-sent: 100
    // connections against 48 places for strangers and 8 per address.
    let held = hold(server, 10, 10).await;

    for _ in 0..5 {
        let answer = request_from(
            PHONE,
            server,
            "/api/protocols",
            Some(&self::cookie(&cookie)),
        )
        .await;
        assert_eq!(status(&answer), 200, "{answer}");
    }
    // Connections over the caps were closed, not held.
    closed_at_least(&held, held.len() - share, "over the strangers' share").await;
    // A stranger is still told it is not paired (not locked out either).
    let answer = request_from(stranger(40), server, "/api/protocols", None).await;
    assert_eq!(status(&answer), 401, "{answer}");
    drop(held);
}

#[tokio::test]
async fn the_reserve_keeps_a_place_for_the_paired_phone_when_strangers_fill_theirs() {
    // Every stranger holds one connection, so none can take another's
    // place: the strangers' share is full and the rest is refused.
    let limits = ConnLimits {
        max_connections: 24,
        reserved_for_trusted: 8,
        ..small_caps()
    };
    let share = limits.max_connections - limits.reserved_for_trusted;
    let state = state_with(config(Access::Lan, limits));
    let server = serve(state.clone()).await;
    let cookie = pair_phone(&state, server).await;

    let strangers = u8::try_from(share + 10).unwrap();
    let held = hold(server, strangers, 1).await;
    // Keep-alive connections of the phone, many at once: up to the reserve.
    let mut phone = Vec::new();
    for _ in 0..8 {
        let mut conn = connect_from(PHONE, server).await;
        let head =
            format!("GET /api/protocols HTTP/1.1\r\nHost: {server}\r\nCookie: {cookie}\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 12];
        tokio::time::timeout(ANSWER_WITHIN, conn.read_exact(&mut buf))
            .await
            .expect("the phone is answered")
            .expect("an answer");
        assert_eq!(&buf, b"HTTP/1.1 200");
        phone.push(conn);
    }
    closed_at_least(&held, 10, "strangers over their share").await;
    drop((held, phone));
}

#[tokio::test]
async fn one_stranger_is_held_to_its_per_address_cap() {
    let limits = small_caps();
    let per_peer = limits.max_per_peer;
    let state = state_with(config(Access::Loopback, limits));
    let server = serve(state.clone()).await;
    let auth = bearer(&state);
    let mut held = Vec::new();
    for _ in 0..per_peer + 4 {
        held.push(connect_from(stranger(1), server).await);
    }
    // This machine (127.0.0.1) is trusted, and another address is served.
    let answer = request_from(Ipv4Addr::LOCALHOST, server, "/api/config", Some(&auth)).await;
    assert_eq!(status(&answer), 200, "{answer}");
    let answer = request_from(stranger(2), server, "/api/config", Some(&auth)).await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(
        closed_at_least(&held, 4, "over the per-address cap").await,
        4
    );
    // The ones kept are served.
    let mut served = 0;
    for conn in held.iter_mut().filter(|c| !is_closed(c)) {
        let head = format!("GET /api/config HTTP/1.1\r\nHost: {server}\r\n{auth}\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 12];
        tokio::time::timeout(ANSWER_WITHIN, conn.read_exact(&mut buf))
            .await
            .expect("answered")
            .expect("an answer");
        assert_eq!(&buf, b"HTTP/1.1 200");
        served += 1;
    }
    assert_eq!(served, per_peer);
}

fn short_timeouts() -> ConnLimits {
    ConnLimits {
        header_timeout: Duration::from_secs(1),
        tls_handshake_timeout: Duration::from_secs(1),
        ..ConnLimits::default()
    }
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let server = serve(state_with(config(Access::Loopback, short_timeouts()))).await;
    let mut half = connect_from(stranger(1), server).await;
    half.write_all(HALF_HEAD).await.unwrap();
    let silent = connect_from(stranger(1), server).await;
    closed_by_server(half, "a half-sent request head").await;
    closed_by_server(silent, "a connection that sent nothing").await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let state = state_with(config(Access::Loopback, short_timeouts()));
    let server = serve(state.clone()).await;
    let mut conn = connect_from(stranger(1), server).await;
    let head = format!(
        "GET /api/config HTTP/1.1\r\nHost: {server}\r\n{}\r\n\r\n",
        bearer(&state)
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 12];
    tokio::time::timeout(ANSWER_WITHIN, conn.read_exact(&mut buf))
        .await
        .expect("answered")
        .expect("an answer");
    assert_eq!(&buf, b"HTTP/1.1 200");
    // Kept alive after the answer, then closed for idling.
    closed_by_server(conn, "an idle keep-alive connection").await;
}

#[tokio::test]
async fn a_tls_handshake_that_never_comes_is_closed() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let tls = rollcoach_server::tls::TlsConfig::from_pem(
        std::path::Path::new("cert.pem"),
        cert.pem().as_bytes(),
        std::path::Path::new("key.pem"),
        key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap();
    let state = state_with(config(Access::Loopback, short_timeouts()));
    tokio::spawn(rollcoach_server::serve_tls(listener, tls, state));
    let silent = connect_from(stranger(1), server).await;
    let mut half = connect_from(stranger(1), server).await;
    // The first bytes of a TLS record header, then nothing.
    half.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    closed_by_server(silent, "a TLS connection that sent nothing").await;
    closed_by_server(half, "a TLS handshake left half done").await;
}

#[test]
fn impossible_limits_refuse_to_start() {
    let limits = ConnLimits {
        max_connections: 8,
        reserved_for_trusted: 8,
        ..ConnLimits::default()
    };
    let store = rollcoach_store_sqlite::SqliteRecords::open_in_memory().unwrap();
    let err = AppState::new(
        rollcoach_protocol::builtin(),
        std::sync::Arc::new(store),
        config(Access::Lan, limits),
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("reserved_for_trusted"), "{err}");
}

/// `n` connections from `from` with no credential, every other one with
/// half a request head sent.
async fn hold_from(server: SocketAddr, from: Ipv4Addr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for i in 0..n {
        let mut conn = connect_from(from, server).await;
        if i % 2 == 1 {
            let _ = conn.write_all(HALF_HEAD).await;
        }
        held.push(conn);
    }
    held
}

#[tokio::test]
async fn another_account_holding_this_machines_address_does_not_lock_out_the_paired_phone() {
    // Issue 24, finding 1: a process of any account on the computer, with
    // no credential, opens connections from 127.0.0.1; they are strangers'
    // (held to the per-address cap), not this machine's trusted ones.
    let limits = small_caps();
    let per_peer = limits.max_per_peer;
    let state = state_with(config(Access::Lan, limits.clone()));
    let server = serve(state.clone()).await;
    let cookie = pair_phone(&state, server).await;

    let held = hold_from(server, Ipv4Addr::LOCALHOST, limits.max_connections + 6).await;
    // Only the per-address cap of them is kept.
    closed_at_least(&held, held.len() - per_peer, "127.0.0.1 over its cap").await;
    for _ in 0..5 {
        let answer = request_from(
            PHONE,
            server,
            "/api/protocols",
            Some(&self::cookie(&cookie)),
        )
        .await;
        assert_eq!(status(&answer), 200, "{answer}");
    }
    drop(held);
}

#[tokio::test]
async fn another_account_filling_the_caps_does_not_lock_out_this_computers_browser() {
    // The browser on this computer opened serve's link (a cookie); another
    // account then holds idle and half-sent connections from 127.0.0.1 and
    // from other loopback addresses, filling the strangers' share.
    let limits = small_caps();
    let share = limits.max_connections - limits.reserved_for_trusted;
    let state = state_with(config(Access::Loopback, limits.clone()));
    let server = serve(state.clone()).await;
    let login = state.login_path().expect("a loopback server has a link");
    let answer = request_from(Ipv4Addr::LOCALHOST, server, &login, None).await;
    assert_eq!(status(&answer), 303, "{answer}");
    let browser = answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie in {answer}"))
        .to_owned();

    let mut held = hold_from(server, Ipv4Addr::LOCALHOST, limits.max_connections + 6).await;
    let addresses = u8::try_from(share / limits.max_per_peer + 1).unwrap();
    held.extend(hold(server, addresses, limits.max_per_peer).await);
    for _ in 0..5 {
        let answer = request_from(
            Ipv4Addr::LOCALHOST,
            server,
            "/api/protocols",
            Some(&self::cookie(&browser)),
        )
        .await;
        assert_eq!(status(&answer), 200, "{answer}");
    }
    // Without a credential the same address is told so, not served.
    let answer = request_from(Ipv4Addr::LOCALHOST, server, "/api/protocols", None).await;
    assert_eq!(status(&answer), 401, "{answer}");
    drop(held);
}
