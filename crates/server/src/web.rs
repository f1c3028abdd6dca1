//! The static app (`rollcoach web export DIR`): the page, its service worker
//! and the protocols as static files, for any https host, with no server.
//!
//! The page fetches the same paths it fetches from `serve`. A static host
//! serves files, and `api/protocols` is both an answer and the folder of
//! `api/protocols/{id}`, so every API answer is written as `index.html` in a
//! folder of its path (`api/protocols/index.html`, holding JSON): static
//! hosts answer `GET /api/protocols` with a redirect to `/api/protocols/`
//! and that file, which `fetch` follows. What needs a server (sync, the
//! server's history and injuries) is simply not there.

use rollcoach_protocol::Protocol;
use rollcoach_store::Speed;
use rollcoach_wire::{PageConfig, ProtocolBrief, ProtocolDetail};
use serde::Serialize;

/// One file of the static app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFile {
    /// Path under the app's folder, with `/` separators, never absolute and
    /// never with `..`.
    pub path: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Why the static app cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum StaticAppError {
    /// A protocol id cannot be a path segment.
    #[error(
        "protocol id `{0}` cannot be a file name in the static app; protocol ids are kebab-case \
         (lowercase letters, digits and hyphens)"
    )]
    Id(String),
}

/// Where the static app keeps the answer to the API path `path`
/// (`api/protocols` -> `api/protocols/index.html`).
pub fn api_file(path: &str) -> String {
    format!("{path}/index.html")
}

/// Every file of the static app: the app shell (the same files `serve`
/// embeds and serves), the service worker, and the answers to
/// `GET /api/config` ([`PageConfig`], `sync` false), `GET /api/protocols` and
/// `GET /api/protocols/{id}` (no injury block: the page keeps injuries) and
/// each protocol's printable handout, in the shapes `serve` gives them.
/// The speed is a [`Speed`], checked where it came in (`web export --speed`).
pub fn static_app(protocols: &[Protocol], speed: Speed) -> Result<Vec<StaticFile>, StaticAppError> {
    let mut files: Vec<StaticFile> = crate::assets::shell()
        .map(|(name, _, body)| StaticFile {
            path: name.to_owned(),
            bytes: body.to_vec(),
        })
        .collect();
    files.push(StaticFile {
        path: "sw.js".into(),
        bytes: crate::assets::service_worker().as_bytes().to_vec(),
    });
    fn json_file(path: &str, value: &impl Serialize) -> StaticFile {
        StaticFile {
            path: api_file(path),
            // The wire's types always serialize.
            bytes: serde_json::to_vec(value).unwrap_or_default(),
        }
    }
    files.push(json_file(
        "api/config",
        &PageConfig {
            speed: speed.get(),
            sync: false,
        },
    ));
    let briefs: Vec<ProtocolBrief> = protocols
        .iter()
        .map(|p| ProtocolBrief::of(p, None))
        .collect();
    files.push(json_file("api/protocols", &briefs));
    for p in protocols {
        let id_ok = !p.id.is_empty()
            && !p.id.starts_with('.')
            && p.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !id_ok {
            return Err(StaticAppError::Id(p.id.clone()));
        }
        files.push(json_file(
            &format!("api/protocols/{}", p.id),
            &ProtocolDetail::of(p, None, None),
        ));
        files.push(StaticFile {
            path: api_file(&format!("api/protocols/{}/handout", p.id)),
            bytes: rollcoach_protocol::render::html(p).into_bytes(),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Vec<Protocol> {
        rollcoach_protocol::builtin()
    }

    #[test]
    fn the_static_app_has_the_shell_the_worker_and_the_api_answers() {
        let protocols = builtin();
        let files = static_app(&protocols, Speed::REAL_TIME).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for want in [
            "index.html",
            "sw.js",
            "manifest.webmanifest",
            "install.js",
            "icon-192.png",
            "icon-512.png",
            "rollcoach.wasm",
            "api/config/index.html",
            "api/protocols/index.html",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        for p in &protocols {
            let path = format!("api/protocols/{}/index.html", p.id);
            let file = files.iter().find(|f| f.path == path).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
            assert_eq!(v["protocol"]["id"], p.id.as_str());
            let back: Protocol = serde_json::from_value(v["protocol"].clone()).unwrap();
            assert_eq!(&back, p);
        }
        let list = files
            .iter()
            .find(|f| f.path == "api/protocols/index.html")
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&list.bytes).unwrap();
        assert_eq!(v.as_array().unwrap().len(), protocols.len());
        // No path escapes the folder or is written twice.
        let mut seen = std::collections::HashSet::new();
        for f in &files {
            assert!(
                !f.path.starts_with('/') && !f.path.contains(".."),
                "{}",
                f.path
            );
            assert!(seen.insert(&f.path), "{} twice", f.path);
        }
    }

    #[test]
    fn a_protocol_id_that_is_no_file_name_is_refused() {
        let mut p = builtin().remove(0);
        p.id = "../up".into();
        let err = static_app(&[p], Speed::REAL_TIME).unwrap_err();
        assert!(err.to_string().contains("`../up`"), "{err}");
    }
}
