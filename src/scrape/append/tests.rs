use super::*;
use crate::exposition::Format;
use crate::model::Labels;
use crate::model::{Matcher, is_stale_nan};
use crate::tsdb::{Db, Options};

fn opts() -> AppendOptions {
    AppendOptions {
        honor_timestamps: true,
        ..Default::default()
    }
}

fn target() -> Labels {
    Labels::new([("job", "node"), ("instance", "h:9100")]).unwrap()
}

/// Every stored sample as (labels, t, value or "stale").
fn dump(db: &Db) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for s in db.querier(i64::MIN, i64::MAX).select(&[]).unwrap() {
        for x in s.iter() {
            let v = if is_stale_nan(x.v) {
                "stale".to_owned()
            } else {
                x.v.to_string()
            };
            out.push((s.labels().to_string(), x.t, v));
        }
    }
    out
}

fn scrape(
    db: &Db,
    cache: &mut ScrapeCache,
    body: &str,
    t: i64,
    o: &AppendOptions,
) -> Result<ScrapeCounts, ScrapeAppendError> {
    let mut app = db.appender();
    let body = ScrapeBody {
        bytes: body.as_bytes(),
        format: Format::Text,
        t,
    };
    let r = cache
        .append_scrape(&mut app, body, &target(), o)
        .map_err(|f| f.error);
    match &r {
        Ok(_) => app.commit().unwrap(),
        Err(_) => {
            app.rollback();
            cache.append_failure(&mut app, t);
            app.commit().unwrap();
        }
    }
    r
}

#[test]
fn vanished_series_get_a_stale_marker_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    let c = scrape(&db, &mut cache, "a 1\nb 2\n", 1000, &opts()).unwrap();
    assert_eq!((c.scraped, c.post_relabel, c.series_added), (2, 2, 2));
    let c = scrape(&db, &mut cache, "a 3\n", 2000, &opts()).unwrap();
    assert_eq!(c.series_added, 0);
    scrape(&db, &mut cache, "a 4\n", 3000, &opts()).unwrap();
    let b: Vec<_> = dump(&db)
        .into_iter()
        .filter(|x| x.0.starts_with("b{"))
        .map(|x| (x.1, x.2))
        .collect();
    assert_eq!(b, [(1000, "2".to_owned()), (2000, "stale".to_owned())]);
    // Back again: a new series for the cache, stored after its marker.
    let c = scrape(&db, &mut cache, "a 5\nb 6\n", 4000, &opts()).unwrap();
    assert_eq!(c.series_added, 1);
}

/// The cache reads its entries in the order of the first scrape; a target
/// that reorders its series, adds one in the middle or drops one (forgotten
/// after two scrapes, which renumbers the entries) still gets every sample
/// into its own series.
#[test]
fn reordered_inserted_and_forgotten_series_keep_their_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    let bodies = [
        "a 1\nb 1\nc 1\nd 1\n",
        "d 2\nc 2\nb 2\na 2\n",
        "a 3\nx 3\nb 3\nd 3\n",
        "b 4\nx 4\na 4\nd 4\n",
        "x 5\nd 5\nb 5\na 5\n",
        "c 6\na 6\nd 6\nx 6\nb 6\n",
    ];
    let mut added = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let t = 1000 * (i as i64 + 1);
        added.push(
            scrape(&db, &mut cache, body, t, &opts())
                .unwrap()
                .series_added,
        );
    }
    // c leaves at scrape 3 and is forgotten after scrape 5: new again at 6.
    assert_eq!(added, [4, 0, 1, 0, 0, 1]);
    let series = |name: &str| -> Vec<(i64, String)> {
        dump(&db)
            .into_iter()
            .filter(|x| x.0.starts_with(&format!("{name}{{")))
            .map(|x| (x.1, x.2))
            .collect()
    };
    let values = |v: &[(i64, &str)]| -> Vec<(i64, String)> {
        v.iter().map(|&(t, s)| (t, s.to_owned())).collect()
    };
    for name in ["a", "b", "d"] {
        let want: Vec<(i64, String)> = (1..=6).map(|i| (1000 * i, i.to_string())).collect();
        assert_eq!(series(name), want, "series {name}");
    }
    assert_eq!(
        series("c"),
        values(&[(1000, "1"), (2000, "2"), (3000, "stale"), (6000, "6")])
    );
    assert_eq!(
        series("x"),
        values(&[(3000, "3"), (4000, "4"), (5000, "5"), (6000, "6")])
    );
}

