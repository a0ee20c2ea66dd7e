//! Subqueries: the inner expression evaluated at every step of the
//! subquery's resolution in its window, into a range vector.

use std::collections::HashMap;

use promql_parser::parser::SubqueryExpr;

use crate::model::Labels;
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::time::dur_ms;
use crate::promql::error::{PromqlError, Result};
use crate::promql::value::{ESeries, Point, Val};

/// Subquery resolution when a subquery gives none (Prometheus's default global
/// evaluation interval).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// `sq` evaluated at `t`.
pub(crate) fn eval(ev: &mut Evaluator<'_>, sq: &SubqueryExpr, t: i64) -> Result<Val> {
    ev.check()?;
    let r = ev.ref_time(&sq.at, &sq.offset, t);
    let range = dur_ms(&sq.range);
    let step = sq
        .step
        .as_ref()
        .map(dur_ms)
        .unwrap_or(DEFAULT_SUBQUERY_STEP_MS)
        .max(1);
    let lo = r.saturating_sub(range);
    let mut ts = lo.div_euclid(step) * step;
    if ts <= lo {
        ts += step;
    }
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<ESeries> = Vec::new();
    while ts <= r {
        match ev.eval(&sq.expr, ts)? {
            Val::Vector(v) => {
                ev.hold(v.len())?;
                for s in v {
                    let i = *index.entry(s.labels.clone()).or_insert_with(|| {
                        out.push(ESeries {
                            labels: s.labels,
                            points: Vec::new(),
                            drop_name: s.drop_name,
                        });
                        out.len() - 1
                    });
                    out[i].points.push(Point { t: ts, v: s.v });
                }
            }
            Val::Scalar(v) => {
                ev.hold(1)?;
                if out.is_empty() {
                    out.push(ESeries {
                        labels: Labels::empty(),
                        points: Vec::new(),
                        drop_name: false,
                    });
                }
                out[0].points.push(Point { t: ts, v });
            }
            other => {
                return Err(PromqlError::bad_data(format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    other.type_name()
                )));
            }
        }
        ts = match ts.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(Val::Matrix(out))
}
