//! `rollcoach serve` as a real process: the URL it prints, and usage errors.

mod common;

use std::io::{Read, Write};

use common::TestEnvironment;

#[test]
fn serve_prints_its_url_and_answers_on_it() {
    let env = TestEnvironment::new();
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    assert!(
        serve.url().starts_with("http://127.0.0.1:"),
        "{}",
        serve.url()
    );
    let addr = serve.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/protocols HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    serve.stop();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"upper-back\""), "{resp}");
}

#[test]
fn a_non_loopback_address_without_lan_is_a_usage_error() {
    let env = TestEnvironment::new();
    let out = env.run(&["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(out.code(), Some(2));
    let err = &out.stderr;
    assert!(err.contains("add --lan"), "{err}");
}

#[test]
fn a_speed_that_is_not_positive_is_a_usage_error() {
    let env = TestEnvironment::new();
    for speed in ["0", "-2", "NaN", "5000"] {
        let speed = format!("--speed={speed}");
        let out = env.run(&["serve", "--addr", "127.0.0.1:0", &speed]);
        assert_eq!(out.code(), Some(2), "--speed {speed}");
        let err = &out.stderr;
        assert!(err.contains("--speed"), "{err}");
    }
}
