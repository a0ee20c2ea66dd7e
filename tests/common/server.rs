//! A `tidemark` server for the API tests: a data directory filled beforehand
//! through the library with known series, then the binary started on it on a
//! free loopback port, and a minimal HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tidemark::model::Labels;
use tidemark::tsdb::{Db, Options};

/// Upper bound for the server to start and become ready.
pub const WAIT: Duration = Duration::from_secs(30);

/// Now in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Writes `series` (label pairs), each with one sample of value 1 at `t`.
pub fn fill(dir: &Path, series: &[&[(&str, &str)]], t: i64) {
    let db = Db::open(dir, Options::default()).expect("open db");
    let mut app = db.appender();
    for pairs in series {
        let labels = Labels::new(pairs.iter().copied()).expect("labels");
        app.append(&labels, t, 1.0).expect("append");
    }
    app.commit().expect("commit");
    db.close().expect("close");
}

/// A series for [`fill_samples`]: label pairs and `(t, v)` samples.
pub type SeriesSamples<'a> = (&'a [(&'a str, &'a str)], Vec<(i64, f64)>);

/// Writes each series with its samples.
pub fn fill_samples(dir: &Path, series: &[SeriesSamples]) {
    let db = Db::open(dir, Options::default()).expect("open db");
    let mut app = db.appender();
    for (pairs, samples) in series {
        let labels = Labels::new(pairs.iter().copied()).expect("labels");
        for &(t, v) in samples {
            app.append(&labels, t, v).expect("append");
        }
    }
    app.commit().expect("commit");
    db.close().expect("close");
}

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    pub address: SocketAddr,
}

impl Server {
    /// Starts on `data` with an empty scrape configuration and `args`, and waits
    /// until `/-/ready` answers 200 (under `prefix`).
    pub fn start(data: &Path, args: &[&str], prefix: &str) -> Server {
        Server::start_with_config(data, "scrape_configs: []\n", args, prefix)
    }

    /// As [`start`](Self::start), with `config` as the configuration file.
    pub fn start_with_config(data: &Path, config: &str, args: &[&str], prefix: &str) -> Server {
        let text = config;
        let config = data.join("tidemark-test.yml");
        std::fs::write(&config, text).expect("config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--web.listen-address=127.0.0.1:0")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tidemark");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + WAIT;
        let address = loop {
            let found = log.lock().unwrap().iter().find_map(|line| {
                if !line.contains("msg=\"Listening on\"") {
                    return None;
                }
                line.split("address=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            });
            if let Some(a) = found {
                break a;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "tidemark exited ({status}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            assert!(Instant::now() < deadline, "tidemark did not listen");
            thread::sleep(Duration::from_millis(20));
        };
        let server = Server {
            child,
            log,
            address,
        };
        let ready = format!("{}/-/ready", prefix.trim_end_matches('/'));
        loop {
            if server
                .request("GET", &ready, &[], "")
                .is_ok_and(|r| r.status == 200)
            {
                break;
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", server.log());
            thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// One request on its own connection.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Response> {
        self.request_bytes(method, path, headers, body.as_bytes())
    }

    /// [`request`](Self::request) with a body of any bytes.
    pub fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut s = TcpStream::connect(self.address)?;
        s.set_read_timeout(Some(WAIT))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut req = req.into_bytes();
        req.extend_from_slice(body);
        s.write_all(&req)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        Ok(Response::parse(&raw))
    }

    /// A form POST (`application/x-www-form-urlencoded`).
    pub fn post_form(&self, path: &str, body: &str) -> Response {
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body,
        )
        .expect("request")
    }

    /// GET, answer as JSON.
    pub fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.request("GET", path, &[], "").expect("request");
        (r.status, r.json())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response (chunked bodies decoded).
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
        {
            let mut out = Vec::new();
            let mut rest = &body[..];
            while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
                let size = usize::from_str_radix(
                    String::from_utf8_lossy(&rest[..end])
                        .split(';')
                        .next()
                        .unwrap_or("0")
                        .trim(),
                    16,
                )
                .expect("chunk size");
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&rest[end + 2..end + 2 + size]);
                rest = &rest[end + 2 + size + 2..];
            }
            body = out;
        }
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}
