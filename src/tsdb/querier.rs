//! The read path: series selected by matchers, with lazy sample iterators, over
//! the head and the blocks as one.
//!
//! A [`Querier`] covers a closed time range `[mint, maxt]` (milliseconds, both
//! ends included) and holds its readers (`crate::tsdb::reader`): the head and the
//! blocks that overlap the range, as they were when it was made, so a block
//! compacted away or deleted meanwhile stays readable through it. Selection asks
//! each reader for the series matching the matchers (postings in the head, the
//! index in a block) and gathers, per label set, references to the chunks
//! overlapping the range; chunk bytes are read only when a [`SeriesIter`] reaches
//! them. The open chunk of a head series is copied at selection time, so a query
//! sees a consistent prefix of what is being appended.
//!
//! Chunks of one series normally follow each other in time. Where they overlap (a
//! block imported over existing data, or a block just cut from the head that the
//! head has not dropped yet), the overlapping run is decoded as a whole and merged
//! by timestamp. Of samples with the same timestamp, the best-ranked reader's is
//! kept: the head's, else the one of the block written first (see the reader
//! module).

use std::borrow::Cow;
use std::sync::Arc;

use crate::model::{Labels, Matcher, Sample};
use crate::tsdb::chunk::{ChunkIter, Encoding};
use crate::tsdb::reader::{BlockReader, ChunkMeta, SelectedSeries};
use crate::tsdb::tombstones::{Interval, covers, is_deleted};

/// Errors of the read path. Each names what was being read: a block's directory
/// and file, or the head chunk file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("reading chunk of series {labels}: {reason}")]
    Chunk { labels: Labels, reason: String },
    #[error("reading block index: {0}")]
    Index(String),
}

/// A chunk of a selected series, with what reading it needs.
#[derive(Debug, Clone)]
struct ChunkRef {
    meta: ChunkMeta,
    /// Index of its reader in `Querier::readers`.
    reader: usize,
    /// Which reader wins a tie between overlapping samples: lowest first (see
    /// [`crate::tsdb::reader`]).
    rank: u32,
    /// The deleted intervals of the series in this chunk's reader, if any.
    deleted: Option<Arc<[Interval]>>,
}

/// Whether chunk `[min_t, max_t]` has samples in `[mint, maxt]` not all deleted
/// (as far as its time range tells).
fn visible(min_t: i64, max_t: i64, mint: i64, maxt: i64, deleted: &[Interval]) -> bool {
    min_t <= maxt && max_t >= mint && !covers(deleted, min_t.max(mint), max_t.min(maxt))
}

fn shared(deleted: &[Interval]) -> Option<Arc<[Interval]>> {
    (!deleted.is_empty()).then(|| Arc::from(deleted))
}

fn index_err(e: impl std::fmt::Display) -> QueryError {
    QueryError::Index(e.to_string())
}

/// Reads the database over one time range.
pub struct Querier {
    /// The head and the blocks overlapping the range.
    readers: Arc<[Arc<dyn BlockReader>]>,
    /// The rank of each reader (same order).
    ranks: Vec<u32>,
    mint: i64,
    maxt: i64,
}

impl Querier {
    /// A querier over `readers`: the head and the blocks overlapping `[mint,
    /// maxt]` (the caller leaves the others out).
    pub(crate) fn new(readers: Vec<Arc<dyn BlockReader>>, mint: i64, maxt: i64) -> Querier {
        let mut by_rank: Vec<usize> = (0..readers.len()).collect();
        by_rank.sort_by_key(|&i| readers[i].ulid());
        let mut ranks = vec![0u32; readers.len()];
        for (r, &i) in by_rank.iter().enumerate() {
            ranks[i] = r as u32;
        }
        Querier {
            readers: readers.into(),
            ranks,
            mint,
            maxt,
        }
    }

