//! One scrape's body turned into samples in the database, as Prometheus's scrape
//! loop does it: target labels merged into each series, timestamps honoured or
//! not, the sample limit, stale markers for series that disappeared, and the
//! report series (`up`, `scrape_duration_seconds`, …).
//!
//! A [`ScrapeCache`] lives as long as its target. It remembers, by a 128-bit hash
//! of the series' bytes as the target wrote them, the series' reference in the
//! head, so a series seen before costs no label parsing or merging (and the
//! cache holds no labels: about 40 bytes a series); and which series the
//! previous scrape had, so that those missing from this one get a stale marker
//! (`NaN` with Prometheus's staleness bits) at this scrape's time. A failed scrape
//! (the target unreachable, a parse error, the sample limit) marks every series of
//! the previous scrape stale, as Prometheus does. Series with explicit timestamps
//! (kept with `honor_timestamps`) are not tracked for staleness. It also keeps
//! the target's metric metadata (see [`metadata`](super::metadata)).

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

use crate::exposition::{Entry, Format, Mode, Parser};
use crate::model::{Labels, PassThrough, hash_span, hash_span_alt, stale_nan};
use crate::relabel::{RelabelConfig, relabel};
use crate::scrape::TargetMetadata;
use crate::scrape::metadata::{FamilyLines, MetadataCache};
use crate::tsdb::{AppendError, Appender, SeriesRef};

/// How a target's samples are stored (from its scrape config).
#[derive(Debug, Clone, Default)]
pub struct AppendOptions {
    /// Keep the exposed label when it clashes with a target label (else the
    /// exposed one is renamed `exported_<name>`).
    pub honor_labels: bool,
    /// Store exposed timestamps (else every sample gets the scrape's time).
    pub honor_timestamps: bool,
    /// Most samples a scrape may store after metric relabeling; 0 for no limit.
    pub sample_limit: usize,
    /// Limits on each new series' final label set.
    pub label_limits: LabelLimits,
    /// `metric_relabel_configs`, run over each series after the target labels
    /// are merged in.
    pub metric_relabel: Vec<RelabelConfig>,
}

/// `label_limit`, `label_name_length_limit`, `label_value_length_limit`: a series
/// over one of them fails the whole scrape. 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelLimits {
    /// Most labels a series may have, `__name__` included.
    pub count: usize,
    /// Longest label name, in bytes.
    pub name_length: usize,
    /// Longest label value, in bytes.
    pub value_length: usize,
}

/// A scrape's response body, its format, and the scrape's time (ms).
#[derive(Debug, Clone, Copy)]
pub struct ScrapeBody<'a> {
    pub bytes: &'a [u8],
    pub format: Format,
    pub t: i64,
}

/// Why a scrape's samples were not stored. The scrape counts as failed; the
/// messages are Prometheus's, as `/api/v1/targets` shows them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeAppendError {
    #[error("{0}")]
    Parse(String),
    #[error("sample limit exceeded")]
    SampleLimit { limit: usize },
    #[error("missing metric name (__name__ label)")]
    MissingName,
    #[error("invalid metric name or label names: {0}")]
    InvalidLabels(String),
    #[error(
        "label_limit exceeded (metric: {metric:.50}, number of labels: {count}, limit: {limit})"
    )]
    LabelLimit {
        metric: String,
        count: usize,
        limit: usize,
    },
    #[error(
        "label_name_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, length: {length}, limit: {limit})"
    )]
    LabelNameLength {
        metric: String,
        name: String,
        length: usize,
        limit: usize,
    },
    #[error(
        "label_value_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, value: {value:?}, length: {length}, limit: {limit})"
    )]
    LabelValueLength {
        metric: String,
        name: String,
        /// At most 50 characters of the value.
        value: String,
        length: usize,
        limit: usize,
    },
}

