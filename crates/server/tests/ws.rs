//! A real WebSocket on port 0: a whole session at a fast clock, a reconnect
//! that resumes, and the server pausing a session nobody is watching.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use rollcoach_server::{Config, app};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, id: i64) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/sessions/{id}/ws"))
        .await
        .expect("websocket connects");
    ws
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("JSON frame");
        }
    }
}

/// Reads frames until one matches; returns every frame read.
async fn until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let f = next(ws).await;
        let done = pred(&f);
        seen.push(f);
        if done {
            return seen;
        }
    }
}

async fn send(ws: &mut Ws, input: Value) {
    ws.send(Message::Text(input.to_string().into()))
        .await
        .unwrap();
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |f| f["type"] == kind
}

async fn start(state: &rollcoach_server::AppState, body: &str) -> i64 {
    let r = post_json(&app(state.clone()), "/api/sessions", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_i64().unwrap()
}

/// Answers screening no and readies every setup step; returns at the first phase.
async fn to_rolling(ws: &mut Ws) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let f = next(ws).await;
        all.push(f.clone());
        match (f["type"].as_str(), f["kind"].as_str()) {
            (Some("prompt"), Some("screening")) => {
                send(ws, json!({"type": "answer", "answer": "no"})).await
            }
            (Some("prompt"), Some("ready")) => send(ws, json!({"type": "ready"})).await,
            (Some("phase"), _) => return all,
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_whole_session_runs_over_a_websocket_on_absolute_deadlines() {
    let state = state_with(fast(200.0));
    let addr = listen(state.clone()).await;
    let id = start(
        &state,
        r#"{"protocol":"upper-back","options":{"reps":5,"tempo_seconds":2}}"#,
    )
    .await;
    let mut ws = connect(addr, id).await;

    let opening = to_rolling(&mut ws).await;
    assert_eq!(opening.iter().filter(|f| f["type"] == "hello").count(), 1);
    let mut frames = opening;
    frames.extend(until(&mut ws, is("end")).await);

    let phases: Vec<&Value> = frames.iter().filter(|f| f["type"] == "phase").collect();
    assert_eq!(phases.len(), 10, "5 reps, out and back");
    for pair in phases.windows(2) {
        // Each phase starts at the previous deadline: no drift.
        let prev_deadline = pair[0]["deadline"].as_u64().unwrap();
        let deadline = pair[1]["deadline"].as_u64().unwrap();
        assert_eq!(deadline - prev_deadline, 2000);
        assert_ne!(pair[0]["direction"], pair[1]["direction"]);
    }
    let end = frames.last().unwrap();
    assert_eq!(end["outcome"]["outcome"], "completed");
    assert_eq!(end["summary"]["reps_done"], 5);

    // Every input, the deadlines' timeouts included, is in the log: the
    // recorded session is complete.
    let rec = eventually(|| {
        let app = app(state.clone());
        async move {
            let r = get(&app, &format!("/api/sessions/{id}")).await;
            (r.json["live"] == false).then_some(r.json)
        }
    })
    .await;
    assert_eq!(rec["outcome"]["outcome"], "completed");
    assert_eq!(rec["reps_done"], 5);
}

#[tokio::test]
async fn pain_over_the_spine_stops_at_once_with_the_protocol_message() {
    let state = state_with(fast(1.0));
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    to_rolling(&mut ws).await;
    send(&mut ws, json!({"type": "pain", "kind": "spine"})).await;
    let after = until(&mut ws, is("end")).await;
    assert!(
        after.iter().all(|f| f["type"] != "phase"),
        "no phase after the pain"
    );
    let end = after.last().unwrap();
    assert_eq!(
        end["outcome"],
        json!({"outcome": "stopped", "reason": "pain-over-spine"})
    );
    assert_eq!(
        end["message"],
        "Stop now. Pain directly over the spine is a reason to stop rolling."
    );
}

#[tokio::test]
async fn inputs_that_do_not_fit_get_an_error_frame_and_change_nothing() {
    let state = state();
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    until(&mut ws, is("hello")).await;
    send(&mut ws, json!({"type": "ready"})).await;
    let err = until(&mut ws, is("error")).await.pop().unwrap();
    assert!(err["error"].as_str().unwrap().contains("ready"), "{err}");
    send(&mut ws, json!({"type": "timeout"})).await;
    let err = until(&mut ws, is("error")).await.pop().unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("server's clock"),
        "{err}"
    );
    ws.send(Message::Text("{not json".into())).await.unwrap();
    let err = until(&mut ws, is("error")).await.pop().unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("not an input"),
        "{err}"
    );
    // Still screening, still the first question.
    let r = get(&app(state.clone()), &format!("/api/sessions/{id}")).await;
    assert_eq!(r.json["stage"], "screening");
    assert_eq!(r.json["current"][1]["index"], 1);
}

