//! One series in the head: its labels, its chunks, and the rules for appending.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering, fence};

use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};

use super::spill::{ChunkSpill, SpillError, SpillLoc};
use super::symbols::{CompactLabels, Symbols};
use crate::model::Labels;
use crate::tsdb::chunk::{Encoding, XorAppender};
use crate::tsdb::series_ref::SeriesRef;

/// A chunk that was cut and moved to the spill file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedChunk {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) loc: SpillLoc,
}

/// The chunk still being appended to.
pub(crate) struct OpenChunk {
    /// The chunk must be cut before a sample at or after this time (the end of the
    /// chunk-range window the chunk started in).
    end: i64,
    pub(crate) app: XorAppender,
}

impl OpenChunk {
    /// Time of the first sample (read from the chunk: a head holds one open
    /// chunk per series, so each field counts).
    pub(crate) fn min_t(&self) -> i64 {
        self.app.first_t().unwrap_or(self.end)
    }

    /// Time of the last sample.
    pub(crate) fn max_t(&self) -> i64 {
        self.app.last_t().unwrap_or(self.end)
    }
}

/// Why a sample cannot be appended to a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Refusal {
    /// Older than the newest sample.
    OutOfOrder { last_t: i64 },
    /// Same timestamp as the newest sample, different value.
    Duplicate { existing: f64 },
}

/// What an accepted sample needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Append it.
    Append,
    /// An exact repeat of the newest sample: accepted and dropped, as Prometheus does.
    Repeat,
}

/// The chunks of one series. It lives in the slot of its [`SeriesGroup`]; its
/// newest sample is kept in the [`MemSeries`] (written under the group lock).
#[derive(Default)]
pub(crate) struct SeriesData {
    /// A boxed slice, not a `Vec`: 8 bytes less a series, for one reallocation
    /// a chunk cut.
    pub(crate) closed: Box<[ClosedChunk]>,
    pub(crate) open: Option<OpenChunk>,
}

/// A series of the head.
///
/// Laid out so that everything a sample touches on the append path (the newest
/// sample, the commit-order stamps, the group, the ref) comes first, in the 48
/// bytes that follow the `Arc`'s counts. Not aligned to a cache line: series are
/// allocated one after another, so the lines of consecutive series are
/// neighbours anyway, and 64-byte alignment rounded every series up to 192 bytes
/// (a tenth of the memory of a scraping server).
#[repr(C)]
pub(crate) struct MemSeries {
    /// The newest stored sample, readable without the group lock so that
    /// `append` can refuse out-of-order and duplicate samples before the commit.
    /// A seqlock: written under the group lock only; `newest_version` is 0 before
    /// the first sample, odd while `newest_t`/`newest_v` are being written.
    newest_version: AtomicU64,
    newest_t: AtomicI64,
    newest_v: AtomicU64,
    /// Commit order. `logged_seq` is the sequence number of the last commit whose
    /// WAL write carried a sample of this series (written under the WAL lock),
    /// `applied_seq` that of the last one applied (written under the group lock).
    /// A commit applies its sample only after the commit before it for this series
    /// has been applied, so the head stores samples in WAL order and a restart
    /// rebuilds exactly what was live, even with two writers on one series.
    ///
    /// Both hold commit numbers modulo 2^32: they are only compared for
    /// equality, and far fewer than 2^32 commits are ever in flight at once
    /// (this keeps a series at 72 bytes, 96 allocated with its `Arc`).
    logged_seq: AtomicU32,
    applied_seq: AtomicU32,
    /// Holds this series' chunks in slot `series_ref % GROUP_SIZE`.
    group: Arc<SeriesGroup>,
    series_ref: SeriesRef,
    /// Whether a WAL series record for this series has been written. The first
    /// commit that carries a sample of the series writes it if not, so a series
    /// record always precedes its samples in the WAL.
    wal_logged: AtomicBool,
    /// Set once head truncation removed the series: appenders holding it must look
    /// it up again by labels.
    removed: AtomicBool,
    /// Its labels, as ids into the symbols of its group.
    labels: CompactLabels,
}

