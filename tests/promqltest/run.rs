//! Runs a parsed script against an [`Evaluator`] and judges each case.
//!
//! **A case** is one `eval` command (instant or range), with every query the runner
//! derives from it; it passes only if all of them pass. For `eval instant at t e`,
//! as Prometheus's test.go does:
//!
//! 1. `e` is evaluated at `t` and compared with the expectation;
//! 2. unless `e` calls a function whose value depends on the evaluation time
//!    (`time`, `timestamp`, `hour`, … see [`query`]), `e` with every selector and
//!    subquery pinned `@ t` is evaluated at `-10t, 0, t/5, t, 10t` (at `-1s, 0, 1s`
//!    when `t` is 0) and must give the same expected result;
//! 3. each of those instant queries (the original and the pinned ones) is also run
//!    as a range query from `t-1m` to `t+1m` step `1m`: the matrix must be sorted by
//!    labels and its points at `t` must match the expectation. Skipped for `expect
//!    string`, `expect range vector`, queries calling `start()`, `end()`, `range()`
//!    or `step()`, and (after running it) for `expect ordered`.
//!
//! `eval range` is one range query. A command the parser could not read, and a
//! `load` the storage refused, are failed cases too (at their line). An eval that
//! expects native-histogram values, or that reads metrics loaded with histogram
//! samples, `load_with_nhcb` or `@st` start timestamps (which this runner does not
//! load), fails as unsupported in this build: never a pass.
//!
//! Comparison is Prometheus's: series as unordered sets of label sets (ordered with
//! `expect ordered`), floats equal within a relative 1e-6 (`util/almost.Equal`),
//! NaN equal to NaN, the stale marker only to itself. Warnings and infos are checked
//! only when an `expect warn`/`no_warn`/`info`/`no_info` line (or `eval_warn`,
//! `eval_info`) asks for it.

use std::collections::HashSet;
use std::fmt;

use regex::Regex;

use super::labels::Labels;
use super::query;
use super::script::{self, Command, Eval, EvalKind, Expected, Load, TextMatch};
use super::series::{SeqValue, is_stale};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(i64, f64)>,
}

/// A query's value (mirrors `tidemark::promql::Value`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A successful query: its value and annotations (rendered as Prometheus renders
/// them, e.g. `PromQL warning: … (1:5)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// A failed query: the error text, compared with `expect fail msg:`/`regex:`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the runner needs of a PromQL engine and its storage.
pub trait Evaluator {
    /// Adds float samples (time order within a series) in one batch; on error none
    /// of them may stay (Prometheus rolls the appender back).
    fn load(&mut self, series: &[(Labels, Vec<(i64, f64)>)]) -> Result<(), String>;
    /// Drops all data: an empty storage.
    fn clear(&mut self) -> Result<(), String>;
    fn instant(&mut self, query: &str, t_ms: i64) -> Result<Outcome, QueryError>;
    fn range(
        &mut self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Outcome, QueryError>;
}

/// The verdict on one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// 1-based line of the command.
    pub line: usize,
    /// The query, or the command text for a broken command or load.
    pub what: String,
    pub result: Result<(), String>,
}

/// Why evals may not be judged on the data: something was loaded that this runner
/// cannot store.
struct Taint {
    line: usize,
    reason: &'static str,
    metrics: HashSet<String>,
    /// The whole storage is affected (a failed load).
    all: bool,
}

