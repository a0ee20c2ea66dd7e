//! The read path: series selected by matchers, with lazy sample iterators.
//!
//! A [`Querier`] covers a closed time range `[mint, maxt]` (milliseconds, both
//! ends included). Selection resolves matchers through the postings index and
//! collects, per series, references to the chunks overlapping the range; chunk
//! bytes are read only when a [`SeriesIter`] reaches them. The open chunk of a
//! series is copied at selection time, so a query sees a consistent prefix of
//! what is being appended.

use std::sync::Arc;

use crate::model::{Labels, Matcher, Sample};
use crate::tsdb::chunk::XorIter;
use crate::tsdb::head::{ChunkMeta, ChunkSource, Head, SpillError};

/// Errors of the read path.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("reading chunk of series {labels}: {reason}")]
    Chunk { labels: Labels, reason: String },
}

/// Reads the database over one time range.
pub struct Querier {
    head: Arc<Head>,
    mint: i64,
    maxt: i64,
}

impl Querier {
    pub(crate) fn new(head: Arc<Head>, mint: i64, maxt: i64) -> Querier {
        Querier { head, mint, maxt }
    }

    /// Series that satisfy all matchers and have samples in the range, sorted by
    /// labels.
    pub fn select(&self, matchers: &[Matcher]) -> SeriesSet {
        let series = if self.mint > self.maxt {
            Vec::new()
        } else {
            self.head.select(self.mint, self.maxt, matchers)
        };
        SeriesSet {
            head: Arc::clone(&self.head),
            mint: self.mint,
            maxt: self.maxt,
            series: series.into_iter(),
        }
    }

    /// Whether the head holds data in the range at all.
    fn overlaps(&self) -> bool {
        let s = self.head.time_range();
        matches!(s, Some((lo, hi)) if lo <= self.maxt && hi >= self.mint)
    }

    /// Label names of the series matching `matchers` (of all series if empty),
    /// sorted and unique.
    pub fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        if !self.overlaps() {
            return Vec::new();
        }
        if matchers.is_empty() {
            return self.head.label_names();
        }
        let mut names: Vec<String> = self
            .head
            .matching_labels(matchers)
            .iter()
            .flat_map(|l| l.iter().map(|l| l.name.to_owned()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Values of label `name` among the series matching `matchers` (all series if
    /// empty), sorted and unique.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        if !self.overlaps() {
            return Vec::new();
        }
        if matchers.is_empty() {
            return self.head.label_values(name);
        }
        let mut values: Vec<String> = self
            .head
            .matching_labels(matchers)
            .iter()
            .filter_map(|l| l.get(name).map(str::to_owned))
            .collect();
        values.sort_unstable();
        values.dedup();
        values
    }
}

/// The result of [`Querier::select`]: series in label order.
pub struct SeriesSet {
    head: Arc<Head>,
    mint: i64,
    maxt: i64,
    series: std::vec::IntoIter<(Labels, Vec<ChunkMeta>)>,
}

impl Iterator for SeriesSet {
    type Item = Series;
    fn next(&mut self) -> Option<Series> {
        let (labels, chunks) = self.series.next()?;
        Some(Series {
            head: Arc::clone(&self.head),
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
    head: Arc<Head>,
    mint: i64,
    maxt: i64,
    labels: Labels,
    chunks: Vec<ChunkMeta>,
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
            chunk: None,
            err: None,
        }
    }
}

/// Samples of one [`Series`] in the querier's range.
///
/// Iteration stops early on a damaged chunk; [`SeriesIter::err`] then says why.
pub struct SeriesIter<'a> {
    series: &'a Series,
    next_chunk: usize,
    chunk: Option<XorIter<Arc<[u8]>>>,
    err: Option<QueryError>,
}

impl SeriesIter<'_> {
    /// The error that ended iteration early, if any.
    pub fn err(&self) -> Option<&QueryError> {
        self.err.as_ref()
    }

    /// Advances to the first sample at or after `t` and returns it.
    pub fn seek(&mut self, t: i64) -> Option<Sample> {
        let t = t.max(self.series.mint);
        loop {
            if let Some(it) = self.chunk.as_mut() {
                if let Some((st, v)) = it.seek(t) {
                    return self.in_range(st, v);
                }
                if let Some(e) = it.err().cloned() {
                    return self.fail(e);
                }
                self.chunk = None;
            }
            // Skip whole chunks that end before `t`.
            while self
                .series
                .chunks
                .get(self.next_chunk)
                .is_some_and(|c| c.max_t < t)
            {
                self.next_chunk += 1;
            }
            if !self.open_next()? {
                return None;
            }
        }
    }

    fn in_range(&mut self, t: i64, v: f64) -> Option<Sample> {
        if t > self.series.maxt {
            self.next_chunk = self.series.chunks.len();
            self.chunk = None;
            return None;
        }
        Some(Sample { t, v })
    }

    fn fail(&mut self, e: impl ToString) -> Option<Sample> {
        self.err = Some(QueryError::Chunk {
            labels: self.series.labels.clone(),
            reason: e.to_string(),
        });
        self.chunk = None;
        self.next_chunk = self.series.chunks.len();
        None
    }

    /// Opens the next chunk; `Some(false)` when there is none, `None` on error.
    fn open_next(&mut self) -> Option<bool> {
        let Some(meta) = self.series.chunks.get(self.next_chunk) else {
            return Some(false);
        };
        self.next_chunk += 1;
        let bytes: Result<Arc<[u8]>, SpillError> = match &meta.source {
            ChunkSource::Open(b) => Ok(Arc::clone(b)),
            ChunkSource::Spilled(loc) => {
                let mut buf = Vec::new();
                self.series
                    .head
                    .read_chunk(*loc, &mut buf)
                    .map(|()| Arc::from(buf))
            }
        };
        match bytes {
            Ok(b) => {
                self.chunk = Some(XorIter::new(b));
                Some(true)
            }
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }
}

impl Iterator for SeriesIter<'_> {
    type Item = Sample;
    fn next(&mut self) -> Option<Sample> {
        if self.chunk.is_none() && self.next_chunk == 0 {
            return self.seek(self.series.mint);
        }
        loop {
            if let Some(it) = self.chunk.as_mut() {
                if let Some((t, v)) = it.next() {
                    if t < self.series.mint {
                        continue;
                    }
                    return self.in_range(t, v);
                }
                if let Some(e) = it.err().cloned() {
                    return self.fail(e);
                }
                self.chunk = None;
            }
            if !self.open_next()? {
                return None;
            }
        }
    }
}
