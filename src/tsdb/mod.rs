//! The time-series database: chunks, write-ahead log, head, and the `Db` that ties
//! them together.
pub mod block;
mod blockset;
pub mod chunk;
pub mod compact;
mod db;
mod head;
pub mod import;
pub mod index;
mod maintenance;
mod querier;
mod sorted;
pub mod wal;

pub use db::{Db, DbError, DbStats, OpenReport, Options};
pub use head::{AppendError, Appender, SpillError};
pub use maintenance::MaintenanceReport;
pub use querier::{Querier, QueryError, Series, SeriesIter, SeriesSet};

/// Identifies a series inside one database. Refs are assigned in increasing order
/// and never reused while the series is in the head; they are persisted in the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesRef(pub u64);
