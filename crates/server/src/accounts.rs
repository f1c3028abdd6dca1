//! Accounts (issue 20): who the caller is, a coach's password and sign-in,
//! and the owner's coaches.
//!
//! - `GET /api/account`: [`Account`], who the caller is (the owner for the
//!   terminal's token and the owner's devices).
//! - `POST /api/sign-in` [`SignIn`]: a coach signs in with their name and
//!   password (argon2id); on success the browser becomes a new device of
//!   the coach (`via`: password sign-in) and gets its cookie as pairing
//!   gives it. The guard lets this one route through without a credential.
//!   Wrong name and wrong password answer alike (401, one message); after
//!   [`MAX_SIGN_IN_FAILURES`] failures in
//!   [`rollcoach_store::SIGN_IN_WINDOW_MS`] for the name or for the
//!   client's address, 429 with `Retry-After`, whatever the password. The
//!   failures are kept in the store ([`People::note_sign_in_failure`]), so
//!   servers on one database count them alike.
//! - `POST /api/account/password` [`NewPassword`]: a coach's device sets
//!   the coach's password (at least [`MIN_PASSWORD_CHARS`] characters).
//! - `GET /api/coaches`, `POST /api/coaches` [`NewCoach`]: the owner (the
//!   terminal's token or an owner's device) lists and adds coaches; a new
//!   coach comes with a one-time sign-in link, a pairing link for the
//!   coach's person.
//!
//! A server with no coaches answers every other route as before: the
//! owner's routes never read the people store.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rollcoach_store::{NewDevice, People, PersonId, PersonInfo, Role, StoreError, check_name};
use rollcoach_wire::{Account, Coach, CoachCreated, CoachList, NewCoach, NewPassword, SignIn};

use crate::conn::ConnTag;
use crate::lan::{Caller, LinkError, device_name, new_pairing_link, random_hex, sha256_hex};
use crate::{ApiError, AppState, wall_now};

/// Failed sign-ins (for a name, or from an address) in the window after
/// which every sign-in is answered 429.
pub const MAX_SIGN_IN_FAILURES: u32 = 5;

/// The shortest password a coach may set.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The longest (hashing is the cost; the body limit is far above).
const MAX_PASSWORD_CHARS: usize = 1024;

/// The one answer to a wrong name or a wrong password.
const WRONG: &str = "wrong name or password; a coach who has not set a password yet opens the \
                     sign-in link `rollcoach coach add` printed, and sets one there";

/// Runs a call of the people store on the blocking pool. A server made
/// without one answers as a server with no coaches.
pub(crate) async fn people<R, F>(state: &AppState, f: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce(&dyn People) -> Result<R, StoreError> + Send + 'static,
{
    let Some(people) = state.inner.people.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server keeps no accounts (it was started without a people store)",
        ));
    };
    tokio::task::spawn_blocking(move || f(people.as_ref()))
        .await
        .map_err(|_| ApiError::internal("the store failed during a call"))?
        .map_err(ApiError::from)
}

/// Who the caller is: the owner without asking the store, anyone else as
/// the store knows them (403 if it does not).
pub(crate) async fn caller_info(state: &AppState, caller: &Caller) -> Result<PersonInfo, ApiError> {
    let id = caller.person().clone();
    if id.is_owner() {
        return Ok(PersonInfo::owner());
    }
    let shown = id.to_string();
    let info = match state.inner.people {
        Some(_) => people(state, move |p| p.person(&id)).await?,
        None => None,
    };
    info.ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this device's person ({shown}) is not one this server knows"),
        )
    })
}

/// The caller, if they are a coach (on one of their devices); 403 otherwise.
pub(crate) async fn require_coach(
    state: &AppState,
    caller: &Caller,
) -> Result<PersonInfo, ApiError> {
    let info = caller_info(state, caller).await?;
    if info.role != Role::Coach {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this route is for a coach's devices, and this request is the {}'s; a coach signs \
                 in on the page (POST /api/sign-in) or opens their sign-in link",
                info.role.as_str()
            ),
        ));
    }
    Ok(info)
}

/// That the caller is the owner (the terminal's token or an owner's device).
fn require_owner(caller: &Caller) -> Result<(), ApiError> {
    if caller.person().is_owner() {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "only the server's owner adds coaches: the terminal that runs `rollcoach serve` (or \
         `rollcoach coach add NAME` there), or the owner's browser",
    ))
}

