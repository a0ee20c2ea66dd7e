//! Where samples go: per series its windows and partial chunks, a block builder per window.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::model::Labels;
use crate::tsdb::block::{BlockBuilder, BlockError, BlockMeta, BuilderSeries};
use crate::tsdb::chunk;

use super::report::ImportObserver;

/// Growth step of a partial chunk's sample buffer, in samples: keeps the unused
/// room of every series' buffer small without reallocating per sample.
const PARTIAL_STEP: usize = 16;

/// Why a sample was not stored.
pub(super) enum SampleError {
    /// Its line is bad (the reason).
    Bad(String),
    /// Writing a block failed: the import stops.
    Block(BlockError),
}

impl From<BlockError> for SampleError {
    fn from(e: BlockError) -> SampleError {
        SampleError::Block(e)
    }
}

/// A series being imported.
struct SeriesState {
    labels: Labels,
    /// The windows the series has samples in, by start time.
    windows: Vec<SeriesWindow>,
}

/// A series' samples in one window.
struct SeriesWindow {
    start: i64,
    /// The series in the window's builder, once its first chunk is written.
    handle: Option<BuilderSeries>,
    /// The samples not yet written (fewer than a chunk).
    partial: Vec<(i64, f64)>,
    /// The last sample stored: timestamp and value bits.
    last: Option<(i64, u64)>,
}

/// Where samples go: series state, and a block builder per window.
pub(super) struct Sink {
    data_dir: PathBuf,
    duration: i64,
    series: Vec<SeriesState>,
    ids: HashMap<Labels, u32>,
    builders: BTreeMap<i64, BlockBuilder>,
    chunk_buf: Vec<u8>,
    samples: u64,
    duplicates: u64,
}

impl Sink {
    pub(super) fn new(data_dir: &Path, duration: i64) -> Sink {
        Sink {
            data_dir: data_dir.to_owned(),
            duration,
            series: Vec::new(),
            ids: HashMap::new(),
            builders: BTreeMap::new(),
            chunk_buf: Vec::new(),
            samples: 0,
            duplicates: 0,
        }
    }

    pub(super) fn lookup(&mut self, labels: Labels) -> u32 {
        if let Some(&id) = self.ids.get(&labels) {
            return id;
        }
        // Fewer than 2^32 series: each needs far more than 1 byte of memory.
        let id = self.series.len() as u32;
        self.ids.insert(labels.clone(), id);
        self.series.push(SeriesState {
            labels,
            windows: Vec::new(),
        });
        id
    }

    /// The file moved on to another series: give back the room its partial
    /// chunks do not use, since it may not come back.
    pub(super) fn leave(&mut self, id: u32) {
        if let Some(s) = self.series.get_mut(id as usize) {
            for w in &mut s.windows {
                if w.partial.capacity() - w.partial.len() > PARTIAL_STEP {
                    w.partial.shrink_to(w.partial.len());
                }
            }
        }
    }

    pub(super) fn append(&mut self, id: u32, t: i64, v: f64) -> Result<(), SampleError> {
        let start = t.div_euclid(self.duration) * self.duration;
        if start.checked_add(self.duration).is_none() {
            return Err(SampleError::Bad(format!(
                "timestamp {t} is too large for a block"
            )));
        }
        let Some(series) = self.series.get_mut(id as usize) else {
            return Err(SampleError::Bad(format!("no series {id}")));
        };
        // Usually the last window; else search (windows are kept sorted).
        let idx = match series.windows.last() {
            Some(w) if w.start == start => series.windows.len() - 1,
            _ => match series.windows.binary_search_by_key(&start, |w| w.start) {
                Ok(i) => i,
                Err(i) => {
                    series.windows.insert(
                        i,
                        SeriesWindow {
                            start,
                            handle: None,
                            partial: Vec::new(),
                            last: None,
                        },
                    );
                    if i + 1 == series.windows.len() {
                        // The series moved on in time: write out its partial
                        // chunks of earlier windows now, so that a long file holds
                        // at most one partial chunk per series, not one per window.
                        // (A later sample for such a window starts a new chunk.)
                        for earlier in 0..i {
                            self.flush(id, earlier).map_err(SampleError::Block)?;
                        }
                    }
                    i
                }
            },
        };
        let Some(series) = self.series.get_mut(id as usize) else {
            return Err(SampleError::Bad(format!("no series {id}")));
        };
        let w = &mut series.windows[idx];
        let bits = v.to_bits();
        if let Some((last_t, last_bits)) = w.last
            && t <= last_t
        {
            if t == last_t && bits == last_bits {
                self.duplicates += 1;
                return Ok(());
            }
            return Err(SampleError::Bad(if t == last_t {
                format!(
                    "duplicate sample for timestamp {t} of series {} with a different value",
                    series.labels
                )
            } else {
                format!(
                    "out of order sample: timestamp {t} of series {} is before its last one, {last_t}",
                    series.labels
                )
            }));
        }
        if w.partial.len() == w.partial.capacity() {
            w.partial.reserve_exact(PARTIAL_STEP);
        }
        w.partial.push((t, v));
        w.last = Some((t, bits));
        self.samples += 1;
        if w.partial.len() >= chunk::BLOCK_CHUNK_SAMPLES {
            self.flush(id, idx)?;
        }
        Ok(())
    }

    /// Encodes and writes the partial chunk of series `id` in its window `idx`.
    fn flush(&mut self, id: u32, idx: usize) -> Result<(), BlockError> {
        let series = &mut self.series[id as usize];
        let w = &mut series.windows[idx];
        let (Some(&(min_t, _)), Some(&(max_t, _))) = (w.partial.first(), w.partial.last()) else {
            return Ok(());
        };
        let builder = match self.builders.entry(w.start) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(BlockBuilder::new(
                &crate::tsdb::fs::real(),
                &self.data_dir,
                w.start,
                w.start + self.duration,
            )?),
        };
        let handle = match w.handle {
            Some(h) => h,
            None => *w
                .handle
                .insert(builder.start_series(series.labels.clone())?),
        };
        let encoding = chunk::encode(&w.partial, &mut self.chunk_buf);
        builder.add_chunk(handle, min_t, max_t, encoding.into(), &self.chunk_buf)?;
        w.partial.clear();
        Ok(())
    }

    /// Writes every partial chunk, then finishes the blocks in time order.
    pub(super) fn finish(
        mut self,
        observer: &mut dyn ImportObserver,
    ) -> Result<(Vec<BlockMeta>, u64, u64), BlockError> {
        for id in 0..self.series.len() {
            for idx in 0..self.series[id].windows.len() {
                // Fewer than 2^32 series (see `lookup`).
                self.flush(id as u32, idx)?;
            }
            // The series' state is no longer needed: free it as we go.
            self.series[id].windows = Vec::new();
        }
        drop(std::mem::take(&mut self.series));
        drop(std::mem::take(&mut self.ids));
        let mut blocks = Vec::with_capacity(self.builders.len());
        while let Some((_, builder)) = self.builders.pop_first() {
            let meta = builder.finish()?;
            observer.block_written(&meta);
            blocks.push(meta);
        }
        Ok((blocks, self.samples, self.duplicates))
    }
}
