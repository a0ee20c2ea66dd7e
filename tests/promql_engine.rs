//! End-to-end behaviour of the PromQL engine through its public API, where the
//! promqltest scripts (`tests/promql/*.test`, which hold most of the engine's
//! cases) cannot state it: error kinds, per-query and engine options (lookback,
//! sample limit, timeout, cancellation), the parser's depth limits, and range
//! queries checked bit for bit against instant queries at every step.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tidemark::model::{Labels, stale_nan};
use tidemark::promql::{Engine, EngineOptions, ErrorKind, QueryOptions, Value};
use tidemark::tsdb::{Db, Options};

const M: i64 = 60_000;

/// Labels and every-minute values (`None` is a staleness marker).
type TestSeries<'a> = (&'a [(&'a str, &'a str)], Vec<Option<f64>>);

/// A database in a temporary directory with `series` (labels, every-minute values
/// from t=0), and an engine over it.
fn engine_with(series: &[TestSeries<'_>]) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(Db::open(dir.path(), Options::default()).expect("open"));
    let mut app = db.appender();
    for (labels, values) in series {
        let l = Labels::new(labels.iter().copied()).expect("labels");
        for (i, v) in values.iter().enumerate() {
            app.append(&l, i as i64 * M, v.unwrap_or_else(stale_nan))
                .expect("append");
        }
    }
    app.commit().expect("commit");
    (dir, Engine::new(db, EngineOptions::default()))
}

fn ramp(n: usize, step: f64) -> Vec<Option<f64>> {
    (0..n).map(|i| Some(i as f64 * step)).collect()
}

fn standard() -> (tempfile::TempDir, Engine) {
    engine_with(&[
        (
            &[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("instance", "a"),
            ],
            ramp(11, 10.0),
        ),
        (
            &[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("instance", "b"),
            ],
            ramp(11, 20.0),
        ),
        (
            &[
                ("__name__", "http_requests_total"),
                ("job", "db"),
                ("instance", "a"),
            ],
            ramp(11, 1.0),
        ),
        (
            &[("__name__", "limit"), ("job", "api")],
            vec![Some(1000.0); 11],
        ),
    ])
}

/// The instant vector as `(labels string, value)` sorted by labels.
fn vector(e: &Engine, q: &str, t: i64) -> Vec<(String, f64)> {
    let res = e.instant(q, t).unwrap_or_else(|err| panic!("{q}: {err}"));
    let Value::Vector(v) = res.value else {
        panic!("{q}: not a vector: {:?}", res.value)
    };
    let mut out: Vec<(String, f64)> = v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn scalar(e: &Engine, q: &str, t: i64) -> f64 {
    match e
        .instant(q, t)
        .unwrap_or_else(|err| panic!("{q}: {err}"))
        .value
    {
        Value::Scalar { v, .. } => v,
        other => panic!("{q}: not a scalar: {other:?}"),
    }
}

fn one(e: &Engine, q: &str, t: i64) -> f64 {
    let v = vector(e, q, t);
    assert_eq!(v.len(), 1, "{q}: {v:?}");
    v[0].1
}

#[test]
fn per_query_lookback_delta() {
    let (_d, e) = standard();
    let opts = QueryOptions {
        lookback_delta: Some(Duration::from_secs(60)),
        ..QueryOptions::default()
    };
    let res = e
        .instant_with(r#"http_requests_total{job="db"}"#, 11 * M + 1, &opts)
        .unwrap();
    assert_eq!(res.value, Value::Vector(vec![]));
}

#[test]
fn range_query_rejects_bad_ranges() {
    let (_d, e) = standard();
    assert_eq!(
        e.range("up", 10, 0, 1).unwrap_err().kind,
        ErrorKind::BadData
    );
    assert_eq!(
        e.range("up", 0, 10, 0).unwrap_err().kind,
        ErrorKind::BadData
    );
    assert_eq!(
        e.range("up[5m]", 0, 10, 1).unwrap_err().kind,
        ErrorKind::BadData
    );
    assert_eq!(
        e.range(r#""s""#, 0, 10, 1).unwrap_err().kind,
        ErrorKind::BadData
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (_d, e) = standard();
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let minus = format!("{}1{}", "-(".repeat(100_000), ")".repeat(100_000));
    let minus2 = format!("{}1", "-".repeat(100_000));
    let cases = [
        "sum(",
        ")",
        "((1)",
        "foo{",
        r#"{a=~"("}"#,
        "rate(foo)",
        "1 +",
        "foo[5m",
        "@",
        "sum by (",
        "label_replace(limit, \"a\", \"b\", \"c\", \"(\")",
        deep.as_str(),
        minus.as_str(),
        minus2.as_str(),
        "",
        "\u{0}",
    ];
    for q in cases {
        let err = e.instant(q, 0).expect_err(q.get(..30).unwrap_or(q));
        assert_eq!(
            err.kind,
            ErrorKind::BadData,
            "{}: {err}",
            q.get(..30).unwrap_or(q)
        );
    }
}

#[test]
fn limits_and_cancellation() {
    let (_d, e) = standard();
    let db_engine = |max_samples| {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(dir.path(), Options::default()).unwrap());
        let mut app = db.appender();
        for i in 0..20 {
            let l = Labels::new([("__name__", "m"), ("i", &i.to_string())]).unwrap();
            app.append(&l, 0, 1.0).unwrap();
        }
        app.commit().unwrap();
        (
            dir,
            Engine::new(
                db,
                EngineOptions {
                    max_samples,
                    ..EngineOptions::default()
                },
            ),
        )
    };
    let (_d2, small) = db_engine(10);
    let too_many = "query processing would load too many samples into memory in query execution";
    let err = small.instant("m", 0).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Execution);
    assert_eq!(err.message, too_many);
    // Range queries, whether their nodes are evaluated over all steps at once
    // or step by step, refuse too; so does a range of a billion steps, which
    // must neither allocate for them all nor run for long.
    for q in [
        "m",
        "m * 2",
        "sum by (i) (m)",
        "topk(20, m)",
        "sum(m)",
        "count(m) > 0",
    ] {
        let (_d3, limited) = db_engine(if q.starts_with("sum(") { 5 } else { 30 });
        let err = limited.range(q, 0, 200_000, 1_000).unwrap_err();
        assert_eq!(err.message, too_many, "{q}");
    }
    let (_d3, limited) = db_engine(1000);
    let err = limited.range("sum(m)", 0, 1_000_000_000, 1).unwrap_err();
    assert_eq!(err.message, too_many);
    let cancel = Arc::new(AtomicBool::new(true));
    let opts = QueryOptions {
        cancel: Some(cancel),
        ..QueryOptions::default()
    };
    let err = e.instant_with("limit", 0, &opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Canceled);
    // A per-query timeout shorter than the engine's applies.
    let opts = QueryOptions {
        timeout: Some(Duration::ZERO),
        ..QueryOptions::default()
    };
    let err = e.instant_with("limit", 0, &opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Engine>();
}

#[test]
fn timeout_is_its_own_error_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), Options::default()).unwrap());
    let e = Engine::new(
        db,
        EngineOptions {
            timeout: Duration::ZERO,
            ..EngineOptions::default()
        },
    );
    let err = e.range("up", 0, 600_000, 1_000).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
}

