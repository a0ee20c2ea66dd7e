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
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidemark"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data_dir.display()))
            // Port 0: the kernel picks a free port; the log says which.
            .arg("--web.listen-address=127.0.0.1:0")
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
