//! Compaction end to end: blocks merged as Prometheus's plan says, answers the
//! same before and after, across restarts, and after a SIGKILL at any moment of a
//! compaction.
//!
//! The crash test's child is this same test binary, started with `--ignored
//! --exact compaction_child` and the data directory in `TIDEMARK_COMPACT_DIR`.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use tidemark::model::Labels;
use tidemark::tsdb::block::{BlockBuilder, BlockMeta};
use tidemark::tsdb::chunk;
use tidemark::tsdb::fs::{RealFs, real};
use tidemark::tsdb::{Db, Options};

const H: i64 = 3_600_000;
const STEP: i64 = 15_000;

fn options() -> Options {
    Options {
        maintenance_interval: None,
        ..Options::default()
    }
}

fn dump_all(db: &Db) -> common::Dump {
    common::dump(db, &[], i64::MIN, i64::MAX)
}

fn series(i: usize) -> Labels {
    Labels::new([("__name__", "m".to_owned()), ("i", i.to_string())]).expect("labels")
}

/// `n` series, one sample every 15 s over `[0, to)`, one commit per step.
fn fill(db: &Db, n: usize, to: i64) {
    let mut app = db.appender();
    let mut t = 0;
    while t < to {
        for i in 0..n {
            let v = ((t / STEP) as f64).mul_add(i as f64 + 0.25, 1e6);
            app.append(&series(i), t, v).expect("append");
        }
        app.commit().expect("commit");
        t += STEP;
    }
}

/// Writes a block over `[mint, maxt)` for series `0..n`, one sample every 15 s
/// starting `offset` ms into the range, values from `value`.
fn write_block_with(
    dir: &Path,
    n: usize,
    mint: i64,
    maxt: i64,
    offset: i64,
    value: impl Fn(usize, i64) -> f64,
) {
    let mut b = BlockBuilder::new(&real(), dir, mint, maxt).expect("builder");
    let mut buf = Vec::new();
    for i in 0..n {
        let samples: Vec<(i64, f64)> = (mint / STEP..maxt / STEP)
            .map(|k| (k * STEP + offset, value(i, k)))
            .collect();
        let s = b.start_series(series(i)).expect("series");
        for run in samples.chunks(120) {
            let enc = chunk::encode(run, &mut buf);
            b.add_chunk(s, run[0].0, run[run.len() - 1].0, enc.into(), &buf)
                .expect("chunk");
        }
    }
    b.finish().expect("finish");
}

/// A block as a head cut writes it: series `0..n` every 15 s.
fn write_block_of(dir: &Path, n: usize, mint: i64, maxt: i64) {
    write_block_with(dir, n, mint, maxt, 0, |i, k| {
        (k as f64).mul_add(i as f64 + 0.25, 1e6)
    });
}

/// An import over existing data: a sample 7 ms after each stored one.
fn import_overlapping(dir: &Path, n: usize, mint: i64, maxt: i64) {
    write_block_with(dir, n, mint, maxt, 7, |_, k| -(k as f64));
}

fn metas(dir: &Path) -> Vec<BlockMeta> {
    let mut v: Vec<BlockMeta> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| BlockMeta::read(&RealFs, &e.unwrap().path()).ok())
        .collect();
    v.sort_by_key(|m| m.min_time);
    v
}

#[test]
fn blocks_are_compacted_by_plan_and_answers_do_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    fill(&db, 4, 20 * H);
    let want = dump_all(&db);
    let report = db.maintain().unwrap();
    // Nine 2h blocks cut ([0,2h) … [16h,18h)); [0,6h) and [6h,12h) are full and
    // merged; [12h,18h) holds the newest block and is left as it is.
    assert_eq!(report.head_blocks, 9);
    assert_eq!(report.compactions, 2);
    assert_eq!(report.blocks_compacted, 6);
    let m = metas(dir.path());
    let ranges: Vec<(i64, i64, u32)> = m
        .iter()
        .map(|m| (m.min_time / H, m.max_time / H, m.compaction.level))
        .collect();
    assert_eq!(
        ranges,
        [(0, 6, 2), (6, 12, 2), (12, 14, 1), (14, 16, 1), (16, 18, 1)]
    );
    assert_eq!(m[0].compaction.sources.len(), 3);
    assert_eq!(m[0].compaction.parents.len(), 3);
    assert_eq!(m[0].stats.num_samples, 4 * 6 * 240);
    assert_eq!(dump_all(&db), want);
    db.close().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(dump_all(&db), want);
    // Nothing more to do.
    assert_eq!(db.maintain().unwrap().compactions, 0);
}

