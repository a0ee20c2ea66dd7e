//! The limit on samples a query may hold (`--query.max-samples`).

use crate::promql::error::{PromqlError, Result};

/// The error of a query past the limit.
pub(crate) fn too_many_samples() -> PromqlError {
    PromqlError::execution(
        "query processing would load too many samples into memory in query execution",
    )
}

/// Samples held by columns being collected, against the query's limit
/// (`--query.max-samples`), checked before more are taken.
pub(crate) struct Held {
    n: usize,
    max: usize,
}

impl Held {
    /// Counting from `n` samples held already, up to `max`.
    pub fn new(n: usize, max: usize) -> Held {
        Held { n, max }
    }

    pub fn add(&mut self, n: usize) -> Result<()> {
        self.n = self.n.saturating_add(n);
        if self.n > self.max {
            return Err(too_many_samples());
        }
        Ok(())
    }
}
