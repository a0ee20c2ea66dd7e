//! The write-ahead log: every sample the head accepts is logged here before the
//! append is acknowledged, and replayed into a fresh head after a restart.
//!
//! The WAL is two layers, kept apart as in Prometheus's `wlog` and `record`
//! packages:
//!
//! - **Framing** ([`Wal`], [`replay`], module `segment`, `writer`, `reader`) knows
//!   segment files, 32 KiB pages, fragments and CRCs, and nothing about what a record
//!   means. A record is an opaque byte string; it is split into fragments that never
//!   cross a page boundary, each with a type, a length and a CRC32. Segments are files
//!   `00000000`, `00000001`, … in the WAL directory; a record never spans two of them.
//! - **Content** (module [`record`]) encodes and decodes the typed records the head
//!   writes: series (ref + label set) and samples (ref, timestamp, value).
//!
//! [`checkpoint()`] uses both: it rewrites the records of old segments that are still
//! needed into a `checkpoint.NNNNNNNN` directory (same framing) so the segments can be
//! deleted.
//!
//! # Durability promise
//!
//! When [`Wal::log`] returns `Ok`, every byte of the records has been handed to the
//! operating system with `write(2)`: the records survive a crash of the process
//! (including `SIGKILL`). They survive a power loss or kernel crash only once they are
//! fsynced: when their segment is cut ([`Wal::cut_segment`], or automatically when a
//! segment is full), at [`Wal::sync`] and [`Wal::close`], in a checkpoint, or at every
//! `log` call with [`SyncPolicy::EveryCommit`].
//!
//! On [`replay`], a damaged tail of the last segment (a record cut short, a bad CRC,
//! garbage after the last record) is the expected result of such a crash: the segment
//! is truncated where the damage starts, a warning is logged, and replay succeeds with
//! every record before it. Damage anywhere else is [`WalError::Corruption`].
//!
//! The intended order at start-up is [`replay`] (which repairs a torn tail), then
//! [`Wal::open`] (which starts a new segment after the last one).
//!
//! The byte layout is specified in `docs/format/wal.md`.

mod checkpoint;
mod error;
mod reader;
pub mod record;
mod segment;
mod writer;

pub use checkpoint::{CheckpointStats, checkpoint};
pub(crate) use checkpoint::{uncheckpointed_segments, write_checkpoint};
pub use error::WalError;
pub use reader::{ReplayReport, TornTail, replay};
pub use record::{
    RecordError, RecordType, RefSample, RefSeries, RefTombstone, decode_samples, decode_series,
    decode_tombstones, encode_samples, encode_series, encode_tombstones, record_type,
};
pub use segment::{DEFAULT_SEGMENT_SIZE, PAGE_SIZE};
pub use writer::{SyncPolicy, Wal, WalOptions};

#[cfg(test)]
mod tests;