#[test]
fn target_labels_win_unless_honor_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let exposed = Labels::new([("__name__", "m"), ("job", "mine"), ("exported_job", "x")]).unwrap();
    let merged = merge_target_labels(&exposed, &target(), false);
    assert_eq!(
        merged.to_string(),
        r#"m{exported_exported_job="mine", exported_job="x", instance="h:9100", job="node"}"#
    );
    let honored = merge_target_labels(&exposed, &target(), true);
    assert_eq!(
        honored.to_string(),
        r#"m{exported_job="x", instance="h:9100", job="mine"}"#
    );
    let mut cache = ScrapeCache::new();
    scrape(&db, &mut cache, "m{job=\"mine\"} 1\n", 1000, &opts()).unwrap();
    assert_eq!(
        dump(&db)[0].0,
        r#"m{exported_job="mine", instance="h:9100", job="node"}"#
    );
}

#[test]
fn explicit_timestamps_are_kept_or_not_and_never_go_stale() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    scrape(&db, &mut cache, "a 1 500\n", 1000, &opts()).unwrap();
    scrape(&db, &mut cache, "", 2000, &opts()).unwrap();
    assert_eq!(
        dump(&db),
        [(
            "a{instance=\"h:9100\", job=\"node\"}".to_owned(),
            500,
            "1".to_owned()
        )]
    );
    let o = AppendOptions {
        honor_timestamps: false,
        ..opts()
    };
    scrape(&db, &mut cache, "c 1 500\n", 3000, &o).unwrap();
    assert!(
        dump(&db)
            .iter()
            .any(|x| x.0.starts_with("c{") && x.1 == 3000)
    );
}

#[test]
fn sample_limit_and_parse_errors_fail_the_scrape_and_mark_everything_stale() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    let limited = AppendOptions {
        sample_limit: 2,
        ..opts()
    };
    scrape(&db, &mut cache, "a 1\nb 1\n", 1000, &limited).unwrap();
    let err = scrape(&db, &mut cache, "a 2\nb 2\nc 2\n", 2000, &limited).unwrap_err();
    assert_eq!(err, ScrapeAppendError::SampleLimit { limit: 2 });
    let err = scrape(&db, &mut cache, "a 3\nb{ 3\n", 3000, &limited).unwrap_err();
    assert!(matches!(err, ScrapeAppendError::Parse(_)), "{err}");
    let got = dump(&db);
    // Nothing of the failed scrapes is stored; a and b went stale at 2000 once.
    assert_eq!(
        got.iter()
            .map(|x| (x.0.chars().next().unwrap(), x.1, x.2.as_str()))
            .collect::<Vec<_>>(),
        [
            ('a', 1000, "1"),
            ('a', 2000, "stale"),
            ('b', 1000, "1"),
            ('b', 2000, "stale")
        ]
    );
}