/// A path of this server as a link on the address the request came to.
pub(crate) fn link_on(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = if state.inner.config.tls {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{path}")
}

/// The PHC string of `password` hashed with argon2id (default parameters)
/// and a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` is the one `hash` (a PHC string) was made of.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash nobody has the password of: a name with no coach (or no
/// password) is checked against it, so that it takes as long to refuse as
/// a wrong password.
static NOBODY: LazyLock<String> = LazyLock::new(|| {
    let secret = random_hex(16).unwrap_or_else(|_| "no randomness".to_owned());
    hash_password(&secret).unwrap_or_default()
});

fn account(info: &PersonInfo, has_password: bool) -> Account {
    Account {
        id: info.id.to_string(),
        role: info.role.into(),
        name: info.name.clone(),
        has_password,
    }
}

/// `GET /api/account`.
pub(crate) async fn me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Account>, ApiError> {
    let info = caller_info(&state, &caller).await?;
    let has_password = if info.role == Role::Coach {
        let name = info.name.clone();
        people(&state, move |p| p.coach_by_name(&name))
            .await?
            .is_some_and(|(_, hash)| hash.is_some())
    } else {
        false
    };
    Ok(Json(account(&info, has_password)))
}

/// `POST /api/account/password`.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<Json<Account>, ApiError> {
    let Json(body) = body?;
    let coach = require_coach(&state, &caller).await?;
    let chars = body.password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "password: {chars} characters is too short; give at least {MIN_PASSWORD_CHARS}"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "password: {chars} characters is too long; give at most {MAX_PASSWORD_CHARS}"
        )));
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&body.password))
        .await
        .map_err(|_| ApiError::internal("hashing the password failed"))?
        .map_err(|e| ApiError::internal(format!("hashing the password failed: {e}")))?;
    let id = coach.id.clone();
    people(&state, move |p| p.set_password_hash(&id, &hash)).await?;
    Ok(Json(account(&coach, true)))
}

/// 429: too many failed sign-ins; try after the window.
fn too_many() -> Response {
    let window_s = rollcoach_store::SIGN_IN_WINDOW_MS / 1000;
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many failed sign-ins for this name or from this address: try again in {} \
             minutes",
            window_s / 60
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(window_s));
    resp
}

/// `POST /api/sign-in`: JSON (the API), or the form of the page a browser
/// that is not let in sees (`application/x-www-form-urlencoded`, no script
/// needed), which is answered with a redirect to `/` or that page again
/// with the problem.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    conn: Option<Extension<ConnTag>>,
    req: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequest;
    let headers = req.headers().clone();
    let conn = conn.map(|c| c.0);
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        let body = Json::<SignIn>::from_request(req, &state).await;
        return match sign_in_inner(&state, conn, &headers, body).await {
            Ok(resp) => resp,
            Err(e) => e.into_response(),
        };
    }
    // A form from another site would sign this browser in as someone else.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    if let (Some(origin), Some(host)) = (origin, host)
        && origin.split_once("://").map(|(_, rest)| rest) != Some(host)
    {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "a sign-in form from another site is refused: sign in on this server's own page",
        )
        .into_response();
    }
    let body = match axum::Form::<SignIn>::from_request(req, &state).await {
        Ok(axum::Form(body)) => body,
        Err(e) => return ApiError::bad_request(format!("the sign-in form: {e}")).into_response(),
    };
    match sign_in_inner(&state, conn, &headers, Ok(Json(body))).await {
        Ok(resp) => {
            let mut redirect = axum::response::Redirect::to("/").into_response();
            if let Some(cookie) = resp.headers().get(header::SET_COOKIE) {
                redirect
                    .headers_mut()
                    .insert(header::SET_COOKIE, cookie.clone());
            }
            redirect
        }
        Err(e) => {
            let retry = (e.status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| HeaderValue::from(rollcoach_store::SIGN_IN_WINDOW_MS / 1000));
            let page =
                crate::lan::not_paired_page(state.inner.config.access, true, Some(&e.message));
            let mut resp = (e.status, axum::response::Html(page)).into_response();
            if let Some(retry) = retry {
                resp.headers_mut().insert(header::RETRY_AFTER, retry);
            }
            resp
        }
    }
}

/// Whether the server has coaches (then the page a browser that is not
/// let in sees has a sign-in form). False on a store error: the page
/// without the form still says how to get in.
pub(crate) async fn has_coaches(state: &AppState) -> bool {
    if state.inner.people.is_none() {
        return false;
    }
    people(state, |p| p.coaches().map(|c| !c.is_empty()))
        .await
        .unwrap_or(false)
}

