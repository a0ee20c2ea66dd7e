//! The configuration file (`--config.file`), in Prometheus's format.
//!
//! Loading is two steps, with two sets of types. The YAML is read into the raw serde
//! types of `raw` (strict: unknown and duplicate keys are errors, as in Prometheus);
//! then [`Config`] resolves them: durations parsed, defaults taken from `global`,
//! `scrape_timeout <= scrape_interval` and unique job names checked, and
//! `relabel_configs` / `metric_relabel_configs` compiled into
//! [`RelabelConfig`](super::RelabelConfig) rules with Prometheus's defaults and
//! checks. Code past this module sees only the resolved types.
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

mod http;
mod raw;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_saphyr::{Location, MessageFormatter as _, Spanned, UserMessageFormatter};

use super::file_sd::{DEFAULT_FILE_SD_REFRESH, FileSdConfig};
use super::relabel::{RelabelConfig, RelabelOptions};
use crate::model::{format_duration, parse_bytes, parse_duration};
use raw::{
    Located, RawConfig, RawFileSdConfig, RawGlobal, RawRelabelConfig, RawScrapeConfig,
    RawStaticConfig,
};

pub use http::{
    Authorization, BasicAuth, CredentialSource, HttpClientConfig, PemSource, Secret, TlsConfig,
};

pub use raw::RawValue;

/// Default `global.scrape_interval`.
pub const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(60);
/// Default `global.scrape_timeout` (never more than the scrape interval).
pub const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `global.evaluation_interval`.
pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);
/// Default `metrics_path` of a scrape config.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

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

/// `global:`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    /// How often targets are scraped unless a job says otherwise (default 1m).
    pub scrape_interval: Duration,
    /// How long a scrape may take unless a job says otherwise (default 10s, at most
    /// the scrape interval).
    pub scrape_timeout: Duration,
    /// How often rules are evaluated (default 1m).
    pub evaluation_interval: Duration,
    /// Labels added to series and alerts sent to other systems.
    pub external_labels: BTreeMap<String, String>,
    /// Default of the jobs' `body_size_limit` (0: none).
    pub body_size_limit: u64,
    /// Default of the jobs' `sample_limit` (0: none).
    pub sample_limit: usize,
    /// Default of the jobs' `label_limit` (0: none).
    pub label_limit: usize,
    /// Default of the jobs' `label_name_length_limit` (0: none).
    pub label_name_length_limit: usize,
    /// Default of the jobs' `label_value_length_limit` (0: none).
    pub label_value_length_limit: usize,
}

/// One entry of `scrape_configs:`, with the global defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    /// The `job` label of every target; unique in the file.
    pub job_name: String,
    /// How often this job's targets are scraped.
    pub scrape_interval: Duration,
    /// How long a scrape may take; never more than `scrape_interval`.
    pub scrape_timeout: Duration,
    /// The HTTP path scraped on each target (default `/metrics`).
    pub metrics_path: String,
    /// `http` (default) or `https`.
    pub scheme: Scheme,
    /// Keep the target's labels when they clash with ours (default false).
    pub honor_labels: bool,
    /// Keep the timestamps the target exposes (default true).
    pub honor_timestamps: bool,
    /// URL query parameters sent with each scrape.
    pub params: BTreeMap<String, Vec<String>>,
    /// `static_configs:`.
    pub static_configs: Vec<StaticConfig>,
    /// `relabel_configs:`: rules applied to each target's labels before it is
    /// scraped.
    pub relabel_configs: Vec<RelabelConfig>,
    /// `metric_relabel_configs:`: rules applied to each scraped sample's labels.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Authentication, TLS, redirects and HTTP/2 of the scrape requests.
    pub http_client: HttpClientConfig,
    /// Ask for gzip (default true); when false the scrape asks for `identity`.
    pub enable_compression: bool,
    /// A scrape whose (decompressed) body is larger fails; 0: no limit.
    pub body_size_limit: u64,
    /// A scrape with more samples (after metric relabeling) fails; 0: no limit.
    pub sample_limit: usize,
    /// A scrape with a series of more labels fails; 0: no limit.
    pub label_limit: usize,
    /// A scrape with a longer label name fails; 0: no limit.
    pub label_name_length_limit: usize,
    /// A scrape with a longer label value fails; 0: no limit.
    pub label_value_length_limit: usize,
    /// `file_sd_configs:`, file paths resolved against the config file's
    /// directory.
    pub file_sd_configs: Vec<FileSdConfig>,
}

