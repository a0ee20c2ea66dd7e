//! Functions over classic histograms (series of `le` buckets):
//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`.
//!
//! Buckets are grouped by their labels without `le` (the metric name kept, so two
//! histograms of different names never mix), then sorted, coalesced and made
//! monotonic as Prometheus does (`promql/quantile.go`).

use std::collections::HashMap;

use promql_parser::parser::Call;

use super::columnar::{Col, Steps};
use super::engine::Evaluator;
use super::error::Result;
use super::functions::{arg_scalar, arg_string, arg_vector};
use super::position::arg_position;
use super::value::{ESample, labels_set, labels_without};
use crate::model::{Labels, float};

/// One classic histogram at one time: its labels without `le` and its
/// `(upper bound, cumulative count)` buckets.
struct BucketGroup {
    labels: Labels,
    buckets: Vec<(f64, f64)>,
}

/// Groups `v` into histograms; samples without a parsable `le` are left out with
/// a warning at the position of argument `arg` of function `func`.
fn group_buckets(
    ev: &mut Evaluator<'_>,
    v: &[ESample],
    func: &str,
    arg: usize,
) -> Vec<BucketGroup> {
    let mut groups: Vec<BucketGroup> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for s in v {
        let raw = s.labels.get("le").unwrap_or("");
        let Some(le) = float::parse(raw) else {
            let metric = s.labels.metric_name().unwrap_or("");
            let pos = arg_position(&ev.query, func, arg);
            ev.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {raw:?} for metric name {metric:?}{pos}"
            ));
            continue;
        };
        let key = labels_without(&s.labels, &["le"]);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(BucketGroup {
                labels: key,
                buckets: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].buckets.push((le, s.v));
    }
    groups
}

