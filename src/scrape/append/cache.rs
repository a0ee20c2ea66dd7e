//! [`ScrapeCache`]: one target's memory of its scrapes, and the walk of a body
//! that stores its samples and the stale markers of the series it lacks.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::options::AppendOptions;
use super::outcome::{AppendFailure, ScrapeAppendError, ScrapeCounts};
use super::series::new_series;
use super::store::store;
use crate::exposition::{Entry, Format, Mode, Parser};
use crate::model::{Labels, PassThrough, hash_span, hash_span_alt, stale_nan};
use crate::scrape::metadata::{FamilyLines, MetadataCache, TargetMetadata};
use crate::tsdb::{Appender, SeriesRef};

/// A scrape's response body, its format, and the scrape's time (ms).
#[derive(Debug, Clone, Copy)]
pub struct ScrapeBody<'a> {
    pub bytes: &'a [u8],
    pub format: Format,
    pub t: i64,
}

type RawIndex = HashMap<RawKey, usize, BuildHasherDefault<PassThrough>>;

/// The index of `entries`, built if `by_raw` holds none.
fn raw_index<'a>(by_raw: &'a mut Option<RawIndex>, entries: &[Cached]) -> &'a mut RawIndex {
    by_raw.get_or_insert_with(|| {
        entries
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key, i))
            .collect()
    })
}

/// A series as the cache knows it.
struct Cached {
    key: RawKey,
    /// Its reference in the head; 0 until a sample of it is stored.
    series_ref: SeriesRef,
    /// Metric relabeling drops it.
    dropped: bool,
    /// The last scrape attempt that had it, its number's low 32 bits (for
    /// forgetting entries missing from two scrapes: only the difference
    /// matters, and it keeps an entry at 32 bytes).
    seen: u32,
    /// In the last successful scrape, with no explicit timestamp: it goes stale
    /// when the next scrape misses it or fails.
    live: bool,
    /// Stored by the scrape in progress without an explicit timestamp.
    current: bool,
}

/// The per-target memory of the scrapes so far.
#[derive(Default)]
pub struct ScrapeCache {
    /// The series, in the order of the scrape that first had them.
    entries: Vec<Cached>,
    /// Index in `entries` by the series' bytes as exposed (name and label
    /// span), hashed; only while needed. A target that exposes its series in
    /// the same order every time finds each next entry right after the
    /// previous one, so the index is dropped after a scrape that never looked
    /// anything up, and built again when one must (a new series, a new order).
    by_raw: Option<RawIndex>,
    /// Numbers the successful scrapes.
    iteration: u64,
    /// Report series by name.
    pub(super) report: HashMap<&'static str, SeriesRef>,
    key: Vec<u8>,
    /// The metric metadata of the target's HELP, TYPE and UNIT lines.
    metadata: MetadataCache,
}

/// Two independent 64-bit hashes of a series' exposed bytes. Two different series
/// of one target share a key with odds of about 2^-128 per pair; a target that
/// crafts such bytes on purpose can only confuse its own series.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RawKey(u64, u64);

impl RawKey {
    fn of(bytes: &[u8]) -> RawKey {
        RawKey(hash_span(bytes), hash_span_alt(bytes))
    }
}

impl std::hash::Hash for RawKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Already mixed: the table takes the first half as it is.
        state.write_u64(self.0);
    }
}

impl ScrapeCache {
    pub fn new() -> ScrapeCache {
        ScrapeCache::default()
    }

