//! Aggregations at one evaluation time.

use std::collections::HashMap;

use promql_parser::parser::AggregateExpr;
use promql_parser::parser::token::{
    T_BOTTOMK, T_COUNT_VALUES, T_LIMIT_RATIO, T_LIMITK, T_QUANTILE, T_TOPK,
};

use super::group::{Running, group_labels};
use super::rank::{k_param, rank_order};
use crate::model::{Labels, float};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::labels::{has_metadata, labels_set};
use crate::promql::context::stats::quantile;
use crate::promql::error::{PromqlError, Result};
use crate::promql::parse::go_strings::go_quote;
use crate::promql::position::arg_position;
use crate::promql::value::{ESample, Val};
use crate::promql::xxhash::labels_hash;

#[derive(Default)]
struct Group {
    labels: Labels,
    drop_name: bool,
    run: Running,
    values: Vec<f64>,
    members: Vec<usize>,
}

/// `a` evaluated at `t`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, a: &AggregateExpr, t: i64) -> Result<Val> {
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
        if !ev.valid_label_name(&count_label) {
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
                let h = labels_hash(&s.labels) as f64 / u64::MAX as f64;
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
