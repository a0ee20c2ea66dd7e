use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt as _;

use super::*;
use crate::tsdb::{Db, Options};

async fn call(state: &ApiState, method: Method, path: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn open_db(dir: &tempfile::TempDir) -> Arc<Db> {
    Arc::new(Db::open(dir.path(), Options::default()).unwrap())
}

#[tokio::test]
async fn healthy_answers_get_and_head() {
    let state = ApiState::default();
    let (status, _, body) = call(&state, Method::GET, "/-/healthy").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "Tidemark is Healthy.\n")
    );
    let (status, _, body) = call(&state, Method::HEAD, "/-/healthy").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
}

#[tokio::test]
async fn ready_follows_storage() {
    let dir = tempfile::tempdir().unwrap();
    let state = ApiState::default();
    let (status, _, _) = call(&state, Method::GET, "/-/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    state.storage_opened(open_db(&dir));
    let (status, _, body) = call(&state, Method::GET, "/-/ready").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "Tidemark is Ready.\n")
    );
    let (status, _, _) = call(&state, Method::HEAD, "/-/ready").await;
    assert_eq!(status, StatusCode::OK);

    let db = state.take_storage().unwrap();
    let (status, _, _) = call(&state, Method::GET, "/-/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Nothing else holds the database: it can be closed.
    Arc::try_unwrap(db).ok().unwrap().close().unwrap();
}

#[tokio::test]
async fn wrong_method_is_405_with_json_and_allow() {
    let state = ApiState::default();
    for path in ["/-/healthy", "/-/ready", "/metrics"] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let allow = response
            .headers()
            .get(header::ALLOW)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], "error");
        assert_eq!(json["errorType"], "bad_data");
    }
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let (status, content_type, body) = call(&ApiState::default(), Method::GET, "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["errorType"], "not_found");
    assert_eq!(json["error"], "path /nope not found");
}

/// The value of the sample line `name value` (no labels) in exposition text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_exposes_head_process_and_build_info() {
    let dir = tempfile::tempdir().unwrap();
    let state = ApiState::default();

    // Before storage opens: process and build metrics, no head figures.
    let (status, content_type, body) = call(&state, Method::GET, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!body.contains("tidemark_tsdb_head_series"), "{body}");
    assert!(body.contains("# TYPE tidemark_build_info gauge"), "{body}");
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    let build_line = body
        .lines()
        .find(|l| l.starts_with("tidemark_build_info{"))
        .unwrap();
    assert!(
        build_line.contains(&version) && build_line.ends_with("} 1"),
        "{build_line}"
    );

    state.storage_opened(open_db(&dir));
    let (_, _, body) = call(&state, Method::GET, "/metrics").await;
    for gauge in [
        "tidemark_tsdb_head_series",
        "tidemark_tsdb_head_chunks",
        "tidemark_tsdb_head_memory_bytes",
        "tidemark_tsdb_head_memory_bytes_per_series",
    ] {
        assert!(
            body.contains(&format!("# TYPE {gauge} gauge\n")),
            "{gauge}\n{body}"
        );
        assert!(sample(&body, gauge).is_some(), "{gauge}\n{body}");
    }
    assert!(body.contains("# TYPE tidemark_tsdb_head_samples_appended_total counter\n"));
    assert!(sample(&body, "tidemark_tsdb_head_samples_appended_total").is_some());

    #[cfg(target_os = "linux")]
    {
        assert!(sample(&body, "process_resident_memory_bytes").unwrap() > 0.0);
        assert!(sample(&body, "process_virtual_memory_bytes").unwrap() > 0.0);
        assert!(sample(&body, "process_open_fds").unwrap() > 0.0);
        assert!(sample(&body, "process_max_fds").unwrap() > 0.0);
        assert!(sample(&body, "process_start_time_seconds").unwrap() > 1.5e9);
        assert!(body.contains("# TYPE process_cpu_seconds_total counter\n"));
        assert!(sample(&body, "process_cpu_seconds_total").is_some());
    }
}

fn labels(pairs: &[(&str, &str)]) -> crate::model::Labels {
    crate::model::Labels::new(pairs.iter().copied()).unwrap()
}

/// A database with `up` of two jobs and `http_requests_total` of one.
fn state_with_data(dir: &tempfile::TempDir) -> ApiState {
    state_with_data_and(dir, ApiSettings::default())
}

