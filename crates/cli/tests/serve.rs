//! `rollcoach serve` as a real process: the URL it prints, and usage errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn rollcoach(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcoach"));
    cmd.arg("--db")
        .arg(dir.join("rollcoach.db"))
        .env("ROLLCOACH_PROTOCOLS", dir.join("protocols"));
    cmd
}

#[test]
fn serve_prints_its_url_and_answers_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = rollcoach(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/protocols HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"upper-back\""), "{resp}");
}

#[test]
fn a_non_loopback_address_without_lan_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = rollcoach(dir.path())
        .args(["serve", "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("add --lan"), "{err}");
}

#[test]
fn a_speed_that_is_not_positive_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for speed in ["0", "-2", "NaN", "5000"] {
        let speed = format!("--speed={speed}");
        let out = rollcoach(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0", &speed])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--speed {speed}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--speed"), "{err}");
    }
}
