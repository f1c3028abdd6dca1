//! Sync: the page runs sessions itself and pushes each finished one here.
//!
//! - `POST /api/sync/sessions`: one [`ExportedSession`] (an element of the
//!   export document's `sessions`, with its whole event log and protocol
//!   snapshot). It is stored only after [`verify_session`] has replayed its
//!   log through the engine's runner and got exactly what it claims. 201
//!   `{"status":"stored","uid":..}`; 200 `{"status":"already","uid":..}`
//!   when that uid holds this same session already (a push is idempotent);
//!   409 naming the uid when it holds a different one (nothing is stored,
//!   and the page must not mark its session synced); 422 naming the
//!   problem when the log does not replay to the claim (nothing is stored);
//!   400 for malformed JSON or a body that is not a session; 413 too big;
//!   415 unless sent as `application/json`.
//! - `POST /api/sync/injuries`: one [`ExportedInjury`], idempotent by its
//!   `uid` (one without a uid, from a page of before uids, gets its legacy
//!   uid, [`rollcoach_store::legacy_injury_uid`], as the page gives its old
//!   injuries): 201 `{"status":"stored","uid":..}`; 200 `"already"` when
//!   that uid is stored; 200 `"cleared"` when it is stored not cleared and
//!   the push has it cleared (the clear is applied: a push carries the
//!   clearing, and never un-clears); 409 when that uid is stored with
//!   another area, time, note or logging time; 422 for an area no protocol
//!   covers or a time in the future.
//!
//! - `GET /api/sync/changes?since=CURSOR&limit=N`: the caller's sessions
//!   stored or ended and injuries logged or cleared after `since` (from the
//!   start without it), oldest first, at most `limit` (default and most
//!   500): `{"changes": [{"kind": "session"|"injury", "record": ...}],
//!   "next": CURSOR, "more": bool}`. A device keeps `next` and asks again
//!   with it: a round with nothing new costs one small answer, not a pull
//!   of the whole history. 400 for a cursor this server did not give.
//!
//! A pushed session goes through [`rollcoach_store::accept`], the one step
//! where the server replays it and derives the record it stores
//! ([`rollcoach_store::Records::accept_session`]); a pushed injury through
//! the import's rules and [`rollcoach_store::Records::import_injuries`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use rollcoach_engine::Time;
use rollcoach_store::{
    Accepted, Change, ChangeCursor, ExportedInjury, ExportedSession, ImportCheck, ImportRules,
    StoreError, accept,
};
use rollcoach_wire::{Changes, ChangesQuery, SyncStatus, SyncWord};
use serde::de::DeserializeOwned;

use crate::store::Person;
use crate::{ApiError, AppState, wall_now};

type Answer = Result<(StatusCode, Json<SyncStatus>), ApiError>;

/// The body as `T`: 415 unless it is sent as JSON (a cross-site form or
/// `text/plain` post cannot push anything), 400 for anything that is not
/// JSON of that shape, 413 (axum's) for a body over the limit.
fn parse<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON, with the header `Content-Type: application/json`",
        ));
    }
    let body = body.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    serde_json::from_slice(&body).map_err(|e| {
        let why = match e.classify() {
            serde_json::error::Category::Data => format!("the body is not {what}: {e}"),
            _ => format!("the body is not valid JSON: {e}"),
        };
        ApiError::bad_request(why)
    })
}

pub(crate) async fn push_session(
    State(state): State<AppState>,
    Person(person): Person,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let session: ExportedSession = parse(
        &headers,
        body,
        "one session as `rollcoach export --format json` writes the elements of `sessions`",
    )?;
    let uid = session.uid.clone();
    let catalog = state.inner.catalog.clone();
    // Verify (a replay through the engine) and store, off the reactor.
    let accepted = state
        .inner
        .store
        .call(move |s| match accept(session, &catalog, wall_now()) {
            Ok(verified) => Ok(s.accept_session(&person, &verified)),
            Err(refusal) => Err(refusal),
        })
        .await?
        .map_err(|refusal| ApiError::unprocessable(format!("session {uid}: {refusal}")))??;
    let (code, status) = match accepted {
        Accepted::Stored => (StatusCode::CREATED, SyncWord::Stored),
        Accepted::Already => (StatusCode::OK, SyncWord::Already),
        Accepted::Differs => {
            return Err(ApiError::conflict(format!(
                "session {uid}: this computer already holds a different session under uid {uid}, \
                 so this one was not stored; give the session a new uid to store it as well"
            )));
        }
    };
    Ok((code, Json(SyncStatus { status, uid })))
}

pub(crate) async fn push_injury(
    State(state): State<AppState>,
    Person(person): Person,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let mut injury: ExportedInjury = parse(
        &headers,
        body,
        "one injury as `rollcoach export --format json` writes the elements of `injuries`",
    )?;
    ExportedInjury::fill_missing_uids(std::slice::from_mut(&mut injury));
    check_injury(&state, &injury, wall_now())?;
    let uid = injury.uid.clone();
    let report = state
        .inner
        .store
        .call(move |s| s.import_injuries(&person, std::slice::from_ref(&injury)))
        .await??;
    let (code, status) = if report.added.len() == 1 {
        (StatusCode::CREATED, SyncWord::Stored)
    } else if report.cleared == 1 {
        (StatusCode::OK, SyncWord::Cleared)
    } else {
        (StatusCode::OK, SyncWord::Already)
    };
    Ok((code, Json(SyncStatus { status, uid })))
}

/// The rules every input of an injury follows, the import's own
/// ([`ImportCheck`], which checks each field by its type in
/// [`rollcoach_store::domain`]: a uid, an area some protocol covers, no time
/// in the future or before 2000, cleared after it was logged, a note of at
/// most 500 characters with no control characters), as `POST /api/injuries`
/// and `rollcoach injury add` apply them. A refusal names the field and the
/// fix.
fn check_injury(state: &AppState, injury: &ExportedInjury, now: Time) -> Result<(), ApiError> {
    ImportCheck::new(ImportRules {
        catalog: &state.inner.catalog,
        now,
    })
    .injuries(std::slice::from_ref(injury), now)
    .map_err(|r| {
        ApiError::unprocessable(format!(
            "the injury's `{}`: {}; to fix it: {}",
            r.field, r.problem, r.fix
        ))
    })
}

/// Changes a device reads at a time unless it asks for fewer.
const CHANGES_PAGE: usize = 500;

pub(crate) async fn changes(
    State(state): State<AppState>,
    Person(person): Person,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<Changes>, ApiError> {
    let Query(query) = query?;
    let since = query
        .since
        .as_deref()
        .map(ChangeCursor::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = query.limit.unwrap_or(CHANGES_PAGE);
    if !(1..=CHANGES_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {CHANGES_PAGE} (got {limit})"
        )));
    }
    let page: Vec<(ChangeCursor, Change)> = state
        .inner
        .store
        .read(move |s| s.changes_since(&person, since.as_ref(), limit))
        .await?
        .map_err(|e: StoreError| ApiError::from(e))?;
    let more = page.len() == limit;
    let next = page.last().map(|(c, _)| *c).or(since);
    Ok(Json(Changes {
        changes: page.into_iter().map(|(_, c)| c.into()).collect(),
        next: next.map(|c| c.to_string()),
        more,
    }))
}