/// Runs every command of `text` in order against `ev`, starting from empty storage.
pub fn run_script(text: &str, ev: &mut dyn Evaluator) -> Vec<CaseResult> {
    let context_funcs = Regex::new(r"(start|end|range|step)\(\)").expect("constant regex");
    let mut results = Vec::new();
    let mut taints: Vec<Taint> = Vec::new();
    if let Err(e) = ev.clear() {
        results.push(CaseResult {
            line: 0,
            what: "(storage)".into(),
            result: Err(format!("could not open an empty storage: {e}")),
        });
        return results;
    }
    for cmd in script::parse(text) {
        match cmd.command {
            Command::Clear => {
                taints.clear();
                if let Err(e) = ev.clear() {
                    taints.push(Taint {
                        line: cmd.line,
                        reason: "clearing the storage failed",
                        metrics: HashSet::new(),
                        all: true,
                    });
                    results.push(CaseResult {
                        line: cmd.line,
                        what: "clear".into(),
                        result: Err(e),
                    });
                }
            }
            Command::Broken { text, reason } => results.push(CaseResult {
                line: cmd.line,
                what: text,
                result: Err(format!("runner cannot read this command: {reason}")),
            }),
            Command::Load(load) => {
                if let Some(t) = load_taint(&load, cmd.line) {
                    taints.push(t);
                }
                let floats: Vec<(Labels, Vec<(i64, f64)>)> = load
                    .series
                    .iter()
                    .map(|s| {
                        let pts = s
                            .samples
                            .iter()
                            .filter_map(|(t, v)| match v {
                                SeqValue::Float(f) => Some((*t, *f)),
                                _ => None,
                            })
                            .collect();
                        (s.labels.clone(), pts)
                    })
                    .filter(|(_, pts): &(Labels, Vec<(i64, f64)>)| !pts.is_empty())
                    .collect();
                if let Err(e) = ev.load(&floats) {
                    taints.push(Taint {
                        line: cmd.line,
                        reason: "the storage refused the load",
                        metrics: HashSet::new(),
                        all: true,
                    });
                    results.push(CaseResult {
                        line: cmd.line,
                        what: "load".into(),
                        result: Err(format!("the storage refused the load: {e}")),
                    });
                }
            }
            Command::Eval(e) => {
                let result = match tainted_by(&taints, &e.expr) {
                    Some(t) => Err(format!(
                        "not supported in this build: reads data from line {} ({})",
                        t.line, t.reason
                    )),
                    None if e.expects_histograms() => Err(
                        "not supported in this build: expects native histogram values".to_owned(),
                    ),
                    None => run_eval(&e, ev, &context_funcs),
                };
                results.push(CaseResult {
                    line: cmd.line,
                    what: e.expr.clone(),
                    result,
                });
            }
        }
    }
    results
}

fn load_taint(load: &Load, line: usize) -> Option<Taint> {
    let name = |l: &Labels| l.get("__name__").unwrap_or_default().to_owned();
    let mut metrics = HashSet::new();
    let mut reason = "";
    for s in &load.series {
        if s.samples
            .iter()
            .any(|(_, v)| matches!(v, SeqValue::Histogram(_)))
        {
            metrics.insert(name(&s.labels));
            reason = "native histogram samples";
        }
        if load.with_nhcb {
            let n = name(&s.labels);
            for suffix in ["_bucket", "_count", "_sum"] {
                if let Some(base) = n.strip_suffix(suffix) {
                    metrics.insert(base.to_owned());
                    reason = "load_with_nhcb custom-bucket histograms";
                }
            }
        }
        if load.start_timestamps {
            metrics.insert(name(&s.labels));
            reason = "@st start timestamps";
        }
    }
    (!metrics.is_empty()).then_some(Taint {
        line,
        reason,
        metrics,
        all: false,
    })
}

/// The taint that applies to `expr`: one on the whole storage, or one naming a
/// metric the query mentions, or any when the query selects without a plain
/// metric name (`{…}` alone, `__name__` matchers).
fn tainted_by<'a>(taints: &'a [Taint], expr: &str) -> Option<&'a Taint> {
    if let Some(t) = taints.iter().find(|t| t.all) {
        return Some(t);
    }
    let idents = query::identifiers(expr);
    let wildcard = expr.contains("__name__") || query::has_nameless_selector(expr);
    taints
        .iter()
        .find(|t| wildcard || idents.iter().any(|i| t.metrics.contains(i)))
}

fn run_eval(e: &Eval, ev: &mut dyn Evaluator, context_funcs: &Regex) -> Result<(), String> {
    match e.kind {
        EvalKind::Range {
            start_ms,
            end_ms,
            step_ms,
        } => {
            let res = ev.range(&e.expr, start_ms, end_ms, step_ms);
            let out = match res {
                Err(err) if e.fail => return check_failure(e, &e.expr, &err),
                Err(err) => return Err(format!("error evaluating range query: {err}")),
                Ok(_) if e.fail => return Err("expected an error but the query succeeded".into()),
                Ok(o) => o,
            };
            check_annotations(e, &e.expr, &out)?;
            compare(e, &out.value, (start_ms, end_ms, step_ms))
        }
        EvalKind::Instant { t_ms } => {
            let mut queries = vec![(e.expr.clone(), t_ms)];
            match query::pin_at(&e.expr, t_ms) {
                Ok(Some(pinned)) => {
                    let times = if t_ms == 0 {
                        vec![-1000, 0, 1000]
                    } else {
                        vec![
                            t_ms.saturating_mul(-10),
                            0,
                            t_ms / 5,
                            t_ms,
                            t_ms.saturating_mul(10),
                        ]
                    };
                    queries.extend(times.into_iter().map(|t| (pinned.clone(), t)));
                }
                Ok(None) => {}
                Err(msg) => {
                    return Err(format!(
                        "runner cannot pin the query with @ for its extra check: {msg}"
                    ));
                }
            }
            for (q, t) in &queries {
                run_instant(e, q, *t, ev, context_funcs)?;
            }
            Ok(())
        }
    }
}

