//! The service discovery configs of a job: `static_configs` (targets written
//! in the file) and `file_sd_configs` (files of target groups). They say where
//! targets come from; the providers that find them are in
//! [`discovery`](crate::discovery).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::ConfigError;
use super::raw::Located;
use super::resolver::Resolver;

/// Default `refresh_interval` of a `file_sd_configs` entry.
pub const DEFAULT_FILE_SD_REFRESH: Duration = Duration::from_secs(300);

/// One entry of `static_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaticConfig {
    #[serde(default)]
    pub targets: Option<Vec<Located>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, Located>>,
}

/// One entry of `static_configs:`: a group of targets sharing labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels added to every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// One entry of `file_sd_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileSdConfig {
    #[serde(default)]
    pub files: Option<Vec<Located>>,
    #[serde(default)]
    pub refresh_interval: Option<Located>,
}

/// One entry of `file_sd_configs:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSdConfig {
    /// File patterns; `*`, `?` and `[…]` may appear in the last path component
    /// only. Relative paths are resolved against the configuration file's
    /// directory when the configuration is loaded.
    pub files: Vec<PathBuf>,
    /// How often the files are re-read even when no change was seen.
    pub refresh_interval: Duration,
}

impl Resolver<'_> {
    pub(super) fn static_config(
        &self,
        key: &str,
        raw: RawStaticConfig,
    ) -> Result<StaticConfig, ConfigError> {
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

    /// One `file_sd_configs` entry, checked as Prometheus checks it: at least one
    /// file, each ending in `.json`, `.yml` or `.yaml` with `*` only in the last
    /// path component.
    pub(super) fn file_sd_config(
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
            paths.push(self.file(&file.value));
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
}

/// Prometheus's file_sd pattern `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
pub(super) fn valid_sd_path(path: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|ext| path.strip_suffix(ext).is_some_and(|p| p.ends_with('.')));
    let star_ok = match path.find('*') {
        None => true,
        Some(i) => !path[i + 1..].contains('/'),
    };
    ext_ok && star_ok
}
