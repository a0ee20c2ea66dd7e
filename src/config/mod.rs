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
//! `remote_read`) keep their sections as written for now. All of them resolve
//! through one `Resolver`, which knows the file for errors and relative paths.
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
mod global;
mod http;
mod raw;
mod relabel;
mod remote;
mod resolver;
mod rules;
mod scrape;

use std::path::Path;

use serde_saphyr::{MessageFormatter as _, Spanned, UserMessageFormatter};

pub use check::{CheckReport, CheckWarning, check};
pub use discovery::{DEFAULT_FILE_SD_REFRESH, FileSdConfig, StaticConfig};
pub use error::ConfigError;
pub use global::{
    DEFAULT_EVALUATION_INTERVAL, DEFAULT_SCRAPE_INTERVAL, DEFAULT_SCRAPE_TIMEOUT, GlobalConfig,
};
pub use http::{
    Authorization, BasicAuth, CredentialSource, HttpClientConfig, PemSource, Secret, TlsConfig,
};
pub use raw::RawValue;
pub use scrape::{DEFAULT_METRICS_PATH, Scheme, ScrapeConfig};

use global::RawGlobal;
use raw::raw_struct;
use resolver::Resolver;
use scrape::RawScrapeConfig;

raw_struct! {
    /// The whole file.
    pub struct RawConfig {
        pub global: Option<RawGlobal>,
        pub scrape_configs: Option<Vec<Spanned<RawScrapeConfig>>>,
        pub rule_files: Option<Vec<String>>,
        pub alerting: Option<RawValue>,
        pub remote_write: Option<Vec<RawValue>>,
        pub remote_read: Option<Vec<RawValue>>,
    }
    accepted {
        scrape_config_files,
        runtime,
        storage,
        tracing,
        otlp,
    }
}

/// A loaded, validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `global:` with its defaults applied.
    pub global: GlobalConfig,
    /// `scrape_configs:`, in file order, job names unique.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// `rule_files:` as written (globs); not evaluated yet.
    pub rule_files: Vec<String>,
    /// `alerting:` as written; not used yet.
    pub alerting: Option<RawValue>,
    /// `remote_write:` as written; not used yet.
    pub remote_write: Vec<RawValue>,
    /// `remote_read:` as written; not used yet.
    pub remote_read: Vec<RawValue>,
    /// Keys that were set and accepted but have no effect yet, as paths such as
    /// `remote_write` or `scrape_configs[0].tls_config`. The server logs a warning
    /// for each.
    pub unsupported_keys: Vec<String>,
}

impl Default for Config {
    /// The configuration of an empty file: global defaults, no jobs.
    fn default() -> Self {
        Config {
            global: GlobalConfig::default(),
            scrape_configs: Vec::new(),
            rule_files: Vec::new(),
            alerting: None,
            remote_write: Vec::new(),
            remote_read: Vec::new(),
            unsupported_keys: Vec::new(),
        }
    }
}

impl Config {
    /// Reads and resolves the configuration file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::resolve(&text, &path.display().to_string(), path.parent())
    }

    /// Resolves configuration text; errors call the source `<input>`.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_named(text, "<input>")
    }

    /// Resolves configuration text; errors call the source `name`.
    pub fn parse_named(text: &str, name: &str) -> Result<Config, ConfigError> {
        Config::resolve(text, name, None)
    }

    /// Resolves configuration text whose relative paths are taken from `dir`.
    fn resolve(text: &str, name: &str, dir: Option<&Path>) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|err| {
            let (line, column) = err
                .location()
                .map_or((0, 0), |loc| (loc.line(), loc.column()));
            ConfigError::Invalid {
                file: name.to_string(),
                line,
                column,
                message: UserMessageFormatter
                    .format_message(&err)
                    .escape_debug()
                    .to_string(),
            }
        })?;
        // `load("prometheus.yml")` has the parent "": nothing to join.
        let dir = dir.filter(|d| !d.as_os_str().is_empty());
        Resolver { file: name, dir }.config(raw)
    }

    /// The scrape config of job `name`.
    pub fn job(&self, name: &str) -> Option<&ScrapeConfig> {
        self.scrape_configs.iter().find(|c| c.job_name == name)
    }
}

impl Resolver<'_> {
    /// The whole file. Keys without effect are listed in this order: the
    /// top-level ones, `global`'s, each job's, then the sections kept as
    /// written.
    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut unsupported: Vec<String> = raw
            .accepted_unsupported()
            .into_iter()
            .map(String::from)
            .collect();
        let global = self.global(raw.global.unwrap_or_default(), &mut unsupported)?;
        let scrape_configs = self.scrape_configs(raw.scrape_configs, &global, &mut unsupported)?;
        let rule_files = rules::rule_files(raw.rule_files, &mut unsupported);
        let alerting = rules::alerting(raw.alerting, &mut unsupported);
        let remote_write = remote::endpoints("remote_write", raw.remote_write, &mut unsupported);
        let remote_read = remote::endpoints("remote_read", raw.remote_read, &mut unsupported);
        Ok(Config {
            global,
            scrape_configs,
            rule_files,
            alerting,
            remote_write,
            remote_read,
            unsupported_keys: unsupported,
        })
    }
}

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tests;
