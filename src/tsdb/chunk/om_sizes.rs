//! Chunk sizes on a real OpenMetrics file: the figures in `docs/benchmarks.md`
//! ("Chunk encodings"). Ignored by default (it reads a 1.9 GB file); run with
//!
//! ```sh
//! TIDEMARK_OM=../bench-data/w2h.om cargo test --release --lib \
//!     tsdb::chunk::om_sizes -- --ignored --nocapture
//! ```
//!
//! The file is what `../shared/bench/gen_openmetrics.py --hours 2` writes: lines
//! `name{labels} value timestamp`, grouped by series, each series in time order.

use std::io::BufRead;
use std::time::{Duration, Instant};

use super::any::{BLOCK_CHUNK_SAMPLES, ChunkIter, encode};
use super::encoding::Encoding;
use crate::model::varint::uvarint_len;

/// Chunk sizes tried, besides [`BLOCK_CHUNK_SAMPLES`].
const SIZES: [usize; 3] = [120, 240, 480];

#[derive(Default)]
struct Totals {
    samples: u64,
    chunks: u64,
    bytes: u64,
    /// Bytes of the stored record around each chunk (length, encoding, CRC).
    framed: u64,
    xor_only: u64,
    /// Chunks and bytes per encoding: XOR, delta.
    by_encoding: [(u64, u64, u64); 2],
    encode_time: Duration,
    decode_time: Duration,
}

impl Totals {
    fn add(&mut self, samples: &[(i64, f64)], buf: &mut Vec<u8>) {
        let start = Instant::now();
        let enc = encode(samples, buf);
        self.encode_time += start.elapsed();
        let start = Instant::now();
        let mut it = ChunkIter::new(enc, buf.as_slice());
        let mut n = 0;
        for (i, (t, v)) in it.by_ref().enumerate() {
            assert_eq!(t, samples[i].0);
            assert_eq!(v.to_bits(), samples[i].1.to_bits());
            n += 1;
        }
        self.decode_time += start.elapsed();
        assert_eq!((n, it.err()), (samples.len(), None));
        let len = buf.len() as u64;
        self.samples += samples.len() as u64;
        self.chunks += 1;
        self.bytes += len;
        self.framed += uvarint_len(len) as u64 + 1 + len + 4;
        let slot = &mut self.by_encoding[usize::from(enc == Encoding::Delta)];
        slot.0 += 1;
        slot.1 += samples.len() as u64;
        slot.2 += len;
        let mut app = super::xor::XorAppender::new();
        for &(t, v) in samples {
            app.append(t, v);
        }
        self.xor_only += app.bytes().len() as u64;
    }

    fn print(&self, n: usize) {
        let per = |b: u64, s: u64| b as f64 / s.max(1) as f64;
        println!(
            "N={n:4}: {} samples, {} chunks, {:.3} bytes/sample ({:.3} framed), XOR alone {:.3}; \
             encode {:.0} ns/sample, decode {:.1} ns/sample",
            self.samples,
            self.chunks,
            per(self.bytes, self.samples),
            per(self.framed, self.samples),
            per(self.xor_only, self.samples),
            self.encode_time.as_nanos() as f64 / self.samples as f64,
            self.decode_time.as_nanos() as f64 / self.samples as f64,
        );
        for (name, (chunks, samples, bytes)) in ["xor", "delta"].iter().zip(self.by_encoding) {
            println!(
                "        {name:5}: {chunks} chunks, {samples} samples, {:.3} bytes/sample",
                per(bytes, samples)
            );
        }
    }
}

/// `(prefix, t, v)` of a sample line: the series (name and labels), the
/// timestamp in milliseconds (parsed as a decimal, no float rounding) and the
/// value.
fn parse_line(line: &str) -> Option<(&str, i64, f64)> {
    let (rest, ts) = line.rsplit_once(' ')?;
    let (series, value) = rest.rsplit_once(' ')?;
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let mut ms: i64 = secs.parse::<i64>().ok()? * 1000;
    let frac = format!("{frac:0<3}");
    ms += frac.get(..3)?.parse::<i64>().ok()?;
    Some((series, ms, value.parse().ok()?))
}

#[test]
#[ignore = "reads a large OpenMetrics file; see the module docs"]
fn chunk_bytes_per_sample_on_openmetrics_file() {
    let path = std::env::var("TIDEMARK_OM").unwrap_or_else(|_| "../bench-data/w2h.om".into());
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("skipping: cannot open {path} ({e}); set TIDEMARK_OM");
            return;
        }
    };
    let mut sizes: Vec<usize> = SIZES.to_vec();
    if !sizes.contains(&BLOCK_CHUNK_SAMPLES) {
        sizes.push(BLOCK_CHUNK_SAMPLES);
    }
    let mut totals: Vec<Totals> = sizes.iter().map(|_| Totals::default()).collect();
    let mut buf = Vec::new();
    let mut flush = |series: &mut Vec<(i64, f64)>, totals: &mut Vec<Totals>| {
        for (n, tot) in sizes.iter().zip(totals.iter_mut()) {
            for chunk in series.chunks(*n) {
                tot.add(chunk, &mut buf);
            }
        }
        series.clear();
    };
    let mut current = String::new();
    let mut series = Vec::new();
    for line in std::io::BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.expect("readable file");
        if line.starts_with('#') {
            continue;
        }
        let (prefix, t, v) = parse_line(&line).expect("a sample line");
        if prefix != current {
            flush(&mut series, &mut totals);
            current = prefix.to_owned();
        }
        series.push((t, v));
    }
    flush(&mut series, &mut totals);
    for (n, tot) in sizes.iter().zip(&totals) {
        tot.print(*n);
    }
}
