//! Issue 13, finding 2: `GET /api/protocols/{id}` carries the ways a protocol
//! weakens the handout's safety rules, for the page's handout view.

mod common;

use axum::http::StatusCode;
use common::*;

fn protocols_with_a_weak_one() -> Vec<rollcoach_protocol::Protocol> {
    let mut protocols = rollcoach_protocol::builtin();
    let mut weak = protocols[0].clone();
    weak.id = "upper-back-weak".into();
    weak.screening.injury_rule.window_hours = 24;
    weak.stop_rules.retain(|r| {
        !matches!(
            r.trigger,
            rollcoach_protocol::StopTrigger::Discomfort { .. }
        )
    });
    protocols.push(weak);
    protocols
}

fn state_with_a_weak_protocol() -> rollcoach_server::AppState {
    let protocols = protocols_with_a_weak_one();
    let store = rollcoach_store_sqlite::SqliteRecords::open_in_memory().expect("in-memory store");
    rollcoach_server::AppState::new(
        protocols,
        std::sync::Arc::new(store),
        rollcoach_server::Config::default(),
    )
    .expect("state")
}

#[tokio::test]
async fn a_protocol_that_weakens_the_handout_is_served_with_its_warnings() {
    let app = app(state_with_a_weak_protocol());
    let r = get(&app, "/api/protocols/upper-back-weak").await;
    assert_eq!(r.status, StatusCode::OK);
    let warnings = r.json["warnings"].as_array().expect("a warnings array");
    let paths: Vec<&str> = warnings
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["screening.injury_rule.window_hours", "stop_rules"]);
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("shorter than the handout's 48 hours"),
        "{warnings:?}"
    );
    assert!(warnings.iter().all(|w| w["hint"].is_string()));

    let r = get(&app, "/api/protocols/upper-back").await;
    assert_eq!(r.json["warnings"], serde_json::json!([]));
}

/// The static app (`rollcoach web export`) serves the same answer, so its
/// handout view shows the warnings too.
#[test]
fn the_static_app_carries_the_warnings_too() {
    let files = rollcoach_server::web::static_app(
        &protocols_with_a_weak_one(),
        rollcoach_store::Speed::REAL_TIME,
    )
    .unwrap();
    let path = rollcoach_server::web::api_file("api/protocols/upper-back-weak");
    let file = files
        .iter()
        .find(|f| f.path == path)
        .expect("the protocol's file");
    let detail: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
    let paths: Vec<&str> = detail["warnings"]
        .as_array()
        .expect("a warnings array")
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["screening.injury_rule.window_hours", "stop_rules"]);
    assert!(detail["blocked"].is_null());
}
