//! The server started from the library, as an embedder or a test starts it: no
//! binary, no signals. It serves HTTP on a free port, reloads its configuration
//! (a bad file keeps the running one) and stops cleanly, leaving its data
//! directory closed.

use std::path::Path;
use std::time::{Duration, Instant};

use tidemark::server::{ReloadError, Server, ServerError, Settings, load_config};
use tidemark::tsdb::{Db, Options};

/// Upper bound for anything the test waits for.
const WAIT: Duration = Duration::from_secs(30);

/// A configuration with one job, `name`, scraping a port where nothing listens.
fn job(name: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  external_labels:\n    site: {name}\nscrape_configs:\n  - job_name: {name}\n    static_configs:\n      - targets: ['127.0.0.1:1']\n"
    )
}

fn settings(dir: &Path, config_file: &Path) -> Settings {
    Settings {
        config_file: config_file.to_path_buf(),
        storage_path: dir.join("data"),
        listen_address: "127.0.0.1:0".into(),
        lifecycle_api: true,
        ..Settings::default()
    }
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.expect(url);
    let status = response.status().as_u16();
    (status, response.text().await.expect(url))
}

/// `/api/v1/targets` once `check` holds for it.
async fn targets_until(
    client: &reqwest::Client,
    base: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = get(client, &format!("{base}/api/v1/targets")).await;
        assert_eq!(status, 200, "{body}");
        if check(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "targets never matched:\n{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_serves_reloads_and_stops_without_signals() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, job("first")).unwrap();
    let config = load_config(&config_file).unwrap();
    let mut server = Server::start(settings(dir.path(), &config_file), config)
        .await
        .unwrap();
    assert!(tokio::time::timeout(WAIT, server.ready()).await.unwrap());
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    assert_eq!(
        get(&client, &format!("{base}/-/ready")).await,
        (200, "Tidemark is Ready.\n".to_string())
    );
    assert_eq!(
        get(&client, &format!("{base}/api/v1/query?query=1%2B1&time=4")).await,
        (
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#.to_string()
        )
    );
    let (_, body) = get(&client, &format!("{base}/api/v1/status/config")).await;
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["data"]["yaml"], job("first"));
    targets_until(&client, &base, |b| b.contains(r#""scrapePool":"first""#)).await;

    // A good file: applied to the running scrape manager and shown.
    std::fs::write(&config_file, job("second")).unwrap();
    server.reload().await.unwrap();
    targets_until(&client, &base, |b| {
        b.contains(r#""scrapePool":"second""#) && !b.contains(r#""first""#)
    })
    .await;
    let (_, body) = get(&client, &format!("{base}/api/v1/status/config")).await;
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["data"]["yaml"], job("second"));

    // A bad file: refused with the reason; the running configuration stays.
    std::fs::write(
        &config_file,
        "scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n",
    )
    .unwrap();
    let err = server.reload().await.unwrap_err();
    assert!(matches!(err, ReloadError::Load(_)), "{err:?}");
    let reason = std::error::Error::source(&err).unwrap().to_string();
    assert!(reason.contains("scrape_interval"), "{reason}");
    let (_, body) = get(&client, &format!("{base}/api/v1/targets")).await;
    assert!(body.contains(r#""scrapePool":"second""#), "{body}");
    let (_, body) = get(&client, &format!("{base}/api/v1/status/config")).await;
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["data"]["yaml"], job("second"));
    let (_, metrics) = get(&client, &format!("{base}/metrics")).await;
    assert!(
        metrics.contains("tidemark_config_last_reload_successful 0"),
        "{metrics}"
    );

    // `POST /-/reload` goes the same way.
    let response = client
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("failed to reload config: loading configuration: "),
        "{body}"
    );
    std::fs::write(&config_file, job("third")).unwrap();
    let response = client
        .post(format!("{base}/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    targets_until(&client, &base, |b| {
        b.contains(r#""scrapePool":"third""#) && !b.contains(r#""second""#)
    })
    .await;

    server.stop();
    tokio::time::timeout(WAIT, server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!server.ready().await);
    assert!(matches!(server.reload().await, Err(ReloadError::Stopped)));
    assert!(
        client
            .get(format!("{base}/-/healthy"))
            .send()
            .await
            .is_err()
    );
    // Storage was closed: its lock is free again.
    Db::open(dir.path().join("data"), Options::default())
        .unwrap()
        .close()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_does_not_open_ends_the_server_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "scrape_configs: []\n").unwrap();
    // Another holder of the data directory's lock.
    let held = Db::open(dir.path().join("data"), Options::default()).unwrap();

    let config = load_config(&config_file).unwrap();
    let mut server = Server::start(settings(dir.path(), &config_file), config)
        .await
        .unwrap();
    assert!(!tokio::time::timeout(WAIT, server.ready()).await.unwrap());
    let err = tokio::time::timeout(WAIT, server.wait())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ServerError::OpenStorage { .. }), "{err:?}");
    held.close().unwrap();
}
