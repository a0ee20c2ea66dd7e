//! `histogram_quantile` with a literal φ in a range query, at all steps at
//! once.

use std::collections::HashMap;

use promql_parser::parser::Expr;

use super::buckets::bucket_quantile;
use super::notes::{check_quantile, note_forced_monotonicity};
use crate::model::{Labels, float};
use crate::promql::context::columns::{Col, Cols, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::labels::labels_without;
use crate::promql::error::{PromqlError, Result};
use crate::promql::position::arg_position;

/// `histogram_quantile(q, buckets)` at all `steps`, its buckets evaluated by
/// columns, then grouped into histograms once for all steps.
pub(crate) fn quantile(
    ev: &mut Evaluator<'_>,
    q: f64,
    buckets: &Expr,
    steps: Steps,
) -> Result<Cols> {
    match ev.eval_cols(buckets, steps)? {
        Cols::Vector(input) => Ok(Cols::Vector(histogram_quantile_cols(ev, q, input, steps))),
        Cols::Scalar(_) => Err(PromqlError::bad_data("expected an instant vector")),
    }
}

/// `histogram_quantile(φ, buckets)` with a literal φ over all steps of a range
/// query at once. Each bucket series' `le` is parsed and its
/// histogram found once, not at every step; at each step a histogram's buckets
/// are taken in the order of `input`, as the step-wise evaluator takes them, so
/// the answers are the same.
fn histogram_quantile_cols(
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
