//! The annotations of the histogram functions, in both forms.

use super::buckets::Quantile;
use crate::model::{Labels, float};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::position::arg_position;

/// Warns of a φ outside [0, 1], at argument `arg` of `func`.
pub(crate) fn check_quantile(ev: &mut Evaluator<'_>, q: f64, func: &str, arg: usize) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        let pos = arg_position(&ev.query, func, arg);
        ev.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}{pos}",
            float::format_g_wide(q)
        ));
    }
}

/// Notes a histogram made monotonic to compute `r`.
pub(crate) fn note_forced_monotonicity(
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