fn run_instant(
    e: &Eval,
    q: &str,
    t: i64,
    ev: &mut dyn Evaluator,
    context_funcs: &Regex,
) -> Result<(), String> {
    let at = |msg: String| format!("{msg} (query {q:?} at {})", query::format_at(t));
    let out = match ev.instant(q, t) {
        Err(err) if e.fail => return check_failure(e, q, &err),
        Err(err) => return Err(at(format!("error evaluating query: {err}"))),
        Ok(_) if e.fail => return Err(at("expected an error but the query succeeded".into())),
        Ok(o) => o,
    };
    check_annotations(e, q, &out).map_err(at)?;
    let (start, end, step) = e.range_vector.unwrap_or((t, i64::MIN, 0));
    compare(e, &out.value, (start, end, step)).map_err(at)?;
    if e.exclude_from_range_query || context_funcs.is_match(q) {
        return Ok(());
    }
    let in_range = |msg: String| {
        format!(
            "{msg} (query {q:?} as a range query from {} to {} step 60)",
            query::format_at(t - 60_000),
            query::format_at(t + 60_000)
        )
    };
    let range = ev
        .range(q, t - 60_000, t + 60_000, 60_000)
        .map_err(|err| in_range(format!("error evaluating query in range mode: {err}")))?;
    if e.ordered {
        return Ok(());
    }
    let Value::Matrix(m) = &range.value else {
        return Err(in_range(format!(
            "a range query returned a {}, not a matrix",
            range.value.kind()
        )));
    };
    assert_sorted(m).map_err(in_range)?;
    let vec: Vec<Sample> = m
        .iter()
        .filter_map(|s| {
            s.points.iter().find(|p| p.0 == t).map(|p| Sample {
                labels: s.labels.clone(),
                t: p.0,
                v: p.1,
            })
        })
        .collect();
    let value = if let Value::Scalar { .. } = out.value {
        match vec.first() {
            Some(s) => Value::Scalar { t, v: s.v },
            None => return Err(in_range("no point at the evaluation time".into())),
        }
    } else {
        Value::Vector(vec)
    };
    compare(e, &value, (t, i64::MIN, 0)).map_err(in_range)
}

fn check_failure(e: &Eval, q: &str, err: &QueryError) -> Result<(), String> {
    for m in &e.fail_match {
        if !m.matches(&err.message) {
            return Err(format!(
                "expected an error matching {} but got: {} (query {q:?})",
                m.describe(),
                err.message
            ));
        }
    }
    Ok(())
}

fn check_annotations(e: &Eval, q: &str, out: &Outcome) -> Result<(), String> {
    let _ = q;
    if e.warn && out.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if e.info && out.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    check_kind("warn", &e.expect_warn, &out.warnings)?;
    check_kind("info", &e.expect_info, &out.infos)?;
    if e.expect_no_warn && !out.warnings.is_empty() {
        return Err(format!("unexpected warnings: {:?}", out.warnings));
    }
    if e.expect_no_info && !out.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", out.infos));
    }
    Ok(())
}