    /// Parses `body` and appends its samples at the scrape's time, with
    /// `target`'s labels merged in and metric relabeling applied (a series it
    /// drops is not stored), then stale markers for the series of the previous
    /// scrape that are missing.
    ///
    /// As in Prometheus, the scrape fails on a parse error, a new series without
    /// a name or with an invalid label set after relabeling, a series over the
    /// label limits, or more samples than the sample limit (the body is still
    /// counted to its end, for the report). On failure nothing of the body may
    /// be committed: roll the appender back and call
    /// [`append_failure`](Self::append_failure).
    pub fn append_scrape(
        &mut self,
        app: &mut Appender,
        body: ScrapeBody<'_>,
        target: &Labels,
        opts: &AppendOptions,
    ) -> Result<ScrapeCounts, AppendFailure> {
        let iteration = self.iteration + 1;
        let t = body.t;
        let mut counts = ScrapeCounts::default();
        let mut over_limit = false;
        let fail = |error, counts| Err(AppendFailure { error, counts });
        let mut family = FamilyLines::default();
        // The entry expected next: the one after the previous sample's.
        let mut next = 0;
        // Whether an entry had to be looked up (or added) by key.
        let mut looked_up = false;
        for entry in Parser::new(body.bytes, body.format, Mode::Lenient) {
            let meta = &mut self.metadata;
            let entry = match entry {
                Ok(Entry::Sample(s)) => s,
                Ok(Entry::Type { name, kind }) => {
                    family.kind(meta, name, kind, iteration);
                    continue;
                }
                Ok(Entry::Help { name, help }) => {
                    family.help(meta, name, help, iteration);
                    continue;
                }
                Ok(Entry::Unit { name, unit }) => {
                    family.unit(meta, name, unit, iteration);
                    continue;
                }
                Err(e) => return fail(ScrapeAppendError::Parse(e.to_string()), counts),
            };
            let s = entry;
            counts.scraped += 1;
            self.key.clear();
            self.key.extend_from_slice(s.name.raw().as_bytes());
            self.key.push(b'{');
            self.key.extend_from_slice(s.labels.raw().as_bytes());
            let explicit = s.timestamp.filter(|_| opts.honor_timestamps);
            let ts = explicit.unwrap_or(t);
            let key = RawKey::of(&self.key);
            // The labels, when this sample needed them (a series new to the cache).
            let mut fresh = None;
            let i = match self.entries.get(next) {
                Some(c) if c.key == key => next,
                _ => {
                    looked_up = true;
                    match raw_index(&mut self.by_raw, &self.entries).get(&key) {
                        Some(&i) => i,
                        None => {
                            let series = match new_series(&s, target, opts) {
                                Ok(series) => series,
                                Err(error) => return fail(error, counts),
                            };
                            let dropped = series.is_none();
                            fresh = series;
                            raw_index(&mut self.by_raw, &self.entries)
                                .insert(key, self.entries.len());
                            self.entries.push(Cached {
                                key,
                                series_ref: SeriesRef(0),
                                dropped,
                                seen: 0,
                                live: false,
                                current: false,
                            });
                            self.entries.len() - 1
                        }
                    }
                }
            };
            next = i + 1;
            let cached = &mut self.entries[i];
            cached.seen = iteration as u32;
            if cached.dropped {
                continue;
            }
            counts.post_relabel += 1;
            if opts.sample_limit > 0 && counts.post_relabel > opts.sample_limit as u64 {
                // Counted on to the end, stored no more.
                over_limit = true;
                continue;
            }
            // Never stored before: new to this target.
            if cached.series_ref.0 == 0 {
                counts.series_added += 1;
            }
            cached.current = explicit.is_none();
            // The labels are needed only when the head does not know the ref
            // (first store, or the series left the head): computed again then.
            let labels = || match fresh.take() {
                Some(l) => Some(l),
                None => new_series(&s, target, opts).ok().flatten(),
            };
            if store(app, &mut cached.series_ref, labels, ts, s.value).is_err() {
                counts.refused += 1;
            }
        }
        family.flush(&mut self.metadata, iteration);
        if over_limit {
            return fail(
                ScrapeAppendError::SampleLimit {
                    limit: opts.sample_limit,
                },
                counts,
            );
        }
        if !looked_up {
            self.by_raw = None;
        }
        self.iteration = iteration;
        self.metadata.expire(iteration);
        self.end_scrape(app, t, true);
        Ok(counts)
    }

    /// The target's metric metadata (cheap: shared, not copied).
    pub fn metadata(&self) -> TargetMetadata {
        self.metadata.snapshot()
    }

    /// After a failed scrape (its appender rolled back): stale markers for every
    /// series of the previous successful scrape.
    pub fn append_failure(&mut self, app: &mut Appender, t: i64) {
        self.iteration += 1;
        self.end_scrape(app, t, false);
    }

    /// Ends a scrape: stale markers for the live series this one did not store
    /// (all of them when it failed); what it stored becomes the live set. Entries
    /// missing from two scrapes are forgotten.
    fn end_scrape(&mut self, app: &mut Appender, t: i64, succeeded: bool) {
        let now = self.iteration;
        for c in &mut self.entries {
            let current = succeeded && c.current;
            if c.live && !current && !c.dropped {
                // A refused stale marker (an explicit newer sample) is dropped, as
                // in Prometheus; a series the head no longer has needs none.
                let _ = store(app, &mut c.series_ref, || None, t, stale_nan());
            }
            c.live = current;
            c.current = false;
        }
        let kept = |c: &Cached| (now as u32).wrapping_sub(c.seen) <= 1;
        if !self.entries.iter().all(kept) {
            self.entries.retain(kept);
            // Indices moved: built again when next needed.
            self.by_raw = None;
        }
    }
}
