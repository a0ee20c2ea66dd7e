//! `check config`: a configuration file loaded as the server loads it, and what
//! its user should hear about it besides errors (what `promtool check config`
//! reports). The command prints; this decides what it says.

use std::fmt;
use std::path::Path;

use super::error::ConfigError;
use super::file::Config;

/// A configuration file that loaded, and the warnings about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// The loaded configuration.
    pub config: Config,
    /// In the order they are to be shown.
    pub warnings: Vec<CheckWarning>,
}

/// Something a valid file sets that does not do what its author may expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckWarning {
    /// A key that is accepted but has no effect in this version (a path such as
    /// `remote_write` or `scrape_configs[0].oauth2`).
    NoEffect(String),
    /// `rule_files` are listed but not checked: there is no rule evaluation yet
    /// to check them against. Said out loud rather than reported as checked.
    RulesNotChecked(Vec<String>),
}

impl fmt::Display for CheckWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckWarning::NoEffect(key) => {
                write!(f, "{key} is accepted but has no effect in this version")
            }
            CheckWarning::RulesNotChecked(files) => write!(
                f,
                "rule_files are not checked: this version does not evaluate rules ({})",
                files.join(", ")
            ),
        }
    }
}

/// Loads the configuration file at `path` as the server would and says what to
/// warn about; the error, if it does not load, names the file, line and key.
pub fn check(path: impl AsRef<Path>) -> Result<CheckReport, ConfigError> {
    let config = Config::load(path)?;
    let mut warnings: Vec<CheckWarning> = config
        .unsupported_keys
        .iter()
        .cloned()
        .map(CheckWarning::NoEffect)
        .collect();
    if !config.rule_files.is_empty() {
        warnings.push(CheckWarning::RulesNotChecked(config.rule_files.clone()));
    }
    Ok(CheckReport { config, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_what_has_no_effect_then_the_unchecked_rule_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prometheus.yml");
        std::fs::write(
            &path,
            "rule_files: [a.yml, b/*.yml]\nremote_write:\n  - url: http://x/push\n",
        )
        .unwrap();
        let report = check(&path).unwrap();
        let shown: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            shown,
            [
                "rule_files is accepted but has no effect in this version",
                "remote_write is accepted but has no effect in this version",
                "rule_files are not checked: this version does not evaluate rules (a.yml, b/*.yml)",
            ]
        );

        std::fs::write(&path, "global:\n  scrape_interval: 15s\n").unwrap();
        assert!(check(&path).unwrap().warnings.is_empty());
        std::fs::write(&path, "global:\n  bogus: 1\n").unwrap();
        let err = check(&path).unwrap_err().to_string();
        assert!(
            err.contains("prometheus.yml:2:3: unknown field `bogus`"),
            "{err}"
        );
    }
}
