//! Rebuilding the head on open: chunks from the head chunk file, then the WAL.
//!
//! The head chunk file says, per series, which samples are already encoded in
//! full chunks. WAL replay recreates each series from its series record, attaches
//! those chunks to it, and then applies only the samples newer than them: the bulk
//! of the WAL is decoded and skipped, not encoded again. Series are looked up in a
//! map local to the replay (no shared locks), and samples are applied through the
//! same `GroupWriter` as commits.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::series::{ClosedChunk, GroupWriter, MemSeries};
use super::spill::SpilledChunk;
use super::state::Head;
use super::stripe::U64Map;
use crate::model::Labels;
use crate::tsdb::chunk::XorIter;
use crate::tsdb::series_ref::SeriesRef;
use crate::tsdb::tombstones::Interval;
use crate::tsdb::wal::{self, RefSample, RefSeries};

/// Largest series ref replay accepts. Writers hand refs out from 64 upwards, so
/// a larger one comes from a damaged or foreign file; refusing it keeps ref
/// arithmetic far from overflow.
const MAX_SERIES_REF: SeriesRef = SeriesRef(1 << 62);

/// What replay found.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplayCounts {
    /// Series records read.
    pub(crate) series: u64,
    /// Samples applied from the WAL.
    pub(crate) samples: u64,
    /// WAL samples skipped because the head chunk file already held them.
    pub(crate) samples_in_chunks: u64,
    /// Samples whose series record was missing (dropped).
    pub(crate) unknown_refs: u64,
    /// Samples before the end of the newest block, which holds them (skipped).
    pub(crate) samples_in_blocks: u64,
    /// Chunks taken from the head chunk file.
    pub(crate) chunks_loaded: u64,
    /// Chunks of the head chunk file not used: no series record claimed them, or
    /// they did not decode (their samples are replayed from the WAL instead).
    pub(crate) chunks_dropped: u64,
    /// Chunks of the head chunk file that end before the newest block's end.
    pub(crate) chunks_in_blocks: u64,
}

/// A series during replay, by every ref the WAL used for it.
struct Known {
    series: Arc<MemSeries>,
    /// Newest timestamp held by chunks loaded from the head chunk file: WAL samples
    /// up to it are already there.
    in_chunks_through: Option<i64>,
}

/// One replay of the WAL into a new head.
pub(crate) struct Replay<'h> {
    head: &'h Head,
    /// Chunks of the head chunk file by series ref, until a series record claims them.
    loaded: U64Map<Vec<SpilledChunk>>,
    known: U64Map<Known>,
    series_buf: Vec<RefSeries>,
    samples_buf: Vec<RefSample>,
    chunk_buf: Vec<u8>,
    counts: ReplayCounts,
}

