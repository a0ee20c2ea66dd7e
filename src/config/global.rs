//! `global:`: the defaults every scrape job starts from (interval, timeout and
//! limits), the rule evaluation interval, and the external labels.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::ConfigError;
use super::raw::{Located, raw_struct};
use super::resolver::{Resolver, limit};
use crate::model::format_duration;

/// Default `global.scrape_interval`.
pub const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(60);
/// Default `global.scrape_timeout` (never more than the scrape interval).
pub const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `global.evaluation_interval`.
pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);

raw_struct! {
    /// `global:`.
    pub struct RawGlobal {
        pub scrape_interval: Option<Located>,
        pub scrape_timeout: Option<Located>,
        pub evaluation_interval: Option<Located>,
        pub external_labels: Option<BTreeMap<String, Located>>,
        pub body_size_limit: Option<Located>,
        pub sample_limit: Option<u64>,
        pub label_limit: Option<u64>,
        pub label_name_length_limit: Option<u64>,
        pub label_value_length_limit: Option<u64>,
    }
    accepted {
        query_log_file,
        scrape_failure_log_file,
        scrape_protocols,
        rule_query_offset,
        target_limit,
        keep_dropped_targets,
        metric_name_validation_scheme,
        metric_name_escaping_scheme,
        always_scrape_classic_histograms,
        convert_classic_histograms_to_nhcb,
    }
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

impl Resolver<'_> {
    pub(super) fn global(
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
}
