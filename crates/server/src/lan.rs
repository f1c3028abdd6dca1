//! Who may use the server: devices, tokens and the pairing cookie, in both
//! modes (issue 13).
//!
//! Every request needs a credential, on loopback too (any account on the
//! computer can reach a loopback port):
//!
//! - a device's cookie ([`COOKIE`], HttpOnly, SameSite=Strict, `Secure`
//!   over https) holding a random secret whose SHA-256 the store keeps
//!   ([`rollcoach_store::Records::device_by_secret`], checked on every
//!   request, so a revoked device is refused at its next one);
//! - or `Authorization: Bearer SECRET`, with a device's secret or, on
//!   loopback, the token of the link `serve` printed (for scripts and tests).
//!
//! A device gets its cookie by opening a link: on loopback the one `serve`
//! prints (`/?token=...`, good as long as that server runs, like Jupyter's);
//! or a one-time pairing link (`/pair?token=...`) that `serve --lan` prints
//! with a QR code at start, `rollcoach pair` prints while it runs, or a
//! paired device asks for (`POST /api/devices/pairing`). A pairing link is
//! kept in the store as its token's hash, pairs one device and expires after
//! [`PAIRING_LINK_TTL_MS`]. The link redirects to `/`, so the token leaves
//! the address bar. On loopback the `Host` must also be a loopback name
//! (against DNS rebinding).

use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rollcoach_engine::Time;
use rollcoach_store::{Device, NewDevice, NewPairingToken, PersonId, Records, StoreError};
use sha2::{Digest, Sha256};

use crate::{Access, ApiError, AppState, wall_now};

/// Name of the device cookie; the port the browser reached the server at is
/// added (`rollcoach_pair_7878`), as Jupyter does, because browsers share
/// cookies between the ports of a host: two servers on one computer would
/// otherwise overwrite each other's cookie.
pub const COOKIE: &str = "rollcoach_pair";

/// How long a one-time pairing link pairs: one hour.
pub const PAIRING_LINK_TTL_MS: u64 = 3_600_000;

/// A device's last-seen time is written at most this often.
const TOUCH_EVERY_MS: u64 = 10 * 60_000;

/// Who made a request, as the guard let it in (a request extension).
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// The terminal that started the server: the bearer token of its link.
    Terminal,
    /// A paired device.
    Device(Device),
}

/// The owner, whom the terminal's token speaks for.
static OWNER: std::sync::LazyLock<PersonId> = std::sync::LazyLock::new(PersonId::owner);

impl Caller {
    /// Whose records the caller's requests are answered from.
    pub(crate) fn person(&self) -> &PersonId {
        match self {
            Caller::Terminal => &OWNER,
            Caller::Device(d) => &d.person,
        }
    }
}

/// The credentials a server accepts besides the store's devices.
pub(crate) struct Auth {
    /// Loopback: the token of the link `serve` prints, good while it runs.
    local_token: Option<String>,
    /// LAN: the one-time link printed at start, until this server sees it used.
    startup_link: Mutex<Option<String>>,
    /// Served over https: cookies get `Secure`.
    secure: bool,
    /// When this server last had each device's `last_seen_at` written: the
    /// requests of one page load all see the stored time until the write
    /// lands, and only the first of them writes.
    touched: Mutex<std::collections::HashMap<String, Time>>,
}

