//! Function calls: instant-vector functions, label functions, sorting,
//! `histogram_quantile`, and the dispatch to the range-vector functions.

use promql_parser::parser::{Call, Expr};

use super::engine::{Evaluator, dur_ms};
use super::error::{PromqlError, Result};
use super::histogram;
use super::info;
use super::position::{arg_position, position};
use super::range_fns as rf;
use super::value::{ESample, ESeries, Point, Val, labels_set};
use crate::model::{Labels, float};

pub(crate) fn arg_vector(v: Val, name: &str) -> Result<Vec<ESample>> {
    match v {
        Val::Vector(v) => Ok(v),
        other => Err(PromqlError::bad_data(format!(
            "expected instant vector argument for {name}, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_scalar(v: Val, name: &str) -> Result<f64> {
    match v {
        Val::Scalar(v) => Ok(v),
        other => Err(PromqlError::bad_data(format!(
            "expected scalar argument for {name}, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn arg_string(v: Val, name: &str) -> Result<String> {
    match v {
        Val::Str(s) => Ok(s),
        other => Err(PromqlError::bad_data(format!(
            "expected string argument for {name}, got {}",
            other.type_name()
        ))),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn time_part(name: &str, secs: f64) -> f64 {
    let s = secs.floor() as i64;
    let days = s.div_euclid(86_400);
    let sod = s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let month_days = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    match name {
        "minute" => ((sod / 60) % 60) as f64,
        "hour" => (sod / 3600) as f64,
        "day_of_month" => d as f64,
        "day_of_week" => ((days + 4).rem_euclid(7)) as f64,
        "day_of_year" => (month_days[..(m as usize - 1)].iter().sum::<i64>() + d as i64) as f64,
        "days_in_month" => month_days[m as usize - 1] as f64,
        "month" => m as f64,
        "year" => y as f64,
        _ => f64::NAN,
    }
}

fn math(name: &str, v: f64) -> Option<f64> {
    Some(match name {
        "abs" => v.abs(),
        "ceil" => v.ceil(),
        "floor" => v.floor(),
        "exp" => v.exp(),
        "sqrt" => v.sqrt(),
        "ln" => v.ln(),
        "log2" => v.log2(),
        "log10" => v.log10(),
        "sgn" => {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        }
        "sin" => v.sin(),
        "cos" => v.cos(),
        "tan" => v.tan(),
        "asin" => v.asin(),
        "acos" => v.acos(),
        "atan" => v.atan(),
        "sinh" => v.sinh(),
        "cosh" => v.cosh(),
        "tanh" => v.tanh(),
        "asinh" => v.asinh(),
        "acosh" => v.acosh(),
        "atanh" => v.atanh(),
        "deg" => v.to_degrees(),
        "rad" => v.to_radians(),
        _ => return None,
    })
}

/// Labels `absent` gives its result: the selector's equality matchers (a name
/// matched twice is left out).
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut dup: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == "__name__" {
            continue;
        }
        if seen.contains(&m.name.as_str()) {
            dup.push(m.name.clone());
        }
        seen.push(&m.name);
        if matches!(m.op, promql_parser::label::MatchOp::Equal) {
            pairs.push((m.name.clone(), m.value.clone()));
        }
    }
    pairs.retain(|(n, _)| !dup.contains(n));
    pairs.dedup_by(|a, b| a.0 == b.0);
    Labels::new(pairs).unwrap_or_default()
}

/// Whether `name` may name a label: Prometheus 3 accepts any non-empty UTF-8,
/// so not a string literal of the query that was not UTF-8 (`"\xff"`).
pub(crate) fn valid_label_name(ev: &Evaluator<'_>, name: &str) -> bool {
    !name.is_empty() && ev.non_utf8.bytes_of(name).is_none()
}

/// Splits `s` into runs of ASCII digits and runs of anything else.
fn natural_chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digits = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if digits.is_some_and(|x| x != d) {
            out.push(&s[start..i]);
            start = i;
        }
        digits = Some(d);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Whether `a` sorts before `b` in the natural order `sort_by_label` uses (the
/// one of the Go package Prometheus calls): chunk by chunk, runs of digits
/// compared as integers; a string that runs out of chunks first comes first.
fn natural_less(a: &str, b: &str) -> bool {
    let (ca, cb) = (natural_chunks(a), natural_chunks(b));
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let same = match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(p), Ok(q)) if p != q => return p < q,
            (Ok(_), Ok(_)) => true,
            _ => x == y,
        };
        if !same {
            return x < y;
        }
        if i == ca.len() - 1 {
            return true;
        }
        if i == cb.len() - 1 {
            return false;
        }
    }
    false
}

/// The expression inside any parentheses.
fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        _ => e,
    }
}

/// Go's `math.Max`/`math.Min`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn selector_text_start(e: &Expr) -> Option<String> {
    match e {
        Expr::MatrixSelector(ms) => ms.vs.name.clone(),
        Expr::VectorSelector(vs) => vs.name.clone(),
        _ => None,
    }
}

pub(crate) fn eval_call(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Val> {
    let name = c.func.name;
    let args = &c.args.args;
    // The parser checks arities; checked again here so that no index below can
    // be out of bounds whatever tree reaches us.
    let declared = c.func.arg_types.len();
    let min_args = if c.func.variadic == 0 {
        declared
    } else {
        declared.saturating_sub(1)
    };
    if args.len() < min_args {
        return Err(PromqlError::bad_data(format!(
            "expected at least {min_args} argument(s) in call to {name:?}, got {}",
            args.len()
        )));
    }
    match name {
        "time" => return Ok(Val::Scalar(t as f64 / 1000.0)),
        "pi" => return Ok(Val::Scalar(std::f64::consts::PI)),
        // Experimental: the query's own range and step, in seconds.
        "start" => return Ok(Val::Scalar(ev.start as f64 / 1000.0)),
        "end" => return Ok(Val::Scalar(ev.end as f64 / 1000.0)),
        "range" => return Ok(Val::Scalar((ev.end - ev.start) as f64 / 1000.0)),
        "step" => return Ok(Val::Scalar(ev.step as f64 / 1000.0)),
        "min_of" | "max_of" => {
            let mut acc: Option<f64> = None;
            for a in args {
                let x = arg_scalar(ev.eval(a, t)?, name)?;
                acc = Some(match acc {
                    None => x,
                    Some(y) if name == "min_of" => go_min(x, y),
                    Some(y) => go_max(x, y),
                });
            }
            return Ok(Val::Scalar(acc.unwrap_or(f64::NAN)));
        }
        "vector" => {
            let v = arg_scalar(ev.eval(&args[0], t)?, name)?;
            return Ok(Val::Vector(vec![ESample {
                labels: Labels::empty(),
                t,
                v,
                drop_name: false,
            }]));
        }
        "scalar" => {
            let v = arg_vector(ev.eval(&args[0], t)?, name)?;
            return Ok(Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }));
        }
        "absent" => {
            let v = arg_vector(ev.eval(&args[0], t)?, name)?;
            return Ok(Val::Vector(if v.is_empty() {
                vec![ESample {
                    labels: absent_labels(&args[0]),
                    t,
                    v: 1.0,
                    drop_name: false,
                }]
            } else {
                Vec::new()
            }));
        }
        "absent_over_time" => {
            let m = ev.eval(&args[0], t)?;
            let empty = matches!(&m, Val::Matrix(m) if m.is_empty());
            return Ok(Val::Vector(if empty {
                vec![ESample {
                    labels: absent_labels(&args[0]),
                    t,
                    v: 1.0,
                    drop_name: false,
                }]
            } else {
                Vec::new()
            }));
        }
        _ => {}
    }
    let range_arg = args
        .first()
        .is_some_and(|a| matches!(unparen(a), Expr::MatrixSelector(_) | Expr::Subquery(_)));
    if range_arg
        || matches!(
            name,
            "quantile_over_time"
                | "predict_linear"
                | "double_exponential_smoothing"
                | "holt_winters"
        )
    {
        return range_call(ev, c, t);
    }
    match name {
        "label_replace" => {
            let v = arg_vector(ev.eval(&args[0], t)?, name)?;
            let dst = arg_string(ev.eval(&args[1], t)?, name)?;
            let repl = arg_string(ev.eval(&args[2], t)?, name)?;
            let src = arg_string(ev.eval(&args[3], t)?, name)?;
            let re = arg_string(ev.eval(&args[4], t)?, name)?;
            let re = regex::Regex::new(&format!("^(?s:{re})$")).map_err(|e| {
                PromqlError::bad_data(format!(
                    "invalid regular expression in label_replace(): {e}"
                ))
            })?;
            if !valid_label_name(ev, &dst) {
                return Err(PromqlError::bad_data(format!(
                    "invalid destination label name in label_replace(): {dst}"
                )));
            }
            let mut out = Vec::with_capacity(v.len());
            for mut s in v {
                let sv = s.labels.get(&src).unwrap_or("").to_string();
                if let Some(caps) = re.captures(&sv) {
                    let mut res = String::new();
                    caps.expand(&repl, &mut res);
                    s.labels = labels_set(&s.labels, &dst, &res);
                    if dst == "__name__" {
                        s.drop_name = false;
                    }
                }
                out.push(s);
            }
            return Ok(Val::Vector(out));
        }
        "label_join" => {
            let v = arg_vector(ev.eval(&args[0], t)?, name)?;
            let dst = arg_string(ev.eval(&args[1], t)?, name)?;
            let sep = arg_string(ev.eval(&args[2], t)?, name)?;
            let mut srcs = Vec::new();
            for a in &args[3..] {
                let src = arg_string(ev.eval(a, t)?, name)?;
                if !valid_label_name(ev, &src) {
                    return Err(PromqlError::bad_data(format!(
                        "invalid source label name in label_join(): {src}"
                    )));
                }
                srcs.push(src);
            }
            if !valid_label_name(ev, &dst) {
                return Err(PromqlError::bad_data(format!(
                    "invalid destination label name in label_join(): {dst}"
                )));
            }
            let mut out = Vec::with_capacity(v.len());
            for mut s in v {
                let joined: Vec<&str> =
                    srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
                let joined = joined.join(&sep);
                s.labels = labels_set(&s.labels, &dst, &joined);
                if dst == "__name__" {
                    s.drop_name = false;
                }
                out.push(s);
            }
            return Ok(Val::Vector(out));
        }
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            if ev.step > 0 {
                let pos = position(&ev.query, name);
                ev.warn(format!(
                    "PromQL warning: sort is ineffective for range queries since results are always ordered by labels{pos}"
                ));
            }
            let mut v = arg_vector(ev.eval(&args[0], t)?, name)?;
            match name {
                "sort" => v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => a.v.partial_cmp(&b.v).unwrap_or(std::cmp::Ordering::Equal),
                }),
                "sort_desc" => v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => b.v.partial_cmp(&a.v).unwrap_or(std::cmp::Ordering::Equal),
                }),
                _ => {
                    let mut names = Vec::new();
                    for a in &args[1..] {
                        names.push(arg_string(ev.eval(a, t)?, name)?);
                    }
                    let desc = name == "sort_by_label_desc";
                    v.sort_by(|a, b| {
                        for n in &names {
                            let (x, y) =
                                (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
                            if x == y {
                                continue;
                            }
                            let o = if natural_less(x, y) {
                                std::cmp::Ordering::Less
                            } else {
                                std::cmp::Ordering::Greater
                            };
                            return if desc { o.reverse() } else { o };
                        }
                        let o = a.labels.cmp(&b.labels);
                        if desc { o.reverse() } else { o }
                    });
                }
            }
            return Ok(Val::Vector(v));
        }
        "timestamp" => {
            let mut v = arg_vector(ev.eval(&args[0], t)?, name)?;
            for s in &mut v {
                s.v = s.t as f64 / 1000.0;
                s.t = t;
                s.drop_name = true;
            }
            return Ok(Val::Vector(v));
        }
        "info" => {
            let key = c as *const Call as usize;
            let Some((plan, series)) = ev.info_data.remove(&key) else {
                return Err(PromqlError::execution("info series were not loaded"));
            };
            let r = info::eval_info(ev, c, &plan, &series, t);
            ev.info_data.insert(key, (plan, series));
            return r.map(Val::Vector);
        }
        "histogram_quantile" => return histogram::histogram_quantile(ev, c, t).map(Val::Vector),
        "histogram_quantiles" => {
            return histogram::histogram_quantiles(ev, c, t).map(Val::Vector);
        }
        "histogram_fraction" => return histogram::histogram_fraction(ev, c, t).map(Val::Vector),
        _ => {}
    }
    // Element-wise functions of one vector and optional scalars.
    let mut extra = Vec::new();
    for a in args.iter().skip(1) {
        extra.push(arg_scalar(ev.eval(a, t)?, name)?);
    }
    let mut v = match args.first() {
        Some(a) => arg_vector(ev.eval(a, t)?, name)?,
        None => vec![ESample {
            labels: Labels::empty(),
            t,
            v: t as f64 / 1000.0,
            drop_name: false,
        }],
    };
    let f: Box<dyn Fn(f64) -> Option<f64>> = match name {
        "clamp" => {
            let (lo, hi) = (extra[0], extra[1]);
            if hi < lo {
                return Ok(Val::Vector(Vec::new()));
            }
            Box::new(move |x| Some(go_max(lo, go_min(hi, x))))
        }
        "clamp_max" => {
            let hi = extra[0];
            Box::new(move |x| Some(go_min(hi, x)))
        }
        "clamp_min" => {
            let lo = extra[0];
            Box::new(move |x| Some(go_max(lo, x)))
        }
        "round" => {
            let inv = 1.0 / extra.first().copied().unwrap_or(1.0);
            Box::new(move |x| Some((x * inv + 0.5).floor() / inv))
        }
        "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month"
        | "month" | "year" => Box::new(move |x| {
            if x.is_finite() {
                Some(time_part(name, x))
            } else {
                Some(f64::NAN)
            }
        }),
        _ if math(name, 0.0).is_some() => Box::new(move |x| math(name, x)),
        _ => {
            return Err(PromqlError::bad_data(format!(
                "function {name:?} is not supported"
            )));
        }
    };
    let mut out = Vec::with_capacity(v.len());
    for mut s in v.drain(..) {
        if let Some(x) = f(s.v) {
            s.v = x;
            s.t = t;
            s.drop_name = true;
            out.push(s);
        }
    }
    Ok(Val::Vector(out))
}

