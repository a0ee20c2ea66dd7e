//! Backfill from OpenMetrics (`tidemark::import`, `tidemark import
//! openmetrics`): the blocks hold exactly the samples of the file, window by
//! window; bad lines are reported with their numbers and skipped, or stop the
//! import under `--strict`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use tidemark::import::{
    BadLine, ImportError, ImportObserver, ImportOptions, ImportReport, import_openmetrics,
};
use tidemark::model::Labels;
use tidemark::tsdb::block::{Block, BlockMeta};
use tidemark::tsdb::chunk::{self, ChunkIter, Encoding};
use tidemark::tsdb::fs::{Access, real};

const HOUR: i64 = 3_600_000;
/// 2026-01-01T00:00:00Z, a multiple of 2h.
const T0: i64 = 1_767_225_600_000;

/// Samples by (window start, labels), in order.
type Model = BTreeMap<(i64, Labels), Vec<(i64, f64)>>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().map(|&(n, v)| (n, v))).unwrap()
}

fn record(model: &mut Model, l: &Labels, t: i64, v: f64) {
    let window = t.div_euclid(2 * HOUR) * 2 * HOUR;
    model.entry((window, l.clone())).or_default().push((t, v));
}

fn om_time(t: i64) -> String {
    format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
}

/// An OpenMetrics file of several families over 7 hours (4 windows from a
/// window's middle), one series split in two runs far apart, and its model.
fn sample_file() -> (String, Model) {
    let mut text = String::new();
    let mut model = Model::new();
    let start = T0 + HOUR;
    let end = T0 + 8 * HOUR;
    text.push_str("# HELP http_requests Requests.\n# TYPE http_requests counter\n");
    let mut rng = 1u64;
    for (code, step) in [("200", 15_000), ("500", 60_000)] {
        let l = labels(&[
            ("__name__", "http_requests_total"),
            ("code", code),
            ("job", "api"),
        ]);
        let mut v = 0.0;
        let mut t = start;
        while t < end {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v += (rng >> 40) as f64 % 7.0;
            writeln!(
                text,
                "http_requests_total{{code=\"{code}\",job=\"api\"}} {v} {}",
                om_time(t)
            )
            .unwrap();
            record(&mut model, &l, t, v);
            t += step;
        }
        // A `_created` line: stored as a series, as promtool stores it.
        let c = labels(&[
            ("__name__", "http_requests_created"),
            ("code", code),
            ("job", "api"),
        ]);
        writeln!(
            text,
            "http_requests_created{{code=\"{code}\",job=\"api\"}} 1767000000 {}",
            om_time(start)
        )
        .unwrap();
        record(&mut model, &c, start, 1_767_000_000.0);
    }
    // A histogram: `le` values read as floats.
    text.push_str("# TYPE latency histogram\n");
    for (le, le_stored) in [("0.5", "0.5"), ("1", "1.0"), ("+Inf", "+Inf")] {
        let l = labels(&[("__name__", "latency_bucket"), ("le", le_stored)]);
        let mut t = start + 7;
        let mut k = 0.0;
        while t < end {
            k += 1.0;
            writeln!(
                text,
                "latency_bucket{{le=\"{le}\"}} {k} {} # {{trace_id=\"abc\"}} 0.3",
                om_time(t)
            )
            .unwrap();
            record(&mut model, &l, t, k);
            t += 30_000;
        }
    }
    // A gauge whose series comes back later in the file.
    text.push_str("# TYPE temp_celsius gauge\n# UNIT temp_celsius celsius\n");
    let hot = labels(&[("__name__", "temp_celsius"), ("room", "a")]);
    let cold = labels(&[("__name__", "temp_celsius"), ("room", "b")]);
    let mid = start + 3 * HOUR + 1234;
    let gauge = |text: &mut String, model: &mut Model, l: &Labels, from: i64, to: i64| {
        let mut t = from;
        while t < to {
            let v = ((t / 1000) % 997) as f64 / 10.0 - 20.0;
            writeln!(
                text,
                "temp_celsius{{room=\"{}\"}} {v} {}",
                l.get("room").unwrap(),
                om_time(t)
            )
            .unwrap();
            record(model, l, t, v);
            t += 10_000;
        }
    };
    gauge(&mut text, &mut model, &hot, start, mid);
    gauge(&mut text, &mut model, &cold, start, end);
    gauge(&mut text, &mut model, &hot, mid, end);
    text.push_str("# EOF\n");
    (text, model)
}

#[derive(Default)]
struct Seen {
    bad: Vec<BadLine>,
    blocks: Vec<BlockMeta>,
    last_progress: u64,
}

