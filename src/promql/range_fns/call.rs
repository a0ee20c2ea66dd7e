//! A range function call's pieces that both forms share: which argument is
//! the range vector, the annotations and argument errors, and the function's
//! value over one series' window.

use promql_parser::parser::Expr;

use super::kernels as rf;
use crate::model::float;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::error::{PromqlError, Result};
use crate::promql::position::{arg_position, position};
use crate::promql::value::Point;

/// The range-vector argument of a range function and the positions of its other
/// (scalar) arguments: `quantile_over_time(φ, m)` has it second.
pub(crate) fn range_arg_positions(name: &str, nargs: usize) -> (usize, Vec<usize>) {
    if name == "quantile_over_time" {
        (1, vec![0])
    } else {
        (0, (1..nargs).collect())
    }
}

/// The annotations and argument errors of a range function call, given its
/// range argument and the values of its scalar arguments.
pub(crate) fn check_range_call(
    ev: &mut Evaluator<'_>,
    name: &str,
    marg: &Expr,
    extra: &[f64],
) -> Result<()> {
    if matches!(name, "rate" | "increase" | "irate")
        && let Some(metric) = selector_text_start(marg)
        && !["_total", "_sum", "_count", "_bucket"]
            .iter()
            .any(|s| metric.ends_with(s))
    {
        let pos = position(&ev.query, &metric);
        ev.info(format!(
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}{pos}"
        ));
    }
    if matches!(name, "double_exponential_smoothing" | "holt_winters") {
        let (sf, tf) = (extra[0], extra[1]);
        if !(sf > 0.0 && sf < 1.0) {
            return Err(PromqlError::execution(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
                float::format_f(sf)
            )));
        }
        if !(tf > 0.0 && tf < 1.0) {
            return Err(PromqlError::execution(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {}",
                float::format_f(tf)
            )));
        }
    }
    if name == "quantile_over_time" && !(0.0..=1.0).contains(&extra[0]) {
        let pos = arg_position(&ev.query, name, 0);
        ev.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}{pos}",
            float::format_g_wide(extra[0])
        ));
    }
    Ok(())
}

/// Whether a range function keeps the metric name (the `*_over_time` functions
/// that return a sample as it is).
pub(crate) fn range_fn_keeps_name(name: &str) -> bool {
    matches!(name, "last_over_time" | "first_over_time")
}

/// A range function over one series' points in the window `(start, end]`,
/// evaluated at `t`; `None` when it has no value there.
pub(crate) fn range_fn_value(
    name: &str,
    p: &[Point],
    start: i64,
    end: i64,
    t: i64,
    extra: &[f64],
) -> Result<Option<f64>> {
    if p.is_empty() {
        return Ok(None);
    }
    Ok(match name {
        "rate" => rf::extrapolated_rate(p, start, end, true, true),
        "increase" => rf::extrapolated_rate(p, start, end, true, false),
        "delta" => rf::extrapolated_rate(p, start, end, false, false),
        "irate" => rf::instant_rate(p, true),
        "idelta" => rf::instant_rate(p, false),
        "deriv" => (p.len() >= 2).then(|| rf::linear_regression(p, p[0].t).0),
        "predict_linear" => (p.len() >= 2).then(|| {
            let (slope, icept) = rf::linear_regression(p, t);
            icept + slope * extra[0]
        }),
        "changes" => Some(rf::changes(p)),
        "resets" => Some(rf::resets(p)),
        "avg_over_time" => Some(rf::avg(p)),
        "sum_over_time" => Some(rf::sum(p)),
        "min_over_time" => Some(rf::min(p)),
        "max_over_time" => Some(rf::max(p)),
        "count_over_time" => Some(p.len() as f64),
        "last_over_time" => Some(p[p.len() - 1].v),
        "first_over_time" => Some(p[0].v),
        "present_over_time" => Some(1.0),
        "stddev_over_time" => Some(rf::variance(p).sqrt()),
        "stdvar_over_time" => Some(rf::variance(p)),
        "quantile_over_time" => Some(rf::quantile_over(extra[0], p)),
        "mad_over_time" => Some(rf::mad(p)),
        "ts_of_min_over_time" => Some(rf::ts_of_extreme(p, false)),
        "ts_of_max_over_time" => Some(rf::ts_of_extreme(p, true)),
        "ts_of_last_over_time" => Some(p[p.len() - 1].t as f64 / 1000.0),
        "ts_of_first_over_time" => Some(p[0].t as f64 / 1000.0),
        "double_exponential_smoothing" | "holt_winters" => {
            rf::double_exponential_smoothing(p, extra[0], extra[1])
        }
        _ => {
            return Err(PromqlError::bad_data(format!(
                "function {name:?} is not supported"
            )));
        }
    })
}

fn selector_text_start(e: &Expr) -> Option<String> {
    match e {
        Expr::MatrixSelector(ms) => ms.vs.name.clone(),
        Expr::VectorSelector(vs) => vs.name.clone(),
        _ => None,
    }
}
