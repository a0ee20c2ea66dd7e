//! `Db`: a data directory opened for reading and writing.
//!
//! Opening takes an exclusive lock on the directory, opens the blocks, replays the
//! WAL into a new head, and starts a fresh WAL segment and a background worker
//! ([`maintenance`](super::maintenance)) that cuts the head into blocks, compacts
//! blocks and applies retention. Layout of the directory:
//!
//! ```text
//! data/
//!   lock            held (flock) while open; a second process gets DbError::Locked
//!   01H…/           blocks: meta.json, index, chunks/ (docs/format/)
//!   head_cut        the time the head was last cut into a block at (decimal ms)
//!   wal/            segments 00000000…, checkpoint.NNNNNNNN/ (docs/format/wal.md)
//!   chunks_head/    full head chunks moved out of memory; spares WAL replay work
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::model::Matcher;
use crate::tsdb::blockset::BlockSet;
use crate::tsdb::error::DbError;
use crate::tsdb::fs::{File, OpenMode};
use crate::tsdb::head::{Appender, ChunkLimits, ChunkSpill, Head, Replay};
use crate::tsdb::maintenance::{self, Maintenance, MaintenanceReport};
use crate::tsdb::options::Options;
use crate::tsdb::querier::Querier;
use crate::tsdb::reader::BlockReader;
use crate::tsdb::wal::{self, Wal, WalOptions};

/// Figures about the head, for `/metrics` and reports.
#[derive(Debug, Clone, Default)]
pub struct DbStats {
    /// Series in the head.
    pub head_series: u64,
    /// Chunks in the head (open and closed).
    pub head_chunks: u64,
    /// Samples committed and stored since open (replayed ones are in
    /// [`OpenReport`]).
    pub samples_appended: u64,
    /// Committed samples not stored because a concurrent commit had stored a newer
    /// sample of the same series first.
    pub samples_dropped: u64,
    /// Estimated heap bytes used by the head (series, labels, postings, open chunks).
    pub head_memory_bytes: u64,
    /// Oldest and newest sample timestamp in the head.
    pub head_min_time: Option<i64>,
    pub head_max_time: Option<i64>,
    /// Persisted blocks, and their bytes on disk.
    pub blocks: u64,
    pub blocks_bytes: u64,
    /// Background work done since open.
    pub maintenance: MaintenanceReport,
}

/// What WAL replay did when the database was opened.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    pub wal: wal::ReplayReport,
    /// Series records read from the WAL.
    pub series: u64,
    /// Samples applied from the WAL.
    pub samples: u64,
    /// WAL samples skipped because the head chunk file already held them.
    pub samples_in_chunks: u64,
    /// Samples whose series record was missing (dropped).
    pub unknown_refs: u64,
    /// Full chunks taken back from the head chunk file.
    pub chunks_loaded: u64,
    /// Head chunk file chunks not used (no series claimed them, or damaged).
    pub chunks_dropped: u64,
    /// WAL samples and head chunks skipped because a block holds them.
    pub samples_in_blocks: u64,
    pub chunks_in_blocks: u64,
    /// Blocks that did not open (each names its directory and file); they are
    /// left on disk and not read.
    pub damaged_blocks: Vec<String>,
    /// Blocks deleted on open because a compaction had merged them into another.
    pub merged_blocks_deleted: u64,
    pub replay_seconds: f64,
}

