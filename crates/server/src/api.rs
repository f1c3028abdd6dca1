//! The JSON API. Errors are `{"error": "..."}`: 4xx for anything the client
//! got wrong, never 500 for bad input.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rollcoach_engine::Time;
use rollcoach_protocol::Protocol;
use rollcoach_store::{
    Area, Conflict, InjuryNote, InjuryTime, Invalid, NotFound, PersonId, StoreError, Uid,
    rating_series,
};
use rollcoach_wire::{
    Block, HistoryItem, HistoryPage, HistoryQuery, Injury, InjuryItem, InjuryList, NewInjury,
    ProtocolBrief, ProtocolDetail,
};
use serde_json::Value;

use crate::store::Person;
use crate::{ApiError, AppState, wall_now};

type ApiResult<T> = Result<T, ApiError>;

/// Unwraps a store result inside a store call.
fn stored<T>(r: Result<Result<T, rollcoach_store::StoreError>, ApiError>) -> ApiResult<T> {
    r?.map_err(ApiError::from)
}

async fn block_for(
    state: &AppState,
    person: &PersonId,
    protocol: &Protocol,
    now: Time,
) -> ApiResult<Option<Block>> {
    let p = protocol.clone();
    let person = person.clone();
    let facts = stored(
        state
            .inner
            .store
            .read(move |s| s.facts_for(&person, &p))
            .await,
    )?;
    Ok(Block::now(protocol, &facts.injuries, now))
}

pub(crate) async fn list_protocols(
    State(state): State<AppState>,
    Person(person): Person,
) -> ApiResult<Json<Vec<ProtocolBrief>>> {
    let now = wall_now();
    let mut out = Vec::new();
    for p in &state.inner.protocols {
        let block = block_for(&state, &person, p, now).await?;
        out.push(ProtocolBrief::of(p, block));
    }
    Ok(Json(out))
}

