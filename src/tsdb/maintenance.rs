//! The database's background work: cutting the head into blocks, compacting
//! blocks, and deleting blocks beyond retention. One pass at a time
//! ([`Maintenance::run`]), from the worker thread every interval or from
//! [`Db::maintain`](super::Db::maintain).
//!
//! Order of a head cut, and why each step is safe to crash after:
//!
//! 1. the block for the head's oldest range is written to `<ulid>.tmp`, fsynced
//!    and renamed into place: a crash before the rename leaves a `.tmp` directory
//!    that the next open deletes, and the WAL still holds everything;
//! 2. the block becomes visible to queries (queries that overlap the head see the
//!    same samples twice and merge them);
//! 3. the cut time is written to `head_cut` (atomically): from then on the head
//!    refuses samples before it and WAL replay skips them. A crash before this
//!    step replays those samples into the head again; the next cut writes them
//!    into a second block overlapping the first, which compaction merges: nothing
//!    is lost or doubled in answers;
//! 4. the head drops what it held before the cut;
//! 5. the WAL is checkpointed up to two thirds of its closed segments, keeping
//!    the series still in the head and their samples from the cut on.
//!
//! The cut time is kept in its own file rather than taken from the newest block,
//! because a block imported into the directory may end later than the head's cut:
//! taking its end would drop the head's samples in between on the next replay.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::model::Matcher;
use crate::tsdb::block::{Block, BlockId};
use crate::tsdb::blockset::{BlockSet, dir_size};
use crate::tsdb::compact::run::{cut_block, merge_blocks, rewrite_block};
use crate::tsdb::compact::{
    CompactError, beyond_size_retention, beyond_time_retention, block_ranges, plan,
};
use crate::tsdb::error::DbError;
use crate::tsdb::fs::{Fs, ReplaceError, replace_file};
use crate::tsdb::head::Head;
use crate::tsdb::options::Options;
use crate::tsdb::wal;

/// What maintenance did (one pass, or totals since open).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Blocks found in the data directory that were not there at open (imports).
    pub blocks_found: u64,
    /// Blocks cut from the head.
    pub head_blocks: u64,
    /// Chunks and series the head dropped after cutting them into blocks.
    pub head_chunks_removed: u64,
    pub head_series_removed: u64,
    /// Compactions done, and the source blocks they merged.
    pub compactions: u64,
    pub blocks_compacted: u64,
    /// Blocks deleted by time or size retention.
    pub blocks_deleted: u64,
    /// WAL checkpoints written.
    pub wal_checkpoints: u64,
}

impl MaintenanceReport {
    fn add(&mut self, o: &MaintenanceReport) {
        self.blocks_found += o.blocks_found;
        self.head_blocks += o.head_blocks;
        self.head_chunks_removed += o.head_chunks_removed;
        self.head_series_removed += o.head_series_removed;
        self.compactions += o.compactions;
        self.blocks_compacted += o.blocks_compacted;
        self.blocks_deleted += o.blocks_deleted;
        self.wal_checkpoints += o.wal_checkpoints;
    }
}

/// The parts of an open database maintenance works on.
pub(crate) struct Maintenance {
    dir: PathBuf,
    opts: Options,
    head: Arc<Head>,
    blocks: BlockSet,
    /// Held for a whole pass: passes never overlap.
    running: Mutex<()>,
    totals: Mutex<MaintenanceReport>,
}

/// The file holding the time the head was last cut at.
const CUT_FILE: &str = "head_cut";

/// The time the head was last cut at (samples before it are in blocks), if it
/// ever was.
pub(crate) fn read_cut_point(fs: &dyn Fs, dir: &Path) -> Result<Option<i64>, DbError> {
    let path = dir.join(CUT_FILE);
    let text = match fs.read(&path).and_then(|b| {
        String::from_utf8(b).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
    }) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(DbError::Io { path, source }),
    };
    text.trim()
        .parse::<i64>()
        .map(Some)
        .map_err(|e| DbError::Io {
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a millisecond timestamp ({e}): {:?}", text.trim()),
            ),
            path,
        })
}

/// Records `t` as the time the head was cut at: written to a temporary file,
/// fsynced, renamed over the old one, and the directory fsynced
/// ([`replace_file`]).
fn write_cut_point(fs: &dyn Fs, dir: &Path, t: i64) -> Result<(), DbError> {
    replace_file(fs, dir, CUT_FILE, format!("{t}\n").as_bytes())
        .map_err(|ReplaceError { path, source, .. }| DbError::Io { path, source })
}

