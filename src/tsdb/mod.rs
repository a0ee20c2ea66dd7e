//! The time-series database: chunks, write-ahead log, head, persisted blocks, and
//! the `Db` that ties them together.
//!
//! - [`Db`] opens a data directory: its blocks, its WAL (replayed into the head),
//!   and a background worker (`maintenance`) that cuts the head into 2h blocks,
//!   compacts blocks ([`compact::plan`]) and applies retention; [`Db::maintain`]
//!   runs the same pass on demand. [`Options`] are its settings (with the
//!   retention defaults), [`DbError`] what it fails with.
//! - [`Appender`] writes into the head (and its WAL).
//! - Reads go through one interface, the block-reader trait (`reader`), which the
//!   head and every persisted block implement: select the series matching some
//!   matchers over a time range (a cursor over them in label order, each with its
//!   chunks), read a chunk, list label names and values. The [`Querier`] reads
//!   the head and the blocks overlapping its range through it as one, merging a
//!   series' chunks from all of them. Compaction (`compact::run`) reads its
//!   sources through it too: merging blocks, and cutting the head into a block,
//!   which is the same merge of one reader cut to a range.
//! - [`block`] (meta, index, chunk segment files, [`block::BlockBuilder`],
//!   [`block::Block`]), [`index`], [`chunk`] and [`wal`] are the on-disk formats of
//!   `docs/format/`, usable on their own.
//! - [`fs`] is the file I/O under all of them, behind a trait (`Options::fs`)
//!   that a test can replace with one that fails chosen operations.
//!
//! From the bottom up, each module importing only from those below it: the
//! formats (`chunk`, `index`, `wal`, `tombstones`); `block` and `head`; `reader`;
//! the querier and compaction; `error`, `options` and the set of open blocks;
//! `maintenance`; `db`.
pub mod block;
mod blockset;
pub mod chunk;
pub mod compact;
mod db;
#[cfg(test)]
mod delete_tests;
mod error;
pub mod fs;
mod head;
pub mod index;
mod maintenance;
mod options;
mod querier;
mod reader;
mod series_ref;
mod sorted;
pub mod tombstones;
pub mod wal;

pub use db::{Db, DbStats, OpenReport};
pub use error::DbError;
pub use head::{AppendError, Appender, DeleteError, SpillError};
pub use maintenance::MaintenanceReport;
pub use options::{DEFAULT_RETENTION_MS, Options};
pub use querier::{Querier, QueryError, Series, SeriesIter, SeriesSet};
pub use series_ref::SeriesRef;
