//! What a scrape stored ([`ScrapeCounts`]), or why it failed
//! ([`AppendFailure`], [`ScrapeAppendError`]).

/// Why a scrape's samples were not stored. The scrape counts as failed; the
/// messages are Prometheus's, as `/api/v1/targets` shows them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeAppendError {
    #[error("{0}")]
    Parse(String),
    #[error("sample limit exceeded")]
    SampleLimit { limit: usize },
    #[error("missing metric name (__name__ label)")]
    MissingName,
    #[error("invalid metric name or label names: {0}")]
    InvalidLabels(String),
    #[error(
        "label_limit exceeded (metric: {metric:.50}, number of labels: {count}, limit: {limit})"
    )]
    LabelLimit {
        metric: String,
        count: usize,
        limit: usize,
    },
    #[error(
        "label_name_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, length: {length}, limit: {limit})"
    )]
    LabelNameLength {
        metric: String,
        name: String,
        length: usize,
        limit: usize,
    },
    #[error(
        "label_value_length_limit exceeded (metric: {metric:.50}, label name: {name:.50}, value: {value:?}, length: {length}, limit: {limit})"
    )]
    LabelValueLength {
        metric: String,
        name: String,
        /// At most 50 characters of the value.
        value: String,
        length: usize,
        limit: usize,
    },
}

/// A failed [`ScrapeCache::append_scrape`](super::ScrapeCache::append_scrape): why, and what was counted up to
/// there (Prometheus reports these counts with `up` 0).
#[derive(Debug, Clone, PartialEq)]
pub struct AppendFailure {
    pub error: ScrapeAppendError,
    pub counts: ScrapeCounts,
}

/// What one scrape stored (for the report series and `/api/v1/targets`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeCounts {
    /// Samples in the body (`scrape_samples_scraped`).
    pub scraped: u64,
    /// Samples left after metric relabeling (`scrape_samples_post_metric_relabeling`).
    pub post_relabel: u64,
    /// Series not seen in the previous scrapes of this target (`scrape_series_added`).
    pub series_added: u64,
    /// Samples the storage refused (out of order, duplicate timestamp, out of
    /// bounds); the scrape still succeeds, as in Prometheus.
    pub refused: u64,
}