/// Runs [`Maintenance::run`] at once (a head left long enough to be cut, or
/// blocks left uncompacted by a stop, are seen to right after opening, as
/// Prometheus does) and then every `every`, until the returned sender is dropped.
pub(crate) fn spawn_worker(
    m: Arc<Maintenance>,
    every: Duration,
) -> std::io::Result<(mpsc::Sender<()>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("tidemark-maintenance".to_owned())
        .spawn(move || {
            loop {
                if let Err(e) = m.run() {
                    tracing::error!(error = %e, "background maintenance failed; retrying at the next interval");
                }
                if !matches!(rx.recv_timeout(every), Err(mpsc::RecvTimeoutError::Timeout)) {
                    return;
                }
            }
        })?;
    Ok((tx, handle))
}

impl Maintenance {
    pub(crate) fn new(
        dir: PathBuf,
        opts: Options,
        head: Arc<Head>,
        blocks: BlockSet,
    ) -> Maintenance {
        Maintenance {
            dir,
            opts,
            head,
            blocks,
            running: Mutex::new(()),
            totals: Mutex::new(MaintenanceReport::default()),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn head(&self) -> &Arc<Head> {
        &self.head
    }

    pub(crate) fn blocks(&self) -> &BlockSet {
        &self.blocks
    }

    pub(crate) fn totals(&self) -> MaintenanceReport {
        self.totals.lock().clone()
    }

    /// One pass: blocks that appeared in the directory are opened, then head
    /// cuts, compactions, retention.
    pub(crate) fn run(&self) -> Result<MaintenanceReport, DbError> {
        let _running = self.running.lock();
        let mut report = MaintenanceReport::default();
        let result = self
            .blocks
            .load_new()
            .map(|added| report.blocks_found = added.len() as u64)
            .and_then(|()| self.cut_head(&mut report))
            .and_then(|()| self.compact(&mut report))
            .and_then(|()| self.apply_retention(&mut report));
        self.totals.lock().add(&report);
        result.map(|()| report)
    }

    /// Cuts the head's oldest block range into a block while the head spans more
    /// than 1.5 ranges (Prometheus's rule), so that the newest hour or so of
    /// samples stays appendable in the head.
    fn cut_head(&self, report: &mut MaintenanceReport) -> Result<(), DbError> {
        let range = self.opts.chunk_range_ms;
        let mut cut_at = None;
        // Where the next cut starts at the earliest: the head's first sample after
        // the last cut. Every round moves on, even if a chunk read back from a
        // damaged head chunk file straddles a cut.
        let mut floor = i64::MIN;
        while let Some((lo, hi)) = self.head.time_range() {
            let lo = lo.max(self.head.min_valid()).max(floor);
            if hi.saturating_sub(lo) <= range / 2 * 3 {
                break;
            }
            let mint = lo;
            let maxt = lo.div_euclid(range).saturating_add(1).saturating_mul(range);
            let started = Instant::now();
            let (written, next) = cut_block(&self.opts.fs, &self.dir, &*self.head, mint, maxt)?;
            floor = next.unwrap_or(i64::MAX);
            if let Some(meta) = written {
                self.blocks.add(meta.ulid, &[])?;
                report.head_blocks += 1;
                tracing::info!(
                    block = %meta.ulid,
                    min_time = meta.min_time,
                    max_time = meta.max_time,
                    series = meta.stats.num_series,
                    samples = meta.stats.num_samples,
                    seconds = started.elapsed().as_secs_f64(),
                    "head block written"
                );
            }
            write_cut_point(&*self.opts.fs, &self.dir, maxt)?;
            let started = Instant::now();
            let t = self.head.truncate(maxt)?;
            report.head_chunks_removed += t.chunks;
            report.head_series_removed += t.series;
            tracing::info!(
                chunks = t.chunks,
                series = t.series,
                files = t.files,
                seconds = started.elapsed().as_secs_f64(),
                "head truncated"
            );
            cut_at = Some(maxt);
        }
        // Once after all cuts, with the last cut time: a checkpoint per cut would
        // read the same segments again and keep samples the next cut drops.
        if let Some(maxt) = cut_at
            && self.checkpoint_wal(maxt)?
        {
            report.wal_checkpoints += 1;
        }
        Ok(())
    }

    /// Folds the older two thirds of the closed WAL segments into a checkpoint
    /// holding only what the head still needs (Prometheus's rule: the newest
    /// segments hold mostly live samples). Commits go on meanwhile: only closed
    /// segments are read, and the WAL lock is taken for moments.
    fn checkpoint_wal(&self, mint: i64) -> Result<bool, DbError> {
        let Some((dir, segment_size, current)) = self.head.wal_position() else {
            return Ok(false);
        };
        let closed: Vec<u32> = wal::uncheckpointed_segments(&*self.opts.fs, &dir)?
            .into_iter()
            .filter(|&s| s < current)
            .collect();
        let (Some(&first), Some(&last)) = (closed.first(), closed.last()) else {
            return Ok(false);
        };
        let upto = first + (last - first) * 2 / 3;
        if upto <= first {
            return Ok(false);
        }
        let head = &self.head;
        let keep = |r| head.has_series(r);
        let started = Instant::now();
        let stats = wal::write_checkpoint(
            &self.opts.fs,
            &dir,
            segment_size,
            current,
            upto,
            &keep,
            mint,
        )?;
        head.truncate_wal_before(upto.saturating_add(1))
            .map_err(DbError::from)?;
        tracing::info!(
            upto,
            kept_series = stats.kept_series,
            dropped_series = stats.dropped_series,
            kept_samples = stats.kept_samples,
            dropped_samples = stats.dropped_samples,
            seconds = started.elapsed().as_secs_f64(),
            "WAL checkpoint written"
        );
        Ok(true)
    }

    /// Merges blocks as [`plan`] says until it has nothing left to do. The merged
    /// block lists its sources as parents: once it is in place, a crash at any
    /// point leaves one view of the data (the open that follows deletes the
    /// parents). A source that cannot be read is marked failed and left alone.
    fn compact(&self, report: &mut MaintenanceReport) -> Result<(), DbError> {
        let retention = (self.opts.retention_ms > 0).then_some(self.opts.retention_ms);
        let ranges = block_ranges(retention);
        loop {
            let ids = plan(&self.blocks.metas(), &ranges);
            if ids.is_empty() {
                return Ok(());
            }
            let sources: Vec<_> = self
                .blocks
                .snapshot()
                .into_iter()
                .filter(|b| ids.contains(&b.meta().ulid))
                .collect();
            let started = Instant::now();
            let meta = match merge_blocks(&self.opts.fs, &self.dir, &sources) {
                Ok(meta) => meta,
                Err(e) => {
                    if let Some(id) = failed_source(&e, &sources) {
                        tracing::error!(block = %id, error = %e, "compaction failed on a source block; it will not be compacted again");
                        self.blocks.mark_failed(id);
                    }
                    return Err(e.into());
                }
            };
            report.compactions += 1;
            report.blocks_compacted += ids.len() as u64;
            let Some(meta) = meta else {
                // Every sample of the sources was deleted.
                self.blocks.delete(&ids)?;
                tracing::info!(
                    sources = ids.len(),
                    "blocks compacted into nothing: every sample was deleted"
                );
                continue;
            };
            self.blocks.add(meta.ulid, &ids)?;
            self.blocks.delete(&ids)?;
            tracing::info!(
                block = %meta.ulid,
                level = meta.compaction.level,
                min_time = meta.min_time,
                max_time = meta.max_time,
                sources = ids.len(),
                seconds = started.elapsed().as_secs_f64(),
                "blocks compacted"
            );
        }
    }

    /// Marks the samples in `[mint, maxt]` of the series matching `matchers`
    /// deleted, in every block (their `tombstones` files) and in the head (a WAL
    /// record). Waits for a maintenance pass in progress, and none starts
    /// meanwhile, so a head cut or a compaction never loses a deletion. Returns
    /// how many blocks changed. A crash part-way leaves the deletion done in some
    /// sources only; deleting again is harmless.
    pub(crate) fn delete_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<u64, DbError> {
        let _running = self.running.lock();
        let mut changed = 0;
        for b in self.blocks.snapshot() {
            if b.delete(matchers, mint, maxt)? {
                changed += 1;
            }
        }
        self.head.delete(matchers, mint, maxt)?;
        Ok(changed)
    }

    /// Writes every block that has tombstones again without the deleted samples
    /// (a block left with no sample is deleted). The new block names the old one
    /// as its parent, so a crash after its rename leaves one view of the data
    /// (see `BlockSet::open`). Returns how many blocks were rewritten.
    pub(crate) fn clean_tombstones(&self) -> Result<u64, DbError> {
        let _running = self.running.lock();
        let mut done = 0;
        for b in self.blocks.snapshot() {
            if b.tombstones().is_empty() {
                continue;
            }
            let id = b.meta().ulid;
            match rewrite_block(&self.opts.fs, &self.dir, &b)? {
                Some(meta) => {
                    self.blocks.add(meta.ulid, &[id])?;
                    self.blocks.delete(&[id])?;
                    tracing::info!(old = %id, new = %meta.ulid, "block rewritten without its deleted samples");
                }
                None => {
                    self.blocks.delete(&[id])?;
                    tracing::info!(block = %id, "block deleted: every sample of it was deleted");
                }
            }
            done += 1;
        }
        Ok(done)
    }

    /// Writes a snapshot of the database into `dest` (which must not exist): hard
    /// links of every file of every block and, with `with_head`, the head's
    /// samples written as blocks (one per aligned block range, without deleted
    /// samples). It is built in `<dest>.tmp` and renamed into place, so `dest`
    /// exists only complete. `dest` must be on the data directory's file system
    /// (hard links). Returns the number of blocks in it.
    pub(crate) fn snapshot(&self, dest: &Path, with_head: bool) -> Result<u64, DbError> {
        let _running = self.running.lock();
        let io = |p: &Path, op: &'static str| {
            let p = p.to_path_buf();
            move |e: std::io::Error| DbError::Io {
                path: p,
                source: std::io::Error::new(e.kind(), format!("{op}: {e}")),
            }
        };
        let fs = &*self.opts.fs;
        if fs.exists(dest) {
            return Err(io(dest, "create snapshot")(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists",
            )));
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!("{name}.tmp"));
        if fs.exists(&tmp) {
            fs.remove_dir_all(&tmp).map_err(io(&tmp, "remove"))?;
        }
        fs.create_dir_all(&tmp).map_err(io(&tmp, "create"))?;
        let mut blocks = 0;
        for b in self.blocks.snapshot() {
            let target = tmp.join(b.meta().ulid.to_string());
            fs.create_dir_all(&target.join(crate::tsdb::block::CHUNKS_DIR))
                .map_err(io(&target, "create"))?;
            for f in b.files()? {
                fs.hard_link(&b.dir().join(&f), &target.join(&f))
                    .map_err(io(&b.dir().join(&f), "hard link"))?;
            }
            blocks += 1;
        }
        if with_head && let Some((lo, hi)) = self.head.time_range() {
            let range = self.opts.chunk_range_ms;
            let mut mint = lo.max(self.head.min_valid());
            while mint <= hi {
                let maxt = mint
                    .div_euclid(range)
                    .saturating_add(1)
                    .saturating_mul(range);
                if let (Some(_), _) = cut_block(&self.opts.fs, &tmp, &*self.head, mint, maxt)? {
                    blocks += 1;
                }
                if maxt == i64::MAX {
                    break;
                }
                mint = maxt;
            }
        }
        fs.sync_dir(&tmp).map_err(io(&tmp, "fsync"))?;
        fs.rename(&tmp, dest).map_err(io(dest, "rename"))?;
        if let Some(parent) = dest.parent() {
            fs.sync_dir(parent).map_err(io(parent, "fsync"))?;
        }
        Ok(blocks)
    }

