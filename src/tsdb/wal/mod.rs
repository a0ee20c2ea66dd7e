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
mod reader;
pub mod record;
mod segment;
mod writer;

use std::path::PathBuf;

pub use checkpoint::{CheckpointStats, checkpoint};
pub(crate) use checkpoint::{uncheckpointed_segments, write_checkpoint};
pub use reader::{ReplayReport, TornTail, replay};
pub use record::{
    RecordError, RecordType, RefSample, RefSeries, RefTombstone, decode_samples, decode_series,
    decode_tombstones, encode_samples, encode_series, encode_tombstones, record_type,
};
pub use segment::{DEFAULT_SEGMENT_SIZE, PAGE_SIZE};
pub use writer::{SyncPolicy, Wal, WalOptions};

/// Errors of the write-ahead log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// An operating-system call failed.
    #[error("WAL I/O error: {op} {path}: {source}")]
    Io {
        /// What was being done ("write", "fsync", "open", …).
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A segment holds bytes that are not valid framing, outside the tail that replay
    /// may repair (an earlier segment, or a checkpoint).
    #[error("WAL corruption in segment {segment:08} ({path}) at byte offset {offset}: {reason}")]
    Corruption {
        path: PathBuf,
        segment: u32,
        offset: u64,
        reason: String,
    },
    /// A record was framed correctly but its consumer refused it (the replay
    /// callback, or a checkpoint that could not decode it).
    #[error("WAL record in segment {segment:08} ({path}) at byte offset {offset}: {reason}")]
    Record {
        path: PathBuf,
        segment: u32,
        offset: u64,
        reason: String,
    },
    /// Segment numbers must be consecutive.
    #[error("WAL segment numbering gap in {dir}: expected segment {expected:08}, found {found:08}")]
    Gap {
        dir: PathBuf,
        expected: u32,
        found: u32,
    },
    /// An earlier I/O error left the writer in an unknown state; it refuses further use.
    #[error("WAL in {dir} is poisoned by an earlier error and refuses further use: {reason}")]
    Poisoned { dir: PathBuf, reason: String },
    /// [`WalOptions`] that cannot work.
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
    /// A checkpoint that cannot be taken as asked.
    #[error("WAL checkpoint in {dir}: {reason}")]
    Checkpoint { dir: PathBuf, reason: String },
}

impl WalError {
    fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> WalError {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests;