/// Gives back the uses of the label strings (see [`Symbols`]): here and not
/// when the series leaves the head, since appenders and queries holding it
/// still read its labels.
impl Drop for MemSeries {
    fn drop(&mut self) {
        self.group.symbols.release(&self.labels);
    }
}

/// Series per [`SeriesGroup`]: `1 << GROUP_BITS`.
pub(crate) const GROUP_BITS: u32 = 6;
pub(crate) const GROUP_SIZE: u64 = 1 << GROUP_BITS;

/// The chunks of the series with refs `g * GROUP_SIZE .. (g + 1) * GROUP_SIZE`,
/// behind one lock.
///
/// A commit stores one sample in each of many series, and the series of one
/// writer (one target) have consecutive refs: with a lock per group, applying a
/// commit takes one lock per run of up to 64 series instead of one per sample.
/// The lock operations, not the encoding, dominated commit time with a lock per
/// series. At most one group lock is held at a time.
///
/// Slots are allocated up to the highest one used, so a group an appender
/// reserved but filled only in part costs only the series it holds.
pub(crate) struct SeriesGroup {
    slots: Mutex<Vec<SeriesData>>,
    /// The head's symbols, which the labels of the group's series refer to.
    symbols: Arc<Symbols>,
    /// Appenders holding uncommitted samples of series of this group: while it
    /// is not 0, truncation removes none of them (see [`SeriesGroup::pin`]).
    pins: AtomicU32,
}

impl SeriesGroup {
    pub(crate) fn new(symbols: Arc<Symbols>) -> SeriesGroup {
        SeriesGroup {
            slots: Mutex::new(Vec::new()),
            symbols,
            pins: AtomicU32::new(0),
        }
    }

    /// Keeps every series of the group in the head until [`unpin`](Self::unpin):
    /// an appender pins the group before buffering samples of its series, and
    /// then checks each series with [`MemSeries::is_removed`].
    ///
    /// Pinned per group, not per series: a scrape appends runs of series of one
    /// group, so this is one atomic read-modify-write per run instead of one per
    /// sample (on a line that missed the cache, that stalled the append path).
    ///
    /// Pairs with [`MemSeries::try_remove`]: each side writes its own flag and
    /// then reads the other's, all sequentially consistent, so either the
    /// appender sees the series removed, or truncation sees the pin and leaves
    /// the series alone.
    pub(crate) fn pin(&self) {
        self.pins.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn unpin(&self) {
        self.pins.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many series ahead the append path reads what a later sample will write
/// (`MemSeries::warm`, `XorAppender::warm`): far enough that the line arrives in
/// time, near enough that it is still cached when it is used.
pub(crate) const WARM_AHEAD: usize = 8;

/// Slot `i` of a group, created (with any before it) on first use.
fn slot_mut(slots: &mut Vec<SeriesData>, i: usize) -> &mut SeriesData {
    if slots.len() <= i {
        slots.resize_with(i + 1, SeriesData::default);
    }
    &mut slots[i]
}

/// Where a committed sample stands in commit order (see `MemSeries::logged_seq`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommitOrder {
    /// The commit this sample belongs to (modulo 2^32, like the stamps).
    pub(crate) seq: u32,
    /// The commit before it that carried a sample of the same series.
    pub(crate) prev: u32,
}

/// Applies samples to series, keeping the lock of the last group it touched
/// while the next series is in the same group.
#[derive(Default)]
pub(crate) struct GroupWriter<'a> {
    held: Option<(&'a SeriesGroup, MutexGuard<'a, Vec<SeriesData>>)>,
}

impl<'a> GroupWriter<'a> {
    /// Stores a sample (see [`SeriesData::append`]). With `order`, only once the
    /// commit before it for this series has been applied: `Ok(None)` means not
    /// yet, call again later (after [`GroupWriter::release`]).
    pub(crate) fn append(
        &mut self,
        series: &'a MemSeries,
        t: i64,
        v: f64,
        order: Option<CommitOrder>,
        limits: &ChunkLimits,
        spill: &ChunkSpill,
    ) -> Result<Option<Appended>, SpillError> {
        let group = &*series.group;
        let slots = match &mut self.held {
            Some((g, slots)) if std::ptr::eq(*g, group) => slots,
            held => {
                // Release the previous group before taking the next.
                *held = None;
                &mut held.insert((group, group.slots.lock())).1
            }
        };
        if let Some(o) = order
            && series.applied_seq.load(Ordering::Acquire) != o.prev
        {
            return Ok(None);
        }
        let slot = series.slot();
        // A commit stores samples of consecutive slots, each in its own chunk
        // buffer, so each store waited on a cache miss: reading ahead now brings
        // a later buffer in while this one is written.
        if let Some(open) = slots.get(slot + WARM_AHEAD).and_then(|d| d.open.as_ref()) {
            open.app.warm();
        }
        let appended = slot_mut(slots, slot).append(series, t, v, limits, spill)?;
        if let Some(o) = order {
            series.applied_seq.store(o.seq, Ordering::Release);
        }
        Ok(Some(appended))
    }

