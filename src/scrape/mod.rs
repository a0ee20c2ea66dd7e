//! Scraping: what a Prometheus server's scrape manager does.
//!
//! [`ScrapeManager`] is the entry point: [`ScrapeManager::apply`] takes a
//! [`Config`] (at start and on every reload) and runs one scrape loop per
//! target, storing into a [`Db`](crate::tsdb::Db); [`ScrapeManager::targets`]
//! says how each target is doing (as `/api/v1/targets` shows it), and
//! [`ScrapeManager::stop`] ends it all. The pieces it is made of:
//!
//! - the configuration file that says what to scrape, read into validated
//!   [`Config`] values;
//! - discovery: `static_configs`, and `file_sd_configs` files followed by
//!   [`FileSd`] (JSON or YAML target groups, re-read when they change);
//! - [`populate`], which turns a discovered address into a [`Target`] (URL,
//!   interval, labels) through the job's `relabel_configs` ([`relabel`] over
//!   [`RelabelConfig`] rules), as Prometheus's `PopulateLabels` does;
//! - [`HttpClient`], one job's HTTP client: a target's body fetched as Prometheus
//!   fetches it (headers, auth, TLS, gzip, the body size limit, the deadline);
//! - the scrape loop: a fixed phase per target, aligned timestamps, the report
//!   series, and stale markers when series, scrapes or targets go away;
//! - [`ScrapeCache`], which stores one scrape's body as Prometheus's scrape loop
//!   does (target labels merged, metric relabeling, staleness, the limits) and
//!   keeps the target's [`TargetMetadata`] (its HELP, TYPE and UNIT lines).

mod append;
mod client;
mod config;
mod file_sd;
mod manager;
mod metadata;
mod relabel;
mod scrape_loop;
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
pub use manager::{ActiveTarget, ApplyError, DroppedTarget, ScrapeManager, ScrapeStats};
pub use metadata::{MetricMetadata, TargetMetadata};
pub use relabel::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, RelabelConfig,
    RelabelConfigError, RelabelOptions, RelabelRegex, relabel,
};
pub use scrape_loop::{Health, TargetStatus};
pub use target::{Target, TargetError, populate, with_job_defaults};