#[tokio::test]
async fn a_reconnecting_page_gets_the_current_phase_of_the_same_session() {
    let state = state_with(fast(1.0));
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    let first = to_rolling(&mut ws).await;
    let phase = first.last().unwrap().clone();
    ws.close(None).await.unwrap();
    drop(ws);

    let mut again = connect(addr, id).await;
    let hello = next(&mut again).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["session"], id);
    let current = until(&mut again, is("cue")).await;
    assert_eq!(current[0], json!({"type": "stage", "stage": "rolling"}));
    assert_eq!(current[1]["type"], "phase");
    assert_eq!(current[1]["rep"], phase["rep"]);
    assert_eq!(current[1]["deadline"], phase["deadline"]);
}

#[tokio::test]
async fn a_rolling_session_left_alone_past_the_grace_period_pauses_itself_and_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcoach.db");
    let state = state_at(
        &db,
        Config {
            grace: Duration::from_millis(200),
            ..fast(1.0)
        },
    );
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    to_rolling(&mut ws).await;
    drop(ws);

    let snapshot = eventually(|| {
        let app = app(state.clone());
        async move {
            let r = get(&app, &format!("/api/sessions/{id}")).await;
            (r.json["paused"] == true).then_some(r.json)
        }
    })
    .await;
    assert_eq!(snapshot["stage"], "rolling");
    assert_eq!(snapshot["attached"], 0);
    // The server's pause is in the log, after the person's inputs, like any input.
    let reader = common::store_at(&db);
    let events = reader.events(rollcoach_store::SessionId(id)).unwrap();
    assert_eq!(events.last().unwrap().input, rollcoach_engine::Input::Pause);
    assert!(
        events
            .iter()
            .any(|e| e.input == rollcoach_engine::Input::Ready)
    );
    // The page coming back sees the pause and can resume.
    let mut back = connect(addr, id).await;
    let current = until(&mut back, is("paused")).await;
    assert!(current.iter().any(|f| f["type"] == "phase"));
    send(&mut back, json!({"type": "resume"})).await;
    until(&mut back, is("resumed")).await;
}

#[tokio::test]
async fn a_session_that_is_not_live_has_no_websocket() {
    let state = state();
    let addr = listen(state.clone()).await;
    let err = tokio_tungstenite::connect_async(format!("ws://{addr}/api/sessions/77/ws"))
        .await
        .expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 404),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test]
