//! Deleting series (tombstones) end to end inside the storage core: in the head,
//! in blocks, across WAL replay and checkpoints, through compaction and
//! `clean_tombstones`, and snapshots.

use std::path::Path;
use std::sync::Arc;

use crate::model::{Labels, Matcher};
use crate::tsdb::block::{Block, StoredChunk, write_block};
use crate::tsdb::chunk::XorAppender;
use crate::tsdb::compact::run::merge_blocks;
use crate::tsdb::fs::{Access, RealFs, real};
use crate::tsdb::tombstones::{Interval, TOMBSTONES_FILE, Tombstones};
use crate::tsdb::{Db, Options};

const MIN: i64 = 60_000;
const H: i64 = 3_600_000;

fn l(i: &str) -> Labels {
    Labels::new([("__name__", "m"), ("i", i)]).unwrap()
}

fn opts() -> Options {
    Options {
        maintenance_interval: None,
        ..Options::default()
    }
}

/// Series `m{i="0"}` … `m{i="n-1"}`, one sample a minute in `[from, to)`,
/// value = t / MIN.
fn fill(db: &Db, n: usize, from: i64, to: i64) {
    let mut app = db.appender();
    let mut t = from;
    while t < to {
        for i in 0..n {
            app.append(&l(&i.to_string()), t, (t / MIN) as f64).unwrap();
        }
        t += MIN;
    }
    app.commit().unwrap();
}

type Dump = Vec<(String, Vec<i64>)>;

/// Every series with samples in `[mint, maxt]`, with their timestamps.
fn dump(db: &Db, mint: i64, maxt: i64) -> Dump {
    db.querier(mint, maxt)
        .select(&[])
        .unwrap()
        .map(|s| {
            let ts: Vec<i64> = s.iter().map(|x| x.t).collect();
            (s.labels().to_string(), ts)
        })
        .collect()
}

fn minutes(from: i64, to: i64, skip: Interval) -> Vec<i64> {
    (from / MIN..to / MIN)
        .map(|m| m * MIN)
        .filter(|t| !skip.contains(*t))
        .collect()
}

const NONE: Interval = Interval { mint: 1, maxt: 0 };

