//! Compaction and retention, planned by pure functions of block metadata
//! ([`plan`]) and carried out by the database's background worker with the block
//! writer (`run`: head blocks and merges).

mod plan;
pub(crate) mod run;

pub use plan::{BLOCK_RANGE_MS, beyond_size_retention, beyond_time_retention, block_ranges, plan};
pub use run::CompactError;
