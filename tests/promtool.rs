//! Prometheus's own client against tidemark: `promtool query instant`, `query
//! range`, `query series` and `query labels` print what a running tidemark
//! answers. Skips with a
//! notice without promtool, fails then under `TIDEMARK_REQUIRE_EXTERNAL=1` (CI).
#![cfg(unix)]

mod common;

use std::process::Command;

use common::server::{Server, fill, fill_samples, now_ms};

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn promtool_query_series_and_labels() {
    if common::promtool().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fill(
        dir.path(),
        &[
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
        ],
        now_ms() - 60_000,
    );
    let server = Server::start(dir.path(), &[], "/");
    let url = server.url();

    let out = promtool(&["query", "series", &url, "--match=up"]);
    assert_eq!(
        out,
        "{__name__=\"up\", instance=\"a:9100\", job=\"node\"}\n\
         {__name__=\"up\", instance=\"b:9090\", job=\"tidemark\"}\n"
    );
    let out = promtool(&[
        "query",
        "series",
        &url,
        "--match=node_load1",
        "--match={job=\"tidemark\"}",
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");

    let out = promtool(&["query", "labels", &url, "job"]);
    assert_eq!(out, "node\ntidemark\n");
    let out = promtool(&["query", "labels", &url, "__name__", "--match=up"]);
    assert_eq!(out, "up\n");
}

#[test]
fn promtool_query_instant_and_range() {
    if common::promtool().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fill_samples(
        dir.path(),
        &[
            (
                &[("__name__", "req_total"), ("job", "api")],
                (0..9).map(|i| (i * 15_000, (i * 10) as f64)).collect(),
            ),
            (
                &[("__name__", "req_total"), ("job", "web")],
                (0..9).map(|i| (i * 15_000, 0.25)).collect(),
            ),
        ],
    );
    let server = Server::start(dir.path(), &[], "/");
    let url = server.url();

    let out = promtool(&["query", "instant", &url, "req_total", "--time=60.5"]);
    assert_eq!(
        out,
        "req_total{job=\"api\"} => 40 @[60.5]\nreq_total{job=\"web\"} => 0.25 @[60.5]\n"
    );
    let out = promtool(&[
        "query",
        "instant",
        &url,
        "sum(rate(req_total[1m]))",
        "--time=120",
    ]);
    assert_eq!(out, "{} => 0.6666666666666666 @[120]\n");
    let out = promtool(&[
        "query",
        "range",
        &url,
        "req_total{job=\"api\"} * 2",
        "--start=0",
        "--end=60",
        "--step=30s",
    ]);
    assert_eq!(out, "{job=\"api\"} =>\n0 @[0]\n40 @[30]\n80 @[60]\n");
}
