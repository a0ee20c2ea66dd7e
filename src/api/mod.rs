//! The HTTP server's routes (axum): `/-/healthy`, `/-/ready`, `/-/reload`,
//! tidemark's own `/metrics`, `/federate` (`federate.rs`) and, of the
//! Prometheus API v1: `write` (`remote_write.rs`, with
//! `--web.enable-remote-write-receiver`), `targets`,
//! `metadata` and `targets/metadata` (`metadata.rs`, from the scrape
//! manager's targets), `series`,
//! `labels`, `label/<name>/values` (`series.rs`, with `match[]` parsed by
//! `selector.rs` and parameters read as Go's `ParseForm` in `params.rs`),
//! `status/{buildinfo,config,flags,runtimeinfo,tsdb}`, `rules`, `alerts` and
//! `query_exemplars` (`status.rs`), `query` and `query_range` over the
//! PromQL engine (`query.rs`), and with `--web.enable-admin-api` the TSDB
//! admin endpoints `admin/tsdb/{delete_series,clean_tombstones,snapshot}`
//! (`admin.rs`). Responses are gzipped when the client accepts it and timed
//! by handler and code (`middleware.rs`).
//!
//! [`router`] builds the `Router` from an [`ApiState`], which is made once from
//! an [`ApiSettings`] value: the flags shown, the retention text, the admin and
//! remote-write switches, the engine's limits and query concurrency, and where
//! `/-/reload` sends its requests (`None` without `--web.enable-lifecycle`).
//! [`crate::server`] builds both. The state starts "not ready" (`/-/ready`
//! answers 503) because storage opens after the server listens; the server then
//! tells the state what happens as it runs (`state.rs`): storage opened
//! ([`ApiState::storage_opened`]) and taken back to close it
//! ([`ApiState::take_storage`]), scraping started and stopped, and each load of
//! the configuration file ([`ApiState::show_config`],
//! [`ApiState::record_config_load`]). A wrong method on a known path answers
//! 405, an unknown path 404, both as Prometheus's JSON error envelope
//! ([`ApiError`]).
//!
//! Below the handlers: `state.rs` on `settings.rs` ([`ApiSettings`] and the
//! types of its fields), `slots.rs` (what the state shares with the metric
//! collectors of `collectors.rs`), `query_settings.rs` and `query_metrics.rs`;
//! the answers' envelopes in `success.rs` and `error.rs`.

mod admin;
mod buildinfo;
mod collectors;
mod error;
mod federate;
mod health;
mod lifecycle;
mod metadata;
mod metrics;
mod middleware;
mod params;
mod process;
mod query;
mod query_metrics;
mod query_settings;
mod remote_write;
pub mod selector;
mod series;
mod settings;
mod slots;
mod state;
mod status;
mod success;
mod targets;

use axum::Router;
use axum::routing::{get, post};

pub use buildinfo::{BUILD_INFO, BuildInfo};
pub use error::{ApiError, ErrorType};
pub use params::{MAX_TIME_MS, MIN_TIME_MS, parse_duration, parse_time};
pub use settings::{ApiSettings, Flags, ReloadRequest, ReloadSender, retention_text};
pub use state::{ApiState, ShownConfig};

/// [`router`] mounted under `prefix` (`/` or `/path`, as from
/// `--web.route-prefix`); paths outside it answer the JSON 404 too.
pub fn router_under(state: ApiState, prefix: &str) -> Router {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return router(state);
    }
    Router::new()
        .nest(prefix, router(state))
        .fallback(error::not_found)
}

/// Largest compressed remote-write body accepted.
const REMOTE_WRITE_BODY_LIMIT: usize = 32 << 20;

/// All routes, with the 404 and 405 fallbacks.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/-/healthy", get(health::healthy))
        .route("/-/ready", get(health::ready))
        .route("/-/reload", post(lifecycle::reload).put(lifecycle::reload))
        .route("/metrics", get(metrics::metrics))
        .route("/federate", get(federate::federate))
        .route(
            "/api/v1/write",
            post(remote_write::write).layer(axum::extract::DefaultBodyLimit::max(
                REMOTE_WRITE_BODY_LIMIT,
            )),
        )
        .route("/api/v1/targets", get(targets::targets))
        .route("/api/v1/query", get(query::query).post(query::query))
        .route(
            "/api/v1/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route("/api/v1/targets/metadata", get(metadata::targets_metadata))
        .route("/api/v1/metadata", get(metadata::metadata))
        .route("/api/v1/series", get(series::series).post(series::series))
        .route("/api/v1/labels", get(series::labels).post(series::labels))
        .route("/api/v1/label/{name}/values", get(series::label_values))
        .route(
            "/api/v1/query_exemplars",
            get(status::query_exemplars).post(status::query_exemplars),
        )
        .route("/api/v1/rules", get(status::rules).post(status::rules))
        .route("/api/v1/alerts", get(status::alerts).post(status::alerts))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/config", get(status::config))
        .route("/api/v1/status/flags", get(status::flags))
        .route("/api/v1/status/runtimeinfo", get(status::runtimeinfo))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route(
            "/api/v1/admin/tsdb/delete_series",
            post(admin::delete_series).put(admin::delete_series),
        )
        .route(
            "/api/v1/admin/tsdb/clean_tombstones",
            post(admin::clean_tombstones).put(admin::clean_tombstones),
        )
        .route(
            "/api/v1/admin/tsdb/snapshot",
            post(admin::snapshot).put(admin::snapshot),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.shared.durations.clone(),
            middleware::measure,
        ))
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(middleware::gzip))
        .with_state(state)
}

#[cfg(test)]
mod tests;
