//! The exposition parser against a real exporter: start Prometheus's node exporter
//! (`prometheus-node-exporter`, Debian's package) on a free loopback port, scrape
//! `/metrics` over plain HTTP/1.1 and parse what it sends.
//!
//! - Asked for the text format 0.0.4, the response's `Content-Type` must name
//!   [`Format::Text`]; the body must parse in lenient and in strict mode (it is
//!   written by Prometheus's reference Go library, so strict validation has to
//!   accept it) and hold the families every node exporter has.
//! - Asked for OpenMetrics 1.0, a body sent as OpenMetrics must parse in both
//!   modes as OpenMetrics; an exporter that answers with the text format instead
//!   (node exporter 1.5 does not negotiate OpenMetrics) gets a notice and the text
//!   checks.
//!
//! The binary is `$TIDEMARK_NODE_EXPORTER` if set, else `prometheus-node-exporter`
//! or `node_exporter` on `PATH`. Without it the test prints a notice and passes,
//! unless `TIDEMARK_REQUIRE_EXTERNAL=1` (as in CI), where it fails.

mod common;

use std::collections::BTreeMap;

use std::time::Instant;

use common::node_exporter::{Exporter, Response, http_get, node_exporter_binary};

use tidemark::exposition::{Entry, Format, MetricType, Mode, ParseError, Parser};

/// Fewer samples than this means the exporter's collectors did not run: node
/// exporter sends ~500 on a small Linux machine, ~90 of them from its own Go
/// runtime and process.
const MIN_SAMPLES: usize = 300;

/// What a parse found, owned so it outlives the body.
#[derive(Default)]
struct Summary {
    entries: usize,
    samples: usize,
    /// `# TYPE` lines: family name to type.
    types: BTreeMap<String, MetricType>,
    /// Family names with a `# HELP` line.
    helps: Vec<String>,
    /// Samples per metric (sample) name.
    sample_names: BTreeMap<String, usize>,
    /// `node_cpu_seconds_total` samples with both a `cpu` and a `mode` label.
    cpu_with_labels: usize,
    mem_total: Option<f64>,
}

/// Parses the whole body; on the first error panics with it and the offending line.
fn parse(body: &[u8], format: Format, mode: Mode, what: &str) -> Summary {
    let mut s = Summary::default();
    for entry in Parser::new(body, format, mode) {
        let entry = entry.unwrap_or_else(|e| fail(body, &e, format, mode, what));
        s.entries += 1;
        match entry {
            Entry::Type { name, kind } => {
                s.types.insert(name.get().into_owned(), kind);
            }
            Entry::Help { name, .. } => s.helps.push(name.get().into_owned()),
            Entry::Unit { .. } => {}
            Entry::Sample(sample) => {
                s.samples += 1;
                let name = sample.name.get();
                if name == "node_cpu_seconds_total"
                    && sample.labels.get("cpu").is_some()
                    && sample.labels.get("mode").is_some()
                {
                    s.cpu_with_labels += 1;
                }
                if name == "node_memory_MemTotal_bytes" {
                    s.mem_total = Some(sample.value);
                }
                *s.sample_names.entry(name.into_owned()).or_default() += 1;
            }
        }
    }
    s
}

fn fail(body: &[u8], e: &ParseError, format: Format, mode: Mode, what: &str) -> ! {
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let mut context = String::new();
    // Two lines before for context (strict errors are often about ordering).
    for number in e.line.saturating_sub(2).max(1)..=e.line {
        if let Some(line) = lines.get(number - 1) {
            let mark = if number == e.line { ">>" } else { "  " };
            context += &format!("{mark} {number:5} | {}\n", String::from_utf8_lossy(line));
        }
    }
    panic!(
        "{what}: node exporter output rejected ({format:?}, {mode:?}): {e}\n\
         offending line {}:\n{context}({} lines, {} bytes in the body)",
        e.line,
        lines.len(),
        body.len()
    );
}

