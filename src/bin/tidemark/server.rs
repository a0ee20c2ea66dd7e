//! The server (what `tidemark` runs with no subcommand): the flags, read into
//! [`Settings`] and the flag map `/api/v1/status/flags` shows, and the signals:
//! SIGHUP reloads the configuration, SIGINT or SIGTERM stop the server (a second
//! one stops it without waiting for in-flight requests). Everything else is
//! [`tidemark::server`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tidemark::api::{self, BUILD_INFO};
use tidemark::model::{format_duration, parse_bytes, parse_duration};
use tidemark::promql::EngineOptions;
use tidemark::server::{Server, Settings, load_config};
use tidemark::tsdb::Options;
use tracing::{info, warn};

/// Flags of the server, named as Prometheus's.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Configuration file path (Prometheus format).
    #[arg(
        long = "config.file",
        value_name = "PATH",
        default_value = "prometheus.yml"
    )]
    pub config_file: PathBuf,
    /// Base path for metrics storage.
    #[arg(
        long = "storage.tsdb.path",
        value_name = "PATH",
        default_value = "data/"
    )]
    pub storage_path: PathBuf,
    /// How long to retain samples in storage (Prometheus duration, e.g. 15d, 1y).
    /// Without it (or with 0): 15d, unless --storage.tsdb.retention.size is set,
    /// which then is the only limit (as in Prometheus).
    #[arg(
        long = "storage.tsdb.retention.time",
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub retention: Option<Duration>,
    /// Most bytes of storage blocks to keep (units B, KB, MB, GB, TB, PB, EB, powers
    /// of 1024, e.g. 512MB); the oldest blocks are deleted first. WAL and head
    /// chunk files count towards it. 0 means no limit.
    #[arg(
        long = "storage.tsdb.retention.size",
        value_name = "SIZE",
        default_value = "0",
        value_parser = parse_bytes
    )]
    pub retention_size: u64,
    /// Address to listen on for the web interface and API (`:9090` means all
    /// interfaces).
    #[arg(
        long = "web.listen-address",
        value_name = "ADDRESS",
        default_value = "0.0.0.0:9090"
    )]
    pub listen_address: String,
    /// Enable shutdown and reload via HTTP request (`POST /-/reload`).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Enable the TSDB admin endpoints (`/api/v1/admin/tsdb/delete_series`,
    /// `clean_tombstones`, `snapshot`).
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,
    /// Accept samples by remote write on `/api/v1/write`.
    #[arg(long = "web.enable-remote-write-receiver")]
    pub enable_remote_write_receiver: bool,
    /// The URL under which tidemark is externally reachable (e.g. behind a
    /// reverse proxy). Its path is the default route prefix.
    #[arg(long = "web.external-url", value_name = "URL")]
    pub external_url: Option<String>,
    /// Prefix for the internal routes of web endpoints; defaults to the path of
    /// --web.external-url.
    #[arg(long = "web.route-prefix", value_name = "PATH")]
    pub route_prefix: Option<String>,
    /// Maximum number of simultaneous connections; further ones wait to be
    /// accepted. 0 means no limit.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 512)]
    pub max_connections: usize,
    /// Longest a connection may wait for the client with nothing moving either
    /// way (a request read half-way, an idle keep-alive connection) before it
    /// is closed. Keep it above --query.timeout: a query's connection is quiet
    /// while it runs. 0 means no limit.
    #[arg(
        long = "web.read-timeout",
        value_name = "DURATION",
        default_value = "5m",
        value_parser = parse_duration
    )]
    pub read_timeout: Duration,
    /// Longest a query may run before it is aborted.
    #[arg(
        long = "query.timeout",
        value_name = "DURATION",
        default_value = "2m",
        value_parser = parse_duration
    )]
    pub query_timeout: Duration,
    /// Most queries evaluated at once; further ones wait.
    #[arg(long = "query.max-concurrency", value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub query_max_concurrency: u32,
    /// Most samples a single query may hold in memory at once.
    #[arg(
        long = "query.max-samples",
        value_name = "N",
        default_value_t = 50_000_000
    )]
    pub query_max_samples: usize,
    /// How far back an instant selector looks for a sample, and how long a
    /// series without new samples stays in query results.
    #[arg(
        long = "query.lookback-delta",
        value_name = "DURATION",
        default_value = "5m",
        value_parser = parse_duration
    )]
    pub query_lookback_delta: Duration,
}