impl Auth {
    /// Loopback: a fresh link token. LAN: a one-time pairing link in `store`.
    pub(crate) fn new(
        store: &dyn Records,
        access: Access,
        secure: bool,
    ) -> Result<Auth, crate::StartError> {
        let (local_token, startup_link) = match access {
            Access::Loopback => (
                Some(random_hex(16).map_err(crate::StartError::Random)?),
                None,
            ),
            Access::Lan => (
                None,
                Some(
                    new_pairing_link(
                        store,
                        &PersonId::owner(),
                        "the terminal (serve)",
                        wall_now(),
                    )
                    .map_err(|e| match e {
                        LinkError::Random(e) => crate::StartError::Random(e),
                        LinkError::Store(e) => crate::StartError::Store(e),
                    })?,
                ),
            ),
        };
        Ok(Auth {
            local_token,
            startup_link: Mutex::new(startup_link),
            secure,
            touched: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// `/pair?token=...` while the link printed at start is unused (LAN).
    pub(crate) fn pairing_path(&self) -> Option<String> {
        self.startup_link.lock().ok()?.clone()
    }

    /// `/?token=...`: the link `serve` prints on loopback.
    pub(crate) fn login_path(&self) -> Option<String> {
        self.local_token.as_ref().map(|t| format!("/?token={t}"))
    }

    /// The loopback link's token.
    pub(crate) fn local_token(&self) -> Option<&str> {
        self.local_token.as_deref()
    }

    /// The `Set-Cookie` value that holds `secret`, for a request to `host`.
    pub(crate) fn cookie(&self, host: Option<&str>, secret: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        let name = cookie_name(host);
        format!("{name}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000{secure}")
    }
}

/// Why a pairing link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The OS gave no randomness.
    #[error("could not get a random token from the OS: {0}")]
    Random(String),
    /// The store refused it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a one-time pairing link, good for [`PAIRING_LINK_TTL_MS`] from
/// `now`, and records its token's hash in `store` for a device of
/// `person`; returns its path (`/pair?token=...`). A running server accepts
/// it whoever made it: `serve` at start, `rollcoach pair` (on the database
/// only) or a paired device.
pub fn new_pairing_link(
    store: &dyn Records,
    person: &PersonId,
    created_by: &str,
    now: Time,
) -> Result<String, LinkError> {
    let token = random_hex(16).map_err(LinkError::Random)?;
    store.add_pairing_token(
        person,
        &NewPairingToken {
            token_hash: &sha256_hex(&token),
            created_by,
            created_at: now,
            expires_at: now.plus_ms(PAIRING_LINK_TTL_MS),
        },
    )?;
    Ok(format!("/pair?token={token}"))
}

/// The cookie's name for a request to `host` (`rollcoach_pair_PORT`, or
/// `rollcoach_pair` without a port).
fn cookie_name(host: Option<&str>) -> String {
    let port = host
        .map(|h| &h[host_name(h).len()..])
        .and_then(|rest| rest.strip_prefix(':'))
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some(port) => format!("{COOKIE}_{port}"),
        None => COOKIE.to_owned(),
    }
}

/// SHA-256 of `text`, as lowercase hex: what the store keeps of a secret.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `n` random bytes from the OS, as hex.
pub fn random_hex(n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The QR code of `text`, drawn with Unicode half blocks for a terminal.
pub fn qr_unicode(text: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The QR code of `text` as an SVG image (black on white, with its quiet
/// zone), for the page's Devices screen.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
<rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// This machine's non-loopback IPv4 addresses, the likeliest Wi-Fi or
/// Ethernet one first (container and VM bridges last), for the URL a phone on
/// the LAN opens.
pub fn lan_ipv4s() -> Vec<std::net::Ipv4Addr> {
    let Ok(ifaces) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String, std::net::Ipv4Addr)> = ifaces
        .into_iter()
        .filter(|i| !i.is_loopback())
        .filter_map(|i| match i.ip() {
            std::net::IpAddr::V4(v4) => {
                let bridge = [
                    "docker", "br-", "veth", "virbr", "vmnet", "lxc", "cni", "flannel",
                ]
                .iter()
                .any(|p| i.name.starts_with(p));
                Some((bridge, i.name, v4))
            }
            std::net::IpAddr::V6(_) => None,
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    found.into_iter().map(|(_, _, ip)| ip).collect()
}

/// The likeliest LAN IPv4 address of this machine (see [`lan_ipv4s`]).
pub fn lan_ipv4() -> Option<std::net::Ipv4Addr> {
    lan_ipv4s().into_iter().next()
}

fn host_name(host: &str) -> &str {
    // "[::1]:7878" -> "[::1]", "localhost:7878" -> "localhost"
    if let Some(end) = host.find(']') {
        &host[..=end]
    } else {
        host.split(':').next().unwrap_or(host)
    }
}

/// Whether `host` (`name` or `name:port`) names this machine: `localhost`,
/// `[::1]` or a `127.x` address, with nothing after it but a port.
fn is_loopback_host(host: &str) -> bool {
    let name = host_name(host);
    let rest = &host[name.len()..];
    let port_ok = rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return false;
    }
    name.eq_ignore_ascii_case("localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A short name for a device, from its browser's `User-Agent`.
pub(crate) fn device_name(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Macintosh", "Mac"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    let browser = [
        ("Firefox/", "Firefox"),
        ("Edg/", "Edge"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (None, Some(s)) => format!("a browser on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, None) => "a browser".to_owned(),
    }
}

/// `text` with `&`, `<`, `>` and `"` escaped, for HTML.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a browser that is not let in sees instead of the page; with
/// `coaches`, a form for a coach to sign in (`problem`: why the last try
/// failed).
pub(crate) fn not_paired_page(access: Access, coaches: bool, problem: Option<&str>) -> String {
    let what = match access {
        Access::Lan => {
            "On the computer running <code>rollcoach serve --lan</code>, scan the QR code or open the \
             pairing link it printed, or run <code>rollcoach pair</code> there for a new one. A paired \
             device can also make a link on its Devices screen. Each link pairs one device."
        }
        Access::Loopback => {
            "Open the link that <code>rollcoach serve</code> printed in its terminal (it ends in \
             <code>/?token=...</code>): every account on this computer can reach this address, so the \
             server lets in only browsers that opened that link."
        }
    };
    let sign_in = if coaches {
        let problem = problem
            .map(|p| {
                format!(
                    "<p role=\"alert\" style=\"color:#f88\">{}</p>",
                    html_escape(p)
                )
            })
            .unwrap_or_default();
        format!(
            "<h2>Coaches</h2>{problem}<form method=\"post\" action=\"/api/sign-in\">\
<p><label>Name<br><input name=\"name\" autocomplete=\"username\" required style=\"font:inherit\"></label></p>\
<p><label>Password<br><input type=\"password\" name=\"password\" autocomplete=\"current-password\" required \
style=\"font:inherit\"></label></p><p><button style=\"font:inherit\">Sign in</button></p></form>"
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Not paired · rollcoach</title></head>\
<body style=\"font:1.2rem system-ui,sans-serif;background:#000;color:#fff;padding:1rem;max-width:30rem;margin:auto\">\
<h1>This device is not paired</h1><p>{what}</p>{sign_in}</body></html>"
    )
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The `token` of a query string.
fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

/// The secrets a request offers: its device cookies and its bearer token
/// (a few at most).
fn offered(headers: &HeaderMap) -> Vec<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        // Every server's cookie on this host: browsers send them all.
        .filter(|(k, _)| k.starts_with(COOKIE))
        .map(|(_, v)| v)
        .chain(bearer)
        .filter(|v| !v.is_empty())
        .take(8)
        .collect()
}

/// Who the request is from, if it holds a credential this server accepts.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let auth = &state.inner.auth;
    for secret in offered(headers) {
        if auth
            .local_token
            .as_deref()
            .is_some_and(|t| constant_time_eq(t.as_bytes(), secret.as_bytes()))
        {
            return Ok(Some(Caller::Terminal));
        }
        if let Some(device) = device_by_secret(state, sha256_hex(secret)).await? {
            let now = wall_now();
            let due =
                |t: Option<Time>| t.is_none_or(|t| now.0.saturating_sub(t.0) >= TOUCH_EVERY_MS);
            let touch = due(device.last_seen_at)
                && auth.touched.lock().is_ok_and(|mut touched| {
                    let due = due(touched.get(&device.id).copied());
                    if due {
                        touched.insert(device.id.clone(), now);
                    }
                    due
                });
            if touch {
                // Not awaited: the request does not wait for this write.
                let (store, id) = (state.inner.store.clone(), device.id.clone());
                let person = device.person.clone();
                tokio::spawn(async move {
                    store.call(move |s| s.touch_device(&person, &id, now)).await
                });
            }
            return Ok(Some(Caller::Device(device)));
        }
    }
    Ok(None)
}

async fn device_by_secret(state: &AppState, hash: String) -> Result<Option<Device>, ApiError> {
    state
        .inner
        .store
        .read(move |s| s.device_by_secret(&hash))
        .await?
        .map_err(ApiError::from)
}

/// `/pair?token=...` or `/?token=...`: a device opens a link. Lets it in
/// (a new device with a fresh secret in its cookie) and redirects to `/`.
async fn open_link(state: &AppState, headers: &HeaderMap, token: Option<&str>) -> Response {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "pairing needs ?token=...").into_response();
    };
    // Already let in: no second record of the same browser.
    if let Ok(Some(_)) = authenticate(state, headers).await {
        return Redirect::to("/").into_response();
    }
    let auth = &state.inner.auth;
    let (Ok(secret), Ok(id)) = (random_hex(32), random_hex(4)) else {
        return ApiError::internal("could not get a random secret from the OS").into_response();
    };
    let name = device_name(headers);
    let hash = sha256_hex(&secret);
    let now = wall_now();
    let local = auth
        .local_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
    let token_hash = sha256_hex(token);
    let added = state
        .inner
        .store
        .call(move |s| {
            let new = NewDevice {
                id: &id,
                name: &name,
                via: if local {
                    "serve's link on this computer"
                } else {
                    "a pairing link"
                },
                secret_hash: &hash,
                created_at: now,
            };
            if local {
                s.add_device(&PersonId::owner(), &new).map(Some)
            } else {
                s.redeem_pairing_token(&token_hash, now, &new)
            }
        })
        .await;
    match added {
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None)) => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this pairing link is wrong or already used, or it expired; run `rollcoach pair` on the \
                 computer running `rollcoach serve` (or use Devices on a paired device) for a new one",
            )
            .into_response();
        }
        Ok(Err(e)) => return ApiError::from(e).into_response(),
        Err(e) => return e.into_response(),
    }
    if let Ok(mut link) = auth.startup_link.lock()
        && link
            .as_deref()
            .is_some_and(|l| l.strip_prefix("/pair?token=") == Some(token))
    {
        *link = None;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth.cookie(host, &secret)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// On loopback, that the request is for this machine (against DNS
/// rebinding), failing closed: exactly one `Host` header, readable, naming
/// a loopback address; and an absolute request URI (`GET http://host/...`)
/// naming one too.
fn loopback_target(req: &Request) -> Result<(), ApiError> {
    const FIX: &str = "send `Host: 127.0.0.1:PORT` (or localhost:PORT), as a browser opening the \
                       link `rollcoach serve` printed does; use --lan to serve other devices";
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (None, _) => {
            return Err(ApiError::bad_request(format!(
                "the request has no Host header, so it cannot be checked to be for this machine: {FIX}"
            )));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(format!(
                "the request has more than one Host header: {FIX}"
            )));
        }
        (Some(host), None) => host.to_str().map_err(|_| {
            ApiError::bad_request(format!("the Host header is not plain ASCII text: {FIX}"))
        })?,
    };
    if !is_loopback_host(host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("host `{host}` is not a loopback address; use --lan to serve other devices"),
        ));
    }
    if let Some(authority) = req.uri().authority()
        && !is_loopback_host(authority.as_str())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the request's address names host `{authority}`, not a loopback address; \
                 use --lan to serve other devices"
            ),
        ));
    }
    Ok(())
}