#[test]
fn long_but_accepted_chains_evaluate() {
    let (_d, e) = standard();
    let q = format!("{}limit", "limit + ".repeat(200));
    assert_eq!(one(&e, &q, 0), 201_000.0);
    let q = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(scalar(&e, &q, 0), 1.0);
    let q = format!("{}limit", "limit + ".repeat(300));
    assert_eq!(e.instant(&q, 0).unwrap_err().kind, ErrorKind::BadData);
}

/// A range query's answer equals, step by step, the instant queries at each of
/// its steps: range queries evaluate selectors, range functions, aggregations
/// and arithmetic a series at a time over all steps (`promql/columnar.rs`),
/// instant queries step by step, so each checks the other. The data has gaps,
/// staleness markers, counter resets, irregular timestamps and NaN.
#[test]
fn range_queries_equal_instant_queries_at_every_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(Db::open(dir.path(), Options::default()).expect("open"));
    let mut app = db.appender();
    let mut rng = fastrand::Rng::with_seed(7);
    for job in ["api", "db", "web"] {
        for inst in 0..4 {
            for code in ["200", "500"] {
                let inst = inst.to_string();
                let l = Labels::new([
                    ("__name__", "requests_total"),
                    ("job", job),
                    ("instance", inst.as_str()),
                    ("code", code),
                ])
                .expect("labels");
                let g = Labels::new([
                    ("__name__", "temperature"),
                    ("job", job),
                    ("instance", inst.as_str()),
                    ("code", code),
                ])
                .expect("labels");
                let mut counter = 0.0;
                let mut t = rng.i64(0..20_000);
                while t < 3 * 3_600_000 {
                    match rng.u32(0..100) {
                        0..=2 => counter = 0.0,
                        3 => {
                            app.append(&l, t, stale_nan()).expect("append");
                            app.append(&g, t, stale_nan()).expect("append");
                            t += rng.i64(60_000..900_000);
                            continue;
                        }
                        _ => counter += f64::from(rng.u32(0..50)),
                    }
                    let v = if rng.u32(0..200) == 0 {
                        f64::NAN
                    } else {
                        rng.f64() * 100.0 - 20.0
                    };
                    app.append(&l, t, counter).expect("append");
                    app.append(&g, t, v).expect("append");
                    t += rng.i64(10_000..20_000);
                }
            }
        }
    }
    app.commit().expect("commit");
    let e = Engine::new(db, EngineOptions::default());
    let queries = [
        "requests_total",
        "temperature offset 3m",
        "temperature @ 3600",
        "rate(requests_total[5m])",
        "increase(requests_total[2m] offset 1m)",
        "delta(temperature[7m])",
        "irate(requests_total[1m])",
        "idelta(temperature[3m])",
        "deriv(temperature[10m])",
        "predict_linear(temperature[10m], 600)",
        "changes(temperature[10m])",
        "resets(requests_total[15m])",
        "avg_over_time(temperature[5m])",
        "min_over_time(temperature[5m])",
        "max_over_time(temperature[5m])",
        "sum_over_time(temperature[5m])",
        "count_over_time(temperature[5m])",
        "last_over_time(temperature[5m])",
        "first_over_time(temperature[5m])",
        "stddev_over_time(temperature[5m])",
        "quantile_over_time(0.9, temperature[10m])",
        "mad_over_time(temperature[10m])",
        "ts_of_max_over_time(temperature[10m])",
        "sum by (job) (rate(requests_total[5m]))",
        "avg without (instance) (temperature)",
        "min by (code) (temperature)",
        "max(temperature)",
        "count by (job, code) (temperature > 20)",
        "group by (instance) (requests_total)",
        "stddev by (job) (temperature)",
        "stdvar(temperature)",
        "topk(3, rate(requests_total[5m]))",
        "bottomk by (job) (2, temperature)",
        "sum by (job) (rate(requests_total{code=\"500\"}[5m])) / sum by (job) (rate(requests_total[5m]))",
        "temperature > bool 50",
        "10 < temperature",
        "1 - temperature / 100",
        "temperature - on (job, instance, code) requests_total",
        "temperature{code=\"500\"} + ignoring (code) (temperature{code=\"200\"})",
        // Errors: both ways fail, with the same message.
        "temperature + ignoring (code) (temperature{code=\"200\"})",
        "temperature + on (job) temperature",
        "requests_total == requests_total",
        "sum(temperature) * 2 + 1",
        "histogram_quantile(0.9, sum by (le) (label_replace(rate(requests_total[5m]), \"le\", \"$1\", \"instance\", \"(.*)\")))",
        "abs(sum by (job) (deriv(temperature[10m])))",
        "sum by (job) (max_over_time(rate(requests_total[5m])[10m:1m]))",
        "timestamp(temperature)",
        "sum(rate(requests_total[5m])) or vector(0)",
    ];
    assert_range_equals_instants(&e, &queries, 0, 3 * 3_600_000, 90_000);
}

