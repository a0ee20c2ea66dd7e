//! Blocks end to end: the head cut into blocks, queries over head and blocks,
//! restarts, overlapping (imported) blocks, damaged blocks, retention.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use tidemark::model::{Labels, Matcher};
use tidemark::tsdb::block::{StoredChunk, write_block};
use tidemark::tsdb::chunk;
use tidemark::tsdb::fs::real;
use tidemark::tsdb::{AppendError, Db, Options};

use common::{Dump, dump};

const H: i64 = 3_600_000;
const STEP: i64 = 15_000;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().copied()).expect("valid labels")
}

fn options() -> Options {
    Options {
        // Small segments, so that cuts checkpoint the WAL.
        wal_segment_size: 32 * 1024,
        maintenance_interval: None,
        ..Options::default()
    }
}

fn series(i: usize) -> Labels {
    l(&[
        ("__name__", "m"),
        ("i", &i.to_string()),
        ("job", if i.is_multiple_of(2) { "even" } else { "odd" }),
    ])
}

/// Appends one sample per series every 15 s over `[from, to)`, one commit per
/// step; series 3 only during the first two hours. Series `pad` takes ten
/// samples a step, so that the WAL fills several segments.
fn fill(db: &Db, from: i64, to: i64) {
    let mut app = db.appender();
    let pad = l(&[("__name__", "pad")]);
    let mut t = from;
    while t < to {
        for k in 0..10 {
            app.append(&pad, t + k, (t + k) as f64).expect("append");
        }
        for i in 0..4 {
            if i == 3 && t >= 2 * H {
                continue;
            }
            let v = (t / STEP) as f64 * (i as f64 + 1.5);
            app.append(&series(i), t, v).expect("append");
        }
        app.commit().expect("commit");
        t += STEP;
    }
}

