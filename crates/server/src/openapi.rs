//! The OpenAPI 3 document of the JSON API, written by hand (it is small).

use serde_json::{Value, json};

fn error_responses(codes: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for code in codes {
        map.insert(
            (*code).to_string(),
            json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    Value::Object(map)
}

fn with_errors(ok: Value, codes: &[&str]) -> Value {
    let mut responses = error_responses(codes);
    if let (Value::Object(r), Value::Object(ok)) = (&mut responses, ok) {
        r.extend(ok);
    }
    responses
}

fn ok_json(code: &str, description: &str, schema: Value) -> Value {
    json!({ code: {"description": description, "content": {"application/json": {"schema": schema}}} })
}

fn path_id(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
}

/// The document served at `/api/openapi.json`.
pub(crate) fn document() -> Value {
    let mut doc = api();
    if let Some(Value::Object(paths)) = doc.pointer_mut("/paths")
        && let Value::Object(sync) = sync_paths()
    {
        paths.extend(sync);
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas")
        && let Value::Object(sync) = sync_schemas()
    {
        schemas.extend(sync);
    }
    doc
}

/// `POST /api/sync/sessions` and `POST /api/sync/injuries`.
fn sync_paths() -> Value {
    json!({
            "/api/sync/sessions": {"post": {
                "summary": "Push one finished session that the page ran: an element of the export document's `sessions`, with its whole event log and the protocol as GET /api/protocols/{id} gave it. The server replays the log through the engine's session runner and stores the session only if the replay gives exactly the claimed outcome, reason, reps, ratings, summary and end message. Idempotent by `uid`.",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExportedSession"}}}},
                "responses": with_errors(json!({
                    "201": {"description": "Verified and stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncStatus"}}}},
                    "200": {"description": "A session with this uid is stored already; nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncStatus"}}}}
                }), &["400", "413", "415", "422"])
            }},
            "/api/sync/injuries": {"post": {
                "summary": "Push one injury the page logged, or its clear (an element of the export document's `injuries`, with its `uid`). Idempotent by `uid`: an injury without one (a page of before uids) gets its legacy uid, `<created_at>-<at>-1-<area>` (times in 12 hex digits). When the uid is stored not cleared and the push has `cleared_at`, the clear is applied (200 `cleared`); a clear is never undone. The uid stored with another area, time, note or logging time is refused (409). An area no protocol covers or a time in the future is refused (422).",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExportedInjury"}}}},
                "responses": with_errors(json!({
                    "201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncStatus"}}}},
                    "200": {"description": "Stored already: `already` (nothing changed) or `cleared` (the push's clear was applied)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncStatus"}}}}
                }), &["400", "409", "413", "415", "422"])
            }}
    })
}

/// The bodies and answers of sync.
fn sync_schemas() -> Value {
    let obj = json!({"type": "object"});
    json!({
            "SyncStatus": {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["stored", "already", "cleared"]},
                "uid": {"type": "string", "description": "The session's or injury's uid."}
            }},
            "ExportedSession": {"type": "object", "description": "One session of the export document (`rollcoach export --format json`), with every field; `ended_at` and `outcome` set.",
                "required": ["uid", "protocol_id", "protocol_version", "area", "protocol", "options", "facts", "started_at", "reps_target", "ratings", "events"],
                "properties": {
                    "uid": {"type": "string", "maxLength": 128},
                    "protocol_id": {"type": "string"}, "protocol_version": {"type": "integer"}, "area": {"type": "string"},
                    "protocol": {"type": "object", "description": "The protocol as GET /api/protocols/{id} gives it (field `protocol`); it must equal this server's."},
                    "options": obj.clone(), "facts": obj.clone(),
                    "started_at": {"type": "integer"}, "ended_at": {"type": "integer"},
                    "outcome": obj.clone(), "reason": {"type": "string", "nullable": true}, "message": {"type": "string", "nullable": true},
                    "reps_done": {"type": "integer"}, "reps_target": {"type": "integer"}, "active_ms": {"type": "integer"},
                    "pairing": {"type": "string", "enum": ["inhale-out", "inhale-back"], "nullable": true},
                    "ratings": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "before": {"type": "integer", "nullable": true, "minimum": 0, "maximum": 10}, "after": {"type": "integer", "nullable": true, "minimum": 0, "maximum": 10}}}},
                    "summary": obj.clone(),
                    "events": {"type": "array", "description": "The whole log: `seq` 0, 1, 2, ... in order, `at_ms` after the start and never going back, `input` an engine input.", "items": {"type": "object", "properties": {"seq": {"type": "integer"}, "at_ms": {"type": "integer"}, "input": obj.clone()}}}
                }},
            "ExportedInjury": {"type": "object", "required": ["area", "at", "created_at"], "properties": {
                "uid": {"type": "string", "maxLength": 128, "description": "Globally unique: the logging time and 64 random bits, in hex (`019b7a0a0c00-9f3c2e7a1b4d5c6e`). Missing: the legacy uid."},
                "area": {"type": "string"}, "at": {"type": "integer"}, "note": {"type": "string", "nullable": true, "maxLength": 500},
                "created_at": {"type": "integer"}, "cleared_at": {"type": "integer", "nullable": true}
            }}
    })
}

