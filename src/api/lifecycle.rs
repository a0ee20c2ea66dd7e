//! `POST /-/reload` (and `PUT`): reload the configuration file, when the server
//! runs with `--web.enable-lifecycle`, as Prometheus's does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::{mpsc, oneshot};

use super::ApiState;

/// A reload request: the server reloads and answers on the oneshot, with why
/// the new configuration was refused (the old one keeps running).
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// Where the handler sends reload requests.
pub type ReloadSender = mpsc::Sender<ReloadRequest>;

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
