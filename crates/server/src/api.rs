//! The JSON API. Errors are `{"error": "..."}`: 4xx for anything the client
//! got wrong, never 500 for bad input.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use rollcoach_engine::{InjuryFact, Time, check_injury_time, injury_block};
use rollcoach_protocol::Protocol;
use rollcoach_store::{Conflict, NotFound, SessionId, StoreError, rating_series};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{ApiError, AppState, wall_now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/protocols", get(list_protocols))
        .route("/api/protocols/{id}", get(get_protocol))
        .route("/api/protocols/{id}/handout", get(handout))
        .route("/api/history", get(history))
        .route("/api/injuries", get(list_injuries).post(add_injury))
        .route("/api/injuries/{uid}", delete(clear_injury))
        .route("/api/export", get(export))
        .route("/api/openapi.json", get(openapi))
}

type ApiResult<T> = Result<T, ApiError>;

/// Unwraps a store result inside a store call.
fn stored<T>(r: Result<Result<T, rollcoach_store::StoreError>, ApiError>) -> ApiResult<T> {
    r?.map_err(ApiError::from)
}

/// The injury rule applied to the injury log now, as the engine's one
/// function ([`rollcoach_engine::injury_block`]) computes it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Block {
    /// When the most recent blocking injury happened.
    injured_at: Time,
    /// When the protocol becomes allowed again.
    allowed_at: Time,
    /// The protocol's window, in hours.
    window_hours: u32,
    /// The protocol's message.
    message: String,
}

async fn block_for(state: &AppState, protocol: &Protocol, now: Time) -> ApiResult<Option<Block>> {
    let p = protocol.clone();
    let facts = stored(state.inner.store.call(move |s| s.facts_for(&p)).await)?;
    Ok(injury_block(protocol, &facts.injuries, now).map(|b| Block {
        injured_at: b.injured_at,
        allowed_at: b.allowed_at,
        window_hours: protocol.screening.injury_rule.window_hours,
        message: protocol.screening.injury_rule.message.clone(),
    }))
}

/// The protocol's safety rules that the page shows: it computes none itself.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Rules {
    /// The injury rule's window, in hours: an injury in the area blocks the
    /// protocol for this long.
    injury_window_hours: u32,
    /// Discomfort strictly above this (0-10) stops the session; null if the
    /// protocol has no such rule.
    discomfort_threshold: Option<u8>,
}

pub(crate) fn rules_of(p: &Protocol) -> Rules {
    Rules {
        injury_window_hours: p.screening.injury_rule.window_hours,
        discomfort_threshold: p.discomfort_threshold(),
    }
}

pub(crate) fn protocol_brief(p: &Protocol, block: Option<Block>) -> Value {
    json!({
        "id": p.id,
        "title": p.title,
        "area": p.area,
        "summary": p.summary,
        "reps": p.movement.reps,
        "tempo": p.movement.tempo,
        "estimated_seconds": p.estimated_rolling_seconds(),
        "credit": p.credit.text,
        "rules": rules_of(p),
        "blocked": block,
    })
}

async fn list_protocols(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let now = wall_now();
    let mut out = Vec::new();
    for p in &state.inner.protocols {
        let block = block_for(&state, p, now).await?;
        out.push(protocol_brief(p, block));
    }
    Ok(Json(Value::Array(out)))
}

async fn get_protocol(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id?;
    let p = state.protocol(&id)?;
    let block = block_for(&state, p, wall_now()).await?;
    let mut detail = protocol_detail(p, json!(block));
    detail["now"] = json!(wall_now());
    Ok(Json(detail))
}

/// `GET /api/protocols/{id}`'s answer, without `now`: also what the static
/// app serves at that path (with no block).
pub(crate) fn protocol_detail(p: &Protocol, blocked: Value) -> Value {
    json!({
        "protocol": p,
        "rules": rules_of(p),
        "blocked": blocked,
        // Where the protocol weakens the handout's safety rules: [{path, message, hint}].
        "warnings": p.safety_warnings(),
    })
}

async fn handout(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    let p = state.protocol(&id)?;
    Ok(crate::assets::handout_html(p).into_response())
}