fn block_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn head_is_cut_into_blocks_and_restart_gives_identical_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    fill(&db, 0, 8 * H);
    let m = [Matcher::equal("__name__", "m")];
    let before = dump(&db, &m, i64::MIN, i64::MAX);
    assert_eq!(before.len(), 4);
    assert_eq!(before[0].1.len(), (8 * H / STEP) as usize);

    let report = db.maintain().unwrap();
    // The head spans 8h: it is cut while it spans more than 3h.
    assert_eq!(report.head_blocks, 3);
    assert!(report.wal_checkpoints >= 1, "{report:?}");
    // Series 3 had no sample after 2h: it left the head with its block.
    assert_eq!(report.head_series_removed, 1);
    assert_eq!(block_dirs(dir.path()).len(), 3);
    let stats = db.stats();
    assert_eq!(stats.blocks, 3);
    assert_eq!(stats.head_series, 4);
    assert_eq!(stats.head_min_time, Some(6 * H));
    assert_eq!(dump(&db, &m, i64::MIN, i64::MAX), before);
    // Ranges within one block, across blocks and head, and inclusive ends.
    for (mint, maxt) in [
        (0, H),
        (H + 1, 5 * H),
        (6 * H - STEP, 6 * H),
        (7 * H, 9 * H),
    ] {
        let want: Dump = before
            .iter()
            .map(|(n, v)| {
                let v: Vec<_> = v
                    .iter()
                    .copied()
                    .filter(|s| s.0 >= mint && s.0 <= maxt)
                    .collect();
                (n.clone(), v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        assert_eq!(dump(&db, &m, mint, maxt), want, "[{mint}, {maxt}]");
    }
    let q = db.querier(0, H);
    assert_eq!(q.label_values("i", &[]).unwrap(), ["0", "1", "2", "3"]);
    assert_eq!(
        q.label_values("i", &[Matcher::equal("job", "odd")])
            .unwrap(),
        ["1", "3"]
    );
    assert_eq!(q.label_names(&m).unwrap(), ["__name__", "i", "job"]);
    assert_eq!(q.label_values("__name__", &[]).unwrap(), ["m", "pad"]);
    // The head refuses samples in time a block holds.
    let mut app = db.appender();
    let err = app.append(&series(0), 5 * H, 1.0).unwrap_err();
    assert!(matches!(err, AppendError::OutOfBounds { .. }), "{err}");
    db.close().unwrap();

    let db = Db::open(dir.path(), options()).unwrap();
    assert!(db.open_report().damaged_blocks.is_empty());
    assert_eq!(dump(&db, &m, i64::MIN, i64::MAX), before);
    // Appending goes on after a restart, for a series that left the head too.
    let mut app = db.appender();
    app.append(&series(0), 8 * H, 1.0).unwrap();
    app.append(&series(3), 8 * H, 2.0).unwrap();
    app.commit().unwrap();
    let got = dump(&db, &[Matcher::equal("i", "3")], i64::MIN, i64::MAX);
    assert_eq!(got[0].1.len(), before[3].1.len() + 1);
}

#[test]
fn an_appender_holding_a_removed_series_gets_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let gone = l(&[("__name__", "gone")]);
    let live = l(&[("__name__", "live")]);
    let mut app = db.appender();
    let gone_ref = app.append(&gone, 0, 1.0).unwrap();
    app.commit().unwrap();
    let mut t = 0;
    while t <= 4 * H {
        app.append(&live, t, 1.0).unwrap();
        app.commit().unwrap();
        t += 60_000;
    }
    assert_eq!(db.maintain().unwrap().head_series_removed, 1);
    // The appender's cached reference leads to a new series with the same labels.
    let new_ref = app.append_ref(gone_ref, 4 * H, 2.0).unwrap();
    assert_ne!(new_ref, gone_ref);
    app.commit().unwrap();
    let got = dump(
        &db,
        &[Matcher::equal("__name__", "gone")],
        i64::MIN,
        i64::MAX,
    );
    assert_eq!(
        got,
        [(
            "gone".to_owned(),
            vec![(0, 1f64.to_bits()), (4 * H, 2f64.to_bits())]
        )]
    );
    db.close().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(
        dump(
            &db,
            &[Matcher::equal("__name__", "gone")],
            i64::MIN,
            i64::MAX
        ),
        got
    );
}

/// Writes `samples` of `labels` as a block, as an import would.
fn import_block(dir: &Path, labels: &Labels, samples: &[(i64, f64)], mint: i64, maxt: i64) {
    let mut data = Vec::new();
    let enc = chunk::encode(samples, &mut data);
    let c = StoredChunk {
        min_time: samples[0].0,
        max_time: samples[samples.len() - 1].0,
        encoding: enc.into(),
        data,
    };
    write_block(&real(), dir, [(labels.clone(), vec![c])], mint, maxt).unwrap();
}

#[test]
fn overlapping_imported_block_merges_with_head_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), options()).unwrap();
        fill(&db, 0, 6 * H);
        // Blocks [0,2h) and [2h,4h); the head keeps [4h,6h).
        assert_eq!(db.maintain().unwrap().head_blocks, 2);
        db.close().unwrap();
    }
    // Over [H, 3H): every other timestamp already stored (the import's value
    // loses to the one already there), and some between the stored ones.
    let s0 = series(0);
    let imported: Vec<(i64, f64)> = (0..200)
        .map(|k| H + k * STEP / 2 * 3)
        .map(|t| (t, -1.0))
        .collect();
    import_block(dir.path(), &s0, &imported, H, 3 * H);
    let only_imported = l(&[("__name__", "m"), ("i", "9")]);
    import_block(dir.path(), &only_imported, &[(H, 9.0)], H, 3 * H);

    let db = Db::open(dir.path(), options()).unwrap();
    let got = dump(&db, &[Matcher::equal("i", "0")], i64::MIN, i64::MAX);
    let got = &got[0].1;
    // Sorted, no timestamp twice, every original and every new timestamp there.
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    let original: Vec<i64> = (0..6 * H / STEP).map(|k| k * STEP).collect();
    for t in &original {
        let s = got
            .iter()
            .find(|s| s.0 == *t)
            .expect("original sample kept");
        assert_ne!(s.1, (-1f64).to_bits(), "at {t} the stored value wins");
    }
    let extra = imported.iter().filter(|(t, _)| t % STEP != 0).count();
    assert_eq!(got.len(), original.len() + extra);
    // Seeking into the merged run works.
    let q = db.querier(H + 1, 2 * H);
    let s = q
        .select(&[Matcher::equal("i", "0")])
        .unwrap()
        .next()
        .unwrap();
    let mut it = s.iter();
    let (a, b) = (it.next().unwrap(), it.next().unwrap());
    assert_eq!((a.t, b.t), (H + STEP, H + STEP / 2 * 3));
    assert_eq!(b.v, -1.0);
    assert_eq!(
        dump(&db, &[Matcher::equal("i", "9")], i64::MIN, i64::MAX),
        [(only_imported.to_string(), vec![(H, 9f64.to_bits())])]
    );
}

