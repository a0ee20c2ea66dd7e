//! [`QuerySettings`]: how queries run, built once from the settings.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::promql::EngineOptions;

/// How queries run: the engine's limits and the concurrency slots.
pub(crate) struct QuerySettings {
    pub engine: EngineOptions,
    pub slots: Arc<Semaphore>,
}

impl QuerySettings {
    pub fn new(engine: EngineOptions, max_concurrency: usize) -> QuerySettings {
        QuerySettings {
            engine,
            // 0 would deadlock every query; Prometheus refuses it at start-up, the
            // binary does too, and here it means one.
            slots: Arc::new(Semaphore::new(max_concurrency.max(1))),
        }
    }
}
