//! [`Settings`]: what the server's command-line flags mean, as one value.

use std::path::PathBuf;
use std::time::Duration;

use crate::api::Flags;
use crate::promql::EngineOptions;
use crate::tsdb::Options;

/// How the server runs: storage, HTTP and query limits. Each field names the
/// `tidemark` flag it comes from; [`Default`] gives the flags' defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file (`--config.file`). `/api/v1/status/config` shows
    /// its text, and a reload reads it again.
    pub config_file: PathBuf,
    /// The data directory (`--storage.tsdb.path`).
    pub storage_path: PathBuf,
    /// How storage is opened, retention included
    /// (`--storage.tsdb.retention.time`, `--storage.tsdb.retention.size`).
    pub storage: Options,
    /// Where HTTP listens (`--web.listen-address`): `host:port`, where `:port`
    /// means every interface and port 0 a free port (see
    /// [`Server::local_addr`](super::Server::local_addr)).
    pub listen_address: String,
    /// Whether `POST /-/reload` reloads the configuration (`--web.enable-lifecycle`).
    pub lifecycle_api: bool,
    /// Whether the TSDB admin endpoints answer (`--web.enable-admin-api`).
    pub admin_api: bool,
    /// Whether `/api/v1/write` accepts samples (`--web.enable-remote-write-receiver`).
    pub remote_write_receiver: bool,
    /// The URL under which tidemark is reachable from outside, e.g. behind a
    /// reverse proxy (`--web.external-url`); its path is the default route prefix.
    pub external_url: Option<String>,
    /// The path the routes are mounted under (`--web.route-prefix`); `None`: the
    /// external URL's path. See [`Settings::route_prefix`].
    pub route_prefix: Option<String>,
    /// Most connections open at once; further ones wait to be accepted
    /// (`--web.max-connections`). 0: no limit.
    pub max_connections: usize,
    /// Longest a connection may wait for the client with nothing moving either
    /// way before it is closed (`--web.read-timeout`). 0: no limit.
    pub read_timeout: Duration,
    /// The engine's limits (`--query.timeout`, `--query.max-samples`,
    /// `--query.lookback-delta`).
    pub query: EngineOptions,
    /// Most queries evaluated at once; further ones wait (`--query.max-concurrency`).
    pub query_max_concurrency: usize,
    /// The flags as `/api/v1/status/flags` shows them (Prometheus name → value
    /// as text). The command line fills it; an embedder may leave it empty.
    pub flags: Flags,
}

impl Default for Settings {
    /// The flags' defaults.
    fn default() -> Self {
        Settings {
            config_file: PathBuf::from("prometheus.yml"),
            storage_path: PathBuf::from("data/"),
            storage: Options::default(),
            listen_address: "0.0.0.0:9090".into(),
            lifecycle_api: false,
            admin_api: false,
            remote_write_receiver: false,
            external_url: None,
            route_prefix: None,
            max_connections: 512,
            read_timeout: Duration::from_secs(300),
            query: EngineOptions::default(),
            query_max_concurrency: 20,
            flags: Flags::new(),
        }
    }
}

impl Settings {
    /// The path the routes are mounted under: `/` or `/prefix` (no trailing
    /// slash), from [`route_prefix`](Self::route_prefix) or else the external
    /// URL's path.
    pub fn route_prefix(&self) -> String {
        let raw = match (&self.route_prefix, &self.external_url) {
            (Some(p), _) => p.clone(),
            (None, Some(url)) => url_path(url).to_string(),
            (None, None) => String::new(),
        };
        let trimmed = raw.trim_end_matches('/');
        if trimmed.is_empty() {
            "/".into()
        } else if trimmed.starts_with('/') {
            trimmed.to_string()
        } else {
            format!("/{trimmed}")
        }
    }
}

/// The path of a URL (`http://host:9090/prom/` → `/prom/`), `""` without one.
fn url_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(route_prefix: Option<&str>, external_url: Option<&str>) -> String {
        Settings {
            route_prefix: route_prefix.map(str::to_string),
            external_url: external_url.map(str::to_string),
            ..Settings::default()
        }
        .route_prefix()
    }

    #[test]
    fn route_prefix_from_the_flag_or_the_external_urls_path() {
        assert_eq!(prefix(None, None), "/");
        assert_eq!(prefix(Some("prom/"), None), "/prom");
        assert_eq!(prefix(Some("/"), Some("http://h/x")), "/");
        assert_eq!(prefix(None, Some("http://h:9090/prom/?a#b")), "/prom");
        assert_eq!(prefix(None, Some("http://h:9090")), "/");
    }
}