/// Middleware: a request for this machine on loopback ([`loopback_target`]); then a link being opened
/// (a pairing link, a coach's invite: `/join`), a coach signing in (`POST /api/sign-in`, which the
/// handler checks), or a credential ([`authenticate`]) on every other request.
pub(crate) async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let access = state.inner.config.access;
    if access == Access::Loopback
        && let Err(refused) = loopback_target(&req)
    {
        return refused.into_response();
    }
    let path = req.uri().path();
    let token = query_token(req.uri().query());
    if path == "/pair" || (path == "/" && req.method() == Method::GET && token.is_some()) {
        return open_link(&state, req.headers(), token).await;
    }
    if path == "/join" {
        return crate::coach::open_invite(&state, req.headers(), token).await;
    }
    if path == "/api/sign-in" && req.method() == Method::POST {
        // How a coach gets a credential: the handler checks the password.
        return next.run(req).await;
    }
    match authenticate(&state, req.headers()).await {
        Ok(Some(caller)) => {
            // The one point where a request's credential is accepted; its
            // address is served first from now on (connection caps).
            crate::conn::trust(&state, &req);
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Ok(None) => {
            if !path.starts_with("/api/") && wants_html(req.headers()) {
                let coaches = crate::accounts::has_coaches(&state).await;
                let page = not_paired_page(access, coaches, None);
                return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
            }
            let how = match access {
                Access::Lan => {
                    "this device is not paired: open a pairing link (printed by `rollcoach serve --lan` \
                     or `rollcoach pair`)"
                }
                Access::Loopback => {
                    "this browser is not paired: open the link `rollcoach serve` printed \
                     (http://127.0.0.1:PORT/?token=...), or send `Authorization: Bearer TOKEN`"
                }
            };
            ApiError::new(StatusCode::UNAUTHORIZED, how).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn device_names_come_from_the_user_agent() {
        let mut h = HeaderMap::new();
        assert_eq!(device_name(&h), "a browser");
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static(
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            ),
        );
        assert_eq!(device_name(&h), "Chrome on Android");
    }

    #[test]
    fn the_cookie_is_named_for_the_port() {
        assert_eq!(cookie_name(Some("127.0.0.1:7878")), "rollcoach_pair_7878");
        assert_eq!(cookie_name(Some("[::1]:80")), "rollcoach_pair_80");
        assert_eq!(cookie_name(Some("rollcoach.lan")), "rollcoach_pair");
        assert_eq!(cookie_name(None), "rollcoach_pair");
    }

    #[test]
    fn the_token_is_read_from_the_query() {
        assert_eq!(query_token(Some("a=1&token=xyz")), Some("xyz"));
        assert_eq!(query_token(Some("tokens=1")), None);
        assert_eq!(query_token(None), None);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_host("127.0.0.1:7878"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("[::1]:80"));
        assert!(!is_loopback_host("evil.example:7878"));
        assert!(!is_loopback_host("192.168.1.4:7878"));
        assert!(!is_loopback_host("[::1]evil.example"));
        assert!(!is_loopback_host("127.0.0.1@evil.example"));
        assert!(!is_loopback_host("localhost:"));
        assert!(!is_loopback_host(""));
    }

    #[test]
    fn qr_code_renders() {
        let qr = qr_unicode("http://192.168.1.5:7878/pair?token=abc").unwrap();
        assert!(qr.lines().count() > 10);
    }
}