/// A failed [`ScrapeCache::append_scrape`]: why, and what was counted up to
/// there (Prometheus reports these counts with `up` 0).
#[derive(Debug, Clone, PartialEq)]
pub struct AppendFailure {
    pub error: ScrapeAppendError,
    pub counts: ScrapeCounts,
}

/// What one scrape stored (for the report series and `/api/v1/targets`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeCounts {
    /// Samples in the body (`scrape_samples_scraped`).
    pub scraped: u64,
    /// Samples left after metric relabeling (`scrape_samples_post_metric_relabeling`).
    pub post_relabel: u64,
    /// Series not seen in the previous scrapes of this target (`scrape_series_added`).
    pub series_added: u64,
    /// Samples the storage refused (out of order, duplicate timestamp, out of
    /// bounds); the scrape still succeeds, as in Prometheus.
    pub refused: u64,
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
    report: HashMap<&'static str, SeriesRef>,
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

/// Target labels merged into an exposed label set, as Prometheus's
/// `mutateSampleLabels` does. Target labels starting with `__` are not in
/// `target`.
pub fn merge_target_labels(exposed: &Labels, target: &Labels, honor_labels: bool) -> Labels {
    let mut b: BTreeMap<String, String> = exposed
        .iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect();
    if honor_labels {
        for l in target {
            b.entry(l.name.to_owned())
                .or_insert_with(|| l.value.to_owned());
        }
    } else {
        let mut conflicts: Vec<(String, String)> = Vec::new();
        for l in target {
            if let Some(v) = exposed.get(l.name) {
                conflicts.push((l.name.to_owned(), v.to_owned()));
            }
            b.insert(l.name.to_owned(), l.value.to_owned());
        }
        // Shortest names first, each renamed to the first `exported_…` name free.
        conflicts.sort_by_key(|(n, _)| n.len());
        for (name, value) in conflicts {
            let mut new = name;
            loop {
                new = format!("exported_{new}");
                if b.get(&new).is_none_or(|v| v.is_empty()) {
                    b.insert(new, value);
                    break;
                }
            }
        }
    }
    // Valid: names come from valid label sets and are unique in the map.
    Labels::new(b).unwrap_or_default()
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

    /// Appends the report series of a scrape at `t`: `up` (1 when the scrape
    /// succeeded), `scrape_duration_seconds`, and the sample and series counts
    /// (those of a failed append as far as it got, zeros when the target could
    /// not be scraped, as Prometheus writes them).
    pub fn append_report(
        &mut self,
        app: &mut Appender,
        target: &Labels,
        t: i64,
        duration_seconds: f64,
        up: bool,
        c: ScrapeCounts,
    ) -> Result<(), AppendError> {
        let samples: [(&'static str, f64); 5] = [
            ("up", if up { 1.0 } else { 0.0 }),
            ("scrape_duration_seconds", duration_seconds),
            ("scrape_samples_scraped", c.scraped as f64),
            (
                "scrape_samples_post_metric_relabeling",
                c.post_relabel as f64,
            ),
            ("scrape_series_added", c.series_added as f64),
        ];
        for (name, v) in samples {
            let r = match self.report.get(name) {
                Some(&r) => app.append_ref(r, t, v),
                None => Err(AppendError::UnknownRef(SeriesRef(0))),
            };
            let r = match r {
                Ok(r) => r,
                Err(AppendError::UnknownRef(_)) => {
                    app.append(&report_labels(name, target), t, v)?
                }
                Err(e) => return Err(e),
            };
            self.report.insert(name, r);
        }
        Ok(())
    }
}

impl ScrapeCache {
    /// Stale markers at `t` for the report series written so far (when the
    /// target is gone for good).
    pub fn append_report_stale(&mut self, app: &mut Appender, target: &Labels, t: i64) {
        for (name, r) in self.report.iter_mut() {
            // A refused marker (a newer sample) is dropped, as in Prometheus.
            let _ = store(app, r, || Some(report_labels(name, target)), t, stale_nan());
        }
    }
}

/// The report series' labels: the target's, and the name.
fn report_labels(name: &str, target: &Labels) -> Labels {
    let pairs = std::iter::once(("__name__", name)).chain(
        target
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| (l.name, l.value)),
    );
    Labels::new(pairs).unwrap_or_default()
}

