//! `rollcoach web export DIR`: the static app, the same files `serve` serves,
//! and the protocols at the paths the page fetches.

mod common;

use std::io::{Read, Write};

use common::TestEnvironment;
use serde_json::Value;

/// `GET path` from a running `serve`, with its token: the body.
fn http_get(serve: &common::Serve, path: &str) -> Vec<u8> {
    let addr = serve.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{}Connection: close\r\n\r\n",
        serve.auth()
    )
    .unwrap();
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).unwrap();
    let at = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(resp.starts_with(b"HTTP/1.1 200"), "{path}");
    resp[at + 4..].to_vec()
}

#[test]
fn export_writes_the_app_and_the_protocols_as_static_files() {
    let env = TestEnvironment::new();
    let dir = env.path("site");
    let out = env.run(&["web", "export", dir.to_str().unwrap(), "--speed", "20"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("wrote the rollcoach app to"),
        "{}",
        out.stdout
    );

    // The same shell as `serve` gives, byte for byte, the worker included.
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    let sw = std::fs::read_to_string(dir.join("sw.js")).unwrap();
    assert_eq!(sw.as_bytes(), http_get(&serve, "/sw.js"));
    let shell_line = sw
        .lines()
        .find(|l| l.starts_with("const SHELL = "))
        .unwrap();
    let shell: Value = serde_json::from_str(
        shell_line
            .trim_start_matches("const SHELL = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    for f in shell["files"].as_array().unwrap() {
        let f = f.as_str().unwrap();
        let (file, uri) = if f == "./" {
            ("index.html".to_owned(), "/".to_owned())
        } else {
            (f.to_owned(), format!("/{f}"))
        };
        let written = std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(written, http_get(&serve, &uri), "{file}");
    }

    // The API answers the page fetches, as JSON in each path's index.html.
    let json = |path: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(path).join("index.html"))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(json("api/config")["speed"], 20.0);
    assert_eq!(
        json("api/config")["sync"],
        false,
        "the static app has no server to sync with"
    );
    let list = json("api/protocols");
    let served: Value = serde_json::from_slice(&http_get(&serve, "/api/protocols")).unwrap();
    assert_eq!(list, served, "the same list as serve (no injuries logged)");
    for brief in list.as_array().unwrap() {
        let id = brief["id"].as_str().unwrap();
        let one = json(&format!("api/protocols/{id}"));
        let served: Value =
            serde_json::from_slice(&http_get(&serve, &format!("/api/protocols/{id}"))).unwrap();
        assert_eq!(one["protocol"], served["protocol"], "{id}");
        assert_eq!(one["rules"], served["rules"], "{id}");
        let handout =
            std::fs::read_to_string(dir.join(format!("api/protocols/{id}/handout/index.html")))
                .unwrap();
        assert!(
            handout.starts_with("<!doctype html>") || handout.starts_with("<!DOCTYPE html>"),
            "{id}"
        );
    }
    serve.stop();
}

#[test]
fn export_refuses_a_folder_that_is_not_empty_or_is_a_file() {
    let env = TestEnvironment::new();
    let full = env.path("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let out = env.run(&["web", "export", full.to_str().unwrap()]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(out.stderr.contains("full is not empty"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_dir(&full).unwrap().count(),
        1,
        "nothing written"
    );

    let file = env.write_file("a-file", "x");
    let out = env.run(&["web", "export", file.to_str().unwrap()]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(out.stderr.contains("a-file is a file"), "{}", out.stderr);

    // Under a file: no folder can be made there.
    let under = file.join("site");
    let out = env.run(&["web", "export", under.to_str().unwrap()]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.stderr.contains("a-file/site"), "{}", out.stderr);

    // An empty folder is fine.
    let empty = env.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = env.run(&["web", "export", empty.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(empty.join("index.html").is_file());
}
