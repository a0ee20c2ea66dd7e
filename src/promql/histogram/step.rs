//! The histogram functions at one evaluation time.

use std::collections::HashMap;

use promql_parser::parser::Call;

use super::buckets::{bucket_fraction, bucket_quantile};
use super::notes::{check_quantile, note_forced_monotonicity};
use crate::model::{Labels, float};
use crate::promql::context::args::{arg_scalar, arg_string, arg_vector};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::labels::{labels_set, labels_without};
use crate::promql::error::Result;
use crate::promql::position::arg_position;
use crate::promql::value::ESample;

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