/// Evaluates each query as a range query and as an instant query at every
/// step, and requires bit-identical answers (or the same error as the first
/// failing step).
fn assert_range_equals_instants(e: &Engine, queries: &[&str], start: i64, end: i64, step: i64) {
    for &q in queries {
        let res = match e.range(q, start, end, step) {
            Ok(res) => res,
            Err(err) => {
                let first_failure = (0..=(end - start) / step)
                    .find_map(|i| e.instant(q, start + i * step).err())
                    .unwrap_or_else(|| panic!("{q}: range fails ({err}), instants do not"));
                assert_eq!(err.to_string(), first_failure.to_string(), "{q}");
                continue;
            }
        };
        let Value::Matrix(m) = res.value else {
            panic!("{q}: not a matrix")
        };
        let mut t = start;
        while t <= end {
            let inst = e
                .instant(q, t)
                .unwrap_or_else(|err| panic!("{q} at {t}: {err}"));
            let mut want: Vec<(String, u64)> = match inst.value {
                Value::Vector(v) => v
                    .into_iter()
                    .map(|s| (s.labels.to_string(), s.v.to_bits()))
                    .collect(),
                Value::Scalar { v, .. } => vec![("{}".to_string(), v.to_bits())],
                other => panic!("{q}: {other:?}"),
            };
            let mut got: Vec<(String, u64)> = m
                .iter()
                .filter_map(|s| {
                    let p = s.points.iter().find(|p| p.t == t)?;
                    Some((s.labels.to_string(), p.v.to_bits()))
                })
                .collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{q} at {t}");
            t += step;
        }
    }
}

