//! A coach's routes (issue 20), for a coach's devices only (anyone else:
//! 403):
//!
//! - `POST /api/coach/invites` [`NewInvite`]: a one-time invite link
//!   (`/join?token=...`, good for [`INVITE_TTL_MS`]) with its QR code, 201
//!   [`Invite`].
//! - `GET /join?token=...` (answered by the guard, like `/pair`): spends
//!   the invite, adds the client of the coach and pairs the phone that
//!   opened it as the client's device, then redirects to `/`.
//! - `GET /api/coach/clients`: [`ClientList`].
//! - `GET /api/coach/clients/{id}/devices`: a client's devices.
//! - `DELETE /api/coach/clients/{id}/devices/{device}`: revokes one.
//!
//! A client id that is not the coach's (another coach's client, an unknown
//! id) answers 404, as a missing one does: ids of others cannot be probed.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use rollcoach_store::{NewDevice, PersonId, PersonInfo, check_name};
use rollcoach_wire::{Client, ClientList, Device, DeviceList, Invite, NewInvite};

use crate::accounts::{link_on, new_client_id, people, require_coach};
use crate::lan::{Caller, authenticate, device_name, qr_svg, random_hex, sha256_hex};
use crate::{ApiError, AppState, wall_now};

/// How long an invite lets a client in: 7 days.
pub const INVITE_TTL_MS: u64 = 7 * 24 * 3_600_000;

/// `POST /api/coach/invites`.
pub(crate) async fn create_invite(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Json<NewInvite>, JsonRejection>,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    let Json(body) = body?;
    let coach = require_coach(&state, &caller).await?;
    let name = match body.name.as_deref() {
        Some(n) => Some(
            check_name(n)
                .map_err(|why| ApiError::bad_request(format!("name: {why}")))?
                .to_owned(),
        ),
        None => None,
    };
    let token = random_hex(16).map_err(ApiError::internal)?;
    let token_hash = sha256_hex(&token);
    let now = wall_now();
    let expires_at = now.plus_ms(INVITE_TTL_MS);
    people(&state, move |p| {
        p.add_invite(
            &coach.id,
            &rollcoach_store::NewInvite {
                token_hash: &token_hash,
                name: name.as_deref(),
                created_at: now,
                expires_at,
            },
        )
    })
    .await?;
    let path = format!("/join?token={token}");
    let link = link_on(&state, &headers, &path);
    Ok((
        StatusCode::CREATED,
        Json(Invite {
            qr_svg: qr_svg(&link),
            link,
            path,
            expires_at,
        }),
    ))
}

/// `/join?token=...`: a phone opens an invite. Lets it in as a new client
/// of the invite's coach (a device with a fresh secret in its cookie) and
/// redirects to `/`; a browser already let in is only redirected, and the
/// invite stays unspent.
pub(crate) async fn open_invite(
    state: &AppState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Response {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "an invite needs ?token=...")
            .into_response();
    };
    if let Ok(Some(_)) = authenticate(state, headers).await {
        return Redirect::to("/").into_response();
    }
    let (Ok(secret), Ok(id)) = (random_hex(32), random_hex(4)) else {
        return ApiError::internal("could not get a random secret from the OS").into_response();
    };
    let client = match new_client_id() {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let name = device_name(headers);
    let hash = sha256_hex(&secret);
    let token_hash = sha256_hex(token);
    let now = wall_now();
    let joined = people(state, move |p| {
        p.redeem_invite(
            &token_hash,
            now,
            &client,
            &NewDevice {
                id: &id,
                name: &name,
                via: "a coach's invite",
                secret_hash: &hash,
                created_at: now,
            },
        )
    })
    .await;
    match joined {
        Ok(Some(_)) => {}
        Ok(None) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this invite is wrong or already used, or it expired; ask your coach for a new one",
            )
            .into_response();
        }
        Err(e) => return e.into_response(),
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&state.inner.auth.cookie(host, &secret)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn client(info: PersonInfo) -> Client {
    Client {
        id: info.id.to_string(),
        name: info.name,
        created_at: info.created_at,
    }
}

/// `GET /api/coach/clients`.
pub(crate) async fn clients(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ClientList>, ApiError> {
    let coach = require_coach(&state, &caller).await?;
    let clients = people(&state, move |p| p.clients(&coach.id)).await?;
    Ok(Json(ClientList {
        clients: clients.into_iter().map(client).collect(),
    }))
}

/// The coach's client `id`: 404 for anyone else's, as for none.
async fn client_of(state: &AppState, coach: &PersonInfo, id: &str) -> Result<PersonId, ApiError> {
    let missing = || {
        ApiError::not_found(format!(
            "you have no client with id `{id}`; GET /api/coach/clients lists yours"
        ))
    };
    let client = PersonId::parse(id).map_err(|_| missing())?;
    let coach = coach.id.clone();
    match people(state, move |p| p.client_of(&coach, &client)).await {
        Ok(info) => Ok(info.id),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(missing()),
        Err(e) => Err(e),
    }
}

/// `GET /api/coach/clients/{id}/devices`.
pub(crate) async fn client_devices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<DeviceList>, ApiError> {
    let Path(id) = id?;
    let coach = require_coach(&state, &caller).await?;
    let client = client_of(&state, &coach, &id).await?;
    let devices = state
        .inner
        .store
        .call(move |s| s.devices(&client))
        .await??;
    Ok(Json(DeviceList {
        devices: devices.into_iter().map(|d| Device::of(d, false)).collect(),
    }))
}

/// `DELETE /api/coach/clients/{id}/devices/{device}`.
pub(crate) async fn revoke_client_device(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Device>, ApiError> {
    let Path((id, device)) = ids?;
    let coach = require_coach(&state, &caller).await?;
    let client = client_of(&state, &coach, &id).await?;
    let now = wall_now();
    let key = device.clone();
    let revoked = state
        .inner
        .store
        .call(move |s| s.revoke_device(&client, &key, now))
        .await??;
    revoked.map(|d| Json(Device::of(d, false))).ok_or_else(|| {
        ApiError::not_found(format!(
            "client `{id}` has no device with id `{device}`; GET /api/coach/clients/{id}/devices \
             lists them"
        ))
    })
}
