//! Devices and tokens through the real binary (issue 13, findings 7 and 8):
//! loopback needs the link `serve` prints; paired devices stay paired across
//! a restart; `rollcoach pair` pairs another device while `serve` runs;
//! `devices list` and `devices revoke`; only hashes in the database.

mod common;

use std::io::{Read, Write};

use common::{Serve, TestEnvironment};

/// A raw request to `serve`; the whole answer (status line, headers, body).
fn http(serve: &Serve, path: &str, headers: &str) -> String {
    let addr = serve.addr();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    resp
}

/// Opens a link (a path with its token); the cookie it sets (`name=value`).
fn open(serve: &Serve, path: &str) -> String {
    let resp = http(serve, path, "");
    assert!(resp.starts_with("HTTP/1.1 303"), "{path}: {resp}");
    let set = resp
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie: {resp}"));
    set.split(';').next().unwrap().to_owned()
}

fn status_with_cookie(serve: &Serve, path: &str, cookie: &str) -> String {
    let resp = http(serve, path, &format!("Cookie: {cookie}\r\n"));
    resp.lines().next().unwrap().to_owned()
}

/// The path of a full URL (`http://host:port/pair?token=...`).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("/{}", rest.split_once('/').unwrap().1)
}

#[test]
fn on_loopback_the_export_is_unreadable_without_the_printed_link() {
    let env = TestEnvironment::new();
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    let printed = serve.printed_url().to_owned();
    assert!(printed.contains("/?token="), "{printed}");
    // Any other account on this computer: 401, no export.
    let resp = http(&serve, "/api/export", "");
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    assert!(!resp.contains("rollcoach-export"), "{resp}");
    let resp = http(&serve, "/?token=0123456789abcdef0123456789abcdef", "");
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    // The printed link: a cookie, and a clean address.
    let cookie = open(&serve, &path_of(&printed));
    let resp = http(&serve, "/api/export", &format!("Cookie: {cookie}\r\n"));
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("rollcoach-export"), "{resp}");
    assert_eq!(status_with_cookie(&serve, "/", &cookie), "HTTP/1.1 200 OK");
}

#[test]
fn paired_devices_survive_a_restart_pair_list_and_revoke() {
    let env = TestEnvironment::new();
    let lan = ["--lan", "--addr", "127.0.0.1:0"];
    let serve = env.spawn_serve(&lan);
    let link = loop {
        let line = serve.next_line().expect("a pairing link");
        if let Some(url) = line.strip_prefix("Pair your phone (one time only): ") {
            break url.to_owned();
        }
    };
    let phone = open(&serve, &path_of(&link));
    assert_eq!(
        status_with_cookie(&serve, "/api/history", &phone),
        "HTTP/1.1 200 OK"
    );
    serve.stop();

    // A new server on the same database: the phone is still paired.
    let serve = env.spawn_serve(&lan);
    assert_eq!(
        status_with_cookie(&serve, "/api/history", &phone),
        "HTTP/1.1 200 OK"
    );
    // `rollcoach pair` while it runs: a link at the server's address that
    // pairs a second device, once.
    let out = env.run(&["pair"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let url = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Pair a device (one time, within an hour): "))
        .unwrap_or_else(|| panic!("no link: {}", out.stdout))
        .to_owned();
    assert!(url.starts_with(serve.url().trim_end_matches('/')), "{url}");
    let tablet = open(&serve, &path_of(&url));
    assert_ne!(tablet, phone);
    assert!(http(&serve, &path_of(&url), "").starts_with("HTTP/1.1 401"));

    let out = env.run(&["devices", "list", "--json"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let devices: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2, "{}", out.stdout);
    let phone_id = devices[0]["id"].as_str().unwrap().to_owned();
    let table = env.run(&["devices", "list"]);
    assert!(table.stdout.contains(&phone_id), "{}", table.stdout);
    assert!(table.stdout.contains("active"), "{}", table.stdout);

    // Revoked: the phone's next request is refused; the tablet goes on.
    let out = env.run(&["devices", "revoke", &phone_id]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        status_with_cookie(&serve, "/api/history", &phone).starts_with("HTTP/1.1 401"),
        "a revoked device is refused"
    );
    assert_eq!(
        status_with_cookie(&serve, "/api/history", &tablet),
        "HTTP/1.1 200 OK"
    );
    let out = env.run(&["devices", "revoke", "nope"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(out.stderr.contains("devices list"), "{}", out.stderr);
    serve.stop();

    // The database files hold hashes, never a device's secret.
    for cookie in [&phone, &tablet] {
        let secret = cookie.split_once('=').unwrap().1;
        for entry in std::fs::read_dir(env.db().parent().unwrap()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "a raw secret is in {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn pair_without_a_running_server_says_what_to_do() {
    let env = TestEnvironment::new();
    let out = env.run(&["pair"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.stderr.contains("no `rollcoach serve` is running"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--url"), "{}", out.stderr);
    let out = env.run(&["pair", "--url", "http://192.168.1.5:7878"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("http://192.168.1.5:7878/pair?token="),
        "{}",
        out.stdout
    );
}