async fn replaying_the_stored_log_reproduces_what_the_page_was_sent_output_for_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcoach.db");
    let state = state_at(&db, fast(100.0));
    let addr = listen(state.clone()).await;
    let id = start(
        &state,
        r#"{"protocol":"upper-back","options":{"reps":6,"reasons":["soreness","overhead-block"]}}"#,
    )
    .await;
    let mut ws = connect(addr, id).await;
    let mut frames = Vec::new();
    let mut phases = 0;
    loop {
        let f = next(&mut ws).await;
        frames.push(f.clone());
        match (f["type"].as_str(), f["kind"].as_str()) {
            (Some("prompt"), Some("screening")) => {
                send(&mut ws, json!({"type": "answer", "answer": "no"})).await
            }
            (Some("prompt"), Some("ready")) => send(&mut ws, json!({"type": "ready"})).await,
            (Some("prompt"), Some("rating")) => {
                send(&mut ws, json!({"type": "rating", "value": 5})).await
            }
            (Some("phase"), _) => {
                phases += 1;
                match phases {
                    2 => send(&mut ws, json!({"type": "noise"})).await,
                    3 => send(&mut ws, json!({"type": "pause"})).await,
                    5 => send(&mut ws, json!({"type": "discomfort", "level": 4})).await,
                    7 => send(&mut ws, json!({"type": "pain", "kind": "sharp"})).await,
                    _ => {}
                }
            }
            (Some("paused"), _) => send(&mut ws, json!({"type": "resume"})).await,
            (Some("end"), _) => break,
            _ => {}
        }
    }
    // What the page was sent: the engine outputs, without hello and sync.
    let sent: Vec<Value> = frames
        .into_iter()
        .filter(|f| !matches!(f["type"].as_str(), Some("hello" | "sync" | "error")))
        .collect();
    assert_eq!(
        sent.last().unwrap()["outcome"]["reason"],
        "sharp-or-radiating"
    );

    let reader = common::store_at(&db);
    let session = rollcoach_store::SessionId(id);
    let record = eventually(|| {
        let reader = &reader;
        async move { reader.session(session).ok().filter(|r| r.outcome.is_some()) }
    })
    .await;
    let log: Vec<(u64, rollcoach_engine::Input)> = reader
        .events(session)
        .unwrap()
        .into_iter()
        .map(|e| (e.at_ms, e.input))
        .collect();
    assert!(
        log.iter()
            .any(|(_, i)| *i == rollcoach_engine::Input::Timeout),
        "timeouts are logged"
    );
    let protocol = reader.protocol_snapshot(session).unwrap();
    let replay = rollcoach_engine::replay(
        &protocol,
        record.options,
        record.facts,
        record.started_at,
        &log,
    )
    .unwrap();
    assert!(replay.rejected.is_empty(), "{:?}", replay.rejected);
    let replayed: Vec<Value> = replay
        .outputs
        .iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    assert_eq!(replayed, sent);
}

#[tokio::test]
async fn a_page_that_goes_silent_without_closing_is_detached_and_the_session_pauses() {
    let state = state_with(Config {
        heartbeat: Duration::from_millis(50),
        grace: Duration::from_millis(100),
        ..fast(1.0)
    });
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    to_rolling(&mut ws).await;
    // Keep the connection open but stop reading: no pong goes back, like a
    // phone that locked with its socket still up.
    let snapshot = eventually(|| {
        let app = app(state.clone());
        async move {
            let r = get(&app, &format!("/api/sessions/{id}")).await;
            (r.json["paused"] == true).then_some(r.json)
        }
    })
    .await;
    assert_eq!(snapshot["attached"], 0);
    drop(ws);
}

#[tokio::test]
async fn a_page_that_answers_pings_stays_attached() {
    let state = state_with(Config {
        heartbeat: Duration::from_millis(30),
        grace: Duration::from_millis(60),
        ..fast(1.0)
    });
    let addr = listen(state.clone()).await;
    let id = start(
        &state,
        r#"{"protocol":"upper-back","options":{"tempo_seconds":6}}"#,
    )
    .await;
    let mut ws = connect(addr, id).await;
    to_rolling(&mut ws).await;
    // Reading the socket answers the pings (tungstenite sends the pongs).
    let read_for = tokio::time::Instant::now() + Duration::from_millis(600);
    while tokio::time::Instant::now() < read_for {
        let _ = tokio::time::timeout(Duration::from_millis(20), ws.next()).await;
    }
    let r = get(&app(state.clone()), &format!("/api/sessions/{id}")).await;
    assert_eq!(r.json["attached"], 1, "{}", r.json);
    assert_eq!(r.json["paused"], false);
}

#[tokio::test]
async fn a_session_nobody_attaches_to_is_recorded_as_interrupted_and_let_go() {
    let state = state_with(Config {
        abandon: Duration::from_millis(150),
        linger: Duration::from_millis(100),
        ..fast(1.0)
    });
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    // Still screening, nobody attached: after the abandon period it is
    // recorded as interrupted...
    let first = eventually(|| {
        let app = app(state.clone());
        async move {
            let h = get(&app, "/api/history").await;
            let first = h.json["sessions"][0].clone();
            (!first["outcome"].is_null()).then_some(first)
        }
    })
    .await;
    assert_eq!(first["id"], id);
    assert_eq!(first["outcome"]["outcome"], "interrupted", "{first}");
    assert_eq!(first["live"], false);
    // ...and, after the linger period, no longer held in memory.
    let record = eventually(|| {
        let app = app(state.clone());
        async move {
            let r = get(&app, &format!("/api/sessions/{id}")).await;
            (r.json["live"] == false).then_some(r.json)
        }
    })
    .await;
    assert_eq!(record["outcome"]["outcome"], "interrupted");
}