impl ImportObserver for Seen {
    fn progress(&mut self, bytes: u64) {
        assert!(bytes >= self.last_progress);
        self.last_progress = bytes;
    }
    fn bad_line(&mut self, bad: &BadLine) {
        self.bad.push(bad.clone());
    }
    fn block_written(&mut self, meta: &BlockMeta) {
        self.blocks.push(meta.clone());
    }
}

fn import(
    text: &str,
    dir: &Path,
    options: ImportOptions,
) -> (Result<ImportReport, ImportError>, Seen) {
    let file = dir.join("in.om");
    fs::write(&file, text).unwrap();
    let mut seen = Seen::default();
    let r = import_openmetrics(&file, &dir.join("data"), &options, &mut seen);
    (r, seen)
}

/// Every block under `data` read back: samples by (window, labels).
fn read_back(data: &Path) -> Model {
    let mut got = Model::new();
    for entry in fs::read_dir(data).unwrap() {
        let dir = entry.unwrap().path();
        let block = Block::open(&real(), &dir, Access::Mmap).unwrap();
        let meta = block.meta().clone();
        assert_eq!(meta.max_time - meta.min_time, 2 * HOUR);
        assert_eq!(meta.min_time.rem_euclid(2 * HOUR), 0);
        let mut samples = 0;
        for (labels, chunks) in block.select(&[]).unwrap() {
            let out = got.entry((meta.min_time, labels.clone())).or_default();
            for c in chunks {
                let (enc, bytes) = block.chunk(c.chunk_ref).unwrap();
                let mut it = ChunkIter::new(Encoding::try_from(enc).unwrap(), &*bytes);
                let s: Vec<(i64, f64)> = it.by_ref().collect();
                assert!(it.err().is_none());
                assert!(
                    s.len() <= chunk::BLOCK_CHUNK_SAMPLES,
                    "{labels}: chunk of {}",
                    s.len()
                );
                assert_eq!((s[0].0, s[s.len() - 1].0), (c.min_time, c.max_time));
                assert!(c.min_time >= meta.min_time && c.max_time < meta.max_time);
                samples += s.len() as u64;
                out.extend(s);
            }
        }
        assert_eq!(samples, meta.stats.num_samples);
    }
    got
}

#[test]
fn every_sample_lands_in_its_window_block() {
    let (text, model) = sample_file();
    let total: usize = model.values().map(Vec::len).sum();
    // Small pieces too: lines and series cross piece boundaries.
    for piece_bytes in [ImportOptions::default().piece_bytes, 4096, 333] {
        let tmp = tempfile::tempdir().unwrap();
        let options = ImportOptions {
            piece_bytes,
            ..ImportOptions::default()
        };
        let (r, seen) = import(&text, tmp.path(), options);
        let report = r.unwrap();
        assert!(seen.bad.is_empty(), "{:?}", seen.bad);
        assert_eq!(report.samples, total as u64);
        assert_eq!(report.bad_lines, 0);
        assert_eq!(report.bytes, text.len() as u64);
        assert_eq!(seen.last_progress, text.len() as u64);
        // 1h..8h from a window start: windows at 0, 2h, 4h, 6h.
        let starts: Vec<i64> = report.blocks.iter().map(|b| b.min_time - T0).collect();
        assert_eq!(starts, vec![0, 2 * HOUR, 4 * HOUR, 6 * HOUR]);
        assert_eq!(seen.blocks, report.blocks);
        let got = read_back(&tmp.path().join("data"));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            model.keys().collect::<Vec<_>>()
        );
        for (k, want) in &model {
            assert_eq!(&got[k], want, "{k:?}");
        }
    }
}

#[test]
fn longer_max_block_duration_gives_6h_windows() {
    let (text, model) = sample_file();
    let tmp = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        max_block_duration: 10 * HOUR,
        ..ImportOptions::default()
    };
    let (r, _) = import(&text, tmp.path(), options);
    let report = r.unwrap();
    let ranges: Vec<(i64, i64)> = report
        .blocks
        .iter()
        .map(|b| (b.min_time - T0, b.max_time - T0))
        .collect();
    assert_eq!(ranges, vec![(0, 6 * HOUR), (6 * HOUR, 12 * HOUR)]);
    let total: usize = model.values().map(Vec::len).sum();
    assert_eq!(report.samples, total as u64);
}