/// The rest of the JSON API.
fn api() -> Value {
    let obj = json!({"type": "object"});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "rollcoach",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Guided, safe, spoken mobility sessions. Errors are JSON {\"error\": message}; bad input is a 4xx. Request bodies are limited to 64 KiB. Every request needs a device's cookie (HttpOnly, SameSite=Strict; got by opening the link serve prints on loopback, or a one-time /pair link) or Authorization: Bearer TOKEN (401 without it). The page runs sessions itself and pushes each finished one to POST /api/sync/sessions, which stores it only if its event log replays through the engine to what it claims; it pulls GET /api/history and GET /api/injuries."
        },
        "paths": {
            "/api/protocols": {"get": {
                "summary": "List protocols, each with its safety `rules` (injury window, discomfort threshold) and whether the injury rule blocks it now (`blocked`: null or {injured_at, allowed_at, window_hours, message}, computed by the server).",
                "responses": with_errors(ok_json("200", "Protocols", json!({"type": "array", "items": {"$ref": "#/components/schemas/ProtocolBrief"}})), &["500"])
            }},
            "/api/protocols/{id}": {"get": {
                "summary": "One protocol in full, with its safety `rules`, `blocked` and the server's `now`.",
                "parameters": [path_id("id", "string")],
                "responses": with_errors(ok_json("200", "The protocol", json!({"type": "object", "properties": {
                    "protocol": obj.clone(),
                    "rules": {"$ref": "#/components/schemas/Rules"},
                    "blocked": {"$ref": "#/components/schemas/Block"},
                    "now": {"type": "integer"},
                    "warnings": {"type": "array", "description": "Where the protocol weakens the handout's safety rules (a coach's content: warned, not refused).", "items": {"type": "object", "properties": {"path": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}}}
                }})), &["404"])
            }},
            "/api/protocols/{id}/handout": {"get": {
                "summary": "The protocol as a printable standalone HTML handout.",
                "parameters": [path_id("id", "string")],
                "responses": with_errors(json!({"200": {"description": "HTML", "content": {"text/html": {}}}}), &["404"])
            }},
            "/api/history": {"get": {
                "summary": "A page of the history, newest first, each session with its `uid` (the key the page syncs by) and its ratings before and after; `total` counts every session, `next` is the `before` of the next page (null on the last), `charts` holds each rating's most recent 60 sessions, oldest first (on the first page; empty on the others).",
                "parameters": [
                    {"name": "limit", "in": "query", "required": false, "description": "Sessions in the page, 1 to 500 (default 50).", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "before", "in": "query", "required": false, "description": "The page after this session, by uid (the previous page's `next`).", "schema": {"type": "string"}},
                    {"name": "all", "in": "query", "required": false, "description": "1: every session in one compact, streamed document instead of a page: `{columns, rating_ids, sessions: [[id, uid, protocol, started_at, duration_ms, outcome, reason, reps_done, reps_target, [before, after, ...]], ...], total}`, newest first; each row's ratings are `before, after` for each of `rating_ids`. Not with `limit` or `before`.", "schema": {"type": "integer", "enum": [0, 1]}},
                    {"name": "charts", "in": "query", "required": false, "description": "With `all=1`: 1 adds `charts` (as on the first page).", "schema": {"type": "integer", "enum": [0, 1]}}
                ],
                "responses": with_errors(ok_json("200", "History", json!({"type": "object", "properties": {
                    "sessions": {"type": "array", "items": obj.clone()},
                    "total": {"type": "integer"},
                    "next": {"type": "string", "nullable": true},
                    "charts": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string"},
                        "sessions": {"type": "integer"},
                        "points": {"type": "array", "items": {"type": "object", "properties": {"at": {"type": "integer"}, "before": {"type": "integer", "nullable": true}, "after": {"type": "integer", "nullable": true}}}}
                    }}}
                }})), &["400", "404", "500"])
            }},
            "/api/injuries": {
                "get": {
                    "summary": "The injury log, oldest first; each injury with the protocols it blocks now and until when (`blocks`).",
                    "responses": with_errors(ok_json("200", "Injuries", json!({"type": "object", "properties": {"injuries": {"type": "array", "items": {"$ref": "#/components/schemas/InjuryWithBlocks"}}}})), &["500"])
                },
                "post": {
                    "summary": "Log an injury: it blocks the protocols of its area for their window (`rules.injury_window_hours`). An area no protocol covers, or a time in the future, is refused (422) with what to do; a time at most 5 minutes ahead (clock skew) is recorded as now.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewInjury"}}}},
                    "responses": with_errors(ok_json("201", "Logged", json!({"$ref": "#/components/schemas/Injury"})), &["400", "413", "415", "422"])
                }
            },
            "/api/injuries/{uid}": {"delete": {
                "summary": "Clear an injury, named by its uid: it no longer blocks sessions.",
                "parameters": [path_id("uid", "string")],
                "responses": with_errors(ok_json("200", "Cleared", json!({"$ref": "#/components/schemas/Injury"})), &["400", "404", "409"])
            }},
            "/api/export": {"get": {
                "summary": "Everything recorded, as the JSON export document (the same as `rollcoach export --format json`).",
                "responses": with_errors(ok_json("200", "Export", obj.clone()), &["500"])
            }},
            "/api/openapi.json": {"get": {
                "summary": "This document.",
                "responses": ok_json("200", "OpenAPI 3 document", obj.clone())
            }},
            "/api/devices": {"get": {
                "summary": "The devices let in (revoked ones too), each with `this_device`.",
                "responses": with_errors(ok_json("200", "Devices", obj.clone()), &["401"])
            }},
            "/api/devices/pairing": {"post": {
                "summary": "A new one-time pairing link for another device (path, url, expires_at, qr_svg); it pairs one device within an hour.",
                "responses": with_errors(ok_json("201", "Pairing link", obj.clone()), &["401"])
            }},
            "/api/devices/{id}": {"delete": {
                "summary": "Revokes a device: its next request is refused (401).",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": with_errors(ok_json("200", "The revoked device", obj.clone()), &["401", "404"])
            }},
            "/pair": {"get": {
                "summary": "Redeem a one-time pairing link (or, as /?token=, the link serve prints on loopback); sets the HttpOnly, SameSite=Strict device cookie and redirects to /.",
                "parameters": [{"name": "token", "in": "query", "required": true, "schema": {"type": "string"}}],
                "responses": with_errors(json!({"303": {"description": "Paired; redirect to /"}}), &["401"])
            }}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "ProtocolBrief": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "area": {"type": "string"},
                "summary": {"type": "string"}, "reps": obj.clone(), "tempo": obj.clone(),
                "estimated_seconds": {"type": "number"}, "credit": {"type": "string"},
                "rules": {"$ref": "#/components/schemas/Rules"},
                "blocked": {"$ref": "#/components/schemas/Block"}
            }},
            "Rules": {"type": "object", "description": "A protocol's safety rules, for the page to show (it computes none).", "properties": {
                "injury_window_hours": {"type": "integer", "description": "An injury in the area blocks the protocol for this many hours."},
                "discomfort_threshold": {"type": "integer", "nullable": true, "minimum": 0, "maximum": 10, "description": "Discomfort strictly above this stops the session."}
            }},
            "Block": {"type": "object", "nullable": true, "description": "The injury rule blocks the protocol now: since the latest blocking injury, until `allowed_at`.", "properties": {
                "injured_at": {"type": "integer"}, "allowed_at": {"type": "integer"},
                "window_hours": {"type": "integer"}, "message": {"type": "string"}}},
            "NewInjury": {"type": "object", "required": ["area"], "additionalProperties": false, "properties": {
                "area": {"type": "string"},
                "at": {"type": "integer", "description": "When it happened, ms since the Unix epoch; default now. Not in the future (up to 5 minutes ahead is taken as now)."},
                "note": {"type": "string", "maxLength": 500}
            }},
            "Injury": {"type": "object", "properties": {
                "id": {"type": "integer"}, "uid": {"type": "string"}, "area": {"type": "string"}, "at": {"type": "integer"},
                "note": {"type": "string", "nullable": true}, "created_at": {"type": "integer"},
                "cleared_at": {"type": "integer", "nullable": true}
            }},
            "InjuryWithBlocks": {"allOf": [{"$ref": "#/components/schemas/Injury"}, {"type": "object", "properties": {
                "blocks": {"type": "array", "items": {"type": "object", "properties": {
                    "protocol": {"type": "string"}, "allowed_at": {"type": "integer"}}}}
            }}]}
        }}
    })
}
