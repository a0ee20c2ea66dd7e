//! The `tidemark` binary as a user runs it: start on a free loopback port with
//! `config.example.yaml` and a temporary data directory, talk HTTP to it, stop it
//! with SIGTERM.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");

/// Upper bound for anything we wait for (start, ready, exit).
const WAIT: Duration = Duration::from_secs(30);

/// A running `tidemark`; its stderr (the log) is collected line by line. Killed
/// on drop if still running, so a failing test leaves nothing behind.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts with `config.example.yaml`.
    fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, Path::new(EXAMPLE_CONFIG))
    }

    fn start_with(data_dir: &Path, config: &Path) -> Server {
        // Port 0: the kernel picks a free port; the log says which.
        Server::start_args(data_dir, config, &["--web.listen-address=127.0.0.1:0"])
    }

    fn start_args(data_dir: &Path, config: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data_dir.display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tidemark");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Server { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The address from the `Listening on` log line.
    fn address(&mut self) -> SocketAddr {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self.log.lock().unwrap().iter().find_map(|line| {
                if !line.contains("msg=\"Listening on\"") {
                    return None;
                }
                let value = line.split("address=").nth(1)?.split_whitespace().next()?;
                value.parse().ok()
            });
            if let Some(address) = found {
                return address;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "tidemark exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tidemark did not listen within {WAIT:?}:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `/-/ready` until 200.
    fn wait_ready(&mut self) -> SocketAddr {
        let address = self.address();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok((200, _)) = http(address, "GET", "/-/ready") {
                return address;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("tidemark exited ({status}) before ready:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "not ready within {WAIT:?}:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to exit; `None` if it is still running after `WAIT`.
    fn wait_exit(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                thread::sleep(Duration::from_millis(100));
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns status and body.
fn http(address: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

#[test]
fn serves_health_ready_metrics_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let address = server.wait_ready();

    assert_eq!(
        http(address, "GET", "/-/healthy").unwrap(),
        (200, "Tidemark is Healthy.\n".to_string())
    );
    assert_eq!(
        http(address, "GET", "/-/ready").unwrap(),
        (200, "Tidemark is Ready.\n".to_string())
    );
    let (status, metrics) = http(address, "GET", "/metrics").unwrap();
    assert_eq!(status, 200);
    for name in [
        "tidemark_tsdb_head_series ",
        "tidemark_tsdb_head_samples_appended_total ",
        "process_resident_memory_bytes ",
        "tidemark_build_info{",
    ] {
        assert!(metrics.contains(name), "no {name} in:\n{metrics}");
    }
    let (status, body) = http(address, "POST", "/-/healthy").unwrap();
    assert_eq!(status, 405, "{body}");
    // Without --web.enable-lifecycle, as in Prometheus.
    assert_eq!(
        http(address, "POST", "/-/reload").unwrap(),
        (403, "Lifecycle API is not enabled.".to_string())
    );

    server.signal(rustix::process::Signal::TERM);
    let status = server
        .wait_exit()
        .expect("tidemark did not exit after SIGTERM");
    let log = server.log();
    assert!(status.success(), "exit status {status}:\n{log}");
    assert!(log.contains("signal=SIGTERM"), "{log}");
    assert!(log.contains("msg=\"Storage closed\""), "{log}");
}

#[test]
fn second_instance_on_the_same_data_dir_fails_on_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Server::start(dir.path());
    first.wait_ready();

    let mut second = Server::start(dir.path());
    let status = second.wait_exit();
    let log = second.log();
    let Some(status) = status else {
        panic!("a second tidemark on the same data dir kept running:\n{log}");
    };
    assert!(
        !status.success(),
        "second instance exited with {status}:\n{log}"
    );
    assert!(
        log.to_lowercase().contains("lock"),
        "no mention of the lock:\n{log}"
    );

    // The first one is unaffected and still stops cleanly.
    first.signal(rustix::process::Signal::INT);
    let status = first
        .wait_exit()
        .expect("first tidemark did not exit after SIGINT");
    assert!(status.success(), "{status}:\n{}", first.log());
}

#[test]
fn bad_config_exits_non_zero_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: a\n",
    )
    .unwrap();
    let mut server = Server::start_with(&dir.path().join("data"), &config);
    let status = server
        .wait_exit()
        .expect("tidemark kept running with a bad config");
    let log = server.log();
    assert!(!status.success(), "{status}:\n{log}");
    let expected = format!(
        "{}:5:5: scrape_configs[1].job_name: found multiple scrape configs with job name \\\"a\\\"",
        config.display()
    );
    assert!(log.contains(&expected), "no {expected} in:\n{log}");
}

/// A loopback port free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Polls `check` over `/api/v1/targets` until it holds.
fn until_targets(
    server: &Server,
    address: SocketAddr,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = http(address, "GET", "/api/v1/targets").unwrap();
        assert_eq!(status, 200, "{body}");
        if check(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within {WAIT:?}; last answer:\n{body}\n{}",
            server.log()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn scrapes_itself_and_reports_targets_as_prometheus_does() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Port 1 on loopback: nothing listens there.
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n  - job_name: nothing\n    static_configs:\n      - targets: ['127.0.0.1:1']\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: never\n        action: drop\n"
        ),
    )
    .unwrap();
    let mut server = Server::start_args(
        &dir.path().join("data"),
        &config,
        &[&format!("--web.listen-address=127.0.0.1:{port}")],
    );
    let address = server.wait_ready();
    let body = until_targets(&server, address, "two scrapes' health", |b| {
        b.contains("\"health\":\"up\"") && b.contains("\"health\":\"down\"")
    });
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "success");
    let active = json["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(active.len(), 2, "{body}");
    let me = active.iter().find(|t| t["scrapePool"] == "self").unwrap();
    assert_eq!(me["labels"]["job"], "self");
    assert_eq!(me["labels"]["instance"], format!("127.0.0.1:{port}"));
    assert_eq!(
        me["discoveredLabels"]["__address__"],
        format!("127.0.0.1:{port}")
    );
    assert_eq!(me["discoveredLabels"]["__scheme__"], "http");
    assert_eq!(me["scrapeUrl"], format!("http://127.0.0.1:{port}/metrics"));
    assert_eq!(me["lastError"], "");
    assert_eq!(me["scrapeInterval"], "1s");
    assert_eq!(me["scrapeTimeout"], "1s");
    assert!(me["lastScrapeDuration"].as_f64().unwrap() > 0.0);
    assert!(me["lastScrape"].as_str().unwrap().ends_with('Z'));
    let down = active
        .iter()
        .find(|t| t["scrapePool"] == "nothing")
        .unwrap();
    assert!(
        down["lastError"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("connect"),
        "{down}"
    );
    assert_eq!(json["data"]["droppedTargets"], serde_json::json!([]));

    let (_, only_dropped) = http(address, "GET", "/api/v1/targets?state=dropped").unwrap();
    let only_dropped: serde_json::Value = serde_json::from_str(&only_dropped).unwrap();
    assert_eq!(only_dropped["data"]["activeTargets"], serde_json::json!([]));
    let (_, one_pool) = http(address, "GET", "/api/v1/targets?scrapePool=self").unwrap();
    let one_pool: serde_json::Value = serde_json::from_str(&one_pool).unwrap();
    assert_eq!(
        one_pool["data"]["activeTargets"].as_array().unwrap().len(),
        1
    );

    let (_, metrics) = http(address, "GET", "/metrics").unwrap();
    for line in [
        "tidemark_config_last_reload_successful 1",
        "tidemark_target_scrape_pool_targets{scrape_job=\"self\"} 1",
        "tidemark_target_scrapes_total ",
    ] {
        assert!(metrics.contains(line), "no {line} in:\n{metrics}");
    }
    server.signal(rustix::process::Signal::TERM);
    let status = server.wait_exit().expect("no exit after SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
}

#[test]
fn reloads_on_sighup_and_post_keeping_the_running_config_when_the_new_one_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    let job = |name: &str| {
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {name}\n    static_configs:\n      - targets: ['127.0.0.1:1']\n"
        )
    };
    std::fs::write(&config, job("first")).unwrap();
    let mut server = Server::start_args(
        &dir.path().join("data"),
        &config,
        &["--web.listen-address=127.0.0.1:0", "--web.enable-lifecycle"],
    );
    let address = server.wait_ready();
    until_targets(&server, address, "job first", |b| {
        b.contains("\"scrapePool\":\"first\"")
    });

    std::fs::write(&config, job("second")).unwrap();
    server.signal(rustix::process::Signal::HUP);
    until_targets(&server, address, "job second", |b| {
        b.contains("\"scrapePool\":\"second\"") && !b.contains("\"first\"")
    });

    // A bad file: the running configuration stays, and the log says why.
    std::fs::write(
        &config,
        "scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n",
    )
    .unwrap();
    server.signal(rustix::process::Signal::HUP);
    let deadline = Instant::now() + WAIT;
    while !server.log().contains("Error reloading config") {
        assert!(
            Instant::now() < deadline,
            "no reload error logged:\n{}",
            server.log()
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert!(server.log().contains("scrape_interval"), "{}", server.log());
    let (_, body) = http(address, "GET", "/api/v1/targets").unwrap();
    assert!(body.contains("\"scrapePool\":\"second\""), "{body}");

    let (status, body) = http(address, "POST", "/-/reload").unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(body.starts_with("failed to reload config: "), "{body}");
    let (_, metrics) = http(address, "GET", "/metrics").unwrap();
    assert!(
        metrics.contains("tidemark_config_last_reload_successful 0"),
        "{metrics}"
    );

    std::fs::write(&config, job("third")).unwrap();
    assert_eq!(
        http(address, "POST", "/-/reload").unwrap(),
        (200, String::new())
    );
    let (_, body) = http(address, "GET", "/api/v1/targets").unwrap();
    assert!(
        body.contains("\"scrapePool\":\"third\"") && !body.contains("\"second\""),
        "{body}"
    );
    server.signal(rustix::process::Signal::TERM);
    let status = server.wait_exit().expect("no exit after SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.log());
}
