//! The series a query reads: each selector's, selected when the query starts
//! and read (their chunks decoded) on first use or, by the columnar
//! evaluation, part by part as it goes.

use std::cell::OnceCell;

use crate::model::{Labels, is_stale_nan};
use crate::promql::error::{PromqlError, Result};

/// A selector's series, their samples read on first use.
pub(crate) struct Selected {
    series: Vec<crate::tsdb::Series>,
    decoded: OnceCell<Vec<Loaded>>,
}

impl Selected {
    pub fn new(series: Vec<crate::tsdb::Series>) -> Selected {
        Selected {
            series,
            decoded: OnceCell::new(),
        }
    }

    /// The samples, read on first use.
    pub fn loaded(&self) -> Result<&[Loaded]> {
        if let Some(l) = self.decoded.get() {
            return Ok(l);
        }
        let l = decode_parallel(&self.series)?;
        Ok(self.decoded.get_or_init(|| l))
    }

    /// The series: read already, or only selected.
    pub fn sel(&self) -> Sel<'_> {
        match self.decoded.get() {
            Some(l) => Sel::Read(l),
            None => Sel::Unread(&self.series),
        }
    }
}

/// A selector's series: read already, or only selected (then the caller
/// reads them as it goes).
pub(crate) enum Sel<'a> {
    Read(&'a [Loaded]),
    Unread(&'a [crate::tsdb::Series]),
}

/// One selected series' samples over the query's whole range.
pub(crate) struct Loaded {
    pub labels: Labels,
    pub samples: Vec<(i64, f64)>,
}

impl Loaded {
    /// What an instant selector sees at reference time `r`: the latest sample at
    /// or before `r` and after `lo` (`r` minus the lookback delta), unless it is
    /// a staleness marker.
    pub fn latest(&self, r: i64, lo: i64) -> Option<(i64, f64)> {
        let i = self.samples.partition_point(|&(ts, _)| ts <= r);
        let (ts, v) = *self.samples.get(i.checked_sub(1)?)?;
        (ts > lo && !is_stale_nan(v)).then_some((ts, v))
    }
}

/// Some of a selector's series: read already, or to be read (one of the two is
/// empty).
#[derive(Clone, Copy)]
pub(crate) struct Batch<'a> {
    read: &'a [Loaded],
    unread: &'a [crate::tsdb::Series],
}

impl<'a> Batch<'a> {
    pub fn of(sel: Sel<'a>) -> Batch<'a> {
        match sel {
            Sel::Read(read) => Batch { read, unread: &[] },
            Sel::Unread(unread) => Batch { read: &[], unread },
        }
    }

    /// `f` over each series' labels and samples, in order; series not read
    /// yet are read here, into one buffer reused from series to series.
    pub fn map<T>(&self, mut f: impl FnMut(&Labels, &[(i64, f64)]) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.len());
        for s in self.read {
            out.push(f(&s.labels, &s.samples)?);
        }
        let mut samples: Vec<(i64, f64)> = Vec::new();
        for s in self.unread {
            samples.clear();
            let mut it = s.iter();
            it.read_all(&mut samples);
            if let Some(e) = it.err() {
                return Err(PromqlError::execution(e.to_string()));
            }
            out.push(f(s.labels(), &samples)?);
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.read.len() + self.unread.len()
    }

    pub fn part(&self, from: usize, to: usize) -> Batch<'a> {
        Batch {
            read: &self.read[from.min(self.read.len())..to.min(self.read.len())],
            unread: &self.unread[from.min(self.unread.len())..to.min(self.unread.len())],
        }
    }
}

/// Reads the samples of `selected`. Decoding the chunks is most of the cost of
/// reading: the series are split over the available cores.
pub(crate) fn decode_parallel(selected: &[crate::tsdb::Series]) -> Result<Vec<Loaded>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = selected.len().div_ceil(workers).max(MIN_SERIES_PER_THREAD);
    if selected.len() <= per {
        return decode(selected);
    }
    let parts = on_threads(selected.chunks(per).collect(), decode);
    let mut out = Vec::with_capacity(selected.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Runs `f` over each of `parts`, each on a thread of its own, and returns the
/// results in the order of the parts.
fn on_threads<P: Send, T: Send>(
    parts: Vec<P>,
    f: impl Fn(P) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let f = &f;
                scope.spawn(move || f(part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(PromqlError::execution("a query worker thread panicked"))
                })
            })
            .collect()
    })
}

/// Fewer series than this per thread are decoded on the calling thread.
const MIN_SERIES_PER_THREAD: usize = 64;

/// Reads the samples of each series.
fn decode(series: &[crate::tsdb::Series]) -> Result<Vec<Loaded>> {
    series
        .iter()
        .map(|s| {
            let mut it = s.iter();
            let mut samples = Vec::new();
            it.read_all(&mut samples);
            if let Some(e) = it.err() {
                return Err(PromqlError::execution(e.to_string()));
            }
            Ok(Loaded {
                labels: s.labels().clone(),
                samples,
            })
        })
        .collect()
}
