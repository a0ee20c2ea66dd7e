//! The exposition parser alone, over three bodies: Prometheus's own parser
//! benchmark inputs (`../shared/conformance/exposition/prometheus-textparse`), a
//! node-exporter scrape (`testdata/exposition`), and the 80 MB, 400,000-sample body
//! of `../shared/bench/gen_exposition.py` (generated into `target/` on first use).
//!
//! Throughput is reported in bytes; samples per second follow from the sample
//! count each body prints once. Beside each parse runs a `memchr` count of the
//! newlines in the same bytes: the floor no line-oriented parser can beat.
//!
//! The issue asked for the parser to be built with nom unless a hand-written hot
//! path measures faster: `nom_text_samples` below is the text format's sample line
//! written with nom combinators (same checks, no allocation), run beside ours.
//!
//! `cargo bench --bench exposition` (add `-- 80MB` for the 80 MB body only).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tidemark::exposition::{Entry, Format, Mode, Parser};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bodies that exist on this machine: (name, format, bytes).
fn bodies() -> Vec<(String, Format, Vec<u8>)> {
    let mut out = Vec::new();
    let textparse = root().join("../shared/conformance/exposition/prometheus-textparse");
    for (file, format) in [
        ("alltypes.237mfs.prom.txt", Format::Text),
        ("alltypes.5mfs.om.txt", Format::OpenMetrics),
        ("1histogram.om.txt", Format::OpenMetrics),
    ] {
        match std::fs::read(textparse.join(file)) {
            Ok(b) => out.push((file.to_owned(), format, b)),
            Err(e) => eprintln!("skipping {file}: {e}"),
        }
    }
    let node = root().join("testdata/exposition/node-exporter-1.5.0.prom");
    out.push((
        "node-exporter".to_owned(),
        Format::Text,
        std::fs::read(node).expect("testdata/exposition/node-exporter-1.5.0.prom"),
    ));
    match big_body() {
        Some(b) => out.push(("gen_exposition-80MB".to_owned(), Format::Text, b)),
        None => eprintln!("skipping the 80 MB body: ../shared/bench/gen_exposition.py did not run"),
    }
    out
}

fn big_body() -> Option<Vec<u8>> {
    let path: PathBuf = root().join("target/bench-exposition-80MB.prom");
    if !path.exists() {
        let script = root().join("../shared/bench/gen_exposition.py");
        let ok = Command::new("python3")
            .arg(&script)
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    std::fs::read(path).ok()
}

fn count_samples(input: &[u8], format: Format) -> usize {
    Parser::new(input, format, Mode::Lenient)
        .filter(|e| matches!(e, Ok(Entry::Sample(_))))
        .count()
}

/// A consumer that touches what a scraper uses: every label, the value, the
/// timestamp.
fn consume(input: &[u8], format: Format, mode: Mode) -> usize {
    let mut n = 0;
    for entry in Parser::new(input, format, mode) {
        if let Ok(Entry::Sample(s)) = entry {
            for l in s.labels.iter() {
                n += l.name.raw().len() + l.value.raw().len();
            }
            n += s.value.to_bits() as usize & 1;
            n += s.timestamp.unwrap_or(0) as usize & 1;
        }
    }
    n
}

/// The text format's sample lines parsed with nom: name, `{labels}` with
/// whitespace and escapes, value, optional timestamp; comments and blank lines
/// skipped. Returns the number of samples, or `None` on the first bad line.
mod nom_text {
    use nom::bytes::complete::{escaped, is_not, take, take_while, take_while1};
    use nom::character::complete::{char, digit1, space0, space1};
    use nom::combinator::{all_consuming, map_res, opt, recognize, verify};
    use nom::multi::fold_many0;
    use nom::sequence::{delimited, preceded, terminated};
    use nom::{IResult, Parser};

    fn name(i: &[u8]) -> IResult<&[u8], &[u8]> {
        verify(
            take_while1(|c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':'),
            |n: &[u8]| !n[0].is_ascii_digit(),
        )
        .parse(i)
    }

    fn quoted(i: &[u8]) -> IResult<&[u8], &[u8]> {
        delimited(
            char('"'),
            recognize(opt(escaped(is_not("\"\\"), '\\', take(1usize)))),
            char('"'),
        )
        .parse(i)
    }

    fn label(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
        let label_name = take_while1(|c: u8| c.is_ascii_alphanumeric() || c == b'_');
        (terminated(label_name, (space0, char('='), space0)), quoted).parse(i)
    }

    fn labels(i: &[u8]) -> IResult<&[u8], usize> {
        delimited(
            (char('{'), space0),
            fold_many0(
                terminated(label, (space0, opt(char(',')), space0)),
                || 0,
                |n, _| n + 1,
            ),
            char('}'),
        )
        .parse(i)
    }

    fn value(i: &[u8]) -> IResult<&[u8], f64> {
        map_res(
            take_while1(|c: u8| c != b' ' && c != b'\t' && c != b'{'),
            |v: &[u8]| {
                std::str::from_utf8(v)
                    .map_err(|_| ())
                    .and_then(|v| v.parse::<f64>().map_err(|_| ()))
            },
        )
        .parse(i)
    }

    fn timestamp(i: &[u8]) -> IResult<&[u8], i64> {
        map_res(digit1, |d: &[u8]| {
            std::str::from_utf8(d)
                .map_err(|_| ())
                .and_then(|d| d.parse::<i64>().map_err(|_| ()))
        })
        .parse(i)
    }

    fn sample(i: &[u8]) -> IResult<&[u8], (f64, Option<i64>)> {
        all_consuming(delimited(
            space0,
            (
                preceded((name, space0, opt(labels), space0), value),
                opt(preceded(space1, timestamp)),
            ),
            space0,
        ))
        .parse(i)
    }

    pub fn count_samples(body: &[u8]) -> Option<usize> {
        let mut n = 0;
        for line in body.split(|&b| b == b'\n') {
            let trimmed = take_while::<_, _, ()>(|c: u8| c == b' ' || c == b'\t')
                .parse(line)
                .map_or(line, |(rest, _)| rest);
            if trimmed.is_empty() || trimmed[0] == b'#' {
                continue;
            }
            sample(line).ok()?;
            n += 1;
        }
        Some(n)
    }
}

fn bench(c: &mut Criterion) {
    for (name, format, body) in bodies() {
        let samples = count_samples(&body, format);
        eprintln!("{name}: {} bytes, {samples} samples", body.len());
        let mut g = c.benchmark_group(format!("exposition/{name}"));
        if body.len() > 10 << 20 {
            g.sample_size(10);
        }
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("memchr line count (floor)", |b| {
            b.iter(|| memchr::memchr_iter(b'\n', black_box(&body)).count())
        });
        g.bench_function("parse lenient", |b| {
            b.iter(|| Parser::new(black_box(&body), format, Mode::Lenient).count())
        });
        if format == Format::Text {
            assert_eq!(
                nom_text::count_samples(&body),
                Some(samples),
                "{name}: nom parser disagrees"
            );
            g.bench_function("nom sample lines", |b| {
                b.iter(|| nom_text::count_samples(black_box(&body)))
            });
        }
        g.bench_function("parse lenient + labels", |b| {
            b.iter(|| consume(black_box(&body), format, Mode::Lenient))
        });
        g.bench_function("parse strict + labels", |b| {
            b.iter(|| consume(black_box(&body), format, Mode::Strict))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
