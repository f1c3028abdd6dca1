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
        "GET /api/protocols HTTP/1.1\r\nHost: {addr}\r\n{}Connection: close\r\n\r\n",
        serve.auth()
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

/// A whole session of the built-in upper back run as the page runs it (the
/// engine's runner on its own clock, an hour ago), every rating `rating`, as
/// the JSON it pushes to `POST /api/sync/sessions`.
fn session_run_on_a_page(uid: &str, rating: u8) -> String {
    use rollcoach_engine::{Options, Time};
    use rollcoach_store::{ExportedSession, FinishedRun};
    use rollcoach_testkit::{Autopilot, Plan, protocol};

    let protocol = protocol("upper-back");
    let plan = Plan::default()
        .options(Options {
            reasons: vec![protocol.indications[0].id.clone()],
            ..Options::default()
        })
        .rating(Some(rating))
        .think_ms(900);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let start = Time(u64::try_from(wall).unwrap() - 3_600_000);
    let run = Autopilot::start(protocol, plan, start)
        .unwrap()
        .run()
        .unwrap();
    let events: Vec<rollcoach_store::Event> = run.log.iter().map(Into::into).collect();
    let session = ExportedSession::finished(FinishedRun {
        uid,
        protocol: &run.protocol,
        protocol_json: &serde_json::to_value(&*run.protocol).unwrap(),
        options: &run.options,
        facts: &run.facts,
        started_at: start,
        events: &events,
        end: run.end.as_ref().unwrap(),
    });
    serde_json::to_string(&session).unwrap()
}

#[test]
fn a_session_synced_from_the_page_is_in_history_json_with_its_ratings() {
    let env = TestEnvironment::new();
    let serve = env.spawn_serve(&["--addr", "127.0.0.1:0"]);
    let addr = serve.addr();
    let body = session_run_on_a_page("page-synced-1", 6);
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/sync/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        serve.auth(),
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    serve.stop();
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");

    let out = env.run(&["history", "--json"]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{}", out.stdout);
    let s = &sessions[0];
    assert_eq!(s["uid"], "page-synced-1");
    assert_eq!(s["outcome"]["outcome"], "completed");
    assert_eq!(s["ratings"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["ratings"][0]["before"], 6);
    assert_eq!(s["ratings"][0]["after"], 6);
}
