//! Range queries evaluated a series at a time: which nodes are, and the
//! evaluation by columns of each kind of node.
//!
//! The step-wise evaluation ([`dispatch`](super::dispatch)) evaluates the
//! whole tree once per step: at every step each selected series is searched,
//! its window copied, its labels cloned and, under an aggregation, hashed
//! again. For a range query the nodes dashboards spend their time in —
//! selectors, range functions over a matrix selector, aggregations,
//! arithmetic and comparisons, `histogram_quantile` with a literal φ — are
//! evaluated by columns instead, over all steps at once ([`Cols`], in each
//! operator's `columnar` module): each series is walked once with window
//! bounds that only move forward, an aggregation maps each input series to
//! its group once per query, and a binary operation matches series once.
//!
//! [`precompute`] evaluates the largest such subtrees before the steps run and
//! keeps their results by node; the step-wise evaluation then reads a node's
//! value at a step from there ([`Evaluator::lookup`]) instead of evaluating
//! it, so that the nodes not handled here (`label_replace`, subqueries, set
//! operators…) still work on top, over much smaller inputs. When the whole
//! expression is handled here, the range query's result is built from the
//! columns directly.
//!
//! The semantics are the step-wise evaluation's, step for step: the same
//! per-step rules (lookback, stale markers, windows, group creation, matching
//! errors), the same floating-point operations in the same order over the
//! input series.

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Call, Expr};

use crate::promql::context::columns::{Col, Cols, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::{addr, literal, unparen};
use crate::promql::error::{PromqlError, Result};
use crate::promql::{aggregate, binary, histogram, range_fns, selector};

/// Range queries with more steps are evaluated step by step: columns are sized
/// by the steps up front, and the HTTP API refuses more than this anyway
/// (Prometheus's 11,000 points per series); only a library caller asks for more.
const MAX_STEPS: usize = 11_000;

/// The φ and the buckets of `histogram_quantile` with a literal φ over an
/// expression handled here.
fn histogram_quantile_arg(c: &Call) -> Option<(f64, &Expr)> {
    match (c.func.name, &c.args.args[..]) {
        ("histogram_quantile", [q, buckets])
            if buckets.value_type() == ValueType::Vector && supported(buckets) =>
        {
            Some((literal(q)?, buckets))
        }
        _ => None,
    }
}

/// Whether `e` is evaluated here.
fn supported(e: &Expr) -> bool {
    match e {
        Expr::NumberLiteral(_) | Expr::VectorSelector(_) => true,
        Expr::Paren(p) => supported(&p.expr),
        Expr::Call(c) => {
            range_fns::columnar::range_call_parts(c).is_some()
                || histogram_quantile_arg(c).is_some()
        }
        Expr::Aggregate(a) => aggregate::columnar::supports(a) && supported(&a.expr),
        Expr::Binary(b) => binary::columnar::supports(b) && supported(&b.lhs) && supported(&b.rhs),
        _ => false,
    }
}

/// Evaluates over all `steps` the largest subtrees of `e` handled here, and
/// keeps their results in the evaluator. Subqueries are left alone: their inner
/// expressions are evaluated at other times than the query's steps. A bare
/// selector is kept only as the whole query: under a function the step-wise
/// evaluator needs its samples' own timestamps (`timestamp()`).
pub(crate) fn precompute(ev: &mut Evaluator<'_>, e: &Expr, steps: Steps, root: bool) -> Result<()> {
    if steps.n == 0 || steps.n > MAX_STEPS {
        return Ok(());
    }
    let bare = matches!(unparen(e), Expr::VectorSelector(_) | Expr::NumberLiteral(_));
    if supported(e) && (root || !bare) {
        let cols = eval_cols(ev, e, steps)?;
        if let Cols::Vector(v) = &cols {
            ev.hold(v.iter().map(Col::points).sum())?;
        }
        ev.columns.insert(addr(e), cols);
        return Ok(());
    }
    match e {
        Expr::Paren(p) => precompute(ev, &p.expr, steps, false),
        Expr::Unary(u) => precompute(ev, &u.expr, steps, false),
        Expr::Binary(b) => {
            precompute(ev, &b.lhs, steps, false)?;
            precompute(ev, &b.rhs, steps, false)
        }
        Expr::Aggregate(a) => {
            precompute(ev, &a.expr, steps, false)?;
            match &a.param {
                Some(p) => precompute(ev, p, steps, false),
                None => Ok(()),
            }
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                precompute(ev, a, steps, false)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Takes the precomputed value of the whole query, if it was handled here.
pub(crate) fn take_root(ev: &mut Evaluator<'_>, e: &Expr) -> Option<Cols> {
    ev.columns.remove(&addr(e))
}

/// The value of `e`, handled here, at all `steps`.
pub(crate) fn eval_cols(ev: &mut Evaluator<'_>, e: &Expr, steps: Steps) -> Result<Cols> {
    match e {
        Expr::NumberLiteral(n) => Ok(Cols::Scalar(vec![n.val; steps.n])),
        Expr::Paren(p) => eval_cols(ev, &p.expr, steps),
        Expr::Aggregate(a) => aggregate::columnar::eval(ev, a, steps),
        Expr::Binary(b) => binary::columnar::eval(ev, b, steps),
        Expr::Call(c) if histogram_quantile_arg(c).is_some() => histogram_quantile(ev, c, steps),
        _ => {
            let mut out = Vec::new();
            let mut held = ev.held();
            for_each_col(ev, e, steps, &mut |c| {
                held.add(c.points())?;
                out.push(c.clone());
                Ok(())
            })?;
            Ok(Cols::Vector(out))
        }
    }
}

/// `histogram_quantile` with a literal φ: its buckets evaluated here, then
/// grouped into histograms once for all steps.
fn histogram_quantile(ev: &mut Evaluator<'_>, c: &Call, steps: Steps) -> Result<Cols> {
    let Some((q, buckets)) = histogram_quantile_arg(c) else {
        return Err(PromqlError::execution(
            "internal error: histogram_quantile is not evaluated by columns",
        ));
    };
    histogram::columnar::quantile(ev, q, buckets, steps)
}

/// Hands each series of the vector `e` to `f`, one at a time: selectors and range
/// functions are computed series by series without holding them all.
pub(crate) fn for_each_col(
    ev: &mut Evaluator<'_>,
    e: &Expr,
    steps: Steps,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    match unparen(e) {
        Expr::VectorSelector(vs) => selector::columnar::each(ev, vs, steps, f),
        other => {
            if let Expr::Call(c) = other {
                if let Some((marg, ms, extra)) = range_fns::columnar::range_call_parts(c) {
                    return range_fns::columnar::each(ev, c.func.name, marg, ms, &extra, steps, f);
                }
                if histogram_quantile_arg(c).is_none() {
                    return Err(PromqlError::execution(format!(
                        "internal error: {} is not evaluated by columns",
                        c.func.name
                    )));
                }
            }
            match eval_cols(ev, other, steps)? {
                Cols::Vector(v) => v.iter().try_for_each(f),
                Cols::Scalar(_) => Err(PromqlError::bad_data("expected an instant vector")),
            }
        }
    }
}
