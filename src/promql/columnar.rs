//! Range queries evaluated a series at a time.
//!
//! The step-wise evaluator (`engine.rs`) evaluates the whole tree once per step:
//! at every step each selected series is searched, its window copied, its labels
//! cloned and, under an aggregation, hashed again. For a range query the nodes
//! dashboards spend their time in — selectors, range functions over a matrix
//! selector, aggregations, arithmetic and comparisons, `histogram_quantile`
//! with a literal φ — are evaluated here
//! instead, over all steps at once ([`Cols`]): each series is walked once with
//! window bounds that only move forward, an aggregation maps each input series
//! to its group once per query, and a binary operation matches series once.
//!
//! [`precompute`] evaluates the largest such subtrees before the steps run and
//! keeps their results by node; the step-wise evaluator then reads a node's value
//! at a step from there ([`Evaluator::eval`]) instead of evaluating it, so that the
//! nodes not handled here (`label_replace`, subqueries, set operators…) still
//! work on top, over much smaller inputs. When the whole
//! expression is handled here, the range query's result is built from the
//! columns directly.
//!
//! The semantics are the step-wise evaluator's, step for step: the same per-step
//! rules (lookback, stale markers, windows, group creation, matching errors), the
//! same floating-point operations in the same order over the input series.

use std::collections::HashMap;

use promql_parser::parser::ast::VectorMatchCardinality;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_AVG, T_BOTTOMK, T_COUNT, T_DIV, T_EQLC, T_GROUP, T_GTE, T_GTR, T_LSS, T_LTE,
    T_MAX, T_MIN, T_MOD, T_MUL, T_NEQ, T_POW, T_STDDEV, T_STDVAR, T_SUB, T_SUM, T_TOPK, TokenId,
};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, VectorSelector,
};

use super::aggregate::{Running, group_labels, k_param, rank_order};
use super::binary::{apply, is_comparison, prom_labels, result_labels, signature};
use super::engine::{Evaluator, Loaded, Sel, dur_ms, too_many_samples};
use super::error::{PromqlError, Result};
use super::functions::{
    check_range_call, range_arg_positions, range_fn_keeps_name, range_fn_value,
};
use super::histogram::histogram_quantile_cols;
use super::in_order::in_order;
use super::range_fns::{extrapolated_rate_known_resets, range_seconds};
use super::value::{Point, has_metadata};
use crate::model::{Labels, is_stale_nan};

/// The steps of a range query: `start`, `start + step`, … (`n` of them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    pub start: i64,
    pub step: i64,
    pub n: usize,
}

impl Steps {
    pub fn new(start: i64, end: i64, step: i64) -> Steps {
        let n = if step > 0 && end >= start {
            usize::try_from((end - start) / step).map_or(0, |k| k + 1)
        } else {
            0
        };
        Steps { start, step, n }
    }

    pub fn t(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    /// The index of the step at `t`, if `t` is one.
    pub fn index(&self, t: i64) -> Option<usize> {
        let d = t.checked_sub(self.start)?;
        if d < 0 || self.step <= 0 || d % self.step != 0 {
            return None;
        }
        usize::try_from(d / self.step).ok().filter(|&i| i < self.n)
    }
}

/// One series' values at every step.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub labels: Labels,
    /// The metric name goes at the end (see `ESample::drop_name`).
    pub drop_name: bool,
    pub vals: Vec<f64>,
    pub present: Vec<bool>,
}

impl Col {
    pub fn empty(labels: Labels, drop_name: bool, n: usize) -> Col {
        Col {
            labels,
            drop_name,
            vals: vec![0.0; n],
            present: vec![false; n],
        }
    }

    fn any(&self) -> bool {
        self.present.iter().any(|&p| p)
    }

    /// The number of steps with a value.
    pub fn points(&self) -> usize {
        self.present.iter().filter(|&&p| p).count()
    }
}

/// A node's value at every step.
#[derive(Debug)]
pub(crate) enum Cols {
    Scalar(Vec<f64>),
    Vector(Vec<Col>),
}