/// One entry of `static_configs:`: a group of targets sharing labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels added to every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// The URL scheme used to scrape a job's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid YAML, does not fit the schema, or fails validation.
    /// `line` and `column` are 1-based; 0 when unknown.
    #[error("{file}{}: {message}", position(*line, *column))]
    Invalid {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
}

fn position(line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!(":{l}"),
        (l, c) => format!(":{l}:{c}"),
    }
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: DEFAULT_SCRAPE_INTERVAL,
            scrape_timeout: DEFAULT_SCRAPE_TIMEOUT,
            evaluation_interval: DEFAULT_EVALUATION_INTERVAL,
            external_labels: BTreeMap::new(),
            body_size_limit: 0,
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
        }
    }
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

/// Turns raw types into resolved ones; knows the file name for errors and its
/// directory for relative paths.
struct Resolver<'a> {
    file: &'a str,
    dir: Option<&'a Path>,
}

impl Resolver<'_> {
    fn error(&self, at: Option<&Location>, key: &str, message: impl fmt::Display) -> ConfigError {
        let (line, column) = at.map_or((0, 0), |loc| (loc.line(), loc.column()));
        ConfigError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            message: format!("{key}: {message}"),
        }
    }

    /// Parses an optional duration; `None` when absent.
    fn duration(
        &self,
        key: &str,
        value: &Option<Located>,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        parse_duration(&value.value)
            .map(Some)
            .map_err(|err| self.error(Some(&value.referenced), key, err))
    }

    fn labels(
        &self,
        key: &str,
        raw: Option<BTreeMap<String, Located>>,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut labels = BTreeMap::new();
        for (name, value) in raw.unwrap_or_default() {
            // Prometheus 3 accepts any non-empty UTF-8 label name.
            if name.is_empty() {
                return Err(self.error(
                    Some(&value.referenced),
                    key,
                    "\"\" is not a valid label name",
                ));
            }
            labels.insert(name, value.value);
        }
        Ok(labels)
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut unsupported: Vec<String> = raw
            .accepted_unsupported()
            .into_iter()
            .map(String::from)
            .collect();
        let global = self.global(raw.global.unwrap_or_default(), &mut unsupported)?;

        let mut scrape_configs = Vec::new();
        let mut first_line: HashMap<String, u64> = HashMap::new();
        for (i, entry) in raw
            .scrape_configs
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let key = format!("scrape_configs[{i}]");
            let job = self.scrape_config(
                &key,
                &entry.referenced,
                entry.value,
                &global,
                &mut unsupported,
            )?;
            let line = entry.referenced.line();
            if let Some(first) = first_line.insert(job.job_name.clone(), line) {
                return Err(self.error(
                    Some(&entry.referenced),
                    &format!("{key}.job_name"),
                    format_args!(
                        "found multiple scrape configs with job name {:?} (first at line {first})",
                        job.job_name
                    ),
                ));
            }
            scrape_configs.push(job);
        }

        let rule_files = raw.rule_files.unwrap_or_default();
        for (key, set) in [
            ("rule_files", !rule_files.is_empty()),
            ("alerting", raw.alerting.is_some()),
            (
                "remote_write",
                raw.remote_write.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "remote_read",
                raw.remote_read.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ] {
            if set {
                unsupported.push(key.to_string());
            }
        }

        Ok(Config {
            global,
            scrape_configs,
            rule_files,
            alerting: raw.alerting,
            remote_write: raw.remote_write.unwrap_or_default(),
            remote_read: raw.remote_read.unwrap_or_default(),
            unsupported_keys: unsupported,
        })
    }

    fn global(
        &self,
        raw: RawGlobal,
        unsupported: &mut Vec<String>,
    ) -> Result<GlobalConfig, ConfigError> {
        unsupported.extend(
            raw.accepted_unsupported()
                .into_iter()
                .map(|k| format!("global.{k}")),
        );
        // As in Prometheus, an explicit 0 means "the default".
        let scrape_interval = self
            .duration("global.scrape_interval", &raw.scrape_interval)?
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_SCRAPE_INTERVAL);
        let scrape_timeout = match self
            .duration("global.scrape_timeout", &raw.scrape_timeout)?
            .filter(|d| !d.is_zero())
        {
            Some(timeout) if timeout > scrape_interval => {
                return Err(self.error(
                    raw.scrape_timeout.as_ref().map(|v| &v.referenced),
                    "global.scrape_timeout",
                    format_args!(
                        "scrape timeout {} greater than scrape interval {}",
                        format_duration(timeout),
                        format_duration(scrape_interval)
                    ),
                ));
            }
            Some(timeout) => timeout,
            None => DEFAULT_SCRAPE_TIMEOUT.min(scrape_interval),
        };
        let evaluation_interval = self
            .duration("global.evaluation_interval", &raw.evaluation_interval)?
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_EVALUATION_INTERVAL);
        Ok(GlobalConfig {
            scrape_interval,
            scrape_timeout,
            evaluation_interval,
            external_labels: self.labels("global.external_labels", raw.external_labels)?,
            body_size_limit: self
                .bytes("global.body_size_limit", &raw.body_size_limit)?
                .unwrap_or(0),
            sample_limit: limit(raw.sample_limit).unwrap_or(0),
            label_limit: limit(raw.label_limit).unwrap_or(0),
            label_name_length_limit: limit(raw.label_name_length_limit).unwrap_or(0),
            label_value_length_limit: limit(raw.label_value_length_limit).unwrap_or(0),
        })
    }

    fn scrape_config(
        &self,
        key: &str,
        at: &Location,
        mut raw: RawScrapeConfig,
        global: &GlobalConfig,
        unsupported: &mut Vec<String>,
    ) -> Result<ScrapeConfig, ConfigError> {
        unsupported.extend(
            raw.accepted_unsupported()
                .into_iter()
                .map(|k| format!("{key}.{k}")),
        );
        let job_name = match &raw.job_name {
            Some(name) if !name.value.is_empty() => name.value.clone(),
            Some(name) => {
                return Err(self.error(
                    Some(&name.referenced),
                    &format!("{key}.job_name"),
                    "job_name is empty",
                ));
            }
            None => return Err(self.error(Some(at), key, "job_name is empty")),
        };

        let interval_key = format!("{key}.scrape_interval");
        let scrape_interval = self
            .duration(&interval_key, &raw.scrape_interval)?
            .filter(|d| !d.is_zero())
            .unwrap_or(global.scrape_interval);
        let timeout_key = format!("{key}.scrape_timeout");
        let scrape_timeout = match self
            .duration(&timeout_key, &raw.scrape_timeout)?
            .filter(|d| !d.is_zero())
        {
            Some(timeout) if timeout > scrape_interval => {
                return Err(self.error(
                    raw.scrape_timeout.as_ref().map(|v| &v.referenced),
                    &timeout_key,
                    format_args!(
                        "scrape timeout {} greater than scrape interval {} for scrape config with job name {job_name:?}",
                        format_duration(timeout),
                        format_duration(scrape_interval)
                    ),
                ));
            }
            Some(timeout) => timeout,
            None => global.scrape_timeout.min(scrape_interval),
        };

        let scheme = match raw.scheme.as_ref().map(|s| s.value.as_str()) {
            None | Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => {
                return Err(self.error(
                    raw.scheme.as_ref().map(|s| &s.referenced),
                    &format!("{key}.scheme"),
                    format_args!("unsupported scheme {other:?} (want \"http\" or \"https\")"),
                ));
            }
        };

        let http_client = self.http_client(key, at, &raw, unsupported)?;
        let file_sd_configs = raw
            .file_sd_configs
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, sd)| self.file_sd_config(&format!("{key}.file_sd_configs[{j}]"), sd))
            .collect::<Result<_, _>>()?;
        let static_configs = raw
            .static_configs
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, group)| self.static_config(&format!("{key}.static_configs[{j}]"), group))
            .collect::<Result<_, _>>()?;

        Ok(ScrapeConfig {
            job_name,
            scrape_interval,
            scrape_timeout,
            metrics_path: raw
                .metrics_path
                .unwrap_or_else(|| DEFAULT_METRICS_PATH.to_string()),
            scheme,
            honor_labels: raw.honor_labels.unwrap_or(false),
            honor_timestamps: raw.honor_timestamps.unwrap_or(true),
            params: raw.params.unwrap_or_default(),
            static_configs,
            relabel_configs: self
                .relabel_configs(&format!("{key}.relabel_configs"), raw.relabel_configs)?,
            metric_relabel_configs: self.relabel_configs(
                &format!("{key}.metric_relabel_configs"),
                raw.metric_relabel_configs,
            )?,
            http_client,
            enable_compression: raw.enable_compression.unwrap_or(true),
            body_size_limit: self
                .bytes(&format!("{key}.body_size_limit"), &raw.body_size_limit)?
                .unwrap_or(global.body_size_limit),
            sample_limit: limit(raw.sample_limit).unwrap_or(global.sample_limit),
            label_limit: limit(raw.label_limit).unwrap_or(global.label_limit),
            label_name_length_limit: limit(raw.label_name_length_limit)
                .unwrap_or(global.label_name_length_limit),
            label_value_length_limit: limit(raw.label_value_length_limit)
                .unwrap_or(global.label_value_length_limit),
            file_sd_configs,
        })
    }

    /// Parses an optional byte size such as `10MB`; `None` when absent.
    fn bytes(&self, key: &str, value: &Option<Located>) -> Result<Option<u64>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        parse_bytes(&value.value)
            .map(Some)
            .map_err(|err| self.error(Some(&value.referenced), key, err))
    }

    /// One `file_sd_configs` entry, checked as Prometheus checks it: at least one
    /// file, each ending in `.json`, `.yml` or `.yaml` with `*` only in the last
    /// path component.
    fn file_sd_config(
        &self,
        key: &str,
        raw: Spanned<RawFileSdConfig>,
    ) -> Result<FileSdConfig, ConfigError> {
        let files = raw.value.files.unwrap_or_default();
        if files.is_empty() {
            return Err(self.error(
                Some(&raw.referenced),
                &format!("{key}.files"),
                "file service discovery config must contain at least one path name",
            ));
        }
        let mut paths = Vec::with_capacity(files.len());
        for file in &files {
            if !valid_sd_path(&file.value) {
                return Err(self.error(
                    Some(&file.referenced),
                    &format!("{key}.files"),
                    format_args!("path name {:?} is not valid for file discovery", file.value),
                ));
            }
            paths.push(http::join_dir(self.dir, &file.value));
        }
        let refresh_interval = self
            .duration(
                &format!("{key}.refresh_interval"),
                &raw.value.refresh_interval,
            )?
            .unwrap_or(DEFAULT_FILE_SD_REFRESH);
        Ok(FileSdConfig {
            files: paths,
            refresh_interval,
        })
    }

    fn relabel_configs(
        &self,
        key: &str,
        raw: Option<Vec<Spanned<RawRelabelConfig>>>,
    ) -> Result<Vec<RelabelConfig>, ConfigError> {
        raw.unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, rule)| self.relabel_config(&format!("{key}[{i}]"), rule))
            .collect()
    }

    /// One rule; errors name the option and point at its line (or the entry's, for
    /// a missing option).
    fn relabel_config(
        &self,
        key: &str,
        raw: Spanned<RawRelabelConfig>,
    ) -> Result<RelabelConfig, ConfigError> {
        let entry = raw.referenced;
        let raw = raw.value;
        let line_of = |name: &str| -> Location {
            let at = match name {
                "source_labels" => raw.source_labels.as_ref().map(|v| v.referenced),
                "separator" => raw.separator.as_ref().map(|v| v.referenced),
                "regex" => raw.regex.as_ref().map(|v| v.referenced),
                "modulus" => raw.modulus.as_ref().map(|v| v.referenced),
                "target_label" => raw.target_label.as_ref().map(|v| v.referenced),
                "replacement" => raw.replacement.as_ref().map(|v| v.referenced),
                _ => raw.action.as_ref().map(|v| v.referenced),
            };
            at.unwrap_or(entry)
        };
        // Prometheus reads a null option as its zero value, and a null action is
        // an empty one.
        if let Some(action) = raw.action.as_ref().filter(|a| a.value.is_none()) {
            return Err(self.error(
                Some(&action.referenced),
                &format!("{key}.action"),
                "relabel action cannot be empty",
            ));
        }
        let text = |v: &Option<Spanned<Option<String>>>| {
            v.as_ref().map(|v| v.value.clone().unwrap_or_default())
        };
        let options = RelabelOptions {
            source_labels: raw.source_labels.as_ref().and_then(|v| v.value.clone()),
            separator: text(&raw.separator),
            regex: text(&raw.regex),
            modulus: raw.modulus.as_ref().map(|v| v.value.unwrap_or(0)),
            target_label: text(&raw.target_label),
            replacement: text(&raw.replacement),
            action: text(&raw.action),
        };
        RelabelConfig::new(options).map_err(|err| {
            self.error(
                Some(&line_of(err.key())),
                &format!("{key}.{}", err.key()),
                err,
            )
        })
    }

    fn static_config(&self, key: &str, raw: RawStaticConfig) -> Result<StaticConfig, ConfigError> {
        let mut targets = Vec::new();
        for target in raw.targets.unwrap_or_default() {
            // Prometheus's check: a target is an address, not a URL.
            if target.value.contains('/') {
                return Err(self.error(
                    Some(&target.referenced),
                    &format!("{key}.targets"),
                    format_args!("{:?} is not a valid hostname", target.value),
                ));
            }
            targets.push(target.value);
        }
        Ok(StaticConfig {
            targets,
            labels: self.labels(&format!("{key}.labels"), raw.labels)?,
        })
    }
}

