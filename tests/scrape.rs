//! The scrape manager against an in-process HTTP target whose answers the test
//! changes: series coming and going, slow answers, gzip, huge and garbage
//! bodies, errors, redirects, limits, reloads, removed targets and shutdown.
//!
//! Intervals are short (200 ms) so the tests run quickly; every wait is bounded
//! and polls for the state it expects, so a slow machine makes them slower, not
//! wrong.

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parking_lot::Mutex;
use tidemark::config::Config;
use tidemark::model::{Matcher, is_stale_nan};
use tidemark::scrape::{ActiveTarget, Health, ScrapeManager};
use tidemark::tsdb::{Db, Options};

/// What the target answers next.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    content_type: &'static str,
    gzip: bool,
    delay: Duration,
}

impl Answer {
    fn text(body: &str) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: body.as_bytes().to_vec(),
            content_type: "text/plain; version=0.0.4",
            gzip: false,
            delay: Duration::ZERO,
        }
    }
}

type Shared = Arc<Mutex<Answer>>;

async fn metrics(State(answer): State<Shared>, headers: HeaderMap) -> Response {
    let a = answer.lock().clone();
    if !a.delay.is_zero() {
        tokio::time::sleep(a.delay).await;
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    if a.gzip && accepts_gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&a.body).unwrap();
        let body = enc.finish().unwrap();
        return (
            a.status,
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            body,
        )
            .into_response();
    }
    (a.status, [(header::CONTENT_TYPE, a.content_type)], a.body).into_response()
}

/// An HTTP target on a loopback port: `/metrics` answers what `answer` holds,
/// `/moved` redirects there.
async fn target(answer: Answer) -> (Shared, String) {
    let shared = Arc::new(Mutex::new(answer));
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/metrics")]) }),
        )
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (shared, addr)
}

fn config(job_extra: &str, addr: &str) -> Config {
    let yaml = format!(
        "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  - job_name: t\n{job_extra}    static_configs:\n      - targets: ['{addr}']\n"
    );
    Config::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn open() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), Options::default()).unwrap());
    (dir, db)
}

/// Samples of the series named `name` (value `None` for a stale marker).
fn samples(db: &Db, name: &str) -> Vec<(i64, Option<f64>)> {
    let mut out = Vec::new();
    for s in db
        .querier(i64::MIN, i64::MAX)
        .select(&[Matcher::equal("__name__", name)])
        .unwrap()
    {
        out.extend(s.iter().map(|x| (x.t, (!is_stale_nan(x.v)).then_some(x.v))));
    }
    out
}

/// Waits (at most 20 s) until `check` holds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn the_target(manager: &ScrapeManager) -> ActiveTarget {
    let (active, _) = manager.targets();
    assert_eq!(active.len(), 1);
    active.into_iter().next().unwrap()
}

