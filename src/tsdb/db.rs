//! `Db`: opens a data directory, owns the head and the WAL.

use std::path::{Path, PathBuf};

/// Settings for [`Db::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// How long data is kept, in milliseconds (`--storage.tsdb.retention.time`).
    pub retention_ms: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: 15 * 24 * 3600 * 1000,
        }
    }
}

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Figures about the head, for `/metrics` and reports.
#[derive(Debug, Clone, Default)]
pub struct DbStats {
    /// Series in the head.
    pub head_series: u64,
    /// Chunks in the head (open and closed).
    pub head_chunks: u64,
    /// Samples appended since open (committed).
    pub samples_appended: u64,
    /// Estimated heap bytes used by the head (series, labels, postings, open chunks).
    pub head_memory_bytes: u64,
}

/// An open database. Skeleton: filled in by the head/WAL work.
pub struct Db {
    dir: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: impl AsRef<Path>, _opts: Options) -> Result<Db, DbError> {
        Ok(Db {
            dir: dir.as_ref().to_path_buf(),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Current head figures.
    pub fn stats(&self) -> DbStats {
        DbStats::default()
    }

    /// Flushes and closes the WAL, releases the lock.
    pub fn close(self) -> Result<(), DbError> {
        Ok(())
    }
}
