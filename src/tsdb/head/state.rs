//! [`Head`]: the head's state (series map, groups, postings, spill file,
//! counters, the WAL slot, tombstones) and what reads it. Appending
//! (`appender`), replay (`replay`) and truncation (`truncate`) work on it from
//! the modules above.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::batch::BatchPool;
use super::postings::MemPostings;
use super::series::{self, ChunkLimits, GROUP_BITS, GROUP_SIZE, MemSeries, SeriesGroup};
use super::spill::{ChunkSpill, SpillError, SpillLoc};
use super::stripe::{StripeSeries, U64Map};
use super::symbols;
use crate::model::{Labels, Matcher};
use crate::tsdb::series_ref::SeriesRef;
use crate::tsdb::tombstones::{Interval, Tombstones};
use crate::tsdb::wal::{self, RefTombstone, Wal, WalError};

/// Where a chunk of a selected series is.
#[derive(Debug, Clone)]
pub(crate) enum ChunkSource {
    /// A full chunk in the spill file.
    Spilled(SpillLoc),
    /// A copy of the open chunk taken at selection time.
    Open(Arc<[u8]>),
}

/// A series [`Head::select`] found; [`Head::chunks`] lists its chunks when the
/// reader reaches it.
pub(crate) struct HeadSeries {
    pub(crate) labels: Labels,
    pub(super) series: Arc<MemSeries>,
}

impl HeadSeries {
    pub(crate) fn series_ref(&self) -> SeriesRef {
        self.series.series_ref()
    }
}

/// Counters of the head (monotonic unless noted).
#[derive(Default)]
pub(super) struct Counters {
    pub(super) series: AtomicU64,
    pub(super) chunks: AtomicU64,
    pub(super) samples_appended: AtomicU64,
    /// Samples dropped at commit because a concurrent commit stored a newer one first.
    pub(super) samples_dropped: AtomicU64,
    pub(super) min_t: AtomicI64,
    pub(super) max_t: AtomicI64,
}

/// Refs an appender reserved for the series it creates: a whole group, so that
/// the series of one writer share groups with each other and not with the series
/// of writers running at the same time (whose group locks they would contend for).
/// Refs left unused when the appender goes are skipped.
#[derive(Debug, Default)]
pub(crate) struct RefBlock {
    pub(super) next: u64,
    pub(super) end: u64,
}

pub(crate) struct Head {
    pub(super) series: StripeSeries,
    /// Group index (`ref >> GROUP_BITS`) → the group holding those series' chunks.
    pub(super) groups: Mutex<U64Map<Arc<SeriesGroup>>>,
    pub(super) postings: MemPostings,
    pub(super) spill: ChunkSpill,
    pub(super) limits: ChunkLimits,
    /// Start of the next unassigned block of refs; always a multiple of the
    /// group size.
    pub(super) next_ref: AtomicU64,
    pub(super) counters: Counters,
    /// Samples before this time are refused: it is the end of the newest block
    /// (see [`Head::appendable_min`]).
    pub(super) min_valid: AtomicI64,
    /// The WAL and the commit counter; commits hold this lock while writing.
    pub(super) wal: Mutex<WalSlot>,
    /// Set when the head could not apply committed samples (the spill file failed):
    /// the head refuses further commits rather than diverge from the WAL.
    pub(super) poisoned: Mutex<Option<String>>,
    /// Deleted time ranges by series ref (see [`Head::delete`]).
    pub(super) tombstones: Mutex<Tombstones>,
    /// Buffers of the batches appenders build (see [`BatchPool`]).
    pub(super) batch_pool: BatchPool,
    /// The strings of the series' labels.
    pub(super) symbols: Arc<symbols::Symbols>,
}

/// Why a deletion in the head
/// ([`Db::delete_series`](crate::tsdb::Db::delete_series)) was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("the database is closed")]
    Closed,
    #[error("the head refuses writes: {0}")]
    Poisoned(String),
    #[error(transparent)]
    Wal(#[from] WalError),
}

