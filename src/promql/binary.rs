//! Binary operators: arithmetic, comparisons (with `bool`), set operators, and
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`).

use std::collections::{HashMap, HashSet};

use promql_parser::parser::BinaryExpr;
use promql_parser::parser::ast::{LabelModifier, VectorMatchCardinality};
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB, TokenId,
};

use super::engine::Evaluator;
use super::error::{PromqlError, Result};
use super::value::{ESample, Val, labels_only, labels_set, labels_without};
use crate::model::Labels;

/// Applies `op` to two floats: the value and whether a comparison holds (always
/// true for arithmetic).
pub(crate) fn apply(op: TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_MOD => (l % r, true),
        T_POW => (l.powf(r), true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Prometheus's `Labels.String()`: `{a="b", c="d"}`.
pub(crate) fn prom_labels(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

pub(crate) fn eval_binary(ev: &mut Evaluator<'_>, b: &BinaryExpr, t: i64) -> Result<Val> {
    let op = b.op.id();
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    let rbool = b.return_bool();
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => {
            let (v, keep) = apply(op, l, r);
            if is_comparison(op) {
                Ok(Val::Scalar(if keep { 1.0 } else { 0.0 }))
            } else {
                Ok(Val::Scalar(v))
            }
        }
        (Val::Vector(v), Val::Scalar(s)) => {
            Ok(Val::Vector(vector_scalar(op, v, s, false, rbool, t)))
        }
        (Val::Scalar(s), Val::Vector(v)) => {
            Ok(Val::Vector(vector_scalar(op, v, s, true, rbool, t)))
        }
        (Val::Vector(l), Val::Vector(r)) => {
            let modifier = b.modifier.as_ref();
            let matching = modifier.and_then(|m| m.matching.as_ref());
            let card = modifier
                .map(|m| m.card.clone())
                .unwrap_or(VectorMatchCardinality::OneToOne);
            match op {
                T_LAND | T_LOR | T_LUNLESS => Ok(Val::Vector(set_op(op, l, r, matching))),
                _ => vector_vector(op, l, r, matching, &card, rbool, t).map(Val::Vector),
            }
        }
        (l, r) => Err(PromqlError::bad_data(format!(
            "binary operator not allowed between {} and {}",
            l.type_name(),
            r.type_name()
        ))),
    }
}

fn vector_scalar(
    op: TokenId,
    v: Vec<ESample>,
    s: f64,
    swap: bool,
    rbool: bool,
    t: i64,
) -> Vec<ESample> {
    let cmp = is_comparison(op);
    let mut out = Vec::with_capacity(v.len());
    for mut x in v {
        let (l, r) = if swap { (s, x.v) } else { (x.v, s) };
        let (mut val, keep) = apply(op, l, r);
        if cmp && swap {
            val = x.v;
        }
        if rbool {
            val = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        x.v = val;
        x.t = t;
        if !cmp || rbool {
            x.drop_name = true;
        }
        out.push(x);
    }
    out
}

/// The signature two sides are matched on.
fn signature(l: &Labels, matching: Option<&LabelModifier>) -> Labels {
    match matching {
        Some(LabelModifier::Include(on)) => {
            let names: Vec<&str> = on.labels.iter().map(String::as_str).collect();
            labels_only(l, &names)
        }
        Some(LabelModifier::Exclude(ign)) => {
            let mut names: Vec<&str> = ign.labels.iter().map(String::as_str).collect();
            names.push("__name__");
            labels_without(l, &names)
        }
        None => labels_without(l, &["__name__"]),
    }
}

fn set_op(
    op: TokenId,
    l: Vec<ESample>,
    r: Vec<ESample>,
    matching: Option<&LabelModifier>,
) -> Vec<ESample> {
    match op {
        T_LAND => {
            let rs: HashSet<Labels> = r.iter().map(|s| signature(&s.labels, matching)).collect();
            l.into_iter()
                .filter(|s| rs.contains(&signature(&s.labels, matching)))
                .collect()
        }
        T_LUNLESS => {
            let rs: HashSet<Labels> = r.iter().map(|s| signature(&s.labels, matching)).collect();
            l.into_iter()
                .filter(|s| !rs.contains(&signature(&s.labels, matching)))
                .collect()
        }
        _ => {
            let ls: HashSet<Labels> = l.iter().map(|s| signature(&s.labels, matching)).collect();
            let mut out = l;
            out.extend(
                r.into_iter()
                    .filter(|s| !ls.contains(&signature(&s.labels, matching))),
            );
            out
        }
    }
}

fn vector_vector(
    op: TokenId,
    lhs: Vec<ESample>,
    rhs: Vec<ESample>,
    matching: Option<&LabelModifier>,
    card: &VectorMatchCardinality,
    rbool: bool,
    t: i64,
) -> Result<Vec<ESample>> {
    let cmp = is_comparison(op);
    let swapped = matches!(card, VectorMatchCardinality::OneToMany(_));
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let include: Vec<&str> = card
        .labels()
        .map(|l| l.labels.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut one_sigs: HashMap<Labels, usize> = HashMap::with_capacity(one.len());
    for (i, s) in one.iter().enumerate() {
        let sig = signature(&s.labels, matching);
        if let Some(&prev) = one_sigs.get(&sig) {
            let side = if swapped { "left" } else { "right" };
            return Err(PromqlError::execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                prom_labels(&sig),
                prom_labels(&one[prev].labels),
                prom_labels(&s.labels)
            )));
        }
        one_sigs.insert(sig, i);
    }
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    let mut matched: HashSet<Labels> = HashSet::new();
    let mut inserted: HashSet<Labels> = HashSet::new();
    let mut out = Vec::new();
    for ls in many {
        let sig = signature(&ls.labels, matching);
        let Some(&ri) = one_sigs.get(&sig) else {
            continue;
        };
        let rs = &one[ri];
        // Checked before filtering, so the error does not depend on the values.
        if one_to_one && !matched.insert(sig) {
            return Err(PromqlError::execution(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
            ));
        }
        let (vl, vr) = if swapped { (rs.v, ls.v) } else { (ls.v, rs.v) };
        let (mut val, keep) = apply(op, vl, vr);
        if rbool {
            val = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let drop_name = rbool || !cmp || ls.drop_name;
        let mut labels = if one_to_one {
            match matching {
                Some(LabelModifier::Include(on)) => {
                    let names: Vec<&str> = on.labels.iter().map(String::as_str).collect();
                    labels_only(&ls.labels, &names)
                }
                Some(LabelModifier::Exclude(ign)) => {
                    let names: Vec<&str> = ign.labels.iter().map(String::as_str).collect();
                    labels_without(&ls.labels, &names)
                }
                None => ls.labels.clone(),
            }
        } else {
            ls.labels.clone()
        };
        for name in &include {
            labels = labels_set(&labels, name, rs.labels.get(name).unwrap_or(""));
        }
        if !one_to_one {
            let key = if drop_name {
                labels_without(&labels, &["__name__"])
            } else {
                labels.clone()
            };
            if !inserted.insert(key) {
                return Err(PromqlError::execution(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
        }
        out.push(ESample {
            labels,
            t,
            v: val,
            drop_name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_print_as_prometheus_does() {
        let l = Labels::new([("__name__", "m"), ("a", "x\"y")]).unwrap();
        assert_eq!(prom_labels(&l), r#"{__name__="m", a="x\"y"}"#);
        assert_eq!(prom_labels(&Labels::empty()), "{}");
    }

    #[test]
    fn comparisons_keep_left_value() {
        assert_eq!(apply(T_GTR, 3.0, 1.0), (3.0, true));
        assert_eq!(apply(T_LSS, 3.0, 1.0), (3.0, false));
        assert_eq!(apply(T_MOD, 7.0, 4.0).0, 3.0);
    }
}