/// A sample the storage refused (counted, not an error of the scrape).
struct Refused;

/// Appends by reference, falling back to the labels `labels` gives when the
/// reference is unknown (first use, or the series left the head); with no
/// labels then, nothing is stored.
fn store(
    app: &mut Appender,
    series_ref: &mut SeriesRef,
    labels: impl FnOnce() -> Option<Labels>,
    t: i64,
    v: f64,
) -> Result<(), Refused> {
    let by_labels = |app: &mut Appender| match labels() {
        Some(labels) => app.append(&labels, t, v),
        None => Err(AppendError::UnknownRef(*series_ref)),
    };
    let r = if series_ref.0 == 0 {
        by_labels(app)
    } else {
        match app.append_ref(*series_ref, t, v) {
            Err(AppendError::UnknownRef(_)) => by_labels(app),
            other => other,
        }
    };
    match r {
        Ok(r) => {
            *series_ref = r;
            Ok(())
        }
        Err(_) => Err(Refused),
    }
}

/// The final labels of a series not in the cache: target labels merged in,
/// metric relabeling run, then checked as Prometheus checks them. `None`: the
/// relabeling drops it.
fn new_series(
    s: &crate::exposition::Sample<'_>,
    target: &Labels,
    opts: &AppendOptions,
) -> Result<Option<Labels>, ScrapeAppendError> {
    let exposed = exposed_labels(s).map_err(|e| ScrapeAppendError::Parse(e.to_string()))?;
    let merged = merge_target_labels(&exposed, target, opts.honor_labels);
    let labels = match relabel(&merged, &opts.metric_relabel) {
        Ok(Some(labels)) if !labels.is_empty() => labels,
        Ok(_) => return Ok(None),
        Err(e) => return Err(ScrapeAppendError::InvalidLabels(e.to_string())),
    };
    let Some(metric) = labels.get("__name__") else {
        return Err(ScrapeAppendError::MissingName);
    };
    check_label_limits(&labels, metric, &opts.label_limits)?;
    Ok(Some(labels))
}

fn check_label_limits(
    labels: &Labels,
    metric: &str,
    limits: &LabelLimits,
) -> Result<(), ScrapeAppendError> {
    let count = labels.iter().count();
    if limits.count > 0 && count > limits.count {
        return Err(ScrapeAppendError::LabelLimit {
            metric: metric.to_owned(),
            count,
            limit: limits.count,
        });
    }
    for l in labels.iter() {
        if limits.name_length > 0 && l.name.len() > limits.name_length {
            return Err(ScrapeAppendError::LabelNameLength {
                metric: metric.to_owned(),
                name: l.name.to_owned(),
                length: l.name.len(),
                limit: limits.name_length,
            });
        }
        if limits.value_length > 0 && l.value.len() > limits.value_length {
            return Err(ScrapeAppendError::LabelValueLength {
                metric: metric.to_owned(),
                name: l.name.to_owned(),
                value: l.value.chars().take(50).collect(),
                length: l.value.len(),
                limit: limits.value_length,
            });
        }
    }
    Ok(())
}