fn check_kind(kind: &str, expected: &[TextMatch], actual: &[String]) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    for m in expected {
        if !actual.iter().any(|a| m.matches(a)) {
            return Err(format!(
                "expected a {kind} annotation matching {} but found: {actual:?}",
                m.describe()
            ));
        }
    }
    for a in actual {
        if !expected.iter().any(|m| m.matches(a)) {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

/// `util/almost.Equal` with epsilon 1e-6.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    let min_normal = f64::from_bits(0x0010_0000_0000_0000);
    if is_stale(a) || is_stale(b) {
        return is_stale(a) && is_stale(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < EPSILON * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

fn assert_sorted(m: &[Series]) -> Result<(), String> {
    for w in m.windows(2) {
        if w[0].labels.compare(&w[1].labels) == std::cmp::Ordering::Greater {
            return Err(format!(
                "matrix results should always be sorted by labels, but {} comes before {}",
                w[0].labels, w[1].labels
            ));
        }
    }
    Ok(())
}

fn seq_float(v: &SeqValue) -> f64 {
    match v {
        SeqValue::Float(f) => *f,
        _ => 0.0,
    }
}

/// Compares a value with the expectation. `(start, end, step)` place the points of
/// an expected matrix (`end` = `i64::MIN`: an instant query without `expect range
/// vector`, where no point can be expected).
fn compare(e: &Eval, value: &Value, (start, end, step): (i64, i64, i64)) -> Result<(), String> {
    let expect_scalar = matches!(e.expected, Expected::Scalar(_));
    let find = |l: &Labels| e.series.iter().find(|s| &s.labels == l);
    match value {
        Value::Matrix(m) => {
            if e.ordered {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            if expect_scalar {
                return Err("expected scalar result, but got a matrix".into());
            }
            assert_sorted(m)?;
            for s in m {
                let Some(exp) = find(&s.labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has {:?}",
                        s.labels, s.points
                    ));
                };
                let mut expected = Vec::new();
                for (i, v) in exp.values.iter().enumerate() {
                    let ts = (i as i64)
                        .checked_mul(step)
                        .and_then(|o| start.checked_add(o));
                    let Some(ts) = ts.filter(|&ts| ts <= end) else {
                        return Err(format!(
                            "expected {} points for {}, but the query time range cannot return this many points",
                            exp.values.len(),
                            exp.labels
                        ));
                    };
                    match v {
                        SeqValue::Omitted => {}
                        SeqValue::Float(f) => expected.push((ts, *f)),
                        SeqValue::Histogram(_) => {
                            return Err("native histogram values are not supported".into());
                        }
                    }
                }
                if expected.len() != s.points.len() {
                    return Err(format!(
                        "expected {} float points for {}, but got {:?}",
                        expected.len(),
                        exp.labels,
                        s.points
                    ));
                }
                for (i, (x, a)) in expected.iter().zip(&s.points).enumerate() {
                    if x.0 != a.0 {
                        return Err(format!(
                            "expected point {i} of {} at t={}, but it is at t={} (result has {:?})",
                            exp.labels, x.0, a.0, s.points
                        ));
                    }
                    if !almost_equal(x.1, a.1) {
                        return Err(format!(
                            "expected point {i} (t={}) of {} to be {}, but got {} (result has {:?})",
                            a.0, exp.labels, x.1, a.1, s.points
                        ));
                    }
                }
            }
            for exp in &e.series {
                if !m.iter().any(|s| s.labels == exp.labels) {
                    return Err(format!("expected metric {} not found", exp.labels));
                }
            }
        }
        Value::Vector(v) => {
            if expect_scalar {
                return Err(format!(
                    "expected scalar result, but got a vector of {} samples",
                    v.len()
                ));
            }
            for (pos, s) in v.iter().enumerate() {
                let Some(exp) = find(&s.labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has value {}",
                        s.labels, s.v
                    ));
                };
                if e.ordered && exp.pos != pos + 1 {
                    return Err(format!(
                        "expected metric {} at position {} but it was at {}",
                        s.labels,
                        exp.pos,
                        pos + 1
                    ));
                }
                let Some(x) = exp.values.first() else {
                    return Err(format!("no expected value given for {}", exp.labels));
                };
                if matches!(x, SeqValue::Histogram(_)) {
                    return Err("native histogram values are not supported".into());
                }
                if !almost_equal(seq_float(x), s.v) {
                    return Err(format!(
                        "expected {} for {} but got {}",
                        seq_float(x),
                        s.labels,
                        s.v
                    ));
                }
            }
            for exp in &e.series {
                if !v.iter().any(|s| s.labels == exp.labels) {
                    return Err(format!("expected metric {} not found", exp.labels));
                }
            }
        }
        Value::Scalar { v, .. } => {
            let Expected::Scalar(x) = &e.expected else {
                return Err(format!(
                    "expected vector or matrix result, but got scalar {v}"
                ));
            };
            if !almost_equal(seq_float(x), *v) {
                return Err(format!("expected scalar {} but got {v}", seq_float(x)));
            }
        }
        Value::String { v, .. } => {
            let want = match &e.expected {
                Expected::String(s) => s.as_str(),
                _ => "",
            };
            if want != v {
                return Err(format!("expected string {want:?} but got {v:?}"));
            }
        }
    }
    Ok(())
}
