//! The HTTP API of a running `tidemark` as Grafana's Prometheus datasource uses
//! it: the calls it makes, in its order, with every status and JSON field it
//! reads; and the query endpoints' answers, limits and errors as Prometheus
//! words them.
#![cfg(unix)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::server::{Server, fill, fill_samples, now_ms};
use serde_json::json;

const SERIES: &[&[(&str, &str)]] = &[
    &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
    &[
        ("__name__", "up"),
        ("job", "tidemark"),
        ("instance", "b:9090"),
    ],
    &[
        ("__name__", "node_load1"),
        ("job", "node"),
        ("instance", "a:9100"),
    ],
];

#[test]
fn grafana_datasource_calls_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let t = now_ms() - 60_000;
    fill(dir.path(), SERIES, t);
    let server = Server::start(dir.path(), &[], "/");
    let (start, end) = ((t / 1000) - 3600, (t / 1000) + 3600);

    // Save & test: a form POST of an instant query.
    let r = server.post_form("/api/v1/query", "query=1%2B1&time=4");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
    );

    // Then the version probe: buildinfo by POST first; 405 makes
    // Grafana retry with GET.
    let r = server
        .request(
            "POST",
            "/api/v1/status/buildinfo",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "",
        )
        .unwrap();
    assert_eq!(r.status, 405, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["status"], "error");
    let (status, v) = server.get_json("/api/v1/status/buildinfo");
    assert_eq!(status, 200);
    assert_eq!(v["status"], "success");
    let version = v["data"]["version"].as_str().unwrap();
    assert_eq!(version.split('.').count(), 3, "semver: {version}");
    for key in ["revision", "branch", "buildUser", "buildDate", "goVersion"] {
        assert!(v["data"][key].is_string(), "{key}");
    }
    assert!(v["data"].get("features").is_none());

    // Metric browser: label names with a match[], then metric names.
    let (status, v) = server.get_json(&format!(
        "/api/v1/labels?match%5B%5D=up&start={start}&end={end}"
    ));
    assert_eq!(status, 200);
    assert_eq!(v["data"], json!(["__name__", "instance", "job"]));
    let (status, v) = server.get_json(&format!(
        "/api/v1/label/__name__/values?start={start}&end={end}"
    ));
    assert_eq!(status, 200);
    assert_eq!(v["data"], json!(["node_load1", "up"]));
    // Then the metadata of every metric, for the help and type shown beside
    // the names (nothing scraped here: an empty object).
    let (status, v) = server.get_json("/api/v1/metadata");
    assert_eq!((status, v), (200, json!({"status":"success","data":{}})));
    let (_, v) = server.get_json(&format!(
        "/api/v1/label/job/values?match%5B%5D=%7B__name__%3D%22up%22%7D&start={start}&end={end}"
    ));
    assert_eq!(v["data"], json!(["node", "tidemark"]));

    // Series of a selector, by GET and by form POST.
    let (status, v) = server.get_json(&format!(
        "/api/v1/series?match%5B%5D=up%7Bjob%3D%22node%22%7D&start={start}&end={end}"
    ));
    assert_eq!(status, 200);
    assert_eq!(
        v["data"],
        json!([{"__name__":"up","instance":"a:9100","job":"node"}])
    );
    let r = server
        .request(
            "POST",
            "/api/v1/series",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &format!("match%5B%5D=up&start={start}&end={end}"),
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);

    // A dashboard panel: query_range by form POST, with Grafana's extra
    // parameters (ignored).
    let step = 60;
    let r = server.post_form(
        "/api/v1/query_range",
        &format!(
            "query=sum+by+(job)+(up)&start={}&end={}&step={step}&utcOffsetSec=3600&dashboardUID=x",
            t / 1000 - 120,
            t / 1000 + 120
        ),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "matrix");
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 2);
    assert_eq!(result[0]["metric"], json!({"job": "node"}));
    assert_eq!(result[1]["metric"], json!({"job": "tidemark"}));
    for series in result {
        let values = series["values"].as_array().unwrap();
        // The sample at t is seen from t to t + 5m: the steps from t on.
        assert!(!values.is_empty() && values.len() <= 5, "{values:?}");
        for p in values {
            assert!(p[0].is_number());
            assert_eq!(p[1], "1");
        }
    }

    // The exemplar probe sends milliseconds where seconds belong.
    let (status, v) = server.get_json(&format!(
        "/api/v1/query_exemplars?query=up&start={}&end={}",
        start * 1000,
        end * 1000
    ));
    assert_eq!((status, v), (200, json!({"status":"success","data":[]})));

    // Rules and alerts pages.
    let (_, v) = server.get_json("/api/v1/rules");
    assert_eq!(v["data"]["groups"], json!([]));
    let (_, v) = server.get_json("/api/v1/alerts");
    assert_eq!(v["data"]["alerts"], json!([]));
}