    /// Deletes the blocks beyond time retention and, with a size limit, the oldest
    /// blocks beyond it (WAL and head chunk files count towards it).
    fn apply_retention(&self, report: &mut MaintenanceReport) -> Result<(), DbError> {
        let loaded = self.blocks.loaded();
        if loaded.is_empty() {
            return Ok(());
        }
        let metas: Vec<_> = loaded.iter().map(|l| l.block.meta().clone()).collect();
        let mut doomed = beyond_time_retention(&metas, self.opts.retention_ms);
        if self.opts.retention_bytes > 0 {
            let sized: Vec<_> = loaded
                .iter()
                .map(|l| (l.block.meta().clone(), l.bytes))
                .collect();
            let fs = &*self.opts.fs;
            let head_bytes =
                dir_size(fs, &self.dir.join("wal")) + dir_size(fs, &self.dir.join("chunks_head"));
            for id in beyond_size_retention(&sized, head_bytes, self.opts.retention_bytes) {
                if !doomed.contains(&id) {
                    doomed.push(id);
                }
            }
        }
        if doomed.is_empty() {
            return Ok(());
        }
        tracing::info!(blocks = ?doomed.iter().map(ToString::to_string).collect::<Vec<_>>(), "deleting blocks beyond retention");
        self.blocks.delete(&doomed)?;
        report.blocks_deleted += doomed.len() as u64;
        Ok(())
    }
}

/// The source block a compaction error is about, if it is about one (and not
/// about writing the new block).
fn failed_source(e: &CompactError, sources: &[Arc<Block>]) -> Option<BlockId> {
    match e {
        CompactError::Source { block, .. } => Some(*block),
        CompactError::Block(b) => sources
            .iter()
            .find(|s| s.dir() == b.dir())
            .map(|s| s.meta().ulid),
        CompactError::Head { .. } | CompactError::Writer { .. } => None,
    }
}
