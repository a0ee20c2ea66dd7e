//! The server's task behind [`Server`](super::Server): open storage, start
//! scraping, answer reloads until asked to stop, then stop in order: scraping,
//! the web server (in-flight requests finishing within [`SHUTDOWN_GRACE`]),
//! storage (head flushed, WAL closed).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use super::error::{ReloadError, ServerError, error_chain};
use super::reload::reload;
use super::settings::Settings;
use crate::api::{ApiState, ReloadRequest};
use crate::config::Config;
use crate::model::format_duration;
use crate::scrape::ScrapeManager;
use crate::tsdb::Db;

/// How long in-flight requests may take to finish once the server stops.
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Whether the server was asked to stop, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Running,
    /// Let in-flight requests finish, within the grace.
    Graceful,
    /// Do not wait for in-flight requests.
    Now,
}

/// How far the server got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Listening; storage opening, scraping not started.
    Starting,
    /// Storage open, scraping started.
    Ready,
    /// Stopped, or failed.
    Ended,
}

/// What the task owns: the listening web server and the channels from the
/// [`Server`](super::Server) handle and from `POST /-/reload`.
pub(super) struct Run {
    pub settings: Settings,
    pub config: Config,
    pub state: ApiState,
    pub web: JoinHandle<std::io::Result<()>>,
    /// Taken when the web server is asked to stop.
    pub stop_web: Option<oneshot::Sender<()>>,
    pub reloads: mpsc::Receiver<oneshot::Sender<Result<(), ReloadError>>>,
    pub api_reloads: mpsc::Receiver<ReloadRequest>,
    pub stop: watch::Receiver<Stop>,
    pub phase: watch::Sender<Phase>,
}

impl Run {
    /// Runs the server to its end; the phase is `Ended` afterwards, however it ends.
    pub(super) async fn run(self) -> Result<(), ServerError> {
        let phase = self.phase.clone();
        let ended = self.serve().await;
        phase.send_replace(Phase::Ended);
        ended
    }

    async fn serve(mut self) -> Result<(), ServerError> {
        let path = self.settings.storage_path.clone();
        let options = self.settings.storage.clone();
        info!(
            path = %path.display(),
            retention = %format_duration(Duration::from_millis(options.retention_ms.unsigned_abs())),
            retention_size = options.retention_bytes,
            "Opening storage"
        );
        let opened = tokio::task::spawn_blocking(move || Db::open(&path, options)).await;
        let db = match opened {
            Ok(Ok(db)) => Arc::new(db),
            Ok(Err(source)) => {
                self.stop_web().await;
                return Err(ServerError::OpenStorage {
                    path: self.settings.storage_path.clone(),
                    source,
                });
            }
            Err(source) => {
                self.stop_web().await;
                return Err(ServerError::Task {
                    what: "opening storage",
                    source,
                });
            }
        };
        self.state.storage_opened(Arc::clone(&db));
        info!("Storage opened; server is ready to receive web requests");

        let manager = ScrapeManager::new(db);
        if let Err(source) = manager.apply(&self.config) {
            manager.stop().await;
            drop(manager);
            self.stop_web().await;
            close_storage(&self.state).await?;
            return Err(ServerError::ApplyConfig {
                path: self.settings.config_file.clone(),
                source,
            });
        }
        self.state.record_config_load(true);
        self.state.scraping_started(Arc::clone(&manager));
        self.phase.send_replace(Phase::Ready);

        let failure = self.until_stopped(&manager).await;
        info!("Stopping scrape manager");
        manager.stop().await;
        self.state.scraping_stopped();
        drop(manager);
        info!("Scrape manager stopped");
        let failure = match failure {
            Some(err) => Some(err),
            None => self.stop_web_within_grace().await,
        };
        close_storage(&self.state).await?;
        failure.map_or(Ok(()), Err)
    }

    /// Answers reloads until a stop is asked for (`None`) or the web server
    /// fails (its error).
    async fn until_stopped(&mut self, manager: &ScrapeManager) -> Option<ServerError> {
        let path = &self.settings.config_file;
        loop {
            tokio::select! {
                // A dropped handle stops the server too.
                _ = self.stop.wait_for(|s| *s != Stop::Running) => return None,
                Some(reply) = self.reloads.recv() => {
                    let _ = reply.send(reload(path, manager, &self.state));
                }
                Some(reply) = self.api_reloads.recv() => {
                    let result = reload(path, manager, &self.state);
                    let _ = reply.send(result.map_err(|err| error_chain(&err)));
                }
                finished = &mut self.web => {
                    let err = match finished {
                        Ok(Ok(())) => ServerError::WebEnded,
                        Ok(Err(err)) => ServerError::Web(err),
                        Err(source) => ServerError::Task { what: "web server task", source },
                    };
                    error!("{}; shutting down", error_chain(&err));
                    return Some(err);
                }
            }
        }
    }

    /// Asks the web server to stop taking connections and to finish.
    fn signal_web_stop(&mut self) {
        if let Some(stop_web) = self.stop_web.take() {
            let _ = stop_web.send(());
        }
    }

    /// Stops the web server and waits for it, when start-up failed.
    async fn stop_web(&mut self) {
        self.signal_web_stop();
        let _ = (&mut self.web).await;
    }

    /// Stops the web server, letting in-flight requests finish within the
    /// grace unless a stop without waiting is asked for; a failure it ends with.
    async fn stop_web_within_grace(&mut self) -> Option<ServerError> {
        info!("Stopping web server; waiting for in-flight requests");
        self.signal_web_stop();
        let stop = &mut self.stop;
        let now = async {
            if stop.wait_for(|s| *s == Stop::Now).await.is_err() {
                // The handle is gone: nobody can ask any more.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            finished = tokio::time::timeout(SHUTDOWN_GRACE, &mut self.web) => match finished {
                Ok(Ok(Ok(()))) => {
                    info!("Web server stopped");
                    None
                }
                Ok(Ok(Err(err))) => Some(ServerError::Web(err)),
                Ok(Err(source)) => Some(ServerError::Task { what: "web server task", source }),
                Err(_) => {
                    warn!(grace = ?SHUTDOWN_GRACE, "In-flight requests did not finish in time; closing them");
                    self.web.abort();
                    None
                }
            },
            () = now => {
                self.web.abort();
                None
            }
        }
    }
}

/// Takes storage back from the handlers (the web server has stopped) and
/// closes it: head flushed, WAL closed, lock released.
async fn close_storage(state: &ApiState) -> Result<(), ServerError> {
    let Some(db) = state.take_storage() else {
        return Ok(());
    };
    info!("Stopping storage");
    let db = Arc::try_unwrap(db).map_err(|_| ServerError::StorageInUse)?;
    tokio::task::spawn_blocking(move || db.close())
        .await
        .map_err(|source| ServerError::Task {
            what: "closing storage",
            source,
        })?
        .map_err(ServerError::CloseStorage)?;
    info!("Storage closed");
    Ok(())
}
