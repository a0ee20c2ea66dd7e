//! The evaluator: the engine's entry points, loading selected series once per
//! query, and evaluation of each node at an evaluation time.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use promql_parser::parser::ast::{AtModifier, Offset};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Call, Expr, VectorSelector};

use super::columnar::{self, Cols, Steps};
use super::durations::DurationContext;
use super::error::{ErrorKind, PromqlError, Result};
use super::go_strings::NonUtf8Strings;
use super::histogram::{Forced, MonotonicityNote};
use super::info::{self, InfoPlan};
use super::parse::{Parsed, parse_with, to_matchers};
use super::value::{
    ESample, ESeries, Point, QueryResult, Sample, Series, Val, Value, drop_metric_name,
};
use super::{aggregate, binary, functions};
use crate::model::is_stale_nan;
use crate::model::{Labels, Matcher};
use crate::tsdb::Db;

/// Subquery resolution when a subquery gives none (Prometheus's default global
/// evaluation interval).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// Limits and defaults of an [`Engine`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5m).
    pub lookback_delta: Duration,
    /// Most samples a query may hold at once (default 50,000,000).
    pub max_samples: usize,
    /// Longest a query may run (default 2m).
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Per-query options.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Overrides the engine's lookback delta for this query.
    pub lookback_delta: Option<Duration>,
    /// Set to `true` (from any thread) to stop the query with a `canceled` error.
    pub cancel: Option<Arc<AtomicBool>>,
    /// A shorter timeout than the engine's for this query (the API's `timeout`
    /// parameter); the smaller of the two applies.
    pub timeout: Option<Duration>,
}

/// Evaluates PromQL over a database.
///
/// ```
/// use std::sync::Arc;
/// use tidemark::model::Labels;
/// use tidemark::promql::{Engine, EngineOptions, Value};
/// use tidemark::tsdb::{Db, Options};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Arc::new(Db::open(dir.path(), Options::default())?);
/// let mut app = db.appender();
/// let up = Labels::new([("__name__", "up"), ("job", "node")])?;
/// for i in 0..10 {
///     app.append(&up, i * 15_000, 1.0)?;
/// }
/// app.commit()?;
///
/// let engine = Engine::new(Arc::clone(&db), EngineOptions::default());
/// let res = engine.instant("sum by (job) (up) * 2", 120_000)?;
/// let Value::Vector(v) = res.value else { panic!("not a vector") };
/// assert_eq!(v[0].labels.to_string(), r#"{job="node"}"#);
/// assert_eq!(v[0].v, 2.0);
///
/// let res = engine.range("up", 0, 60_000, 15_000)?;
/// let Value::Matrix(m) = res.value else { panic!("not a matrix") };
/// assert_eq!(m[0].points.len(), 5);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    db: Arc<Db>,
    opts: EngineOptions,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("opts", &self.opts).finish()
    }
}

impl Engine {
    pub fn new(db: Arc<Db>, opts: EngineOptions) -> Engine {
        Engine { db, opts }
    }

