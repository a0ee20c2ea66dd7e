//! [`WalError`]: the errors of the write-ahead log.

use std::path::PathBuf;

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
    /// [`WalOptions`](super::WalOptions) that cannot work.
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
    /// A checkpoint that cannot be taken as asked.
    #[error("WAL checkpoint in {dir}: {reason}")]
    Checkpoint { dir: PathBuf, reason: String },
}

impl WalError {
    pub(super) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> WalError {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
