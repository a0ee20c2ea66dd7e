//! Crash test: a child process appends and commits as fast as it can and is killed
//! with SIGKILL at random moments, many times. After every kill the data directory
//! must open, and every sample whose commit returned before the kill must be there
//! (the durability promise of docs/format/wal.md: a returned commit survives a
//! crash of the process).
//!
//! The child is this same test binary, started with `--ignored --exact
//! crash_child_writer` and the data directory in `TIDEMARK_CRASH_DIR`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tidemark::model::{Labels, Matcher};
use tidemark::tsdb::{Db, Options};

const SERIES: usize = 10;
const KILLS: usize = 40;

fn options() -> Options {
    Options {
        // Small segments so that kills also land around segment cuts.
        wal_segment_size: 4 * 32 * 1024,
        ..Options::default()
    }
}

fn labels(i: usize) -> Labels {
    Labels::new([
        ("__name__", "crash_test".to_string()),
        ("series", i.to_string()),
    ])
    .expect("valid labels")
}

fn value(series: usize, t: i64) -> f64 {
    (series as i64 * 1_000_000_000 + t) as f64
}

/// Newest timestamp stored for each series, checking that every series holds
/// exactly the samples 1..=newest with the expected values.
fn check_contiguous(dir: &Path) -> Vec<i64> {
    let db = Db::open(dir, options()).expect("data directory opens after a crash");
    let q = db.querier(i64::MIN, i64::MAX);
    let mut newest = vec![0; SERIES];
    for series in q
        .select(&[Matcher::equal("__name__", "crash_test")])
        .expect("select")
    {
        let idx: usize = series
            .labels()
            .get("series")
            .expect("label")
            .parse()
            .expect("number");
        let mut expect_t = 1;
        let mut it = series.iter();
        for s in it.by_ref() {
            assert_eq!(
                s.t, expect_t,
                "series {idx}: gap or reorder in stored samples"
            );
            assert_eq!(
                s.v,
                value(idx, s.t),
                "series {idx}: wrong value at t={}",
                s.t
            );
            expect_t += 1;
        }
        assert!(it.err().is_none(), "series {idx}: {:?}", it.err());
        newest[idx] = expect_t - 1;
    }
    db.close().expect("close");
    newest
}

#[test]
fn commits_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A fixed seed: the same kill schedule (and child seeds) on every run.
    let mut rng = fastrand::Rng::with_seed(0x5eed_1234_abcd_0042);
    let mut acked_total = 0;
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TIDEMARK_CRASH_DIR", dir.path())
            .env("TIDEMARK_CRASH_SEED", rng.u64(..).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut acked = 0i64;
            let mut started = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest prints "test crash_child_writer ... " on the same line.
                if line.ends_with("ready") {
                    started = true;
                    let _ = ready_tx.send(());
                } else if let Some(t) = line.strip_prefix("acked ") {
                    acked = t.parse().expect("acked timestamp");
                }
            }
            (started, acked)
        });
        // One round in eight kills at a random moment from the start, which can
        // fall during WAL replay; the others let the child open and then write for
        // a random while.
        if rng.u64(..8) != 0 {
            let _ = ready_rx.recv_timeout(Duration::from_secs(60));
        }
        std::thread::sleep(Duration::from_millis(rng.u64(..150)));
        child.kill().expect("SIGKILL child");
        child.wait().expect("reap child");
        let (started, acked) = reader.join().expect("reader thread");
        let newest = check_contiguous(dir.path());
        for (i, &n) in newest.iter().enumerate() {
            assert!(
                n >= acked,
                "round {round}: series {i} ends at t={n}, but the commit of t={acked} had returned"
            );
        }
        if started {
            acked_total += 1;
        }
    }
    // Most rounds must have got as far as writing, or the test proves little.
    assert!(
        acked_total >= KILLS / 2,
        "only {acked_total} of {KILLS} children started writing"
    );
    eprintln!("{acked_total} of {KILLS} children were killed while writing");
}

/// The child side of `commits_survive_sigkill`; does nothing useful on its own.
#[test]
#[ignore = "child process of commits_survive_sigkill, started by it"]
fn crash_child_writer() {
    let dir = std::env::var("TIDEMARK_CRASH_DIR").expect("run by commits_survive_sigkill only");
    let mut rng = fastrand::Rng::with_seed(
        std::env::var("TIDEMARK_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(7),
    );
    let db = Db::open(&dir, options()).expect("open");
    // Resume after the newest sample of series 0 (all series advance together,
    // but a torn commit can leave them uneven: resume after the newest of all).
    let q = db.querier(i64::MIN, i64::MAX);
    let mut newest = [0i64; SERIES];
    for s in q
        .select(&[Matcher::equal("__name__", "crash_test")])
        .expect("select")
    {
        let idx: usize = s
            .labels()
            .get("series")
            .expect("label")
            .parse()
            .expect("number");
        newest[idx] = s.iter().last().map_or(0, |s| s.t);
    }
    let mut app = db.appender();
    let all: Vec<Labels> = (0..SERIES).map(labels).collect();
    println!("ready");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        // Commits of 1 to 64 samples per series, now and then a big one that spans
        // several WAL pages.
        let per_series: i64 = if rng.u64(..50) == 0 {
            600
        } else {
            rng.i64(1..=64)
        };
        let mut top = 0;
        for (i, l) in all.iter().enumerate() {
            for _ in 0..per_series {
                newest[i] += 1;
                app.append(l, newest[i], value(i, newest[i]))
                    .expect("append");
            }
            top = top.max(newest[i]);
        }
        app.commit().expect("commit");
        // Every series is now at least at the minimum of `newest`.
        let acked = newest.iter().copied().min().unwrap_or(top);
        println!("acked {acked}");
        // Pause now and then, so the data (and the replay time of later rounds)
        // stays moderate while kills still land inside writes.
        if rng.bool() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