    /// Series that satisfy all matchers and have samples in the range, sorted by
    /// labels. Fails if a block's index cannot be read (the error names it).
    pub fn select(&self, matchers: &[Matcher]) -> Result<SeriesSet, QueryError> {
        let mut all: Vec<(Labels, Vec<ChunkRef>)> = Vec::new();
        if self.mint <= self.maxt {
            let mut s = SelectedSeries::default();
            for (i, r) in self.readers.iter().enumerate() {
                let rank = self.ranks[i];
                let mut cursor = r
                    .select(self.mint, self.maxt, matchers)
                    .map_err(index_err)?;
                while cursor.next(&mut s).map_err(index_err)? {
                    let shared = shared(&s.deleted);
                    let chunks: Vec<ChunkRef> = s
                        .chunks
                        .drain(..)
                        .filter(|c| visible(c.min_t, c.max_t, self.mint, self.maxt, &s.deleted))
                        .map(|meta| ChunkRef {
                            meta,
                            reader: i,
                            rank,
                            deleted: shared.clone(),
                        })
                        .collect();
                    if !chunks.is_empty() {
                        all.push((std::mem::take(&mut s.labels), chunks));
                    }
                }
            }
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(Labels, Vec<ChunkRef>)> = Vec::with_capacity(all.len());
        for (labels, chunks) in all {
            match merged.last_mut() {
                Some((l, c)) if *l == labels => c.extend(chunks),
                _ => merged.push((labels, chunks)),
            }
        }
        for (_, chunks) in &mut merged {
            chunks.sort_by_key(|c| c.meta.min_t);
        }
        Ok(SeriesSet {
            readers: Arc::clone(&self.readers),
            mint: self.mint,
            maxt: self.maxt,
            series: merged.into_iter(),
        })
    }

    /// Whether any reader of the querier has deleted samples: label lookups then
    /// look at the series' chunks, so that a series whose samples are all deleted
    /// does not show.
    fn has_deletions(&self) -> bool {
        self.readers.iter().any(|r| r.has_tombstones())
    }

    /// Calls `f` with the labels of every series matching `matchers` that has
    /// samples left in the range.
    fn for_each_selected(
        &self,
        matchers: &[Matcher],
        mut f: impl FnMut(&Labels),
    ) -> Result<(), QueryError> {
        for s in self.select(matchers)? {
            f(s.labels());
        }
        Ok(())
    }

    /// The readers holding data in the range now.
    fn overlapping(&self) -> impl Iterator<Item = &Arc<dyn BlockReader>> {
        self.readers
            .iter()
            .filter(|r| r.overlaps(self.mint, self.maxt))
    }

    /// Label names of the series matching `matchers` (of all series if empty),
    /// sorted and unique. Without matchers they come from the head's postings and
    /// the blocks' indexes, without looking at any series.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, QueryError> {
        if self.mint > self.maxt {
            return Ok(Vec::new());
        }
        let mut names: Vec<String> = Vec::new();
        if self.has_deletions() {
            self.for_each_selected(matchers, |l| {
                names.extend(l.iter().map(|l| l.name.to_owned()));
            })?;
        } else if matchers.is_empty() {
            for r in self.overlapping() {
                names.extend(r.label_names());
            }
        } else {
            self.for_each_matching(matchers, |l| {
                names.extend(l.iter().map(|l| l.name.to_owned()));
            })?;
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// Values of label `name` among the series matching `matchers` (all series if
    /// empty), sorted and unique. Without matchers they come from the head's
    /// postings and the blocks' indexes.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<String>, QueryError> {
        if self.mint > self.maxt {
            return Ok(Vec::new());
        }
        let mut values: Vec<String> = Vec::new();
        if self.has_deletions() {
            self.for_each_selected(matchers, |l| {
                if let Some(v) = l.get(name) {
                    values.push(v.to_owned());
                }
            })?;
        } else if matchers.is_empty() {
            for r in self.overlapping() {
                values.extend(r.label_values(name).map_err(index_err)?);
            }
        } else {
            self.for_each_matching(matchers, |l| {
                if let Some(v) = l.get(name) {
                    values.push(v.to_owned());
                }
            })?;
        }
        values.sort_unstable();
        values.dedup();
        Ok(values)
    }

    /// Calls `f` with the labels of every series matching `matchers`, in each
    /// reader holding data in the range (a label set may come twice).
    fn for_each_matching(
        &self,
        matchers: &[Matcher],
        mut f: impl FnMut(&Labels),
    ) -> Result<(), QueryError> {
        for r in self.overlapping() {
            r.series_labels(matchers)
                .map_err(index_err)?
                .iter()
                .for_each(&mut f);
        }
        Ok(())
    }
}

/// The result of [`Querier::select`]: series in label order.
pub struct SeriesSet {
    readers: Arc<[Arc<dyn BlockReader>]>,
    mint: i64,
    maxt: i64,
    series: std::vec::IntoIter<(Labels, Vec<ChunkRef>)>,
}

impl Iterator for SeriesSet {
    type Item = Series;
    fn next(&mut self) -> Option<Series> {
        let (labels, chunks) = self.series.next()?;
        Some(Series {
            readers: Arc::clone(&self.readers),
            mint: self.mint,
            maxt: self.maxt,
            labels,
            chunks,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.series.size_hint()
    }
}

/// One selected series.
pub struct Series {
    readers: Arc<[Arc<dyn BlockReader>]>,
    mint: i64,
    maxt: i64,
    labels: Labels,
    /// Sorted by `min_t`.
    chunks: Vec<ChunkRef>,
}

impl Series {
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Iterates the samples in the querier's range, oldest first.
    pub fn iter(&self) -> SeriesIter<'_> {
        SeriesIter {
            series: self,
            next_chunk: 0,
            current: Current::None,
            err: None,
        }
    }

    /// The chunk at `i`: its encoding and bytes.
    fn chunk_bytes(&self, i: usize) -> Result<(Encoding, Cow<'_, [u8]>), String> {
        let c = &self.chunks[i];
        self.readers[c.reader]
            .chunk(&c.meta, &mut Vec::new())
            .map_err(|e| e.to_string())
    }

    /// Where it came from, for error messages about a chunk that did not decode.
    fn chunk_origin(&self, i: usize) -> String {
        let c = &self.chunks[i];
        self.readers[c.reader].chunk_origin(&c.meta)
    }
}

/// What a [`SeriesIter`] is reading.
enum Current<'a> {
    None,
    /// One chunk that overlaps no other.
    Chunk(ChunkIter<Cow<'a, [u8]>>, usize),
    /// The samples of a run of overlapping chunks, merged.
    Merged(std::vec::IntoIter<(i64, f64)>),
}

/// Samples of one [`Series`] in the querier's range.
///
/// Iteration stops early on a damaged chunk; [`SeriesIter::err`] then says why.
pub struct SeriesIter<'a> {
    series: &'a Series,
    next_chunk: usize,
    current: Current<'a>,
    err: Option<QueryError>,
}

impl<'a> SeriesIter<'a> {
    /// The error that ended iteration early, if any.
    pub fn err(&self) -> Option<&QueryError> {
        self.err.as_ref()
    }