#[tokio::test]
async fn an_attached_page_keeps_a_session_from_being_abandoned() {
    let state = state_with(Config {
        abandon: Duration::from_millis(150),
        ..fast(1.0)
    });
    let addr = listen(state.clone()).await;
    let id = start(&state, r#"{"protocol":"upper-back"}"#).await;
    let mut ws = connect(addr, id).await;
    let watch_for = tokio::time::Instant::now() + Duration::from_millis(500);
    while tokio::time::Instant::now() < watch_for {
        let _ = tokio::time::timeout(Duration::from_millis(20), ws.next()).await;
    }
    let r = get(&app(state.clone()), &format!("/api/sessions/{id}")).await;
    assert_eq!(r.json["live"], true, "{}", r.json);
    assert_eq!(r.json["attached"], 1);
}

#[tokio::test]
async fn every_frame_a_page_is_sent_is_a_typed_server_frame() {
    use rollcoach_server::wire::ServerFrame;
    let state = state_with(fast(200.0));
    let addr = listen(state.clone()).await;
    let id = start(
        &state,
        r#"{"protocol":"upper-back","options":{"reps":5,"tempo_seconds":2,"reasons":["soreness"]}}"#,
    )
    .await;
    let mut ws = connect(addr, id).await;
    let mut frames = Vec::new();
    loop {
        let f = next(&mut ws).await;
        frames.push(f.clone());
        match (f["type"].as_str(), f["kind"].as_str()) {
            (Some("prompt"), Some("screening")) => {
                send(&mut ws, json!({"type": "answer", "answer": "no"})).await
            }
            (Some("prompt"), Some("ready")) => send(&mut ws, json!({"type": "ready"})).await,
            (Some("prompt"), Some("rating")) => {
                send(&mut ws, json!({"type": "rating", "value": 3})).await
            }
            (Some("phase"), _) if f["rep"] == 1 && f["direction"] == "out" => {
                send(&mut ws, json!({"type": "noise"})).await;
                send(&mut ws, json!({"type": "ready"})).await;
            }
            (Some("end"), _) => break,
            _ => {}
        }
    }
    let mut kinds = std::collections::BTreeSet::new();
    for f in &frames {
        let typed: ServerFrame = serde_json::from_value(f.clone())
            .unwrap_or_else(|e| panic!("not a ServerFrame ({e}): {f}"));
        assert_eq!(
            &serde_json::to_value(&typed).unwrap(),
            f,
            "reads back as sent"
        );
        kinds.insert(f["type"].as_str().unwrap().to_owned());
    }
    for kind in [
        "hello",
        "sync",
        "error",
        "stage",
        "cue",
        "prompt",
        "phase",
        "acknowledged",
        "end",
    ] {
        assert!(kinds.contains(kind), "no {kind} frame in {kinds:?}");
    }
}

#[test]
fn each_kind_of_frame_serializes_as_the_page_reads_it() {
    use rollcoach_engine::{
        Breath, Direction, Outcome, Output, Prompt, Stage, StopReason, Summary, Time,
    };
    use rollcoach_server::wire::{ClientFrame, ServerFrame};
    let json = |f: ServerFrame| serde_json::to_value(f).unwrap();
    // What web/session.js reads of each frame.
    assert_eq!(
        json(ServerFrame::Hello {
            session: 7,
            protocol: "upper-back".into(),
            now: Time(1_000),
            speed: 2.0
        }),
        json!({"type": "hello", "session": 7, "protocol": "upper-back", "now": 1000, "speed": 2.0})
    );
    assert_eq!(
        json(ServerFrame::Sync {
            now: Time(1_500),
            speed: 1.0
        }),
        json!({"type": "sync", "now": 1500, "speed": 1.0})
    );
    assert_eq!(
        json(ServerFrame::Error { error: "no".into() }),
        json!({"type": "error", "error": "no"})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Stage {
            stage: Stage::RatingsBefore
        })),
        json!({"type": "stage", "stage": "ratings-before"})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Cue {
            text: "t".into(),
            say: "s".into()
        })),
        json!({"type": "cue", "text": "t", "say": "s"})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Prompt(Prompt::Ready {
            id: "lie".into(),
            text: "Lie down".into(),
            index: 1,
            of: 3
        }))),
        json!({"type": "prompt", "kind": "ready", "id": "lie", "text": "Lie down", "index": 1, "of": 3})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Phase {
            rep: 2,
            of: 8,
            direction: Direction::Back,
            breath: Breath::Exhale,
            toward: "shoulder blades".into(),
            duration_ms: 3000,
            deadline: Time(9_000)
        })),
        json!({"type": "phase", "rep": 2, "of": 8, "direction": "back", "breath": "exhale",
               "toward": "shoulder blades", "duration_ms": 3000, "deadline": 9000})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Paused { remaining_ms: 1200 })),
        json!({"type": "paused", "remaining_ms": 1200})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Resumed {
            deadline: Time(5),
            remaining_ms: 1200
        })),
        json!({"type": "resumed", "deadline": 5, "remaining_ms": 1200})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::PairingSwitched {
            pairing: rollcoach_protocol::Pairing::InhaleBack
        })),
        json!({"type": "pairing-switched", "pairing": "inhale-back"})
    );
    assert_eq!(
        json(ServerFrame::Output(Output::Acknowledged {
            what: "noise".into()
        })),
        json!({"type": "acknowledged", "what": "noise"})
    );
    let end = json(ServerFrame::Output(Output::End {
        outcome: Outcome::Stopped {
            reason: StopReason::PainOverSpine,
        },
        message: "Stop.".into(),
        summary: Summary {
            reps_done: 1,
            reps_target: 8,
            active_ms: 4000,
            pairings: vec![],
            ratings: vec![],
            discomfort: vec![],
            noises: 0,
        },
    }));
    assert_eq!(end["type"], "end");
    assert_eq!(
        end["outcome"],
        json!({"outcome": "stopped", "reason": "pain-over-spine"})
    );
    assert_eq!(end["message"], "Stop.");
    assert_eq!(end["summary"]["reps_done"], 1);
    // And what the page sends.
    assert_eq!(
        serde_json::to_value(ClientFrame::Pain {
            kind: rollcoach_engine::PainKind::Spine
        })
        .unwrap(),
        json!({"type": "pain", "kind": "spine"})
    );
    assert_eq!(
        serde_json::to_value(ClientFrame::SwitchBreathing).unwrap(),
        json!({"type": "switch-breathing"})
    );
}