/// The range-vector argument of a range function and the positions of its other
/// (scalar) arguments: `quantile_over_time(φ, m)` has it second.
pub(crate) fn range_arg_positions(name: &str, nargs: usize) -> (usize, Vec<usize>) {
    if name == "quantile_over_time" {
        (1, vec![0])
    } else {
        (0, (1..nargs).collect())
    }
}

fn range_call(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Val> {
    let name = c.func.name;
    let args = &c.args.args;
    let (mi, others) = range_arg_positions(name, args.len());
    let marg = unparen(&args[mi]);
    let (at, off, range) = match marg {
        Expr::MatrixSelector(ms) => (&ms.vs.at, &ms.vs.offset, dur_ms(&ms.range)),
        Expr::Subquery(sq) => (&sq.at, &sq.offset, dur_ms(&sq.range)),
        _ => {
            return Err(PromqlError::bad_data(format!(
                "expected type range vector in call to function {name:?}"
            )));
        }
    };
    let end = ev.ref_time(at, off, t);
    let start = end - range;
    let mut extra = Vec::new();
    for &i in &others {
        extra.push(arg_scalar(ev.eval(&args[i], t)?, name)?);
    }
    let m: Vec<ESeries> = match ev.eval(marg, t)? {
        Val::Matrix(m) => m,
        other => {
            return Err(PromqlError::bad_data(format!(
                "expected range vector argument for {name}, got {}",
                other.type_name()
            )));
        }
    };
    check_range_call(ev, name, marg, &extra)?;
    let keep_name = range_fn_keeps_name(name);
    let mut out = Vec::with_capacity(m.len());
    for s in m {
        if let Some(v) = range_fn_value(name, &s.points, start, end, t, &extra)? {
            out.push(ESample {
                labels: s.labels,
                t,
                v,
                drop_name: if keep_name { s.drop_name } else { true },
            });
        }
    }
    Ok(Val::Vector(out))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert!(natural_less("2", "10"));
        assert!(!natural_less("10", "2"));
        assert!(natural_less("4m5", "4m600"));
        assert!(natural_less("4m600", "4m1000"));
        assert!(natural_less("1.2.3", "1.11.3"));
        assert!(natural_less("1.11.3", "1.111.3"));
        assert!(natural_less("a", "b"));
        assert!(!natural_less("", "x"));
    }

    #[test]
    fn calendar_parts() {
        // 2020-02-29T12:34:00Z
        let s = 1_582_979_640.0;
        assert_eq!(time_part("year", s), 2020.0);
        assert_eq!(time_part("month", s), 2.0);
        assert_eq!(time_part("day_of_month", s), 29.0);
        assert_eq!(time_part("days_in_month", s), 29.0);
        assert_eq!(time_part("day_of_year", s), 60.0);
        assert_eq!(time_part("hour", s), 12.0);
        assert_eq!(time_part("minute", s), 34.0);
        assert_eq!(time_part("day_of_week", 0.0), 4.0);
    }
}
