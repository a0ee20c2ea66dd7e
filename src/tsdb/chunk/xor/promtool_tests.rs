//! Byte identity with Prometheus's own encoder.
//!
//! `promtool tsdb create-blocks-from openmetrics` turns samples we generate into
//! blocks; every chunk in those blocks must decode to exactly our samples and
//! re-encode, through [`XorAppender`], to the same bytes. Skips with a notice when
//! `promtool` is not installed, unless `TIDEMARK_REQUIRE_EXTERNAL=1`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::model::varint::uvarint;
use crate::tsdb::chunk::Encoding;

/// What Go's `strconv.ParseFloat("NaN")` (Prometheus's `math.NaN()`) yields.
const GO_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// Series of scrape-like and deliberately awkward samples (a fixed seed: the same
/// input on every run).
fn generate() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let base = 1_700_000_000_000i64;
    let mut series = Vec::new();

    let (mut t, mut v, mut s) = (base, 0.0, Vec::new());
    for _ in 0..1500 {
        s.push((t, v));
        t += 15_000;
        v += rng.u64(..11) as f64;
    }
    series.push(("counter", s));

    let (mut t, mut s) = (base, Vec::new());
    for _ in 0..1500 {
        s.push((t, rng.f64() * 200.0 - 100.0));
        t += 15_000 + rng.i64(-800..=800);
    }
    series.push(("gauge", s));

    // Gaps and values that hit every dod bucket and value case.
    let gaps = [
        1, 2, 10, 1000, 9000, 15_000, 70_000, 300_000, 600_000, 1_800_000,
    ];
    let specials = [
        1.0,
        2.0,
        0.5,
        -0.0,
        0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        5e-324,
    ];
    let (mut t, mut s) = (base, Vec::new());
    for _ in 0..2000 {
        let i = rng.usize(..specials.len() + 1);
        s.push((t, specials.get(i).copied().unwrap_or_else(|| rng.f64())));
        t += gaps[rng.usize(..gaps.len())];
    }
    series.push(("wild", s));

    let (mut t, mut v, mut s) = (base, 0.1, Vec::new());
    for _ in 0..1000 {
        if rng.u64(..10) < 3 {
            v += 0.1;
        }
        s.push((t, v));
        t += [15_000, 15_001, 14_999, 30_000][rng.usize(..4)];
    }
    series.push(("steps", s));
    series
}

fn openmetrics(series: &[(&str, Vec<(i64, f64)>)]) -> String {
    let mut out = String::from("# TYPE m gauge\n");
    for (name, samples) in series {
        for &(t, v) in samples {
            let v = if v.is_nan() {
                "NaN".to_string()
            } else if v.is_infinite() {
                if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
            } else {
                format!("{v:?}")
            };
            let _ = writeln!(out, "m{{s=\"{name}\"}} {v} {}.{:03}", t / 1000, t % 1000);
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The chunks of one segment file of a Prometheus block: magic, version, padding,
/// then `len uvarint · encoding · data · crc32c` records.
fn segment_chunks(path: &Path) -> Vec<(u8, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    assert_eq!(&data[..5], &[0x85, 0xbd, 0x40, 0xdd, 0x01], "{path:?}");
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < data.len() {
        let len = uvarint(&data, &mut pos).expect("chunk length") as usize;
        let encoding = data[pos];
        out.push((encoding, data[pos + 1..pos + 1 + len].to_vec()));
        pos += 1 + len + 4;
    }
    out
}

fn external_required() -> bool {
    std::env::var_os("TIDEMARK_REQUIRE_EXTERNAL").is_some_and(|v| v == "1")
}

#[test]
fn chunks_written_by_promtool_reencode_identically() {
    if Command::new("promtool").arg("--version").output().is_err() {
        assert!(
            !external_required(),
            "promtool not found and TIDEMARK_REQUIRE_EXTERNAL=1"
        );
        eprintln!(
            "NOTICE: promtool not found; skipping the XOR byte-identity check against Prometheus"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.om");
    let blocks = dir.path().join("blocks");
    let series = generate();
    std::fs::write(&input, openmetrics(&series)).unwrap();
    let status = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(&blocks)
        .status()
        .unwrap();
    assert!(status.success(), "promtool failed: {status}");

    let mut segments = Vec::new();
    for block in std::fs::read_dir(&blocks).unwrap() {
        let chunks_dir = block.unwrap().path().join("chunks");
        for seg in std::fs::read_dir(chunks_dir).unwrap() {
            segments.push(seg.unwrap().path());
        }
    }
    segments.sort();

    let (mut identical, mut v2_padded) = (0, 0);
    let mut decoded = Vec::new();
    for seg in &segments {
        for (encoding, chunk) in segment_chunks(seg) {
            assert_eq!(Encoding::try_from(encoding), Ok(Encoding::Xor));
            let mut it = XorIter::new(chunk.as_slice());
            let samples: Vec<(i64, f64)> = it.by_ref().collect();
            assert_eq!(it.err(), None, "{seg:?}");
            let mut app = XorAppender::new();
            for &(t, v) in &samples {
                app.append(t, v);
            }
            let ours = app.bytes();
            if ours == chunk.as_slice() {
                identical += 1;
            } else {
                // Prometheus 2.x (fixed in 3.0) left an empty byte after a stream
                // that ended exactly on a byte boundary.
                let mut it = XorIter::new(ours);
                for _ in it.by_ref() {}
                assert!(
                    it.dec.r.bit_pos() == ours.len() * 8
                        && chunk.len() == ours.len() + 1
                        && chunk.starts_with(ours)
                        && chunk.last() == Some(&0),
                    "chunk in {seg:?} differs:\n prometheus {chunk:02x?}\n tidemark   {ours:02x?}"
                );
                v2_padded += 1;
            }
            decoded.extend(samples.iter().map(|&(t, v)| (t, v.to_bits())));
        }
    }
    let mut expected: Vec<(i64, u64)> = series
        .iter()
        .flat_map(|(_, s)| s.iter())
        .map(|&(t, v)| (t, if v.is_nan() { GO_NAN_BITS } else { v.to_bits() }))
        .collect();
    expected.sort_unstable();
    decoded.sort_unstable();
    assert_eq!(decoded, expected);
    assert!(identical > 0);
    eprintln!("{identical} chunks identical, {v2_padded} with the Prometheus 2.x padding byte");
}
