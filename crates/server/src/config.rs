//! `GET /api/config`: what the page needs to know of how the server runs.
//! The page runs sessions itself on its own clock, scaled by `speed` (the
//! `serve --speed` factor: 1 is real time; the browser tests run 20), and
//! syncs with this server (`sync`: true; the static app that `rollcoach web
//! export` writes says false, and its page then never tries).

use axum::Json;
use axum::extract::State;
use rollcoach_wire::PageConfig;

use crate::AppState;

pub(crate) async fn config(State(state): State<AppState>) -> Json<PageConfig> {
    Json(PageConfig {
        speed: state.inner.config.speed,
        sync: true,
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::{AppState, Config, app};

    #[tokio::test]
    async fn the_config_gives_the_speed() {
        let store = rollcoach_store_sqlite::SqliteRecords::open_in_memory().unwrap();
        let config = Config {
            speed: 20.0,
            ..Config::default()
        };
        let state = AppState::new(
            rollcoach_protocol::builtin(),
            std::sync::Arc::new(store),
            config,
        )
        .unwrap();
        let bearer = format!("Bearer {}", state.access_token().unwrap());
        let resp = app(state)
            .oneshot(
                Request::get("/api/config")
                    .header("host", "127.0.0.1:7878")
                    .header("authorization", bearer)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v, serde_json::json!({ "speed": 20.0, "sync": true }));
    }
}