#[test]
fn errors_are_json_and_gzip_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), SERIES, now_ms());
    let server = Server::start(dir.path(), &[], "/");
    let (status, v) = server.get_json("/api/v1/nope");
    assert_eq!((status, v["errorType"].as_str()), (404, Some("not_found")));
    let (status, v) = server.get_json("/api/v1/series?start=1");
    assert_eq!(
        (status, v),
        (
            400,
            json!({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})
        )
    );
    let r = server
        .request(
            "GET",
            "/api/v1/label/job/values",
            &[("Accept-Encoding", "gzip")],
            "",
        )
        .unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut text)
        .unwrap();
    assert_eq!(text, r#"{"status":"success","data":["node","tidemark"]}"#);
    let (_, v) = server.get_json("/api/v1/status/flags");
    assert_eq!(v["data"]["web.listen-address"], "127.0.0.1:0");
    let (_, v) = server.get_json("/api/v1/status/config");
    assert_eq!(v["data"]["yaml"], "scrape_configs: []\n");
    let (_, v) = server.get_json("/api/v1/status/runtimeinfo");
    assert_eq!(v["data"]["storageRetention"], "15d");
    let (_, v) = server.get_json("/api/v1/status/tsdb");
    assert_eq!(v["data"]["headStats"]["numSeries"], 3);
    let r = server.request("GET", "/metrics", &[], "").unwrap();
    let text = String::from_utf8_lossy(&r.body);
    assert!(
        text.contains(
            r#"tidemark_http_request_duration_seconds_count{handler="/api/v1/series",code="400"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn routes_under_the_external_url_path() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), SERIES, now_ms());
    let server = Server::start(
        dir.path(),
        &["--web.external-url=http://example.com/prom/"],
        "/prom",
    );
    let (status, v) = server.get_json("/prom/api/v1/label/job/values");
    assert_eq!(
        (status, v["data"].clone()),
        (200, json!(["node", "tidemark"]))
    );
    let (_, v) = server.get_json("/prom/api/v1/status/flags");
    assert_eq!(v["data"]["web.route-prefix"], "/prom");
    let (status, v) = server.get_json("/api/v1/labels");
    assert_eq!((status, v["errorType"].as_str()), (404, Some("not_found")));
}

#[test]
fn max_connections_holds_further_connections() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), SERIES, now_ms());
    let server = Server::start(dir.path(), &["--web.max-connections=1"], "/");
    // The readiness probe's connection is closed; this one takes the only slot.
    std::thread::sleep(Duration::from_millis(100));
    let first = std::net::TcpStream::connect(server.address).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut second = std::net::TcpStream::connect(server.address).unwrap();
    second
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(second.read(&mut buf).is_err(), "answered past the limit");
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    second.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// One series `m` with the values 1, 2, 3 … at 0, 15 s, 30 s …, and `m_ms`
/// with one sample at a millisecond timestamp.
fn query_data(dir: &std::path::Path) {
    fill_samples(
        dir,
        &[
            (
                &[("__name__", "m"), ("job", "a")],
                (0..40).map(|i| (i * 15_000, (i + 1) as f64)).collect(),
            ),
            (
                &[("__name__", "m"), ("job", "b<&>")],
                (0..40).map(|i| (i * 15_000, -0.5)).collect(),
            ),
            (&[("__name__", "m_ms")], vec![(1_435_781_451_781, 1e-7)]),
        ],
    );
}

