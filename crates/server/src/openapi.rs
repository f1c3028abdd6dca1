//! The route table: every route the server serves, with its method, path,
//! summary, request and answers per status, each a type of
//! [`rollcoach_wire`]. The router ([`router`]) and the OpenAPI 3 document
//! served at `/api/openapi.json` ([`document`]) are both made from it, so a
//! route cannot be served without being described, nor described without
//! being served; the schemas come from the wire types (schemars), under
//! `components/schemas`.

use std::sync::OnceLock;

use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use rollcoach_wire as wire;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::AppState;

/// An HTTP method of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    /// The method as OpenAPI names it.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Delete => "delete",
        }
    }

    /// The method as HTTP names it.
    #[cfg(test)]
    pub(crate) fn http(self) -> axum::http::Method {
        match self {
            Method::Get => axum::http::Method::GET,
            Method::Post => axum::http::Method::POST,
            Method::Delete => axum::http::Method::DELETE,
        }
    }
}

/// The schema of a body or an answer.
type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// What an answer holds.
#[derive(Clone, Copy)]
enum Content {
    /// JSON of this schema.
    Json(SchemaFn),
    /// Of this media type, with no schema (HTML, a script, an image).
    Other(&'static str),
    /// Nothing (a redirect).
    Empty,
}

/// One answer of a route.
struct Answer {
    status: u16,
    description: &'static str,
    content: Content,
}

/// One route: what the document says of it and, unless the access guard
/// answers it before the router ([`crate::lan::guard`]: `/pair`), its handler.
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    summary: &'static str,
    /// Descriptions of the path's `{name}` segments.
    path_params: Vec<(&'static str, &'static str)>,
    /// A type whose fields are the query's parameters.
    query: Option<SchemaFn>,
    /// Extra query parameters (name, required, description) of a route
    /// whose query is read by the guard.
    query_params: Vec<(&'static str, bool, &'static str)>,
    body: Option<SchemaFn>,
    answers: Vec<Answer>,
    handler: Option<MethodRouter<AppState>>,
}

fn schema_of<T: JsonSchema + ?Sized>(g: &mut SchemaGenerator) -> Schema {
    rollcoach_wire::schema::of::<T>(g)
}

impl Route {
    fn new(method: Method, path: &'static str, handler: Option<MethodRouter<AppState>>) -> Route {
        Route {
            method,
            path,
            summary: "",
            path_params: Vec::new(),
            query: None,
            query_params: Vec::new(),
            body: None,
            answers: Vec::new(),
            handler,
        }
    }

    fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
        Route::new(Method::Get, path, Some(axum::routing::get(handler)))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
        Route::new(Method::Post, path, Some(axum::routing::post(handler)))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
        Route::new(Method::Delete, path, Some(axum::routing::delete(handler)))
    }

    /// A route the access guard answers before the router.
    fn guarded(method: Method, path: &'static str) -> Route {
        Route::new(method, path, None)
    }

    fn summary(mut self, summary: &'static str) -> Route {
        self.summary = summary;
        self
    }

    fn path_param(mut self, name: &'static str, description: &'static str) -> Route {
        self.path_params.push((name, description));
        self
    }

    fn query<T: JsonSchema>(mut self) -> Route {
        self.query = Some(|g| T::json_schema(g));
        self
    }

    fn query_param(
        mut self,
        name: &'static str,
        required: bool,
        description: &'static str,
    ) -> Route {
        self.query_params.push((name, required, description));
        self
    }

    fn body<T: JsonSchema + ?Sized>(mut self) -> Route {
        self.body = Some(schema_of::<T>);
        self
    }

    fn json<T: JsonSchema + ?Sized>(mut self, status: u16, description: &'static str) -> Route {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Json(schema_of::<T>),
        });
        self
    }

    fn other(mut self, status: u16, description: &'static str, media: &'static str) -> Route {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Other(media),
        });
        self
    }

    fn empty(mut self, status: u16, description: &'static str) -> Route {
        self.answers.push(Answer {
            status,
            description,
            content: Content::Empty,
        });
        self
    }

    /// Error answers (`{"error": ...}`) with these statuses; every route
    /// also has 401 (no device's cookie or token) and 500.
    fn errors(mut self, statuses: &[u16]) -> Route {
        for &status in statuses {
            self.answers.push(Answer {
                status,
                description: error_description(status),
                content: Content::Json(schema_of::<wire::ErrorBody>),
            });
        }
        self
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed: the message says what is wrong and how to fix it",
        401 => "Not let in: no paired device's cookie and no token",
        403 => {
            "A Host that is not this machine (loopback mode), or a route of another role (a coach's, the owner's)"
        }
        404 => "Not found",
        409 => "Not possible in the current state",
        413 => "Body over 64 KiB",
        415 => "The body is not sent as application/json",
        429 => "Too many failed sign-ins: try again after `Retry-After` seconds",
        422 => "Well-formed, but the values do not fit: the message names the field and the fix",
        500 => "rollcoach's own failure (the store), never bad input",
        503 => {
            "Busy or not writable now: try again after `Retry-After` seconds, or as the message says"
        }
        _ => "Error",
    }
}