const BAD: &str = "\
# TYPE a gauge
a{x=\"1\"} 1 1767225600.000
a{x=\"1\"} 2 1767225615.000
a{x=\"1\" 3 1767225630.000
a{x=\"1\"} 4
a{x=\"2\"} 5 1767225600.000
a{x=\"1\"} 6 1767225610.000
a{x=\"1\"} 2 1767225615.000
a{x=\"1\"} 7 1767225615.000
a{x=\"1\"} 8 1767225645.000
a{x=\"1\",x=\"3\"} 9 1767225645.000
# EOF
";

#[test]
fn bad_lines_are_reported_with_their_numbers_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let (r, seen) = import(BAD, tmp.path(), ImportOptions::default());
    let report = r.unwrap();
    let lines: Vec<usize> = seen.bad.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![4, 5, 7, 9, 11], "{:#?}", seen.bad);
    assert_eq!(seen.bad[0].column, Some(8));
    assert!(seen.bad[1].problem.contains("without a timestamp"));
    assert!(
        seen.bad[2].problem.contains("out of order"),
        "{}",
        seen.bad[2]
    );
    assert!(
        seen.bad[3].problem.contains("duplicate sample"),
        "{}",
        seen.bad[3]
    );
    assert!(
        seen.bad[4].problem.contains("duplicate label name"),
        "{}",
        seen.bad[4]
    );
    assert_eq!(report.bad_lines, 5);
    // Line 8 repeats line 3 exactly: dropped quietly.
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.samples, 4);
    let got = read_back(&tmp.path().join("data"));
    let x1 = labels(&[("__name__", "a"), ("x", "1")]);
    assert_eq!(
        got[&(T0, x1)],
        vec![(T0, 1.0), (T0 + 15_000, 2.0), (T0 + 45_000, 8.0)]
    );
}

#[test]
fn strict_stops_at_the_first_bad_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        strict: true,
        ..ImportOptions::default()
    };
    let (r, seen) = import(BAD, tmp.path(), options);
    match r {
        Err(ImportError::Strict { bad, .. }) => assert_eq!(bad.line, 4),
        other => panic!("{other:?}"),
    }
    assert!(seen.blocks.is_empty());
    assert_eq!(fs::read_dir(tmp.path().join("data")).unwrap().count(), 0);
}

#[test]
fn missing_eof_is_a_bad_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (r, seen) = import("a 1 1767225600\n", tmp.path(), ImportOptions::default());
    assert_eq!(r.unwrap().samples, 1);
    assert_eq!(seen.bad.len(), 1);
    assert_eq!(seen.bad[0].line, 2);
    assert!(seen.bad[0].problem.contains("# EOF"), "{}", seen.bad[0]);
}

fn tidemark(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(args)
        .output()
        .expect("run tidemark")
}

#[test]
fn cli_prints_blocks_and_summary() {
    let (text, model) = sample_file();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("in.om");
    fs::write(&file, &text).unwrap();
    let data = tmp.path().join("data");
    let out = tidemark(&[
        "import",
        "openmetrics",
        file.to_str().unwrap(),
        data.to_str().unwrap(),
        "--human-readable",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("BLOCK ULID"), "{stdout}");
    assert!(stdout.contains("2026-01-01T02:00:00.000Z"), "{stdout}");
    let total: usize = model.values().map(Vec::len).sum();
    assert!(
        stdout.contains(&format!("imported {total} samples")),
        "{stdout}"
    );
    assert_eq!(fs::read_dir(&data).unwrap().count(), 4);

    // --quiet: the summary only.
    let data2 = tmp.path().join("data2");
    let out = tidemark(&[
        "import",
        "openmetrics",
        "--quiet",
        file.to_str().unwrap(),
        data2.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        !stdout.contains("BLOCK ULID") && stdout.contains("imported"),
        "{stdout}"
    );
}

#[test]
fn cli_reports_bad_lines_and_strict_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.om");
    fs::write(&file, BAD).unwrap();
    let data = tmp.path().join("data");
    let args = [
        "import",
        "openmetrics",
        file.to_str().unwrap(),
        data.to_str().unwrap(),
    ];
    let out = tidemark(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("line 4, column 8"), "{stderr}");
    assert!(stderr.contains("line 11:"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 bad lines skipped"));

    let data = tmp.path().join("strict");
    let out = tidemark(&[
        "import",
        "openmetrics",
        "--strict",
        file.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("line 4, column 8") && stderr.contains("stopped"),
        "{stderr}"
    );
    assert_eq!(fs::read_dir(&data).unwrap().count(), 0);
}

#[test]
fn lines_after_eof_are_bad_in_any_piece() {
    let text = "a 1 1767225600\n# EOF\na 2 1767225615\na 3 1767225630\n";
    for piece_bytes in [1 << 20, 16, 1] {
        let tmp = tempfile::tempdir().unwrap();
        let options = ImportOptions {
            piece_bytes,
            ..ImportOptions::default()
        };
        let (r, seen) = import(text, tmp.path(), options);
        let report = r.unwrap();
        assert_eq!(report.samples, 1, "{piece_bytes}");
        assert_eq!(report.lines, 4);
        let lines: Vec<usize> = seen.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4], "{piece_bytes}: {:?}", seen.bad);
        assert!(
            seen.bad[0].problem.contains("after \"# EOF\""),
            "{}",
            seen.bad[0]
        );
    }
}
