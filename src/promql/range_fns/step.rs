//! A range function at one evaluation time, over a range selector's or a
//! subquery's series.

use promql_parser::parser::{Call, Expr};

use super::call::{check_range_call, range_arg_positions, range_fn_keeps_name, range_fn_value};
use crate::promql::context::args::arg_scalar;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::expr::unparen;
use crate::promql::context::time::dur_ms;
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::{ESample, ESeries, Val};

/// The range function call `c` evaluated at `t`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, c: &Call, t: i64) -> Result<Val> {
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