fn body(r: &common::server::Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn query_answers_as_prometheus_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    query_data(dir.path());
    let server = Server::start(dir.path(), &[], "/");
    let get = |path: &str| {
        let r = server.request("GET", path, &[], "").unwrap();
        (r.status, body(&r))
    };

    // Instant vector, exactly as Prometheus encodes it (Go's HTML-safe escaping).
    assert_eq!(
        get("/api/v1/query?query=m&time=30"),
        (
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"m","job":"a"},"value":[30,"3"]},{"metric":{"__name__":"m","job":"b\u003c\u0026\u003e"},"value":[30,"-0.5"]}]}}"#.to_string()
        )
    );
    // Millisecond timestamps and the exponent form of small values.
    assert_eq!(
        get("/api/v1/query?query=m_ms&time=1435781451.781"),
        (
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"m_ms"},"value":[1435781451.781,"1e-07"]}]}}"#.to_string()
        )
    );
    assert_eq!(
        get("/api/v1/query?query=1%2F0&time=1.5"),
        (
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1.500,"+Inf"]}}"#
                .to_string()
        )
    );
    assert_eq!(
        get("/api/v1/query?query=%22x%22&time=2015-07-01T20:10:51.781Z"),
        (
            200,
            r#"{"status":"success","data":{"resultType":"string","result":[1435781451.781,"x"]}}"#
                .to_string()
        )
    );
    // A range selector in an instant query is a matrix.
    let (status, text) = get("/api/v1/query?query=m%7Bjob%3D%22a%22%7D%5B30s%5D&time=60");
    assert_eq!(status, 200);
    assert_eq!(
        text,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m","job":"a"},"values":[[45,"4"],[60,"5"]]}]}}"#
    );
    // Range query, by GET and by POST alike; a float step.
    let want = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[0,"1"],[7.500,"1"],[15,"2"]]}]}}"#;
    assert_eq!(
        get("/api/v1/query_range?query=sum+by+(job)(m%7Bjob%3D%22a%22%7D)&start=0&end=15&step=7.5"),
        (200, want.to_string())
    );
    let r = server.post_form(
        "/api/v1/query_range",
        "query=sum+by+(job)(m%7Bjob%3D%22a%22%7D)&start=0&end=15&step=7500ms",
    );
    assert_eq!((r.status, body(&r)), (200, want.to_string()));
    // lookback_delta narrows what an instant selector sees.
    let (_, text) = get("/api/v1/query?query=m%7Bjob%3D%22a%22%7D&time=40&lookback_delta=5s");
    assert_eq!(
        text,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
    );
    // The query metrics count what ran.
    let (_, text) = get("/metrics");
    assert!(
        text.contains(r#"tidemark_engine_query_duration_seconds_count{slice="inner_eval"}"#),
        "{text}"
    );
}

