//! The scrape HTTP client: one GET of a target's metrics, as Prometheus's
//! `targetScraper.scrape` does it.
//!
//! One [`HttpClient`] per job holds the job's connections, so connections to a
//! target are kept alive across scrapes: plain-HTTP targets are scraped by the
//! small HTTP/1.1 client of [`http1`], HTTPS ones (and redirects) by reqwest. A
//! scrape asks for OpenMetrics first and the text format after, with gzip unless
//! `enable_compression: false`; the body is streamed into the caller's buffer
//! (gunzipped on the way when the server sent gzip) and stops at
//! `body_size_limit` counted in decompressed bytes, so neither a large body nor
//! a gzip bomb is ever held past the limit. Credentials named by a file are read
//! at every scrape, so a rotated token needs no reload.

mod error;
mod http1;
mod tls;

pub use error::{ClientError, ScrapeError};

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use flate2::write::MultiGzDecoder;
use reqwest::header::{self, HeaderMap, HeaderValue};

use crate::config::{Authorization, BasicAuth, CredentialSource, Scheme, ScrapeConfig};
use crate::exposition::Format;

/// The `Accept` header of a scrape: OpenMetrics preferred, then the text format
/// (Prometheus 2.42's).
const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The `User-Agent` of scrapes.
const USER_AGENT: &str = concat!("tidemark/", env!("CARGO_PKG_VERSION"));

/// How many redirects a scrape follows when `follow_redirects` is on (Go's limit).
const MAX_REDIRECTS: usize = 10;

/// The HTTP client of one scrape job; share it as `Arc<HttpClient>` between the
/// job's target loops.
pub struct HttpClient {
    client: reqwest::Client,
    /// Kept-alive connections of plain-HTTP targets (None for `scheme: https`).
    plain: Option<http1::Pool>,
    /// Whether a redirect is followed (by reqwest) or is an error.
    follow_redirects: bool,
    /// The headers every scrape request carries, as `Name: value\r\n` lines.
    fixed_headers: String,
    basic_auth: Option<BasicAuth>,
    authorization: Option<Authorization>,
    /// 0: no limit.
    body_size_limit: u64,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("basic_auth", &self.basic_auth)
            .field("authorization", &self.authorization)
            .field("body_size_limit", &self.body_size_limit)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds the client of `config`: TLS files are read now (a bad CA or client
    /// certificate fails here, naming the file); credential files at each scrape.
    pub fn new(config: &ScrapeConfig) -> Result<HttpClient, ClientError> {
        let http = &config.http_client;
        let tls = tls::client_config(&http.tls, http.enable_http2)?;
        let accept_encoding = if config.enable_compression {
            "gzip"
        } else {
            "identity"
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(SCRAPE_ACCEPT_HEADER),
        );
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(accept_encoding),
        );
        let fixed_headers = format!(
            "User-Agent: {USER_AGENT}\r\nAccept: {SCRAPE_ACCEPT_HEADER}\r\nAccept-Encoding: {accept_encoding}\r\n"
        );
        let redirects = if http.follow_redirects {
            reqwest::redirect::Policy::limited(MAX_REDIRECTS)
        } else {
            reqwest::redirect::Policy::none()
        };
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            // Prometheus uses a proxy only when the job configures one.
            .no_proxy()
            .redirect(redirects)
            .default_headers(headers)
            .user_agent(USER_AGENT);
        if !http.enable_http2 {
            builder = builder.http1_only();
        }
        // Plain-HTTP scrapes go through `http1` and its own kept connections;
        // reqwest serves them only to follow a redirect, rarely enough that a
        // kept connection (whose read buffer hyper grows to the body's size)
        // would cost more memory than a new one costs time.
        if config.scheme == Scheme::Http {
            builder = builder.pool_max_idle_per_host(0);
        }
        let client = builder
            .build()
            .map_err(|err| ClientError::Build(error_chain(&err)))?;
        Ok(HttpClient {
            client,
            plain: (config.scheme == Scheme::Http).then(http1::Pool::default),
            follow_redirects: http.follow_redirects,
            fixed_headers,
            basic_auth: http.basic_auth.clone(),
            authorization: http.authorization.clone(),
            body_size_limit: config.body_size_limit,
        })
    }

    /// GETs `url`, the body (decompressed) appended into `body` (cleared first), the
    /// format chosen from Content-Type. Honors the config's body_size_limit,
    /// auth, TLS, redirects, compression. `timeout` is the whole scrape's deadline.
    ///
    /// On error `body` is left empty.
    pub async fn scrape(
        &self,
        url: &str,
        timeout: Duration,
        body: &mut Vec<u8>,
    ) -> Result<Format, ScrapeError> {
        body.clear();
        let result = match tokio::time::timeout(timeout, self.fetch(url, timeout, body)).await {
            Ok(result) => result,
            Err(_) => Err(ScrapeError::Timeout {
                url: url.to_string(),
            }),
        };
        if result.is_err() {
            body.clear();
        }
        result
    }

