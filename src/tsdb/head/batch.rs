//! The buffers a batch of appends fills until its commit, and the head's pool
//! of them, which appenders borrow from for one batch at a time.

use crate::tsdb::wal::RefSample;

/// A buffered sample's place in commit order; its `(ref, t, v)` is the entry at
/// the same index of the batch's `samples`.
pub(super) struct Pending {
    pub(super) session: usize,
    /// The commit before this one that logged a sample of the series (set when
    /// this one is logged; modulo 2^32, see `CommitOrder`).
    pub(super) prev: u32,
}

/// Largest batch buffers the pool keeps (a scrape of some 15,000 samples
/// fits); a one-off huge batch does not hold its buffers for good.
const KEEP_BATCH: usize = 1 << 20;

/// Largest series record buffer the pool keeps: series records are written
/// for new series, mostly by an appender's first commits.
const KEEP_SERIES_RECORD: usize = 16 << 10;

/// Batch buffers the head's pool keeps: about as many as batches are built at
/// once (one per core writing), the rest are freed.
const POOLED_BATCHES: usize = 8;

/// What a batch buffers until its commit: the samples as the WAL record will
/// hold them, their places in commit order, and the encoded records.
///
/// An appender borrows them from the head's [`BatchPool`] for one batch and
/// gives them back when it ends. A scraping server keeps one appender per
/// target, and nearly all of them are idle at any moment: each keeping its own
/// buffers held some 70 KB per target (a tenth of the server's memory with
/// 50 targets of 1000 series) for a few milliseconds of use a second.
#[derive(Default)]
pub(crate) struct BatchBuffers {
    pub(super) samples: Vec<RefSample>,
    pub(super) pending: Vec<Pending>,
    pub(super) series_rec: Vec<u8>,
    pub(super) samples_rec: Vec<u8>,
}

impl BatchBuffers {
    /// The heap bytes it holds.
    fn bytes(&self) -> usize {
        self.samples.capacity() * std::mem::size_of::<RefSample>()
            + self.pending.capacity() * std::mem::size_of::<Pending>()
            + self.series_rec.capacity()
            + self.samples_rec.capacity()
    }
}

/// Batch buffers between batches (see [`BatchBuffers`]).
#[derive(Default)]
pub(crate) struct BatchPool(parking_lot::Mutex<Vec<BatchBuffers>>);

impl BatchPool {
    pub(super) fn take(&self) -> BatchBuffers {
        self.0.lock().pop().unwrap_or_default()
    }

    /// Keeps `b`, emptied, unless the pool is full or `b` grew too big.
    pub(super) fn give(&self, mut b: BatchBuffers) {
        if b.bytes() == 0 || b.bytes() > KEEP_BATCH {
            return;
        }
        b.samples.clear();
        b.pending.clear();
        // Series records are rare after an appender's first commits.
        if b.series_rec.capacity() > KEEP_SERIES_RECORD {
            b.series_rec = Vec::new();
        }
        let mut pool = self.0.lock();
        if pool.len() < POOLED_BATCHES {
            pool.push(b);
        }
    }
}
