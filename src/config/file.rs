//! The whole file: [`RawConfig`] as read, [`Config`] resolved from it, and how
//! a file or a text is loaded into it.

use std::path::Path;

use serde_saphyr::{MessageFormatter as _, Spanned, UserMessageFormatter};

use super::error::ConfigError;
use super::global::{GlobalConfig, RawGlobal};
use super::raw::{RawValue, raw_struct};
use super::resolver::Resolver;
use super::scrape::{RawScrapeConfig, ScrapeConfig};
use super::{remote, rules};

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
