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
//! [`router`] builds the `Router` from an [`ApiState`]. The state starts "not
//! ready" (`/-/ready` answers 503); the binary hands it the open database with
//! [`ApiState::set_storage`] and takes it back with [`ApiState::take_storage`] to
//! close it, hands it the scrape manager with [`ApiState::set_scrape_manager`],
//! and, with `--web.enable-lifecycle`, where to send reloads with
//! [`ApiState::set_reloader`]; the engine's limits and the query concurrency come
//! from [`ApiState::set_query_options`]. A wrong method on a known path answers 405, an unknown path 404, both
//! as Prometheus's JSON error envelope ([`ApiError`]).

mod admin;
mod buildinfo;
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
mod remote_write;
pub mod selector;
mod series;
mod status;
mod targets;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use parking_lot::RwLock;
use prometheus_client::registry::Registry;

use crate::promql::EngineOptions;
use crate::scrape::ScrapeManager;
use crate::tsdb::Db;

pub use buildinfo::{BUILD_INFO, BuildInfo};
pub use error::{ApiError, ErrorType};
pub use lifecycle::{ReloadRequest, ReloadSender};
pub use params::{MAX_TIME_MS, MIN_TIME_MS, parse_duration, parse_time};
pub use status::{Flags, retention_text};

/// The open database, shared by the handlers and the metric collectors; `None`
/// before it is open and after it was taken back for closing.
type StorageSlot = Arc<RwLock<Option<Arc<Db>>>>;

/// The scrape manager, shared by `/api/v1/targets` and the metric collectors.
type ScrapeSlot = Arc<RwLock<Option<Arc<ScrapeManager>>>>;

/// How the last configuration reload went (`None` before the first load).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReloadStatus {
    pub successful: bool,
    /// Seconds since the epoch of the last successful load.
    pub success_time: f64,
}

/// What the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    shared: Arc<Shared>,
}

struct Shared {
    storage: StorageSlot,
    registry: Registry,
    durations: middleware::Durations,
    scrape: ScrapeSlot,
    reload: Arc<RwLock<Option<ReloadStatus>>>,
    reloader: RwLock<Option<ReloadSender>>,
    /// The configuration file's text as last loaded (`/api/v1/status/config`).
    config_text: RwLock<String>,
    /// Flags by Prometheus name (`/api/v1/status/flags`).
    flags: RwLock<Flags>,
    /// Retention as runtimeinfo shows it.
    retention: RwLock<String>,
    start_time: std::time::SystemTime,
    query: RwLock<query::QuerySettings>,
    query_metrics: query::QueryMetrics,
    /// Whether the TSDB admin endpoints answer (`--web.enable-admin-api`).
    admin: std::sync::atomic::AtomicBool,
    /// Whether `/api/v1/write` accepts samples (`--web.enable-remote-write-receiver`).
    remote_write: std::sync::atomic::AtomicBool,
    /// `global.external_labels` of the running configuration, for `/federate`.
    external_labels: RwLock<std::collections::BTreeMap<String, String>>,
}

impl ApiState {
    /// A state without storage: not ready yet.
    pub fn new() -> ApiState {
        let storage = StorageSlot::default();
        let scrape = ScrapeSlot::default();
        let reload = Arc::new(RwLock::new(None));
        let mut registry = metrics::registry(storage.clone(), scrape.clone(), reload.clone());
        let durations = middleware::durations();
        registry.register(
            "tidemark_http_request_duration_seconds",
            "Histogram of latencies for HTTP requests.",
            durations.clone(),
        );
        let query_metrics = query::QueryMetrics::new();
        registry.register(
            "tidemark_engine_query_duration_seconds",
            "Query timings by phase: queue_time, inner_eval, result_encode.",
            query_metrics.durations.clone(),
        );
        registry.register(
            "tidemark_engine_queries",
            "The current number of queries being executed or waiting.",
            query_metrics.running.clone(),
        );
        ApiState {
            shared: Arc::new(Shared {
                registry,
                durations,
                storage,
                scrape,
                reload,
                reloader: RwLock::new(None),
                config_text: RwLock::new(String::new()),
                flags: RwLock::new(Flags::new()),
                retention: RwLock::new(String::new()),
                start_time: std::time::SystemTime::now(),
                query: RwLock::new(query::QuerySettings::default()),
                query_metrics,
                admin: std::sync::atomic::AtomicBool::new(false),
                remote_write: std::sync::atomic::AtomicBool::new(false),
                external_labels: RwLock::new(std::collections::BTreeMap::new()),
            }),
        }
    }

    /// Makes the open database available; the server is ready from now on.
    pub fn set_storage(&self, db: Arc<Db>) {
        *self.shared.storage.write() = Some(db);
    }

    /// Takes the database back (for closing); the server is no longer ready.
    pub fn take_storage(&self) -> Option<Arc<Db>> {
        self.shared.storage.write().take()
    }

