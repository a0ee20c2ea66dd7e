//! Aggregation operators, grouped `by` or `without` labels.

use std::collections::HashMap;

use promql_parser::parser::AggregateExpr;
use promql_parser::parser::ast::LabelModifier;
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MAX, T_MIN,
    T_QUANTILE, T_STDDEV, T_STDVAR, T_SUM, T_TOPK, TokenId,
};

use super::engine::Evaluator;
use super::error::{PromqlError, Result};
use super::functions::valid_label_name;
use super::go_strings::go_quote;
use super::position::arg_position;
use super::value::{ESample, Val, has_metadata, labels_only, labels_set, labels_without};
use crate::model::{Labels, float};

/// Kahan-Neumaier summation step: returns the new sum and compensation.
#[inline]
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// One step of the running mean for averages that overflow a plain sum:
/// divides before subtracting, and an infinite mean stays as it is unless an
/// infinity of the other sign or a NaN arrives (as Prometheus does).
pub(crate) fn mean_inc(mean: f64, v: f64, count: f64) -> f64 {
    if count <= 1.0 {
        return v;
    }
    if mean.is_infinite() {
        if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
            return mean;
        }
        if v.is_finite() {
            return mean;
        }
    }
    mean + (v / count - mean / count)
}

/// Orders floats with NaN below everything, as Go's `sort.Float64s`.
pub(crate) fn nan_low_cmp(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// The `k` of `topk`, `bottomk` and `limitk` as a count: NaN is refused, a
/// negative `k` is 0 and a huge one unbounded.
pub(crate) fn k_param(k: f64) -> Result<usize> {
    if k.is_nan() {
        return Err(PromqlError::execution("Parameter value is NaN"));
    }
    Ok(if k >= 9.2e18 {
        usize::MAX
    } else {
        k.max(0.0) as usize
    })
}

/// The order `topk` (`top`) or `bottomk` ranks values in: the largest or the
/// smallest first, NaN last either way.
pub(crate) fn rank_order(top: bool, a: f64, b: f64) -> std::cmp::Ordering {
    if top {
        return nan_low_cmp(b, a);
    }
    match (a.is_nan(), b.is_nan()) {
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}

/// The φ-quantile of `values` (sorted here), interpolated as Prometheus does.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| nan_low_cmp(*a, *b));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let w = rank - rank.floor();
    values[lower as usize] * (1.0 - w) + values[upper as usize] * w
}

pub(crate) fn group_labels(l: &Labels, m: Option<&LabelModifier>) -> Labels {
    match m {
        Some(LabelModifier::Include(by)) => {
            let names: Vec<&str> = by.labels.iter().map(String::as_str).collect();
            labels_only(l, &names)
        }
        Some(LabelModifier::Exclude(without)) => {
            let mut names: Vec<&str> = without.labels.iter().map(String::as_str).collect();
            names.push("__name__");
            labels_without(l, &names)
        }
        None => Labels::empty(),
    }
}

/// The running state of one group of an aggregation by sum, avg, min, max,
/// count, group, stddev or stdvar, shared by the step-wise and the columnar
/// (`columnar.rs`) evaluation so that both compute alike.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Running {
    pub count: f64,
    sum: f64,
    comp: f64,
    mean: f64,
    m2: f64,
    value: f64,
}

impl Running {
    /// Adds one member's value; the first one starts min and max.
    #[inline]
    pub fn add(&mut self, op: TokenId, v: f64) {
        if self.count == 0.0 {
            self.value = v;
        }
        self.count += 1.0;
        match op {
            T_SUM => (self.sum, self.comp) = kahan_inc(v, self.sum, self.comp),
            T_AVG => {
                (self.sum, self.comp) = kahan_inc(v, self.sum, self.comp);
                self.mean = mean_inc(self.mean, v, self.count);
            }
            T_MIN if self.value > v || self.value.is_nan() => self.value = v,
            T_MAX if self.value < v || self.value.is_nan() => self.value = v,
            T_STDDEV | T_STDVAR => {
                let d = v - self.mean;
                self.mean += d / self.count;
                self.m2 += d * (v - self.mean);
            }
            _ => {}
        }
    }

    /// The aggregate of the values added; `None` for an operator computed
    /// otherwise.
    pub fn result(&self, op: TokenId) -> Option<f64> {
        Some(match op {
            T_SUM => self.sum + self.comp,
            T_AVG => {
                let s = self.sum + self.comp;
                if s.is_finite() {
                    s / self.count
                } else {
                    self.mean
                }
            }
            T_MIN | T_MAX => self.value,
            T_COUNT | T_COUNT_VALUES => self.count,
            T_GROUP => 1.0,
            T_STDVAR => self.m2 / self.count,
            T_STDDEV => (self.m2 / self.count).sqrt(),
            _ => return None,
        })
    }
}

#[derive(Default)]
struct Group {
    labels: Labels,
    drop_name: bool,
    run: Running,
    values: Vec<f64>,
    members: Vec<usize>,
}

