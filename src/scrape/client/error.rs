//! Why a job's client could not be built ([`ClientError`]) and why one scrape
//! failed ([`ScrapeError`]).

use std::io;
use std::path::PathBuf;

/// Why a job's client could not be built: a TLS file unreadable or not valid PEM,
/// a bad `server_name`. Each names the file or setting.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("unable to read {what} file {}: {source}", path.display())]
    ReadFile {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("invalid {what} {origin}: {message}")]
    Pem {
        what: &'static str,
        origin: String,
        message: String,
    },
    #[error("invalid tls_config.server_name {name:?}")]
    ServerName { name: String },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Why one scrape failed. The `Display` text is what `/api/v1/targets` shows as
/// `lastError`, worded as Prometheus words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeError {
    /// The scrape's deadline passed (connecting, waiting or reading the body).
    #[error("Get {url:?}: context deadline exceeded")]
    Timeout { url: String },
    /// The request could not be sent or no response came (refused, TLS, too many
    /// redirects, …).
    #[error("Get {url:?}: {message}")]
    Request { url: String, message: String },
    /// The target answered with a status other than 200, e.g. `500 Internal
    /// Server Error`.
    #[error("server returned HTTP status {status}")]
    Status { status: String },
    /// The body, decompressed, reached `body_size_limit`.
    #[error("body size limit exceeded")]
    BodySizeLimit,
    /// The connection failed while the body was read.
    #[error("reading the response body: {message}")]
    Body { message: String },
    /// The server said gzip but the body is not valid gzip.
    #[error("gzip: {message}")]
    Gzip { message: String },
    /// A `password_file`, `credentials_file` or `bearer_token_file` could not be
    /// read.
    #[error("unable to read {what} file {}: {message}", path.display())]
    CredentialFile {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    /// A credential holds characters that cannot be sent in a header.
    #[error("invalid {what}: not a valid HTTP header value")]
    InvalidCredential { what: &'static str },
}
