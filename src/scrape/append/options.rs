//! [`AppendOptions`]: how a job's samples are stored, from its scrape config.

use crate::relabel::RelabelConfig;

/// How a target's samples are stored (from its scrape config).
#[derive(Debug, Clone, Default)]
pub struct AppendOptions {
    /// Keep the exposed label when it clashes with a target label (else the
    /// exposed one is renamed `exported_<name>`).
    pub honor_labels: bool,
    /// Store exposed timestamps (else every sample gets the scrape's time).
    pub honor_timestamps: bool,
    /// Most samples a scrape may store after metric relabeling; 0 for no limit.
    pub sample_limit: usize,
    /// Limits on each new series' final label set.
    pub label_limits: LabelLimits,
    /// `metric_relabel_configs`, run over each series after the target labels
    /// are merged in.
    pub metric_relabel: Vec<RelabelConfig>,
}

/// `label_limit`, `label_name_length_limit`, `label_value_length_limit`: a series
/// over one of them fails the whole scrape. 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelLimits {
    /// Most labels a series may have, `__name__` included.
    pub count: usize,
    /// Longest label name, in bytes.
    pub name_length: usize,
    /// Longest label value, in bytes.
    pub value_length: usize,
}