pub(crate) async fn get_protocol(
    State(state): State<AppState>,
    Person(person): Person,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ProtocolDetail>> {
    let Path(id) = id?;
    let p = state.protocol(&id)?;
    let now = wall_now();
    let block = block_for(&state, &person, p, now).await?;
    Ok(Json(ProtocolDetail::of(p, block, Some(now))))
}

pub(crate) async fn handout(
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

pub(crate) async fn history(
    State(state): State<AppState>,
    Person(person): Person,
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
            &person.clone(),
            None,
            Box::new(move |store, out| {
                rollcoach_store::write_history_rows(store, &person, out, charts).map(|_| ())
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
    // Pages are named by a session's uid: a malformed one names nothing.
    let before_uid = query
        .before
        .map(|b| {
            Uid::parse(&b)
                .map(|u| u.as_str().to_owned())
                .map_err(|e| ApiError::bad_request(format!("`before`: {e}")))
        })
        .transpose()?;
    let (records, total, charts) = state
        .inner
        .store
        .read(move |s| {
            // Pages are named by the session's uid, which cannot be guessed.
            let records = s.history_page(&person, limit, before_uid.as_deref())?;
            // The charts come with the first page; later pages only count.
            if before_uid.is_some() {
                let total = usize::try_from(s.session_count(&person)?).unwrap_or(usize::MAX);
                return Ok((records, total, Vec::new()));
            }
            let points = s.history_points(&person)?;
            let charts = rating_series(&points, CHART_SESSIONS);
            Ok((records, points.len(), charts))
        })
        .await?
        .map_err(|e| match e {
            StoreError::NotFound(NotFound::SessionUid(_)) => ApiError::not_found(
                "no session with that uid to page from (`before`): start again without it",
            ),
            e => ApiError::from(e),
        })?;
    let next = (records.len() == limit)
        .then(|| records.last().map(|r| r.uid.clone()))
        .flatten();
    Ok(Json(HistoryPage {
        sessions: records.into_iter().map(HistoryItem::from).collect(),
        total,
        next,
        charts: charts.into_iter().map(Into::into).collect(),
    })
    .into_response())
}

pub(crate) async fn list_injuries(
    State(state): State<AppState>,
    Person(person): Person,
) -> ApiResult<Json<InjuryList>> {
    let injuries = stored(
        state
            .inner
            .store
            .read(move |s| s.list_injuries(&person))
            .await,
    )?;
    let now = wall_now();
    let protocols = || state.inner.protocols.iter().map(|p| &**p);
    let injuries = injuries
        .into_iter()
        .map(|injury| InjuryItem::of(injury.into(), protocols(), now))
        .collect();
    Ok(Json(InjuryList { injuries }))
}

/// A new injury's body, every field parsed by its domain type: the rules of
/// every input of an injury, the CLI's, sync's and import's too (an area
/// some protocol covers, a time not in the future nor before 2000, a note
/// of at most 500 characters with no control characters). A refusal is a
/// 422 naming the field, the problem (in the words `POST /api/sync/injuries`
/// uses) and the fix.
fn parse_injury(
    body: NewInjury,
    state: &AppState,
    now: Time,
) -> ApiResult<rollcoach_store::NewInjury> {
    let refused =
        |e: Invalid| ApiError::unprocessable(format!("the injury's `{}`: {e}", e.field()));
    let area =
        Area::parse(state.inner.protocols.iter().map(|p| &**p), &body.area).map_err(refused)?;
    let at = InjuryTime::parse(body.at.unwrap_or(now), now).map_err(refused)?;
    let note = InjuryNote::from_input(body.note.as_deref()).map_err(refused)?;
    Ok(rollcoach_store::NewInjury {
        area: area.as_str().to_owned(),
        at: at.get(),
        note: note.map(|n| n.as_str().to_owned()),
        created_at: now,
    })
}

pub(crate) async fn add_injury(
    State(state): State<AppState>,
    Person(person): Person,
    body: Result<Json<NewInjury>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Injury>)> {
    let Json(body) = body?;
    let now = wall_now();
    let new = parse_injury(body, &state, now)?;
    let injury = stored(
        state
            .inner
            .store
            .call(move |s| s.add_injury(&person, &new))
            .await,
    )?;
    Ok((StatusCode::CREATED, Json(injury.into())))
}

pub(crate) async fn clear_injury(
    State(state): State<AppState>,
    Person(person): Person,
    uid: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Injury>> {
    let Path(uid) = uid?;
    // A uid is short printable ASCII; anything else cannot name an injury.
    let uid = Uid::parse(&uid).map_err(|e| {
        ApiError::bad_request(format!(
            "{}; the path ends in an injury's uid (from GET /api/injuries: letters, digits, \
             `-`, `_`, `.`, `:`)",
            e.problem()
        ))
    })?;
    let uid = uid.into_string();
    let now = wall_now();
    let shown = uid.clone();
    let cleared = state
        .inner
        .store
        .call(move |s| match s.clear_injury(&person, &uid, now) {
            Ok(injury) => Ok(Some(injury)),
            Err(StoreError::NotFound(NotFound::InjuryUid(_))) => Ok(None),
            Err(e) => Err(e),
        })
        .await?
        .map_err(|e| match e {
            StoreError::Conflict(Conflict::InjuryAlreadyCleared { .. }) => {
                ApiError::conflict(format!("injury {shown} is already cleared"))
            }
            e => ApiError::from(e),
        })?
        .ok_or_else(|| ApiError::not_found(format!("no injury with uid {shown}")))?;
    Ok(Json(cleared.into()))
}

/// `GET /api/export`: the export document, written as the sessions are
/// read (a page at a time, on a store handle of its own), so the server's
/// memory does not grow with the history.
pub(crate) async fn export(
    State(state): State<AppState>,
    Person(person): Person,
) -> ApiResult<Response> {
    let now = wall_now();
    crate::streamed::json_stream(
        &state,
        &person.clone(),
        Some("attachment; filename=\"rollcoach-export.json\""),
        Box::new(move |store, out| {
            rollcoach_store::write_export_json(store, &person, now, out, &mut |_| {}).map(|_| ())
        }),
    )
    .await
}

pub(crate) async fn openapi() -> Json<&'static Value> {
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
