//! Aggregations of a range query at all steps at once: each input series is
//! mapped to its group once per query, not once per step, and added to the
//! group's state at every step where it has a value.

use std::collections::HashMap;

use promql_parser::parser::AggregateExpr;
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_GROUP, T_MAX, T_MIN, T_STDDEV, T_STDVAR, T_SUM, T_TOPK, TokenId,
};
use promql_parser::parser::value::ValueType;

use super::group::{Running, group_labels};
use super::rank::{k_param, rank_order};
use crate::model::Labels;
use crate::promql::context::columns::{Col, Cols, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::literal;
use crate::promql::context::labels::has_metadata;
use crate::promql::error::{PromqlError, Result};

/// Whether `a` can be evaluated here (its input must be too, which the
/// caller checks): the operators with no parameter, and `topk` and `bottomk`
/// with a literal `k`.
pub(crate) fn supports(a: &AggregateExpr) -> bool {
    let op = a.op.id();
    let param_ok = match op {
        T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT | T_GROUP | T_STDDEV | T_STDVAR => {
            a.param.is_none()
        }
        T_TOPK | T_BOTTOMK => a.param.as_deref().and_then(literal).is_some(),
        _ => false,
    };
    param_ok && a.expr.value_type() == ValueType::Vector
}

/// A group's state at one step.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    drop_name: bool,
    run: Running,
}

/// Adds a member's values to its group's states at the steps where it has one.
/// The operator is matched once per member rather than at every step, so that
/// the loop over the steps is the operator's own.
fn add_member(op: TokenId, accs: &mut [Acc], c: &Col) {
    fn each(accs: &mut [Acc], c: &Col, add: impl Fn(&mut Running, f64)) {
        for ((g, &v), &present) in accs.iter_mut().zip(&c.vals).zip(&c.present) {
            if present {
                g.drop_name |= c.drop_name;
                add(&mut g.run, v);
            }
        }
    }
    match op {
        T_SUM => each(accs, c, |r, v| r.add(T_SUM, v)),
        T_AVG => each(accs, c, |r, v| r.add(T_AVG, v)),
        T_MIN => each(accs, c, |r, v| r.add(T_MIN, v)),
        T_MAX => each(accs, c, |r, v| r.add(T_MAX, v)),
        _ => each(accs, c, |r, v| r.add(op, v)),
    }
}

/// `a` at all `steps`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, a: &AggregateExpr, steps: Steps) -> Result<Cols> {
    let op = a.op.id();
    let modifier = a.modifier.as_ref();
    if op == T_TOPK || op == T_BOTTOMK {
        return top_bottom(ev, a, steps);
    }
    let n = steps.n;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<Acc>)> = Vec::new();
    let mut held = ev.held();
    ev.for_each_col(&a.expr, steps, &mut |c| {
        let gl = group_labels(&c.labels, modifier);
        let gi = match index.get(&gl) {
            Some(&gi) => gi,
            None => {
                // A group's state is kept for every step.
                held.add(n)?;
                groups.push((gl.clone(), vec![Acc::default(); n]));
                index.insert(gl, groups.len() - 1);
                groups.len() - 1
            }
        };
        add_member(op, &mut groups[gi].1, c);
        Ok(())
    })?;
    let mut out = Vec::with_capacity(groups.len());
    for (labels, accs) in groups {
        let meta = has_metadata(&labels);
        // A group whose name is dropped at some steps and kept at others (its
        // members differ) is two series in the end.
        let mut cols: [Option<Col>; 2] = [None, None];
        for (i, g) in accs.iter().enumerate() {
            if g.run.count == 0.0 {
                continue;
            }
            let v = g.run.result(op).ok_or_else(|| {
                PromqlError::bad_data(format!("unsupported aggregation {}", a.op))
            })?;
            let drop = g.drop_name && meta;
            let col =
                cols[usize::from(drop)].get_or_insert_with(|| Col::empty(labels.clone(), drop, n));
            col.vals[i] = v;
            col.present[i] = true;
        }
        out.extend(cols.into_iter().flatten());
    }
    Ok(Cols::Vector(out))
}

/// `topk` and `bottomk` with a literal `k`: per group and step, the members
/// ordered as the step-wise evaluator orders them.
fn top_bottom(ev: &mut Evaluator<'_>, a: &AggregateExpr, steps: Steps) -> Result<Cols> {
    let top = a.op.id() == T_TOPK;
    let k = k_param(a.param.as_deref().and_then(literal).unwrap_or(f64::NAN))?;
    let modifier = a.modifier.as_ref();
    let mut input: Vec<Col> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut held = ev.held();
    ev.for_each_col(&a.expr, steps, &mut |c| {
        held.add(c.points())?;
        let gl = group_labels(&c.labels, modifier);
        let next = members.len();
        let gi = *index.entry(gl).or_insert(next);
        if gi == next {
            members.push(Vec::new());
        }
        members[gi].push(input.len());
        input.push(c.clone());
        Ok(())
    })?;
    let mut keep: Vec<Vec<bool>> = vec![vec![false; steps.n]; input.len()];
    // Per step: the present members and their values. The step-wise evaluator
    // sorts them stably and takes the first k; selecting the first k by (value
    // order, input position) picks the same ones in linear time.
    let mut m: Vec<(f64, usize)> = Vec::new();
    let order = |a: &(f64, usize), b: &(f64, usize)| rank_order(top, a.0, b.0).then(a.1.cmp(&b.1));
    for group in &members {
        // `i` indexes the columns of every member.
        #[allow(clippy::needless_range_loop)]
        for i in 0..steps.n {
            m.clear();
            m.extend(
                group
                    .iter()
                    .filter(|&&x| input[x].present[i])
                    .map(|&x| (input[x].vals[i], x)),
            );
            if k < m.len() {
                if k == 0 {
                    continue;
                }
                m.select_nth_unstable_by(k - 1, order);
                m.truncate(k);
            }
            for &(_, x) in &m {
                keep[x][i] = true;
            }
        }
    }
    let out = input
        .into_iter()
        .zip(keep)
        .filter_map(|(mut c, keep)| {
            c.present = keep;
            c.any().then_some(c)
        })
        .collect();
    Ok(Cols::Vector(out))
}
