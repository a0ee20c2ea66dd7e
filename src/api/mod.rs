//! The HTTP server's routes (axum): `/-/healthy`, `/-/ready`, `/-/reload`,
//! tidemark's own `/metrics` and, of the Prometheus API v1, `/api/v1/targets`
//! (the rest of the API comes later).
//!
//! [`router`] builds the `Router` from an [`ApiState`]. The state starts "not
//! ready" (`/-/ready` answers 503); the binary hands it the open database with
//! [`ApiState::set_storage`] and takes it back with [`ApiState::take_storage`] to
//! close it, hands it the scrape manager with [`ApiState::set_scrape_manager`],
//! and, with `--web.enable-lifecycle`, where to send reloads with
//! [`ApiState::set_reloader`]. A wrong method on a known path answers 405, an unknown path 404, both
//! as Prometheus's JSON error envelope ([`ApiError`]).

mod buildinfo;
mod error;
mod health;
mod lifecycle;
mod metrics;
mod process;
mod targets;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use parking_lot::RwLock;
use prometheus_client::registry::Registry;

use crate::scrape::ScrapeManager;
use crate::tsdb::Db;

pub use buildinfo::{BUILD_INFO, BuildInfo};
pub use error::{ApiError, ErrorType};
pub use lifecycle::{ReloadRequest, ReloadSender};

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
    scrape: ScrapeSlot,
    reload: Arc<RwLock<Option<ReloadStatus>>>,
    reloader: RwLock<Option<ReloadSender>>,
}

impl ApiState {
    /// A state without storage: not ready yet.
    pub fn new() -> ApiState {
        let storage = StorageSlot::default();
        let scrape = ScrapeSlot::default();
        let reload = Arc::new(RwLock::new(None));
        ApiState {
            shared: Arc::new(Shared {
                registry: metrics::registry(storage.clone(), scrape.clone(), reload.clone()),
                storage,
                scrape,
                reload,
                reloader: RwLock::new(None),
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

/// All routes, with the 404 and 405 fallbacks.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/-/healthy", get(health::healthy))
        .route("/-/ready", get(health::ready))
        .route("/-/reload", post(lifecycle::reload).put(lifecycle::reload))
        .route("/metrics", get(metrics::metrics))
        .route("/api/v1/targets", get(targets::targets))
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(state)
}

#[cfg(test)]
mod tests;
