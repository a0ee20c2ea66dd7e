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
use super::value::{ESample, Val, drop_metric_name, labels_only, labels_set, labels_without};
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

pub(crate) fn is_comparison(op: TokenId) -> bool {
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
                _ => {
                    let fill = modifier
                        .map(|m| Fill {
                            lhs: m.fill_values.lhs,
                            rhs: m.fill_values.rhs,
                        })
                        .unwrap_or_default();
                    vector_vector(op, l, r, matching, &card, fill, rbool, t).map(Val::Vector)
                }
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
pub(crate) fn signature(l: &Labels, matching: Option<&LabelModifier>) -> Labels {
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

/// Fill-in values of a binary operation (`fill`, `fill_left`, `fill_right`): the
/// value a missing left or right sample takes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fill {
    pub lhs: Option<f64>,
    pub rhs: Option<f64>,
}

/// One operand of an element-wise operation: a real sample or a filled-in one.
struct Operand<'a> {
    labels: &'a Labels,
    v: f64,
    drop_name: bool,
}

#[allow(clippy::too_many_arguments)]
fn vector_vector(
    op: TokenId,
    lhs: Vec<ESample>,
    rhs: Vec<ESample>,
    matching: Option<&LabelModifier>,
    card: &VectorMatchCardinality,
    fill: Fill,
    rbool: bool,
    t: i64,
) -> Result<Vec<ESample>> {
    let cmp = is_comparison(op);
    let swapped = matches!(card, VectorMatchCardinality::OneToMany(_));
    // As Prometheus does, the sides are swapped for one-to-many matching and the
    // fill values keep applying to the swapped sides.
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
            let (mut d1, mut d2) = (prom_labels(&s.labels), prom_labels(&one[prev].labels));
            if d1 > d2 {
                std::mem::swap(&mut d1, &mut d2);
            }
            return Err(PromqlError::execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                prom_labels(&sig),
            )));
        }
        one_sigs.insert(sig, i);
    }
    let mut j = Joiner {
        op,
        cmp,
        rbool,
        swapped,
        one_to_one: matches!(card, VectorMatchCardinality::OneToOne),
        matching,
        include,
        t,
        matched: HashSet::new(),
        inserted: HashMap::new(),
        out: Vec::new(),
    };
    for ls in &many {
        let sig = signature(&ls.labels, matching);
        let l = Operand {
            labels: &ls.labels,
            v: ls.v,
            drop_name: ls.drop_name,
        };
        match one_sigs.get(&sig) {
            Some(&ri) => {
                let rs = &one[ri];
                let r = Operand {
                    labels: &rs.labels,
                    v: rs.v,
                    drop_name: rs.drop_name,
                };
                j.pair(l, r, &sig)?;
            }
            None => {
                if let Some(f) = fill.rhs {
                    let r = Operand {
                        labels: &sig,
                        v: f,
                        drop_name: false,
                    };
                    j.pair(l, r, &sig)?;
                }
            }
        }
    }
    if let Some(f) = fill.lhs {
        for rs in &one {
            let sig = signature(&rs.labels, matching);
            if j.is_matched(&sig) {
                continue;
            }
            let l = Operand {
                labels: &sig,
                v: f,
                drop_name: false,
            };
            let r = Operand {
                labels: &rs.labels,
                v: rs.v,
                drop_name: rs.drop_name,
            };
            j.pair(l, r, &sig)?;
        }
    }
    Ok(j.out)
}

/// The labels of a vector-to-vector result from its "many"-side operand's.
pub(crate) fn result_labels(
    l: &Labels,
    cmp: bool,
    one_to_one: bool,
    matching: Option<&LabelModifier>,
) -> Labels {
    let labels = if cmp {
        l.clone()
    } else {
        // Arithmetic changes what the metric is: its name, type and unit go.
        drop_metric_name(l)
    };
    if !one_to_one {
        return labels;
    }
    match matching {
        Some(LabelModifier::Include(on)) => {
            let names: Vec<&str> = on.labels.iter().map(String::as_str).collect();
            labels_only(&labels, &names)
        }
        Some(LabelModifier::Exclude(ign)) => {
            let names: Vec<&str> = ign.labels.iter().map(String::as_str).collect();
            labels_without(&labels, &names)
        }
        None => labels,
    }
}

/// The state of one vector-to-vector operation: what matched, and the output.
struct Joiner<'a> {
    op: TokenId,
    cmp: bool,
    rbool: bool,
    swapped: bool,
    one_to_one: bool,
    matching: Option<&'a LabelModifier>,
    include: Vec<&'a str>,
    t: i64,
    /// One-to-one: the signatures matched so far.
    matched: HashSet<Labels>,
    /// Many-to-one: the result label sets by signature.
    inserted: HashMap<Labels, HashSet<Labels>>,
    out: Vec<ESample>,
}

impl Joiner<'_> {
    fn is_matched(&self, sig: &Labels) -> bool {
        if self.one_to_one {
            self.matched.contains(sig)
        } else {
            self.inserted.get(sig).is_some_and(|s| !s.is_empty())
        }
    }

    /// Applies the operator to a "many"-side and a "one"-side operand.
    fn pair(&mut self, ls: Operand<'_>, rs: Operand<'_>, sig: &Labels) -> Result<()> {
        let (vl, vr) = if self.swapped {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let (mut val, keep) = apply(self.op, vl, vr);
        if self.rbool {
            val = if keep { 1.0 } else { 0.0 };
        }
        let mut labels = result_labels(ls.labels, self.cmp, self.one_to_one, self.matching);
        for name in &self.include {
            labels = labels_set(&labels, name, rs.labels.get(name).unwrap_or(""));
        }
        if self.one_to_one {
            if !self.matched.insert(sig.clone()) {
                return Err(PromqlError::execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !self
            .inserted
            .entry(sig.clone())
            .or_default()
            .insert(labels.clone())
        {
            return Err(PromqlError::execution(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if !keep && !self.rbool {
            return Ok(());
        }
        self.out.push(ESample {
            labels,
            t: self.t,
            v: val,
            drop_name: self.rbool || !self.cmp || ls.drop_name,
        });
        Ok(())
    }
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