/// Sessions a history page holds unless `limit` says otherwise.
const HISTORY_PAGE: usize = 50;
/// The most a history page holds.
const HISTORY_PAGE_MAX: usize = 500;
/// Sessions each rating chart covers (the most recent).
const CHART_SESSIONS: usize = 60;

/// `GET /api/history` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// Sessions in the page, 1 to 500 (default 50).
    limit: Option<usize>,
    /// The page after this session, by uid (the previous page's `next`).
    before: Option<String>,
    /// `1`: every session in one compact document instead of a page.
    all: Option<String>,
    /// With `all=1`, `1` adds the rating charts.
    charts: Option<String>,
}

/// A `1`/`0` (or `true`/`false`) flag of a query.
fn flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(v) => Err(ApiError::bad_request(format!(
            "`{name}` is 1 or 0 (got {v:?})"
        ))),
    }
}

async fn history(
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let all = flag("all", query.all.as_deref())?;
    let charts = flag("charts", query.charts.as_deref())?;
    if all {
        if query.limit.is_some() || query.before.is_some() {
            return Err(ApiError::bad_request(
                "`all=1` gives every session: leave out `limit` and `before`",
            ));
        }
        // Every session's summary in one compact document, streamed.
        let charts = charts.then_some(CHART_SESSIONS);
        return crate::streamed::json_stream(
            &state,
            None,
            Box::new(move |store, out| {
                rollcoach_store::write_history_rows(store, out, charts).map(|_| ())
            }),
        )
        .await;
    }
    if query.charts.is_some() {
        return Err(ApiError::bad_request(
            "`charts` goes with `all=1`; the first page of the paged history always has the charts",
        ));
    }
    let limit = query.limit.unwrap_or(HISTORY_PAGE);
    if !(1..=HISTORY_PAGE_MAX).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {HISTORY_PAGE_MAX} (got {limit})"
        )));
    }
    let before_uid = query.before;
    let (records, total, charts) = state
        .inner
        .store
        .read(move |s| {
            // Pages are named by the session's uid, which cannot be guessed.
            let before = match before_uid {
                Some(uid) => Some(
                    s.session_id_by_uid(&uid)?
                        .ok_or_else(|| StoreError::NotFound(NotFound::Session(SessionId(-1))))?,
                ),
                None => None,
            };
            let records = s.history_page(limit, before)?;
            // The charts come with the first page; later pages only count.
            if before.is_some() {
                let total = usize::try_from(s.session_count()?).unwrap_or(usize::MAX);
                return Ok((records, total, Vec::new()));
            }
            let points = s.history_points()?;
            let charts = rating_series(&points, CHART_SESSIONS);
            Ok((records, points.len(), charts))
        })
        .await?
        .map_err(|e| match e {
            StoreError::NotFound(NotFound::Session(_)) => ApiError::not_found(
                "no session with that uid to page from (`before`): start again without it",
            ),
            e => ApiError::from(e),
        })?;
    let next = (records.len() == limit)
        .then(|| records.last().map(|r| r.uid.clone()))
        .flatten();
    let sessions = records
        .into_iter()
        .map(|record| HistoryItem {
            live: record.outcome.is_none(),
            duration_ms: record.duration_ms(),
            record,
        })
        .collect();
    Ok(Json(HistoryPage {
        sessions,
        total,
        next,
        charts,
    })
    .into_response())
}

/// `GET /api/history`'s answer, serialized straight to JSON.
#[derive(Serialize)]
struct HistoryPage {
    sessions: Vec<HistoryItem>,
    total: usize,
    /// The uid of the page's last session: the next page's `before`.
    next: Option<String>,
    charts: Vec<rollcoach_store::RatingSeries>,
}

/// One session of a history page: its record (with its `uid`, the key a
/// page syncs by), whether it has not ended (`live`: a terminal runs it, or
/// one that crashed left it for the next recovery), and how long it took.
#[derive(Serialize)]
struct HistoryItem {
    #[serde(flatten)]
    record: rollcoach_store::SessionRecord,
    live: bool,
    duration_ms: Option<u64>,
}

