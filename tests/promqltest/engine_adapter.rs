//! The promqltest runner's [`Evaluator`] over `tidemark::promql::Engine`.
//!
//! Engine settings as Prometheus's test engine: 5m lookback (the default), at
//! most 10,000 samples a query, a generous timeout.

use std::time::Duration;

use tidemark::promql::{Engine, EngineOptions, PromqlError, QueryResult, Value as PValue};

use super::labels::Labels;
use super::run::{Evaluator, Outcome, QueryError, Sample, Series, Value};
use super::storage::{TestDb, from_tidemark};

pub struct EngineEvaluator {
    // The engine before the storage it reads: dropped first.
    engine: Option<Engine>,
    db: Option<TestDb>,
}

impl EngineEvaluator {
    pub fn new() -> EngineEvaluator {
        EngineEvaluator {
            engine: None,
            db: None,
        }
    }

    fn engine(&self) -> Result<&Engine, QueryError> {
        self.engine.as_ref().ok_or_else(|| QueryError {
            message: "no storage: clear was not called".into(),
        })
    }
}

fn options() -> EngineOptions {
    EngineOptions {
        lookback_delta: Duration::from_secs(5 * 60),
        max_samples: 10_000,
        timeout: Duration::from_secs(100),
    }
}

fn convert(r: Result<QueryResult, PromqlError>) -> Result<Outcome, QueryError> {
    let r = r.map_err(|e| QueryError { message: e.message })?;
    let value = match r.value {
        PValue::Scalar { t, v } => Value::Scalar { t, v },
        PValue::String { t, v } => Value::String { t, v },
        PValue::Vector(samples) => Value::Vector(
            samples
                .into_iter()
                .map(|s| Sample {
                    labels: from_tidemark(&s.labels),
                    t: s.t,
                    v: s.v,
                })
                .collect(),
        ),
        PValue::Matrix(series) => Value::Matrix(
            series
                .into_iter()
                .map(|s| Series {
                    labels: from_tidemark(&s.labels),
                    points: s.points.into_iter().map(|p| (p.t, p.v)).collect(),
                })
                .collect(),
        ),
    };
    Ok(Outcome {
        value,
        warnings: r.warnings,
        infos: r.infos,
    })
}

impl Evaluator for EngineEvaluator {
    fn load(&mut self, series: &[(Labels, Vec<(i64, f64)>)]) -> Result<(), String> {
        match &self.db {
            Some(db) => db.load(series),
            None => Err("no storage: clear was not called".into()),
        }
    }

    fn clear(&mut self) -> Result<(), String> {
        self.engine = None;
        self.db = None;
        let db = TestDb::open()?;
        self.engine = Some(Engine::new(db.db().clone(), options()));
        self.db = Some(db);
        Ok(())
    }

    fn instant(&mut self, query: &str, t_ms: i64) -> Result<Outcome, QueryError> {
        convert(self.engine()?.instant(query, t_ms))
    }

    fn range(
        &mut self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Outcome, QueryError> {
        convert(self.engine()?.range(query, start_ms, end_ms, step_ms))
    }
}