/// Lenient and strict parses of `body`, and the content every node exporter sends.
fn check_body(body: &[u8], format: Format, what: &str) -> Summary {
    let started = Instant::now();
    let lenient = parse(body, format, Mode::Lenient, what);
    let strict = parse(body, format, Mode::Strict, what);
    assert_eq!(
        (strict.entries, strict.samples),
        (lenient.entries, lenient.samples),
        "{what}: strict and lenient parses yield different (entries, samples)"
    );

    let s = lenient;
    let mut per_type = BTreeMap::<&str, usize>::new();
    for kind in s.types.values() {
        *per_type.entry(kind.as_str()).or_default() += 1;
    }
    eprintln!(
        "{what}: {} bytes, {} entries, {} samples of {} metric names, {} TYPE lines {per_type:?}, \
         {} HELP lines; parsed twice in {:?}",
        body.len(),
        s.entries,
        s.samples,
        s.sample_names.len(),
        s.types.len(),
        s.helps.len(),
        started.elapsed()
    );

    assert!(
        s.samples >= MIN_SAMPLES,
        "{what}: only {} samples (at least {MIN_SAMPLES} expected)",
        s.samples
    );
    // OpenMetrics names a counter family without its `_total`.
    let cpu_family = match format {
        Format::Text => "node_cpu_seconds_total",
        Format::OpenMetrics => "node_cpu_seconds",
    };
    assert_eq!(
        s.types.get(cpu_family),
        Some(&MetricType::Counter),
        "{what}: no `# TYPE {cpu_family} counter`"
    );
    assert!(
        s.helps.iter().any(|h| h == cpu_family),
        "{what}: no `# HELP {cpu_family}`"
    );
    assert!(
        s.cpu_with_labels >= 1,
        "{what}: no node_cpu_seconds_total sample with `cpu` and `mode` labels"
    );
    assert_eq!(
        s.cpu_with_labels,
        s.sample_names
            .get("node_cpu_seconds_total")
            .copied()
            .unwrap_or(0),
        "{what}: a node_cpu_seconds_total sample lacks `cpu` or `mode`"
    );
    assert_eq!(
        s.types.get("node_memory_MemTotal_bytes"),
        Some(&MetricType::Gauge),
        "{what}: no `# TYPE node_memory_MemTotal_bytes gauge`"
    );
    assert!(
        s.mem_total.is_some_and(|v| v > 0.0),
        "{what}: node_memory_MemTotal_bytes missing or not positive: {:?}",
        s.mem_total
    );
    assert!(
        s.helps.len() >= s.types.len() / 2,
        "{what}: only {} HELP lines for {} TYPE lines",
        s.helps.len(),
        s.types.len()
    );
    s
}

fn content_type(response: &Response) -> &str {
    response.header("content-type").unwrap_or("")
}

fn assert_plain_200(response: &Response, what: &str) {
    assert_eq!(
        response.status,
        200,
        "{what}: status {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    // We asked for identity; a compressed body would not parse.
    let encoding = response.header("content-encoding").unwrap_or("identity");
    assert!(
        encoding.eq_ignore_ascii_case("identity"),
        "{what}: Content-Encoding {encoding}"
    );
}

#[test]
fn node_exporter_metrics_parse_in_both_formats_and_modes() {
    let Some(binary) = node_exporter_binary() else {
        return;
    };
    let started = Instant::now();
    let exporter = Exporter::start(&binary);
    eprintln!(
        "{} serving on {} after {:?}",
        binary.display(),
        exporter.address,
        started.elapsed()
    );

    // 1. The text format 0.0.4.
    let what = "text scrape";
    let response = http_get(exporter.address, "/metrics", "text/plain;version=0.0.4")
        .unwrap_or_else(|e| panic!("{what}: {e}\nexporter log:\n{}", exporter.log()));
    assert_plain_200(&response, what);
    eprintln!("{what}: Content-Type: {}", content_type(&response));
    assert_eq!(
        Format::from_content_type(content_type(&response)),
        Some(Format::Text),
        "{what}: Content-Type {:?}",
        content_type(&response)
    );
    let text = check_body(&response.body, Format::Text, what);

    // 2. OpenMetrics 1.0, which the exporter may or may not negotiate.
    let what = "OpenMetrics scrape";
    let response = http_get(
        exporter.address,
        "/metrics",
        "application/openmetrics-text;version=1.0.0",
    )
    .unwrap_or_else(|e| panic!("{what}: {e}\nexporter log:\n{}", exporter.log()));
    assert_plain_200(&response, what);
    eprintln!("{what}: Content-Type: {}", content_type(&response));
    match Format::from_content_type(content_type(&response)) {
        Some(Format::OpenMetrics) => {
            let om = check_body(&response.body, Format::OpenMetrics, what);
            // The same collectors, scraped a moment later: the same series, give
            // or take a few that come and go (and OpenMetrics's `_created`).
            assert!(
                om.samples + 50 >= text.samples,
                "{what}: {} samples against {} in the text format",
                om.samples,
                text.samples
            );
        }
        Some(Format::Text) => {
            eprintln!(
                "notice: the node exporter did not negotiate OpenMetrics \
                 (answered {:?}); checked the body as the text format",
                content_type(&response)
            );
            check_body(&response.body, Format::Text, what);
        }
        None => panic!(
            "{what}: Content-Type {:?} names no exposition format",
            content_type(&response)
        ),
    }
    eprintln!("done in {:?}", started.elapsed());
}
