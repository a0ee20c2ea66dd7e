//! Chunk codecs. Throughput is in samples, so the reports read as time per sample.
//!
//! `xor/*`: the XOR codec on 120-sample chunks (the head's chunk size), two
//! shapes: a regular counter (15 s scrape interval, small integer increments),
//! which compresses best, and a random gauge (arbitrary floats, jittered
//! timestamps), which exercises the wide value windows.
//!
//! `block/*`: chunks of [`BLOCK_CHUNK_SAMPLES`] written in one go by `encode`
//! (which picks the encoding) and read by `ChunkIter`, beside the same samples as
//! an XOR chunk read by `ChunkIter`, for the shapes of `gen_openmetrics.py`:
//! integer counters, 1/100 s tick counters, full-precision float counters, byte
//! gauges, 0/1 status gauges, all with 0–4 ms timestamp jitter on 30 % of samples.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tidemark::tsdb::chunk::{
    BLOCK_CHUNK_SAMPLES, ChunkIter, Encoding, XorAppender, XorIter, encode as encode_any,
};

const SAMPLES: usize = 120;

fn counter() -> Vec<(i64, f64)> {
    // Fixed seeds, so the bench is reproducible.
    let mut rng = fastrand::Rng::with_seed(1);
    let (mut t, mut v) = (1_700_000_000_000i64, 0.0);
    (0..SAMPLES)
        .map(|_| {
            let s = (t, v);
            t += 15_000;
            v += rng.u64(..10) as f64;
            s
        })
        .collect()
}

fn gauge() -> Vec<(i64, f64)> {
    let mut rng = fastrand::Rng::with_seed(2);
    let mut t = 1_700_000_000_000i64;
    (0..SAMPLES)
        .map(|_| {
            let v = rng.f64() * 1000.0;
            let s = (t, v);
            t += 15_000 + rng.i64(-100..100);
            s
        })
        .collect()
}

fn encode(samples: &[(i64, f64)]) -> XorAppender {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, v);
    }
    app
}

fn bench_xor(c: &mut Criterion) {
    for (name, samples) in [("counter", counter()), ("gauge", gauge())] {
        let chunk = encode(&samples).into_bytes();
        let mut group = c.benchmark_group(format!("xor/{name}"));
        group.throughput(Throughput::Elements(SAMPLES as u64));
        group.bench_function("encode", |b| {
            b.iter(|| encode(black_box(&samples)).into_bytes())
        });
        group.bench_function("decode", |b| {
            let mut it = XorIter::new(chunk.as_slice());
            b.iter(|| {
                it.reset(black_box(chunk.as_slice()));
                let mut sum = 0.0;
                for (t, v) in it.by_ref() {
                    sum += v + t as f64;
                }
                sum
            })
        });
        group.finish();
        eprintln!(
            "xor/{name}: {} bytes for {SAMPLES} samples ({:.2} bytes/sample)",
            chunk.len(),
            chunk.len() as f64 / SAMPLES as f64
        );
    }
}

/// Scrape timestamps: 15 s apart, 30 % of them a few milliseconds late.
fn scrape_times(rng: &mut fastrand::Rng) -> Vec<i64> {
    (0..BLOCK_CHUNK_SAMPLES as i64)
        .map(|i| {
            let jitter = if rng.f64() < 0.3 { rng.i64(0..=4) } else { 0 };
            1_767_225_600_000 + i * 15_000 + jitter
        })
        .collect()
}

/// The next value of a series from the previous one.
type Step = fn(&mut fastrand::Rng, f64) -> f64;

/// The value shapes of `gen_openmetrics.py`, one series each.
fn block_shapes() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let mut rng = fastrand::Rng::with_seed(3);
    let mut shape = |name, step: Step, start| {
        let times = scrape_times(&mut rng);
        let mut v = start;
        let samples = times
            .into_iter()
            .map(|t| {
                v = step(&mut rng, v);
                (t, v)
            })
            .collect();
        (name, samples)
    };
    vec![
        shape(
            "counter",
            |rng, v| v + (-(1.0 - rng.f64()).ln() * 150.0).floor(),
            123_456.0,
        ),
        shape(
            "ticks",
            |rng, v| ((v + rng.u32(0..=150) as f64 / 100.0) * 100.0).round() / 100.0,
            512_345.67,
        ),
        shape("fcounter", |rng, v| v + rng.f64() * 1.5, 54_321.123_456_789),
        shape(
            "bytes",
            |rng, v| {
                let noise = (rng.f64() - 0.5) * v * 0.004;
                ((v + noise) / 4096.0).floor() * 4096.0
            },
            5e9,
        ),
        shape(
            "status",
            |rng, v| if rng.f64() < 0.001 { 1.0 - v } else { v },
            1.0,
        ),
    ]
}

fn decode_all(enc: Encoding, chunk: &[u8]) -> f64 {
    let mut sum = 0.0;
    for (t, v) in ChunkIter::new(enc, chunk) {
        sum += v + t as f64;
    }
    sum
}

fn bench_block(c: &mut Criterion) {
    for (name, samples) in block_shapes() {
        let mut chunk = Vec::new();
        let enc = encode_any(&samples, &mut chunk);
        let xor = encode(&samples).into_bytes();
        let mut group = c.benchmark_group(format!("block/{name}"));
        group.throughput(Throughput::Elements(samples.len() as u64));
        group.bench_function("encode", |b| {
            let mut out = Vec::new();
            b.iter(|| encode_any(black_box(&samples), &mut out))
        });
        group.bench_function(format!("decode_{enc:?}").to_lowercase(), |b| {
            b.iter(|| decode_all(enc, black_box(&chunk)))
        });
        group.bench_function("decode_xor", |b| {
            b.iter(|| decode_all(Encoding::Xor, black_box(&xor)))
        });
        group.finish();
        eprintln!(
            "block/{name}: {enc:?} {} bytes, XOR {} bytes, for {} samples ({:.2} vs {:.2} bytes/sample)",
            chunk.len(),
            xor.len(),
            samples.len(),
            chunk.len() as f64 / samples.len() as f64,
            xor.len() as f64 / samples.len() as f64,
        );
    }
}

criterion_group!(benches, bench_xor, bench_block);
criterion_main!(benches);
