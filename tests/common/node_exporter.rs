//! A real node exporter for the tests: Prometheus's `prometheus-node-exporter`
//! (Debian's package) started on a free loopback port, and a minimal HTTP/1.1
//! client to read it.
//!
//! The binary is `$TIDEMARK_NODE_EXPORTER` if set, else `prometheus-node-exporter`
//! or `node_exporter` on `PATH`. Without it [`node_exporter_binary`] prints a
//! notice and returns `None`, unless `TIDEMARK_REQUIRE_EXTERNAL=1` (as in CI),
//! where it fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::external_required as required;

/// Upper bound for the exporter to start answering (it takes milliseconds).
pub const WAIT: Duration = Duration::from_secs(10);

/// Ports tried before giving up when the exporter cannot bind the one picked.
pub const BIND_ATTEMPTS: usize = 5;

/// Collectors left out: `systemd` needs a D-Bus connection (containers and CI
/// have none, and it logs an error on every scrape), `textfile` reads whatever
/// other packages left in `/var/lib/prometheus/node-exporter`, not the
/// exporter's own output.
pub const DISABLED_COLLECTORS: &[&str] = &["systemd", "textfile"];

/// The node exporter binary, or `None` (after a notice) when there is none.
pub fn node_exporter_binary() -> Option<PathBuf> {
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
pub struct Exporter {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    pub address: SocketAddr,
}

impl Exporter {
    /// Starts `binary` on a free loopback port and waits until it answers HTTP.
    pub fn start(binary: &Path) -> Exporter {
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

    pub fn log(&self) -> String {
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

pub struct Response {
    pub status: u16,
    /// Names lowercased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 `GET` with `Connection: close` and no compression; the body is
/// de-chunked or cut to `Content-Length`.
pub fn http_get(address: SocketAddr, path: &str, accept: &str) -> Result<Response, String> {
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
