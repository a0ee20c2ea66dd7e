//! `/-/healthy` and `/-/ready`, as Prometheus answers them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::state::ApiState;

/// 200 while the process serves HTTP at all.
pub(super) async fn healthy() -> &'static str {
    "Tidemark is Healthy.\n"
}

/// 200 once storage is open, 503 before (and again while shutting down).
pub(super) async fn ready(State(state): State<ApiState>) -> Response {
    if state.is_ready() {
        "Tidemark is Ready.\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
    }
}