/// Waits for the next scrape after now and returns its status.
async fn next_scrape(manager: &ScrapeManager) -> ActiveTarget {
    let before = the_target(manager).status.last_scrape;
    until("the next scrape", || {
        the_target(manager).status.last_scrape != before
    })
    .await;
    the_target(manager)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_that_vanish_go_stale_and_timestamps_stay_aligned() {
    let (_dir, db) = open();
    let (answer, addr) = target(Answer::text("# TYPE a gauge\na 1\nb{x=\"y\"} 2\n")).await;
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&config("", &addr)).unwrap();
    until("three scrapes", || samples(&db, "up").len() >= 3).await;
    *answer.lock() = Answer::text("a 1\n");
    until("b goes stale", || {
        samples(&db, "b").last().is_some_and(|s| s.1.is_none())
    })
    .await;
    let t = the_target(&manager);
    assert_eq!(t.status.health, Health::Up);
    assert_eq!(t.status.last_error, "");
    assert_eq!(
        t.labels.to_string(),
        format!("{{instance=\"{addr}\", job=\"t\"}}")
    );
    assert_eq!(t.scrape_url, format!("http://{addr}/metrics"));
    manager.stop().await;

    let up = samples(&db, "up");
    assert!(up.iter().all(|s| s.1 == Some(1.0)), "{up:?}");
    // Aligned: exactly one interval between scrapes. A scrape that starts
    // later than the tolerance (2 ms at this interval) on a loaded machine gets
    // its real time instead, so only most steps are asserted exact.
    let steps: Vec<i64> = up.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let exact = steps.iter().filter(|&&d| d == 200).count();
    assert!(2 * exact >= steps.len(), "steps {steps:?}");
    assert!(steps.iter().all(|&d| d > 0), "steps {steps:?}");
    // The series' samples share up's timestamps.
    let a_times: Vec<i64> = samples(&db, "a").iter().map(|s| s.0).collect();
    let up_times: Vec<i64> = up.iter().map(|s| s.0).collect();
    assert_eq!(a_times, up_times);
    let scraped = samples(&db, "scrape_samples_scraped");
    assert_eq!(scraped.first().unwrap().1, Some(2.0));
    assert_eq!(scraped.last().unwrap().1, Some(1.0));
    let added = samples(&db, "scrape_series_added");
    assert_eq!(added.first().unwrap().1, Some(2.0));
    assert_eq!(added[1].1, Some(0.0));
    // b's stale marker is at the first scrape without it, and nothing follows.
    let b = samples(&db, "b");
    let stale_at = b.last().unwrap().0;
    assert!(b[..b.len() - 1].iter().all(|s| s.1 == Some(2.0)));
    assert!(up_times.contains(&stale_at));
    for name in [
        "scrape_duration_seconds",
        "scrape_samples_post_metric_relabeling",
    ] {
        assert_eq!(samples(&db, name).len(), up.len(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_set_up_to_zero_with_the_reason_and_mark_series_stale() {
    let (_dir, db) = open();
    let (answer, addr) = target(Answer::text("a 1\n")).await;
    let manager = ScrapeManager::new(db.clone());
    manager
        .apply(&config(
            "    sample_limit: 3\n    body_size_limit: 1KB\n",
            &addr,
        ))
        .unwrap();
    until("a first scrape", || !samples(&db, "a").is_empty()).await;

    let mut cases: Vec<(Answer, &str)> = Vec::new();
    cases.push((
        Answer {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..Answer::text("oops")
        },
        "server returned HTTP status 500 Internal Server Error",
    ));
    cases.push((
        Answer {
            delay: Duration::from_millis(400),
            ..Answer::text("a 1\n")
        },
        "deadline",
    ));
    cases.push((
        Answer::text(&"a 1\n".repeat(400)),
        "body size limit exceeded",
    ));
    cases.push((
        Answer {
            gzip: true,
            ..Answer::text(&format!("a 1\n{}", "# padding\n".repeat(2000)))
        },
        "body size limit exceeded",
    ));
    cases.push((
        Answer::text("a 1\nb 2\nc 3\nd 4\n"),
        "sample limit exceeded",
    ));
    cases.push((Answer::text("a{ 1\n\u{0}\u{1}garbage"), ""));
    for (bad, reason) in cases {
        // Back to good, then the failure.
        *answer.lock() = Answer::text("a 1\n");
        until("a healthy scrape", || {
            let t = the_target(&manager);
            t.status.health == Health::Up && samples(&db, "a").last().unwrap().1.is_some()
        })
        .await;
        *answer.lock() = bad;
        until("a failed scrape", || {
            the_target(&manager).status.health == Health::Down
        })
        .await;
        let t = the_target(&manager);
        assert!(
            t.status.last_error.contains(reason) && !t.status.last_error.is_empty(),
            "{:?} lacks {reason:?}",
            t.status.last_error
        );
        assert_eq!(samples(&db, "up").last().unwrap().1, Some(0.0));
        assert_eq!(
            samples(&db, "a").last().unwrap().1,
            None,
            "a is stale after: {reason}"
        );
    }

    // A good gzip body is read.
    *answer.lock() = Answer {
        gzip: true,
        ..Answer::text("a 7\n")
    };
    until("the gzip body", || {
        samples(&db, "a").last().unwrap().1 == Some(7.0)
    })
    .await;
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_and_openmetrics_is_negotiated() {
    let (_dir, db) = open();
    let (_answer, addr) = target(Answer {
        content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ..Answer::text("# TYPE c counter\nc_total 5\n# EOF\n")
    })
    .await;
    let manager = ScrapeManager::new(db.clone());
    manager
        .apply(&config("    metrics_path: /moved\n", &addr))
        .unwrap();
    until("c_total", || !samples(&db, "c_total").is_empty()).await;
    assert_eq!(the_target(&manager).status.health, Health::Up);
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_target_goes_stale_after_two_intervals_a_reload_keeps_series() {
    let (_dir, db) = open();
    let (_answer, addr) = target(Answer::text("a 1\n")).await;
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&config("", &addr)).unwrap();
    until("two scrapes", || samples(&db, "a").len() >= 2).await;

    // A changed job (new label via relabeling of nothing, a new interval) keeps
    // the same target: its loop is handed over, no stale markers.
    manager
        .apply(&config("    scrape_interval: 300ms\n", &addr))
        .unwrap();
    let n = samples(&db, "a").len();
    until("scrapes after the reload", || {
        samples(&db, "a").len() >= n + 2
    })
    .await;
    assert!(samples(&db, "a").iter().all(|s| s.1.is_some()));
    assert_eq!(the_target(&manager).interval, Duration::from_millis(300));

    // The target is gone from the configuration: markers follow.
    let empty = Config::parse("scrape_configs:\n  - job_name: t\n").unwrap();
    manager.apply(&empty).unwrap();
    let last_good = samples(&db, "a").last().unwrap().0;
    until("the end-of-run stale marker", || {
        samples(&db, "a").last().is_some_and(|s| s.1.is_none())
    })
    .await;
    let a = samples(&db, "a");
    let marker = a.last().unwrap().0;
    assert!(marker >= last_good + 300, "{last_good} → {marker}");
    assert_eq!(
        samples(&db, "up").last().unwrap().1,
        None,
        "up goes stale too"
    );
    assert!(manager.targets().0.is_empty());
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_writes_no_stale_markers_and_lets_go_of_the_database() {
    let (dir, db) = open();
    let (_answer, addr) = target(Answer::text("a 1\n")).await;
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&config("", &addr)).unwrap();
    until("a scrape", || !samples(&db, "a").is_empty()).await;
    manager.stop().await;
    let n = samples(&db, "a").len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let a = samples(&db, "a");
    assert_eq!(a.len(), n);
    assert!(a.iter().all(|s| s.1.is_some()));
    drop(manager);
    let db = Arc::try_unwrap(db).unwrap_or_else(|_| panic!("the database is still held"));
    db.close().unwrap();
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relabeling_drops_targets_and_shows_them_as_dropped() {
    let (_dir, db) = open();
    let (_answer, addr) = target(Answer::text("a 1\n")).await;
    let yaml = format!(
        "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['{addr}', 'dropme:1']\n        labels: {{env: test}}\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: dropme.*\n        action: drop\n"
    );
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&Config::parse(&yaml).unwrap()).unwrap();
    let t = next_scrape(&manager).await;
    assert_eq!(t.labels.get("env"), Some("test"));
    assert_eq!(t.discovered_labels["__address__"], addr);
    assert_eq!(t.discovered_labels["job"], "t");
    let (_, dropped) = manager.targets();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].discovered_labels["__address__"], "dropme:1");
    manager.stop().await;
}

#[test]
fn a_real_node_exporter_is_scraped_like_prometheus_does() {
    let Some(binary) = common::node_exporter::node_exporter_binary() else {
        return;
    };
    let exporter = common::node_exporter::Exporter::start(&binary);
    let addr = exporter.address.to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_dir, db) = open();
        let manager = ScrapeManager::new(db.clone());
        let yaml = format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{addr}']\n"
        );
        manager.apply(&Config::parse(&yaml).unwrap()).unwrap();
        until("two scrapes of node exporter", || samples(&db, "up").len() >= 2).await;
        let t = the_target(&manager);
        assert_eq!(
            (t.status.health, t.status.last_error.as_str()),
            (Health::Up, ""),
            "exporter log:\n{}",
            exporter.log()
        );
        manager.stop().await;
        let scraped = samples(&db, "scrape_samples_scraped");
        let n = scraped[0].1.unwrap();
        assert!(n >= 300.0, "only {n} samples from node exporter");
        let cpu = common::dump(
            &db,
            &[Matcher::equal("__name__", "node_cpu_seconds_total")],
            i64::MIN,
            i64::MAX,
        );
        assert!(!cpu.is_empty());
        for (labels, points) in &cpu {
            assert!(
                labels.contains(&format!("instance=\"{addr}\"")) && labels.contains("job=\"node\""),
                "{labels}"
            );
            assert_eq!(points.len(), scraped.len(), "{labels}");
        }
        // Every sample stored is counted as post-relabeling and scraped.
        let post = samples(&db, "scrape_samples_post_metric_relabeling");
        assert_eq!(post[0].1, Some(n));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_targets_follow_the_file() {
    let (_dir, db) = open();
    let (_a, addr_a) = target(Answer::text("from_a 1\n")).await;
    let (_b, addr_b) = target(Answer::text("from_b 1\n")).await;
    let sd = tempfile::tempdir().unwrap();
    let file = sd.path().join("targets.json");
    let write = |targets: &[&str]| {
        let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let text = format!(
            "[{{\"targets\": [{}], \"labels\": {{\"team\": \"x\"}}}}]",
            list.join(", ")
        );
        // Written beside and renamed, as tools that manage these files do.
        let tmp = sd.path().join("targets.json.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &file).unwrap();
    };
    write(&[&addr_a]);
    let yaml = format!(
        "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: sd\n    file_sd_configs:\n      - files: ['{}/*.json']\n",
        sd.path().display()
    );
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&Config::parse(&yaml).unwrap()).unwrap();
    until("target a scraped", || !samples(&db, "from_a").is_empty()).await;
    let t = the_target(&manager);
    assert_eq!(t.labels.get("team"), Some("x"));
    assert_eq!(
        t.discovered_labels
            .get("__meta_filepath")
            .map(String::as_str),
        Some(file.to_str().unwrap())
    );

    write(&[&addr_b]);
    until("target b scraped", || !samples(&db, "from_b").is_empty()).await;
    until("a's end-of-run stale marker", || {
        samples(&db, "from_a").last().is_some_and(|s| s.1.is_none())
    })
    .await;
    assert_eq!(
        the_target(&manager).scrape_url,
        format!("http://{addr_b}/metrics")
    );

    // A broken file keeps the targets it gave before.
    std::fs::write(&file, "[{\"targets\": ").unwrap();
    let n = samples(&db, "from_b").len();
    until("more scrapes of b", || {
        samples(&db, "from_b").len() >= n + 3
    })
    .await;
    assert!(samples(&db, "from_b").iter().all(|s| s.1.is_some()));
    manager.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_targets_go_away_when_a_reload_drops_file_sd_configs() {
    let (_dir, db) = open();
    let (_a, addr_a) = target(Answer::text("from_file 1\n")).await;
    let (_b, addr_b) = target(Answer::text("from_static 1\n")).await;
    let sd = tempfile::tempdir().unwrap();
    std::fs::write(
        sd.path().join("targets.json"),
        format!("[{{\"targets\": [\"{addr_a}\"]}}]"),
    )
    .unwrap();
    let with_files = format!(
        "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: sd\n    file_sd_configs:\n      - files: ['{}/*.json']\n",
        sd.path().display()
    );
    let manager = ScrapeManager::new(db.clone());
    manager.apply(&Config::parse(&with_files).unwrap()).unwrap();
    until("the file's target scraped", || {
        !samples(&db, "from_file").is_empty()
    })
    .await;

    // The same job, its targets now written in the configuration only.
    let without_files = format!(
        "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: sd\n    static_configs:\n      - targets: ['{addr_b}']\n"
    );
    manager
        .apply(&Config::parse(&without_files).unwrap())
        .unwrap();
    assert_eq!(
        the_target(&manager).scrape_url,
        format!("http://{addr_b}/metrics"),
        "the file's target is gone at once"
    );
    until("the file target's end-of-run stale marker", || {
        samples(&db, "from_file")
            .last()
            .is_some_and(|s| s.1.is_none())
    })
    .await;
    manager.stop().await;
}