/// As [`state_with_data`], with `settings`.
fn state_with_data_and(dir: &tempfile::TempDir, settings: ApiSettings) -> ApiState {
    let db = open_db(dir);
    let mut app = db.appender();
    for (l, t) in [
        (
            labels(&[("__name__", "up"), ("job", "a"), ("instance", "x:1")]),
            1000,
        ),
        (
            labels(&[("__name__", "up"), ("job", "b"), ("instance", "y:1")]),
            5000,
        ),
        (
            labels(&[
                ("__name__", "http_requests_total"),
                ("job", "a"),
                ("my.dot", "v"),
            ]),
            1000,
        ),
    ] {
        app.append(&l, t, 1.0).unwrap();
    }
    app.commit().unwrap();
    let state = ApiState::new(settings);
    state.storage_opened(db);
    state
}

async fn json_call(
    state: &ApiState,
    method: Method,
    path: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, content_type, body) = call(state, method, path).await;
    assert_eq!(content_type, "application/json", "{path}: {body}");
    (status, serde_json::from_str(&body).unwrap())
}

async fn post_form(state: &ApiState, path: &str, form: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn series_by_get_and_post() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_with_data(&dir);
    let (status, v) = json_call(&state, Method::GET, "/api/v1/series?match[]=up&foo=bar").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v,
        serde_json::json!({"status":"success","data":[
            {"__name__":"up","instance":"x:1","job":"a"},
            {"__name__":"up","instance":"y:1","job":"b"}]})
    );
    let (_, v) = post_form(
        &state,
        "/api/v1/series",
        "match%5B%5D=up%7Bjob%3D%22b%22%7D&match[]=http_requests_total",
    )
    .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][0]["__name__"], "http_requests_total");
    // A time range that ends before job b's sample.
    let (_, v) = json_call(
        &state,
        Method::GET,
        "/api/v1/series?match[]=up&start=0&end=2",
    )
    .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (_, v) = json_call(&state, Method::GET, "/api/v1/series?match[]=up&limit=1").await;
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["warnings"],
        serde_json::json!(["results truncated due to limit"])
    );
}

