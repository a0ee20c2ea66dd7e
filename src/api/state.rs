//! What the handlers share: [`ApiState`], built once from [`ApiSettings`].
//!
//! The settings are fixed for the life of the server. What changes while it runs
//! is told to the state as it happens: storage opening after the server listens
//! and being taken back to close, scraping starting and stopping, and each load
//! of the configuration file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::RwLock;
use prometheus_client::registry::Registry;

use super::query_metrics::QueryMetrics;
use super::query_settings::QuerySettings;
use super::settings::{ApiSettings, Flags, ReloadSender};
use super::slots::{ReloadStatus, ScrapeSlot, StorageSlot};
use super::{collectors, middleware};
use crate::promql::EngineOptions;
use crate::scrape::ScrapeManager;
use crate::tsdb::Db;

/// The running configuration as the API shows it.
#[derive(Debug, Clone, Default)]
pub struct ShownConfig {
    /// The configuration file's text (`/api/v1/status/config`).
    pub text: String,
    /// `global.external_labels`, which `/federate` adds.
    pub external_labels: BTreeMap<String, String>,
}

/// What the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub(super) shared: Arc<Shared>,
}

pub(super) struct Shared {
    storage: StorageSlot,
    scrape: ScrapeSlot,
    reload: Arc<RwLock<Option<ReloadStatus>>>,
    config: RwLock<ShownConfig>,
    pub(super) registry: Registry,
    pub(super) durations: middleware::Durations,
    settings: ApiSettings,
    query: QuerySettings,
    query_metrics: QueryMetrics,
    start_time: SystemTime,
}

impl ApiState {
    /// A state with `settings`, without storage: not ready yet.
    pub fn new(settings: ApiSettings) -> ApiState {
        let storage = StorageSlot::default();
        let scrape = ScrapeSlot::default();
        let reload = Arc::new(RwLock::new(None));
        let mut registry = collectors::registry(storage.clone(), scrape.clone(), reload.clone());
        let durations = middleware::durations();
        registry.register(
            "tidemark_http_request_duration_seconds",
            "Histogram of latencies for HTTP requests.",
            durations.clone(),
        );
        let query_metrics = QueryMetrics::new();
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
        let query = QuerySettings::new(settings.engine.clone(), settings.max_concurrent_queries);
        ApiState {
            shared: Arc::new(Shared {
                storage,
                scrape,
                reload,
                config: RwLock::new(ShownConfig::default()),
                registry,
                durations,
                settings,
                query,
                query_metrics,
                start_time: SystemTime::now(),
            }),
        }
    }

    /// Storage has opened: the handlers use it, and the server is ready from now on.
    pub fn storage_opened(&self, db: Arc<Db>) {
        *self.shared.storage.write() = Some(db);
    }

    /// Takes storage back to close it; the server is no longer ready. `None` if it
    /// never opened (or was taken already).
    pub fn take_storage(&self) -> Option<Arc<Db>> {
        self.shared.storage.write().take()
    }

    /// Scraping runs: `/api/v1/targets` and the metrics show `manager`'s targets.
    pub fn scraping_started(&self, manager: Arc<ScrapeManager>) {
        *self.shared.scrape.write() = Some(manager);
    }

    /// Scraping has stopped: no targets are shown any more.
    pub fn scraping_stopped(&self) {
        self.shared.scrape.write().take();
    }

    /// The running configuration is now `config`.
    pub fn show_config(&self, config: ShownConfig) {
        *self.shared.config.write() = config;
    }

    /// Records how loading the configuration file went (at start and on each
    /// reload), for `tidemark_config_last_reload_successful` and runtimeinfo.
    pub fn record_config_load(&self, successful: bool) {
        let mut status = self.shared.reload.write();
        let previous = status.unwrap_or_default();
        *status = Some(ReloadStatus {
            successful,
            success_time: if successful {
                SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64())
            } else {
                previous.success_time
            },
        });
    }

    /// Whether storage is open.
    pub fn is_ready(&self) -> bool {
        self.shared.storage.read().is_some()
    }

    pub(super) fn storage(&self) -> Option<Arc<Db>> {
        self.shared.storage.read().clone()
    }

    pub(super) fn scrape_manager(&self) -> Option<Arc<ScrapeManager>> {
        self.shared.scrape.read().clone()
    }

    pub(super) fn reloader(&self) -> Option<&ReloadSender> {
        self.shared.settings.reloads.as_ref()
    }

    pub(super) fn admin_enabled(&self) -> bool {
        self.shared.settings.admin_api
    }

    pub(super) fn remote_write_enabled(&self) -> bool {
        self.shared.settings.remote_write_receiver
    }

    pub(super) fn flags(&self) -> &Flags {
        &self.shared.settings.flags
    }

    pub(super) fn retention_text(&self) -> &str {
        &self.shared.settings.retention
    }

    pub(super) fn external_labels(&self) -> BTreeMap<String, String> {
        self.shared.config.read().external_labels.clone()
    }

    pub(super) fn config_text(&self) -> String {
        self.shared.config.read().text.clone()
    }

    pub(super) fn query_settings(&self) -> (EngineOptions, Arc<tokio::sync::Semaphore>) {
        let q = &self.shared.query;
        (q.engine.clone(), Arc::clone(&q.slots))
    }

    pub(super) fn query_metrics(&self) -> &QueryMetrics {
        &self.shared.query_metrics
    }

    pub(super) fn start_time(&self) -> SystemTime {
        self.shared.start_time
    }

    pub(super) fn reload_status(&self) -> Option<ReloadStatus> {
        *self.shared.reload.read()
    }
}

impl Default for ApiState {
    /// A state with the default settings.
    fn default() -> Self {
        ApiState::new(ApiSettings::default())
    }
}
