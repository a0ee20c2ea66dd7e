//! The HTTP API of a running `tidemark` as Grafana's Prometheus datasource uses
//! it: the calls it makes, in its order, with every status and JSON field it
//! reads. (Queries are left out: they need the PromQL engine.)
#![cfg(unix)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::server::{Server, fill, now_ms};
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

    // Save & test, then the version probe: buildinfo by POST first; 405 makes
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
