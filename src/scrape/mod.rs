//! Scraping. So far:
//!
//! - the configuration file that says what to scrape, read into validated
//!   [`Config`] values;
//! - relabeling ([`relabel`] over [`RelabelConfig`] rules), which rewrites target
//!   and sample labels as Prometheus does;
//! - file-based discovery: [`read_target_groups`] reads a `file_sd_configs` file
//!   (JSON or YAML) into target groups;
//! - [`populate`], which turns a discovered address into a [`Target`] (URL,
//!   interval, labels) as Prometheus's `PopulateLabels` does;
//! - [`ScrapeCache`], which stores one scrape's body as Prometheus's scrape loop
//!   does (target labels merged, staleness, the sample limit, the report series);
//! - [`HttpClient`], one job's HTTP client: a target's body fetched as Prometheus
//!   fetches it (headers, auth, TLS, gzip, the body size limit, the deadline).
//!
//! The scrape manager and the scrape loop come next.

mod append;
mod client;
mod config;
mod file_sd;
mod relabel;
mod target;

pub use append::{
    AppendFailure, AppendOptions, LabelLimits, ScrapeAppendError, ScrapeBody, ScrapeCache,
    ScrapeCounts, merge_target_labels,
};
pub use client::{ClientError, HttpClient, ScrapeError};
pub use config::{
    Authorization, BasicAuth, CredentialSource, HttpClientConfig, PemSource, Secret, TlsConfig,
};
pub use config::{
    Config, ConfigError, DEFAULT_EVALUATION_INTERVAL, DEFAULT_METRICS_PATH,
    DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, GlobalConfig, RawValue, Scheme, ScrapeConfig,
    StaticConfig,
};
pub use file_sd::{DEFAULT_FILE_SD_POLL_INTERVAL, FileSd, ReadErrors, validate_pattern};
pub use file_sd::{
    DEFAULT_FILE_SD_REFRESH, FILEPATH_LABEL, FileSdConfig, FileSdError, parse_target_groups,
    read_target_groups,
};
pub use relabel::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, RelabelConfig,
    RelabelConfigError, RelabelOptions, RelabelRegex, relabel,
};
pub use target::{Target, TargetError, populate};