pub(crate) fn eval_aggregate(ev: &mut Evaluator<'_>, a: &AggregateExpr, t: i64) -> Result<Val> {
    let op = a.op.id();
    let param = match &a.param {
        Some(p) => Some(ev.eval(p, t)?),
        None => None,
    };
    let input = match ev.eval(&a.expr, t)? {
        Val::Vector(v) => v,
        other => {
            return Err(PromqlError::bad_data(format!(
                "aggregation only allowed on instant vectors, got {}",
                other.type_name()
            )));
        }
    };
    let scalar_param = |what: &str| -> Result<f64> {
        match &param {
            Some(Val::Scalar(v)) => Ok(*v),
            _ => Err(PromqlError::bad_data(format!(
                "expected scalar parameter for {what}"
            ))),
        }
    };
    let modifier = a.modifier.as_ref();
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut count_label = String::new();
    if op == T_COUNT_VALUES {
        count_label = match &param {
            Some(Val::Str(s)) => s.clone(),
            _ => {
                return Err(PromqlError::bad_data(
                    "expected string parameter for count_values",
                ));
            }
        };
        if !valid_label_name(ev, &count_label) {
            let quoted = match ev.non_utf8.bytes_of(&count_label) {
                Some(bytes) => go_quote(bytes),
                None => format!("{count_label:?}"),
            };
            return Err(PromqlError::execution(format!(
                "invalid label name {quoted}"
            )));
        }
    }
    let node = a as *const AggregateExpr as usize;
    let mut cache = ev.group_cache.remove(&node).unwrap_or_default();
    for (i, s) in input.iter().enumerate() {
        let mut gl = match cache.get(&s.labels) {
            Some(g) => g.clone(),
            None => {
                let g = group_labels(&s.labels, modifier);
                cache.insert(s.labels.clone(), g.clone());
                g
            }
        };
        if op == T_COUNT_VALUES {
            gl = labels_set(&gl, &count_label, &float::format_f(s.v));
        }
        let gi = *index.entry(gl.clone()).or_insert_with(|| {
            groups.push(Group {
                labels: gl,
                ..Group::default()
            });
            groups.len() - 1
        });
        let g = &mut groups[gi];
        g.drop_name |= s.drop_name;
        g.members.push(i);
        g.run.add(op, s.v);
        if op == T_QUANTILE {
            g.values.push(s.v);
        }
    }
    ev.group_cache.insert(node, cache);
    let mut out = Vec::with_capacity(groups.len());
    match op {
        T_TOPK | T_BOTTOMK | T_LIMITK => {
            let k = k_param(scalar_param(if op == T_LIMITK {
                "limitk"
            } else {
                "topk"
            })?)?;
            for g in &groups {
                let mut m: Vec<usize> = g.members.clone();
                if op == T_TOPK || op == T_BOTTOMK {
                    m.sort_by(|&x, &y| rank_order(op == T_TOPK, input[x].v, input[y].v));
                }
                for &i in m.iter().take(k) {
                    let mut s = input[i].clone();
                    s.t = t;
                    out.push(s);
                }
            }
            return Ok(Val::Vector(out));
        }
        T_LIMIT_RATIO => {
            let r = scalar_param("limit_ratio")?;
            if r.is_nan() {
                return Err(PromqlError::execution("Ratio value is NaN"));
            }
            if !(-1.0..=1.0).contains(&r) {
                let pos = arg_position(&ev.query, "limit_ratio", 0);
                ev.warn(format!(
                    "PromQL warning: ratio value should be between -1 and 1, got {}, capping to {}{pos}",
                    float::format_g_wide(r),
                    if r < 0.0 { -1 } else { 1 }
                ));
            }
            let r = r.clamp(-1.0, 1.0);
            for s in &input {
                let h = super::xxhash::labels_hash(&s.labels) as f64 / u64::MAX as f64;
                let keep = if r >= 0.0 { h < r } else { h >= 1.0 + r };
                if keep {
                    let mut s = s.clone();
                    s.t = t;
                    out.push(s);
                }
            }
            return Ok(Val::Vector(out));
        }
        _ => {}
    }
    let q = if op == T_QUANTILE {
        scalar_param("quantile")?
    } else {
        0.0
    };
    if op == T_QUANTILE && !(0.0..=1.0).contains(&q) {
        let pos = arg_position(&ev.query, "quantile", 0);
        ev.warn(format!(
            "PromQL warning: quantile value should be between 0 and 1, got {}{pos}",
            float::format_g_wide(q)
        ));
    }
    for mut g in groups {
        let v = match (op, g.run.result(op)) {
            (T_QUANTILE, _) => quantile(q, &mut g.values),
            (_, Some(v)) => v,
            (_, None) => {
                return Err(PromqlError::bad_data(format!(
                    "unsupported aggregation {}",
                    a.op
                )));
            }
        };
        let drop_name = g.drop_name && has_metadata(&g.labels);
        out.push(ESample {
            labels: g.labels,
            t,
            v,
            drop_name,
        });
    }
    Ok(Val::Vector(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [3.0, 1.0]), 1.0);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn kahan_sums_precisely() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = kahan_inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }
}
