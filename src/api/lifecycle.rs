//! `POST /-/reload` (and `PUT`): reload the configuration file, when the server
//! runs with `--web.enable-lifecycle`, as Prometheus's does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::state::ApiState;

pub(super) async fn reload(State(state): State<ApiState>) -> Response {
    let Some(sender) = state.reloader() else {
        return (StatusCode::FORBIDDEN, "Lifecycle API is not enabled.").into_response();
    };
    let (reply, answer) = oneshot::channel();
    if sender.send(reply).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match answer.await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(why)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {why}"),
        )
            .into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response(),
    }
}
