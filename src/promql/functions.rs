//! Function calls: instant-vector functions, label functions, sorting, and
//! the dispatch by name to the range-vector functions, the histogram
//! functions and `info`.

use promql_parser::parser::{Call, Expr};

use crate::model::{Labels, civil_from_days};
use crate::promql::context::args::{arg_scalar, arg_string, arg_vector};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::unparen;
use crate::promql::context::labels::labels_set;
use crate::promql::error::{PromqlError, Result};
use crate::promql::position::position;
use crate::promql::value::{ESample, Val};
use crate::promql::{histogram, info, range_fns};

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

/// The call `c` evaluated at `t`.
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
        return range_fns::step::eval(ev, c, t);
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
            if !ev.valid_label_name(&dst) {
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
                if !ev.valid_label_name(&src) {
                    return Err(PromqlError::bad_data(format!(
                        "invalid source label name in label_join(): {src}"
                    )));
                }
                srcs.push(src);
            }
            if !ev.valid_label_name(&dst) {
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
            let r = info::eval(ev, c, &plan, &series, t);
            ev.info_data.insert(key, (plan, series));
            return r.map(Val::Vector);
        }
        "histogram_quantile" => {
            return histogram::step::histogram_quantile(ev, c, t).map(Val::Vector);
        }
        "histogram_quantiles" => {
            return histogram::step::histogram_quantiles(ev, c, t).map(Val::Vector);
        }
        "histogram_fraction" => {
            return histogram::step::histogram_fraction(ev, c, t).map(Val::Vector);
        }
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