/// Every route, in the document's order.
pub(crate) fn table() -> Vec<Route> {
    use crate::{accounts, api, assets, coach, config, devices, sync};
    vec![
        Route::get("/api/config", config::config)
            .summary("How the server runs, for the page: its session clock's `speed` (`serve --speed`) and `sync` (true: this server takes pushes; the static app says false).")
            .json::<wire::PageConfig>(200, "The page's configuration"),
        Route::get("/api/protocols", api::list_protocols)
            .summary("List protocols, each with its safety `rules` (injury window, discomfort threshold) and whether the injury rule blocks it now (`blocked`, computed by the server).")
            .json::<Vec<wire::ProtocolBrief>>(200, "Protocols"),
        Route::get("/api/protocols/{id}", api::get_protocol)
            .summary("One protocol in full, with its safety `rules`, `blocked`, `warnings` (where it weakens the handout's safety rules) and the server's `now`.")
            .path_param("id", "The protocol's id.")
            .json::<wire::ProtocolDetail>(200, "The protocol")
            .errors(&[400, 404]),
        Route::get("/api/protocols/{id}/handout", api::handout)
            .summary("The protocol as a printable standalone HTML handout.")
            .path_param("id", "The protocol's id.")
            .other(200, "HTML", "text/html")
            .errors(&[400, 404]),
        Route::get("/api/history", api::history)
            .summary("A page of the history, newest first, each session named by its `uid` (the key the page syncs by); `total` counts every session, `next` is the `before` of the next page (null on the last), `charts` holds each rating's most recent 60 sessions, oldest first (on the first page; empty on the others). With `all=1`: every session in one compact, streamed document instead (HistoryRows).")
            .query::<wire::HistoryQuery>()
            .json::<wire::HistoryAnswer>(200, "A page of the history (HistoryPage), or with `all=1` every session (HistoryRows)")
            .errors(&[400, 404, 503]),
        Route::get("/api/injuries", api::list_injuries)
            .summary("The injury log, oldest first; each injury with the protocols it blocks now and until when (`blocks`).")
            .json::<wire::InjuryList>(200, "Injuries"),
        Route::post("/api/injuries", api::add_injury)
            .summary("Log an injury: it blocks the protocols of its area for their window (`rules.injury_window_hours`). An area no protocol covers, or a time in the future, is refused (422) with what to do; a time at most 5 minutes ahead (clock skew) is recorded as now.")
            .body::<wire::NewInjury>()
            .json::<wire::Injury>(201, "Logged")
            .errors(&[400, 413, 415, 422]),
        Route::delete("/api/injuries/{uid}", api::clear_injury)
            .summary("Clear an injury, named by its uid: it no longer blocks sessions.")
            .path_param("uid", "The injury's uid (from GET /api/injuries).")
            .json::<wire::Injury>(200, "Cleared")
            .errors(&[400, 404, 409]),
        Route::get("/api/export", api::export)
            .summary("Everything recorded, as the JSON export document (the same as `rollcoach export --format json`), streamed.")
            .json::<wire::ExportDocumentShape>(200, "The export document")
            .errors(&[503]),
        Route::post("/api/sync/sessions", sync::push_session)
            .summary("Push one finished session that the page ran: an element of the export document's `sessions`, with its whole event log and the protocol as GET /api/protocols/{id} gave it. The server replays the log through the engine's session runner and stores the record the replay derives (outcome, reason, reps, active time, pairing, ratings, summary, end message) under the caller; a claim that differs is refused (422) naming the first field that differs. Idempotent by `uid`: the same session again is `already` (200); a different session under a uid already stored is refused (409) and not stored.")
            .body::<wire::SessionShape>()
            .json::<wire::SyncStatus>(201, "Verified and stored (`stored`)")
            .json::<wire::SyncStatus>(200, "This same session is stored already; nothing changed (`already`)")
            .errors(&[400, 409, 413, 415, 422]),
        Route::post("/api/sync/injuries", sync::push_injury)
            .summary("Push one injury the page logged, or its clear (an element of the export document's `injuries`, with its `uid`). Idempotent by `uid`: an injury without one (a page of before uids) gets its legacy uid, `<created_at>-<at>-1-<area>` (times in 12 hex digits). When the uid is stored not cleared and the push has `cleared_at`, the clear is applied (200 `cleared`); a clear is never undone. The uid stored with another area, time, note or logging time is refused (409). An area no protocol covers, a time in the future or before 2000, or control characters in the note are refused (422).")
            .body::<wire::InjuryShape>()
            .json::<wire::SyncStatus>(201, "Stored (`stored`)")
            .json::<wire::SyncStatus>(200, "Stored already: `already` (nothing changed) or `cleared` (the push's clear was applied)")
            .errors(&[400, 409, 413, 415, 422]),
        Route::get("/api/sync/changes", sync::changes)
            .summary("What changed in the caller's records after `since` (from the start without it), oldest first, at most `limit` (default and most 500): sessions stored or ended and injuries logged or cleared, each as it is now. Keep `next` and ask again with it: a round with nothing new is one small answer. `more` says more changes wait. A cursor this server did not give is refused (400).")
            .query::<wire::ChangesQuery>()
            .json::<wire::Changes>(200, "Changes after the cursor")
            .errors(&[400]),
        Route::get("/api/devices", devices::list)
            .summary("The devices let in (revoked ones too), oldest first, each with `this_device`.")
            .json::<wire::DeviceList>(200, "Devices"),
        Route::post("/api/devices/pairing", devices::pairing_link)
            .summary("A new one-time pairing link for another device; it pairs one device within an hour. `url` is on the address this request came to.")
            .json::<wire::PairingLink>(201, "Pairing link"),
        Route::delete("/api/devices/{id}", devices::revoke)
            .summary("Revokes a device: its next request is refused (401).")
            .path_param("id", "The device's public id (from GET /api/devices).")
            .json::<wire::Device>(200, "The revoked device")
            .errors(&[400, 404]),
        Route::get("/api/account", accounts::me)
            .summary("Who the caller is: the owner (the terminal's token, the owner's devices), a coach or a coach's client.")
            .json::<wire::Account>(200, "The caller")
            .errors(&[403]),
        Route::post("/api/sign-in", accounts::sign_in)
            .summary("A coach signs in with their name and password; needs no credential. On success this browser becomes a new device of the coach (via `password sign-in`) and gets the device cookie, as pairing gives it. A wrong name and a wrong password answer alike (401); after 5 failures in 15 minutes for the name or from the address, 429 with Retry-After, whatever the password.")
            .body::<wire::SignIn>()
            .json::<wire::Account>(200, "Signed in; the cookie is set")
            .errors(&[400, 401, 415, 422, 429]),
        Route::post("/api/account/password", accounts::set_password)
            .summary("A coach's device sets the coach's password (at least 10 characters; argon2id). Anyone else: 403.")
            .body::<wire::NewPassword>()
            .json::<wire::Account>(200, "Set")
            .errors(&[400, 403, 415, 422]),
        Route::get("/api/coaches", accounts::list_coaches)
            .summary("The owner's coaches, in the order they were added. Anyone but the owner: 403.")
            .json::<wire::CoachList>(200, "Coaches")
            .errors(&[403]),
        Route::post("/api/coaches", accounts::create_coach)
            .summary("The owner adds a coach (a name unique among coaches whatever the case, else 409), with a one-time sign-in link: it pairs the browser that opens it, within an hour, as the coach's device, where the coach sets a password. Anyone but the owner: 403.")
            .body::<wire::NewCoach>()
            .json::<wire::CoachCreated>(201, "The coach and their sign-in link")
            .errors(&[400, 403, 409, 415, 422]),
        Route::post("/api/coach/invites", coach::create_invite)
            .summary("A coach's one-time invite for a new client (`/join?token=...`, good for 7 days), with its QR code. Not a coach's device: 403.")
            .body::<wire::NewInvite>()
            .json::<wire::Invite>(201, "The invite")
            .errors(&[400, 403, 415, 422]),
        Route::get("/api/coach/clients", coach::clients)
            .summary("A coach's clients, in the order they joined. Not a coach's device: 403.")
            .json::<wire::ClientList>(200, "Clients")
            .errors(&[403]),
        Route::get("/api/coach/clients/{id}/devices", coach::client_devices)
            .summary("One client's devices (revoked ones too), oldest first. A client who is not the caller's: 404.")
            .path_param("id", "The client's id (from GET /api/coach/clients).")
            .json::<wire::DeviceList>(200, "Devices")
            .errors(&[403, 404]),
        Route::delete("/api/coach/clients/{id}/devices/{device}", coach::revoke_client_device)
            .summary("Revokes one of a client's devices: its next request is refused (401). A client who is not the caller's, or a device not theirs: 404.")
            .path_param("id", "The client's id (from GET /api/coach/clients).")
            .path_param("device", "The device's id (from GET /api/coach/clients/{id}/devices).")
            .json::<wire::Device>(200, "The revoked device")
            .errors(&[403, 404]),
        Route::get("/api/openapi.json", api::openapi)
            .summary("This document.")
            .other(200, "OpenAPI 3 document", "application/json"),
        Route::guarded(Method::Get, "/pair")
            .summary("Redeem a one-time pairing link (or, as /?token=, the link serve prints on loopback); sets the HttpOnly, SameSite=Strict device cookie and redirects to /.")
            .query_param("token", true, "The link's token.")
            .empty(303, "Paired; redirect to /"),
        Route::guarded(Method::Get, "/join")
            .summary("Redeem a coach's one-time invite: adds a client of the coach, pairs this browser as the client's device (the HttpOnly, SameSite=Strict device cookie) and redirects to /. A wrong, spent or expired invite pairs nothing (401).")
            .query_param("token", true, "The invite's token.")
            .empty(303, "Joined; redirect to /"),
        Route::get("/", assets::index)
            .summary("The page (the app shell). With `?token=` (the link serve prints on loopback): as /pair.")
            .other(200, "HTML", "text/html"),
        Route::get("/{file}", assets::file)
            .summary("One of the page's files: its scripts, style sheet, icons, manifest, service worker and WebAssembly module.")
            .path_param("file", "The file's name (`app.js`, `rollcoach.wasm`, ...).")
            .other(200, "The file", "application/octet-stream")
            .errors(&[404]),
    ]
}

