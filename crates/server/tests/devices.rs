//! Devices and tokens (issue 13, findings 7 and 8): loopback needs the
//! link `serve` prints, devices are kept in the database (hashed) and stay
//! paired across restarts, a paired device pairs another, and a revoked
//! device is refused at its next request.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use rollcoach_server::{Access, Config};

async fn get_as(app: &Router, host: &str, uri: &str, cookie: Option<&str>) -> Resp {
    let mut req = Request::get(uri).header(header::HOST, host);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// Opens `path` (a link with a token) and returns the cookie it sets
/// (`name=value`) with the whole `Set-Cookie`.
async fn open_link(app: &Router, host: &str, path: &str) -> (String, String) {
    let r = get_as(app, host, path, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.text);
    assert_eq!(
        r.headers[header::LOCATION],
        "/",
        "the token leaves the address"
    );
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    (set.split(';').next().unwrap().to_owned(), set)
}

const LOCAL: &str = "127.0.0.1:7878";
const PHONE: &str = "192.168.1.5:7878";

#[tokio::test]
async fn on_loopback_the_export_needs_the_link_serve_printed() {
    let state = state();
    let app = bare_app(state.clone());
    // Another account on this computer, with no token: nothing.
    for uri in [
        "/api/export",
        "/api/history",
        "/",
        "/app.js",
        "/api/devices",
    ] {
        let r = get_as(&app, LOCAL, uri, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "not paired");
    }
    assert_eq!(
        get_as(&app, LOCAL, "/?token=guess", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = get_as(&app, LOCAL, "/api/export", Some("rollcoach_pair=guess")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The link serve prints: a cookie, then everything works.
    let link = state.login_path().expect("loopback has a link");
    assert!(link.starts_with("/?token="), "{link}");
    let (cookie, set) = open_link(&app, LOCAL, &link).await;
    assert!(!set.contains("Secure"), "plain http: {set}");
    // Named for the port: another server on this computer keeps its own.
    assert!(cookie.starts_with("rollcoach_pair_7878="), "{cookie}");
    let r = get_as(&app, LOCAL, "/api/export", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["format"], "rollcoach-export");
    assert_eq!(
        get_as(&app, LOCAL, "/", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // The link is good while the server runs (another browser), and the
    // browser that has its cookie is not recorded twice.
    open_link(&app, LOCAL, &link).await;
    let r = get_as(&app, LOCAL, &link, Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    let r = get_as(&app, LOCAL, "/api/devices", Some(&cookie)).await;
    assert_eq!(r.json["devices"].as_array().unwrap().len(), 2, "{}", r.text);
    // Its token as a bearer token, for scripts.
    let token = state.access_token().unwrap();
    let r = send(
        &app,
        Request::get("/api/export")
            .header(header::HOST, LOCAL)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // Still only for loopback names (DNS rebinding).
    let r = get_as(&app, "evil.example:7878", "/api/export", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_paired_device_stays_paired_when_the_server_restarts_and_its_secret_is_only_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcoach.db");
    let cookie = {
        let state = state_at(&path, lan());
        let app = bare_app(state.clone());
        let (cookie, _) = open_link(&app, PHONE, &state.pairing_path().unwrap()).await;
        assert_eq!(
            get_as(&app, PHONE, "/api/history", Some(&cookie))
                .await
                .status,
            StatusCode::OK
        );
        cookie
    };
    // A new server on the same database: the phone is still let in.
    let state = state_at(&path, lan());
    let app = bare_app(state.clone());
    let r = get_as(&app, PHONE, "/api/history", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    drop((app, state));
    // The database holds no secret: neither the cookie's value nor the link's token.
    let secret = cookie.split_once('=').unwrap().1;
    assert_eq!(secret.len(), 64);
    // The store's thread closes its connections after the drop, and may
    // remove the -wal and -shm files while they are read: a scan that saw a
    // file vanish is done again, so every file is read whole.
    let mut scans = 0;
    let files = loop {
        let read: Result<Vec<Vec<u8>>, std::io::Error> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|f| std::fs::read(f.unwrap().path()))
            .collect();
        match read {
            Ok(files) => break files,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && scans < 50 => {
                scans += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("reading the database files: {e}"),
        }
    };
    for bytes in files {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the raw secret is in the database files"
        );
    }
    let store = store_at(&path);
    let devices =
        rollcoach_store::Records::devices(&*store, &rollcoach_store::PersonId::owner()).unwrap();
    assert_eq!(devices.len(), 1);
    assert!(
        rollcoach_store::Records::device_by_secret(
            &*store,
            &rollcoach_server::lan::sha256_hex(secret)
        )
        .unwrap()
        .is_some()
    );
}

#[tokio::test]
async fn a_paired_device_pairs_another_and_a_revoked_device_is_refused_at_once() {
    let state = state_with(lan());
    let app = bare_app(state.clone());
    let (phone, _) = open_link(&app, PHONE, &state.pairing_path().unwrap()).await;
    // The phone asks for a link for a tablet.
    let r = send(
        &app,
        Request::post("/api/devices/pairing")
            .header(header::HOST, PHONE)
            .header(header::COOKIE, &phone)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let path = r.json["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/pair?token="), "{path}");
    assert_eq!(r.json["url"], format!("http://{PHONE}{path}"));
    assert!(r.json["qr_svg"].as_str().unwrap().starts_with("<svg"));
    // Not without a device.
    let r = send(
        &app,
        Request::post("/api/devices/pairing")
            .header(header::HOST, PHONE)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let (tablet, _) = open_link(&app, PHONE, &path).await;
    assert_ne!(tablet, phone);
    // One device per link.
    assert_eq!(
        get_as(&app, PHONE, &path, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let list = get_as(&app, PHONE, "/api/devices", Some(&tablet)).await;
    let devices = list.json["devices"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 2, "{}", list.text);
    let mine: Vec<bool> = devices
        .iter()
        .map(|d| d["this_device"].as_bool().unwrap())
        .collect();
    assert_eq!(mine, [false, true]);
    let phone_id = devices[0]["id"].as_str().unwrap().to_owned();
    assert!(devices.iter().all(|d| d.get("secret_hash").is_none()));

    // The tablet revokes the phone: the phone's next request is refused.
    let r = send(
        &app,
        Request::delete(format!("/api/devices/{phone_id}"))
            .header(header::HOST, PHONE)
            .header(header::COOKIE, &tablet)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["revoked_at"].is_u64());
    assert_error(
        &get_as(&app, PHONE, "/api/history", Some(&phone)).await,
        StatusCode::UNAUTHORIZED,
        "not paired",
    );
    assert_eq!(
        get_as(&app, PHONE, "/api/history", Some(&tablet))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(
        &app,
        Request::delete("/api/devices/nope")
            .header(header::HOST, PHONE)
            .header(header::COOKIE, &tablet)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "no device with id `nope`");
}

#[tokio::test]
async fn over_https_the_cookie_is_secure() {
    for access in [Access::Lan, Access::Loopback] {
        let state = state_with(Config {
            access,
            tls: true,
            ..Config::default()
        });
        let app = bare_app(state.clone());
        let (host, link) = match access {
            Access::Lan => (PHONE, state.pairing_path().unwrap()),
            Access::Loopback => (LOCAL, state.login_path().unwrap()),
        };
        let (_, set) = open_link(&app, host, &link).await;
        assert!(set.contains("; Secure"), "{set}");
    }
}
