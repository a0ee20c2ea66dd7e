//! `relabel_configs` and `metric_relabel_configs`: each rule read as written,
//! then compiled by [`RelabelConfig::new`], whose errors are placed at the
//! option's line (or the rule's, for a missing option).

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::error::ConfigError;
use super::resolver::Resolver;
use crate::relabel::{RelabelConfig, RelabelOptions};

/// An option that may be absent (`None`), null (`Some` of `None`) or set. Prometheus
/// reads a null option as its zero value, which is not always the default: a null
/// `regex` matches only `""`.
pub type Nullable<T> = Option<Spanned<Option<T>>>;

/// Serde calls this only for a key that is present, so a null becomes `Some(None)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One entry of `relabel_configs:` or `metric_relabel_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelabelConfig {
    #[serde(default, deserialize_with = "present")]
    pub source_labels: Nullable<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub separator: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub regex: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub modulus: Nullable<u64>,
    #[serde(default, deserialize_with = "present")]
    pub target_label: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub replacement: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub action: Nullable<String>,
}

impl Resolver<'_> {
    pub(super) fn relabel_configs(
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
}