/// The router of every route of the table that the router serves.
pub(crate) fn router() -> Router<AppState> {
    table()
        .into_iter()
        .fold(Router::new(), |router, route| match route.handler {
            Some(handler) => router.route(route.path, handler),
            None => router,
        })
}

/// The names of a path's `{name}` segments.
pub(crate) fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// A route's OpenAPI operation.
fn operation(route: &Route, g: &mut SchemaGenerator) -> Value {
    let mut params = Vec::new();
    for name in path_params(route.path) {
        let description = route
            .path_params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, d)| *d);
        params.push(json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}}));
    }
    if let Some(query) = route.query {
        let schema = query(g).to_value();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = schema["properties"].as_object() {
            for (name, prop) in props {
                let mut prop = prop.clone();
                let description = prop
                    .as_object_mut()
                    .and_then(|p| p.remove("description"))
                    .unwrap_or(Value::String(String::new()));
                params.push(json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "description": description, "schema": prop}));
            }
        }
    }
    for (name, required, description) in &route.query_params {
        params.push(json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}}));
    }
    let mut answers = Map::new();
    let content_of = |content: Content, g: &mut SchemaGenerator| match content {
        Content::Json(schema) => Some(json!({"application/json": {"schema": schema(g)}})),
        Content::Other(media) => Some(json!({ media: {} })),
        Content::Empty => None,
    };
    let mut all = Vec::new();
    all.extend(
        route
            .answers
            .iter()
            .map(|a| (a.status, a.description, a.content)),
    );
    for status in [401, 500] {
        if !route.answers.iter().any(|a| a.status == status) {
            all.push((
                status,
                error_description(status),
                Content::Json(schema_of::<wire::ErrorBody>),
            ));
        }
    }
    for (status, description, content) in all {
        let mut answer = json!({ "description": description });
        if let Some(content) = content_of(content, g) {
            answer["content"] = content;
        }
        answers.insert(status.to_string(), answer);
    }
    let mut op = json!({ "summary": route.summary, "responses": answers });
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    if let Some(body) = route.body {
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body(g)}}});
    }
    op
}