/// The label set an exposition sample names, `__name__` included.
fn exposed_labels(s: &crate::exposition::Sample<'_>) -> Result<Labels, crate::model::LabelsError> {
    let name = s.name.get();
    let pairs = std::iter::once(("__name__".to_owned(), name.into_owned())).chain(
        s.labels
            .iter()
            .map(|l| (l.name.get().into_owned(), l.value.get().into_owned())),
    );
    Labels::new(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Matcher, is_stale_nan};
    use crate::tsdb::{Db, Options};

    fn opts() -> AppendOptions {
        AppendOptions {
            honor_timestamps: true,
            ..Default::default()
        }
    }

    fn target() -> Labels {
        Labels::new([("job", "node"), ("instance", "h:9100")]).unwrap()
    }

    /// Every stored sample as (labels, t, value or "stale").
    fn dump(db: &Db) -> Vec<(String, i64, String)> {
        let mut out = Vec::new();
        for s in db.querier(i64::MIN, i64::MAX).select(&[]).unwrap() {
            for x in s.iter() {
                let v = if is_stale_nan(x.v) {
                    "stale".to_owned()
                } else {
                    x.v.to_string()
                };
                out.push((s.labels().to_string(), x.t, v));
            }
        }
        out
    }

    fn scrape(
        db: &Db,
        cache: &mut ScrapeCache,
        body: &str,
        t: i64,
        o: &AppendOptions,
    ) -> Result<ScrapeCounts, ScrapeAppendError> {
        let mut app = db.appender();
        let body = ScrapeBody {
            bytes: body.as_bytes(),
            format: Format::Text,
            t,
        };
        let r = cache
            .append_scrape(&mut app, body, &target(), o)
            .map_err(|f| f.error);
        match &r {
            Ok(_) => app.commit().unwrap(),
            Err(_) => {
                app.rollback();
                cache.append_failure(&mut app, t);
                app.commit().unwrap();
            }
        }
        r
    }

    #[test]
    fn vanished_series_get_a_stale_marker_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        let c = scrape(&db, &mut cache, "a 1\nb 2\n", 1000, &opts()).unwrap();
        assert_eq!((c.scraped, c.post_relabel, c.series_added), (2, 2, 2));
        let c = scrape(&db, &mut cache, "a 3\n", 2000, &opts()).unwrap();
        assert_eq!(c.series_added, 0);
        scrape(&db, &mut cache, "a 4\n", 3000, &opts()).unwrap();
        let b: Vec<_> = dump(&db)
            .into_iter()
            .filter(|x| x.0.starts_with("b{"))
            .map(|x| (x.1, x.2))
            .collect();
        assert_eq!(b, [(1000, "2".to_owned()), (2000, "stale".to_owned())]);
        // Back again: a new series for the cache, stored after its marker.
        let c = scrape(&db, &mut cache, "a 5\nb 6\n", 4000, &opts()).unwrap();
        assert_eq!(c.series_added, 1);
    }

    /// The cache reads its entries in the order of the first scrape; a target
    /// that reorders its series, adds one in the middle or drops one (forgotten
    /// after two scrapes, which renumbers the entries) still gets every sample
    /// into its own series.
    #[test]
    fn reordered_inserted_and_forgotten_series_keep_their_samples() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        let bodies = [
            "a 1\nb 1\nc 1\nd 1\n",
            "d 2\nc 2\nb 2\na 2\n",
            "a 3\nx 3\nb 3\nd 3\n",
            "b 4\nx 4\na 4\nd 4\n",
            "x 5\nd 5\nb 5\na 5\n",
            "c 6\na 6\nd 6\nx 6\nb 6\n",
        ];
        let mut added = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let t = 1000 * (i as i64 + 1);
            added.push(
                scrape(&db, &mut cache, body, t, &opts())
                    .unwrap()
                    .series_added,
            );
        }
        // c leaves at scrape 3 and is forgotten after scrape 5: new again at 6.
        assert_eq!(added, [4, 0, 1, 0, 0, 1]);
        let series = |name: &str| -> Vec<(i64, String)> {
            dump(&db)
                .into_iter()
                .filter(|x| x.0.starts_with(&format!("{name}{{")))
                .map(|x| (x.1, x.2))
                .collect()
        };
        let values = |v: &[(i64, &str)]| -> Vec<(i64, String)> {
            v.iter().map(|&(t, s)| (t, s.to_owned())).collect()
        };
        for name in ["a", "b", "d"] {
            let want: Vec<(i64, String)> = (1..=6).map(|i| (1000 * i, i.to_string())).collect();
            assert_eq!(series(name), want, "series {name}");
        }
        assert_eq!(
            series("c"),
            values(&[(1000, "1"), (2000, "2"), (3000, "stale"), (6000, "6")])
        );
        assert_eq!(
            series("x"),
            values(&[(3000, "3"), (4000, "4"), (5000, "5"), (6000, "6")])
        );
    }

    #[test]
    fn target_labels_win_unless_honor_labels() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let exposed =
            Labels::new([("__name__", "m"), ("job", "mine"), ("exported_job", "x")]).unwrap();
        let merged = merge_target_labels(&exposed, &target(), false);
        assert_eq!(
            merged.to_string(),
            r#"m{exported_exported_job="mine", exported_job="x", instance="h:9100", job="node"}"#
        );
        let honored = merge_target_labels(&exposed, &target(), true);
        assert_eq!(
            honored.to_string(),
            r#"m{exported_job="x", instance="h:9100", job="mine"}"#
        );
        let mut cache = ScrapeCache::new();
        scrape(&db, &mut cache, "m{job=\"mine\"} 1\n", 1000, &opts()).unwrap();
        assert_eq!(
            dump(&db)[0].0,
            r#"m{exported_job="mine", instance="h:9100", job="node"}"#
        );
    }

    #[test]
    fn explicit_timestamps_are_kept_or_not_and_never_go_stale() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        scrape(&db, &mut cache, "a 1 500\n", 1000, &opts()).unwrap();
        scrape(&db, &mut cache, "", 2000, &opts()).unwrap();
        assert_eq!(
            dump(&db),
            [(
                "a{instance=\"h:9100\", job=\"node\"}".to_owned(),
                500,
                "1".to_owned()
            )]
        );
        let o = AppendOptions {
            honor_timestamps: false,
            ..opts()
        };
        scrape(&db, &mut cache, "c 1 500\n", 3000, &o).unwrap();
        assert!(
            dump(&db)
                .iter()
                .any(|x| x.0.starts_with("c{") && x.1 == 3000)
        );
    }

    #[test]
    fn sample_limit_and_parse_errors_fail_the_scrape_and_mark_everything_stale() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        let limited = AppendOptions {
            sample_limit: 2,
            ..opts()
        };
        scrape(&db, &mut cache, "a 1\nb 1\n", 1000, &limited).unwrap();
        let err = scrape(&db, &mut cache, "a 2\nb 2\nc 2\n", 2000, &limited).unwrap_err();
        assert_eq!(err, ScrapeAppendError::SampleLimit { limit: 2 });
        let err = scrape(&db, &mut cache, "a 3\nb{ 3\n", 3000, &limited).unwrap_err();
        assert!(matches!(err, ScrapeAppendError::Parse(_)), "{err}");
        let got = dump(&db);
        // Nothing of the failed scrapes is stored; a and b went stale at 2000 once.
        assert_eq!(
            got.iter()
                .map(|x| (x.0.chars().next().unwrap(), x.1, x.2.as_str()))
                .collect::<Vec<_>>(),
            [
                ('a', 1000, "1"),
                ('a', 2000, "stale"),
                ('b', 1000, "1"),
                ('b', 2000, "stale")
            ]
        );
    }

    #[test]
    fn metric_relabeling_drops_and_the_report_series_carry_target_labels() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        let yaml = "scrape_configs:\n  - job_name: j\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: b\n        action: drop\n";
        let drop_b = AppendOptions {
            metric_relabel: crate::config::Config::parse(yaml).unwrap().scrape_configs[0]
                .metric_relabel_configs
                .clone(),
            ..opts()
        };
        let mut app = db.appender();
        let c = cache
            .append_scrape(
                &mut app,
                ScrapeBody {
                    bytes: b"a 1\nb 2\n",
                    format: Format::Text,
                    t: 1000,
                },
                &target(),
                &drop_b,
            )
            .unwrap();
        assert_eq!((c.scraped, c.post_relabel), (2, 1));
        cache
            .append_report(&mut app, &target(), 1000, 0.25, true, c)
            .unwrap();
        cache
            .append_report(&mut app, &target(), 2000, 0.5, false, c)
            .unwrap();
        app.commit().unwrap();
        let q = db.querier(i64::MIN, i64::MAX);
        let up: Vec<_> = q
            .select(&[Matcher::equal("__name__", "up")])
            .unwrap()
            .flat_map(|s| {
                assert_eq!(
                    s.labels().to_string(),
                    r#"up{instance="h:9100", job="node"}"#
                );
                s.iter().map(|x| (x.t, x.v)).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(up, [(1000, 1.0), (2000, 0.0)]);
        let scraped: Vec<_> = q
            .select(&[Matcher::equal("__name__", "scrape_samples_scraped")])
            .unwrap()
            .flat_map(|s| s.iter().map(|x| x.v).collect::<Vec<_>>())
            .collect();
        assert_eq!(scraped, [2.0, 2.0]);
        let names = q.label_values("__name__", &[]).unwrap();
        assert_eq!(
            names,
            [
                "a",
                "scrape_duration_seconds",
                "scrape_samples_post_metric_relabeling",
                "scrape_samples_scraped",
                "scrape_series_added",
                "up"
            ]
        );
    }

    #[test]
    fn a_failed_append_reports_its_counts_to_the_end_of_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut cache = ScrapeCache::new();
        let limited = AppendOptions {
            sample_limit: 2,
            ..opts()
        };
        let mut app = db.appender();
        let body = ScrapeBody {
            bytes: b"a 1\nb 1\nc 1\nd 1\n",
            format: Format::Text,
            t: 1000,
        };
        let failure = cache
            .append_scrape(&mut app, body, &target(), &limited)
            .unwrap_err();
        assert_eq!(failure.error.to_string(), "sample limit exceeded");
        assert_eq!(
            (failure.counts.scraped, failure.counts.post_relabel),
            (4, 4)
        );
        app.rollback();
    }

    #[test]
    fn label_limits_and_nameless_series_fail_the_scrape_with_prometheus_messages() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let with = |limits: LabelLimits| AppendOptions {
            label_limits: limits,
            ..opts()
        };
        let mut cache = ScrapeCache::new();
        // job and instance count: 4 labels with __name__.
        let err = scrape(
            &db,
            &mut cache,
            "m{a=\"1\"} 1\n",
            1000,
            &with(LabelLimits {
                count: 3,
                ..Default::default()
            }),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "label_limit exceeded (metric: m, number of labels: 4, limit: 3)"
        );
        let err = scrape(
            &db,
            &mut cache,
            "m{long_name=\"1\"} 1\n",
            2000,
            &with(LabelLimits {
                name_length: 8,
                ..Default::default()
            }),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "label_name_length_limit exceeded (metric: m, label name: long_name, length: 9, limit: 8)"
        );
        let err = scrape(
            &db,
            &mut cache,
            "m{a=\"123456\"} 1\n",
            3000,
            &with(LabelLimits {
                value_length: 5,
                ..Default::default()
            }),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "label_value_length_limit exceeded (metric: m, label name: a, value: \"123456\", length: 6, limit: 5)"
        );
        let yaml = "scrape_configs:\n  - job_name: j\n    metric_relabel_configs:\n      - action: labeldrop\n        regex: __name__\n";
        let nameless = AppendOptions {
            metric_relabel: crate::config::Config::parse(yaml).unwrap().scrape_configs[0]
                .metric_relabel_configs
                .clone(),
            ..opts()
        };
        let err = scrape(&db, &mut cache, "m 1\n", 4000, &nameless).unwrap_err();
        assert_eq!(err, ScrapeAppendError::MissingName);
        assert!(dump(&db).is_empty());
    }
}