/// `histogram_quantile(φ, buckets)`.
pub(crate) fn histogram_quantile(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Vec<ESample>> {
    let args = &c.args.args;
    let q = arg_scalar(ev.eval(&args[0], t)?, "histogram_quantile")?;
    let v = arg_vector(ev.eval(&args[1], t)?, "histogram_quantile")?;
    check_quantile(ev, q, "histogram_quantile", 0);
    let groups = group_buckets(ev, &v, "histogram_quantile", 1);
    let mut out = Vec::with_capacity(groups.len());
    for mut g in groups {
        let r = bucket_quantile(q, &mut g.buckets);
        note_forced_monotonicity(ev, &r, &g.labels, "histogram_quantile", 1, t);
        out.push(ESample {
            labels: g.labels,
            t,
            v: r.value,
            drop_name: true,
        });
    }
    Ok(out)
}

/// `histogram_quantile(φ, buckets)` with a literal φ over all steps of a range
/// query at once (`columnar.rs`). Each bucket series' `le` is parsed and its
/// histogram found once, not at every step; at each step a histogram's buckets
/// are taken in the order of `input`, as the step-wise evaluator takes them, so
/// the answers are the same.
pub(crate) fn histogram_quantile_cols(
    ev: &mut Evaluator<'_>,
    q: f64,
    input: Vec<Col>,
    steps: Steps,
) -> Vec<Col> {
    if steps.n == 0 {
        return Vec::new();
    }
    check_quantile(ev, q, "histogram_quantile", 0);
    let mut index: HashMap<Labels, usize> = HashMap::new();
    // Each histogram's members: (bucket bound, input column).
    let mut groups: Vec<(Labels, Vec<(f64, usize)>)> = Vec::new();
    for (ci, c) in input.iter().enumerate() {
        if !c.present.contains(&true) {
            continue;
        }
        let raw = c.labels.get("le").unwrap_or("");
        let Some(le) = float::parse(raw) else {
            let metric = c.labels.metric_name().unwrap_or("");
            let pos = arg_position(&ev.query, "histogram_quantile", 1);
            ev.warn(format!(
                "PromQL warning: bucket label \"le\" is missing or has a malformed value of {raw:?} for metric name {metric:?}{pos}"
            ));
            continue;
        };
        let key = labels_without(&c.labels, &["le"]);
        let gi = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[gi].1.push((le, ci));
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for (labels, members) in groups {
        let mut col = Col::empty(labels, true, steps.n);
        for i in 0..steps.n {
            buckets.clear();
            buckets.extend(
                members
                    .iter()
                    .filter(|&&(_, ci)| input[ci].present[i])
                    .map(|&(le, ci)| (le, input[ci].vals[i])),
            );
            if buckets.is_empty() {
                continue;
            }
            let r = bucket_quantile(q, &mut buckets);
            note_forced_monotonicity(ev, &r, &col.labels, "histogram_quantile", 1, steps.t(i));
            col.vals[i] = r.value;
            col.present[i] = true;
        }
        out.push(col);
    }
    out
}

/// `histogram_quantiles(buckets, "label", φ1, φ2, …)`: one series per histogram
/// and quantile, told apart by `label`.
pub(crate) fn histogram_quantiles(
    ev: &mut Evaluator<'_>,
    c: &Call,
    t: i64,
) -> Result<Vec<ESample>> {
    let args = &c.args.args;
    let v = arg_vector(ev.eval(&args[0], t)?, "histogram_quantiles")?;
    let label = arg_string(ev.eval(&args[1], t)?, "histogram_quantiles")?;
    let mut qs = Vec::with_capacity(args.len().saturating_sub(2));
    for (i, a) in args.iter().enumerate().skip(2) {
        let q = arg_scalar(ev.eval(a, t)?, "histogram_quantiles")?;
        check_quantile(ev, q, "histogram_quantiles", i);
        qs.push(q);
    }
    let mut groups = group_buckets(ev, &v, "histogram_quantiles", 0);
    let mut out = Vec::with_capacity(groups.len() * qs.len());
    for &q in &qs {
        let q_str = float::format_f_with_point(q);
        for g in &mut groups {
            let r = bucket_quantile(q, &mut g.buckets);
            note_forced_monotonicity(ev, &r, &g.labels, "histogram_quantiles", 0, t);
            out.push(ESample {
                labels: labels_set(&g.labels, &label, &q_str),
                t,
                v: r.value,
                drop_name: true,
            });
        }
    }
    Ok(out)
}

/// `histogram_fraction(lower, upper, buckets)`.
pub(crate) fn histogram_fraction(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Vec<ESample>> {
    let args = &c.args.args;
    let lower = arg_scalar(ev.eval(&args[0], t)?, "histogram_fraction")?;
    let upper = arg_scalar(ev.eval(&args[1], t)?, "histogram_fraction")?;
    let v = arg_vector(ev.eval(&args[2], t)?, "histogram_fraction")?;
    let groups = group_buckets(ev, &v, "histogram_fraction", 2);
    Ok(groups
        .into_iter()
        .map(|mut g| ESample {
            v: bucket_fraction(lower, upper, &mut g.buckets),
            labels: g.labels,
            t,
            drop_name: true,
        })
        .collect())
}

fn check_quantile(ev: &mut Evaluator<'_>, q: f64, func: &str, arg: usize) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        let pos = arg_position(&ev.query, func, arg);
        ev.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}{pos}",
            float::format_g_wide(q)
        ));
    }
}

fn note_forced_monotonicity(
    ev: &mut Evaluator<'_>,
    r: &Quantile,
    labels: &Labels,
    func: &str,
    arg: usize,
    t: i64,
) {
    if let Some(f) = r.forced {
        let metric = labels.metric_name().unwrap_or("").to_string();
        let pos = arg_position(&ev.query, func, arg);
        ev.note_monotonicity(metric, pos, t, f);
    }
}

/// Where bucket counts had to be raised to keep them monotonic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Forced {
    pub min_bucket: f64,
    pub max_bucket: f64,
    pub max_diff: f64,
}

/// The info Prometheus gives for histograms made monotonic, merged over the
/// evaluation steps of one metric and position.
#[derive(Debug, Clone)]
pub(crate) struct MonotonicityNote {
    pub metric: String,
    pub pos: String,
    pub min_t: i64,
    pub max_t: i64,
    pub forced: Forced,
    pub count: usize,
}

impl MonotonicityNote {
    pub fn merge(&mut self, t: i64, f: Forced) {
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
        self.forced.min_bucket = self.forced.min_bucket.min(f.min_bucket);
        self.forced.max_bucket = self.forced.max_bucket.max(f.max_bucket);
        self.forced.max_diff = self.forced.max_diff.max(f.max_diff);
        self.count += 1;
    }

