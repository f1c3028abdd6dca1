//! The devices that may use this server (issue 13):
//!
//! - `GET /api/devices`: `{"devices": [Device + {"this_device": bool}]}`,
//!   revoked ones too, oldest first.
//! - `POST /api/devices/pairing`: a new one-time pairing link for another
//!   device, 201 `{"path", "url", "expires_at", "qr_svg"}`; `url` is on the
//!   address this request came to.
//! - `DELETE /api/devices/{id}`: revokes a device; its next request is
//!   refused (401). 200 with the device, 404 if there is none.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::lan::{Caller, LinkError, PAIRING_LINK_TTL_MS, new_pairing_link, qr_svg};
use crate::{ApiError, AppState, wall_now};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/devices", get(list))
        .route("/api/devices/pairing", post(pairing_link))
        .route("/api/devices/{id}", delete(revoke))
}

fn this_id(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Device(d) => Some(&d.id),
        Caller::Terminal => None,
    }
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let devices = state.inner.store.call(|s| s.devices()).await??;
    let me = this_id(&caller);
    let items: Vec<Value> = devices
        .into_iter()
        .map(|d| {
            let this = me == Some(d.id.as_str());
            let mut v = json!(d);
            v["this_device"] = json!(this);
            v
        })
        .collect();
    Ok(Json(json!({ "devices": items })))
}

async fn pairing_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let by = match &caller {
        Caller::Device(d) => format!("device {} ({})", d.id, d.name),
        Caller::Terminal => "the terminal (bearer token)".to_owned(),
    };
    let now = wall_now();
    let path = state
        .inner
        .store
        .call(move |s| new_pairing_link(s, &by, now))
        .await?
        .map_err(|e| match e {
            LinkError::Random(e) => ApiError::internal(e),
            LinkError::Store(e) => ApiError::from(e),
        })?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = if state.inner.config.tls {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{host}{path}");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "path": path,
            "url": url,
            "expires_at": now.plus_ms(PAIRING_LINK_TTL_MS),
            "qr_svg": qr_svg(&url),
        })),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = id?;
    let now = wall_now();
    let key = id.clone();
    let device = state
        .inner
        .store
        .call(move |s| s.revoke_device(&key, now))
        .await??;
    match device {
        Some(d) => Ok(Json(json!(d))),
        None => Err(ApiError::not_found(format!(
            "no device with id `{id}`; GET /api/devices lists them"
        ))),
    }
}