/// The WAL as commits use it.
#[derive(Default)]
pub(crate) struct WalSlot {
    /// `None` before replay ends and once closed.
    pub(super) wal: Option<Wal>,
    /// Commits logged so far: the sequence number of the last one.
    pub(super) commits: u64,
}

/// Head figures for [`crate::tsdb::DbStats`].
pub(crate) struct HeadStats {
    pub(crate) series: u64,
    pub(crate) chunks: u64,
    pub(crate) samples_appended: u64,
    pub(crate) samples_dropped: u64,
    pub(crate) memory_bytes: u64,
    pub(crate) min_t: Option<i64>,
    pub(crate) max_t: Option<i64>,
}

impl Head {
    pub(crate) fn new(limits: ChunkLimits, spill: ChunkSpill) -> Head {
        let counters = Counters {
            min_t: AtomicI64::new(i64::MAX),
            max_t: AtomicI64::new(i64::MIN),
            ..Counters::default()
        };
        Head {
            series: StripeSeries::new(),
            groups: Mutex::new(U64Map::default()),
            postings: MemPostings::default(),
            spill,
            limits,
            next_ref: AtomicU64::new(GROUP_SIZE),
            counters,
            min_valid: AtomicI64::new(i64::MIN),
            wal: Mutex::new(WalSlot::default()),
            poisoned: Mutex::new(None),
            tombstones: Mutex::new(Tombstones::new()),
            batch_pool: BatchPool::default(),
            symbols: Arc::default(),
        }
    }