    /// Advances to the first sample at or after `t` and returns it.
    pub fn seek(&mut self, t: i64) -> Option<Sample> {
        let t = t.max(self.series.mint);
        loop {
            match &mut self.current {
                Current::None => {}
                Current::Chunk(it, i) => {
                    if let Some((st, v)) = it.seek(t) {
                        return self.in_range(st, v);
                    }
                    if let Some(e) = it.err() {
                        let why = format!("{}: {e}", self.series.chunk_origin(*i));
                        return self.fail(why);
                    }
                }
                Current::Merged(it) => {
                    for (st, v) in it.by_ref() {
                        if st >= t {
                            return self.in_range(st, v);
                        }
                    }
                }
            }
            self.current = Current::None;
            // Skip whole chunks that end before `t`.
            while self
                .series
                .chunks
                .get(self.next_chunk)
                .is_some_and(|c| c.meta.max_t < t)
            {
                self.next_chunk += 1;
            }
            if !self.open_next()? {
                return None;
            }
        }
    }

    /// Appends the remaining samples to `out`, a chunk at a time: each chunk is
    /// decoded in one loop ([`ChunkIter::read_all`]) and then trimmed to the
    /// querier's range, instead of going through [`next`](Iterator::next) for
    /// every sample. Stops early on a damaged chunk; [`err`](Self::err) then
    /// says why.
    pub fn read_all(&mut self, out: &mut Vec<(i64, f64)>) {
        let (mint, maxt) = (self.series.mint, self.series.maxt);
        if matches!(self.current, Current::None) && self.next_chunk == 0 {
            while self
                .series
                .chunks
                .get(self.next_chunk)
                .is_some_and(|c| c.meta.max_t < mint)
            {
                self.next_chunk += 1;
            }
        }
        loop {
            let from = out.len();
            match &mut self.current {
                Current::None => {}
                Current::Chunk(it, i) => {
                    it.read_all(out);
                    if let Some(e) = it.err() {
                        let why = format!("{}: {e}", self.series.chunk_origin(*i));
                        self.fail(why);
                        return;
                    }
                }
                Current::Merged(it) => out.extend(it.by_ref()),
            }
            let new = &out[from..];
            let lo = from + new.partition_point(|s| s.0 < mint);
            let hi = from + new.partition_point(|s| s.0 <= maxt);
            let lo = lo.min(hi);
            let past_end = hi < out.len();
            out.truncate(hi);
            out.drain(from..lo);
            self.current = Current::None;
            if past_end {
                self.next_chunk = self.series.chunks.len();
                return;
            }
            if self.open_next() != Some(true) {
                return;
            }
        }
    }

