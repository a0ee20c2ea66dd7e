//! Binary operations at one evaluation time: scalars, a vector and a scalar,
//! set operators, and vector-to-vector matching one-to-one, many-to-one and
//! one-to-many, with fill values.

use std::collections::{HashMap, HashSet};

use promql_parser::parser::BinaryExpr;
use promql_parser::parser::ast::{LabelModifier, VectorMatchCardinality};
use promql_parser::parser::token::{T_LAND, T_LOR, T_LUNLESS, TokenId};

use super::apply::{apply, is_comparison};
use super::matching::{result_labels, signature};
use crate::model::Labels;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::labels::{labels_set, prom_labels};
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::{ESample, Val};

/// `b` evaluated at `t`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, b: &BinaryExpr, t: i64) -> Result<Val> {
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
