//! LAN mode: pairing a phone with a one-time token, and refusing everyone
//! else.
//!
//! The terminal shows `/pair?token=...` as a URL and a QR code. Opening it
//! once sets an HttpOnly, SameSite=Strict cookie holding a separate random
//! secret and redirects to the page; the token is then spent. Without the
//! cookie every request gets 401 (the cookie is SameSite=Strict, so another
//! web page the phone has open cannot send it). In loopback mode no pairing
//! is needed, but the `Host` must be a loopback name (against DNS
//! rebinding).

use std::sync::Mutex;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::{ApiError, AppState};

/// Name of the pairing cookie.
pub const COOKIE: &str = "rollcoach_pair";

/// Pairing secrets of a LAN server.
pub struct Pairing {
    /// The one-time token, until it is used.
    token: Mutex<Option<String>>,
    /// The cookie value paired devices hold.
    secret: String,
}

impl Pairing {
    /// Fresh random token and secret from the OS.
    pub fn new() -> Result<Pairing, String> {
        Ok(Pairing {
            token: Mutex::new(Some(random_hex(16)?)),
            secret: random_hex(32)?,
        })
    }

    /// `/pair?token=...` while the token is unused.
    pub fn path(&self) -> Option<String> {
        let token = self.token.lock().ok()?;
        token.as_ref().map(|t| format!("/pair?token={t}"))
    }

    /// Spends the token if `given` is it; constant-time comparison.
    fn redeem(&self, given: &str) -> bool {
        let Ok(mut token) = self.token.lock() else {
            return false;
        };
        match token.as_deref() {
            Some(t) if constant_time_eq(t.as_bytes(), given.as_bytes()) => {
                *token = None;
                true
            }
            _ => false,
        }
    }

    fn cookie_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && constant_time_eq(v.as_bytes(), self.secret.as_bytes()))
    }
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

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/pair", get(pair))
}

#[derive(Deserialize)]
struct PairQuery {
    token: String,
}

async fn pair(
    State(state): State<AppState>,
    query: Result<Query<PairQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(pairing) = state.inner.pairing.as_ref() else {
        // Loopback: nothing to pair.
        return Redirect::to("/").into_response();
    };
    let Ok(Query(q)) = query else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "pairing needs ?token=...").into_response();
    };
    if !pairing.redeem(&q.token) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this pairing link is wrong or already used; restart `rollcoach serve --lan` for a new one",
        )
        .into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000",
        pairing.secret
    );
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn host_name(host: &str) -> &str {
    // "[::1]:7878" -> "[::1]", "localhost:7878" -> "localhost"
    if let Some(end) = host.find(']') {
        &host[..=end]
    } else {
        host.split(':').next().unwrap_or(host)
    }
}

fn is_loopback_host(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a browser that is not paired sees instead of the page.
const NOT_PAIRED_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Not paired · rollcoach</title></head>\
<body style=\"font:1.2rem system-ui,sans-serif;background:#000;color:#fff;padding:1rem;max-width:30rem;margin:auto\">\
<h1>This device is not paired</h1><p>On the computer running <code>rollcoach serve --lan</code>, scan the QR code \
or open the pairing link it printed. Each link pairs one device; restart <code>serve</code> for a new one.</p></body></html>";

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Middleware: the pairing cookie in LAN mode, a loopback `Host` otherwise.
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.inner.pairing.as_ref() {
        Some(pairing) => {
            if req.uri().path() != "/pair" && !pairing.cookie_ok(req.headers()) {
                if !req.uri().path().starts_with("/api/") && wants_html(req.headers()) {
                    return (StatusCode::UNAUTHORIZED, Html(NOT_PAIRED_PAGE)).into_response();
                }
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "this device is not paired: open the pairing link printed by `rollcoach serve --lan`",
                )
                .into_response();
            }
            // A paired device: its address is served first (connection caps).
            if pairing.cookie_ok(req.headers()) {
                crate::conn::trust(&state, &req);
            }
        }
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            if let Some(host) = host
                && !is_loopback_host(host)
            {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "host `{host}` is not a loopback address; use --lan to serve other devices"
                    ),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_spent_by_its_first_use() {
        let p = Pairing::new().unwrap();
        let path = p.path().unwrap();
        let token = path.strip_prefix("/pair?token=").unwrap().to_string();
        assert!(!p.redeem("nope"));
        assert!(p.redeem(&token));
        assert!(!p.redeem(&token));
        assert_eq!(p.path(), None);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_host("127.0.0.1:7878"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("[::1]:80"));
        assert!(!is_loopback_host("evil.example:7878"));
        assert!(!is_loopback_host("192.168.1.4:7878"));
    }

    #[test]
    fn qr_code_renders() {
        let qr = qr_unicode("http://192.168.1.5:7878/pair?token=abc").unwrap();
        assert!(qr.lines().count() > 10);
    }
}
