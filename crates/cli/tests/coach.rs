//! `rollcoach coach add|list` through the real binary (issue 20): a coach
//! is added on the database, with a one-time sign-in link on the running
//! `serve`'s address that pairs the browser opening it as the coach's;
//! names are unique whatever their case; without a running server the
//! command says so and prints the link's path.

mod common;

use std::io::{Read, Write};

use common::{Serve, TestEnvironment};

/// A raw GET to `serve` with these extra header lines; the whole answer.
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

#[test]
fn coaches_are_added_once_by_name_and_listed_without_a_server() {
    let env = TestEnvironment::new();
    let out = env.run(&["coach", "list"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(out.stdout.contains("No coaches."), "{}", out.stdout);

    let out = env.run(&["coach", "add", "Ana"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("Added coach Ana (coach-"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("No `rollcoach serve` is running on")
            && out.stdout.contains("/pair?token="),
        "{}",
        out.stdout
    );

    let out = env.run(&["coach", "add", "ANA"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.stderr
            .contains("a coach named \"ANA\" is already there"),
        "{}",
        out.stderr
    );
    let out = env.run(&["coach", "add", "  "]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.stderr.contains("NAME: a name is empty"),
        "{}",
        out.stderr
    );
    let out = env.run(&["coach", "add", "Bo", "--url", "ftp://x"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());

    let out = env.run(&["coach", "list"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let rows: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    assert!(
        rows[0].starts_with("coach-") && rows[0].contains(" Ana "),
        "{}",
        out.stdout
    );
    let out = env.run(&["coach", "list", "--json"]);
    let coaches: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(coaches[0]["name"], "Ana");
    assert_eq!(coaches[0]["role"], "coach");
}

#[test]
fn the_sign_in_link_pairs_a_browser_as_the_coach_s_on_the_running_server() {
    let env = TestEnvironment::new();
    let serve = env.spawn_serve(&["--lan", "--addr", "127.0.0.1:0"]);
    let out = env.run(&["coach", "add", "Ana"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let link = out
        .stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "Their sign-in link (one time, within an hour; there they set a password): ",
            )
        })
        .unwrap_or_else(|| panic!("no link: {}", out.stdout))
        .to_owned();
    let path = format!(
        "/{}",
        link.split_once("://").unwrap().1.split_once('/').unwrap().1
    );
    let resp = http(&serve, &path, "");
    assert!(resp.starts_with("HTTP/1.1 303"), "{resp}");
    let cookie = resp
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie: {resp}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = http(&serve, "/api/account", &format!("Cookie: {cookie}\r\n"));
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(
        me.contains("\"role\":\"coach\"") && me.contains("\"name\":\"Ana\""),
        "{me}"
    );
    // Once only.
    let again = http(&serve, &path, "");
    assert!(again.starts_with("HTTP/1.1 401"), "{again}");
    serve.stop();
}