/// One injury of `GET /api/injuries`, with the protocols it blocks now.
#[derive(Serialize)]
struct InjuryItem {
    #[serde(flatten)]
    injury: rollcoach_store::Injury,
    /// The protocols this injury blocks now, each until when (empty when
    /// cleared or past every window).
    blocks: Vec<InjuryBlocks>,
}

/// A protocol an injury blocks, and until when.
#[derive(Serialize)]
struct InjuryBlocks {
    protocol: String,
    allowed_at: Time,
}

async fn list_injuries(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let injuries = stored(state.inner.store.call(|s| s.list_injuries()).await)?;
    let now = wall_now();
    let items: Vec<InjuryItem> = injuries
        .into_iter()
        .map(|injury| {
            let fact = [InjuryFact {
                at: injury.at,
                note: None,
            }];
            let blocks = state
                .inner
                .protocols
                .iter()
                .filter(|p| injury.cleared_at.is_none() && p.area == injury.area)
                .filter_map(|p| {
                    injury_block(p, &fact, now).map(|b| InjuryBlocks {
                        protocol: p.id.clone(),
                        allowed_at: b.allowed_at,
                    })
                })
                .collect();
            InjuryItem { injury, blocks }
        })
        .collect();
    Ok(Json(json!({ "injuries": items })))
}

/// `POST /api/injuries` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInjuryBody {
    area: String,
    /// When it happened (ms since the Unix epoch); default now.
    at: Option<Time>,
    note: Option<String>,
}

async fn add_injury(
    State(state): State<AppState>,
    body: Result<Json<NewInjuryBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(body) = body?;
    // The rules of every input of an injury (the CLI and import use them
    // too): an area some protocol covers, a time not in the future.
    rollcoach_protocol::check_area(state.inner.protocols.iter().map(|p| &**p), &body.area)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let now = wall_now();
    let at = check_injury_time(body.at.unwrap_or(now), now)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::unprocessable(
            "`note` is longer than 500 characters",
        ));
    }
    let note = body.note.filter(|n| !n.trim().is_empty());
    let area = body.area;
    let injury = stored(
        state
            .inner
            .store
            .call(move |s| s.add_injury(&area, at, note.as_deref(), now))
            .await,
    )?;
    Ok((StatusCode::CREATED, Json(json!(injury))))
}

async fn clear_injury(
    State(state): State<AppState>,
    uid: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path(uid) = uid?;
    // A uid is short printable ASCII; anything else cannot name an injury.
    if rollcoach_store::check_uid(&uid).is_err() {
        return Err(ApiError::bad_request(
            "the path ends in an injury's uid (from GET /api/injuries: letters, digits, \
             `-`, `_`, `.`, `:`)",
        ));
    }
    let now = wall_now();
    let shown = uid.clone();
    let cleared = state
        .inner
        .store
        .call(move |s| {
            let found = s.list_injuries()?.into_iter().find(|i| i.uid == uid);
            match found {
                Some(injury) => s.clear_injury(injury.id, now).map(Some),
                None => Ok(None),
            }
        })
        .await?
        .map_err(|e| match e {
            StoreError::Conflict(Conflict::InjuryAlreadyCleared { .. }) => {
                ApiError::conflict(format!("injury {shown} is already cleared"))
            }
            e => ApiError::from(e),
        })?
        .ok_or_else(|| ApiError::not_found(format!("no injury with uid {shown}")))?;
    Ok(Json(json!(cleared)))
}

/// `GET /api/export`: the export document, written as the sessions are
/// read (a page at a time, on a store handle of its own), so the server's
/// memory does not grow with the history.
async fn export(State(state): State<AppState>) -> ApiResult<Response> {
    let now = wall_now();
    crate::streamed::json_stream(
        &state,
        Some("attachment; filename=\"rollcoach-export.json\""),
        Box::new(move |store, out| {
            rollcoach_store::write_export_json(store, now, out, &mut |_| {}).map(|_| ())
        }),
    )
    .await
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "nothing at {}; the API is described at /api/openapi.json",
        uri.path()
    ))
}

pub(crate) async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take this method; see /api/openapi.json",
            uri.path()
        ),
    )
}