#[test]
fn query_errors_as_prometheus_words_them() {
    let dir = tempfile::tempdir().unwrap();
    query_data(dir.path());
    let server = Server::start(dir.path(), &["--query.max-samples=5"], "/");
    let check = |path: &str, status: u16, error_type: &str, message: &str| {
        let (got, v) = server.get_json(path);
        assert_eq!(
            (got, v),
            (
                status,
                json!({"status":"error","errorType":error_type,"error":message})
            ),
            "{path}"
        );
    };
    check(
        "/api/v1/query_range?query=m&start=10&end=5&step=1",
        400,
        "bad_data",
        r#"invalid parameter "end": end timestamp must not be before start time"#,
    );
    check(
        "/api/v1/query_range?query=m&start=0&end=5&step=0",
        400,
        "bad_data",
        r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
    );
    check(
        "/api/v1/query_range?query=m&start=0&end=5&step=1.5m",
        400,
        "bad_data",
        r#"invalid parameter "step": cannot parse "1.5m" to a valid duration"#,
    );
    check(
        "/api/v1/query_range?query=m&start=0&end=11001&step=1",
        400,
        "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
    check(
        "/api/v1/query_range?query=m&end=5&step=1",
        400,
        "bad_data",
        r#"invalid parameter "start": cannot parse "" to a valid timestamp"#,
    );
    check(
        "/api/v1/query?query=m&time=yesterday",
        400,
        "bad_data",
        r#"invalid parameter "time": Invalid time value for 'time': cannot parse "yesterday" to a valid timestamp"#,
    );
    check(
        "/api/v1/query?query=m&timeout=soon",
        400,
        "bad_data",
        r#"invalid parameter "timeout": cannot parse "soon" to a valid duration"#,
    );
    check(
        "/api/v1/query?query=m&lookback_delta=x",
        400,
        "bad_data",
        r#"error parsing lookback delta duration: cannot parse "x" to a valid duration"#,
    );
    check(
        "/api/v1/query_range?query=m%5B1m%5D&start=0&end=60&step=15",
        400,
        "bad_data",
        r#"invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector"#,
    );
    // More samples than --query.max-samples: execution, 422.
    check(
        "/api/v1/query?query=m%5B5m%5D&time=300",
        422,
        "execution",
        "query processing would load too many samples into memory in query execution",
    );
    // A timeout that has already passed.
    let (status, v) = server.get_json("/api/v1/query?query=m&time=30&timeout=0s");
    assert_eq!(
        (status, v["errorType"].as_str()),
        (503, Some("timeout")),
        "{v}"
    );
    // A query that does not parse: bad_data naming the parameter.
    let (status, v) = server.get_json("/api/v1/query?query=sum(");
    assert_eq!((status, v["errorType"].as_str()), (400, Some("bad_data")));
    let message = v["error"].as_str().unwrap();
    assert!(
        message.starts_with(r#"invalid parameter "query": "#),
        "{message}"
    );
    // The server keeps answering.
    let (status, _) = server.get_json("/api/v1/query?query=m&time=30");
    assert_eq!(status, 200);
}

/// A scrape target on a loopback port answering every request with `body` as
/// OpenMetrics; its `host:port`.
fn openmetrics_target(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    address
}

const TARGET_ONE: &str = "# TYPE http_requests counter\n# HELP http_requests Requests served.\nhttp_requests_total{code=\"200\"} 3\n# TYPE request_duration_seconds histogram\n# HELP request_duration_seconds Time to serve.\n# UNIT request_duration_seconds seconds\nrequest_duration_seconds_bucket{le=\"+Inf\"} 1\nrequest_duration_seconds_sum 0.5\nrequest_duration_seconds_count 1\n# TYPE build info\nbuild_info{version=\"1\"} 1\n# EOF\n";
const TARGET_TWO: &str = "# TYPE http_requests counter\n# HELP http_requests Requests, second target.\nhttp_requests_total 1\n# EOF\n";

#[test]
fn metadata_of_scraped_targets_with_its_parameters() {
    let one = openmetrics_target(TARGET_ONE);
    let two = openmetrics_target(TARGET_TWO);
    let config = format!(
        "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  - job_name: fake\n    static_configs:\n      - targets: ['{one}', '{two}']\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(dir.path(), &config, &[], "/");

    // Until both targets were scraped.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = server.get_json("/api/v1/metadata?metric=http_requests");
        if v["data"]["http_requests"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not scraped: {v}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A metric's entries come in the order of the targets, by URL.
    let first = json!({"type":"counter","help":"Requests served.","unit":""});
    let second = json!({"type":"counter","help":"Requests, second target.","unit":""});
    let url = |a: &str| format!("http://{a}/metrics");
    let (first, second) = if url(&one) < url(&two) {
        (first, second)
    } else {
        (second, first)
    };
    let build = json!([{"type":"info","help":"","unit":""}]);
    let duration = json!([{"type":"histogram","help":"Time to serve.","unit":"seconds"}]);
    let everything = json!({
        "build": build,
        "http_requests": [first, second],
        "request_duration_seconds": duration,
    });
    let data = |query: &str| {
        let (status, v) = server.get_json(&format!("/api/v1/metadata{query}"));
        assert_eq!(status, 200, "{query}: {v}");
        assert_eq!(v["status"], "success");
        v["data"].clone()
    };
    // Not the report series (up, scrape_duration_seconds, ...).
    assert_eq!(data(""), everything);
    assert_eq!(data("?limit=-1"), everything);
    assert_eq!(data("?limit=3&limit_per_metric=0"), everything);
    assert_eq!(
        data("?metric=request_duration_seconds"),
        json!({"request_duration_seconds": duration})
    );
    assert_eq!(data("?metric=http_requests_total"), json!({}));
    assert_eq!(data("?limit=0"), json!({}));
    assert_eq!(data("?limit=1"), json!({"build": build}));
    assert_eq!(
        data("?limit_per_metric=1"),
        json!({"build": build, "http_requests": [first], "request_duration_seconds": duration})
    );
    assert_eq!(
        data("?metric=http_requests&limit_per_metric=1"),
        json!({"http_requests": [first]})
    );
    for (query, message) in [
        ("?limit=ten", "limit must be a number"),
        ("?limit=1.5", "limit must be a number"),
        ("?limit_per_metric=x", "limit_per_metric must be a number"),
    ] {
        let (status, v) = server.get_json(&format!("/api/v1/metadata{query}"));
        assert_eq!(
            (status, v),
            (
                400,
                json!({"status":"error","errorType":"bad_data","error":message})
            )
        );
    }
    let r = server.request("POST", "/api/v1/metadata", &[], "").unwrap();
    assert_eq!(r.status, 405);

    // Per target: every family, or one metric (then without "metric").
    let (status, v) = server.get_json(&format!(
        "/api/v1/targets/metadata?match_target=%7Binstance%3D%22{one}%22%7D"
    ));
    assert_eq!(status, 200);
    let target = json!({"instance": one, "job": "fake"});
    assert_eq!(
        v["data"],
        json!([
            {"target": target, "metric": "build", "type": "info", "help": "", "unit": ""},
            {"target": target, "metric": "http_requests", "type": "counter", "help": "Requests served.", "unit": ""},
            {"target": target, "metric": "request_duration_seconds", "type": "histogram", "help": "Time to serve.", "unit": "seconds"},
        ])
    );
    let (_, v) = server.get_json(&format!(
        "/api/v1/targets/metadata?match_target=%7Binstance%3D%22{two}%22%7D&metric=http_requests"
    ));
    assert_eq!(
        v["data"],
        json!([{"target": {"instance": two, "job": "fake"}, "type": "counter", "help": "Requests, second target.", "unit": ""}])
    );
    let (_, v) = server.get_json("/api/v1/targets/metadata?metric=http_requests&limit=0");
    assert_eq!(v["data"], json!([]));
    // As in Prometheus, the limit is checked before each target.
    let (_, v) = server.get_json("/api/v1/targets/metadata?limit=1");
    let first_target_families = if url(&one) < url(&two) { 3 } else { 1 };
    assert_eq!(v["data"].as_array().unwrap().len(), first_target_families);
    let (status, v) =
        server.get_json("/api/v1/targets/metadata?match_target=%7Bjob%3D~%22.*%22%7D");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["errorType"], "bad_data");
}

/// `/federate` as a federating Prometheus scrapes it: the latest sample of each
/// matching series within the lookback delta, grouped by name under
/// `# TYPE … untyped`, external labels appended, `instance=""` where missing.
#[test]
fn federate_serves_the_latest_samples_as_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let t = now_ms() - 60_000;
    fill_samples(
        dir.path(),
        &[
            (
                &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
                vec![(t - 30_000, 0.0), (t, 1.0)],
            ),
            (
                &[
                    ("__name__", "node_load1"),
                    ("job", "node"),
                    ("path", "x\"y"),
                ],
                vec![(t, 1234567.0)],
            ),
            // Too old for the 5m lookback delta: not federated.
            (
                &[("__name__", "up"), ("job", "old"), ("instance", "c:1")],
                vec![(t - 600_000, 1.0)],
            ),
        ],
    );
    let config = "global:\n  external_labels:\n    cluster: eu-1\nscrape_configs: []\n";
    let server = Server::start_with_config(dir.path(), config, &[], "/");
    let path = "/federate?match[]=%7Bjob%3D%7E%22node%7Cold%22%7D&match[]=up";
    let r = server.request("GET", path, &[], "").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        format!(
            "# TYPE node_load1 untyped\n\
             node_load1{{job=\"node\",path=\"x\\\"y\",cluster=\"eu-1\",instance=\"\"}} 1.234567e+06 {t}\n\
             # TYPE up untyped\n\
             up{{instance=\"a:9100\",job=\"node\",cluster=\"eu-1\"}} 1 {t}\n"
        )
    );
    let r = server
        .request("GET", "/federate?match[]=up%7B", &[], "")
        .unwrap();
    assert_eq!(r.status, 400);
    let r = server.request("GET", "/federate", &[], "").unwrap();
    assert_eq!((r.status, r.body.len()), (200, 0));
}
