//! `/metrics`: tidemark's own metrics in the Prometheus text format (0.0.4),
//! encoded from the state's registry, whose collectors (`collectors.rs`) read
//! everything at scrape time.

use std::fmt;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::prometheus_text;

use super::error::ApiError;
use super::state::ApiState;

pub(super) async fn metrics(State(state): State<ApiState>) -> Response {
    let mut body = String::with_capacity(4096);
    match prometheus_text::encode(&mut body, &state.shared.registry) {
        Ok(()) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            body,
        )
            .into_response(),
        Err(fmt::Error) => ApiError::internal("encoding metrics failed").into_response(),
    }
}