#[test]
fn damaged_blocks_are_named_and_the_others_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), options()).unwrap();
        fill(&db, 0, 8 * H);
        db.maintain().unwrap();
        db.close().unwrap();
    }
    let blocks = block_dirs(dir.path());
    assert_eq!(blocks.len(), 3);
    // A flipped byte in the middle of the first block's chunk data.
    let seg = blocks[0].join("chunks").join("000001");
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&seg)
        .unwrap();
    let len = f.metadata().unwrap().len();
    let mut b = [0u8];
    f.read_exact_at(&mut b, len / 2).unwrap();
    f.write_all_at(&[b[0] ^ 0x10], len / 2).unwrap();
    // A flipped byte in the second block's index.
    let idx = blocks[1].join("index");
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&idx)
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.read_exact_at(&mut b, len / 3).unwrap();
    f.write_all_at(&[b[0] ^ 0x01], len / 3).unwrap();

    let db = Db::open(dir.path(), options()).unwrap();
    // The index is checked section by section as it is read: the damage shows when
    // the block is opened (table of contents, symbols, label tables) or when a
    // query reads the damaged part (series, postings).
    let index_error = match db.open_report().damaged_blocks.as_slice() {
        [] => {
            let err = db.querier(2 * H, 4 * H - 1).select(&[]).err();
            err.expect("the damaged index is reported").to_string()
        }
        [one] => one.clone(),
        many => panic!("one block is damaged, not {many:?}"),
    };
    assert!(
        index_error.contains(&blocks[1].display().to_string()),
        "{index_error}"
    );
    assert!(index_error.contains("index"), "{index_error}");
    // Reading the damaged chunk names block and file.
    let q = db.querier(0, 2 * H - 1);
    let mut errors = Vec::new();
    for s in q.select(&[]).unwrap() {
        let mut it = s.iter();
        it.by_ref().for_each(drop);
        if let Some(e) = it.err() {
            errors.push(e.to_string());
        }
    }
    assert_eq!(errors.len(), 1, "one chunk is damaged: {errors:?}");
    assert!(
        errors[0].contains(&blocks[0].display().to_string()),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("chunks/000001"), "{}", errors[0]);
    // The third block and the head answer as before.
    let got = dump(&db, &[Matcher::equal("i", "0")], 4 * H, 8 * H);
    assert_eq!(got[0].1.len(), (4 * H / STEP) as usize);
}

#[test]
fn retention_deletes_whole_blocks_by_time_and_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            retention_ms: 3 * H,
            ..options()
        },
    )
    .unwrap();
    fill(&db, 0, 10 * H);
    let report = db.maintain().unwrap();
    // Blocks [0,2h) … [6h,8h) are cut; the newest ends at 8h, so the blocks
    // ending more than 3h before it ([0,2h), [2h,4h)) go.
    assert_eq!(report.head_blocks, 4);
    assert_eq!(report.blocks_deleted, 2);
    assert_eq!(block_dirs(dir.path()).len(), 2);
    let got = dump(&db, &[Matcher::equal("i", "0")], i64::MIN, i64::MAX);
    assert_eq!(got[0].1.first().unwrap().0, 4 * H);
    db.close().unwrap();

    // By size: a budget below what is there now keeps only what fits.
    let db = Db::open(
        dir.path(),
        Options {
            retention_ms: 0,
            retention_bytes: 1,
            ..options()
        },
    )
    .unwrap();
    assert_eq!(db.maintain().unwrap().blocks_deleted, 2);
    assert!(block_dirs(dir.path()).is_empty());
    let got = dump(&db, &[Matcher::equal("i", "0")], i64::MIN, i64::MAX);
    assert_eq!(got[0].1.first().unwrap().0, 8 * H);
}

