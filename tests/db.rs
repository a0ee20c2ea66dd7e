//! The library API end to end: open, append, commit, query, reopen.

mod common;

use tidemark::model::{Labels, Matcher, stale_nan};
use tidemark::tsdb::{AppendError, Db, DbError, Options};

use common::dump as samples;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied()).expect("valid labels")
}

/// Without the background worker: these tests look at the head, which a head cut
/// (its data spans more than 3h) would change under them.
fn head_only() -> Options {
    Options {
        maintenance_interval: None,
        ..Options::default()
    }
}

#[test]
fn append_commit_query_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let up_a = l(&[("__name__", "up"), ("job", "a")]);
    let up_b = l(&[("__name__", "up"), ("job", "b")]);
    {
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut app = db.appender();
        let ra = app.append(&up_a, 1000, 1.0).unwrap();
        app.append(&up_b, 1000, 0.0).unwrap();
        app.append_ref(ra, 2000, 1.0).unwrap();
        app.append_ref(ra, 3000, stale_nan()).unwrap();
        // Nothing is visible before commit.
        assert!(samples(&db, &[Matcher::equal("__name__", "up")], 0, 10_000).is_empty());
        app.commit().unwrap();
        let got = samples(&db, &[Matcher::equal("__name__", "up")], 0, 10_000);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, r#"up{job="a"}"#);
        assert_eq!(
            got[0].1,
            vec![
                (1000, 1f64.to_bits()),
                (2000, 1f64.to_bits()),
                (3000, stale_nan().to_bits())
            ]
        );
        // Range bounds are inclusive.
        let got = samples(&db, &[Matcher::equal("job", "a")], 2000, 2000);
        assert_eq!(got[0].1, vec![(2000, 1f64.to_bits())]);
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.open_report().samples, 4);
    let got = samples(&db, &[Matcher::regex("job", "a|b").unwrap()], 0, 10_000);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.len(), 3);
    let q = db.querier(0, 10_000);
    assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "job"]);
    assert_eq!(q.label_values("job", &[]).unwrap(), ["a", "b"]);
    assert_eq!(
        q.label_values("job", &[Matcher::equal("job", "b")])
            .unwrap(),
        ["b"]
    );
    // Appending continues after the replayed data, by labels.
    let mut app = db.appender();
    app.append(&up_a, 4000, 1.0).unwrap();
    app.commit().unwrap();
    assert_eq!(
        samples(&db, &[Matcher::equal("job", "a")], 0, 10_000)[0]
            .1
            .len(),
        4
    );
}

#[test]
fn rollback_discards_pending_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let s = l(&[("__name__", "x")]);
    let mut app = db.appender();
    app.append(&s, 1, 1.0).unwrap();
    app.rollback();
    app.append(&s, 2, 2.0).unwrap();
    app.commit().unwrap();
    assert_eq!(samples(&db, &[], 0, 10)[0].1, vec![(2, 2f64.to_bits())]);
}

#[test]
fn bad_input_errors_are_distinct_and_leave_committed_data_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let s = l(&[("__name__", "x"), ("i", "1")]);
    let mut app = db.appender();
    app.append(&s, 100, 1.0).unwrap();
    app.commit().unwrap();

    let err = app.append(&s, 50, 1.0).unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::OutOfOrder {
                t: 50,
                last_t: 100,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(r#"x{i="1"}"#), "{err}");

    let err = app.append(&s, 100, 2.0).unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateTimestamp { t: 100, .. }),
        "{err}"
    );

    // Same timestamp, same value: accepted silently.
    app.append(&s, 100, 1.0).unwrap();

    // Within one appender, its own pending samples count too.
    app.append(&s, 200, 1.0).unwrap();
    let err = app.append(&s, 150, 1.0).unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::OutOfOrder {
                t: 150,
                last_t: 200,
                ..
            }
        ),
        "{err}"
    );

    let err = app.append(&Labels::empty(), 1, 1.0).unwrap_err();
    assert!(matches!(err, AppendError::EmptyLabels), "{err}");
    let err = app
        .append_ref(tidemark::tsdb::SeriesRef(999_999), 1, 1.0)
        .unwrap_err();
    assert!(matches!(err, AppendError::UnknownRef(_)), "{err}");

    // Label validation happens when the label set is built.
    assert!(Labels::new([("", "v")]).is_err());
    assert!(Labels::new([("a", "1"), ("a", "2")]).is_err());

    app.commit().unwrap();
    assert_eq!(
        samples(&db, &[], 0, 1000)[0].1,
        vec![(100, 1f64.to_bits()), (200, 1f64.to_bits())]
    );
}

#[test]
fn second_open_of_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    match Db::open(dir.path(), Options::default()) {
        Err(e @ DbError::Locked { .. }) => assert!(e.to_string().contains("in use"), "{e}"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("second open succeeded"),
    }
    db.close().unwrap();
    // Released on close.
    Db::open(dir.path(), Options::default()).unwrap();
}