impl ServerArgs {
    /// What the flags mean, as the server's settings.
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings {
            config_file: self.config_file.clone(),
            storage_path: self.storage_path.clone(),
            storage: Options::with_retention(self.retention, self.retention_size)
                .context("--storage.tsdb.retention.time is out of range")?,
            listen_address: self.listen_address.clone(),
            lifecycle_api: self.enable_lifecycle,
            admin_api: self.enable_admin_api,
            remote_write_receiver: self.enable_remote_write_receiver,
            external_url: self.external_url.clone(),
            route_prefix: self.route_prefix.clone(),
            max_connections: self.max_connections,
            read_timeout: self.read_timeout,
            query: EngineOptions {
                lookback_delta: self.query_lookback_delta,
                max_samples: self.query_max_samples,
                timeout: self.query_timeout,
            },
            query_max_concurrency: usize::try_from(self.query_max_concurrency)
                .unwrap_or(usize::MAX),
            flags: api::Flags::new(),
        };
        settings.flags = self.flag_map(&settings.route_prefix());
        Ok(settings)
    }

    /// The flags by Prometheus name, values as text, for /api/v1/status/flags.
    fn flag_map(&self, route_prefix: &str) -> api::Flags {
        let mut f = api::Flags::new();
        let mut put = |k: &str, v: String| {
            f.insert(k.to_string(), v);
        };
        put("config.file", self.config_file.display().to_string());
        put("storage.tsdb.path", self.storage_path.display().to_string());
        put(
            "storage.tsdb.retention.time",
            self.retention.map_or("0s".into(), format_duration),
        );
        put(
            "storage.tsdb.retention.size",
            format!("{}B", self.retention_size),
        );
        put("web.listen-address", self.listen_address.clone());
        put("web.enable-lifecycle", self.enable_lifecycle.to_string());
        put("web.enable-admin-api", self.enable_admin_api.to_string());
        put(
            "web.enable-remote-write-receiver",
            self.enable_remote_write_receiver.to_string(),
        );
        put(
            "web.external-url",
            self.external_url.clone().unwrap_or_default(),
        );
        put("web.route-prefix", route_prefix.to_string());
        put("web.max-connections", self.max_connections.to_string());
        put("web.read-timeout", format_duration(self.read_timeout));
        put("query.timeout", format_duration(self.query_timeout));
        put(
            "query.max-concurrency",
            self.query_max_concurrency.to_string(),
        );
        put("query.max-samples", self.query_max_samples.to_string());
        put(
            "query.lookback-delta",
            format_duration(self.query_lookback_delta),
        );
        f
    }
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(serve(args))
}

async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    info!(
        version = BUILD_INFO.version,
        revision = BUILD_INFO.revision,
        "Starting tidemark"
    );
    // Validated now so that a bad file stops the start.
    let config = load_config(&args.config_file).context("loading configuration")?;
    let settings = args.settings()?;
    // Listen for signals before anything slow, so that an early one is not lost.
    let mut signals = Signals::new().context("installing signal handlers")?;
    let mut server = Server::start(settings, config).await?;
    let mut stopping = false;
    loop {
        tokio::select! {
            ended = server.wait() => {
                ended?;
                info!("See you next time!");
                return Ok(());
            }
            signal = signals.recv() => {
                if stopping {
                    warn!(signal, "Second signal: not waiting for in-flight requests");
                    server.stop_now();
                } else if signal == "SIGHUP" {
                    // A refused file is logged by the server and keeps running.
                    let _ = server.reload().await;
                } else {
                    warn!(signal, "Received an OS signal, exiting gracefully");
                    server.stop();
                    stopping = true;
                }
            }
        }
    }
}

/// SIGINT and SIGTERM (stop), SIGHUP (reload).
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the next signal and names it.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}

/// Ctrl-C where there are no Unix signals.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
