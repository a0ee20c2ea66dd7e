//! The TSDB admin API over HTTP: `delete_series`, `clean_tombstones` and
//! `snapshot` with `--web.enable-admin-api`, and the answers without it.
#![cfg(unix)]

mod common;

use std::path::Path;

use common::server::{Server, now_ms};
use serde_json::json;
use tidemark::model::{Labels, Matcher};
use tidemark::tsdb::{Db, Options};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// `m{i="0"}`, `m{i="1"}` and `other`, one sample every 15 s over the ten
/// minutes before `t`.
fn fill(dir: &Path, t: i64) {
    let db = Db::open(dir, Options::default()).unwrap();
    let mut app = db.appender();
    for k in 0..40 {
        let ts = t - 600_000 + k * 15_000;
        for pairs in [
            &[("__name__", "m"), ("i", "0")][..],
            &[("__name__", "m"), ("i", "1")][..],
            &[("__name__", "other")][..],
        ] {
            app.append(&Labels::new(pairs.iter().copied()).unwrap(), ts, k as f64)
                .unwrap();
        }
    }
    app.commit().unwrap();
    db.close().unwrap();
}

fn series(server: &Server, query: &str) -> serde_json::Value {
    let (status, v) = server.get_json(&format!("/api/v1/series?{query}"));
    assert_eq!(status, 200, "{v}");
    v["data"].clone()
}

#[test]
fn admin_endpoints_delete_clean_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    // Whole seconds: the API's times are seconds.
    let t = now_ms() / 1000 * 1000;
    fill(dir.path(), t);
    let server = Server::start(dir.path(), &["--web.enable-admin-api"], "/");
    let post = |path: &str, body: &str| {
        server
            .request("POST", path, &[FORM], body)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };

    // match[] is required.
    let r = post("/api/v1/admin/tsdb/delete_series", "");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})
    );
    let r = post("/api/v1/admin/tsdb/delete_series", "match%5B%5D=%7B");
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));

    // All of m{i="1"}.
    let r = post(
        "/api/v1/admin/tsdb/delete_series",
        "match%5B%5D=m%7Bi%3D%221%22%7D",
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    assert_eq!(
        series(&server, "match%5B%5D=m"),
        json!([{"__name__":"m","i":"0"}])
    );

    // The older half of `other`, by PUT with start and end in the query string.
    let mid = (t - 300_000) / 1000;
    let r = server
        .request(
            "PUT",
            &format!(
                "/api/v1/admin/tsdb/delete_series?match%5B%5D=other&start={}&end={mid}",
                (t - 3_600_000) / 1000
            ),
            &[],
            "",
        )
        .unwrap();
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let before = format!(
        "match%5B%5D=other&start={}&end={}",
        (t - 700_000) / 1000,
        mid - 1
    );
    assert_eq!(series(&server, &before), json!([]));
    let after = format!("match%5B%5D=other&start={}&end={}", mid + 1, t / 1000 + 60);
    assert_eq!(series(&server, &after), json!([{"__name__":"other"}]));
    let (status, v) = server.get_json("/api/v1/label/i/values");
    assert_eq!(status, 200);
    assert_eq!(v["data"], json!(["0"]));

    let r = post("/api/v1/admin/tsdb/clean_tombstones", "");
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let r = server
        .request("PUT", "/api/v1/admin/tsdb/clean_tombstones", &[], "")
        .unwrap();
    assert_eq!(r.status, 204);

    // Snapshots: with the head (the default), and without.
    let r = post("/api/v1/admin/tsdb/snapshot", "");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["status"], "success");
    let name = v["data"]["name"].as_str().unwrap().to_owned();
    let (stamp, random) = name.split_once('-').unwrap();
    assert_eq!(stamp.len(), 16, "{name}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{name}"
    );
    assert!(
        stamp[..8]
            .bytes()
            .chain(stamp[9..15].bytes())
            .all(|b| b.is_ascii_digit())
    );
    assert_eq!(random.len(), 16);
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = post("/api/v1/admin/tsdb/snapshot?skip_head=true", "");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let headless = r.json()["data"]["name"].as_str().unwrap().to_owned();
    assert_ne!(headless, name);
    let r = post("/api/v1/admin/tsdb/snapshot", "skip_head=maybe");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorType"], "bad_data");
    let r = server
        .request("GET", "/api/v1/admin/tsdb/snapshot", &[], "")
        .unwrap();
    assert_eq!(r.status, 405);
    drop(server);

    // The snapshot is a data directory: it opens and answers without the
    // deleted samples.
    let snap = dir.path().join("snapshots").join(&name);
    let db = Db::open(&snap, Options::default()).unwrap();
    assert!(db.open_report().damaged_blocks.is_empty());
    let q = db.querier(i64::MIN, i64::MAX);
    let got: Vec<(String, usize)> = q
        .select(&[Matcher::regex("__name__", ".+").unwrap()])
        .unwrap()
        .map(|s| (s.labels().to_string(), s.iter().count()))
        .collect();
    assert_eq!(
        got,
        vec![(r#"m{i="0"}"#.to_owned(), 40), ("other".to_owned(), 19)]
    );
    drop(db);
    // Without the head (all the data was in the head): an empty data directory.
    let db = Db::open(
        dir.path().join("snapshots").join(&headless),
        Options::default(),
    )
    .unwrap();
    assert_eq!(
        db.querier(i64::MIN, i64::MAX).select(&[]).unwrap().count(),
        0
    );
}

#[test]
fn admin_endpoints_without_the_flag_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), now_ms());
    let server = Server::start(dir.path(), &[], "/");
    for path in [
        "/api/v1/admin/tsdb/delete_series",
        "/api/v1/admin/tsdb/clean_tombstones",
        "/api/v1/admin/tsdb/snapshot",
    ] {
        for method in ["POST", "PUT"] {
            let r = server
                .request(method, &format!("{path}?match%5B%5D=m"), &[FORM], "")
                .unwrap();
            assert_eq!(r.status, 503, "{method} {path}");
            assert_eq!(
                r.json(),
                json!({"status":"error","errorType":"unavailable","error":"admin APIs disabled"}),
                "{method} {path}"
            );
        }
    }
    // Nothing was deleted, nothing written.
    assert_eq!(
        series(&server, "match%5B%5D=m").as_array().unwrap().len(),
        2
    );
    assert!(!dir.path().join("snapshots").exists());
}