/// More series than a range function's worker computes at a time, with values
/// of very different magnitudes so that the order of a sum shows in its last
/// bits: the parts computed on several threads must be added in series order,
/// as step by step.
#[test]
fn range_queries_over_many_parts_equal_instant_queries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Arc::new(Db::open(dir.path(), Options::default()).expect("open"));
    let mut app = db.appender();
    let mut rng = fastrand::Rng::with_seed(11);
    for i in 0..700 {
        let (id, group) = (i.to_string(), (i % 3).to_string());
        let le = ["0.1", "0.5", "1", "5", "+Inf", "bad"][i % 6];
        let l = Labels::new([
            ("__name__", "work_total"),
            ("id", id.as_str()),
            ("group", group.as_str()),
            ("le", le),
        ])
        .expect("labels");
        let scale = 10f64.powi(rng.i32(-3..12));
        let mut counter = 0.0;
        let mut t = rng.i64(0..15_000);
        while t < 3_600_000 {
            counter += rng.f64() * scale;
            app.append(&l, t, counter).expect("append");
            t += 15_000 + rng.i64(-50..50);
        }
    }
    app.commit().expect("commit");
    let e = Engine::new(db, EngineOptions::default());
    let queries = [
        "sum(rate(work_total[5m]))",
        "sum by (group) (rate(work_total[5m]))",
        "avg by (group) (increase(work_total[2m]))",
        "stddev(rate(work_total[5m]))",
        "topk(3, rate(work_total[5m]))",
        "sum by (group) (rate(work_total{group=\"1\"}[5m])) / sum by (group) (rate(work_total[5m]))",
        "histogram_quantile(0.9, sum by (le, group) (rate(work_total[5m])))",
        "histogram_quantile(0.5, rate(work_total[5m]))",
        "2 * histogram_quantile(0.99, sum by (le) (increase(work_total[2m])))",
        "histogram_quantile(1.5, sum by (le) (rate(work_total[5m])))",
    ];
    assert_range_equals_instants(&e, &queries, 600_000, 3_600_000, 60_000);
}
