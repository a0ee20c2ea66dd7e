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

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tidemark::exposition::{Entry, Format, MetricType, Mode, ParseError, Parser};

/// Upper bound for the exporter to start answering (it takes milliseconds).
const WAIT: Duration = Duration::from_secs(10);

/// Ports tried before giving up when the exporter cannot bind the one picked.
const BIND_ATTEMPTS: usize = 5;

/// Fewer samples than this means the exporter's collectors did not run: node
/// exporter sends ~500 on a small Linux machine, ~90 of them from its own Go
/// runtime and process.
const MIN_SAMPLES: usize = 300;

/// Collectors left out: `systemd` needs a D-Bus connection (containers and CI
/// have none, and it logs an error on every scrape), `textfile` reads whatever
/// other packages left in `/var/lib/prometheus/node-exporter`, not the
/// exporter's own output.
const DISABLED_COLLECTORS: &[&str] = &["systemd", "textfile"];

fn required() -> bool {
    std::env::var_os("TIDEMARK_REQUIRE_EXTERNAL").is_some_and(|v| v == "1")
}

/// The node exporter binary, or `None` (after a notice) when there is none.
fn node_exporter_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TIDEMARK_NODE_EXPORTER") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "TIDEMARK_NODE_EXPORTER={} is not a file",
            path.display()
        );
        return Some(path);
    }
    let names = ["prometheus-node-exporter", "node_exporter"];
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path_var)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| names.map(|name| dir.join(name)))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !required(),
            "no prometheus-node-exporter or node_exporter on PATH and TIDEMARK_REQUIRE_EXTERNAL=1 \
             (apt-get install prometheus-node-exporter)"
        );
        eprintln!(
            "notice: no prometheus-node-exporter or node_exporter on PATH; skipping \
             (apt-get install prometheus-node-exporter)"
        );
    }
    found
}

/// A running node exporter; its log (stderr) is collected line by line. Killed on
/// drop, so a failing test leaves nothing behind.
struct Exporter {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    address: SocketAddr,
}

impl Exporter {
    /// Starts `binary` on a free loopback port and waits until it answers HTTP.
    fn start(binary: &Path) -> Exporter {
        let mut last_log = String::new();
        for attempt in 1..=BIND_ATTEMPTS {
            // Let the kernel pick a free port, then hand it over; another process
            // may take it in between, hence the retries.
            let address = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("binding 127.0.0.1:0");
            let mut exporter = Exporter::spawn(binary, address);
            match exporter.wait_ready() {
                Ok(()) => return exporter,
                Err(log) => {
                    eprintln!(
                        "node exporter could not serve on {address} (attempt {attempt}):\n{log}"
                    );
                    last_log = log;
                }
            }
        }
        panic!("node exporter did not start in {BIND_ATTEMPTS} attempts; last log:\n{last_log}");
    }

    fn spawn(binary: &Path, address: SocketAddr) -> Exporter {
        let mut command = Command::new(binary);
        command.arg(format!("--web.listen-address={address}"));
        for name in DISABLED_COLLECTORS {
            command.arg(format!("--no-collector.{name}"));
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Exporter {
            child,
            log,
            address,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Polls until the exporter logs that it listens on our address and answers
    /// `GET /` with 200. `Err(log)` if it exits first (a port taken meanwhile) or
    /// takes longer than `WAIT`.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let listening = format!("address={}", self.address);
        loop {
            let logged = self
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("msg=\"Listening on\"") && l.contains(&listening));
            // Node exporter 1.5 logs "Listening on"; other versions may word it
            // differently, so an answer alone is enough once some time has passed.
            if (logged || started.elapsed() > WAIT / 2)
                && matches!(http_get(self.address, "/", "*/*"), Ok(r) if r.status == 200)
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                thread::sleep(Duration::from_millis(50));
                return Err(format!("exited ({status}):\n{}", self.log()));
            }
            if started.elapsed() > WAIT {
                return Err(format!("not answering within {WAIT:?}:\n{}", self.log()));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    /// Names lowercased, values trimmed, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 `GET` with `Connection: close` and no compression; the body is
/// de-chunked or cut to `Content-Length`.
fn http_get(address: SocketAddr, path: &str, accept: &str) -> Result<Response, String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))
        .map_err(|e| format!("connect {address}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: tidemark-test\r\n\
         Accept: {accept}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;

    let head_end = find(&raw, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|e| format!("headers: {e}"))?;
    let rest = &raw[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    response.body = if chunked {
        dechunk(rest)?
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        rest.get(..length)
            .ok_or_else(|| format!("body of {} bytes, Content-Length {length}", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a `Transfer-Encoding: chunked` body (chunk extensions and trailers are
/// skipped).
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n").ok_or("chunk size line without CRLF")?;
        let line = std::str::from_utf8(&raw[..line_end]).map_err(|e| e.to_string())?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = raw
            .get(..size)
            .ok_or_else(|| format!("chunk of {size} bytes cut at {}", raw.len()))?;
        body.extend_from_slice(chunk);
        raw = raw
            .get(size..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or("chunk not followed by CRLF")?;
    }
}

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
