//! The configuration file (`--config.file`), in Prometheus's format.
//!
//! Loading is two steps, with two sets of types. The YAML is read into raw serde
//! types that mirror Prometheus's keys (strict: unknown and duplicate keys are
//! errors, as in Prometheus); then they are resolved into [`Config`]: durations
//! parsed, defaults taken from `global`, `scrape_timeout <= scrape_interval` and
//! unique job names checked, and `relabel_configs` / `metric_relabel_configs`
//! compiled into [`RelabelConfig`](crate::relabel::RelabelConfig) rules with
//! Prometheus's defaults and checks. Code past this module sees only the
//! resolved types.
//!
//! Each section has its module, holding its raw type, its resolved type and the
//! code between them: `global` ([`GlobalConfig`]), `scrape` ([`ScrapeConfig`]
//! for each job), and the pieces a job is made of, which other sections will
//! share: `http` (the HTTP client settings, [`HttpClientConfig`] and
//! [`Secret`]), `discovery` ([`StaticConfig`], [`FileSdConfig`]) and `relabel`.
//! `rules` (`rule_files`, `alerting`) and `remote` (`remote_write`,
//! `remote_read`) keep their sections as written for now. `file` puts them
//! together: the whole file's raw type and [`Config`], loaded from a file or a
//! text. All of them resolve through one `Resolver`, which knows the file for
//! errors and relative paths.
//! [`check()`] is `check config` on top: the loaded file and what to warn about.
//!
//! Errors name the file, the line and column, and the key:
//!
//! ```text
//! prometheus.yml:7:22: scrape_configs[1].scrape_timeout: not a valid duration string: "m5"
//! prometheus.yml:12:16: scrape_configs[1].relabel_configs[0].regex: invalid regex "(": …
//! ```
//!
//! Relative file paths in a job (`password_file`, `credentials_file`,
//! `bearer_token_file`, the `tls_config` files, `file_sd_configs` files) are taken
//! from the config file's directory, as Prometheus's `SetDirectory` does; text
//! parsed without a file keeps them relative to the current directory.
//!
//! Sections tidemark does not implement yet (`alerting`, `remote_write`,
//! `oauth2`, most service discovery, …) are accepted so that real `prometheus.yml`
//! files load; [`Config::unsupported_keys`] lists the ones that were set.
//!
//! The configuration sits below the layers that use it (discovery, scraping,
//! the server) and above [`relabel`](crate::relabel), whose rules it compiles.

mod check;
mod discovery;
mod error;
mod file;
mod global;
mod http;
mod raw;
mod relabel;
mod remote;
mod resolver;
mod rules;
mod scrape;

pub use check::{CheckReport, CheckWarning, check};
pub use discovery::{DEFAULT_FILE_SD_REFRESH, FileSdConfig, StaticConfig};
pub use error::ConfigError;
pub use file::{Config, RawConfig};
pub use global::{
    DEFAULT_EVALUATION_INTERVAL, DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, GlobalConfig,
};
pub use http::{
    Authorization, BasicAuth, CredentialSource, HttpClientConfig, PemSource, Secret, TlsConfig,
};
pub use raw::RawValue;
pub use scrape::{DEFAULT_METRICS_PATH, Scheme, ScrapeConfig};

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tests;