    /// Evaluates `query` at `t_ms`.
    pub fn instant(&self, query: &str, t_ms: i64) -> Result<QueryResult> {
        self.instant_with(query, t_ms, &QueryOptions::default())
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`.
    pub fn range(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult> {
        self.range_with(query, start_ms, end_ms, step_ms, &QueryOptions::default())
    }

    pub fn instant_with(&self, query: &str, t_ms: i64, opts: &QueryOptions) -> Result<QueryResult> {
        let Parsed { expr, non_utf8 } = parse_with(query, DurationContext::default())?;
        let mut ev = self.evaluator(&expr, t_ms, t_ms, 0, opts)?;
        ev.query = query.to_string();
        ev.non_utf8 = non_utf8;
        let val = ev.eval(&expr, t_ms)?;
        let value = match val {
            Val::Scalar(v) => Value::Scalar { t: t_ms, v },
            Val::Str(v) => Value::String { t: t_ms, v },
            Val::Vector(v) => Value::Vector(finish_vector(v, t_ms)?),
            Val::Matrix(m) => {
                let mut out: Vec<Series> = m
                    .into_iter()
                    .map(|s| Series {
                        labels: if s.drop_name {
                            drop_metric_name(&s.labels)
                        } else {
                            s.labels
                        },
                        points: s.points,
                    })
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                if out.windows(2).any(|w| w[0].labels == w[1].labels) {
                    return Err(PromqlError::execution(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
                Value::Matrix(out)
            }
        };
        Ok(ev.result(value))
    }

    pub fn range_with(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult> {
        if end_ms < start_ms {
            return Err(PromqlError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        if step_ms <= 0 {
            return Err(PromqlError::bad_data(
                "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        let ctx = DurationContext {
            step_s: step_ms as f64 / 1000.0,
            range_s: (end_ms - start_ms) as f64 / 1000.0,
        };
        let Parsed { expr, non_utf8 } = parse_with(query, ctx)?;
        match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => {}
            ValueType::Matrix => {
                return Err(PromqlError::bad_data(
                    "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
                ));
            }
            ValueType::String => {
                return Err(PromqlError::bad_data(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector",
                ));
            }
        }
        let mut ev = self.evaluator(&expr, start_ms, end_ms, step_ms, opts)?;
        ev.query = query.to_string();
        ev.non_utf8 = non_utf8;
        let steps = Steps::new(start_ms, end_ms, step_ms);
        ev.steps = Some(steps);
        columnar::precompute(&mut ev, &expr, steps, true)?;
        if let Some(cols) = columnar::take_root(&mut ev, &expr) {
            let out = matrix_from_columns(cols, steps, ev.max_samples)?;
            return Ok(ev.result(Value::Matrix(out)));
        }
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut out: Vec<Series> = Vec::new();
        let mut total_points = 0usize;
        let mut t = start_ms;
        loop {
            ev.cur_samples = total_points;
            let points = match ev.eval(&expr, t)? {
                Val::Scalar(v) => vec![Sample {
                    labels: Labels::empty(),
                    t,
                    v,
                }],
                Val::Vector(v) => finish_vector(v, t)?,
                other => {
                    return Err(PromqlError::bad_data(format!(
                        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            };
            total_points += points.len();
            if total_points > ev.max_samples {
                return Err(too_many_samples());
            }
            for s in points {
                let i = *index.entry(s.labels.clone()).or_insert_with(|| {
                    out.push(Series {
                        labels: s.labels,
                        points: Vec::new(),
                    });
                    out.len() - 1
                });
                out[i].points.push(Point { t, v: s.v });
            }
            match t.checked_add(step_ms) {
                Some(n) if n <= end_ms => t = n,
                _ => break,
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(ev.result(Value::Matrix(out)))
    }

    fn evaluator<'a>(
        &'a self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
        opts: &'a QueryOptions,
    ) -> Result<Evaluator<'a>> {
        let lookback = opts.lookback_delta.unwrap_or(self.opts.lookback_delta);
        let lookback = i64::try_from(lookback.as_millis()).unwrap_or(i64::MAX / 4);
        let mut ev = Evaluator {
            start,
            end,
            step,
            lookback,
            query: String::new(),
            non_utf8: NonUtf8Strings::default(),
            data: HashMap::new(),
            started: Instant::now(),
            timeout: opts
                .timeout
                .map_or(self.opts.timeout, |t| t.min(self.opts.timeout)),
            cancel: opts.cancel.as_deref(),
            max_samples: self.opts.max_samples,
            cur_samples: 0,
            warnings: Vec::new(),
            infos: Vec::new(),
            info_data: HashMap::new(),
            monotonicity: Vec::new(),
            group_cache: HashMap::new(),
            steps: None,
            columns: HashMap::new(),
        };
        let mut ranges: HashMap<usize, (i64, i64, &VectorSelector)> = HashMap::new();
        let mut infos: Vec<(i64, i64, &Call)> = Vec::new();
        ev.plan(expr, start, end, &mut ranges, &mut infos);
        for (key, (mint, maxt, vs)) in ranges {
            ev.check()?;
            let sets = to_matchers(vs.name.as_deref(), &vs.matchers)?;
            let series = self.select_sets(&sets, mint, maxt)?;
            ev.data.insert(
                key,
                Selected {
                    series,
                    decoded: std::cell::OnceCell::new(),
                },
            );
        }
        for (mint, maxt, c) in infos {
            ev.check()?;
            let key = c as *const Call as usize;
            let plan = InfoPlan::new(c)?;
            let (lo, hi) = match ev.info_data.get(&key) {
                Some(_) => continue,
                None => (mint, maxt),
            };
            let loaded = self.load_matching(&plan.select_matchers(), lo, hi)?;
            ev.info_data.insert(key, (plan, loaded));
        }
        Ok(ev)
    }

    /// Reads the series matching all of `matchers` over `[mint, maxt]`.
    fn load_matching(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<Loaded>> {
        let series = self.select_sets(&[matchers.to_vec()], mint, maxt)?;
        decode_parallel(&series)
    }

    /// The series matching any of the matcher sets over `[mint, maxt]`, not read
    /// yet.
    fn select_sets(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<crate::tsdb::Series>> {
        let q = self.db.querier(mint, maxt);
        let mut selected: Vec<crate::tsdb::Series> = Vec::new();
        for matchers in sets {
            let set = q
                .select(matchers)
                .map_err(|e| PromqlError::execution(e.to_string()))?;
            for s in set {
                if sets.len() > 1 && selected.iter().any(|l| l.labels() == s.labels()) {
                    continue;
                }
                selected.push(s);
            }
        }
        Ok(selected)
    }
}

/// Reads the samples of `selected`. Decoding the chunks is most of the cost of
/// reading: the series are split over the available cores.
fn decode_parallel(selected: &[crate::tsdb::Series]) -> Result<Vec<Loaded>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = selected.len().div_ceil(workers).max(MIN_SERIES_PER_THREAD);
    if selected.len() <= per {
        return decode(selected);
    }
    let parts = on_threads(selected.chunks(per).collect(), decode);
    let mut out = Vec::with_capacity(selected.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Runs `f` over each of `parts`, each on a thread of its own, and returns the
/// results in the order of the parts.
pub(crate) fn on_threads<P: Send, T: Send>(
    parts: Vec<P>,
    f: impl Fn(P) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let f = &f;
                scope.spawn(move || f(part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(PromqlError::execution("a query worker thread panicked"))
                })
            })
            .collect()
    })
}

/// Fewer series than this per thread are decoded on the calling thread.
const MIN_SERIES_PER_THREAD: usize = 64;

/// Reads the samples of each series.
fn decode(series: &[crate::tsdb::Series]) -> Result<Vec<Loaded>> {
    series
        .iter()
        .map(|s| {
            let mut it = s.iter();
            let mut samples = Vec::new();
            it.read_all(&mut samples);
            if let Some(e) = it.err() {
                return Err(PromqlError::execution(e.to_string()));
            }
            Ok(Loaded {
                labels: s.labels().clone(),
                samples,
            })
        })
        .collect()
}

pub(crate) fn too_many_samples() -> PromqlError {
    PromqlError::execution(
        "query processing would load too many samples into memory in query execution",
    )
}

/// A range query's result from the columns of its whole expression: names
/// dropped where marked, and, as step by step, series that end up with the same
/// labels merged unless they have values at the same step.
fn matrix_from_columns(cols: Cols, steps: Steps, max_samples: usize) -> Result<Vec<Series>> {
    let times = |present: &[bool], vals: &[f64]| -> Vec<Point> {
        (0..steps.n)
            .filter(|&i| present[i])
            .map(|i| Point {
                t: steps.start + i as i64 * steps.step,
                v: vals[i],
            })
            .collect()
    };
    let mut out: Vec<Series> = match cols {
        Cols::Scalar(v) => vec![Series {
            labels: Labels::empty(),
            points: times(&vec![true; v.len()], &v),
        }],
        Cols::Vector(cols) => {
            let mut index: HashMap<Labels, usize> = HashMap::new();
            let mut merged: Vec<(Labels, Vec<bool>, Vec<f64>)> = Vec::new();
            for c in cols {
                let labels = if c.drop_name {
                    drop_metric_name(&c.labels)
                } else {
                    c.labels
                };
                match index.get(&labels) {
                    Some(&j) => {
                        let (_, present, vals) = &mut merged[j];
                        for i in 0..steps.n {
                            if c.present[i] {
                                if present[i] {
                                    return Err(PromqlError::execution(
                                        "vector cannot contain metrics with the same labelset",
                                    ));
                                }
                                present[i] = true;
                                vals[i] = c.vals[i];
                            }
                        }
                    }
                    None => {
                        index.insert(labels.clone(), merged.len());
                        merged.push((labels, c.present, c.vals));
                    }
                }
            }
            merged
                .into_iter()
                .map(|(labels, present, vals)| Series {
                    labels,
                    points: times(&present, &vals),
                })
                .collect()
        }
    };
    if out.iter().map(|s| s.points.len()).sum::<usize>() > max_samples {
        return Err(too_many_samples());
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}

/// The output form of an instant vector: names dropped where marked, duplicate
/// label sets refused as Prometheus does.
fn finish_vector(v: Vec<ESample>, t: i64) -> Result<Vec<Sample>> {
    let out: Vec<Sample> = v
        .into_iter()
        .map(|s| Sample {
            labels: if s.drop_name {
                drop_metric_name(&s.labels)
            } else {
                s.labels
            },
            t,
            v: s.v,
        })
        .collect();
    if out.len() > 1 {
        let mut seen = std::collections::HashSet::with_capacity(out.len());
        for s in &out {
            if !seen.insert(&s.labels) {
                return Err(PromqlError::execution(
                    "vector cannot contain metrics with the same labelset",
                ));
            }
        }
    }
    Ok(out)
}

/// A selector's series, their samples read on first use.
struct Selected {
    series: Vec<crate::tsdb::Series>,
    decoded: std::cell::OnceCell<Vec<Loaded>>,
}

/// What [`Evaluator::selected`] finds.
pub(crate) enum Sel<'a> {
    Read(&'a [Loaded]),
    Unread(&'a [crate::tsdb::Series]),
}

/// One selected series' samples over the query's whole range.
pub(crate) struct Loaded {
    pub labels: Labels,
    pub samples: Vec<(i64, f64)>,
}

impl Loaded {
    /// What an instant selector sees at reference time `r`: the latest sample at
    /// or before `r` and after `lo` (`r` minus the lookback delta), unless it is
    /// a staleness marker.
    pub fn latest(&self, r: i64, lo: i64) -> Option<(i64, f64)> {
        let i = self.samples.partition_point(|&(ts, _)| ts <= r);
        let (ts, v) = *self.samples.get(i.checked_sub(1)?)?;
        (ts > lo && !is_stale_nan(v)).then_some((ts, v))
    }
}

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub start: i64,
    pub end: i64,
    /// Step of a range query, 0 for an instant query.
    pub step: i64,
    pub lookback: i64,
    /// The query text, for the positions in annotations.
    pub query: String,
    /// String literals of the query that are not UTF-8.
    pub non_utf8: NonUtf8Strings,
    /// Selected series by selector (the address of its node in the parsed tree).
    data: HashMap<usize, Selected>,
    started: Instant,
    timeout: Duration,
    cancel: Option<&'a AtomicBool>,
    pub max_samples: usize,
    pub cur_samples: usize,
    warnings: Vec<String>,
    infos: Vec<String>,
    /// The plan and the series of each `info` call (by the address of its node).
    pub info_data: HashMap<usize, (InfoPlan, Vec<Loaded>)>,
    /// Histograms made monotonic, merged per metric and position until the end.
    monotonicity: Vec<MonotonicityNote>,
    /// Group labels by input series, per aggregation node: computed once per
    /// series for the whole query instead of once per step.
    pub group_cache: HashMap<usize, HashMap<Labels, Labels>>,
    /// The steps of a range query, once its columns are being computed.
    pub steps: Option<Steps>,
    /// Nodes of a range query evaluated over all steps at once, by address
    /// (`columnar.rs`).
    pub columns: HashMap<usize, Cols>,
}

fn key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
    }
}

pub(crate) fn dur_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Milliseconds since the epoch, rounded (`@ 1.234` is 1234 ms even when the
/// parsed float is a hair below).
fn system_time_ms(t: &SystemTime) -> i64 {
    let round = |d: Duration| {
        i64::try_from(d.as_nanos().saturating_add(500_000) / 1_000_000).unwrap_or(i64::MAX / 4)
    };
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => round(d),
        Err(e) => -round(e.duration()),
    }
}

impl<'a> Evaluator<'a> {
    fn result(&mut self, value: Value) -> QueryResult {
        for n in std::mem::take(&mut self.monotonicity) {
            let msg = n.message();
            self.info(msg);
        }
        QueryResult {
            value,
            warnings: std::mem::take(&mut self.warnings),
            infos: std::mem::take(&mut self.infos),
        }
    }

    pub fn warn(&mut self, msg: String) {
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    pub fn info(&mut self, msg: String) {
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    /// Records that a histogram of `metric` was made monotonic at `t`.
    pub(crate) fn note_monotonicity(&mut self, metric: String, pos: String, t: i64, f: Forced) {
        match self
            .monotonicity
            .iter_mut()
            .find(|n| n.metric == metric && n.pos == pos)
        {
            Some(n) => n.merge(t, f),
            None => self.monotonicity.push(MonotonicityNote {
                metric,
                pos,
                min_t: t,
                max_t: t,
                forced: f,
                count: 1,
            }),
        }
    }

    /// Fails if the query was cancelled or ran out of time.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(PromqlError {
                kind: ErrorKind::Canceled,
                message: "query was canceled in query execution".to_string(),
            });
        }
        if self.started.elapsed() > self.timeout {
            return Err(PromqlError {
                kind: ErrorKind::Timeout,
                message: "query timed out in query execution".to_string(),
            });
        }
        Ok(())
    }

    /// Counts `n` more samples held; fails past the limit.
    pub fn hold(&mut self, n: usize) -> Result<()> {
        self.cur_samples = self.cur_samples.saturating_add(n);
        if self.cur_samples > self.max_samples {
            return Err(too_many_samples());
        }
        Ok(())
    }

    pub(crate) fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.start),
            Some(AtModifier::End) => Some(self.end),
            Some(AtModifier::At(t)) => Some(system_time_ms(t)),
        }
    }

    /// The reference time of a selector or subquery evaluated at `t`.
    pub fn ref_time(&self, at: &Option<AtModifier>, offset: &Option<Offset>, t: i64) -> i64 {
        self.at_ms(at)
            .unwrap_or(t)
            .saturating_sub(offset_ms(offset))
    }

    /// Finds every selector and the time range it must be read over, when the
    /// expression is evaluated at times in `[mint, maxt]`.
    fn plan<'e>(
        &self,
        e: &'e Expr,
        mint: i64,
        maxt: i64,
        out: &mut HashMap<usize, (i64, i64, &'e VectorSelector)>,
        infos: &mut Vec<(i64, i64, &'e Call)>,
    ) {
        let mut add = |vs: &'e VectorSelector, range: i64| {
            let (lo, hi) = match self.at_ms(&vs.at) {
                Some(at) => (at, at),
                None => (mint, maxt),
            };
            let off = offset_ms(&vs.offset);
            let lo = lo
                .saturating_sub(off)
                .saturating_sub(range)
                .saturating_sub(self.lookback);
            let hi = hi.saturating_sub(off);
            let entry = out.entry(key(vs)).or_insert((lo, hi, vs));
            entry.0 = entry.0.min(lo);
            entry.1 = entry.1.max(hi);
        };
        match e {
            Expr::VectorSelector(vs) => add(vs, 0),
            Expr::MatrixSelector(ms) => add(&ms.vs, dur_ms(&ms.range)),
            Expr::Subquery(sq) => {
                let (lo, hi) = match self.at_ms(&sq.at) {
                    Some(at) => (at, at),
                    None => (mint, maxt),
                };
                let off = offset_ms(&sq.offset);
                let range = dur_ms(&sq.range);
                let lo = lo.saturating_sub(off).saturating_sub(range);
                let hi = hi.saturating_sub(off);
                self.plan(&sq.expr, lo, hi, out, infos);
            }
            Expr::Aggregate(a) => {
                self.plan(&a.expr, mint, maxt, out, infos);
                if let Some(p) = &a.param {
                    self.plan(p, mint, maxt, out, infos);
                }
            }
            Expr::Unary(u) => self.plan(&u.expr, mint, maxt, out, infos),
            Expr::Binary(b) => {
                self.plan(&b.lhs, mint, maxt, out, infos);
                self.plan(&b.rhs, mint, maxt, out, infos);
            }
            Expr::Paren(p) => self.plan(&p.expr, mint, maxt, out, infos),
            Expr::Call(c) => {
                if c.func.name == "info" {
                    // The info series: over the lookback before the first
                    // argument's reference times.
                    let (at, off) = info::info_time(self, &c.args.args[0]);
                    let (lo, hi) = match at {
                        Some(at) => (at, at),
                        None => (mint, maxt),
                    };
                    let (lo, hi) = (lo.saturating_sub(off), hi.saturating_sub(off));
                    infos.push((lo.saturating_sub(self.lookback), hi, c));
                    self.plan(&c.args.args[0], mint, maxt, out, infos);
                    return;
                }
                for a in &c.args.args {
                    self.plan(a, mint, maxt, out, infos);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    /// The samples of a selector's series, read on first use.
    pub(crate) fn loaded(&self, vs: &VectorSelector) -> Result<&[Loaded]> {
        let Some(sel) = self.data.get(&key(vs)) else {
            return Ok(&[]);
        };
        if let Some(l) = sel.decoded.get() {
            return Ok(l);
        }
        let l = decode_parallel(&sel.series)?;
        Ok(sel.decoded.get_or_init(|| l))
    }

    /// A selector's series: read already, or only selected (then the caller
    /// reads them as it goes, `columnar.rs`).
    pub(crate) fn selected(&self, vs: &VectorSelector) -> Sel<'_> {
        match self.data.get(&key(vs)) {
            None => Sel::Read(&[]),
            Some(sel) => match sel.decoded.get() {
                Some(l) => Sel::Read(l),
                None => Sel::Unread(&sel.series),
            },
        }
    }

    /// Evaluates `e` at time `t`.
    pub fn eval(&mut self, e: &Expr, t: i64) -> Result<Val> {
        if !self.columns.is_empty()
            && let Some(v) = columnar::lookup(self, e, t)
        {
            if let Val::Vector(v) = &v {
                self.hold(v.len())?;
            }
            return Ok(v);
        }
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::VectorSelector(vs) => self.vector_selector(vs, t).map(Val::Vector),
            Expr::MatrixSelector(ms) => {
                let range = dur_ms(&ms.range);
                self.matrix_selector(&ms.vs, range, t).map(Val::Matrix)
            }
            Expr::Subquery(sq) => {
                self.check()?;
                let r = self.ref_time(&sq.at, &sq.offset, t);
                let range = dur_ms(&sq.range);
                let step = sq
                    .step
                    .as_ref()
                    .map(dur_ms)
                    .unwrap_or(DEFAULT_SUBQUERY_STEP_MS)
                    .max(1);
                let lo = r.saturating_sub(range);
                let mut ts = lo.div_euclid(step) * step;
                if ts <= lo {
                    ts += step;
                }
                let mut index: HashMap<Labels, usize> = HashMap::new();
                let mut out: Vec<ESeries> = Vec::new();
                while ts <= r {
                    match self.eval(&sq.expr, ts)? {
                        Val::Vector(v) => {
                            self.hold(v.len())?;
                            for s in v {
                                let i = *index.entry(s.labels.clone()).or_insert_with(|| {
                                    out.push(ESeries {
                                        labels: s.labels,
                                        points: Vec::new(),
                                        drop_name: s.drop_name,
                                    });
                                    out.len() - 1
                                });
                                out[i].points.push(Point { t: ts, v: s.v });
                            }
                        }
                        Val::Scalar(v) => {
                            self.hold(1)?;
                            if out.is_empty() {
                                out.push(ESeries {
                                    labels: Labels::empty(),
                                    points: Vec::new(),
                                    drop_name: false,
                                });
                            }
                            out[0].points.push(Point { t: ts, v });
                        }
                        other => {
                            return Err(PromqlError::bad_data(format!(
                                "subquery is only allowed on instant vector, got {} instead",
                                other.type_name()
                            )));
                        }
                    }
                    ts = match ts.checked_add(step) {
                        Some(n) => n,
                        None => break,
                    };
                }
                Ok(Val::Matrix(out))
            }
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Val::Scalar(v) => Ok(Val::Scalar(-v)),
                Val::Vector(mut v) => {
                    for s in &mut v {
                        s.v = -s.v;
                        s.drop_name = true;
                        s.t = t;
                    }
                    Ok(Val::Vector(v))
                }
                other => Err(PromqlError::bad_data(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                    other.type_name()
                ))),
            },
            Expr::Binary(b) => binary::eval_binary(self, b, t),
            Expr::Aggregate(a) => aggregate::eval_aggregate(self, a, t),
            Expr::Call(c) => functions::eval_call(self, c, t),
            Expr::Extension(_) => Err(PromqlError::bad_data("unsupported expression extension")),
        }
    }

    /// The latest sample of each series at or before the reference time and within
    /// the lookback delta, unless it is a staleness marker.
    pub fn vector_selector(&mut self, vs: &VectorSelector, t: i64) -> Result<Vec<ESample>> {
        self.check()?;
        let r = self.ref_time(&vs.at, &vs.offset, t);
        let lo = r.saturating_sub(self.lookback);
        let mut out = Vec::new();
        for s in self.loaded(vs)? {
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
        self.hold(out.len())?;
        Ok(out)
    }

    /// The samples of each series in `(ref - range, ref]`, staleness markers left
    /// out; series with none are omitted.
    pub fn matrix_selector(
        &mut self,
        vs: &VectorSelector,
        range: i64,
        t: i64,
    ) -> Result<Vec<ESeries>> {
        self.check()?;
        let r = self.ref_time(&vs.at, &vs.offset, t);
        let lo = r.saturating_sub(range);
        let mut out = Vec::new();
        let mut n = 0;
        for s in self.loaded(vs)? {
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
        self.hold(n)?;
        Ok(out)
    }
}
