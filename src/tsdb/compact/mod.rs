//! Compaction and retention, planned by pure functions of block metadata
//! ([`plan`]); a worker carries the plans out (with the block writer).

mod plan;

pub use plan::{BLOCK_RANGE_MS, beyond_size_retention, beyond_time_retention, block_ranges, plan};
