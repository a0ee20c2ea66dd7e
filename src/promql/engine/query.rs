//! [`Engine`]: instant and range queries, from the text to the result.

use std::collections::HashMap;
use std::sync::Arc;

use promql_parser::parser::value::ValueType;

use super::columnar;
use super::load;
use super::options::{EngineOptions, QueryOptions};
use super::output::{finish_matrix, finish_vector, matrix_from_columns};
use crate::model::Labels;
use crate::promql::context::columns::Steps;
use crate::promql::context::limits::too_many_samples;
use crate::promql::error::{PromqlError, Result};
use crate::promql::parse::durations::DurationContext;
use crate::promql::parse::{Parsed, parse_with};
use crate::promql::value::{Point, QueryResult, Sample, Series, Val, Value};
use crate::tsdb::Db;

/// Evaluates PromQL over a database.
///
/// ```
/// use std::sync::Arc;
/// use tidemark::model::Labels;
/// use tidemark::promql::{Engine, EngineOptions, Value};
/// use tidemark::tsdb::{Db, Options};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Arc::new(Db::open(dir.path(), Options::default())?);
/// let mut app = db.appender();
/// let up = Labels::new([("__name__", "up"), ("job", "node")])?;
/// for i in 0..10 {
///     app.append(&up, i * 15_000, 1.0)?;
/// }
/// app.commit()?;
///
/// let engine = Engine::new(Arc::clone(&db), EngineOptions::default());
/// let res = engine.instant("sum by (job) (up) * 2", 120_000)?;
/// let Value::Vector(v) = res.value else { panic!("not a vector") };
/// assert_eq!(v[0].labels.to_string(), r#"{job="node"}"#);
/// assert_eq!(v[0].v, 2.0);
///
/// let res = engine.range("up", 0, 60_000, 15_000)?;
/// let Value::Matrix(m) = res.value else { panic!("not a matrix") };
/// assert_eq!(m[0].points.len(), 5);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    db: Arc<Db>,
    opts: EngineOptions,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("opts", &self.opts).finish()
    }
}

impl Engine {
    pub fn new(db: Arc<Db>, opts: EngineOptions) -> Engine {
        Engine { db, opts }
    }

    /// Evaluates `query` at `t_ms`.
    pub fn instant(&self, query: &str, t_ms: i64) -> Result<QueryResult> {
        self.instant_with(query, t_ms, &QueryOptions::default())
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`.
    pub fn range(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult> {
        self.range_with(query, start_ms, end_ms, step_ms, &QueryOptions::default())
    }

    pub fn instant_with(&self, query: &str, t_ms: i64, opts: &QueryOptions) -> Result<QueryResult> {
        let Parsed { expr, non_utf8 } = parse_with(query, DurationContext::default())?;
        let mut ev = load::evaluator(&self.db, &self.opts, &expr, t_ms, t_ms, 0, opts)?;
        ev.query = query.to_string();
        ev.non_utf8 = non_utf8;
        let val = ev.eval(&expr, t_ms)?;
        let value = match val {
            Val::Scalar(v) => Value::Scalar { t: t_ms, v },
            Val::Str(v) => Value::String { t: t_ms, v },
            Val::Vector(v) => Value::Vector(finish_vector(v, t_ms)?),
            Val::Matrix(m) => Value::Matrix(finish_matrix(m)?),
        };
        Ok(ev.result(value))
    }

    pub fn range_with(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult> {
        if end_ms < start_ms {
            return Err(PromqlError::bad_data(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        if step_ms <= 0 {
            return Err(PromqlError::bad_data(
                "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        let ctx = DurationContext {
            step_s: step_ms as f64 / 1000.0,
            range_s: (end_ms - start_ms) as f64 / 1000.0,
        };
        let Parsed { expr, non_utf8 } = parse_with(query, ctx)?;
        match expr.value_type() {
            ValueType::Vector | ValueType::Scalar => {}
            ValueType::Matrix => {
                return Err(PromqlError::bad_data(
                    "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
                ));
            }
            ValueType::String => {
                return Err(PromqlError::bad_data(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector",
                ));
            }
        }
        let mut ev = load::evaluator(&self.db, &self.opts, &expr, start_ms, end_ms, step_ms, opts)?;
        ev.query = query.to_string();
        ev.non_utf8 = non_utf8;
        let steps = Steps::new(start_ms, end_ms, step_ms);
        ev.steps = Some(steps);
        columnar::precompute(&mut ev, &expr, steps, true)?;
        if let Some(cols) = columnar::take_root(&mut ev, &expr) {
            let out = matrix_from_columns(cols, steps, ev.max_samples)?;
            return Ok(ev.result(Value::Matrix(out)));
        }
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut out: Vec<Series> = Vec::new();
        let mut total_points = 0usize;
        let mut t = start_ms;
        loop {
            ev.cur_samples = total_points;
            let points = match ev.eval(&expr, t)? {
                Val::Scalar(v) => vec![Sample {
                    labels: Labels::empty(),
                    t,
                    v,
                }],
                Val::Vector(v) => finish_vector(v, t)?,
                other => {
                    return Err(PromqlError::bad_data(format!(
                        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            };
            total_points += points.len();
            if total_points > ev.max_samples {
                return Err(too_many_samples());
            }
            for s in points {
                let i = *index.entry(s.labels.clone()).or_insert_with(|| {
                    out.push(Series {
                        labels: s.labels,
                        points: Vec::new(),
                    });
                    out.len() - 1
                });
                out[i].points.push(Point { t, v: s.v });
            }
            match t.checked_add(step_ms) {
                Some(n) if n <= end_ms => t = n,
                _ => break,
            }
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(ev.result(Value::Matrix(out)))
    }
}
