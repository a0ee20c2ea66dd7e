//! Compaction and retention, planned by pure functions of block metadata
//! ([`plan`]) and carried out by the database's background worker: `run` merges
//! block readers (`crate::tsdb::reader`) into a new block as a `job` describes it,
//! and a head cut is the same merge of one reader, the head, cut to a range.

mod job;
mod plan;
pub(crate) mod run;

pub use plan::{BLOCK_RANGE_MS, beyond_size_retention, beyond_time_retention, block_ranges, plan};
pub use run::CompactError;
