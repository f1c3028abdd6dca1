//! Errors as JSON: `{"error": "..."}` with a 4xx status for anything the
//! client got wrong, and 5xx only for rollcoach's own failures.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered as `{"error": message}` with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong and, where it helps, how to fix it.
    pub message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such thing.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 422: well-formed, but the values do not fit.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 409: not possible in the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// 500: rollcoach's own failure (the store, a dead task), never bad input.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(rollcoach_wire::ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// 503 with `Retry-After: retry_after_s`: the server is busy (too many
/// answers of a kind at once), not broken; `message` says what and when.
pub(crate) fn busy(message: String, retry_after_s: u32) -> Response {
    let mut resp = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(retry_after_s),
    );
    resp
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let status = match rejection.status() {
            // Wrong field types and missing fields are "does not fit" (422);
            // keep axum's status for syntax errors (400), a missing content
            // type (415) and a body over the limit (413).
            s if s.is_client_error() => s,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<rollcoach_store::StoreError> for ApiError {
    /// The store's kinds of error as HTTP: what is not there is a 404, what
    /// does not fit what the store holds a 409; a database that can no
    /// longer be written (its file removed or replaced under the server) a
    /// 503, so the page keeps what it pushed and tries again; damaged data
    /// and a failing backend are the server's fault (500).
    fn from(err: rollcoach_store::StoreError) -> ApiError {
        use rollcoach_store::{Backend, StoreError};
        match err {
            StoreError::NotFound(e) => ApiError::not_found(e.to_string()),
            StoreError::Conflict(e) => ApiError::conflict(e.to_string()),
            StoreError::Backend(e @ Backend::Replaced { .. }) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e => ApiError::internal(format!("the store failed: {e}")),
        }
    }
}