#[test]
fn a_block_written_into_the_directory_while_open_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    fill(&db, 0, H);
    let extra = l(&[("__name__", "backfilled")]);
    import_block(
        dir.path(),
        &extra,
        &[(-H, 1.0), (-H + STEP, 2.0)],
        -2 * H,
        0,
    );
    assert!(
        dump(
            &db,
            &[Matcher::equal("__name__", "backfilled")],
            i64::MIN,
            i64::MAX
        )
        .is_empty()
    );
    assert_eq!(db.maintain().unwrap().blocks_found, 1);
    assert_eq!(
        dump(
            &db,
            &[Matcher::equal("__name__", "backfilled")],
            i64::MIN,
            i64::MAX
        ),
        [(
            "backfilled".to_owned(),
            vec![(-H, 1f64.to_bits()), (-H + STEP, 2f64.to_bits())]
        )]
    );
    assert_eq!(db.maintain().unwrap().blocks_found, 0);
}

/// Every kind of matcher selects the same series from a block as from the head.
#[test]
fn matchers_select_alike_in_head_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let mut app = db.appender();
    let sets: Vec<Labels> = (0..40)
        .map(|i| {
            let mut pairs = vec![
                (
                    "__name__".to_owned(),
                    if i % 3 == 0 { "up" } else { "cpu" }.to_owned(),
                ),
                ("job".to_owned(), format!("job{}", i % 4)),
            ];
            if i % 5 != 0 {
                pairs.push((
                    "env".to_owned(),
                    if i % 2 == 0 { "prod" } else { "dev" }.to_owned(),
                ));
            }
            Labels::new(pairs).unwrap()
        })
        .collect();
    for t in [0, H, 2 * H] {
        for s in &sets {
            app.append(s, t, 1.0).unwrap();
        }
        app.commit().unwrap();
    }
    let cases: Vec<Vec<Matcher>> = vec![
        vec![],
        vec![Matcher::equal("__name__", "up")],
        vec![Matcher::equal("env", "")],
        vec![Matcher::not_equal("env", "prod")],
        vec![Matcher::not_equal("env", "")],
        vec![Matcher::regex("job", "job[12]").unwrap()],
        vec![Matcher::regex("env", "prod|").unwrap()],
        vec![Matcher::not_regex("job", "job0|job3").unwrap()],
        vec![Matcher::not_regex("env", ".+").unwrap()],
        vec![Matcher::regex("absent", ".*").unwrap()],
        vec![Matcher::equal("absent", "x")],
        vec![
            Matcher::equal("__name__", "cpu"),
            Matcher::regex("job", "job.").unwrap(),
            Matcher::not_equal("env", "dev"),
        ],
    ];
    // Over [0, 1h] while the head holds it.
    let in_head: Vec<Vec<String>> = cases
        .iter()
        .map(|m| dump(&db, m, 0, H).into_iter().map(|(l, _)| l).collect())
        .collect();
    // The cut needs the head to span more than 3h: append once more and cut.
    app.append(&sets[0], 4 * H, 1.0).unwrap();
    app.commit().unwrap();
    assert_eq!(db.maintain().unwrap().head_blocks, 1);
    // Now only the block holds [0, 1h].
    assert_eq!(db.stats().head_min_time, Some(2 * H));
    for (m, want) in cases.iter().zip(&in_head) {
        let got: Vec<String> = dump(&db, m, 0, H).into_iter().map(|(l, _)| l).collect();
        assert_eq!(&got, want, "{m:?}");
        assert_eq!(
            db.querier(0, H).label_values("job", m).unwrap(),
            {
                let mut v: Vec<String> = want
                    .iter()
                    .filter_map(|l| l.split("job=\"").nth(1).map(|r| r[..4].to_owned()))
                    .collect();
                v.sort();
                v.dedup();
                v
            },
            "{m:?}"
        );
    }
}
