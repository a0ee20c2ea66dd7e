//! Which evaluation each kind of node gets, step by step: the one place that
//! knows every operator. The operators evaluate their operands through the
//! [`Evaluator`], which hands them back here ([`DISPATCH`]).

use promql_parser::parser::Expr;

use super::columnar;
use crate::promql::context::evaluator::{Dispatch, Evaluator};
use crate::promql::context::time::dur_ms;
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::Val;
use crate::promql::{aggregate, binary, functions, selector, subquery};

/// The evaluations of the node kinds, step by step and by columns.
pub(crate) const DISPATCH: Dispatch = Dispatch {
    eval,
    eval_cols: columnar::eval_cols,
    for_each_col: columnar::for_each_col,
};

/// Evaluates `e` at time `t`: from its columns when a range query computed
/// them ahead, else by its kind.
fn eval(ev: &mut Evaluator<'_>, e: &Expr, t: i64) -> Result<Val> {
    if !ev.columns.is_empty()
        && let Some(v) = ev.lookup(e, t)
    {
        if let Val::Vector(v) = &v {
            ev.hold(v.len())?;
        }
        return Ok(v);
    }
    match e {
        Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
        Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
        Expr::Paren(p) => eval(ev, &p.expr, t),
        Expr::VectorSelector(vs) => selector::step::vector(ev, vs, t).map(Val::Vector),
        Expr::MatrixSelector(ms) => {
            let range = dur_ms(&ms.range);
            selector::step::matrix(ev, &ms.vs, range, t).map(Val::Matrix)
        }
        Expr::Subquery(sq) => subquery::eval(ev, sq, t),
        Expr::Unary(u) => match eval(ev, &u.expr, t)? {
            Val::Scalar(v) => Ok(Val::Scalar(-v)),
            Val::Vector(mut v) => {
                for s in &mut v {
                    s.v = -s.v;
                    s.drop_name = true;
                    s.t = t;
                }
                Ok(Val::Vector(v))
            }
            other => Err(PromqlError::bad_data(format!(
                "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                other.type_name()
            ))),
        },
        Expr::Binary(b) => binary::step::eval(ev, b, t),
        Expr::Aggregate(a) => aggregate::step::eval(ev, a, t),
        Expr::Call(c) => functions::eval_call(ev, c, t),
        Expr::Extension(_) => Err(PromqlError::bad_data("unsupported expression extension")),
    }
}