#[tokio::test]
async fn the_wire_schemas_are_in_the_openapi_document() {
    let r = get(&app(state()), "/api/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = &r.json;
    let frames = &doc["paths"]["/api/sessions/{id}/ws"]["get"]["x-websocket-frames"];
    assert_eq!(frames["server"]["$ref"], "#/components/schemas/ServerFrame");
    assert_eq!(frames["client"]["$ref"], "#/components/schemas/ClientFrame");
    let schemas = &doc["components"]["schemas"];
    // Every reference in the document points at a schema it holds.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    for r in &all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas[name].is_object(), "{r} points nowhere");
    }
    assert!(all.contains(&"#/components/schemas/Output"));
    // The frame types each way, by their `type` tag.
    let tags = |schema: &Value| -> Vec<String> {
        let variants = schema["oneOf"]
            .as_array()
            .or(schema["anyOf"].as_array())
            .expect("variants");
        variants
            .iter()
            .filter_map(|v| v["properties"]["type"]["enum"][0].as_str())
            .map(String::from)
            .collect()
    };
    assert_eq!(tags(&schemas["ServerFrame"]), ["hello", "sync", "error"]);
    let outputs = tags(&schemas["Output"]);
    for kind in ["stage", "cue", "prompt", "phase", "paused", "end"] {
        assert!(
            outputs.iter().any(|t| t == kind),
            "{kind} not in {outputs:?}"
        );
    }
    let inputs = tags(&schemas["ClientFrame"]);
    assert_eq!(
        inputs,
        [
            "answer",
            "ready",
            "rating",
            "pause",
            "resume",
            "discomfort",
            "pain",
            "noise",
            "switch-breathing",
            "stop"
        ]
    );
}