#[test]
fn metric_relabeling_drops_and_the_report_series_carry_target_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    let yaml = "scrape_configs:\n  - job_name: j\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: b\n        action: drop\n";
    let drop_b = AppendOptions {
        metric_relabel: crate::config::Config::parse(yaml).unwrap().scrape_configs[0]
            .metric_relabel_configs
            .clone(),
        ..opts()
    };
    let mut app = db.appender();
    let c = cache
        .append_scrape(
            &mut app,
            ScrapeBody {
                bytes: b"a 1\nb 2\n",
                format: Format::Text,
                t: 1000,
            },
            &target(),
            &drop_b,
        )
        .unwrap();
    assert_eq!((c.scraped, c.post_relabel), (2, 1));
    cache
        .append_report(&mut app, &target(), 1000, 0.25, true, c)
        .unwrap();
    cache
        .append_report(&mut app, &target(), 2000, 0.5, false, c)
        .unwrap();
    app.commit().unwrap();
    let q = db.querier(i64::MIN, i64::MAX);
    let up: Vec<_> = q
        .select(&[Matcher::equal("__name__", "up")])
        .unwrap()
        .flat_map(|s| {
            assert_eq!(
                s.labels().to_string(),
                r#"up{instance="h:9100", job="node"}"#
            );
            s.iter().map(|x| (x.t, x.v)).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(up, [(1000, 1.0), (2000, 0.0)]);
    let scraped: Vec<_> = q
        .select(&[Matcher::equal("__name__", "scrape_samples_scraped")])
        .unwrap()
        .flat_map(|s| s.iter().map(|x| x.v).collect::<Vec<_>>())
        .collect();
    assert_eq!(scraped, [2.0, 2.0]);
    let names = q.label_values("__name__", &[]).unwrap();
    assert_eq!(
        names,
        [
            "a",
            "scrape_duration_seconds",
            "scrape_samples_post_metric_relabeling",
            "scrape_samples_scraped",
            "scrape_series_added",
            "up"
        ]
    );
}

#[test]
fn a_failed_append_reports_its_counts_to_the_end_of_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut cache = ScrapeCache::new();
    let limited = AppendOptions {
        sample_limit: 2,
        ..opts()
    };
    let mut app = db.appender();
    let body = ScrapeBody {
        bytes: b"a 1\nb 1\nc 1\nd 1\n",
        format: Format::Text,
        t: 1000,
    };
    let failure = cache
        .append_scrape(&mut app, body, &target(), &limited)
        .unwrap_err();
    assert_eq!(failure.error.to_string(), "sample limit exceeded");
    assert_eq!(
        (failure.counts.scraped, failure.counts.post_relabel),
        (4, 4)
    );
    app.rollback();
}

#[test]
fn label_limits_and_nameless_series_fail_the_scrape_with_prometheus_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let with = |limits: LabelLimits| AppendOptions {
        label_limits: limits,
        ..opts()
    };
    let mut cache = ScrapeCache::new();
    // job and instance count: 4 labels with __name__.
    let err = scrape(
        &db,
        &mut cache,
        "m{a=\"1\"} 1\n",
        1000,
        &with(LabelLimits {
            count: 3,
            ..Default::default()
        }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label_limit exceeded (metric: m, number of labels: 4, limit: 3)"
    );
    let err = scrape(
        &db,
        &mut cache,
        "m{long_name=\"1\"} 1\n",
        2000,
        &with(LabelLimits {
            name_length: 8,
            ..Default::default()
        }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label_name_length_limit exceeded (metric: m, label name: long_name, length: 9, limit: 8)"
    );
    let err = scrape(
        &db,
        &mut cache,
        "m{a=\"123456\"} 1\n",
        3000,
        &with(LabelLimits {
            value_length: 5,
            ..Default::default()
        }),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label_value_length_limit exceeded (metric: m, label name: a, value: \"123456\", length: 6, limit: 5)"
    );
    let yaml = "scrape_configs:\n  - job_name: j\n    metric_relabel_configs:\n      - action: labeldrop\n        regex: __name__\n";
    let nameless = AppendOptions {
        metric_relabel: crate::config::Config::parse(yaml).unwrap().scrape_configs[0]
            .metric_relabel_configs
            .clone(),
        ..opts()
    };
    let err = scrape(&db, &mut cache, "m 1\n", 4000, &nameless).unwrap_err();
    assert_eq!(err, ScrapeAppendError::MissingName);
    assert!(dump(&db).is_empty());
}
