//! Selectors at one evaluation time: an instant selector's latest sample per
//! series, a range selector's samples in its window.

use promql_parser::parser::VectorSelector;

use crate::model::is_stale_nan;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::error::Result;
use crate::promql::value::{ESample, ESeries, Point};

/// The latest sample of each series at or before the reference time and within
/// the lookback delta, unless it is a staleness marker.
pub(crate) fn vector(ev: &mut Evaluator<'_>, vs: &VectorSelector, t: i64) -> Result<Vec<ESample>> {
    ev.check()?;
    let r = ev.ref_time(&vs.at, &vs.offset, t);
    let lo = r.saturating_sub(ev.lookback);
    let mut out = Vec::new();
    for s in ev.loaded(vs)? {
        let Some((ts, v)) = s.latest(r, lo) else {
            continue;
        };
        out.push(ESample {
            labels: s.labels.clone(),
            t: ts,
            v,
            drop_name: false,
        });
    }
    ev.hold(out.len())?;
    Ok(out)
}

/// The samples of each series in `(ref - range, ref]`, staleness markers left
/// out; series with none are omitted.
pub(crate) fn matrix(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    range: i64,
    t: i64,
) -> Result<Vec<ESeries>> {
    ev.check()?;
    let r = ev.ref_time(&vs.at, &vs.offset, t);
    let lo = r.saturating_sub(range);
    let mut out = Vec::new();
    let mut n = 0;
    for s in ev.loaded(vs)? {
        let a = s.samples.partition_point(|&(ts, _)| ts <= lo);
        let b = s.samples.partition_point(|&(ts, _)| ts <= r);
        if a >= b {
            continue;
        }
        let points: Vec<Point> = s.samples[a..b]
            .iter()
            .filter(|(_, v)| !is_stale_nan(*v))
            .map(|&(t, v)| Point { t, v })
            .collect();
        if points.is_empty() {
            continue;
        }
        n += points.len();
        out.push(ESeries {
            labels: s.labels.clone(),
            points,
            drop_name: false,
        });
    }
    ev.hold(n)?;
    Ok(out)
}
