//! [`Server`]: start the server, then reload, stop and wait for it.

use std::net::SocketAddr;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::error::{ReloadError, ServerError};
use super::listener::{LimitedListener, bind};
use super::reload::shown;
use super::run::{Phase, Run, Stop};
use super::settings::Settings;
use crate::api::{self, ApiSettings, ApiState};
use crate::config::Config;
use crate::model::format_duration;

/// A running server. [`start`](Server::start) returns once it listens; storage
/// opens and scraping starts behind it ([`ready`](Server::ready)). Dropping it
/// stops the server as [`stop`](Server::stop) does, without waiting.
pub struct Server {
    local_addr: SocketAddr,
    reloads: mpsc::Sender<oneshot::Sender<Result<(), ReloadError>>>,
    stop: watch::Sender<Stop>,
    phase: watch::Receiver<Phase>,
    task: Option<JoinHandle<Result<(), ServerError>>>,
}

impl Server {
    /// Starts serving HTTP on `settings.listen_address` with `config`, then
    /// (in the background) opens storage and starts scraping. Fails only if the
    /// address cannot be bound; later failures end the server and
    /// [`wait`](Server::wait) returns them. Needs a tokio runtime with I/O and time.
    pub async fn start(settings: Settings, config: Config) -> Result<Server, ServerError> {
        let listener = bind(&settings.listen_address).await?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Listen {
                address: settings.listen_address.clone(),
                source,
            })?;
        info!(address = %local_addr, "Listening on");

        // Requests of `POST /-/reload`, when the lifecycle API is on.
        let (api_reload_tx, api_reloads) = mpsc::channel(4);
        let state = ApiState::new(ApiSettings {
            flags: settings.flags.clone(),
            retention: api::retention_text(
                settings.storage.retention_ms,
                settings.storage.retention_bytes,
            ),
            admin_api: settings.admin_api,
            remote_write_receiver: settings.remote_write_receiver,
            engine: settings.query.clone(),
            max_concurrent_queries: settings.query_max_concurrency,
            reloads: settings.lifecycle_api.then_some(api_reload_tx),
        });
        state.show_config(shown(&settings.config_file, &config));
        if !settings.read_timeout.is_zero() && settings.read_timeout < settings.query.timeout {
            warn!(
                read_timeout = %format_duration(settings.read_timeout),
                query_timeout = %format_duration(settings.query.timeout),
                "--web.read-timeout is shorter than --query.timeout: long queries lose their connection"
            );
        }
        let prefix = settings.route_prefix();
        if prefix != "/" {
            info!(prefix = prefix.as_str(), "Serving routes under a prefix");
        }
        let routes = api::router_under(state.clone(), &prefix);
        let (stop_web, web_stopped) = oneshot::channel::<()>();
        let web = tokio::spawn(
            axum::serve(
                LimitedListener::new(listener, settings.max_connections, settings.read_timeout),
                routes,
            )
            .with_graceful_shutdown(async {
                let _ = web_stopped.await;
            })
            .into_future(),
        );

        let (reload_tx, reloads) = mpsc::channel(4);
        let (stop, stop_rx) = watch::channel(Stop::Running);
        let (phase_tx, phase) = watch::channel(Phase::Starting);
        let run = Run {
            settings,
            config,
            state,
            web,
            stop_web: Some(stop_web),
            reloads,
            api_reloads,
            stop: stop_rx,
            phase: phase_tx,
        };
        Ok(Server {
            local_addr,
            reloads: reload_tx,
            stop,
            phase,
            task: Some(tokio::spawn(run.run())),
        })
    }

    /// The address HTTP listens on (with the port chosen when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until storage is open and scraping has started: `true`, or `false`
    /// if the server ended first (then [`wait`](Server::wait) says why) or has
    /// ended since.
    pub async fn ready(&self) -> bool {
        let mut phase = self.phase.clone();
        matches!(
            phase.wait_for(|p| *p != Phase::Starting).await.as_deref(),
            Ok(Phase::Ready)
        )
    }

    /// Loads the configuration file again and applies it, as `POST /-/reload`
    /// and SIGHUP do; on error the running configuration stays. A reload asked
    /// for while the server starts waits until it is ready.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let (reply, answer) = oneshot::channel();
        if self.reloads.send(reply).await.is_err() {
            return Err(ReloadError::Stopped);
        }
        answer.await.unwrap_or(Err(ReloadError::Stopped))
    }

    /// Asks the server to stop, in order: scraping, the web server (in-flight
    /// requests may finish within 30 seconds), then storage (head flushed, WAL
    /// closed). Returns at once; [`wait`](Server::wait) for the end. A stop asked
    /// for while the server starts takes effect once it is ready.
    pub fn stop(&self) {
        self.stop.send_if_modified(|s| {
            let running = *s == Stop::Running;
            if running {
                *s = Stop::Graceful;
            }
            running
        });
    }

    /// As [`stop`](Server::stop), without waiting for in-flight requests.
    pub fn stop_now(&self) {
        self.stop.send_replace(Stop::Now);
    }

    /// Waits until the server has ended, after [`stop`](Server::stop) or on a
    /// failure of its own, and returns how it ended. Cancel-safe; once it has
    /// returned, later calls return `Ok(())` at once.
    pub async fn wait(&mut self) -> Result<(), ServerError> {
        let Some(task) = &mut self.task else {
            return Ok(());
        };
        let ended = task.await;
        self.task = None;
        ended.unwrap_or_else(|source| {
            Err(ServerError::Task {
                what: "server task",
                source,
            })
        })
    }
}
