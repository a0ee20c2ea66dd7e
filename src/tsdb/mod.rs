//! The time-series database: chunks, write-ahead log, head, persisted blocks, and
//! the `Db` that ties them together.
//!
//! - [`Db`] opens a data directory: its blocks, its WAL (replayed into the head),
//!   and a background worker that cuts the head into 2h blocks, compacts blocks
//!   ([`compact::plan`]) and applies retention; [`Db::maintain`] runs the same
//!   pass on demand.
//! - [`Appender`] writes into the head (and its WAL); [`Querier`] reads the head
//!   and the blocks as one, merging overlapping blocks.
//! - [`block`] (meta, index, chunk segment files, [`block::BlockBuilder`],
//!   [`block::Block`]), [`index`], [`chunk`] and [`wal`] are the on-disk formats of
//!   `docs/format/`, usable on their own; [`import`] backfills OpenMetrics files
//!   into blocks.
//! - [`fs`] is the file I/O under all of them, behind a trait (`Options::fs`)
//!   that a test can replace with one that fails chosen operations.
pub mod block;
mod blockset;
pub mod chunk;
pub mod compact;
mod db;
#[cfg(test)]
mod delete_tests;
pub mod fs;
mod head;
pub mod import;
pub mod index;
mod maintenance;
mod querier;
mod sorted;
pub mod tombstones;
pub mod wal;

pub use db::{Db, DbError, DbStats, OpenReport, Options};
pub use head::{AppendError, Appender, DeleteError, SpillError};
pub use maintenance::MaintenanceReport;
pub use querier::{Querier, QueryError, Series, SeriesIter, SeriesSet};

/// Identifies a series inside one database. Refs are assigned in increasing order
/// and never reused while the series is in the head; they are persisted in the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesRef(pub u64);
