//! Sync: the page runs sessions itself and pushes each finished one here.
//!
//! - `POST /api/sync/sessions`: one [`ExportedSession`] (an element of the
//!   export document's `sessions`, with its whole event log and protocol
//!   snapshot). It is stored only after [`verify_session`] has replayed its
//!   log through the engine's runner and got exactly what it claims. 201
//!   `{"status":"stored","uid":..}`; 200 `{"status":"already","uid":..}`
//!   when that uid is stored already (a push is idempotent); 422 naming the
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
//! Both store through [`rollcoach_store::Store::import_checked`] with a
//! one-item document, the path `rollcoach import` takes.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use rollcoach_engine::Time;
use rollcoach_store::{
    EXPORT_FORMAT, EXPORT_VERSION, ExportDocument, ExportedInjury, ExportedSession, ImportCheck,
    ImportRules, verify_session,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{ApiError, AppState, wall_now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/sync/sessions", post(push_session))
        .route("/api/sync/injuries", post(push_injury))
}

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

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

/// A document holding only `sessions` and `injuries`, for `import_checked`.
fn document(sessions: Vec<ExportedSession>, injuries: Vec<ExportedInjury>) -> ExportDocument {
    ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        exported_at: wall_now(),
        sessions,
        injuries,
    }
}

async fn push_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let session: ExportedSession = parse(
        &headers,
        body,
        "one session as `rollcoach export --format json` writes the elements of `sessions`",
    )?;
    verify_session(&session, &state.inner.catalog, wall_now()).map_err(|refusal| {
        ApiError::unprocessable(format!("session {}: {refusal}", session.uid))
    })?;
    let uid = session.uid.clone();
    let doc = document(vec![session], Vec::new());
    let report = state
        .inner
        .store
        .call(move |s| s.import_checked(&doc))
        .await??;
    let (status, word) = if report.imported == 1 {
        (StatusCode::CREATED, "stored")
    } else {
        (StatusCode::OK, "already")
    };
    Ok((status, Json(json!({ "status": word, "uid": uid }))))
}

/// The longest injury note accepted, in characters (as `POST /api/injuries`).
const NOTE_MAX: usize = 500;

async fn push_injury(
    State(state): State<AppState>,
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
    let doc = document(Vec::new(), vec![injury]);
    let report = state
        .inner
        .store
        .call(move |s| s.import_checked(&doc))
        .await??;
    let (status, word) = if report.injuries_imported == 1 {
        (StatusCode::CREATED, "stored")
    } else if report.injuries_cleared == 1 {
        (StatusCode::OK, "cleared")
    } else {
        (StatusCode::OK, "already")
    };
    Ok((status, Json(json!({ "status": word, "uid": uid }))))
}

/// The rules every input of an injury follows, the import's own
/// ([`ImportCheck`]: a uid, an area some protocol covers, no time in the
/// future or before 2000, cleared after it was logged, no control characters
/// in the note), and a note of at most [`NOTE_MAX`] characters. A refusal
/// names the field and the fix.
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
    })?;
    if injury
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > NOTE_MAX)
    {
        return Err(ApiError::unprocessable(format!(
            "the injury's `note` is longer than {NOTE_MAX} characters"
        )));
    }
    Ok(())
}