fn addr(e: &Expr) -> usize {
    e as *const Expr as usize
}

fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

fn literal(e: &Expr) -> Option<f64> {
    match unparen(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        _ => None,
    }
}

/// Range queries with more steps are evaluated step by step: columns are sized
/// by the steps up front, and the HTTP API refuses more than this anyway
/// (Prometheus's 11,000 points per series); only a library caller asks for more.
const MAX_STEPS: usize = 11_000;

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

fn is_arithmetic_or_comparison(op: promql_parser::parser::token::TokenId) -> bool {
    matches!(
        op,
        T_ADD
            | T_SUB
            | T_MUL
            | T_DIV
            | T_MOD
            | T_POW
            | T_ATAN2
            | T_EQLC
            | T_NEQ
            | T_GTR
            | T_LSS
            | T_GTE
            | T_LTE
    )
}

/// The range-vector argument of a range function call handled here (as an
/// expression, for the annotations, and as a selector) and its other arguments'
/// values.
fn range_call_parts(c: &Call) -> Option<(&Expr, &MatrixSelector, Vec<f64>)> {
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
        Expr::Call(c) => range_call_parts(c).is_some() || histogram_quantile_arg(c).is_some(),
        Expr::Aggregate(a) => {
            let op = a.op.id();
            let param_ok = match op {
                T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT | T_GROUP | T_STDDEV | T_STDVAR => {
                    a.param.is_none()
                }
                T_TOPK | T_BOTTOMK => a.param.as_deref().and_then(literal).is_some(),
                _ => false,
            };
            param_ok && a.expr.value_type() == ValueType::Vector && supported(&a.expr)
        }
        Expr::Binary(b) => {
            if !is_arithmetic_or_comparison(b.op.id()) || !supported(&b.lhs) || !supported(&b.rhs) {
                return false;
            }
            let vectors =
                b.lhs.value_type() == ValueType::Vector && b.rhs.value_type() == ValueType::Vector;
            match &b.modifier {
                None => true,
                Some(m) => {
                    m.fill_values.lhs.is_none()
                        && m.fill_values.rhs.is_none()
                        && (!vectors || matches!(m.card, VectorMatchCardinality::OneToOne))
                }
            }
        }
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

/// The value of a node handled here, precomputed by [`precompute`], at step `t`.
pub(crate) fn lookup(ev: &Evaluator<'_>, e: &Expr, t: i64) -> Option<super::value::Val> {
    use super::value::{ESample, Val};
    let cols = ev.columns.get(&addr(e))?;
    let i = ev.steps?.index(t)?;
    Some(match cols {
        Cols::Scalar(v) => Val::Scalar(v[i]),
        Cols::Vector(cols) => Val::Vector(
            cols.iter()
                .filter(|c| c.present[i])
                .map(|c| ESample {
                    labels: c.labels.clone(),
                    t,
                    v: c.vals[i],
                    drop_name: c.drop_name,
                })
                .collect(),
        ),
    })
}

/// Takes the precomputed value of the whole query, if it was handled here.
pub(crate) fn take_root(ev: &mut Evaluator<'_>, e: &Expr) -> Option<Cols> {
    ev.columns.remove(&addr(e))
}

fn eval_cols(ev: &mut Evaluator<'_>, e: &Expr, steps: Steps) -> Result<Cols> {
    match e {
        Expr::NumberLiteral(n) => Ok(Cols::Scalar(vec![n.val; steps.n])),
        Expr::Paren(p) => eval_cols(ev, &p.expr, steps),
        Expr::Aggregate(a) => aggregate(ev, a, steps),
        Expr::Binary(b) => binary(ev, b, steps),
        Expr::Call(c) if histogram_quantile_arg(c).is_some() => histogram_quantile(ev, c, steps),
        _ => {
            let mut out = Vec::new();
            let mut held = Held::new(ev);
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
    match eval_cols(ev, buckets, steps)? {
        Cols::Vector(input) => Ok(Cols::Vector(histogram_quantile_cols(ev, q, input, steps))),
        Cols::Scalar(_) => Err(PromqlError::bad_data("expected an instant vector")),
    }
}

/// Samples held by columns being collected, against the query's limit
/// (`--query.max-samples`), checked before more are taken.
struct Held {
    n: usize,
    max: usize,
}

impl Held {
    fn new(ev: &Evaluator<'_>) -> Held {
        Held {
            n: ev.cur_samples,
            max: ev.max_samples,
        }
    }

    fn add(&mut self, n: usize) -> Result<()> {
        self.n = self.n.saturating_add(n);
        if self.n > self.max {
            return Err(too_many_samples());
        }
        Ok(())
    }
}

/// Hands each series of the vector `e` to `f`, one at a time: selectors and range
/// functions are computed series by series without holding them all.
fn for_each_col(
    ev: &mut Evaluator<'_>,
    e: &Expr,
    steps: Steps,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    match unparen(e) {
        Expr::VectorSelector(vs) => selector(ev, vs, steps, f),
        other => {
            if let Expr::Call(c) = other {
                if let Some((marg, ms, extra)) = range_call_parts(c) {
                    return range_call(ev, c.func.name, marg, ms, &extra, steps, f);
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

/// The reference time of a selector at every step.
fn ref_times(ev: &Evaluator<'_>, vs: &VectorSelector, steps: Steps) -> Vec<i64> {
    (0..steps.n)
        .map(|i| ev.ref_time(&vs.at, &vs.offset, steps.t(i)))
        .collect()
}

/// An instant selector: the latest sample within the lookback delta at each
/// step. Like a range function's, its series are read and walked in parts on
/// all cores and handed to `f` in their order.
fn selector(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    steps: Steps,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    let refs = ref_times(ev, vs, steps);
    let lookback = ev.lookback;
    let all = Batch::of(ev.selected(vs));
    let latest = |labels: &Labels, samples: &[(i64, f64)]| {
        let mut col: Option<Col> = None;
        let mut p = 0;
        for (i, &r) in refs.iter().enumerate() {
            if i > 0 && r < refs[i - 1] {
                p = 0;
            }
            while p < samples.len() && samples[p].0 <= r {
                p += 1;
            }
            if p > 0 {
                let (ts, v) = samples[p - 1];
                if ts > r.saturating_sub(lookback) && !is_stale_nan(v) {
                    let c = col.get_or_insert_with(|| Col::empty(labels.clone(), false, steps.n));
                    c.vals[i] = v;
                    c.present[i] = true;
                }
            }
        }
        Ok(col)
    };
    in_parts(ev, all, |part| part.map(&latest), f)
}

/// Computes a column from each series of `all` with `work` (on a part of
/// them at a time, on all cores) and hands the columns to `f` in series order
/// while the parts after them are computed.
fn in_parts(
    ev: &Evaluator<'_>,
    all: Batch<'_>,
    work: impl Fn(Batch<'_>) -> Result<Vec<Option<Col>>> + Sync,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = all.len();
    in_order(
        n.div_ceil(PART),
        workers,
        AHEAD * workers,
        |i| work(all.part(i * PART, ((i + 1) * PART).min(n))),
        |cols| {
            ev.check()?;
            cols.iter().flatten().try_for_each(&mut *f)
        },
    )
}

/// A range function over a matrix selector: each series' window slides forward
/// over its samples (stale markers left out) from step to step. Series are
/// computed in parts on all cores, and handed to `f` in their order while the
/// parts after them are computed.
fn range_call(
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
        ends: ref_times(ev, &ms.vs, steps),
        extra,
        steps,
    };
    // Series not read yet are read here, part by part, by the thread that
    // computes them: their samples are used while in cache and never all held.
    let all = Batch::of(ev.selected(&ms.vs));
    in_parts(ev, all, |part| w.series(part), f)
}

/// Series a range function's worker computes at a time.
const PART: usize = 128;
/// Parts computed ahead of the one being consumed, per worker: enough that
/// the workers seldom wait for the consumer, few enough that the columns
/// waiting stay small (about 5 KB a series at 481 steps).
const AHEAD: usize = 4;

/// Some of a selector's series: read already, or to be read (one of the two is
/// empty).
#[derive(Clone, Copy)]
struct Batch<'a> {
    read: &'a [Loaded],
    unread: &'a [crate::tsdb::Series],
}

impl<'a> Batch<'a> {
    fn of(sel: Sel<'a>) -> Batch<'a> {
        match sel {
            Sel::Read(read) => Batch { read, unread: &[] },
            Sel::Unread(unread) => Batch { read: &[], unread },
        }
    }

    /// `f` over each series' labels and samples, in order; series not read
    /// yet are read here, into one buffer reused from series to series.
    fn map<T>(&self, mut f: impl FnMut(&Labels, &[(i64, f64)]) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.len());
        for s in self.read {
            out.push(f(&s.labels, &s.samples)?);
        }
        let mut samples: Vec<(i64, f64)> = Vec::new();
        for s in self.unread {
            samples.clear();
            let mut it = s.iter();
            it.read_all(&mut samples);
            if let Some(e) = it.err() {
                return Err(PromqlError::execution(e.to_string()));
            }
            out.push(f(s.labels(), &samples)?);
        }
        Ok(out)
    }

    fn len(&self) -> usize {
        self.read.len() + self.unread.len()
    }

    fn part(&self, from: usize, to: usize) -> Batch<'a> {
        Batch {
            read: &self.read[from.min(self.read.len())..to.min(self.read.len())],
            unread: &self.unread[from.min(self.unread.len())..to.min(self.unread.len())],
        }
    }
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

/// A group's state at one step.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    drop_name: bool,
    run: Running,
}

/// Adds a member's values to its group's states at the steps where it has one.
/// The operator is matched once per member rather than at every step, so that
/// the loop over the steps is the operator's own.
fn add_member(op: TokenId, accs: &mut [Acc], c: &Col) {
    fn each(accs: &mut [Acc], c: &Col, add: impl Fn(&mut Running, f64)) {
        for ((g, &v), &present) in accs.iter_mut().zip(&c.vals).zip(&c.present) {
            if present {
                g.drop_name |= c.drop_name;
                add(&mut g.run, v);
            }
        }
    }
    match op {
        T_SUM => each(accs, c, |r, v| r.add(T_SUM, v)),
        T_AVG => each(accs, c, |r, v| r.add(T_AVG, v)),
        T_MIN => each(accs, c, |r, v| r.add(T_MIN, v)),
        T_MAX => each(accs, c, |r, v| r.add(T_MAX, v)),
        _ => each(accs, c, |r, v| r.add(op, v)),
    }
}

fn aggregate(ev: &mut Evaluator<'_>, a: &AggregateExpr, steps: Steps) -> Result<Cols> {
    let op = a.op.id();
    let modifier = a.modifier.as_ref();
    if op == T_TOPK || op == T_BOTTOMK {
        return top_bottom(ev, a, steps);
    }
    let n = steps.n;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<Acc>)> = Vec::new();
    let mut held = Held::new(ev);
    for_each_col(ev, &a.expr, steps, &mut |c| {
        let gl = group_labels(&c.labels, modifier);
        let gi = match index.get(&gl) {
            Some(&gi) => gi,
            None => {
                // A group's state is kept for every step.
                held.add(n)?;
                groups.push((gl.clone(), vec![Acc::default(); n]));
                index.insert(gl, groups.len() - 1);
                groups.len() - 1
            }
        };
        add_member(op, &mut groups[gi].1, c);
        Ok(())
    })?;
    let mut out = Vec::with_capacity(groups.len());
    for (labels, accs) in groups {
        let meta = has_metadata(&labels);
        // A group whose name is dropped at some steps and kept at others (its
        // members differ) is two series in the end.
        let mut cols: [Option<Col>; 2] = [None, None];
        for (i, g) in accs.iter().enumerate() {
            if g.run.count == 0.0 {
                continue;
            }
            let v = g.run.result(op).ok_or_else(|| {
                PromqlError::bad_data(format!("unsupported aggregation {}", a.op))
            })?;
            let drop = g.drop_name && meta;
            let col =
                cols[usize::from(drop)].get_or_insert_with(|| Col::empty(labels.clone(), drop, n));
            col.vals[i] = v;
            col.present[i] = true;
        }
        out.extend(cols.into_iter().flatten());
    }
    Ok(Cols::Vector(out))
}

/// `topk` and `bottomk` with a literal `k`: per group and step, the members
/// ordered as the step-wise evaluator orders them.
fn top_bottom(ev: &mut Evaluator<'_>, a: &AggregateExpr, steps: Steps) -> Result<Cols> {
    let top = a.op.id() == T_TOPK;
    let k = k_param(a.param.as_deref().and_then(literal).unwrap_or(f64::NAN))?;
    let modifier = a.modifier.as_ref();
    let mut input: Vec<Col> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut held = Held::new(ev);
    for_each_col(ev, &a.expr, steps, &mut |c| {
        held.add(c.points())?;
        let gl = group_labels(&c.labels, modifier);
        let next = members.len();
        let gi = *index.entry(gl).or_insert(next);
        if gi == next {
            members.push(Vec::new());
        }
        members[gi].push(input.len());
        input.push(c.clone());
        Ok(())
    })?;
    let mut keep: Vec<Vec<bool>> = vec![vec![false; steps.n]; input.len()];
    // Per step: the present members and their values. The step-wise evaluator
    // sorts them stably and takes the first k; selecting the first k by (value
    // order, input position) picks the same ones in linear time.
    let mut m: Vec<(f64, usize)> = Vec::new();
    let order = |a: &(f64, usize), b: &(f64, usize)| rank_order(top, a.0, b.0).then(a.1.cmp(&b.1));
    for group in &members {
        // `i` indexes the columns of every member.
        #[allow(clippy::needless_range_loop)]
        for i in 0..steps.n {
            m.clear();
            m.extend(
                group
                    .iter()
                    .filter(|&&x| input[x].present[i])
                    .map(|&x| (input[x].vals[i], x)),
            );
            if k < m.len() {
                if k == 0 {
                    continue;
                }
                m.select_nth_unstable_by(k - 1, order);
                m.truncate(k);
            }
            for &(_, x) in &m {
                keep[x][i] = true;
            }
        }
    }
    let out = input
        .into_iter()
        .zip(keep)
        .filter_map(|(mut c, keep)| {
            c.present = keep;
            c.any().then_some(c)
        })
        .collect();
    Ok(Cols::Vector(out))
}

fn binary(ev: &mut Evaluator<'_>, b: &BinaryExpr, steps: Steps) -> Result<Cols> {
    let op = b.op.id();
    let rbool = b.return_bool();
    let cmp = is_comparison(op);
    let lhs = eval_cols(ev, &b.lhs, steps)?;
    let rhs = eval_cols(ev, &b.rhs, steps)?;
    match (lhs, rhs) {
        (Cols::Scalar(l), Cols::Scalar(r)) => Ok(Cols::Scalar(
            l.iter()
                .zip(&r)
                .map(|(&l, &r)| {
                    let (v, keep) = apply(op, l, r);
                    if cmp { if keep { 1.0 } else { 0.0 } } else { v }
                })
                .collect(),
        )),
        (Cols::Vector(v), Cols::Scalar(s)) => Ok(vector_scalar(op, v, &s, false, rbool)),
        (Cols::Scalar(s), Cols::Vector(v)) => Ok(vector_scalar(op, v, &s, true, rbool)),
        (Cols::Vector(l), Cols::Vector(r)) => {
            let matching = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
            one_to_one(op, l, r, matching, rbool, steps)
        }
    }
}

fn vector_scalar(
    op: promql_parser::parser::token::TokenId,
    v: Vec<Col>,
    s: &[f64],
    swap: bool,
    rbool: bool,
) -> Cols {
    let cmp = is_comparison(op);
    let mut out = Vec::with_capacity(v.len());
    for mut c in v {
        for ((x, present), &sv) in c.vals.iter_mut().zip(&mut c.present).zip(s) {
            if !*present {
                continue;
            }
            let (l, r) = if swap { (sv, *x) } else { (*x, sv) };
            let (mut val, keep) = apply(op, l, r);
            if cmp && swap {
                val = *x;
            }
            if rbool {
                val = if keep { 1.0 } else { 0.0 };
            } else if !keep {
                *present = false;
                continue;
            }
            *x = val;
        }
        if !cmp || rbool {
            c.drop_name = true;
        }
        if c.any() {
            out.push(c);
        }
    }
    Cols::Vector(out)
}

/// Vector-to-vector one-to-one matching: series are matched by signature once;
/// each step then checks, as the step-wise evaluator does, that a signature has
/// one series on the right and one match on the left.
fn one_to_one(
    op: promql_parser::parser::token::TokenId,
    lhs: Vec<Col>,
    rhs: Vec<Col>,
    matching: Option<&promql_parser::parser::ast::LabelModifier>,
    rbool: bool,
    steps: Steps,
) -> Result<Cols> {
    let cmp = is_comparison(op);
    let mut sigs: HashMap<Labels, usize> = HashMap::new();
    let mut rgroup: Vec<usize> = Vec::with_capacity(rhs.len());
    let mut sig_labels: Vec<Labels> = Vec::new();
    for c in &rhs {
        let sig = signature(&c.labels, matching);
        let next = sig_labels.len();
        let g = *sigs.entry(sig.clone()).or_insert(next);
        if g == next {
            sig_labels.push(sig);
        }
        rgroup.push(g);
    }
    let lgroup: Vec<Option<usize>> = lhs
        .iter()
        .map(|c| sigs.get(&signature(&c.labels, matching)).copied())
        .collect();
    let mut out: Vec<Option<Col>> = (0..lhs.len()).map(|_| None).collect();
    let mut first: Vec<Option<usize>> = vec![None; sig_labels.len()];
    let mut matched: Vec<bool> = vec![false; sig_labels.len()];
    for i in 0..steps.n {
        first.fill(None);
        for (ri, c) in rhs.iter().enumerate() {
            if !c.present[i] {
                continue;
            }
            let g = rgroup[ri];
            if let Some(prev) = first[g] {
                let (mut d1, mut d2) = (prom_labels(&c.labels), prom_labels(&rhs[prev].labels));
                if d1 > d2 {
                    std::mem::swap(&mut d1, &mut d2);
                }
                return Err(PromqlError::execution(format!(
                    "found duplicate series for the match group {} on the right hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                    prom_labels(&sig_labels[g]),
                )));
            }
            first[g] = Some(ri);
        }
        matched.fill(false);
        for (li, c) in lhs.iter().enumerate() {
            if !c.present[i] {
                continue;
            }
            let Some(g) = lgroup[li] else { continue };
            let Some(ri) = first[g] else { continue };
            if matched[g] {
                return Err(PromqlError::execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            matched[g] = true;
            let (mut val, keep) = apply(op, c.vals[i], rhs[ri].vals[i]);
            if rbool {
                val = if keep { 1.0 } else { 0.0 };
            }
            if !keep && !rbool {
                continue;
            }
            let col = out[li].get_or_insert_with(|| {
                Col::empty(
                    result_labels(&c.labels, cmp, true, matching),
                    rbool || !cmp || c.drop_name,
                    steps.n,
                )
            });
            col.vals[i] = val;
            col.present[i] = true;
        }
    }
    Ok(Cols::Vector(out.into_iter().flatten().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_index_only_the_query_steps() {
        let s = Steps::new(1000, 5000, 2000);
        assert_eq!(s.n, 3);
        assert_eq!(s.index(1000), Some(0));
        assert_eq!(s.index(5000), Some(2));
        assert_eq!(s.index(2000), None);
        assert_eq!(s.index(7000), None);
        assert_eq!(s.index(-1000), None);
        assert_eq!(Steps::new(10, 0, 5).n, 0);
    }
}