    /// Lets go of the group lock held, if any.
    pub(crate) fn release(&mut self) {
        self.held = None;
    }
}

/// Start of the next chunk-range window after the one holding `t`.
fn window_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range).saturating_add(1).saturating_mul(range)
}

impl MemSeries {
    /// A series whose chunks live in `group`, which must be the group of
    /// `series_ref` (see [`Head::group_for`](super::Head)).
    pub(crate) fn new(
        series_ref: SeriesRef,
        labels: &Labels,
        group: Arc<SeriesGroup>,
    ) -> MemSeries {
        MemSeries {
            series_ref,
            labels: group.symbols.intern(labels),
            wal_logged: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            newest_version: AtomicU64::new(0),
            newest_t: AtomicI64::new(0),
            newest_v: AtomicU64::new(0),
            logged_seq: AtomicU32::new(0),
            applied_seq: AtomicU32::new(0),
            group,
        }
    }

    fn slot(&self) -> usize {
        (self.series_ref.0 & (GROUP_SIZE - 1)) as usize
    }

    /// Locks the group and gives this series' chunks.
    pub(crate) fn data(&self) -> MappedMutexGuard<'_, SeriesData> {
        let slot = self.slot();
        MutexGuard::map(self.group.slots.lock(), |s| slot_mut(s, slot))
    }

    /// Records that commit `seq` logged a sample of this series; returns the commit
    /// before it that did. Called with the WAL lock held, which orders the calls.
    pub(crate) fn stamp_logged(&self, seq: u32) -> u32 {
        let prev = self.logged_seq.load(Ordering::Relaxed);
        self.logged_seq.store(seq, Ordering::Relaxed);
        prev
    }

    pub(crate) fn series_ref(&self) -> SeriesRef {
        self.series_ref
    }

    /// Its labels (built from the symbols: hot paths keep to refs).
    pub(crate) fn labels(&self) -> Labels {
        self.group.symbols.labels(&self.labels)
    }

    /// Whether these are its labels.
    pub(crate) fn has_labels(&self, labels: &Labels) -> bool {
        self.group.symbols.equal(&self.labels, labels)
    }

    pub(crate) fn wal_logged(&self) -> bool {
        self.wal_logged.load(Ordering::Acquire)
    }

    pub(crate) fn set_wal_logged(&self) {
        self.wal_logged.store(true, Ordering::Release);
    }

    /// The group holding this series' chunks.
    pub(crate) fn group(&self) -> &Arc<SeriesGroup> {
        &self.group
    }

    /// Whether truncation removed the series. An appender that has pinned the
    /// series' group ([`SeriesGroup::pin`]) and then reads false may buffer
    /// samples for it: it stays in the head until the group is unpinned.
    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::SeqCst)
    }

    /// Marks the series removed unless an appender has its group pinned.
    pub(crate) fn try_remove(&self) -> bool {
        self.removed.store(true, Ordering::SeqCst);
        if self.group.pins.load(Ordering::SeqCst) > 0 {
            self.removed.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Bytes of memory held by this series (for the head's memory report).
    pub(crate) fn heap_bytes(&self) -> usize {
        let d = self.data();
        std::mem::size_of::<MemSeries>()
            + std::mem::size_of::<SeriesData>()
            + self.labels.heap_bytes()
            + d.closed.len() * std::mem::size_of::<ClosedChunk>()
            + d.open.as_ref().map_or(0, |o| o.app.heap_bytes())
    }

    /// Reads the fields an append touches (the newest sample, the group, the
    /// removed flag) and nothing else, so that their cache lines are on their
    /// way before the append needs them: an appender calls this for the series
    /// it expects [`WARM_AHEAD`] samples later.
    pub(crate) fn warm(&self) {
        std::hint::black_box(self.newest_version.load(Ordering::Relaxed));
        std::hint::black_box(self.removed.load(Ordering::Relaxed));
    }

    /// The newest stored sample, read by the holder of the group lock: the only
    /// writer, so no retry is needed.
    fn newest_locked(&self) -> Option<(i64, f64)> {
        (self.newest_version.load(Ordering::Relaxed) != 0).then(|| {
            let t = self.newest_t.load(Ordering::Relaxed);
            let v = self.newest_v.load(Ordering::Relaxed);
            (t, f64::from_bits(v))
        })
    }

    /// The newest stored sample, read without the group lock (a seqlock read).
    pub(crate) fn newest(&self) -> Option<(i64, f64)> {
        loop {
            let version = self.newest_version.load(Ordering::Acquire);
            if version == 0 {
                return None;
            }
            if version & 1 == 0 {
                let t = self.newest_t.load(Ordering::Relaxed);
                let v = self.newest_v.load(Ordering::Relaxed);
                fence(Ordering::Acquire);
                if self.newest_version.load(Ordering::Relaxed) == version {
                    return Some((t, f64::from_bits(v)));
                }
            }
            std::hint::spin_loop();
        }
    }
}

impl SeriesData {
    /// Stores a committed sample of `series`, cutting the open chunk when it is
    /// full or the sample falls in the next chunk-range window. A sample that is no
    /// longer newer than the stored ones (another appender committed first) is
    /// dropped.
    pub(crate) fn append(
        &mut self,
        series: &MemSeries,
        t: i64,
        v: f64,
        limits: &ChunkLimits,
        spill: &ChunkSpill,
    ) -> Result<Appended, SpillError> {
        if check(series.newest_locked(), t, v) != Ok(Verdict::Append) {
            return Ok(Appended::Dropped);
        }
        let mut cut = false;
        let needs_cut = match &self.open {
            None => true,
            Some(o) => usize::from(o.app.num_samples()) >= limits.samples_per_chunk || t >= o.end,
        };
        if needs_cut {
            // Written out before the open chunk is let go, so that a failed write
            // leaves the series as it was.
            if let Some(old) = &self.open {
                let (min_t, max_t) = (old.min_t(), old.max_t());
                let loc = spill.write(
                    series.series_ref,
                    min_t,
                    max_t,
                    Encoding::Xor,
                    old.app.bytes(),
                )?;
                let mut closed = std::mem::take(&mut self.closed).into_vec();
                closed.push(ClosedChunk { min_t, max_t, loc });
                self.closed = closed.into_boxed_slice();
            }
            // A fresh buffer, not the old one: reused, every open chunk would
            // hold the capacity of a full chunk for its whole life.
            let app = XorAppender::new();
            self.open = Some(OpenChunk {
                end: window_end(t, limits.chunk_range),
                app,
            });
            cut = true;
        }
        if let Some(o) = self.open.as_mut() {
            o.app.append(t, v);
        }
        self.set_last(series, t, v);
        Ok(if cut {
            Appended::NewChunk
        } else {
            Appended::Stored
        })
    }

    /// Whether the series holds no chunk (truncation removes such series).
    pub(crate) fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_none()
    }

    /// Drops the chunks whose samples all come before `t`; returns how many.
    pub(crate) fn drop_chunks_before(&mut self, t: i64) -> usize {
        let before = self.closed.len();
        if self.closed.iter().any(|c| c.max_t < t) {
            let mut closed = std::mem::take(&mut self.closed).into_vec();
            closed.retain(|c| c.max_t >= t);
            self.closed = closed.into_boxed_slice();
        }
        let mut dropped = before - self.closed.len();
        if self.open.as_ref().is_some_and(|o| o.max_t() < t) {
            self.open = None;
            dropped += 1;
        }
        dropped
    }

    /// Sets the chunks a series had before the database was reopened; `newest` is
    /// the last sample of the last of them.
    pub(crate) fn restore(
        &mut self,
        series: &MemSeries,
        closed: Vec<ClosedChunk>,
        newest: (i64, f64),
    ) {
        self.closed = closed.into_boxed_slice();
        self.set_last(series, newest.0, newest.1);
    }

    /// Sets the newest sample (group lock held: the only writer).
    fn set_last(&mut self, series: &MemSeries, t: i64, v: f64) {
        let version = series.newest_version.load(Ordering::Relaxed);
        series.newest_version.store(version + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        series.newest_t.store(t, Ordering::Relaxed);
        series.newest_v.store(v.to_bits(), Ordering::Relaxed);
        series.newest_version.store(version + 2, Ordering::Release);
    }
}

/// Outcome of [`SeriesData::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    Stored,
    /// Stored, and a new chunk was started for it.
    NewChunk,
    /// Not stored: out of order or a repeat by the time it was committed.
    Dropped,
}

/// When chunks are cut.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkLimits {
    pub(crate) samples_per_chunk: usize,
    /// Chunks never span a boundary of this window (2h, like blocks).
    pub(crate) chunk_range: i64,
}