/// A limit as written; 0 is "no limit", as is a value past `usize`.
fn limit(value: Option<u64>) -> Option<usize> {
    value.map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

/// Prometheus's file_sd pattern `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
fn valid_sd_path(path: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|ext| path.strip_suffix(ext).is_some_and(|p| p.ends_with('.')));
    let star_ok = match path.find('*') {
        None => true,
        Some(i) => !path[i + 1..].contains('/'),
    };
    ext_ok && star_ok
}

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;
    use crate::scrape::relabel::{Action, relabel};

    fn invalid(text: &str) -> (u64, String) {
        match Config::parse(text) {
            Err(ConfigError::Invalid { line, message, .. }) => (line, message),
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn empty_file_gives_defaults() {
        for text in [
            "",
            "# nothing\n",
            "global:\n",
            "global: {}\nscrape_configs: []\n",
        ] {
            assert_eq!(Config::parse(text).unwrap(), Config::default(), "{text:?}");
        }
        let g = GlobalConfig::default();
        assert_eq!(g.scrape_interval, S(60));
        assert_eq!(g.scrape_timeout, S(10));
        assert_eq!(g.evaluation_interval, S(60));
    }

    #[test]
    fn example_config_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");
        let config = Config::load(path).unwrap();
        assert_eq!(config.global.scrape_interval, S(15));
        assert_eq!(config.global.scrape_timeout, S(10));
        let jobs: Vec<_> = config
            .scrape_configs
            .iter()
            .map(|j| j.job_name.as_str())
            .collect();
        assert_eq!(jobs, ["tidemark", "node"]);
        let tidemark = config.job("tidemark").unwrap();
        assert_eq!(tidemark.static_configs[0].targets, ["localhost:9090"]);
        assert_eq!(tidemark.scrape_interval, S(15));
        assert_eq!(
            config.job("node").unwrap().static_configs[0].targets,
            ["localhost:9100"]
        );
        assert!(
            config.unsupported_keys.is_empty(),
            "{:?}",
            config.unsupported_keys
        );
    }

    #[test]
    fn job_inherits_and_overrides_global() {
        let config = Config::parse(
            "global:
  scrape_interval: 30s
  scrape_timeout: 20s
  external_labels:
    cluster: eu-1
    replica: 1
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['a:1', 'b:2']
        labels: {env: prod}
  - job_name: b
    scrape_interval: 5s
    metrics_path: /probe
    scheme: https
    honor_labels: true
    honor_timestamps: false
    params:
      module: [http_2xx]
  - job_name: c
    scrape_interval: 1m
    scrape_timeout: 45s
",
        )
        .unwrap();
        assert_eq!(config.global.external_labels["cluster"], "eu-1");
        assert_eq!(config.global.external_labels["replica"], "1");
        let a = config.job("a").unwrap();
        assert_eq!((a.scrape_interval, a.scrape_timeout), (S(30), S(20)));
        assert_eq!(a.metrics_path, "/metrics");
        assert_eq!(a.scheme, Scheme::Http);
        assert!(!a.honor_labels && a.honor_timestamps);
        assert_eq!(a.static_configs[0].targets, ["a:1", "b:2"]);
        assert_eq!(a.static_configs[0].labels["env"], "prod");
        // The global timeout is capped by the job's shorter interval.
        let b = config.job("b").unwrap();
        assert_eq!((b.scrape_interval, b.scrape_timeout), (S(5), S(5)));
        assert_eq!(b.metrics_path, "/probe");
        assert_eq!(b.scheme, Scheme::Https);
        assert!(b.honor_labels && !b.honor_timestamps);
        assert_eq!(b.params["module"], ["http_2xx"]);
        let c = config.job("c").unwrap();
        assert_eq!((c.scrape_interval, c.scrape_timeout), (S(60), S(45)));
    }

    #[test]
    fn short_global_interval_caps_default_timeout() {
        let config = Config::parse("global:\n  scrape_interval: 5s\n").unwrap();
        assert_eq!(config.global.scrape_timeout, S(5));
        let config = Config::parse("global:\n  scrape_interval: 0\n").unwrap();
        assert_eq!(config.global.scrape_interval, S(60));
    }

    #[test]
    fn unknown_key_is_rejected_with_its_line() {
        let (line, message) = invalid("global:\n  scrape_interval: 15s\n  scrape_intervall: 1m\n");
        assert_eq!(line, 3);
        assert!(
            message.contains("unknown field `scrape_intervall`"),
            "{message}"
        );

        let (line, message) = invalid("scrape_configs:\n  - job_name: a\n    targets: [x]\n");
        assert_eq!(line, 3);
        assert!(message.contains("`targets`"), "{message}");
    }

    #[test]
    fn duplicate_yaml_key_is_rejected() {
        let (line, message) = invalid("global:\n  scrape_interval: 15s\n  scrape_interval: 10s\n");
        assert_eq!(line, 3);
        assert!(
            message.contains("duplicate") && message.contains("scrape_interval"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_job_name_is_rejected() {
        let (line, message) = invalid(
            "scrape_configs:\n  - job_name: node\n  - job_name: other\n  - job_name: node\n",
        );
        assert_eq!(line, 4);
        assert_eq!(
            message,
            "scrape_configs[2].job_name: found multiple scrape configs with job name \"node\" (first at line 2)"
        );
    }

    #[test]
    fn missing_or_empty_job_name_is_rejected() {
        let (line, message) = invalid("scrape_configs:\n  - scrape_interval: 1m\n");
        assert_eq!(
            (line, message.as_str()),
            (2, "scrape_configs[0]: job_name is empty")
        );
        let (line, message) = invalid("scrape_configs:\n  - job_name: ''\n");
        assert_eq!(line, 2);
        assert!(message.contains("job_name is empty"), "{message}");
    }

    #[test]
    fn timeout_above_interval_is_rejected() {
        let (line, message) = invalid(
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 15s\n",
        );
        assert_eq!(line, 4);
        assert_eq!(
            message,
            "scrape_configs[0].scrape_timeout: scrape timeout 15s greater than scrape interval 10s for scrape config with job name \"a\""
        );
        let (line, message) = invalid("global:\n  scrape_interval: 10s\n  scrape_timeout: 11s\n");
        assert_eq!(line, 3);
        assert!(message.starts_with("global.scrape_timeout: "), "{message}");
    }

    #[test]
    fn bad_values_name_key_and_line() {
        let (line, message) =
            invalid("scrape_configs:\n  - job_name: a\n    scrape_interval: 1.5m\n");
        assert_eq!(line, 3);
        assert_eq!(
            message,
            // Prometheus words it the same way.
            "scrape_configs[0].scrape_interval: unknown unit \".\" in duration \"1.5m\""
        );
        let (line, message) = invalid("scrape_configs:\n  - job_name: a\n    scheme: ftp\n");
        assert_eq!(line, 3);
        assert!(
            message.starts_with("scrape_configs[0].scheme: "),
            "{message}"
        );
        let (line, message) = invalid(
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n",
        );
        assert_eq!(line, 4);
        assert!(message.contains("is not a valid hostname"), "{message}");
        let (line, _) = invalid("scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n");
        assert_eq!(line, 3);
        let (line, _) = invalid("global: [\n");
        assert_eq!(line, 1);
    }

    #[test]
    fn error_display_names_the_file() {
        let err = Config::parse_named("global:\n  bogus: 1\n", "prometheus.yml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("prometheus.yml:2:3: unknown field `bogus`"),
            "{text}"
        );
        let err = Config::load("/nonexistent/prometheus.yml").unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/prometheus.yml"),
            "{err}"
        );
    }

    #[test]
    fn relabel_configs_are_parsed_with_defaults() {
        let config = Config::parse(
            r#"scrape_configs:
  - job_name: k8s
    relabel_configs:
      - source_labels: [__address__, __meta_port]
        regex: (.+?)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - action: LabelMap
        regex: __meta_label_(.+)
      - source_labels: [__address__]
        target_label: __tmp_hash
        modulus: 3
        action: hashmod
      - regex:
        target_label: empty_only
        replacement: yes
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
"#,
        )
        .unwrap();
        let job = config.job("k8s").unwrap();
        let rules = &job.relabel_configs;
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].separator, ";");
        assert_eq!(rules[0].action, Action::Replace);
        assert_eq!(rules[1].action, Action::LabelMap);
        assert_eq!(rules[1].replacement, "$1");
        assert_eq!(rules[2].modulus, 3);
        // A null regex is Prometheus's zero value: it matches only "".
        assert_eq!(rules[3].regex.as_str(), "");

        let target = Labels::new([
            ("__address__", "10.0.0.1:80"),
            ("__meta_port", "9100"),
            ("__meta_label_app", "web"),
        ])
        .unwrap();
        let out = relabel(&target, rules).unwrap().unwrap();
        assert_eq!(out.get("__address__"), Some("10.0.0.1:9100"));
        assert_eq!(out.get("app"), Some("web"));
        assert!(out.get("__tmp_hash").is_some());
        // `empty_only`'s source value is "" (no source labels).
        assert_eq!(out.get("empty_only"), Some("yes"));

        let sample = Labels::new([("__name__", "go_goroutines")]).unwrap();
        assert_eq!(relabel(&sample, &job.metric_relabel_configs).unwrap(), None);
    }

    #[test]
    fn bad_relabel_configs_name_key_and_line() {
        let cases = [
            (
                "      - action: keep\n        bogus: 1\n",
                5,
                "unknown field `bogus`",
            ),
            (
                "      - source_labels: [a]\n        regex: (\n        target_label: b\n",
                5,
                "scrape_configs[0].relabel_configs[0].regex: invalid regex \"(\": ",
            ),
            (
                "      - action: bogus\n",
                4,
                "scrape_configs[0].relabel_configs[0].action: unknown relabel action \"bogus\"",
            ),
            (
                "      - action: hashmod\n        target_label: t\n",
                4,
                "scrape_configs[0].relabel_configs[0].modulus: relabel configuration for hashmod requires non-zero modulus",
            ),
            (
                "      - target_label: t\n      - source_labels: [a]\n",
                5,
                "scrape_configs[0].relabel_configs[1].target_label: relabel configuration for replace action requires 'target_label' value",
            ),
            (
                "      - action: labeldrop\n        regex: x\n        target_label: t\n",
                4,
                "scrape_configs[0].relabel_configs[0].action: labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "      - action: keepequal\n        target_label: t\n        regex: (.*)\n",
                4,
                "scrape_configs[0].relabel_configs[0].action: keepequal action requires only 'source_labels' and `target_label`, and no other fields",
            ),
            (
                "      - action: uppercase\n        target_label: t\n        replacement: x\n",
                6,
                "scrape_configs[0].relabel_configs[0].replacement: 'replacement' can not be set for uppercase action",
            ),
            (
                "      - action:\n",
                4,
                "scrape_configs[0].relabel_configs[0].action: relabel action cannot be empty",
            ),
            ("      - modulus: -1\n", 4, "invalid u64"),
        ];
        for (rules, want_line, want) in cases {
            let text = format!("scrape_configs:\n  - job_name: a\n    relabel_configs:\n{rules}");
            let (line, message) = invalid(&text);
            assert!(message.contains(want), "{rules:?}: {message}");
            assert_eq!(line, want_line, "{rules:?}: {message}");
        }
        let (line, message) = invalid(
            "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - regex: '['\n        action: drop\n",
        );
        assert_eq!(line, 4);
        assert!(
            message.starts_with("scrape_configs[0].metric_relabel_configs[0].regex: invalid regex"),
            "{message}"
        );
    }

    #[test]
    fn real_prometheus_sections_are_accepted_and_reported() {
        let config = Config::parse(
            "global:
  scrape_interval: 15s
  evaluation_interval: 15s
  query_log_file: /tmp/q.log
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['alertmanager:9093']
remote_write:
  - url: http://mimir:9009/api/v1/push
    queue_config: {max_samples_per_send: 1000}
scrape_configs:
  - job_name: node
    tls_config: {insecure_skip_verify: true}
    oauth2: {client_id: x, token_url: 'http://auth/token'}
    file_sd_configs:
      - files: [targets/*.json]
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - action: drop
        regex: go_.*
        source_labels: [__name__]
",
        )
        .unwrap();
        assert_eq!(config.rule_files, ["rules/*.yml"]);
        assert!(config.alerting.is_some());
        assert_eq!(config.remote_write.len(), 1);
        let node = config.job("node").unwrap();
        assert_eq!(node.relabel_configs.len(), 1);
        assert_eq!(node.relabel_configs[0].target_label, "instance");
        assert_eq!(node.metric_relabel_configs[0].action, Action::Drop);
        assert!(node.http_client.tls.insecure_skip_verify);
        assert_eq!(
            node.file_sd_configs[0].files,
            [PathBuf::from("targets/*.json")]
        );
        assert_eq!(
            config.unsupported_keys,
            [
                "global.query_log_file",
                "scrape_configs[0].oauth2",
                "rule_files",
                "alerting",
                "remote_write",
            ]
        );
    }
}