    async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        body: &mut Vec<u8>,
    ) -> Result<Format, ScrapeError> {
        // Go's FormatFloat(secs, 'f', -1): "10", "0.2".
        let timeout_header = crate::model::float::format_f(timeout.as_secs_f64());
        let authorization = self.authorization()?;
        if let Some(pool) = &self.plain
            && let Some(target) = http1::Target::of(url)
        {
            let fetched = self
                .fetch_plain(
                    pool,
                    &target,
                    url,
                    &timeout_header,
                    authorization.as_ref(),
                    body,
                )
                .await?;
            if let Some(format) = fetched {
                return Ok(format);
            }
            // A redirect: reqwest follows it.
            body.clear();
        }
        let mut request = self
            .client
            .get(url)
            .header("X-Prometheus-Scrape-Timeout-Seconds", timeout_header);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let request_error = |err: reqwest::Error| ScrapeError::Request {
            url: url.to_string(),
            message: error_chain(&err),
        };
        let mut response = request.send().await.map_err(request_error)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(status_error(response.status()));
        }
        let header_text = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let format = header_text(header::CONTENT_TYPE)
            .and_then(Format::from_content_type)
            .unwrap_or(Format::Text);
        let mut sink = BodySink::new(
            body,
            self.body_size_limit,
            header_text(header::CONTENT_ENCODING),
        );
        let body_error = |err: reqwest::Error| ScrapeError::Body {
            message: error_chain(&err),
        };
        while let Some(chunk) = response.chunk().await.map_err(body_error)? {
            sink.write(&chunk)?;
        }
        sink.finish()?;
        Ok(format)
    }

    /// A scrape of a plain-HTTP target over a kept connection; `Ok(None)` when
    /// the target redirects and redirects are to be followed.
    async fn fetch_plain(
        &self,
        pool: &http1::Pool,
        target: &http1::Target,
        url: &str,
        timeout_header: &str,
        authorization: Option<&HeaderValue>,
        body: &mut Vec<u8>,
    ) -> Result<Option<Format>, ScrapeError> {
        let mut request = target.request_head();
        request.push_str(&self.fixed_headers);
        request.push_str("X-Prometheus-Scrape-Timeout-Seconds: ");
        request.push_str(timeout_header);
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        if let Some(value) = authorization {
            request.extend_from_slice(b"Authorization: ");
            request.extend_from_slice(value.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        let plain_error = |err: http1::Error| match err {
            http1::Error::Connect(e) => ScrapeError::Request {
                url: url.to_string(),
                message: format!("tcp connect error: {e}"),
            },
            http1::Error::Request(message) => ScrapeError::Request {
                url: url.to_string(),
                message,
            },
            http1::Error::Body(message) => ScrapeError::Body { message },
        };
        let mut response = http1::send(pool, target, &request)
            .await
            .map_err(plain_error)?;
        let status =
            reqwest::StatusCode::from_u16(response.status).map_err(|_| ScrapeError::Status {
                status: response.status.to_string(),
            })?;
        if status.is_redirection() && self.follow_redirects {
            return Ok(None);
        }
        if status != reqwest::StatusCode::OK {
            return Err(status_error(status));
        }
        let format = response
            .content_type
            .as_deref()
            .and_then(Format::from_content_type)
            .unwrap_or(Format::Text);
        let encoding = response.content_encoding.take();
        let mut sink = BodySink::new(body, self.body_size_limit, encoding.as_deref());
        while let Some(chunk) = response.chunk().await.map_err(plain_error)? {
            sink.write(chunk)?;
        }
        sink.finish()?;
        response.finish(pool, target);
        Ok(Some(format))
    }

    /// The `Authorization` header of the job's `basic_auth` or `authorization`,
    /// credential files read now.
    fn authorization(&self) -> Result<Option<HeaderValue>, ScrapeError> {
        let mut value = if let Some(auth) = &self.basic_auth {
            let password = match &auth.password {
                Some(source) => credential(source, "basic auth password")?,
                None => String::new(),
            };
            let pair = format!("{}:{password}", auth.username);
            HeaderValue::try_from(format!("Basic {}", BASE64_STANDARD.encode(pair))).map_err(
                |_| ScrapeError::InvalidCredential {
                    what: "basic auth credentials",
                },
            )?
        } else if let Some(auth) = &self.authorization
            && let Some(source) = &auth.credentials
        {
            let credentials = credential(source, "authorization credentials")?;
            if credentials.is_empty() {
                return Ok(None);
            }
            HeaderValue::try_from(format!("{} {credentials}", auth.kind)).map_err(|_| {
                ScrapeError::InvalidCredential {
                    what: "authorization credentials",
                }
            })?
        } else {
            return Ok(None);
        };
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

/// `server returned HTTP status 500 Internal Server Error`.
fn status_error(status: reqwest::StatusCode) -> ScrapeError {
    ScrapeError::Status {
        status: match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        },
    }
}

/// Where the pieces of a body go: into the scrape buffer, through a gzip
/// decoder when the server said gzip, stopping at the size limit.
enum BodySink<'a> {
    Plain(LimitedSink<'a>),
    Gzip(Box<MultiGzDecoder<LimitedSink<'a>>>),
}

impl<'a> BodySink<'a> {
    fn new(body: &'a mut Vec<u8>, limit: u64, content_encoding: Option<&str>) -> BodySink<'a> {
        let sink = LimitedSink {
            body,
            limit,
            exceeded: false,
        };
        if content_encoding == Some("gzip") {
            BodySink::Gzip(Box::new(MultiGzDecoder::new(sink)))
        } else {
            BodySink::Plain(sink)
        }
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), ScrapeError> {
        match self {
            BodySink::Plain(sink) => sink
                .write_all(chunk)
                .map_err(|_| ScrapeError::BodySizeLimit),
            BodySink::Gzip(decoder) => decoder
                .write_all(chunk)
                .map_err(|err| gzip_error(decoder.get_ref(), &err)),
        }
    }

    fn finish(self) -> Result<(), ScrapeError> {
        match self {
            BodySink::Plain(_) => Ok(()),
            BodySink::Gzip(mut decoder) => decoder
                .try_finish()
                .map_err(|err| gzip_error(decoder.get_ref(), &err)),
        }
    }
}

/// A write error of the gzip path: the size limit, or a bad stream.
fn gzip_error(sink: &LimitedSink<'_>, err: &io::Error) -> ScrapeError {
    if sink.exceeded {
        ScrapeError::BodySizeLimit
    } else {
        ScrapeError::Gzip {
            message: err.to_string(),
        }
    }
}

/// Appends to the scrape buffer and refuses the write that would bring it to
/// the limit: Prometheus reads at most `limit` bytes and fails when it got that
/// many, so a body must be smaller than the limit.
struct LimitedSink<'a> {
    body: &'a mut Vec<u8>,
    /// 0: no limit.
    limit: u64,
    exceeded: bool,
}

impl Write for LimitedSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.limit > 0 && (self.body.len() + buf.len()) as u64 >= self.limit {
            self.exceeded = true;
            return Err(io::Error::other("body size limit exceeded"));
        }
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads a credential, from the config or its file; a file's content is trimmed
/// as Prometheus trims it.
fn credential(source: &CredentialSource, what: &'static str) -> Result<String, ScrapeError> {
    match source {
        CredentialSource::Inline(secret) => Ok(secret.expose().to_string()),
        CredentialSource::File(path) => read_credential(path, what),
    }
}

fn read_credential(path: &Path, what: &'static str) -> Result<String, ScrapeError> {
    // A few bytes from a local file: cheap enough to read on the runtime thread.
    let text = std::fs::read_to_string(path).map_err(|err| ScrapeError::CredentialFile {
        what,
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    Ok(text.trim().to_string())
}

/// An error and its causes joined by `": "`, as Go prints wrapped errors.
/// reqwest's own top line ("error sending request for url (…)") repeats the URL
/// and hyper-util's ("client error (Connect)") says nothing: both are left out
/// when there is a cause.
fn error_chain(err: &reqwest::Error) -> String {
    if err.is_redirect() {
        // The only redirect error of a `limited` policy; Go's wording.
        return format!("stopped after {MAX_REDIRECTS} redirects");
    }
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.starts_with("client error (") {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_refuses_the_write_that_reaches_the_limit() {
        let mut body = Vec::new();
        let mut sink = LimitedSink {
            body: &mut body,
            limit: 10,
            exceeded: false,
        };
        sink.write_all(b"123456789").unwrap();
        assert!(sink.write_all(b"0").is_err());
        assert!(sink.exceeded);
        assert_eq!(body, b"123456789");
    }

    #[test]
    fn zero_limit_is_no_limit() {
        let mut body = Vec::new();
        let mut sink = LimitedSink {
            body: &mut body,
            limit: 0,
            exceeded: false,
        };
        sink.write_all(&[0; 100_000]).unwrap();
        assert_eq!(body.len(), 100_000);
    }

    #[test]
    fn errors_read_as_prometheus_words_them() {
        let err = ScrapeError::Status {
            status: "500 Internal Server Error".to_string(),
        };
        assert_eq!(
            err.to_string(),
            "server returned HTTP status 500 Internal Server Error"
        );
        let err = ScrapeError::Timeout {
            url: "http://a:9100/metrics".to_string(),
        };
        assert_eq!(
            err.to_string(),
            "Get \"http://a:9100/metrics\": context deadline exceeded"
        );
        assert_eq!(
            ScrapeError::BodySizeLimit.to_string(),
            "body size limit exceeded"
        );
    }
}
