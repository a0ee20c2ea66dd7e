//! The HTTP server's routes (axum): for now `/-/healthy`, `/-/ready` and
//! tidemark's own `/metrics`; the Prometheus API v1 comes later.
//!
//! [`router`] builds the `Router` from an [`ApiState`]. The state starts "not
//! ready" (`/-/ready` answers 503); the binary hands it the open database with
//! [`ApiState::set_storage`] and takes it back with [`ApiState::take_storage`] to
//! close it. A wrong method on a known path answers 405, an unknown path 404, both
//! as Prometheus's JSON error envelope ([`ApiError`]).

mod buildinfo;
mod error;
mod health;
mod metrics;
mod process;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use parking_lot::RwLock;
use prometheus_client::registry::Registry;

use crate::tsdb::Db;

pub use buildinfo::{BUILD_INFO, BuildInfo};
pub use error::{ApiError, ErrorType};

/// The open database, shared by the handlers and the metric collectors; `None`
/// before it is open and after it was taken back for closing.
type StorageSlot = Arc<RwLock<Option<Arc<Db>>>>;

/// What the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    shared: Arc<Shared>,
}

struct Shared {
    storage: StorageSlot,
    registry: Registry,
}

impl ApiState {
    /// A state without storage: not ready yet.
    pub fn new() -> ApiState {
        let storage = StorageSlot::default();
        ApiState {
            shared: Arc::new(Shared {
                registry: metrics::registry(storage.clone()),
                storage,
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
        .route("/metrics", get(metrics::metrics))
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(state)
}

#[cfg(test)]
mod tests;
