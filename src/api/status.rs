//! `/api/v1/status/*` (buildinfo, config, flags, runtimeinfo, tsdb) and the
//! endpoints whose data does not exist yet in tidemark but whose answers
//! clients rely on: `/api/v1/rules`, `/api/v1/alerts` (no rules yet) and
//! `/api/v1/query_exemplars` (no exemplar storage: always `[]`, with the time
//! parameters validated as Prometheus does).

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::buildinfo::BUILD_INFO;
use super::error::{ApiError, ErrorType};
use super::params::{Form, MAX_TIME_MS, MIN_TIME_MS, invalid_param};
use super::state::ApiState;
use super::success::success;
use crate::model::{Matcher, rfc3339_nanos};

/// `GET /api/v1/status/buildinfo`. No `features` field (Grafana reads its
/// absence as "not Mimir").
pub(super) async fn buildinfo() -> Response {
    success(
        json!({
            "version": BUILD_INFO.version,
            "revision": BUILD_INFO.revision,
            "branch": BUILD_INFO.branch,
            "buildUser": BUILD_INFO.build_user,
            "buildDate": BUILD_INFO.build_date,
            "goVersion": concat!("rustc (tidemark ", env!("CARGO_PKG_VERSION"), ")"),
        }),
        &[],
    )
}

/// `GET /api/v1/status/config`: the configuration file as loaded.
pub(super) async fn config(State(state): State<ApiState>) -> Response {
    success(json!({ "yaml": state.config_text() }), &[])
}

/// `GET /api/v1/status/flags`: every flag by its Prometheus name, values as text.
pub(super) async fn flags(State(state): State<ApiState>) -> Response {
    success(state.flags(), &[])
}

#[derive(Serialize)]
struct RuntimeInfo {
    #[serde(rename = "startTime")]
    start_time: String,
    #[serde(rename = "CWD")]
    cwd: String,
    #[serde(rename = "reloadConfigSuccess")]
    reload_config_success: bool,
    #[serde(rename = "lastConfigTime")]
    last_config_time: String,
    #[serde(rename = "corruptionCount")]
    corruption_count: u64,
    #[serde(rename = "goroutineCount")]
    goroutine_count: usize,
    #[serde(rename = "GOMAXPROCS")]
    gomaxprocs: usize,
    #[serde(rename = "GOMEMLIMIT")]
    gomemlimit: i64,
    #[serde(rename = "GOGC")]
    gogc: &'static str,
    #[serde(rename = "GODEBUG")]
    godebug: &'static str,
    #[serde(rename = "storageRetention")]
    storage_retention: String,
}

/// `GET /api/v1/status/runtimeinfo`. Go's runtime figures map to ours: the
/// goroutine count is the async runtime's live tasks, GOMAXPROCS the cores.
pub(super) async fn runtimeinfo(State(state): State<ApiState>) -> Response {
    let reload = state.reload_status().unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tasks = tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_alive_tasks());
    let last_config =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(reload.success_time.max(0.0));
    let info = RuntimeInfo {
        start_time: rfc3339_nanos(state.start_time()),
        cwd: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|e| format!("<error retrieving current working directory: {e}>")),
        reload_config_success: reload.successful,
        last_config_time: rfc3339_nanos(last_config),
        corruption_count: 0,
        goroutine_count: tasks,
        gomaxprocs: cores,
        gomemlimit: i64::MAX,
        gogc: "",
        godebug: "",
        storage_retention: state.retention_text().to_string(),
    };
    success(info, &[])
}

#[derive(Serialize)]
struct Stat {
    name: String,
    value: u64,
}

fn top(counts: HashMap<String, u64>, limit: usize) -> Vec<Stat> {
    let mut v: Vec<Stat> = counts
        .into_iter()
        .map(|(name, value)| Stat { name, value })
        .collect();
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(limit);
    v
}

