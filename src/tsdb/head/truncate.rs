//! Forgetting the oldest part of the head once it is in a block.
//!
//! Compaction writes what the head holds in `[mint, maxt)` into a block, reading
//! it as it reads any block (`crate::tsdb::reader`). Once the block is durable,
//! [`Head::truncate`] drops every chunk that ends before `maxt`, removes the
//! series left without chunks, and deletes the head chunk files no remaining
//! chunk lives in. From then on samples before `maxt` are refused
//! ([`Head::appendable_min`]): the block owns that time.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::series::MemSeries;
use super::spill::SpillError;
use super::state::Head;
use crate::model::Labels;
use crate::tsdb::series_ref::SeriesRef;

/// What [`Head::truncate`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Truncated {
    pub(crate) chunks: u64,
    pub(crate) series: u64,
    pub(crate) files: u64,
}

impl Head {
    /// The oldest timestamp an append may have: nothing before the end of the
    /// newest block (that time is on disk), and nothing more than half a chunk
    /// range before the newest sample, as in Prometheus; so the head can always cut
    /// its oldest range into a block without samples arriving behind the cut.
    pub(crate) fn appendable_min(&self) -> i64 {
        let min_valid = self.min_valid.load(Ordering::Relaxed);
        let max_t = self.counters.max_t.load(Ordering::Relaxed);
        if max_t == i64::MIN {
            return min_valid;
        }
        min_valid.max(max_t.saturating_sub(self.limits.chunk_range / 2))
    }

    /// Samples before `t` are refused from now on (and skipped by WAL replay).
    pub(crate) fn set_min_valid(&self, t: i64) {
        self.min_valid.fetch_max(t, Ordering::Relaxed);
    }

    pub(crate) fn min_valid(&self) -> i64 {
        self.min_valid.load(Ordering::Relaxed)
    }

    /// Forgets everything before `maxt` (now in a block): chunks that end before
    /// it, series left without chunks (unless an appender holds samples for them),
    /// and head chunk files holding nothing newer.
    pub(crate) fn truncate(&self, maxt: i64) -> Result<Truncated, SpillError> {
        self.set_min_valid(maxt);
        let mut all: Vec<Arc<MemSeries>> = Vec::new();
        self.series.for_each(|s| all.push(Arc::clone(s)));
        let mut out = Truncated::default();
        let mut removed: Vec<(SeriesRef, Labels)> = Vec::new();
        let mut min_t = i64::MAX;
        for s in &all {
            let mut d = s.data();
            out.chunks += d.drop_chunks_before(maxt) as u64;
            if d.is_empty() {
                if s.try_remove() {
                    drop(d);
                    let labels = s.labels();
                    self.series.remove(labels.hash_u64(), s);
                    removed.push((s.series_ref(), labels));
                }
                continue;
            }
            let first = d.closed.first().map(|c| c.min_t);
            if let Some(t) = first.or(d.open.as_ref().map(|o| o.min_t())) {
                min_t = min_t.min(t);
            }
        }
        self.postings.delete(&removed);
        {
            // Deletions of removed series are done with (a series created again
            // gets a new ref).
            let gone: std::collections::HashSet<u64> = removed.iter().map(|(r, _)| r.0).collect();
            self.tombstones.lock().retain(|r, _| !gone.contains(&r));
        }
        out.series = removed.len() as u64;
        drop(removed);
        drop(all);
        // A group no live series uses any more is only held by the map.
        self.groups.lock().retain(|_, g| Arc::strong_count(g) > 1);
        let c = &self.counters;
        c.series.fetch_sub(out.series, Ordering::Relaxed);
        c.chunks.fetch_sub(out.chunks, Ordering::Relaxed);
        c.min_t.store(min_t, Ordering::Relaxed);
        out.files = self.spill.remove_before(maxt)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Labels, Matcher};
    use crate::tsdb::{Db, Options};

    fn series(i: &str) -> Labels {
        Labels::new([("__name__", "m"), ("i", i)]).unwrap()
    }

    fn samples(db: &Db, i: &str) -> Vec<(i64, f64)> {
        db.querier(i64::MIN, i64::MAX)
            .select(&[Matcher::equal("i", i)])
            .unwrap()
            .flat_map(|s| s.iter().map(|x| (x.t, x.v)).collect::<Vec<_>>())
            .collect()
    }

    /// A series an appender holds an uncommitted sample for stays in the head
    /// through a truncation that leaves it without chunks; once nothing holds
    /// it, truncation removes it, and an appender that still knows its old ref
    /// gets the sample into the series created again by its labels.
    #[test]
    fn truncation_keeps_series_with_uncommitted_samples() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options {
            maintenance_interval: None,
            ..Options::default()
        };
        let db = Db::open(dir.path(), opts).unwrap();
        let mut a = db.appender();
        let r1 = a.append(&series("1"), 1_000, 1.0).unwrap();
        a.append(&series("0"), 1_000, 1.0).unwrap();
        a.commit().unwrap();

        let mut b = db.appender();
        b.append(&series("0"), 2_000, 2.0).unwrap();
        db.head().truncate(10_000).unwrap();
        b.commit().unwrap();
        assert_eq!(samples(&db, "0"), [(2_000, 2.0)]);

        let gone = db.head().truncate(10_000).unwrap();
        assert_eq!(gone.series, 2);
        assert!(samples(&db, "0").is_empty());
        a.append_ref(r1, 20_000, 3.0).unwrap();
        a.commit().unwrap();
        assert_eq!(samples(&db, "1"), [(20_000, 3.0)]);
        assert_eq!(db.stats().head_series, 1);
    }
}
