//! The server (what `tidemark` runs with no subcommand): load the configuration,
//! serve HTTP, open storage, start scraping; reload the configuration on SIGHUP
//! and `POST /-/reload` (a bad file keeps the running configuration); and on
//! SIGINT or SIGTERM stop in order: scraping, the web server (finishing in-flight
//! requests), then storage (head flushed, WAL closed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use tidemark::api::{self, ApiState, BUILD_INFO};
use tidemark::model::{format_duration, parse_bytes, parse_duration};
use tidemark::promql::EngineOptions;
use tidemark::scrape::{Config, ScrapeManager};
use tidemark::tsdb::{Db, Options};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

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
    /// The path the routes are mounted under: `/` or `/prefix` (no trailing
    /// slash), from --web.route-prefix or else the external URL's path.
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

    /// The flags by Prometheus name, values as text, for /api/v1/status/flags.
    fn flag_map(&self) -> api::Flags {
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
        put("web.route-prefix", self.route_prefix());
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
    let config = load_config(&args.config_file)?;
    let options = Options::with_retention(args.retention, args.retention_size)
        .context("--storage.tsdb.retention.time is out of range")?;
    // Listen for signals before anything slow, so that an early one is not lost.
    let mut signals = Signals::new().context("installing signal handlers")?;

    let listener = bind(&args.listen_address).await?;
    info!(address = %listener.local_addr()?, "Listening on");
    let state = ApiState::new();
    state.set_flags(args.flag_map());
    state.set_admin_enabled(args.enable_admin_api);
    state.set_remote_write_enabled(args.enable_remote_write_receiver);
    state.set_config_text(config_text(&args.config_file));
    state.set_external_labels(config.global.external_labels.clone());
    state.set_retention_text(api::retention_text(
        options.retention_ms,
        options.retention_bytes,
    ));
    state.set_query_options(
        EngineOptions {
            lookback_delta: args.query_lookback_delta,
            max_samples: args.query_max_samples,
            timeout: args.query_timeout,
        },
        usize::try_from(args.query_max_concurrency).unwrap_or(usize::MAX),
    );
    if !args.read_timeout.is_zero() && args.read_timeout < args.query_timeout {
        warn!(
            read_timeout = %format_duration(args.read_timeout),
            query_timeout = %format_duration(args.query_timeout),
            "--web.read-timeout is shorter than --query.timeout: long queries lose their connection"
        );
    }
    let prefix = args.route_prefix();
    if prefix != "/" {
        info!(prefix = prefix.as_str(), "Serving routes under a prefix");
    }
    let routes = api::router_under(state.clone(), &prefix);
    let (stop_web, web_stopped) = oneshot::channel::<()>();
    let mut web = tokio::spawn(
        axum::serve(
            LimitedListener::new(listener, args.max_connections, args.read_timeout),
            routes,
        )
        .with_graceful_shutdown(async {
            let _ = web_stopped.await;
        })
        .into_future(),
    );

    let path = args.storage_path.clone();
    info!(
        path = %path.display(),
        retention = %format_duration(Duration::from_millis(options.retention_ms.unsigned_abs())),
        retention_size = options.retention_bytes,
        "Opening storage"
    );
    let opened = tokio::task::spawn_blocking(move || Db::open(&path, options))
        .await
        .context("opening storage")?;
    let db = match opened {
        Ok(db) => Arc::new(db),
        Err(err) => {
            let _ = stop_web.send(());
            let _ = web.await;
            return Err(anyhow!(err).context(format!(
                "opening storage at {}",
                args.storage_path.display()
            )));
        }
    };
    state.set_storage(Arc::clone(&db));
    info!("Storage opened; server is ready to receive web requests");

    let manager = ScrapeManager::new(db);
    if let Err(err) = manager.apply(&config) {
        manager.stop().await;
        drop(manager);
        let _ = stop_web.send(());
        let _ = web.await;
        close_storage(&state).await?;
        return Err(anyhow!(err).context(format!(
            "applying configuration file {}",
            args.config_file.display()
        )));
    }
    state.record_config_load(true);
    state.set_scrape_manager(Arc::clone(&manager));
    let (reload_tx, mut reloads) = mpsc::channel(4);
    if args.enable_lifecycle {
        state.set_reloader(reload_tx);
    } else {
        drop(reload_tx);
    }

    let mut failure = None;
    let signal = loop {
        tokio::select! {
            signal = signals.recv() => {
                if signal != "SIGHUP" {
                    break Some(signal);
                }
                let _ = reload(&args.config_file, &manager, &state);
            }
            Some(reply) = reloads.recv() => {
                let _ = reply.send(reload(&args.config_file, &manager, &state));
            }
            finished = &mut web => {
                let err = match finished {
                    Ok(Ok(())) => anyhow!("web server stopped unexpectedly"),
                    Ok(Err(err)) => anyhow!(err).context("web server"),
                    Err(err) => anyhow!(err).context("web server task"),
                };
                error!("{err:#}; shutting down");
                failure = Some(err);
                break None;
            }
        }
    };
    if let Some(signal) = signal {
        warn!(signal, "Received an OS signal, exiting gracefully");
    }
    info!("Stopping scrape manager");
    manager.stop().await;
    state.take_scrape_manager();
    drop(manager);
    info!("Scrape manager stopped");
    if signal.is_some() {
        info!("Stopping web server; waiting for in-flight requests");
        let _ = stop_web.send(());
        tokio::select! {
            finished = tokio::time::timeout(SHUTDOWN_GRACE, &mut web) => match finished {
                Ok(Ok(Ok(()))) => info!("Web server stopped"),
                Ok(Ok(Err(err))) => failure = Some(anyhow!(err).context("web server")),
                Ok(Err(err)) => failure = Some(anyhow!(err).context("web server task")),
                Err(_) => {
                    warn!(grace = ?SHUTDOWN_GRACE, "In-flight requests did not finish in time; closing them");
                    web.abort();
                }
            },
            signal = signals.recv() => {
                warn!(signal, "Second signal: not waiting for in-flight requests");
                web.abort();
            }
        }
    }

    close_storage(&state).await?;
    match failure {
        Some(err) => Err(err),
        None => {
            info!("See you next time!");
            Ok(())
        }
    }
}