/// `GET /api/v1/status/tsdb`: head statistics and the cardinality tops over the
/// head's series (`limit`, default 10, at most 10,000 as in Prometheus).
pub(super) async fn tsdb(State(state): State<ApiState>, form: Form) -> Result<Response, ApiError> {
    let limit = match form.value("limit") {
        "" => 10,
        v => match v.parse::<i64>() {
            Ok(n) if (1..=10_000).contains(&n) => n as usize,
            Ok(n) if n < 1 => {
                return Err(invalid_param("limit", "limit must be a positive number"));
            }
            Ok(_) => return Err(invalid_param("limit", "limit must not exceed 10000")),
            Err(_) => {
                return Err(invalid_param(
                    "limit",
                    &format!("strconv.Atoi: parsing {v:?}: invalid syntax"),
                ));
            }
        },
    };
    let db = state
        .storage()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "storage is not ready"))?;
    let body = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, ApiError> {
        let stats = db.stats();
        let (min_t, max_t) = match (stats.head_min_time, stats.head_max_time) {
            (Some(a), Some(b)) => (a, b),
            // Prometheus's empty head: min > max.
            _ => (i64::MAX, i64::MIN),
        };
        let mut by_metric: HashMap<String, u64> = HashMap::new();
        let mut pairs: HashMap<(String, String), u64> = HashMap::new();
        if min_t <= max_t {
            let all =
                Matcher::regex("__name__", ".+").map_err(|e| ApiError::internal(e.to_string()))?;
            let set = db
                .querier(min_t, max_t)
                .select(&[all])
                .map_err(|e| ApiError::internal(e.to_string()))?;
            for s in set {
                for l in s.labels().iter() {
                    if l.name == "__name__" {
                        *by_metric.entry(l.value.to_owned()).or_default() += 1;
                    }
                    *pairs
                        .entry((l.name.to_owned(), l.value.to_owned()))
                        .or_default() += 1;
                }
            }
        }
        let mut values_by_name: HashMap<String, u64> = HashMap::new();
        let mut bytes_by_name: HashMap<String, u64> = HashMap::new();
        let mut by_pair: HashMap<String, u64> = HashMap::new();
        for ((name, value), n) in &pairs {
            *values_by_name.entry(name.clone()).or_default() += 1;
            *bytes_by_name.entry(name.clone()).or_default() += value.len() as u64 * n;
            by_pair.insert(format!("{name}={value}"), *n);
        }
        Ok(json!({
            "headStats": {
                "numSeries": stats.head_series,
                "numLabelPairs": pairs.len(),
                "chunkCount": stats.head_chunks,
                "minTime": min_t,
                "maxTime": max_t,
            },
            "seriesCountByMetricName": top(by_metric, limit),
            "labelValueCountByLabelName": top(values_by_name, limit),
            "memoryInBytesByLabelName": top(bytes_by_name, limit),
            "seriesCountByLabelValuePair": top(by_pair, limit),
        }))
    })
    .await
    .map_err(|e| ApiError::internal(format!("tsdb status task failed: {e}")))??;
    Ok(success(body, &[]))
}

/// `GET|POST /api/v1/rules`: no rule groups yet. `type` is checked as
/// Prometheus does.
pub(super) async fn rules(form: Form) -> Result<Response, ApiError> {
    let t = form.value("type").to_ascii_lowercase();
    if !t.is_empty() && t != "alert" && t != "record" {
        return Err(invalid_param("type", &format!("not supported value {t:?}")));
    }
    Ok(success(json!({ "groups": [] }), &[]))
}

/// `GET|POST /api/v1/alerts`: no alerts yet.
pub(super) async fn alerts() -> Response {
    success(json!({ "alerts": [] }), &[])
}

/// `GET|POST /api/v1/query_exemplars`: tidemark keeps no exemplars, so the
/// answer is `[]`; `start`/`end` are validated as Prometheus does.
pub(super) async fn query_exemplars(form: Form) -> Result<Response, ApiError> {
    let start = form.time("start", MIN_TIME_MS)?;
    let end = form.time("end", MAX_TIME_MS)?;
    if end < start {
        return Err(invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    Ok(success(Vec::<()>::new(), &[]))
}
