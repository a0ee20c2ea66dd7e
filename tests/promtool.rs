//! Prometheus's own client against tidemark: `promtool query series` and
//! `promtool query labels` print what a running tidemark answers. Skips with a
//! notice without promtool, fails then under `TIDEMARK_REQUIRE_EXTERNAL=1` (CI).
#![cfg(unix)]

mod common;

use std::process::Command;

use common::server::{Server, fill, now_ms};

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