async fn sign_in_inner(
    state: &AppState,
    conn: Option<ConnTag>,
    headers: &HeaderMap,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let now = wall_now();
    let name_key = format!("name:{}", body.name.trim().to_lowercase());
    let addr_key = match conn {
        Some(c) => format!("addr:{}", c.ip()),
        None => "addr:unknown".to_owned(),
    };
    let keys = [name_key, addr_key];
    let [k1, k2] = keys.clone();
    let failures = people(state, move |p| {
        Ok(p.sign_in_failures(&k1, now)?
            .max(p.sign_in_failures(&k2, now)?))
    })
    .await?;
    if failures >= MAX_SIGN_IN_FAILURES {
        return Ok(too_many());
    }
    let name = body.name.clone();
    let found = people(state, move |p| p.coach_by_name(&name)).await?;
    let password = body.password;
    let (coach, ok) = tokio::task::spawn_blocking(move || match found {
        Some((coach, Some(hash))) => {
            let ok = verify_password(&password, &hash);
            (Some(coach), ok)
        }
        _ => {
            verify_password(&password, &NOBODY);
            (None, false)
        }
    })
    .await
    .map_err(|_| ApiError::internal("checking the password failed"))?;
    let [k1, k2] = keys;
    let Some(coach) = coach.filter(|_| ok) else {
        people(state, move |p| {
            p.note_sign_in_failure(&k1, now)?;
            p.note_sign_in_failure(&k2, now)
        })
        .await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, WRONG));
    };
    people(state, move |p| {
        p.clear_sign_in_failures(&k1)?;
        p.clear_sign_in_failures(&k2)
    })
    .await?;
    let (Ok(secret), Ok(id)) = (random_hex(32), random_hex(4)) else {
        return Err(ApiError::internal(
            "could not get a random secret from the OS",
        ));
    };
    let hash = sha256_hex(&secret);
    let device_name = device_name(headers);
    let person = coach.id.clone();
    state
        .inner
        .store
        .call(move |s| {
            s.add_device(
                &person,
                &NewDevice {
                    id: &id,
                    name: &device_name,
                    via: "password sign-in",
                    secret_hash: &hash,
                    created_at: now,
                },
            )
        })
        .await??;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let mut resp = Json(account(&coach, true)).into_response();
    if let Ok(v) = HeaderValue::from_str(&state.inner.auth.cookie(host, &secret)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `GET /api/coaches`.
pub(crate) async fn list_coaches(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<CoachList>, ApiError> {
    require_owner(&caller)?;
    let coaches = match state.inner.people {
        Some(_) => people(&state, |p| p.coaches()).await?,
        None => Vec::new(),
    };
    Ok(Json(CoachList {
        coaches: coaches
            .into_iter()
            .map(|c| Coach {
                id: c.id.to_string(),
                name: c.name,
                created_at: c.created_at,
            })
            .collect(),
    }))
}

/// A new coach and their one-time sign-in link (its path), as the owner
/// adds one on the page or `rollcoach coach add` does on the database.
pub fn add_coach(
    people: &dyn People,
    records: &dyn rollcoach_store::Records,
    name: &str,
    by: &str,
    now: rollcoach_engine::Time,
) -> Result<(PersonInfo, String), AddCoachError> {
    let name = check_name(name).map_err(AddCoachError::Name)?;
    let coach = people.add_coach(name, now)?;
    let path = new_pairing_link(records, &coach.id, by, now)?;
    Ok((coach, path))
}

/// Why a coach could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddCoachError {
    /// The name is not one.
    #[error("{0}")]
    Name(String),
    /// The store refused it (a coach of that name is there, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sign-in link could not be made.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// `POST /api/coaches`.
pub(crate) async fn create_coach(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Json<NewCoach>, JsonRejection>,
) -> Result<(StatusCode, Json<CoachCreated>), ApiError> {
    let Json(body) = body?;
    require_owner(&caller)?;
    let records = state.inner.store.records();
    let now = wall_now();
    let made = people(&state, move |p| {
        Ok(add_coach(
            p,
            records.as_ref(),
            &body.name,
            "the owner (POST /api/coaches)",
            now,
        ))
    })
    .await?;
    let (coach, path) = made.map_err(|e| match e {
        AddCoachError::Name(why) => ApiError::bad_request(format!("name: {why}")),
        AddCoachError::Store(e) => ApiError::from(e),
        AddCoachError::Link(LinkError::Store(e)) => ApiError::from(e),
        AddCoachError::Link(LinkError::Random(e)) => ApiError::internal(e),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(CoachCreated {
            id: coach.id.to_string(),
            name: coach.name,
            sign_in_link: link_on(&state, &headers, &path),
        }),
    ))
}

/// A new client's id: `client-` and 12 random hex digits.
pub(crate) fn new_client_id() -> Result<PersonId, ApiError> {
    let hex = random_hex(6).map_err(ApiError::internal)?;
    PersonId::parse(&format!("client-{hex}")).map_err(|e| ApiError::internal(e.to_string()))
}