#[tokio::test]
async fn series_errors_as_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_with_data(&dir);
    for (path, message) in [
        ("/api/v1/series", "no match[] parameter provided"),
        (
            "/api/v1/series?match[]=up&start=abc",
            "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp",
        ),
        (
            "/api/v1/series?match[]=%7B%7D",
            "invalid parameter \"match[]\": 1:1: parse error: vector selector must contain at least one non-empty matcher",
        ),
        (
            "/api/v1/labels?match[]=%7Ba%3D%22%22%7D",
            "invalid parameter \"match[]\": 1:1: parse error: vector selector must contain at least one non-empty matcher",
        ),
        (
            "/api/v1/labels?limit=-5",
            "invalid parameter \"limit\": limit must be non-negative",
        ),
    ] {
        let (status, v) = json_call(&state, Method::GET, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            v,
            serde_json::json!({"status":"error","errorType":"bad_data","error":message}),
            "{path}"
        );
    }
    let (status, _) = json_call(&state, Method::DELETE, "/api/v1/series?match[]=up").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, v) = json_call(
        &ApiState::default(),
        Method::GET,
        "/api/v1/series?match[]=up",
    )
    .await;
    assert_eq!(
        (status, v["errorType"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
}

#[tokio::test]
async fn labels_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_with_data(&dir);
    let (_, v) = json_call(&state, Method::GET, "/api/v1/labels").await;
    assert_eq!(
        v["data"],
        serde_json::json!(["__name__", "instance", "job", "my.dot"])
    );
    let (_, v) = post_form(&state, "/api/v1/labels", "match[]=http_requests_total").await;
    assert_eq!(v["data"], serde_json::json!(["__name__", "job", "my.dot"]));
    let (_, v) = json_call(&state, Method::GET, "/api/v1/labels?match[]=nothing").await;
    assert_eq!(v["data"], serde_json::json!([]));
    let (_, v) = json_call(&state, Method::GET, "/api/v1/label/__name__/values").await;
    assert_eq!(v["data"], serde_json::json!(["http_requests_total", "up"]));
    let (_, v) = json_call(
        &state,
        Method::GET,
        "/api/v1/label/job/values?match[]=up&limit=1",
    )
    .await;
    assert_eq!(v["data"], serde_json::json!(["a"]));
    assert_eq!(
        v["warnings"],
        serde_json::json!(["results truncated due to limit"])
    );
    let (_, v) = json_call(&state, Method::GET, "/api/v1/label/U__my_2e_dot/values").await;
    assert_eq!(v["data"], serde_json::json!(["v"]));
    let (_, v) = json_call(
        &state,
        Method::GET,
        "/api/v1/label/job/values?start=10&end=20",
    )
    .await;
    // Outside the data's time range.
    assert_eq!(v["data"], serde_json::json!([]));
    let (status, _) = json_call(&state, Method::POST, "/api/v1/label/job/values").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn status_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let settings = ApiSettings {
        flags: [("web.enable-lifecycle".to_string(), "false".to_string())].into(),
        retention: "15d".into(),
        ..ApiSettings::default()
    };
    let state = state_with_data_and(&dir, settings);
    state.show_config(ShownConfig {
        text: "global: {}\n".into(),
        ..ShownConfig::default()
    });
    state.record_config_load(true);
    let (_, v) = json_call(&state, Method::GET, "/api/v1/status/config").await;
    assert_eq!(
        v,
        serde_json::json!({"status":"success","data":{"yaml":"global: {}\n"}})
    );
    let (_, v) = json_call(&state, Method::GET, "/api/v1/status/flags").await;
    assert_eq!(
        v["data"],
        serde_json::json!({"web.enable-lifecycle":"false"})
    );
    let (_, v) = json_call(&state, Method::GET, "/api/v1/status/runtimeinfo").await;
    for key in [
        "startTime",
        "CWD",
        "reloadConfigSuccess",
        "lastConfigTime",
        "corruptionCount",
        "goroutineCount",
        "GOMAXPROCS",
        "GOGC",
        "GODEBUG",
        "storageRetention",
    ] {
        assert!(v["data"].get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["data"]["storageRetention"], "15d");
    assert_eq!(v["data"]["reloadConfigSuccess"], true);
    let (_, v) = json_call(&state, Method::GET, "/api/v1/status/buildinfo").await;
    assert!(v["data"]["version"].is_string() && v["data"].get("features").is_none());
    let (status, _) = json_call(&state, Method::POST, "/api/v1/status/buildinfo").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (_, v) = json_call(&state, Method::GET, "/api/v1/status/tsdb?limit=1").await;
    assert_eq!(v["data"]["headStats"]["numSeries"], 3);
    assert_eq!(v["data"]["headStats"]["minTime"], 1000);
    assert_eq!(v["data"]["headStats"]["maxTime"], 5000);
    assert_eq!(
        v["data"]["seriesCountByMetricName"],
        serde_json::json!([{"name":"up","value":2}])
    );
    assert_eq!(
        v["data"]["labelValueCountByLabelName"],
        serde_json::json!([{"name":"__name__","value":2}])
    );
    assert_eq!(v["data"]["seriesCountByLabelValuePair"][0]["value"], 2);
    let (status, _) = json_call(&state, Method::GET, "/api/v1/status/tsdb?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rules_alerts_exemplars() {
    let state = ApiState::default();
    let (_, v) = json_call(&state, Method::GET, "/api/v1/rules").await;
    assert_eq!(
        v,
        serde_json::json!({"status":"success","data":{"groups":[]}})
    );
    let (status, _) = json_call(&state, Method::GET, "/api/v1/rules?type=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, v) = json_call(&state, Method::POST, "/api/v1/alerts").await;
    assert_eq!(
        v,
        serde_json::json!({"status":"success","data":{"alerts":[]}})
    );
    // Grafana's probe: milliseconds as seconds.
    let (status, v) = json_call(
        &state,
        Method::GET,
        "/api/v1/query_exemplars?query=test&start=1700000000000&end=1700000600000",
    )
    .await;
    assert_eq!(
        (status, v),
        (
            StatusCode::OK,
            serde_json::json!({"status":"success","data":[]})
        )
    );
    let (status, v) = json_call(
        &state,
        Method::GET,
        "/api/v1/query_exemplars?start=10&end=5",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "invalid parameter \"end\": end timestamp must not be before start time"
    );
}

#[tokio::test]
async fn gzip_when_accepted_and_durations_on_metrics() {
    let state = ApiState::default();
    let request = Request::builder()
        .uri("/api/v1/rules")
        .header(header::ACCEPT_ENCODING, "gzip, deflate")
        .body(Body::empty())
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text).unwrap();
    assert_eq!(text, r#"{"status":"success","data":{"groups":[]}}"#);
    // Without Accept-Encoding: plain.
    let (_, _, body) = call(&state, Method::GET, "/api/v1/rules").await;
    assert_eq!(body, r#"{"status":"success","data":{"groups":[]}}"#);
    let (_, _, metrics) = call(&state, Method::GET, "/metrics").await;
    assert!(
        metrics.contains(
            r#"tidemark_http_request_duration_seconds_count{handler="/api/v1/rules",code="200"} 2"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn routes_under_a_prefix() {
    let state = ApiState::default();
    let request = Request::builder()
        .uri("/prom/api/v1/alerts")
        .body(Body::empty())
        .unwrap();
    let response = router_under(state.clone(), "/prom/")
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let request = Request::builder()
        .uri("/api/v1/alerts")
        .body(Body::empty())
        .unwrap();
    let response = router_under(state, "/prom").oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(body.starts_with(br#"{"status":"error","errorType":"not_found""#));
}
