//! Every JSON answer of the server is its wire type's, exactly (it reads
//! back into the type and writes the same JSON), and no answer holds a row
//! id or a process id (issue 19).

mod common;

use axum::http::StatusCode;
use common::*;
use rollcoach_wire as wire;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `v` is `T`'s JSON: read as `T` and written back, it is the same.
fn is<T: Serialize + DeserializeOwned>(what: &str, v: &Value) {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{what} is not its wire type: {e}: {v}"));
    assert_eq!(&serde_json::to_value(typed).unwrap(), v, "{what}");
}

/// No `owner_pid`, and no `id` that is a number (row ids are integers;
/// protocol, rating and device ids are strings), anywhere in `v`.
fn no_row_ids(what: &str, v: &Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                assert_ne!(k, "owner_pid", "{what}");
                assert!(!(k == "id" && v.is_number()), "{what}: a row id");
                no_row_ids(what, v);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| no_row_ids(what, v)),
        _ => {}
    }
}

#[tokio::test]
async fn every_answer_is_its_wire_type_and_names_records_by_uid() {
    let app = app(state());
    let mut answers: Vec<(String, Value)> = Vec::new();
    let mut check = |what: &str, r: &Resp| {
        assert!(r.status.is_success(), "{what}: {} {}", r.status, r.text);
        answers.push((what.to_owned(), r.json.clone()));
    };

    let pushed = post_json(
        &app,
        "/api/sync/sessions",
        &pushed_json(&Plan {
            uid: "w-1".into(),
            rating: Some(4),
            ..Plan::default()
        }),
    )
    .await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.text);
    is::<wire::SyncStatus>("POST /api/sync/sessions", &pushed.json);
    check("POST /api/sync/sessions", &pushed);

    let logged = post_json(&app, "/api/injuries", r#"{"area":"upper-back","note":"n"}"#).await;
    is::<wire::Injury>("POST /api/injuries", &logged.json);
    check("POST /api/injuries", &logged);
    let uid = logged.json["uid"].as_str().unwrap().to_owned();

    let r = get(&app, "/api/protocols").await;
    is::<Vec<wire::ProtocolBrief>>("GET /api/protocols", &r.json);
    assert!(!r.json[0]["blocked"].is_null(), "the injury blocks it");
    check("GET /api/protocols", &r);
    let r = get(&app, "/api/protocols/upper-back").await;
    is::<wire::ProtocolDetail>("GET /api/protocols/{id}", &r.json);
    check("GET /api/protocols/{id}", &r);
    let r = get(&app, "/api/config").await;
    is::<wire::PageConfig>("GET /api/config", &r.json);
    check("GET /api/config", &r);
    let r = get(&app, "/api/injuries").await;
    is::<wire::InjuryList>("GET /api/injuries", &r.json);
    check("GET /api/injuries", &r);
    let r = get(&app, "/api/history").await;
    is::<wire::HistoryPage>("GET /api/history", &r.json);
    assert_eq!(r.json["sessions"][0]["uid"], "w-1");
    assert!(r.json["sessions"][0].get("duration_ms").is_none());
    check("GET /api/history", &r);
    let r = get(&app, "/api/history?all=1&charts=1").await;
    is::<wire::HistoryRows>("GET /api/history?all=1", &r.json);
    assert!(
        !r.json["columns"]
            .as_array()
            .unwrap()
            .contains(&Value::from("id"))
    );
    assert_eq!(r.json["sessions"][0][0], "w-1", "a row starts with its uid");
    check("GET /api/history?all=1", &r);
    let r = post_json(&app, "/api/devices/pairing", "").await;
    is::<wire::PairingLink>("POST /api/devices/pairing", &r.json);
    check("POST /api/devices/pairing", &r);
    let r = get(&app, "/api/devices").await;
    is::<wire::DeviceList>("GET /api/devices", &r.json);
    check("GET /api/devices", &r);
    let r = delete(&app, &format!("/api/injuries/{uid}")).await;
    is::<wire::Injury>("DELETE /api/injuries/{uid}", &r.json);
    check("DELETE /api/injuries/{uid}", &r);
    let injury = serde_json::json!({
        "uid": "w-inj", "area": "upper-back", "at": now_ms() - 1000,
        "note": null, "created_at": now_ms(), "cleared_at": null,
    });
    let r = post_json(&app, "/api/sync/injuries", &injury.to_string()).await;
    is::<wire::SyncStatus>("POST /api/sync/injuries", &r.json);
    check("POST /api/sync/injuries", &r);
    let r = get(&app, "/api/export").await;
    is::<rollcoach_store::ExportDocument>("GET /api/export", &r.json);
    check("GET /api/export", &r);

    let r = get(&app, "/api/protocols/nope").await;
    is::<wire::ErrorBody>("an error", &r.json);

    for (what, v) in &answers {
        no_row_ids(what, v);
    }
}

fn now_ms() -> u64 {
    wall_now().0
}
