//! The engine's limits and defaults, and the options of one query.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Limits and defaults of an [`Engine`](super::query::Engine).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5m).
    pub lookback_delta: Duration,
    /// Most samples a query may hold at once (default 50,000,000).
    pub max_samples: usize,
    /// Longest a query may run (default 2m).
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Per-query options.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Overrides the engine's lookback delta for this query.
    pub lookback_delta: Option<Duration>,
    /// Set to `true` (from any thread) to stop the query with a `canceled` error.
    pub cancel: Option<Arc<AtomicBool>>,
    /// A shorter timeout than the engine's for this query (the API's `timeout`
    /// parameter); the smaller of the two applies.
    pub timeout: Option<Duration>,
}
