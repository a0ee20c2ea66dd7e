//! What the state shares with the metric collectors, and the server fills in
//! as it runs: storage and the scrape manager, which come and go, and how the
//! last configuration load went.

use std::sync::Arc;

use parking_lot::RwLock;

use crate::scrape::ScrapeManager;
use crate::tsdb::Db;

/// Storage as the handlers and the metric collectors see it: it opens after the
/// server starts listening (`/-/ready` answers 503 until then), and is taken
/// back to be closed when the server stops. `None` before and after.
pub(super) type StorageSlot = Arc<RwLock<Option<Arc<Db>>>>;

/// The scrape manager while scraping runs, for `/api/v1/targets`, the metadata
/// endpoints and the metric collectors.
pub(super) type ScrapeSlot = Arc<RwLock<Option<Arc<ScrapeManager>>>>;

/// How the last configuration load went (`None` before the first).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ReloadStatus {
    pub successful: bool,
    /// Seconds since the epoch of the last successful load.
    pub success_time: f64,
}