#[test]
fn an_overlapping_import_is_merged_first() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), options()).unwrap();
        fill(&db, 3, 8 * H);
        db.maintain().unwrap();
        db.close().unwrap();
    }
    import_overlapping(dir.path(), 2, 2 * H, 4 * H);
    let db = Db::open(dir.path(), options()).unwrap();
    let want = dump_all(&db);
    // Series 0 has both its own and the imported samples.
    assert_eq!(want[0].1.len(), 8 * 240 + 2 * 240);
    let report = db.maintain().unwrap();
    assert!(report.compactions >= 1, "{report:?}");
    let m = metas(dir.path());
    assert!(
        m.windows(2).all(|w| w[0].max_time <= w[1].min_time),
        "no overlap left: {m:?}"
    );
    assert_eq!(dump_all(&db), want);
    db.close().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(dump_all(&db), want);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_name() != "lock" {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn spawn_child(dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "compaction_child", "--nocapture"])
        .env("TIDEMARK_COMPACT_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start child")
}

/// Waits for the child's "ready" line; returns the moment it was read.
fn wait_ready(child: &mut std::process::Child) -> BufReader<std::process::ChildStdout> {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
        if line.trim() == "ready" {
            return out;
        }
    }
}

#[test]
fn sigkill_during_compaction_leaves_one_consistent_view() {
    let base = tempfile::tempdir().unwrap();
    let pristine = base.path().join("pristine");
    fs::create_dir_all(&pristine).unwrap();
    // Nine level-1 blocks of 2h, as head cuts leave them, and an import over one.
    for w in 0..9 {
        write_block_of(&pristine, 150, w * 2 * H, (w + 1) * 2 * H);
    }
    import_overlapping(&pristine, 50, 12 * H, 14 * H);
    let want = {
        let db = Db::open(&pristine, options()).unwrap();
        dump_all(&db)
    };
    assert_eq!(want.len(), 150);

    // One uninterrupted run: how long a full pass takes after the open.
    let full = base.path().join("full");
    copy_dir(&pristine, &full);
    let mut child = spawn_child(&full);
    let mut out = wait_ready(&mut child);
    let started = Instant::now();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    let took = started.elapsed();
    let blocks_after = metas(&full).len();
    eprintln!("a full pass takes {took:?} and leaves {blocks_after} blocks");

    let mut rng = fastrand::Rng::with_seed(11);
    let rounds = 24;
    for round in 0..rounds {
        let work: PathBuf = base.path().join(format!("round-{round}"));
        copy_dir(&pristine, &work);
        let mut child = spawn_child(&work);
        let _out = wait_ready(&mut child);
        let delay = took.mul_f64(rng.f64() * 1.1);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let db = Db::open(&work, options()).expect("opens after the kill");
        assert!(db.open_report().damaged_blocks.is_empty(), "round {round}");
        assert_eq!(
            dump_all(&db),
            want,
            "round {round} (killed after {delay:?})"
        );
        // Finishing the interrupted work gives the same blocks as the full run.
        db.maintain().expect("maintain after the kill");
        assert_eq!(dump_all(&db), want, "round {round}, finished");
        drop(db);
        let leftovers: Vec<_> = fs::read_dir(&work)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp") || n.ends_with(".tmp-for-deletion"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
        assert_eq!(metas(&work).len(), blocks_after, "round {round}");
        fs::remove_dir_all(&work).unwrap();
    }
}

/// The child side of `sigkill_during_compaction_leaves_one_consistent_view`.
#[test]
#[ignore = "child process of sigkill_during_compaction_leaves_one_consistent_view"]
fn compaction_child() {
    let dir = std::env::var("TIDEMARK_COMPACT_DIR").expect("run by the crash test only");
    let db = Db::open(&dir, options()).expect("open");
    println!("ready");
    let report = db.maintain().expect("maintain");
    println!("done {report:?}");
}