impl<'h> Replay<'h> {
    /// A replay into `head`, whose `min_valid` must already be set (samples and
    /// chunks before it are in blocks), given the chunks of its head chunk files.
    pub(crate) fn new(head: &'h Head, chunks: Vec<SpilledChunk>) -> Replay<'h> {
        let mut loaded: U64Map<Vec<SpilledChunk>> = U64Map::default();
        let mut counts = ReplayCounts::default();
        for c in chunks {
            if c.max_t < head.min_valid() {
                // Went into a block; its file is deleted at the next truncation.
                counts.chunks_in_blocks += 1;
                continue;
            }
            // A ref no writer hands out: a damaged record that passed its CRC.
            if c.series_ref > MAX_SERIES_REF {
                continue;
            }
            // New series must never get the ref of a chunk in the file, even one no
            // series record claims (its record lost with an unsynced WAL tail):
            // on the next open those chunks would be attached to the new series.
            head.reserve_past(c.series_ref);
            loaded.entry(c.series_ref.0).or_default().push(c);
        }
        Replay {
            head,
            loaded,
            known: U64Map::default(),
            series_buf: Vec::new(),
            samples_buf: Vec::new(),
            chunk_buf: Vec::new(),
            counts,
        }
    }

    /// Applies one WAL record.
    pub(crate) fn record(&mut self, rec: &[u8]) -> Result<(), String> {
        match wal::record_type(rec).map_err(|e| e.to_string())? {
            wal::RecordType::Series => {
                let mut decoded = std::mem::take(&mut self.series_buf);
                decoded.clear();
                wal::decode_series(rec, &mut decoded).map_err(|e| e.to_string())?;
                for RefSeries { series_ref, labels } in decoded.drain(..) {
                    if labels.is_empty() {
                        return Err(format!(
                            "series record for ref {} has no labels",
                            series_ref.0
                        ));
                    }
                    self.series_record(series_ref, labels)?;
                }
                self.series_buf = decoded;
            }
            wal::RecordType::Samples => {
                self.samples_buf.clear();
                wal::decode_samples(rec, &mut self.samples_buf).map_err(|e| e.to_string())?;
                self.samples()?;
            }
            wal::RecordType::Tombstones => {
                let mut stones = Vec::new();
                wal::decode_tombstones(rec, &mut stones).map_err(|e| e.to_string())?;
                for st in stones {
                    // A series gone from the head took its deleted samples along.
                    if let Some(known) = self.known.get(&st.series_ref.0) {
                        self.head.restore_tombstone(
                            known.series.series_ref(),
                            Interval::new(st.mint, st.maxt),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn series_record(&mut self, series_ref: SeriesRef, labels: Labels) -> Result<(), String> {
        let head = self.head;
        self.counts.series += 1;
        if series_ref > MAX_SERIES_REF {
            return Err(format!(
                "series ref {} of {labels} is out of range (at most {})",
                series_ref.0, MAX_SERIES_REF.0
            ));
        }
        if self.known.contains_key(&series_ref.0) {
            // Logged again by a second commit: nothing new.
            return Ok(());
        }
        let hash = labels.hash_u64();
        let group = head.group_for(series_ref);
        let series = head.insert_series(hash, &labels, MemSeries::new(series_ref, &labels, group));
        series.set_wal_logged();
        head.reserve_past(series_ref);
        // Chunks are written under the series' own ref; a repeated label set under
        // another ref (possible only in a WAL from elsewhere) is an alias.
        let in_chunks_through = match self.known.get(&series.series_ref().0) {
            Some(canonical) => canonical.in_chunks_through,
            None => self
                .loaded
                .remove(&series.series_ref().0)
                .and_then(|chunks| self.attach(&series, chunks)),
        };
        self.known.insert(
            series_ref.0,
            Known {
                series,
                in_chunks_through,
            },
        );
        Ok(())
    }

    /// Gives `series` the chunks found for it in the head chunk file; returns the
    /// newest timestamp they hold. Chunks that are out of order or whose newest
    /// sample does not decode are dropped, and the WAL replays their samples.
    fn attach(&mut self, series: &MemSeries, chunks: Vec<SpilledChunk>) -> Option<i64> {
        let ordered = chunks.iter().all(|c| c.min_t <= c.max_t)
            && chunks.windows(2).all(|w| w[0].max_t < w[1].min_t);
        let newest = chunks.last().filter(|_| ordered).and_then(|last| {
            self.head.spill.read(last.loc, &mut self.chunk_buf).ok()?;
            let mut it = XorIter::new(self.chunk_buf.as_slice());
            let newest = it.by_ref().last();
            newest.filter(|&(t, _)| it.err().is_none() && t == last.max_t)
        });
        let Some(newest) = newest else {
            self.counts.chunks_dropped += chunks.len() as u64;
            return None;
        };
        let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
            return None;
        };
        self.head.note_time_range(first.min_t, last.max_t);
        self.counts.chunks_loaded += chunks.len() as u64;
        self.head
            .counters
            .chunks
            .fetch_add(chunks.len() as u64, Ordering::Relaxed);
        let closed = chunks
            .iter()
            .map(|c| ClosedChunk {
                min_t: c.min_t,
                max_t: c.max_t,
                loc: c.loc,
            })
            .collect();
        series.data().restore(series, closed, newest);
        Some(newest.0)
    }

    fn samples(&mut self) -> Result<(), String> {
        let head = self.head;
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        let mut writer = GroupWriter::default();
        let min_valid = head.min_valid();
        for &RefSample { series_ref, t, v } in &self.samples_buf {
            // Checked first: the series of such samples may have been removed
            // from the head, and its record from the checkpoint, on truncation.
            if t < min_valid {
                self.counts.samples_in_blocks += 1;
                continue;
            }
            let Some(known) = self.known.get(&series_ref.0) else {
                self.counts.unknown_refs += 1;
                continue;
            };
            if known.in_chunks_through.is_some_and(|through| t <= through) {
                self.counts.samples_in_chunks += 1;
                continue;
            }
            // Replay is WAL order itself: no commit order to wait for.
            let appended = writer
                .append(&known.series, t, v, None, &head.limits, &head.spill)
                .map_err(|e| e.to_string())?;
            if let Some(appended) = appended {
                head.count_appended(appended);
            }
            min_t = min_t.min(t);
            max_t = max_t.max(t);
            self.counts.samples += 1;
        }
        if min_t <= max_t {
            head.note_time_range(min_t, max_t);
        }
        Ok(())
    }

    /// Ends the replay and says what it did.
    pub(crate) fn finish(mut self) -> ReplayCounts {
        self.counts.chunks_dropped += self.loaded.values().map(|c| c.len() as u64).sum::<u64>();
        self.counts
    }
}