    /// Marks the samples in `[mint, maxt]` of the series matching `matchers`
    /// deleted. Each series' interval is clamped to the samples it holds, so
    /// samples appended later are never affected. The deletion is logged in the
    /// WAL (a tombstones record) before it takes effect. Returns the number of
    /// series it touched.
    pub(crate) fn delete(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<u64, DeleteError> {
        let mut stones: Vec<RefTombstone> = Vec::new();
        for r in self.postings.select(matchers) {
            let Some(s) = self.series.get_by_ref(r) else {
                continue;
            };
            let d = s.data();
            let first = d
                .closed
                .first()
                .map(|c| c.min_t)
                .or(d.open.as_ref().map(|o| o.min_t()));
            let last = d
                .open
                .as_ref()
                .map(|o| o.max_t())
                .or(d.closed.last().map(|c| c.max_t));
            drop(d);
            let (Some(first), Some(last)) = (first, last) else {
                continue;
            };
            let (lo, hi) = (mint.max(first), maxt.min(last));
            if lo <= hi {
                stones.push(RefTombstone {
                    series_ref: r,
                    mint: lo,
                    maxt: hi,
                });
            }
        }
        if stones.is_empty() {
            return Ok(0);
        }
        if let Some(why) = self.poisoned.lock().as_ref() {
            return Err(DeleteError::Poisoned(why.clone()));
        }
        let mut rec = Vec::new();
        wal::encode_tombstones(&stones, &mut rec);
        let mut slot = self.wal.lock();
        let w = slot.wal.as_mut().ok_or(DeleteError::Closed)?;
        w.log(&[&rec])?;
        // Under the WAL lock: deletions take effect in WAL order.
        let mut t = self.tombstones.lock();
        for st in &stones {
            t.add(st.series_ref.0, Interval::new(st.mint, st.maxt));
        }
        Ok(stones.len() as u64)
    }

    /// Records a deletion read back from the WAL.
    pub(crate) fn restore_tombstone(&self, r: SeriesRef, iv: Interval) {
        self.tombstones.lock().add(r.0, iv);
    }

    /// The deleted intervals of series `r` (empty if none).
    pub(crate) fn deleted(&self, r: SeriesRef) -> Vec<Interval> {
        self.tombstones.lock().get(r.0).to_vec()
    }

    /// Whether any sample of the head is marked deleted.
    pub(crate) fn has_tombstones(&self) -> bool {
        !self.tombstones.lock().is_empty()
    }

    pub(crate) fn attach_wal(&self, wal: Wal) {
        self.wal.lock().wal = Some(wal);
    }

    /// The WAL's directory, segment size and current segment (`None` once closed).
    pub(crate) fn wal_position(&self) -> Option<(std::path::PathBuf, usize, u32)> {
        let slot = self.wal.lock();
        let wal = slot.wal.as_ref()?;
        Some((
            wal.dir().to_path_buf(),
            wal.options().segment_size,
            wal.current_segment(),
        ))
    }

    /// Deletes the WAL segments below `segment` (a checkpoint holds what is needed
    /// of them).
    pub(crate) fn truncate_wal_before(&self, segment: u32) -> Result<(), WalError> {
        match self.wal.lock().wal.as_mut() {
            Some(wal) => wal.truncate_before(segment),
            None => Ok(()),
        }
    }

    /// Whether series `r` is in the head.
    pub(crate) fn has_series(&self, r: SeriesRef) -> bool {
        self.series.get_by_ref(r).is_some()
    }

    pub(crate) fn take_wal(&self) -> Option<Wal> {
        self.wal.lock().wal.take()
    }

    /// The series with these labels, created if new. `labels` must not be empty.
    pub(super) fn get_or_create(&self, labels: &Labels, block: &mut RefBlock) -> Arc<MemSeries> {
        let hash = labels.hash_u64();
        if let Some(s) = self.series.get_by_labels(hash, labels) {
            return s;
        }
        if block.next == block.end {
            // Cannot wrap: replay keeps refs below MAX_SERIES_REF, and it would take
            // 2^62 series creations from there.
            block.next = self.next_ref.fetch_add(GROUP_SIZE, Ordering::Relaxed);
            block.end = block.next.saturating_add(GROUP_SIZE);
        }
        let r = SeriesRef(block.next);
        block.next += 1;
        let group = self.group_for(r);
        self.insert_series(hash, labels, MemSeries::new(r, labels, group))
    }

    /// Makes sure refs handed out from now on are above `r`, in a group of their
    /// own.
    pub(super) fn reserve_past(&self, r: SeriesRef) {
        let next_block = (r.0 | (GROUP_SIZE - 1)).saturating_add(1);
        self.next_ref.fetch_max(next_block, Ordering::Relaxed);
    }

    /// The group that holds the chunks of series `r`, created if new.
    pub(super) fn group_for(&self, r: SeriesRef) -> Arc<SeriesGroup> {
        Arc::clone(
            self.groups
                .lock()
                .entry(r.0 >> GROUP_BITS)
                .or_insert_with(|| Arc::new(SeriesGroup::new(Arc::clone(&self.symbols)))),
        )
    }

    /// Adds `series`, whose labels are `labels`, unless a series with these
    /// labels exists; returns the one in the head.
    pub(super) fn insert_series(
        &self,
        hash: u64,
        labels: &Labels,
        series: MemSeries,
    ) -> Arc<MemSeries> {
        let (s, created) = self.series.get_or_insert(hash, labels, series);
        if created {
            self.postings.add(s.series_ref(), labels);
            self.counters.series.fetch_add(1, Ordering::Relaxed);
        }
        s
    }

    pub(super) fn note_time_range(&self, min_t: i64, max_t: i64) {
        self.counters.min_t.fetch_min(min_t, Ordering::Relaxed);
        self.counters.max_t.fetch_max(max_t, Ordering::Relaxed);
    }

    pub(super) fn count_appended(&self, a: series::Appended) {
        match a {
            series::Appended::Stored => {}
            series::Appended::NewChunk => {
                self.counters.chunks.fetch_add(1, Ordering::Relaxed);
            }
            series::Appended::Dropped => {
                self.counters
                    .samples_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Series matching `matchers` that have a chunk overlapping `[mint, maxt]`,
    /// sorted by labels. Their chunks are not listed yet: [`Head::chunks`] does,
    /// series by series, so that a reader of every series (a head cut) holds one
    /// series' chunk list at a time.
    pub(crate) fn select(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<HeadSeries> {
        let overlaps = |min_t: i64, max_t: i64| min_t <= maxt && max_t >= mint;
        let mut out = Vec::new();
        for r in self.postings.select(matchers) {
            let Some(s) = self.series.get_by_ref(r) else {
                continue;
            };
            let d = s.data();
            let any = d.closed.iter().any(|c| overlaps(c.min_t, c.max_t))
                || d.open
                    .as_ref()
                    .is_some_and(|o| overlaps(o.min_t(), o.max_t()));
            drop(d);
            if any {
                out.push(HeadSeries {
                    labels: s.labels(),
                    series: s,
                });
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    /// Calls `f` with each chunk of `s` overlapping `[mint, maxt]`, oldest first,
    /// as it is now: time range (both ends included) and where its bytes are (the
    /// open chunk is copied).
    pub(crate) fn chunks(
        &self,
        s: &HeadSeries,
        mint: i64,
        maxt: i64,
        mut f: impl FnMut(i64, i64, ChunkSource),
    ) {
        let d = s.series.data();
        for c in d.closed.iter() {
            if c.min_t <= maxt && c.max_t >= mint {
                f(c.min_t, c.max_t, ChunkSource::Spilled(c.loc));
            }
        }
        if let Some(o) = &d.open {
            let (min_t, max_t) = (o.min_t(), o.max_t());
            if min_t <= maxt && max_t >= mint {
                f(min_t, max_t, ChunkSource::Open(Arc::from(o.app.bytes())));
            }
        }
    }

    /// Labels of the series matching `matchers` (all series for none).
    pub(crate) fn matching_labels(&self, matchers: &[Matcher]) -> Vec<Labels> {
        self.postings
            .select(matchers)
            .into_iter()
            .filter_map(|r| self.series.get_by_ref(r).map(|s| s.labels()))
            .collect()
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.label_names()
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.postings.label_values(name)
    }

    /// Reads a spilled chunk into `out`; returns its encoding.
    pub(crate) fn read_chunk(
        &self,
        loc: SpillLoc,
        out: &mut Vec<u8>,
    ) -> Result<crate::tsdb::chunk::Encoding, SpillError> {
        self.spill.read(loc, out)
    }

    /// Writes out buffered spill data.
    pub(crate) fn flush(&self) -> Result<(), SpillError> {
        self.spill.flush()
    }

    /// Oldest and newest sample timestamps in the head.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let c = &self.counters;
        let (min_t, max_t) = (
            c.min_t.load(Ordering::Relaxed),
            c.max_t.load(Ordering::Relaxed),
        );
        (min_t <= max_t).then_some((min_t, max_t))
    }

    pub(crate) fn stats(&self) -> HeadStats {
        let mut memory = self.postings.heap_bytes() + self.symbols.heap_bytes();
        // Collected first: a stripe lock is never held while a group lock is taken.
        let mut all = Vec::new();
        self.series.for_each(|s| all.push(Arc::clone(s)));
        for s in &all {
            memory += s.heap_bytes();
        }
        let c = &self.counters;
        let range = self.time_range();
        HeadStats {
            series: c.series.load(Ordering::Relaxed),
            chunks: c.chunks.load(Ordering::Relaxed),
            samples_appended: c.samples_appended.load(Ordering::Relaxed),
            samples_dropped: c.samples_dropped.load(Ordering::Relaxed),
            memory_bytes: memory as u64,
            min_t: range.map(|r| r.0),
            max_t: range.map(|r| r.1),
        }
    }
}