/// Loads the configuration file again and applies it; on error the running
/// configuration stays and the reason is logged and returned.
fn reload(path: &std::path::Path, manager: &ScrapeManager, state: &ApiState) -> Result<(), String> {
    let result = load_config(path).and_then(|config| {
        manager.apply(&config).context("applying configuration")?;
        state.set_external_labels(config.global.external_labels.clone());
        Ok(())
    });
    state.record_config_load(result.is_ok());
    match result {
        Ok(()) => {
            state.set_config_text(config_text(path));
            info!(file = %path.display(), "Reloaded configuration file");
            Ok(())
        }
        Err(err) => {
            let why = format!("{err:#}");
            error!(file = %path.display(), error = %why, "Error reloading config; the running configuration stays");
            Err(why)
        }
    }
}

/// The configuration file's text for /api/v1/status/config (empty if unreadable).
fn config_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn load_config(path: &std::path::Path) -> anyhow::Result<Config> {
    info!(file = %path.display(), "Loading configuration file");
    let config = Config::load(path).context("loading configuration")?;
    for key in &config.unsupported_keys {
        warn!(
            file = %path.display(),
            key = key.as_str(),
            "Configuration key is accepted but not supported yet; it has no effect"
        );
    }
    info!(
        file = %path.display(),
        jobs = config.scrape_configs.len(),
        "Completed loading of configuration file"
    );
    Ok(config)
}

async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    // Like Go's net.Listen, ":9090" means every interface.
    let address = match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_string(),
    };
    TcpListener::bind(&address)
        .await
        .with_context(|| format!("listening on --web.listen-address={address}"))
}

/// A listener that holds at most `limit` connections open at once (as
/// Prometheus's `--web.max-connections`): `accept` waits for a slot. Its
/// connections close when nothing moves either way for `read_timeout`
/// (`--web.read-timeout`): a client that stops sending a request half-way, or an
/// idle keep-alive connection.
struct LimitedListener {
    inner: TcpListener,
    slots: Option<Arc<tokio::sync::Semaphore>>,
    read_timeout: Option<Duration>,
}

impl LimitedListener {
    fn new(inner: TcpListener, limit: usize, read_timeout: Duration) -> LimitedListener {
        let slots = (limit > 0).then(|| Arc::new(tokio::sync::Semaphore::new(limit)));
        let read_timeout = (!read_timeout.is_zero()).then_some(read_timeout);
        LimitedListener {
            inner,
            slots,
            read_timeout,
        }
    }
}

/// A connection holding its slot until dropped, timing out reads that wait
/// longer than the read timeout since the connection last moved.
struct LimitedIo {
    io: tokio::net::TcpStream,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    read_timeout: Option<Duration>,
    /// Armed while a read waits; cleared whenever bytes move either way.
    deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl LimitedIo {
    fn moved<T>(&mut self, poll: &std::task::Poll<std::io::Result<T>>) {
        if matches!(poll, std::task::Poll::Ready(Ok(_))) {
            self.deadline = None;
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedIo;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (LimitedIo, std::net::SocketAddr) {
        let slot = match &self.slots {
            // The semaphore is never closed, so acquiring only waits.
            Some(s) => Arc::clone(s).acquire_owned().await.ok(),
            None => None,
        };
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let io = LimitedIo {
            io,
            _slot: slot,
            read_timeout: self.read_timeout,
            deadline: None,
        };
        (io, addr)
    }

    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.local_addr()
    }
}

impl tokio::io::AsyncRead for LimitedIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.io).poll_read(cx, buf);
        if poll.is_ready() {
            self.moved(&poll);
            return poll;
        }
        let Some(timeout) = self.read_timeout else {
            return poll;
        };
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match deadline.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "read timed out (--web.read-timeout)",
            ))),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for LimitedIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.io).poll_write(cx, buf);
        self.moved(&poll);
        poll
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.moved(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Takes the database back from the handlers (the web server has stopped) and
/// closes it: head flushed, WAL closed, lock released.
async fn close_storage(state: &ApiState) -> anyhow::Result<()> {
    let Some(db) = state.take_storage() else {
        return Ok(());
    };
    info!("Stopping storage");
    let db = Arc::try_unwrap(db)
        .map_err(|_| anyhow!("storage is still in use by a request; it was not closed"))?;
    tokio::task::spawn_blocking(move || db.close())
        .await
        .context("closing storage")?
        .context("closing storage")?;
    info!("Storage closed");
    Ok(())
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
