//! Unread downloads do not exhaust the server (issue 24, finding 5): at
//! most so many streamed answers (`GET /api/export`, `GET
//! /api/history?all=1`) run at once, one more is refused with 503,
//! `Retry-After` and a message while other requests are answered, and a
//! download the client stops reading is dropped after the write timeout
//! (set short here), freeing its place. On a real socket against a
//! database whose export is far larger than the sockets' buffers; no
//! duration is asserted, only that things happen within generous bounds.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use rollcoach_engine::{Facts, Input, Options};
use rollcoach_server::{AppState, Config, ConnLimits};
use rollcoach_store::{
    EXPORT_FORMAT, EXPORT_VERSION, Event, ExportDocument, ExportedSession, PersonId, SessionOutcome,
};
use rollcoach_testkit::{DAY, T0};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Sessions in the database: an export of about 15 MB.
const SESSIONS: u32 = 3000;

/// A correctness bound for anything the server should do, far above any
/// real figure.
const WITHIN: Duration = Duration::from_secs(20);

fn doc(n: u32) -> ExportDocument {
    let protocol = serde_json::to_value(rollcoach_testkit::protocol("upper-back")).unwrap();
    let sessions = (0..n)
        .map(|i| {
            let started_at = T0.plus_ms(u64::from(i) * DAY);
            ExportedSession {
                uid: format!("u{i:05}"),
                protocol_id: "upper-back".into(),
                protocol_version: 1,
                area: "upper-back".into(),
                protocol: protocol.clone(),
                options: Options::default(),
                facts: Facts::default(),
                started_at,
                ended_at: Some(started_at.plus_ms(300_000)),
                outcome: Some(SessionOutcome::Completed),
                reason: None,
                message: Some("Done.".into()),
                reps_done: Some(8),
                reps_target: 8,
                active_ms: Some(240_000),
                pairing: None,
                ratings: Vec::new(),
                summary: None,
                events: (0..5)
                    .map(|seq| Event {
                        seq,
                        at_ms: u64::from(seq) * 1000,
                        input: Input::Ready,
                    })
                    .collect(),
            }
        })
        .collect();
    ExportDocument {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        exported_at: T0.plus_ms(u64::from(n + 1) * DAY),
        sessions,
        injuries: Vec::new(),
    }
}

/// A loopback server over a database of [`SESSIONS`] sessions, with these
/// limits.
async fn server(dir: &tempfile::TempDir, limits: ConnLimits) -> (SocketAddr, AppState) {
    let path = dir.path().join("big.db");
    let store = store_at(&path);
    rollcoach_store::import(&*store, &PersonId::owner(), &doc(SESSIONS)).unwrap();
    drop(store);
    let state = state_at(
        &path,
        Config {
            limits,
            ..Config::default()
        },
    );
    (listen(state.clone()).await, state)
}

/// Starts `GET path` on a connection with a small receive buffer and reads
/// only the status line: the download has started, and nothing more is
/// read.
async fn unread(server: SocketAddr, state: &AppState, path: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut conn = socket.connect(server).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {}\r\n\r\n",
        state.access_token().unwrap()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut status = [0u8; 12];
    tokio::time::timeout(WITHIN, conn.read_exact(&mut status))
        .await
        .expect("the download starts")
        .unwrap();
    assert_eq!(&status, b"HTTP/1.1 200", "the download started");
    conn
}

/// `GET path` on a new connection, read whole (`Connection: close`).
async fn request(server: SocketAddr, state: &AppState, path: &str) -> String {
    let exchange = async {
        let mut conn = TcpStream::connect(server).await.unwrap();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            state.access_token().unwrap()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    };
    tokio::time::timeout(WITHIN, exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {path} got no answer within {WITHIN:?}"))
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:.200}"))
}

#[tokio::test]
async fn a_download_over_the_cap_is_refused_clearly_and_other_requests_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ConnLimits {
        max_streams: 2,
        max_streams_per_person: 2,
        write_timeout: Duration::from_secs(600),
        ..ConnLimits::default()
    };
    let (server, state) = server(&dir, limits).await;
    let held = vec![
        unread(server, &state, "/api/export").await,
        unread(server, &state, "/api/export").await,
    ];
    for path in ["/api/export", "/api/history?all=1"] {
        let answer = request(server, &state, path).await;
        assert_eq!(status(&answer), 503, "{path}: {answer:.300}");
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("retry-after: 5"), "{answer:.300}");
        assert!(answer.contains("at most 2 at once"), "{answer:.300}");
    }
    // Everything else is answered.
    for path in ["/api/config", "/api/protocols", "/api/history?limit=5"] {
        let answer = request(server, &state, path).await;
        assert_eq!(status(&answer), 200, "{path}: {answer:.300}");
    }
    // A download let go frees its place.
    drop(held);
    let answer = eventually(|| async {
        let answer = request(server, &state, "/api/history?all=1").await;
        (status(&answer) == 200).then_some(answer)
    })
    .await;
    assert!(answer.contains("\"total\":3000"), "{:.300}", answer);
}

#[tokio::test]
async fn one_person_is_held_to_their_share_of_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ConnLimits {
        max_streams: 8,
        max_streams_per_person: 1,
        write_timeout: Duration::from_secs(600),
        ..ConnLimits::default()
    };
    let (server, state) = server(&dir, limits).await;
    let _held = unread(server, &state, "/api/export").await;
    let answer = request(server, &state, "/api/export").await;
    assert_eq!(status(&answer), 503, "{answer:.300}");
    assert!(
        answer.contains("this person already has 1"),
        "{answer:.300}"
    );
}

#[tokio::test]
async fn an_unread_download_is_dropped_after_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ConnLimits {
        max_streams: 1,
        write_timeout: Duration::from_millis(300),
        ..ConnLimits::default()
    };
    let (server, state) = server(&dir, limits).await;
    let mut stalled = unread(server, &state, "/api/export").await;
    // Its place is freed: the producer gave up on the client.
    let answer = eventually(|| async {
        let answer = request(server, &state, "/api/history?all=1").await;
        (status(&answer) == 200).then_some(answer)
    })
    .await;
    assert!(answer.contains("\"total\":3000"), "{:.300}", answer);
    // And the server closed the connection: reading on finds the end (or a
    // reset) before the whole document (its last chunk `0\r\n\r\n`).
    let ended = async {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    let got = tokio::time::timeout(WITHIN, ended)
        .await
        .expect("the server closed the unread download");
    assert!(
        !got.ends_with(b"0\r\n\r\n"),
        "cut short, not a whole document ({} bytes)",
        got.len()
    );
}
