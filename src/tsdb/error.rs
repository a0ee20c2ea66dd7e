//! [`DbError`]: what opening, maintaining or closing a database can fail with.
//! It wraps the errors of the layers below (WAL, head chunk files, blocks,
//! compaction), each of which names the file it is about.

use std::path::PathBuf;

use crate::tsdb::block::BlockError;
use crate::tsdb::compact::CompactError;
use crate::tsdb::head::{DeleteError, SpillError};
use crate::tsdb::wal::WalError;

/// Errors opening, checking or closing a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "data directory {path} is in use by another process (lock file {path}/lock is held); \
         is another tidemark or Prometheus running on it?"
    )]
    Locked { path: PathBuf },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error(transparent)]
    HeadChunks(#[from] SpillError),
    #[error(transparent)]
    Block(Box<BlockError>),
    #[error(transparent)]
    Compact(Box<CompactError>),
    #[error("deleting series in the head: {0}")]
    Delete(#[from] DeleteError),
}

// Boxed: they are large, and every `Result` of the database carries them.
impl From<BlockError> for DbError {
    fn from(e: BlockError) -> Self {
        DbError::Block(Box::new(e))
    }
}

impl From<CompactError> for DbError {
    fn from(e: CompactError) -> Self {
        DbError::Compact(Box::new(e))
    }
}