/// Whether a sample may follow `newest`, the newest sample it must come after.
pub(crate) fn check(newest: Option<(i64, f64)>, t: i64, v: f64) -> Result<Verdict, Refusal> {
    let Some((last_t, last_v)) = newest else {
        return Ok(Verdict::Append);
    };
    if t > last_t {
        Ok(Verdict::Append)
    } else if t < last_t {
        Err(Refusal::OutOfOrder { last_t })
    } else if v.to_bits() == last_v.to_bits() {
        Ok(Verdict::Repeat)
    } else {
        Err(Refusal::Duplicate { existing: last_v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_end_is_aligned_for_negative_times() {
        assert_eq!(window_end(0, 7_200_000), 7_200_000);
        assert_eq!(window_end(7_199_999, 7_200_000), 7_200_000);
        assert_eq!(window_end(7_200_000, 7_200_000), 14_400_000);
        assert_eq!(window_end(-1, 7_200_000), 0);
        assert_eq!(window_end(i64::MAX, 7_200_000), i64::MAX);
    }

    #[test]
    fn check_distinguishes_out_of_order_duplicate_and_repeat() {
        let last = Some((10, 1.0));
        assert_eq!(check(last, 11, 5.0), Ok(Verdict::Append));
        assert_eq!(check(last, 9, 5.0), Err(Refusal::OutOfOrder { last_t: 10 }));
        assert_eq!(
            check(last, 10, 5.0),
            Err(Refusal::Duplicate { existing: 1.0 })
        );
        assert_eq!(check(last, 10, 1.0), Ok(Verdict::Repeat));
        // Repeats compare bits, so a repeated NaN is a repeat and not a duplicate.
        assert_eq!(
            check(Some((10, f64::NAN)), 10, f64::NAN),
            Ok(Verdict::Repeat)
        );
        assert_eq!(check(None, i64::MIN, 0.0), Ok(Verdict::Append));
        assert_eq!(
            check(Some((i64::MIN, 0.0)), i64::MIN, 1.0),
            Err(Refusal::Duplicate { existing: 0.0 })
        );
    }
}