/// The document served at `/api/openapi.json`, made once.
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut g = SchemaSettings::openapi3().for_serialize().into_generator();
    let mut paths = Map::new();
    for route in table() {
        let op = operation(&route, &mut g);
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.key()] = op;
    }
    let mut paths = Value::Object(paths);
    // The schemas written inline (arrays of a type, a query's fields) get
    // the same OpenAPI 3 rewriting as those under components.
    let schemas = Value::Object(g.take_definitions(true));
    for transform in g.transforms_mut() {
        walk_schemas(&mut paths, &mut |s| transform.transform(s));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "rollcoach",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Guided, safe, spoken mobility sessions. Errors are JSON {\"error\": message}; bad input is a 4xx. Request bodies are limited to 64 KiB. Every request needs a device's cookie (HttpOnly, SameSite=Strict; got by opening the link serve prints on loopback, or a one-time /pair link) or Authorization: Bearer TOKEN (401 without it). The page runs sessions itself and pushes each finished one to POST /api/sync/sessions, which stores it only if its event log replays through the engine to what it claims; it pulls GET /api/history and GET /api/injuries. Records are named by their uid; no answer holds a row id or a process id."
        },
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// Calls `f` on every schema under `paths` (`content.*.schema`).
fn walk_schemas(paths: &mut Value, f: &mut dyn FnMut(&mut Schema)) {
    match paths {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "schema" {
                    if let Ok(mut schema) = Schema::try_from(value.take()) {
                        f(&mut schema);
                        *value = schema.to_value();
                    }
                } else {
                    walk_schemas(value, f);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk_schemas(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_table_is_in_the_document_once() {
        let doc = document();
        let table = table();
        let mut seen = std::collections::HashSet::new();
        for route in &table {
            assert!(
                seen.insert((route.method.key(), route.path)),
                "{} {} twice in the table",
                route.method.key(),
                route.path
            );
            let op = &doc["paths"][route.path][route.method.key()];
            assert!(
                op.is_object(),
                "{} {} missing",
                route.method.key(),
                route.path
            );
            assert!(!route.summary.is_empty(), "{} has no summary", route.path);
            assert!(op["responses"]["401"].is_object());
            for name in path_params(route.path) {
                assert!(
                    op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{}: `{name}` undocumented",
                    route.path
                );
            }
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, table.len(), "the document has only the table");
    }

    #[test]
    fn every_reference_of_the_document_resolves() {
        let doc = document();
        let text = doc.to_string();
        let mut refs = Vec::new();
        collect_refs(doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r} is not under components/schemas"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not defined ({} B)",
                text.len()
            );
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(s)) => out.push(s.clone()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_schemas_say_no_row_id_or_process_id() {
        let schemas = &document()["components"]["schemas"];
        for (name, schema) in schemas.as_object().unwrap() {
            let props = schema["properties"].as_object();
            for gone in ["owner_pid", "server_id", "row_id"] {
                assert!(
                    props.is_none_or(|p| !p.contains_key(gone)),
                    "{name} has `{gone}`"
                );
            }
        }
        for name in ["Injury", "HistoryItem", "InjuryItem"] {
            let props = schemas[name]["properties"].as_object();
            assert!(
                props.is_some_and(|p| !p.contains_key("id") && p.contains_key("uid")),
                "{name}: {}",
                schemas[name]
            );
        }
    }

    #[test]
    fn the_history_query_becomes_query_parameters() {
        let params = document()["paths"]["/api/history"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone();
        let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["all", "before", "charts", "limit"]);
        assert!(
            params
                .iter()
                .all(|p| p["in"] == "query" && p["required"] == false)
        );
        assert_eq!(params[3]["schema"]["maximum"], 500);
    }

    /// The router made from the table, through the whole app (the access
    /// guard and the fallbacks): every documented route is answered by its
    /// handler (or the guard), never by the fallback; every other method of
    /// a documented path is refused (405).
    #[tokio::test]
    async fn every_documented_route_is_served_and_nothing_else_on_its_path() {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;

        let store = rollcoach_store_sqlite::SqliteRecords::open_in_memory().unwrap();
        let state = AppState::new(
            rollcoach_protocol::builtin(),
            std::sync::Arc::new(store),
            crate::Config::default(),
        )
        .unwrap();
        let bearer = format!("Bearer {}", state.access_token().unwrap());
        let app = crate::app(state);
        let table = table();
        for route in &table {
            let path = path_params(route.path)
                .into_iter()
                .fold(route.path.to_owned(), |p, name| {
                    p.replace(&format!("{{{name}}}"), "x")
                });
            for method in [Method::Get, Method::Post, Method::Delete] {
                let documented = table
                    .iter()
                    .any(|r| r.path == route.path && r.method == method);
                if route.handler.is_none() && method != route.method {
                    continue; // the guard answers its path whatever the method
                }
                let req = Request::builder()
                    .method(method.http())
                    .uri(&path)
                    .header("host", "localhost")
                    .header("authorization", &bearer)
                    .body(Body::empty())
                    .unwrap();
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
                    .await
                    .unwrap();
                let text = String::from_utf8_lossy(&body);
                let what = format!("{} {path}: {status} {text:.200}", method.key());
                if documented {
                    assert_ne!(status, 405, "{what}");
                    assert!(!text.contains("nothing at"), "{what}");
                } else if route.method != method {
                    assert_eq!(status, 405, "undocumented and served: {what}");
                }
            }
        }
    }

    /// No route is added beside the table: the server's sources call
    /// `.route(` only here (in [`router`]).
    #[test]
    fn routes_are_added_only_from_the_table() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // The table and the router made from it.
            if name == "openapi.rs" {
                continue;
            }
            for needle in [
                ".route(",
                ".route_service(",
                ".nest(",
                ".nest_service(",
                ".merge(",
            ] {
                if text.contains(needle) {
                    found.push(format!("{name}: {needle}"));
                }
            }
        }
        assert!(
            found.is_empty(),
            "routes added outside the table (add them to openapi::table): {found:?}"
        );
    }
}
