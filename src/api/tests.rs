use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt as _;

use super::*;
use crate::tsdb::Options;

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
    let state = ApiState::new();
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
    let state = ApiState::new();
    let (status, _, _) = call(&state, Method::GET, "/-/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    state.set_storage(open_db(&dir));
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
    let state = ApiState::new();
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
    let (status, content_type, body) = call(&ApiState::new(), Method::GET, "/nope").await;
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
    let state = ApiState::new();

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

    state.set_storage(open_db(&dir));
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
