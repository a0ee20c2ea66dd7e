//! The remote-write receiver (`POST /api/v1/write`, with
//! `--web.enable-remote-write-receiver`): requests encoded here as a sender
//! encodes them, and a real Prometheus remote-writing what it scrapes into
//! tidemark. The Prometheus test skips with a notice without the `prometheus`
//! binary, and fails then under `TIDEMARK_REQUIRE_EXTERNAL=1` (CI).
#![cfg(unix)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{Server, now_ms};

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field(num: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(num << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

type Labels<'a> = &'a [(&'a str, &'a str)];

/// A snappy-compressed `prometheus.WriteRequest`; `histogram` adds one (empty)
/// native histogram sample to each series.
fn request(series: &[(Labels<'_>, &[(i64, f64)])], histogram: bool) -> Vec<u8> {
    let mut req = Vec::new();
    for (labels, samples) in series {
        let mut ts = Vec::new();
        for (n, v) in *labels {
            let mut l = Vec::new();
            field(1, n.as_bytes(), &mut l);
            field(2, v.as_bytes(), &mut l);
            field(1, &l, &mut ts);
        }
        for &(t, v) in *samples {
            let mut s = vec![0x09];
            s.extend_from_slice(&v.to_bits().to_le_bytes());
            varint(2 << 3, &mut s);
            varint(t as u64, &mut s);
            field(2, &s, &mut ts);
        }
        if histogram {
            field(4, &[], &mut ts);
        }
        field(1, &ts, &mut req);
    }
    snap::raw::Encoder::new()
        .compress_vec(&req)
        .expect("snappy")
}

fn post(server: &Server, body: &[u8]) -> (u16, String) {
    let r = server
        .request_bytes(
            "POST",
            "/api/v1/write",
            &[
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "snappy"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ],
            body,
        )
        .expect("request");
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// `(labels, value)` of an instant query's answer, sorted.
fn instant(server: &Server, query: &str, t: i64) -> Vec<(String, String)> {
    let body = format!(
        "query={}&time={}",
        query
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace('"', "%22"),
        t as f64 / 1000.0
    );
    let r = server.post_form("/api/v1/query", &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let mut out: Vec<(String, String)> = v["data"]["result"]
        .as_array()
        .expect("vector")
        .iter()
        .map(|s| {
            (
                s["metric"].to_string(),
                s["value"][1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn receiver_stores_requests_and_refuses_bad_ones_whole() {
    let t = now_ms() - 60_000;
    let up: Labels<'_> = &[("__name__", "up"), ("job", "w"), ("instance", "a")];
    let load: Labels<'_> = &[("__name__", "load"), ("job", "w")];

    // Without the flag, Prometheus's 404.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], "/");
    let (status, body) = post(&server, &request(&[(up, &[(t, 1.0)])], false));
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("--web.enable-remote-write-receiver"),
        "{body}"
    );
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--web.enable-remote-write-receiver"], "/");
    let (status, body) = post(
        &server,
        &request(
            &[(up, &[(t - 1000, 0.0), (t, 1.0)]), (load, &[(t, 0.25)])],
            false,
        ),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        instant(&server, "{job=\"w\"}", t),
        vec![
            (r#"{"__name__":"load","job":"w"}"#.into(), "0.25".into()),
            (
                r#"{"__name__":"up","instance":"a","job":"w"}"#.into(),
                "1".into()
            ),
        ]
    );

    // An out-of-order sample refuses the whole request with 400: the new
    // series in it is not stored either.
    let other: Labels<'_> = &[("__name__", "other"), ("job", "w")];
    let (status, body) = post(
        &server,
        &request(&[(other, &[(t, 5.0)]), (up, &[(t - 5000, 2.0)])], false),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("out of order"), "{body}");
    assert!(instant(&server, "other", t).is_empty());

    // Bodies that are not snappy, not protobuf, or carry native histograms.
    let (status, body) = post(&server, b"not snappy at all");
    assert_eq!(status, 400, "{body}");
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0x0a, 0x7f, 0x01])
        .unwrap();
    let (status, body) = post(&server, &garbage);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("byte"), "{body}");
    let (status, body) = post(&server, &request(&[(other, &[])], true));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("native histogram"), "{body}");
    // The server goes on.
    assert_eq!(instant(&server, "up", t).len(), 1);
}

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real Prometheus scrapes itself every second and remote-writes into
/// tidemark; what it sent is then queryable from tidemark.
#[test]
fn real_prometheus_remote_writes_into_tidemark() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            !common::external_required(),
            "prometheus not found and TIDEMARK_REQUIRE_EXTERNAL=1"
        );
        eprintln!("notice: prometheus not found; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tm_dir = dir.path().join("tidemark");
    std::fs::create_dir(&tm_dir).unwrap();
    let server = Server::start(&tm_dir, &["--web.enable-remote-write-receiver"], "/");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  external_labels: {{replica: r1}}\n\
             scrape_configs:\n  - job_name: prom\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n\
             remote_write:\n  - url: {}/api/v1/write\n    queue_config: {{batch_send_deadline: 1s}}\n",
            server.url()
        ),
    )
    .unwrap();
    let _prom = Prometheus(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = instant(&server, "up{job=\"prom\"}", now_ms());
        if let Some((labels, value)) = got.first() {
            assert_eq!(
                labels,
                &format!(
                    r#"{{"__name__":"up","instance":"127.0.0.1:{port}","job":"prom","replica":"r1"}}"#
                )
            );
            assert_eq!(value, "1");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sample from Prometheus after 60 s; tidemark log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Many series arrive, not just up.
    let n = instant(&server, "count({job=\"prom\"})", now_ms());
    let count: f64 = n[0].1.parse().unwrap();
    assert!(count > 100.0, "{count} series");
}
