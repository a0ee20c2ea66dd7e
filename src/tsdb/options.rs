//! [`Options`]: the settings of a database, with their defaults and the rules
//! Prometheus's storage flags follow.

use std::sync::Arc;
use std::time::Duration;

use crate::tsdb::error::DbError;
use crate::tsdb::fs::{self, Fs};
use crate::tsdb::wal::{SyncPolicy, WalOptions};

/// Largest `Options::samples_per_chunk`: at worst ~19 bytes a sample, a chunk stays
/// far below the head chunk file's record limit.
const MAX_SAMPLES_PER_CHUNK: usize = 4096;

/// Time retention when neither a time nor a size limit is given: 15 days, as in
/// Prometheus.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 3600 * 1000;

/// Settings for [`Db::open`](crate::tsdb::Db::open).
#[derive(Debug, Clone)]
pub struct Options {
    /// How long data is kept, in milliseconds (`--storage.tsdb.retention.time`).
    /// Retention drops whole persisted blocks, those ending more than this before
    /// the newest block's end; the head keeps what it holds until it is cut into
    /// blocks. 0 keeps everything. Default: [`DEFAULT_RETENTION_MS`]; see
    /// [`Options::with_retention`] for how the flags set it.
    pub retention_ms: i64,
    /// Most bytes blocks, WAL and head chunk files may take together
    /// (`--storage.tsdb.retention.size`); the oldest blocks go first. 0: no limit.
    pub retention_bytes: u64,
    /// How often the background worker looks for work (head cut, compaction,
    /// retention). `None`: no worker; call [`Db::maintain`](crate::tsdb::Db::maintain).
    pub maintenance_interval: Option<Duration>,
    /// Size of a WAL segment file in bytes (a multiple of the 32 KiB page).
    pub wal_segment_size: usize,
    /// When the WAL is fsynced (see docs/format/wal.md).
    pub wal_sync: SyncPolicy,
    /// Samples after which the open chunk of a series is cut.
    pub samples_per_chunk: usize,
    /// Width in milliseconds of the aligned windows no chunk may span, and the
    /// range of the blocks cut from the head (2h, as in Prometheus). The head is
    /// cut when it spans more than 1.5 of them.
    pub chunk_range_ms: i64,
    /// The file system every file of the database is reached through: the
    /// operating system's, or one a test puts in its place.
    pub fs: Arc<dyn Fs>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: DEFAULT_RETENTION_MS,
            retention_bytes: 0,
            maintenance_interval: Some(Duration::from_secs(60)),
            wal_segment_size: WalOptions::default().segment_size,
            wal_sync: SyncPolicy::default(),
            samples_per_chunk: 120,
            chunk_range_ms: 2 * 3600 * 1000,
            fs: fs::real(),
        }
    }
}

impl Options {
    /// The default options with retention as Prometheus's two flags set it:
    /// `time` (`--storage.tsdb.retention.time`; `None` or zero: not given) and
    /// `bytes` (`--storage.tsdb.retention.size`; 0: not given). Neither given:
    /// [`DEFAULT_RETENTION_MS`]; a size alone is then the only limit. Fails if
    /// `time` does not fit in milliseconds as an `i64`.
    pub fn with_retention(time: Option<Duration>, bytes: u64) -> Result<Options, DbError> {
        let retention_ms = match (time.unwrap_or(Duration::ZERO), bytes) {
            (Duration::ZERO, 0) => DEFAULT_RETENTION_MS,
            (t, _) => i64::try_from(t.as_millis()).map_err(|_| {
                DbError::InvalidOption(format!("retention time {t:?} is out of range"))
            })?,
        };
        Ok(Options {
            retention_ms,
            retention_bytes: bytes,
            ..Options::default()
        })
    }

    /// Refuses settings the database cannot work with.
    pub(crate) fn check(&self) -> Result<(), DbError> {
        if self.samples_per_chunk == 0 || self.samples_per_chunk > MAX_SAMPLES_PER_CHUNK {
            return Err(DbError::InvalidOption(format!(
                "samples_per_chunk must be in 1..={MAX_SAMPLES_PER_CHUNK}, got {}",
                self.samples_per_chunk
            )));
        }
        if self.chunk_range_ms <= 0 {
            return Err(DbError::InvalidOption(format!(
                "chunk_range_ms must be positive, got {}",
                self.chunk_range_ms
            )));
        }
        if self.maintenance_interval == Some(Duration::ZERO) {
            return Err(DbError::InvalidOption(
                "maintenance_interval must be positive (None disables the worker)".to_owned(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn retention_from_flags_as_prometheus_reads_them() {
        let o = Options::with_retention(None, 0).unwrap();
        assert_eq!(
            (o.retention_ms, o.retention_bytes),
            (DEFAULT_RETENTION_MS, 0)
        );
        let o = Options::with_retention(Some(Duration::ZERO), 0).unwrap();
        assert_eq!(
            (o.retention_ms, o.retention_bytes),
            (DEFAULT_RETENTION_MS, 0)
        );
        let o = Options::with_retention(Some(DAY), 0).unwrap();
        assert_eq!((o.retention_ms, o.retention_bytes), (86_400_000, 0));
        // A size alone is the only limit.
        let o = Options::with_retention(None, 1 << 30).unwrap();
        assert_eq!((o.retention_ms, o.retention_bytes), (0, 1 << 30));
        let o = Options::with_retention(Some(DAY), 1 << 30).unwrap();
        assert_eq!((o.retention_ms, o.retention_bytes), (86_400_000, 1 << 30));
        let err = Options::with_retention(Some(Duration::MAX), 0).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        // The rest are the defaults.
        assert_eq!(o.samples_per_chunk, Options::default().samples_per_chunk);
    }
}
