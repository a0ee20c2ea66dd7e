//! Why the server could not start, failed while running, or did not stop cleanly
//! ([`ServerError`]), and why a reload was refused ([`ReloadError`]).

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::scrape::ApplyError;
use crate::tsdb::DbError;

/// Why the server could not start, failed, or did not stop cleanly. Its
/// [`source`](std::error::Error::source) chain carries the underlying error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listen address could not be bound.
    #[error("listening on --web.listen-address={address}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    /// Storage did not open (e.g. another process holds its lock).
    #[error("opening storage at {}", path.display())]
    OpenStorage { path: PathBuf, source: DbError },
    /// The configuration could not be applied at start.
    #[error("applying configuration file {}", path.display())]
    ApplyConfig { path: PathBuf, source: ApplyError },
    /// The web server failed.
    #[error("web server")]
    Web(#[source] std::io::Error),
    /// The web server ended without being asked to.
    #[error("web server stopped unexpectedly")]
    WebEnded,
    /// A request still held storage when it was to be closed; it was left open.
    #[error("storage is still in use by a request; it was not closed")]
    StorageInUse,
    /// Closing storage failed.
    #[error("closing storage")]
    CloseStorage(#[source] DbError),
    /// A task of the server panicked or was cancelled.
    #[error("{what}")]
    Task {
        what: &'static str,
        source: tokio::task::JoinError,
    },
}

/// Why a reload was refused; the running configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file could not be read or is not a valid configuration.
    #[error("loading configuration")]
    Load(#[source] ConfigError),
    /// The new configuration could not be applied.
    #[error("applying configuration")]
    Apply(#[source] ApplyError),
    /// The server is stopping or has stopped.
    #[error("shutting down")]
    Stopped,
}

/// `err` and its sources, joined by `": "`.
pub(super) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
