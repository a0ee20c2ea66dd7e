//! `/api/v1/query` and `/api/v1/query_range`: PromQL through the engine, with
//! Prometheus's parameters, checks, error messages and JSON.
//!
//! A query waits for one of `--query.max-concurrency` slots, then runs on a
//! blocking thread (evaluation is CPU work and must not stall the async
//! workers), where its answer is also encoded. When the client goes away the
//! handler's future is dropped, which raises the query's cancel flag: the engine
//! stops at its next check and the slot frees, instead of finishing work no one
//! will read. The per-request `timeout` counts from the request's arrival, queue
//! time included, as Prometheus's context deadline does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorType};
use super::params::{Form, invalid_param, parse_duration, parse_time};
use super::state::ApiState;
use crate::promql::{Engine, ErrorKind, PromqlError, QueryOptions, QueryResult, json};

/// Most points a range query may ask for per series, as Prometheus.
const MAX_POINTS: i64 = 11_000;

/// `GET|POST /api/v1/query`: `query`, `time` (default now), `timeout`,
/// `lookback_delta`.
pub(super) async fn query(State(state): State<ApiState>, form: Form) -> Result<Response, ApiError> {
    let arrived = Instant::now();
    let t = form.time("time", now_ms())?;
    let timeout = form.duration("timeout")?;
    let lookback = lookback_delta(&form)?;
    let q = form.value("query").to_string();
    run(&state, arrived, timeout, lookback, move |engine, opts| {
        engine.instant_with(&q, t, opts)
    })
    .await
}

/// `GET|POST /api/v1/query_range`: `query`, `start`, `end`, `step`, `timeout`,
/// `lookback_delta`.
pub(super) async fn query_range(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let arrived = Instant::now();
    let start = parse_time(form.value("start")).map_err(|e| invalid_param("start", &e))?;
    let end = parse_time(form.value("end")).map_err(|e| invalid_param("end", &e))?;
    if end < start {
        return Err(invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step = parse_duration(form.value("step")).map_err(|e| invalid_param("step", &e))?;
    if step <= 0 {
        return Err(invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // In nanoseconds as Go's time.Sub, which saturates.
    let span = (i128::from(end) - i128::from(start)) * 1_000_000;
    let span = i64::try_from(span).unwrap_or(i64::MAX);
    if span / step > MAX_POINTS {
        return Err(ApiError::new(
            ErrorType::BadData,
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    // The engine steps in milliseconds (Prometheus truncates likewise); a step
    // under 1ms can only get here with start == end, one point.
    let step_ms = (step / 1_000_000).max(1);
    let timeout = form.duration("timeout")?;
    let lookback = lookback_delta(&form)?;
    let q = form.value("query").to_string();
    run(&state, arrived, timeout, lookback, move |engine, opts| {
        engine.range_with(&q, start, end, step_ms, opts)
    })
    .await
}

/// `lookback_delta`, worded as Prometheus; zero or negative means the default.
fn lookback_delta(form: &Form) -> Result<Option<Duration>, ApiError> {
    let v = form.value("lookback_delta");
    if v.is_empty() {
        return Ok(None);
    }
    let ns = parse_duration(v).map_err(|e| {
        ApiError::new(
            ErrorType::BadData,
            format!("error parsing lookback delta duration: {e}"),
        )
    })?;
    Ok((ns > 0).then(|| Duration::from_nanos(ns.unsigned_abs())))
}

/// Raises the cancel flag when dropped: the handler's future is dropped when
/// the client disconnects.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for a slot, evaluates on a blocking thread and answers.
async fn run(
    state: &ApiState,
    arrived: Instant,
    timeout_ns: Option<i64>,
    lookback_delta: Option<Duration>,
    eval: impl FnOnce(&Engine, &QueryOptions) -> Result<QueryResult, PromqlError> + Send + 'static,
) -> Result<Response, ApiError> {
    let db = state
        .storage()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "storage is not ready"))?;
    let (engine_opts, slots) = state.query_settings();
    let metrics = state.query_metrics();
    let permit = slots
        .acquire_owned()
        .await
        .map_err(|_| ApiError::new(ErrorType::Unavailable, "query engine is shutting down"))?;
    metrics.observe("queue_time", arrived.elapsed());
    let timeout = timeout_ns.map(|ns| {
        Duration::from_nanos(u64::try_from(ns).unwrap_or(0)).saturating_sub(arrived.elapsed())
    });
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancel));
    let opts = QueryOptions {
        lookback_delta,
        cancel: Some(cancel),
        timeout,
    };
    let engine = Engine::new(db, engine_opts);
    let task_metrics = metrics.clone();
    let task = tokio::task::spawn_blocking(move || {
        // The slot is held until the work stops, even if the client is gone.
        let _permit = permit;
        task_metrics.running.inc();
        let started = Instant::now();
        let result = eval(&engine, &opts);
        task_metrics.observe("inner_eval", started.elapsed());
        let encoded = result.map(|r| {
            let started = Instant::now();
            let body = json::response(&r);
            task_metrics.observe("result_encode", started.elapsed());
            body
        });
        task_metrics.running.dec();
        encoded
    });
    let body = task
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
        .map_err(query_error)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// An engine error as Prometheus's API answers it: a query that does not parse
/// or has the wrong type is a bad `query` parameter.
fn query_error(e: PromqlError) -> ApiError {
    match e.kind {
        ErrorKind::BadData => invalid_param("query", &e.message),
        ErrorKind::Execution => ApiError::new(ErrorType::Execution, e.message),
        ErrorKind::Timeout => ApiError::new(ErrorType::Timeout, e.message),
        ErrorKind::Canceled => ApiError::new(ErrorType::Canceled, e.message),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
