//! One series in the head: its labels, its chunks, and the rules for appending.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use std::sync::Arc;

use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};

use super::spill::{ChunkSpill, SpillError, SpillLoc};
use crate::model::Labels;
use crate::tsdb::SeriesRef;
use crate::tsdb::chunk::{Encoding, XorAppender};

/// A chunk that was cut and moved to the spill file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedChunk {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) loc: SpillLoc,
}

/// The chunk still being appended to.
pub(crate) struct OpenChunk {
    pub(crate) min_t: i64,
    /// The chunk must be cut before a sample at or after this time (the end of the
    /// chunk-range window the chunk started in).
    end: i64,
    pub(crate) app: XorAppender,
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

/// The chunks of one series. It lives in the slot of its [`SeriesGroup`].
#[derive(Default)]
pub(crate) struct SeriesData {
    pub(crate) closed: Vec<ClosedChunk>,
    pub(crate) open: Option<OpenChunk>,
    /// Newest stored sample (the authority; `MemSeries::newest` mirrors it).
    last: Option<(i64, f64)>,
}

/// A series of the head.
pub(crate) struct MemSeries {
    series_ref: SeriesRef,
    labels: Labels,
    /// Whether a WAL series record for this series has been written. The first
    /// commit that carries a sample of the series writes it if not, so a series
    /// record always precedes its samples in the WAL.
    wal_logged: AtomicBool,
    /// Lock-free mirror of the newest stored sample, so that `append` can refuse
    /// out-of-order and duplicate samples without taking the group lock.
    /// Written under that lock; `has_newest` is set last.
    has_newest: AtomicBool,
    newest_t: AtomicI64,
    newest_v: AtomicU64,
    /// Holds this series' chunks in slot `series_ref % GROUP_SIZE`.
    group: Arc<SeriesGroup>,
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
/// series. Queries lock one group at a time, as writers do, so there is no lock
/// order to get wrong.
pub(crate) struct SeriesGroup {
    slots: Mutex<Vec<SeriesData>>,
}

impl SeriesGroup {
    pub(crate) fn new() -> SeriesGroup {
        SeriesGroup {
            slots: Mutex::new((0..GROUP_SIZE).map(|_| SeriesData::default()).collect()),
        }
    }
}

/// Applies samples to series, keeping the lock of the last group it touched
/// while the next series is in the same group.
#[derive(Default)]
pub(crate) struct GroupWriter<'a> {
    held: Option<(&'a SeriesGroup, MutexGuard<'a, Vec<SeriesData>>)>,
}

impl<'a> GroupWriter<'a> {
    /// Stores a committed sample (see [`SeriesData::append`]).
    pub(crate) fn append(
        &mut self,
        series: &'a MemSeries,
        t: i64,
        v: f64,
        limits: &ChunkLimits,
        spill: &ChunkSpill,
    ) -> Result<Appended, SpillError> {
        let group = &*series.group;
        let slots = match &mut self.held {
            Some((g, slots)) if std::ptr::eq(*g, group) => slots,
            held => {
                // Release the previous group before taking the next.
                *held = None;
                &mut held.insert((group, group.slots.lock())).1
            }
        };
        slots[series.slot()].append(series, t, v, limits, spill)
    }
}

/// Start of the next chunk-range window after the one holding `t`.
fn window_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range).saturating_add(1).saturating_mul(range)
}

impl MemSeries {
    /// A series whose chunks live in `group`, which must be the group of
    /// `series_ref` (see [`Head::group_for`](super::Head)).
    pub(crate) fn new(series_ref: SeriesRef, labels: Labels, group: Arc<SeriesGroup>) -> MemSeries {
        MemSeries {
            series_ref,
            labels,
            wal_logged: AtomicBool::new(false),
            has_newest: AtomicBool::new(false),
            newest_t: AtomicI64::new(0),
            newest_v: AtomicU64::new(0),
            group,
        }
    }

    fn slot(&self) -> usize {
        (self.series_ref.0 & (GROUP_SIZE - 1)) as usize
    }

    /// Locks the group and gives this series' chunks.
    pub(crate) fn data(&self) -> MappedMutexGuard<'_, SeriesData> {
        let slot = self.slot();
        MutexGuard::map(self.group.slots.lock(), |s| &mut s[slot])
    }

    pub(crate) fn series_ref(&self) -> SeriesRef {
        self.series_ref
    }

    pub(crate) fn labels(&self) -> &Labels {
        &self.labels
    }

    pub(crate) fn wal_logged(&self) -> bool {
        self.wal_logged.load(Ordering::Acquire)
    }

    pub(crate) fn set_wal_logged(&self) {
        self.wal_logged.store(true, Ordering::Release);
    }

    /// Bytes of memory held by this series (for the head's memory report).
    pub(crate) fn heap_bytes(&self) -> usize {
        let d = self.data();
        std::mem::size_of::<MemSeries>()
            + self.labels.heap_bytes()
            + d.closed.capacity() * std::mem::size_of::<ClosedChunk>()
            + d.open.as_ref().map_or(0, |o| o.app.heap_bytes())
    }

    /// The newest stored sample, read without the lock. A commit racing with the
    /// read may be half visible; `append` re-checks under the lock.
    pub(crate) fn newest(&self) -> Option<(i64, f64)> {
        if !self.has_newest.load(Ordering::Acquire) {
            return None;
        }
        Some((
            self.newest_t.load(Ordering::Acquire),
            f64::from_bits(self.newest_v.load(Ordering::Acquire)),
        ))
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
        if check(self.last, t, v) != Ok(Verdict::Append) {
            return Ok(Appended::Dropped);
        }
        let mut cut = false;
        let needs_cut = match &self.open {
            None => true,
            Some(o) => usize::from(o.app.num_samples()) >= limits.samples_per_chunk || t >= o.end,
        };
        if needs_cut {
            let app = match self.open.take() {
                Some(old) => {
                    XorAppender::with_buffer(self.close_chunk(series.series_ref, old, spill)?)
                }
                None => XorAppender::new(),
            };
            self.open = Some(OpenChunk {
                min_t: t,
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

    /// Sets the chunks a series had before the database was reopened; `newest` is
    /// the last sample of the last of them.
    pub(crate) fn restore(
        &mut self,
        series: &MemSeries,
        closed: Vec<ClosedChunk>,
        newest: (i64, f64),
    ) {
        self.closed = closed;
        self.set_last(series, newest.0, newest.1);
    }

    fn set_last(&mut self, series: &MemSeries, t: i64, v: f64) {
        self.last = Some((t, v));
        series.newest_t.store(t, Ordering::Release);
        series.newest_v.store(v.to_bits(), Ordering::Release);
        series.has_newest.store(true, Ordering::Release);
    }

    /// Moves a full chunk of `series_ref` to the head chunk file; returns its
    /// buffer for reuse.
    fn close_chunk(
        &mut self,
        series_ref: SeriesRef,
        old: OpenChunk,
        spill: &ChunkSpill,
    ) -> Result<Vec<u8>, SpillError> {
        let max_t = old.app.last_t().unwrap_or(old.min_t);
        let loc = spill.write(series_ref, old.min_t, max_t, Encoding::Xor, old.app.bytes())?;
        self.closed.push(ClosedChunk {
            min_t: old.min_t,
            max_t,
            loc,
        });
        Ok(old.app.into_bytes())
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
