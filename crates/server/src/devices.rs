//! The devices that may use this server (issue 13):
//!
//! - `GET /api/devices`: [`DeviceList`], revoked ones too, oldest first.
//! - `POST /api/devices/pairing`: a new one-time pairing link for another
//!   device, 201 [`PairingLink`]; `url` is on the address this request came
//!   to.
//! - `DELETE /api/devices/{id}`: revokes a device; its next request is
//!   refused (401). 200 with the [`Device`], 404 if there is none.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Extension, Json};
use rollcoach_wire::{Device, DeviceList, PairingLink};

use crate::lan::{Caller, LinkError, PAIRING_LINK_TTL_MS, new_pairing_link, qr_svg};
use crate::{ApiError, AppState, wall_now};

fn this_id(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Device(d) => Some(&d.id),
        Caller::Terminal => None,
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<DeviceList>, ApiError> {
    let person = caller.person().clone();
    let devices = state
        .inner
        .store
        .call(move |s| s.devices(&person))
        .await??;
    let me = this_id(&caller);
    let devices = devices
        .into_iter()
        .map(|d| {
            let this = me == Some(d.id.as_str());
            Device::of(d, this)
        })
        .collect();
    Ok(Json(DeviceList { devices }))
}

pub(crate) async fn pairing_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PairingLink>), ApiError> {
    let by = match &caller {
        Caller::Device(d) => format!("device {} ({})", d.id, d.name),
        Caller::Terminal => "the terminal (bearer token)".to_owned(),
    };
    let now = wall_now();
    let person = caller.person().clone();
    let path = state
        .inner
        .store
        .call(move |s| new_pairing_link(s, &person, &by, now))
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
        Json(PairingLink {
            expires_at: now.plus_ms(PAIRING_LINK_TTL_MS),
            qr_svg: qr_svg(&url),
            path,
            url,
        }),
    ))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Device>, ApiError> {
    let Path(id) = id?;
    let now = wall_now();
    let key = id.clone();
    let person = caller.person().clone();
    let device = state
        .inner
        .store
        .call(move |s| s.revoke_device(&person, &key, now))
        .await??;
    match device {
        Some(d) => {
            let this = this_id(&caller) == Some(d.id.as_str());
            Ok(Json(Device::of(d, this)))
        }
        None => Err(ApiError::not_found(format!(
            "no device with id `{id}`; GET /api/devices lists them"
        ))),
    }
}