/// An open database. `Send + Sync`: share it behind an `Arc`.
pub struct Db {
    m: Arc<Maintenance>,
    worker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    /// Holds the directory lock until the `Db` is dropped.
    _lock: Box<dyn File>,
    report: OpenReport,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: takes the lock, opens the
    /// blocks, replays the WAL, starts a new WAL segment and the background worker.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db, DbError> {
        let dir = dir.as_ref().to_path_buf();
        opts.check()?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DbError::Io { path, source }
        };
        let fs = Arc::clone(&opts.fs);
        fs.create_dir_all(&dir).map_err(io(&dir))?;
        let lock_path = dir.join("lock");
        let lock = fs
            .open(&lock_path, OpenMode::Create)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(DbError::Locked { path: dir }),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }

        let (blocks, found) = BlockSet::open(&fs, &dir)?;
        let (spill, chunks) = ChunkSpill::open(&fs, &dir.join("chunks_head"))?;
        let limits = ChunkLimits {
            samples_per_chunk: opts.samples_per_chunk,
            chunk_range: opts.chunk_range_ms,
        };
        let head = Arc::new(Head::new(limits, spill));
        // What was cut into blocks is not the head's: replay skips it, appends
        // refuse it.
        if let Some(t) = maintenance::read_cut_point(&*fs, &dir)? {
            head.set_min_valid(t);
        }

        let started = Instant::now();
        let wal_dir = dir.join("wal");
        let mut replay = Replay::new(&head, chunks);
        let wal_report = wal::replay(&*fs, &wal_dir, |rec| replay.record(rec))?;
        let counts = replay.finish();
        let report = OpenReport {
            wal: wal_report,
            series: counts.series,
            samples: counts.samples,
            samples_in_chunks: counts.samples_in_chunks,
            unknown_refs: counts.unknown_refs,
            chunks_loaded: counts.chunks_loaded,
            chunks_dropped: counts.chunks_dropped,
            samples_in_blocks: counts.samples_in_blocks,
            chunks_in_blocks: counts.chunks_in_blocks,
            damaged_blocks: found.damaged.iter().map(ToString::to_string).collect(),
            merged_blocks_deleted: found.merged_away.len() as u64,
            replay_seconds: started.elapsed().as_secs_f64(),
        };
        if report.unknown_refs > 0 {
            tracing::warn!(
                samples = report.unknown_refs,
                "WAL replay dropped samples whose series record is missing"
            );
        }
        if report.chunks_dropped > 0 {
            tracing::warn!(
                chunks = report.chunks_dropped,
                "head chunks without a series or that did not decode were dropped; the WAL replayed their samples"
            );
        }
        tracing::info!(
            series = report.series,
            chunks_loaded = report.chunks_loaded,
            samples_in_chunks = report.samples_in_chunks,
            samples = report.samples,
            samples_in_blocks = report.samples_in_blocks,
            segments = report.wal.segments,
            seconds = report.replay_seconds,
            "WAL replay finished"
        );

        let wal = Wal::open(
            &fs,
            &wal_dir,
            WalOptions {
                segment_size: opts.wal_segment_size,
                sync: opts.wal_sync,
            },
        )?;
        head.attach_wal(wal);
        let interval = opts.maintenance_interval;
        let m = Arc::new(Maintenance::new(dir, opts, head, blocks));
        let worker = match interval {
            Some(every) => {
                Some(maintenance::spawn_worker(Arc::clone(&m), every).map_err(io(m.dir()))?)
            }
            None => None,
        };
        Ok(Db {
            m,
            worker,
            _lock: lock,
            report,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.m.dir()
    }

    /// What opening the database found.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// A new appender. Appenders are independent: use one per writer thread.
    pub fn appender(&self) -> Appender {
        self.m.head().appender()
    }

    /// The head, for tests of its internals.
    #[cfg(test)]
    pub(crate) fn head(&self) -> &Arc<Head> {
        self.m.head()
    }

    /// A reader over `[mint, maxt]` (milliseconds, both included), over the head
    /// and the blocks as they are now.
    pub fn querier(&self, mint: i64, maxt: i64) -> Querier {
        // Blocks outside the range are left out; the head never is: it grows
        // while the querier lives, and what it holds is looked at when read.
        let mut readers: Vec<Arc<dyn BlockReader>> = self
            .m
            .blocks()
            .snapshot()
            .into_iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| b as Arc<dyn BlockReader>)
            .collect();
        readers.push(Arc::clone(self.m.head()) as Arc<dyn BlockReader>);
        Querier::new(readers, mint, maxt)
    }

    /// Does now what the background worker does periodically: cuts the head into
    /// blocks while it spans more than 1.5 block ranges, compacts blocks as the
    /// plan says, and deletes blocks beyond retention. Returns what it did.
    pub fn maintain(&self) -> Result<MaintenanceReport, DbError> {
        self.m.run()
    }

    /// Marks the samples in `[mint, maxt]` (milliseconds, both included) of the
    /// series matching all `matchers` deleted, in the blocks and in the head
    /// (Prometheus's admin `delete_series`). Queries stop returning them at once;
    /// a series with no sample left is no longer selected. The data stays on disk
    /// until compaction or [`clean_tombstones`](Self::clean_tombstones) rewrites
    /// the blocks, and the head drops it when cut into a block. Samples appended
    /// afterwards are not affected.
    pub fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<(), DbError> {
        self.m.delete_series(matchers, mint, maxt).map(|_| ())
    }

    /// Rewrites every block with deleted samples without them, so that they are
    /// gone from disk. Returns how many blocks were rewritten (or removed, when
    /// nothing was left of them).
    pub fn clean_tombstones(&self) -> Result<u64, DbError> {
        self.m.clean_tombstones()
    }

    /// Writes a snapshot into `dest` (a new directory on the same file system as
    /// the data directory): hard links of the blocks' files and, with
    /// `with_head`, the head's samples written as blocks. The snapshot is a data
    /// directory of its own: [`Db::open`] opens it. Returns the number of blocks
    /// in it.
    pub fn snapshot(&self, dest: impl AsRef<Path>, with_head: bool) -> Result<u64, DbError> {
        self.m.snapshot(dest.as_ref(), with_head)
    }

    /// The open blocks, oldest first (tests look at their files).
    #[cfg(test)]
    pub(crate) fn test_blocks(&self) -> Vec<Arc<crate::tsdb::block::Block>> {
        self.m.blocks().snapshot()
    }

    /// Current figures.
    pub fn stats(&self) -> DbStats {
        let s = self.m.head().stats();
        let loaded = self.m.blocks().loaded();
        DbStats {
            head_series: s.series,
            head_chunks: s.chunks,
            samples_appended: s.samples_appended,
            samples_dropped: s.samples_dropped,
            head_memory_bytes: s.memory_bytes,
            head_min_time: s.min_t,
            head_max_time: s.max_t,
            blocks: loaded.len() as u64,
            blocks_bytes: loaded.iter().map(|l| l.bytes).sum(),
            maintenance: self.m.totals(),
        }
    }

    /// Stops the background worker (waiting for work in progress), closes the WAL
    /// (written out and fsynced) and releases the lock. Appenders still alive
    /// afterwards get [`crate::tsdb::AppendError::Closed`] on commit.
    pub fn close(mut self) -> Result<(), DbError> {
        self.stop_worker();
        let head = self.m.head();
        // The WAL first: it holds the data; the head chunk file only saves replay
        // work, so its failure must not keep the WAL from being synced.
        let wal = match head.take_wal() {
            Some(wal) => wal.close().map_err(DbError::from),
            None => Ok(()),
        };
        let chunks = head.flush().map_err(DbError::from);
        wal.and(chunks)
    }

    fn stop_worker(&mut self) {
        if let Some((stop, handle)) = self.worker.take() {
            drop(stop);
            if handle.join().is_err() {
                tracing::error!("the background maintenance worker panicked");
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.stop_worker();
    }
}