    pub fn message(&self) -> String {
        let name = if self.metric.is_empty() {
            String::new()
        } else {
            format!(" for metric name {:?}", self.metric)
        };
        format!(
            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile){name}, from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}{}",
            float::format_g_wide(self.forced.min_bucket),
            float::format_g_wide(self.forced.max_bucket),
            float::format_g2(self.forced.max_diff),
            self.count,
            rfc3339(self.min_t),
            rfc3339(self.max_t),
            self.pos
        )
    }
}

/// `2006-01-02T15:04:05Z` of a millisecond timestamp (seconds precision).
fn rfc3339(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = super::functions::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// The result of [`bucket_quantile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantile {
    pub value: f64,
    pub forced: Option<Forced>,
}

/// Sorts buckets by bound, merges equal bounds; `None` when the last is not +Inf.
fn prepare(b: &mut Vec<(f64, f64)>) -> bool {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    if b.last().map(|x| x.0) != Some(f64::INFINITY) {
        return false;
    }
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for &(le, n) in b.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == le => last.1 += n,
            _ => merged.push((le, n)),
        }
    }
    *b = merged;
    true
}

/// Prometheus's `almost.Equal`: within a relative `eps`.
fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// Ignores numerically insignificant differences between neighbouring buckets,
/// then raises any count below its predecessor's.
fn make_monotonic(b: &mut [(f64, f64)]) -> Option<Forced> {
    let mut f = Forced {
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        max_diff: 0.0,
    };
    let mut forced = false;
    let &(_, mut prev) = b.first()?;
    for x in b.iter_mut().skip(1) {
        let curr = x.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            x.1 = prev;
            continue;
        }
        if curr < prev {
            x.1 = prev;
            forced = true;
            f.min_bucket = f.min_bucket.min(x.0);
            f.max_bucket = f.max_bucket.max(x.0);
            f.max_diff = f.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    forced.then_some(f)
}

/// The φ-quantile of classic buckets `(upper bound, cumulative count)`.
pub(crate) fn bucket_quantile(q: f64, b: &mut Vec<(f64, f64)>) -> Quantile {
    let value = |v| Quantile {
        value: v,
        forced: None,
    };
    if q.is_nan() {
        return value(f64::NAN);
    }
    if q < 0.0 {
        return value(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return value(f64::INFINITY);
    }
    if !prepare(b) {
        return value(f64::NAN);
    }
    let forced = make_monotonic(b);
    let done = |v| Quantile { value: v, forced };
    if b.len() < 2 {
        return done(f64::NAN);
    }
    let obs = b[b.len() - 1].1;
    if obs == 0.0 {
        return done(f64::NAN);
    }
    let mut rank = q * obs;
    let n = b.len() - 1;
    let i = b[..n].partition_point(|x| x.1 < rank);
    if i == n {
        return done(b[n - 1].0);
    }
    if i == 0 && b[0].0 <= 0.0 {
        return done(b[0].0);
    }
    let (mut start, end, mut count) = (0.0, b[i].0, b[i].1);
    if i > 0 {
        start = b[i - 1].0;
        count -= b[i - 1].1;
        rank -= b[i - 1].1;
    }
    done(start + (end - start) * (rank / count))
}

/// The fraction of observations between `lower` and `upper`, interpolated
/// linearly within buckets.
pub(crate) fn bucket_fraction(lower: f64, upper: f64, b: &mut Vec<(f64, f64)>) -> f64 {
    if !prepare(b) {
        return f64::NAN;
    }
    let count = b[b.len() - 1].1;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if b[0].0 <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, &(upper_bound, n)) in b.iter().enumerate() {
        if i > 0 {
            lower_bound = b[i - 1].0;
        }
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                n
            } else {
                rank + (n - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = n;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_quantile_interpolates_and_fixes_monotonicity() {
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).value, 1.0);
        let mut b = vec![(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 20.0)];
        let r = bucket_quantile(0.5, &mut b);
        assert_eq!(
            r.forced,
            Some(Forced {
                min_bucket: 2.0,
                max_bucket: 2.0,
                max_diff: 5.0
            })
        );
    }

    #[test]
    fn tiny_decreases_are_not_reported() {
        let mut b = vec![(1.0, 10.0), (2.0, 10.0 - 1e-14), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).forced, None);
    }

    #[test]
    fn fraction_between_bounds() {
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(0.0, 1.0, &mut b), 0.5);
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(1.5, 1.0, &mut b), 0.0);
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(0.5, 1.5, &mut b), 0.5);
    }
}