#[test]
fn chunks_are_cut_by_count_and_at_window_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), head_only()).unwrap();
    let s = l(&[("__name__", "c")]);
    let mut app = db.appender();
    // 1000 samples 25 s apart: 288 per 2h window. Each window holds chunks of 120,
    // 120 and 48 samples, and the last 136 samples make 120 + 16: 11 chunks. Cut by
    // count alone it would be 9.
    for i in 0..1000i64 {
        app.append(&s, i * 25_000, i as f64).unwrap();
    }
    app.commit().unwrap();
    let stats = db.stats();
    assert_eq!(stats.head_chunks, 11, "{stats:?}");
    let got = samples(&db, &[], i64::MIN, i64::MAX);
    assert_eq!(got[0].1.len(), 1000);
    assert!(
        got[0]
            .1
            .iter()
            .enumerate()
            .all(|(i, &(t, v))| t == i as i64 * 25_000 && v == (i as f64).to_bits())
    );
    // A query around a boundary reads only what it needs and returns the exact range.
    let mid = samples(&db, &[], 7_200_000 - 25_000, 7_200_000 + 25_000);
    assert_eq!(
        mid[0].1.iter().map(|x| x.0).collect::<Vec<_>>(),
        [7_175_000, 7_200_000, 7_225_000]
    );
    // Reopen gives the same chunks back (full ones from the head chunk file, the
    // open one from the WAL).
    db.close().unwrap();
    let db = Db::open(dir.path(), head_only()).unwrap();
    assert_eq!(db.open_report().chunks_loaded, 10);
    assert_eq!(db.stats().head_chunks, stats.head_chunks);
    assert_eq!(samples(&db, &[], i64::MIN, i64::MAX), got);
}

#[test]
fn concurrent_appenders_on_disjoint_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    std::thread::scope(|s| {
        for w in 0..4 {
            let db = &db;
            s.spawn(move || {
                let mut app = db.appender();
                for t in 0..200 {
                    for i in 0..50 {
                        let lbl = l(&[
                            ("__name__", "m"),
                            ("w", &w.to_string()),
                            ("i", &i.to_string()),
                        ]);
                        app.append(&lbl, t, t as f64).unwrap();
                    }
                    app.commit().unwrap();
                }
            });
        }
    });
    assert_eq!(db.stats().head_series, 200);
    assert_eq!(db.stats().samples_appended, 200 * 200);
    let got = samples(&db, &[Matcher::equal("w", "3")], 0, 1000);
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|(_, v)| v.len() == 200));
}

#[test]
fn reopen_takes_full_chunks_from_the_head_chunk_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = l(&[("__name__", "c")]);
    let written = {
        let db = Db::open(dir.path(), head_only()).unwrap();
        let mut app = db.appender();
        for i in 0..1000i64 {
            app.append(&s, i * 15_000, i as f64 * 0.5).unwrap();
            if i % 100 == 99 {
                app.commit().unwrap();
            }
        }
        app.commit().unwrap();
        let got = samples(&db, &[], i64::MIN, i64::MAX);
        db.close().unwrap();
        got
    };
    let db = Db::open(dir.path(), head_only()).unwrap();
    let report = db.open_report().clone();
    // 1000 samples 15 s apart: 480 per 2h window, 4 chunks each, and 40 left in
    // the open chunk.
    assert_eq!(report.chunks_loaded, 8, "{report:?}");
    assert_eq!(
        report.samples + report.samples_in_chunks,
        1000,
        "{report:?}"
    );
    assert!(
        report.samples < 200,
        "most samples come from chunks: {report:?}"
    );
    assert_eq!(samples(&db, &[], i64::MIN, i64::MAX), written);
    // Appending continues after the replayed data, and the duplicate check knows
    // the newest sample.
    let mut app = db.appender();
    let err = app.append(&s, 999 * 15_000, 1.0).unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateTimestamp { .. }),
        "{err}"
    );
    app.append(&s, 1000 * 15_000, 1.0).unwrap();
    app.commit().unwrap();
    db.close().unwrap();

    // A damaged head chunk file costs replay time, not data: the WAL has it all.
    let file = dir.path().join("chunks_head").join("000001");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let db = Db::open(dir.path(), head_only()).unwrap();
    let got = samples(&db, &[], i64::MIN, i64::MAX);
    assert_eq!(got[0].1.len(), 1001);
    assert_eq!(got[0].1[..1000], written[0].1[..]);
}

#[test]
fn wal_with_an_impossible_series_ref_is_refused_with_its_position() {
    use tidemark::tsdb::fs::real;
    use tidemark::tsdb::wal::{Wal, WalOptions, encode_series};
    let dir = tempfile::tempdir().unwrap();
    {
        let mut wal = Wal::open(&real(), &dir.path().join("wal"), WalOptions::default()).unwrap();
        let mut rec = Vec::new();
        let labels = l(&[("__name__", "x")]);
        encode_series(
            &[(tidemark::tsdb::SeriesRef(u64::MAX - 3), &labels)],
            &mut rec,
        );
        wal.log(&[&rec]).unwrap();
        wal.close().unwrap();
    }
    let err = Db::open(dir.path(), Options::default())
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("out of range") && msg.contains("00000000"),
        "{msg}"
    );
}

#[test]
fn options_outside_their_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for opts in [
        Options {
            samples_per_chunk: 0,
            ..Options::default()
        },
        Options {
            samples_per_chunk: 1 << 20,
            ..Options::default()
        },
        Options {
            chunk_range_ms: 0,
            ..Options::default()
        },
    ] {
        assert!(matches!(
            Db::open(dir.path(), opts),
            Err(DbError::InvalidOption(_))
        ));
    }
}