#[test]
fn head_delete_hides_samples_and_whole_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 3, 0, 60 * MIN);
    let gap = Interval::new(10 * MIN, 20 * MIN);
    db.delete_series(&[Matcher::equal("i", "0")], gap.mint, gap.maxt)
        .unwrap();
    db.delete_series(&[Matcher::equal("i", "2")], i64::MIN, i64::MAX)
        .unwrap();
    let want = vec![
        (r#"m{i="0"}"#.to_owned(), minutes(0, 60 * MIN, gap)),
        (r#"m{i="1"}"#.to_owned(), minutes(0, 60 * MIN, NONE)),
    ];
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
    // A range holding only deleted samples selects nothing of that series.
    assert_eq!(
        dump(&db, 12 * MIN, 18 * MIN)
            .iter()
            .map(|s| s.0.as_str())
            .collect::<Vec<_>>(),
        vec![r#"m{i="1"}"#]
    );
    // Label lookups leave out series whose samples are all deleted.
    let q = db.querier(i64::MIN, i64::MAX);
    assert_eq!(q.label_values("i", &[]).unwrap(), ["0", "1"]);
    assert_eq!(
        q.label_values("i", &[Matcher::equal("__name__", "m")])
            .unwrap(),
        ["0", "1"]
    );
    assert_eq!(
        q.label_names(&[Matcher::equal("i", "2")]).unwrap(),
        Vec::<String>::new()
    );
    // Samples appended after the deletion are not deleted.
    let mut app = db.appender();
    app.append(&l("2"), 61 * MIN, 1.0).unwrap();
    app.commit().unwrap();
    let got = dump(&db, i64::MIN, i64::MAX);
    assert_eq!(got[2], (r#"m{i="2"}"#.to_owned(), vec![61 * MIN]));
    // Seeking into a deleted range lands after it.
    let q = db.querier(0, i64::MAX);
    let s = q
        .select(&[Matcher::equal("i", "0")])
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(s.iter().seek(15 * MIN).map(|x| x.t), Some(21 * MIN));
}

#[test]
fn wal_replay_restores_head_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let gap = Interval::new(5 * MIN, 7 * MIN);
    let before;
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 2, 0, 30 * MIN);
        db.delete_series(&[Matcher::equal("i", "1")], gap.mint, gap.maxt)
            .unwrap();
        db.delete_series(&[Matcher::equal("i", "0")], i64::MIN, i64::MAX)
            .unwrap();
        before = dump(&db, i64::MIN, i64::MAX);
        assert_eq!(
            before,
            vec![(r#"m{i="1"}"#.to_owned(), minutes(0, 30 * MIN, gap))]
        );
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
    // Without a clean close too (the WAL is written at commit).
    let mut app = db.appender();
    app.append(&l("1"), 40 * MIN, 1.0).unwrap();
    app.commit().unwrap();
    db.delete_series(&[Matcher::equal("i", "1")], 40 * MIN, 40 * MIN)
        .unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), before);
}

#[test]
fn head_cut_drops_deleted_samples_and_checkpoint_keeps_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options {
        wal_segment_size: 64 * 1024,
        ..opts()
    };
    // Deleted: one range that goes into a block, one that stays in the head,
    // logged early enough for a checkpoint to fold its record.
    let early = Interval::new(30 * MIN, 60 * MIN);
    let late = Interval::new(10 * H + 5 * MIN, 10 * H + 15 * MIN);
    let want;
    {
        let db = Db::open(dir.path(), o.clone()).unwrap();
        for h in 0..10 {
            fill(&db, 20, h * H, (h + 1) * H);
        }
        fill(&db, 20, 10 * H, 10 * H + 20 * MIN);
        db.delete_series(&[Matcher::equal("i", "3")], early.mint, early.maxt)
            .unwrap();
        db.delete_series(&[Matcher::equal("i", "4")], late.mint, late.maxt)
            .unwrap();
        for k in 0..5 {
            let from = 10 * H + 20 * MIN + k * 20 * MIN;
            fill(&db, 2000, from, from + 20 * MIN);
        }
        want = dump(&db, i64::MIN, i64::MAX);
        let report = db.maintain().unwrap();
        assert!(report.head_blocks >= 5, "{report:?}");
        assert!(report.wal_checkpoints >= 1, "{report:?}");
        assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
        // The blocks were written without the deleted samples: they need no
        // tombstones.
        for b in db.test_blocks() {
            assert!(b.tombstones().is_empty());
            assert!(!b.dir().join(TOMBSTONES_FILE).exists());
        }
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), o).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
    let i3 = &want[want.iter().position(|s| s.0 == r#"m{i="3"}"#).unwrap()].1;
    assert!(!i3.iter().any(|t| early.contains(*t)));
    assert_eq!(i3.len(), 12 * 60 - 31);
    let i4 = &want[want.iter().position(|s| s.0 == r#"m{i="4"}"#).unwrap()].1;
    assert!(!i4.iter().any(|t| late.contains(*t)));
    assert_eq!(i4.len(), 12 * 60 - 11);
}

/// A database with blocks `[0,2h)`, `[2h,4h)`, `[4h,6h)` and the head after.
fn with_blocks(dir: &Path) -> Db {
    let db = Db::open(dir, opts()).unwrap();
    for h in 0..8 {
        fill(&db, 5, h * H, (h + 1) * H);
    }
    db.maintain().unwrap();
    assert_eq!(db.stats().blocks, 3);
    db
}

#[test]
fn block_delete_writes_tombstones_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let gap = Interval::new(H - 5 * MIN, 5 * H);
    let want;
    {
        let db = with_blocks(dir.path());
        db.delete_series(&[Matcher::equal("i", "1")], gap.mint, gap.maxt)
            .unwrap();
        db.delete_series(&[Matcher::equal("i", "4")], i64::MIN, i64::MAX)
            .unwrap();
        want = dump(&db, i64::MIN, i64::MAX);
        assert_eq!(want.len(), 4);
        assert_eq!(want[1].1, minutes(0, 8 * H, gap));
        let blocks = db.test_blocks();
        assert!(
            blocks
                .iter()
                .all(|b| b.dir().join(TOMBSTONES_FILE).exists())
        );
        // In a block fully covered by the deletion, the series is not selected.
        assert_eq!(
            dump(&db, 2 * H, 4 * H - 1)
                .iter()
                .map(|s| s.0.as_str())
                .collect::<Vec<_>>(),
            [r#"m{i="0"}"#, r#"m{i="2"}"#, r#"m{i="3"}"#]
        );
        let q = db.querier(0, 8 * H);
        assert_eq!(q.label_values("i", &[]).unwrap(), ["0", "1", "2", "3"]);
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    assert!(db.open_report().damaged_blocks.is_empty());
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
}

#[test]
fn clean_tombstones_rewrites_blocks_without_deleted_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_blocks(dir.path());
    let before: Vec<_> = db.test_blocks();
    let samples_before: u64 = before.iter().map(|b| b.meta().stats.num_samples).sum();
    // All of [0,2h) for every series: that block goes entirely.
    db.delete_series(&[Matcher::regex("i", ".+").unwrap()], 0, 2 * H - 1)
        .unwrap();
    db.delete_series(&[Matcher::equal("i", "0")], 2 * H, 3 * H - 1)
        .unwrap();
    let want = dump(&db, i64::MIN, i64::MAX);
    assert_eq!(db.clean_tombstones().unwrap(), 2);
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
    let after = db.test_blocks();
    assert_eq!(after.len(), 2);
    for b in &after {
        assert!(b.tombstones().is_empty());
        assert!(b.meta().min_time >= 2 * H);
    }
    let samples_after: u64 = after.iter().map(|b| b.meta().stats.num_samples).sum();
    assert_eq!(samples_before - samples_after, 5 * 120 + 60);
    // The old block directories are gone.
    for b in &before[..2] {
        assert!(!b.dir().exists(), "{}", b.dir().display());
    }
    // Nothing left to clean.
    assert_eq!(db.clean_tombstones().unwrap(), 0);
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(dump(&db, i64::MIN, i64::MAX), want);
}

fn stored(samples: &[(i64, f64)]) -> StoredChunk {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, v);
    }
    StoredChunk {
        min_time: samples[0].0,
        max_time: samples[samples.len() - 1].0,
        encoding: 1,
        data: app.into_bytes(),
    }
}

fn block_samples(b: &Block) -> Vec<(String, Vec<i64>)> {
    let mut out = Vec::new();
    for (labels, chunks) in b.select(&[]).unwrap() {
        let mut ts = Vec::new();
        for c in chunks {
            let (enc, bytes) = b.chunk(c.chunk_ref).unwrap();
            let enc = crate::tsdb::chunk::Encoding::try_from(enc).unwrap();
            ts.extend(crate::tsdb::chunk::ChunkIter::new(enc, bytes).map(|(t, _)| t));
        }
        out.push((labels.to_string(), ts));
    }
    out
}

#[test]
fn compaction_leaves_deleted_samples_out() {
    let dir = tempfile::tempdir().unwrap();
    let run =
        |from: i64| -> Vec<(i64, f64)> { (0..10).map(|k| (from + k * MIN, k as f64)).collect() };
    let a = write_block(
        &real(),
        dir.path(),
        vec![
            (l("0"), vec![stored(&run(0))]),
            (l("1"), vec![stored(&run(0)), stored(&run(20 * MIN))]),
        ],
        0,
        2 * H,
    )
    .unwrap();
    let b = write_block(
        &real(),
        dir.path(),
        vec![(l("1"), vec![stored(&run(2 * H))])],
        2 * H,
        4 * H,
    )
    .unwrap();
    let open = |id: crate::tsdb::block::BlockId| {
        Arc::new(Block::open(&real(), &dir.path().join(id.to_string()), Access::Mmap).unwrap())
    };
    let (a, b) = (open(a.ulid), open(b.ulid));
    // Series 0 entirely; series 1: part of its first chunk and all of its second.
    assert!(
        a.delete(&[Matcher::equal("i", "0")], i64::MIN, i64::MAX)
            .unwrap()
    );
    assert!(
        a.delete(&[Matcher::equal("i", "1")], 3 * MIN, 40 * MIN)
            .unwrap()
    );
    assert!(
        !a.delete(&[Matcher::equal("i", "1")], 3 * MIN, 40 * MIN)
            .unwrap()
    );
    assert!(!a.delete(&[Matcher::equal("i", "1")], 3 * H, 4 * H).unwrap());
    let reread = Tombstones::read_dir(&RealFs, a.dir()).unwrap();
    assert_eq!(reread.len(), 2);
    let meta = merge_blocks(&real(), dir.path(), &[Arc::clone(&a), Arc::clone(&b)])
        .unwrap()
        .unwrap();
    let merged = Block::open(
        &real(),
        &dir.path().join(meta.ulid.to_string()),
        Access::Pread,
    )
    .unwrap();
    let mut want_1: Vec<i64> = vec![0, MIN, 2 * MIN];
    want_1.extend(run(2 * H).iter().map(|s| s.0));
    assert_eq!(
        block_samples(&merged),
        vec![(r#"m{i="1"}"#.to_owned(), want_1)]
    );
    assert_eq!(meta.stats.num_samples, 13);
    assert!(merged.tombstones().is_empty());
    // Everything deleted: nothing is written.
    assert!(b.delete(&[], i64::MIN, i64::MAX).unwrap());
    assert!(merge_blocks(&real(), dir.path(), &[b]).unwrap().is_none());
}

#[test]
fn corrupt_tombstones_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_blocks(dir.path());
    db.delete_series(&[Matcher::equal("i", "1")], 0, H).unwrap();
    let first = db.test_blocks()[0].dir().to_path_buf();
    db.close().unwrap();
    let path = first.join(TOMBSTONES_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = Block::open(&real(), &first, Access::Mmap)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains(&format!("offset {}", n - 4)),
        "{err}"
    );
    // The database opens, reports the block as damaged and leaves it alone.
    let db = Db::open(dir.path(), opts()).unwrap();
    let damaged = &db.open_report().damaged_blocks;
    assert_eq!(damaged.len(), 1);
    assert!(
        damaged[0].contains("tombstones") && damaged[0].contains("checksum"),
        "{damaged:?}"
    );
    // Cut short: an error too, never a panic.
    std::fs::write(&path, &bytes[..3]).unwrap();
    let err = Block::open(&real(), &first, Access::Pread)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tombstones") && err.contains("offset 0"),
        "{err}"
    );
}

#[test]
fn snapshot_opens_as_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = with_blocks(dir.path());
    db.delete_series(&[Matcher::equal("i", "2")], 0, 7 * H)
        .unwrap();
    let want = dump(&db, i64::MIN, i64::MAX);
    let snaps = tempfile::tempdir_in(dir.path()).unwrap();
    let full = snaps.path().join("full");
    let blocks_only = snaps.path().join("blocks");
    // Three blocks, and the head's [6h, 8h) as one more.
    assert_eq!(db.snapshot(&full, true).unwrap(), 4);
    assert_eq!(db.snapshot(&blocks_only, false).unwrap(), 3);
    assert!(db.snapshot(&full, true).is_err());
    // Deleting afterwards does not change the snapshot (its tombstones file is
    // the old one: the new one was renamed over it in the data directory).
    db.delete_series(&[], i64::MIN, i64::MAX).unwrap();
    assert!(dump(&db, i64::MIN, i64::MAX).is_empty());
    db.close().unwrap();

    let snap = Db::open(&full, opts()).unwrap();
    assert!(snap.open_report().damaged_blocks.is_empty());
    assert_eq!(dump(&snap, i64::MIN, i64::MAX), want);
    drop(snap);
    let snap = Db::open(&blocks_only, opts()).unwrap();
    let got = dump(&snap, i64::MIN, i64::MAX);
    let cut: Dump = want
        .iter()
        .map(|(l, ts)| {
            (
                l.clone(),
                ts.iter()
                    .copied()
                    .filter(|&t| t < 6 * H)
                    .collect::<Vec<_>>(),
            )
        })
        // i="2" kept samples only in the head's [7h, 8h), which this snapshot
        // leaves out: a series with nothing in range is not returned at all.
        .filter(|(_, ts)| !ts.is_empty())
        .collect();
    assert_eq!(got, cut);
}
