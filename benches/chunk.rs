//! XOR chunk codec: encode and decode 120-sample chunks (the head's chunk size).
//!
//! Two shapes: a regular counter (15 s scrape interval, small integer increments),
//! which compresses best, and a random gauge (arbitrary floats, jittered
//! timestamps), which exercises the wide value windows. Throughput is in samples.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tidemark::tsdb::chunk::{XorAppender, XorIter};

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

criterion_group!(benches, bench_xor);
criterion_main!(benches);