    fn in_range(&mut self, t: i64, v: f64) -> Option<Sample> {
        if t > self.series.maxt {
            self.next_chunk = self.series.chunks.len();
            self.current = Current::None;
            return None;
        }
        Some(Sample { t, v })
    }

    fn fail(&mut self, reason: String) -> Option<Sample> {
        self.err = Some(QueryError::Chunk {
            labels: self.series.labels.clone(),
            reason,
        });
        self.current = Current::None;
        self.next_chunk = self.series.chunks.len();
        None
    }

    /// Opens the next chunk, or the next run of overlapping chunks; `Some(false)`
    /// when there is none, `None` on error. A chunk with deleted samples is
    /// decoded whole, like a run, and the deleted samples left out.
    fn open_next(&mut self) -> Option<bool> {
        let chunks = &self.series.chunks;
        let first = self.next_chunk;
        let Some(c) = chunks.get(first) else {
            return Some(false);
        };
        let mut end = first + 1;
        let mut run_max = c.meta.max_t;
        while let Some(n) = chunks.get(end).filter(|n| n.meta.min_t <= run_max) {
            run_max = run_max.max(n.meta.max_t);
            end += 1;
        }
        self.next_chunk = end;
        if end == first + 1 && c.deleted.is_none() {
            match self.series.chunk_bytes(first) {
                Ok((enc, bytes)) => {
                    self.current = Current::Chunk(ChunkIter::new(enc, bytes), first);
                    Some(true)
                }
                Err(e) => {
                    self.fail(e);
                    None
                }
            }
        } else {
            let mut samples: Vec<(i64, u32, f64)> = Vec::new();
            for (i, c) in chunks.iter().enumerate().take(end).skip(first) {
                let rank = c.rank;
                let (enc, bytes) = match self.series.chunk_bytes(i) {
                    Ok(c) => c,
                    Err(e) => {
                        self.fail(e);
                        return None;
                    }
                };
                let mut it = ChunkIter::new(enc, bytes);
                let deleted = c.deleted.as_deref().unwrap_or(&[]);
                samples.extend(
                    it.by_ref()
                        .filter(|&(t, _)| !is_deleted(deleted, t))
                        .map(|(t, v)| (t, rank, v)),
                );
                if let Some(e) = it.err() {
                    let why = format!("{}: {e}", self.series.chunk_origin(i));
                    self.fail(why);
                    return None;
                }
            }
            // Of equal timestamps the best-ranked source's comes first and is kept.
            samples.sort_by_key(|s| (s.0, s.1));
            samples.dedup_by_key(|s| s.0);
            let merged: Vec<(i64, f64)> = samples.into_iter().map(|(t, _, v)| (t, v)).collect();
            self.current = Current::Merged(merged.into_iter());
            Some(true)
        }
    }
}

impl Iterator for SeriesIter<'_> {
    type Item = Sample;
    fn next(&mut self) -> Option<Sample> {
        if matches!(self.current, Current::None) && self.next_chunk == 0 {
            return self.seek(self.series.mint);
        }
        loop {
            let next = match &mut self.current {
                Current::None => None,
                Current::Chunk(it, i) => match it.next() {
                    Some(s) => Some(s),
                    None => {
                        if let Some(e) = it.err() {
                            let why = format!("{}: {e}", self.series.chunk_origin(*i));
                            return self.fail(why);
                        }
                        None
                    }
                },
                Current::Merged(it) => it.next(),
            };
            if let Some((t, v)) = next {
                if t < self.series.mint {
                    continue;
                }
                return self.in_range(t, v);
            }
            self.current = Current::None;
            if !self.open_next()? {
                return None;
            }
        }
    }
}