    /// The scrape manager whose targets `/api/v1/targets` shows.
    pub fn set_scrape_manager(&self, manager: Arc<ScrapeManager>) {
        *self.shared.scrape.write() = Some(manager);
    }

    /// Takes the scrape manager back (for stopping it).
    pub fn take_scrape_manager(&self) -> Option<Arc<ScrapeManager>> {
        self.shared.scrape.write().take()
    }

    fn scrape_manager(&self) -> Option<Arc<ScrapeManager>> {
        self.shared.scrape.read().clone()
    }

    /// Records how loading the configuration file went (at start and on each
    /// reload), for `tidemark_config_last_reload_successful`.
    pub fn record_config_load(&self, successful: bool) {
        let mut status = self.shared.reload.write();
        let previous = status.unwrap_or_default();
        *status = Some(ReloadStatus {
            successful,
            success_time: if successful {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64())
            } else {
                previous.success_time
            },
        });
    }

    /// Enables `/-/reload`: requests go to `sender`.
    pub fn set_reloader(&self, sender: ReloadSender) {
        *self.shared.reloader.write() = Some(sender);
    }

    fn reloader(&self) -> Option<ReloadSender> {
        self.shared.reloader.read().clone()
    }

    /// Enables the TSDB admin endpoints (`--web.enable-admin-api`); without it
    /// they answer 503 "admin APIs disabled", as Prometheus's do.
    pub fn set_admin_enabled(&self, on: bool) {
        self.shared
            .admin
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Enables the remote-write receiver (`--web.enable-remote-write-receiver`);
    /// without it `/api/v1/write` answers 404, as Prometheus's does.
    pub fn set_remote_write_enabled(&self, on: bool) {
        self.shared
            .remote_write
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn remote_write_enabled(&self) -> bool {
        self.shared
            .remote_write
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn admin_enabled(&self) -> bool {
        self.shared.admin.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The running configuration's external labels, which `/federate` adds.
    pub fn set_external_labels(&self, labels: std::collections::BTreeMap<String, String>) {
        *self.shared.external_labels.write() = labels;
    }

    fn external_labels(&self) -> std::collections::BTreeMap<String, String> {
        self.shared.external_labels.read().clone()
    }

    /// The configuration text `/api/v1/status/config` shows.
    pub fn set_config_text(&self, text: String) {
        *self.shared.config_text.write() = text;
    }

    fn config_text(&self) -> String {
        self.shared.config_text.read().clone()
    }

    /// The flags `/api/v1/status/flags` shows (Prometheus names, values as text).
    pub fn set_flags(&self, flags: Flags) {
        *self.shared.flags.write() = flags;
    }

    fn flags(&self) -> Flags {
        self.shared.flags.read().clone()
    }

    /// The retention runtimeinfo shows, e.g. `"15d"` (see [`retention_text`]).
    pub fn set_retention_text(&self, text: String) {
        *self.shared.retention.write() = text;
    }

    fn retention_text(&self) -> String {
        self.shared.retention.read().clone()
    }

    /// The engine's limits (timeout, max samples, lookback delta) and how many
    /// queries may run at once; further ones wait.
    pub fn set_query_options(&self, engine: EngineOptions, max_concurrency: usize) {
        *self.shared.query.write() = query::QuerySettings::new(engine, max_concurrency);
    }

    fn query_settings(&self) -> (EngineOptions, Arc<tokio::sync::Semaphore>) {
        let q = self.shared.query.read();
        (q.engine.clone(), Arc::clone(&q.slots))
    }

    fn query_metrics(&self) -> &query::QueryMetrics {
        &self.shared.query_metrics
    }

    fn start_time(&self) -> std::time::SystemTime {
        self.shared.start_time
    }

    fn reload_status(&self) -> Option<ReloadStatus> {
        *self.shared.reload.read()
    }

    fn storage(&self) -> Option<Arc<Db>> {
        self.shared.storage.read().clone()
    }

    /// Whether storage is open.
    pub fn is_ready(&self) -> bool {
        self.shared.storage.read().is_some()
    }
}

impl Default for ApiState {
    fn default() -> Self {
        ApiState::new()
    }
}

/// `{"status":"success","data":…}`, with `"warnings"` when there are any.
fn success(data: impl serde::Serialize, warnings: &[&str]) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    #[derive(serde::Serialize)]
    struct Envelope<'a, T> {
        status: &'static str,
        data: T,
        #[serde(skip_serializing_if = "<[&str]>::is_empty")]
        warnings: &'a [&'a str],
    }
    match serde_json::to_string(&Envelope {
        status: "success",
        data,
        warnings,
    }) {
        Ok(body) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => {
            ApiError::internal(format!("error marshaling json response: {e}")).into_response()
        }
    }
}

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
