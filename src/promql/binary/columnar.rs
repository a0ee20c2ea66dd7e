//! Binary operations of a range query at all steps at once: arithmetic and
//! comparisons between scalars and vectors, and vector-to-vector matching
//! one-to-one, series matched by signature once; each step then checks, as
//! the step-wise evaluation does, that a match is unique.

use std::collections::HashMap;

use promql_parser::parser::BinaryExpr;
use promql_parser::parser::ast::{LabelModifier, VectorMatchCardinality};
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LSS, T_LTE, T_MOD, T_MUL, T_NEQ, T_POW, T_SUB,
    TokenId,
};
use promql_parser::parser::value::ValueType;

use super::apply::{apply, is_comparison};
use super::matching::{result_labels, signature};
use crate::model::Labels;
use crate::promql::context::columns::{Col, Cols, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::labels::prom_labels;
use crate::promql::error::{PromqlError, Result};

/// Whether `b` can be evaluated here (its operands must be too, which the
/// caller checks): arithmetic and comparisons without fill values, vectors
/// matched one-to-one.
pub(crate) fn supports(b: &BinaryExpr) -> bool {
    if !is_arithmetic_or_comparison(b.op.id()) {
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

fn is_arithmetic_or_comparison(op: TokenId) -> bool {
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

/// `b` at all `steps`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, b: &BinaryExpr, steps: Steps) -> Result<Cols> {
    let op = b.op.id();
    let rbool = b.return_bool();
    let cmp = is_comparison(op);
    let lhs = ev.eval_cols(&b.lhs, steps)?;
    let rhs = ev.eval_cols(&b.rhs, steps)?;
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

fn vector_scalar(op: TokenId, v: Vec<Col>, s: &[f64], swap: bool, rbool: bool) -> Cols {
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
    op: TokenId,
    lhs: Vec<Col>,
    rhs: Vec<Col>,
    matching: Option<&LabelModifier>,
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
