//! Range functions of a range query at all steps at once, over a range
//! selector: each series' window slides forward over its samples from step
//! to step, the series computed in parts on all cores.

use promql_parser::parser::{Call, Expr, MatrixSelector};

use super::call::{check_range_call, range_arg_positions, range_fn_keeps_name, range_fn_value};
use super::kernels::{extrapolated_rate_known_resets, range_seconds};
use crate::model::{Labels, is_stale_nan};
use crate::promql::context::columns::{Col, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::{literal, unparen};
use crate::promql::context::parts::in_parts;
use crate::promql::context::selected::Batch;
use crate::promql::context::time::dur_ms;
use crate::promql::error::Result;
use crate::promql::value::Point;

/// Range functions evaluated here (all of them take a matrix selector and, at
/// most, number literals).
const RANGE_FNS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "predict_linear",
    "changes",
    "resets",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "count_over_time",
    "last_over_time",
    "first_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
    "mad_over_time",
    "ts_of_min_over_time",
    "ts_of_max_over_time",
    "ts_of_last_over_time",
    "ts_of_first_over_time",
];

/// The range-vector argument of a range function call handled here (as an
/// expression, for the annotations, and as a selector) and its other arguments'
/// values.
pub(crate) fn range_call_parts(c: &Call) -> Option<(&Expr, &MatrixSelector, Vec<f64>)> {
    let name = c.func.name;
    if !RANGE_FNS.contains(&name) {
        return None;
    }
    let args = &c.args.args;
    let (mi, others) = range_arg_positions(name, args.len());
    let marg = unparen(args.get(mi)?);
    let Expr::MatrixSelector(ms) = marg else {
        return None;
    };
    let want_extra = match name {
        "predict_linear" | "quantile_over_time" => 1,
        _ => 0,
    };
    if others.len() != want_extra {
        return None;
    }
    let extra = others
        .iter()
        .map(|&i| literal(&args[i]))
        .collect::<Option<Vec<f64>>>()?;
    Some((marg, ms, extra))
}

/// A range function over a matrix selector: each series' window slides forward
/// over its samples (stale markers left out) from step to step. Series are
/// computed in parts on all cores, and handed to `f` in their order while the
/// parts after them are computed.
pub(crate) fn each(
    ev: &mut Evaluator<'_>,
    name: &str,
    marg: &Expr,
    ms: &MatrixSelector,
    extra: &[f64],
    steps: Steps,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    check_range_call(ev, name, marg, extra)?;
    let w = Window {
        name,
        range: dur_ms(&ms.range),
        ends: ev.ref_times(&ms.vs, steps),
        extra,
        steps,
    };
    // Series not read yet are read here, part by part, by the thread that
    // computes them: their samples are used while in cache and never all held.
    let all = Batch::of(ev.selected(&ms.vs));
    in_parts(ev, all, |part| w.series(part), f)
}

/// A range function's call, shared by the threads computing it.
struct Window<'a> {
    name: &'a str,
    range: i64,
    /// The end of the window at each step.
    ends: Vec<i64>,
    extra: &'a [f64],
    steps: Steps,
}

impl Window<'_> {
    /// The function over each of `series` at every step (`None`: no value at
    /// any step).
    fn series(&self, batch: Batch<'_>) -> Result<Vec<Option<Col>>> {
        let mut scratch = Scratch::default();
        batch.map(|labels, samples| self.one(labels, samples, &mut scratch))
    }

    /// The function over one series at every step.
    fn one(
        &self,
        labels: &Labels,
        samples: &[(i64, f64)],
        scratch: &mut Scratch,
    ) -> Result<Option<Col>> {
        let counter = matches!(self.name, "rate" | "increase");
        let rate = self.name == "rate";
        let Scratch { pts, drops, bounds } = scratch;
        pts.clear();
        pts.extend(
            samples
                .iter()
                .filter(|(_, v)| !is_stale_nan(*v))
                .map(|&(t, v)| Point { t, v }),
        );
        if counter {
            // drops[j]: how many of the first j pairs of neighbours decrease,
            // so that a window knows in O(1) whether a counter reset lies in it.
            drops.clear();
            drops.push(0);
            let mut n = 0;
            for w in pts.windows(2) {
                n += u32::from(w[1].v < w[0].v);
                drops.push(n);
            }
        }
        // Every step's window first, then the function over each: the search
        // for the bounds branches on the data, and kept out of the loop that
        // computes the values it no longer stops the processor from working
        // on several windows' divisions at once.
        bounds.clear();
        let (mut a, mut b) = (0, 0);
        for (i, &end) in self.ends.iter().enumerate() {
            if i > 0 && end < self.ends[i - 1] {
                (a, b) = (0, 0);
            }
            let start = end.saturating_sub(self.range);
            while a < pts.len() && pts[a].t <= start {
                a += 1;
            }
            b = b.max(a);
            while b < pts.len() && pts[b].t <= end {
                b += 1;
            }
            bounds.push((a, b));
        }
        let mut col: Option<Col> = None;
        // The same for every window but one cut short at the earliest time.
        let full_window = range_seconds(0, self.range);
        for (i, (&end, &(a, b))) in self.ends.iter().zip(bounds.iter()).enumerate() {
            let start = end.saturating_sub(self.range);
            let p = &pts[a..b];
            let v = if counter {
                let may_reset = b - a >= 2 && drops[b - 1] > drops[a];
                let per_second = rate.then(|| {
                    if end - start == self.range {
                        full_window
                    } else {
                        range_seconds(start, end)
                    }
                });
                extrapolated_rate_known_resets(p, start, end, true, per_second, may_reset)
            } else {
                range_fn_value(self.name, p, start, end, self.steps.t(i), self.extra)?
            };
            if let Some(v) = v {
                let c = col.get_or_insert_with(|| {
                    Col::empty(
                        labels.clone(),
                        !range_fn_keeps_name(self.name),
                        self.steps.n,
                    )
                });
                c.vals[i] = v;
                c.present[i] = true;
            }
        }
        Ok(col)
    }
}

/// Buffers a range function's worker keeps from series to series.
#[derive(Default)]
struct Scratch {
    /// The series' samples without stale markers.
    pts: Vec<Point>,
    /// For counters: `drops[j]` decreases among the first `j` neighbours.
    drops: Vec<u32>,
    /// Each step's window: `pts[a..b]`.
    bounds: Vec<(usize, usize)>,
}
