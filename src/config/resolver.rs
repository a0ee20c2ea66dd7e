//! [`Resolver`]: what the resolving code of every section shares. It knows the
//! file's name, for errors that name the file, line, column and key, and its
//! directory, for relative paths; it reads durations, byte sizes and label maps.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_saphyr::Location;

use super::error::ConfigError;
use super::raw::Located;
use crate::model::{parse_bytes, parse_duration};

/// Turns raw types into resolved ones; knows the file name for errors and its
/// directory for relative paths.
pub(super) struct Resolver<'a> {
    pub(super) file: &'a str,
    pub(super) dir: Option<&'a Path>,
}

impl Resolver<'_> {
    pub(super) fn error(
        &self,
        at: Option<&Location>,
        key: &str,
        message: impl fmt::Display,
    ) -> ConfigError {
        let (line, column) = at.map_or((0, 0), |loc| (loc.line(), loc.column()));
        ConfigError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            message: format!("{key}: {message}"),
        }
    }

    /// Parses an optional duration; `None` when absent.
    pub(super) fn duration(
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

    pub(super) fn labels(
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

    /// Parses an optional byte size such as `10MB`; `None` when absent.
    pub(super) fn bytes(
        &self,
        key: &str,
        value: &Option<Located>,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        parse_bytes(&value.value)
            .map(Some)
            .map_err(|err| self.error(Some(&value.referenced), key, err))
    }

    /// A path as written in the file: relative ones are taken from the file's
    /// directory.
    pub(super) fn file(&self, path: &str) -> PathBuf {
        join_dir(self.dir, path)
    }
}

/// Prometheus's `JoinDir`: a relative path is taken from the config file's
/// directory; an absolute one, or any path when there is no directory, as is.
fn join_dir(dir: Option<&Path>, path: &str) -> PathBuf {
    match dir {
        Some(dir) if !Path::new(path).is_absolute() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

/// A limit as written; 0 is "no limit", as is a value past `usize`.
pub(super) fn limit(value: Option<u64>) -> Option<usize> {
    value.map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}
