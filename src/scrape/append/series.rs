//! The labels of a series new to a target's cache: the exposed ones with the
//! target's merged in, metric relabeling run, and the label limits checked, as
//! Prometheus's scrape loop makes them.

use std::collections::BTreeMap;

use super::options::{AppendOptions, LabelLimits};
use super::outcome::ScrapeAppendError;
use crate::model::Labels;
use crate::relabel::relabel;

/// Target labels merged into an exposed label set, as Prometheus's
/// `mutateSampleLabels` does. Target labels starting with `__` are not in
/// `target`.
pub fn merge_target_labels(exposed: &Labels, target: &Labels, honor_labels: bool) -> Labels {
    let mut b: BTreeMap<String, String> = exposed
        .iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect();
    if honor_labels {
        for l in target {
            b.entry(l.name.to_owned())
                .or_insert_with(|| l.value.to_owned());
        }
    } else {
        let mut conflicts: Vec<(String, String)> = Vec::new();
        for l in target {
            if let Some(v) = exposed.get(l.name) {
                conflicts.push((l.name.to_owned(), v.to_owned()));
            }
            b.insert(l.name.to_owned(), l.value.to_owned());
        }
        // Shortest names first, each renamed to the first `exported_…` name free.
        conflicts.sort_by_key(|(n, _)| n.len());
        for (name, value) in conflicts {
            let mut new = name;
            loop {
                new = format!("exported_{new}");
                if b.get(&new).is_none_or(|v| v.is_empty()) {
                    b.insert(new, value);
                    break;
                }
            }
        }
    }
    // Valid: names come from valid label sets and are unique in the map.
    Labels::new(b).unwrap_or_default()
}

/// The final labels of a series not in the cache: target labels merged in,
/// metric relabeling run, then checked as Prometheus checks them. `None`: the
/// relabeling drops it.
pub(super) fn new_series(
    s: &crate::exposition::Sample<'_>,
    target: &Labels,
    opts: &AppendOptions,
) -> Result<Option<Labels>, ScrapeAppendError> {
    let exposed = exposed_labels(s).map_err(|e| ScrapeAppendError::Parse(e.to_string()))?;
    let merged = merge_target_labels(&exposed, target, opts.honor_labels);
    let labels = match relabel(&merged, &opts.metric_relabel) {
        Ok(Some(labels)) if !labels.is_empty() => labels,
        Ok(_) => return Ok(None),
        Err(e) => return Err(ScrapeAppendError::InvalidLabels(e.to_string())),
    };
    let Some(metric) = labels.get("__name__") else {
        return Err(ScrapeAppendError::MissingName);
    };
    check_label_limits(&labels, metric, &opts.label_limits)?;
    Ok(Some(labels))
}

fn check_label_limits(
    labels: &Labels,
    metric: &str,
    limits: &LabelLimits,
) -> Result<(), ScrapeAppendError> {
    let count = labels.iter().count();
    if limits.count > 0 && count > limits.count {
        return Err(ScrapeAppendError::LabelLimit {
            metric: metric.to_owned(),
            count,
            limit: limits.count,
        });
    }
    for l in labels.iter() {
        if limits.name_length > 0 && l.name.len() > limits.name_length {
            return Err(ScrapeAppendError::LabelNameLength {
                metric: metric.to_owned(),
                name: l.name.to_owned(),
                length: l.name.len(),
                limit: limits.name_length,
            });
        }
        if limits.value_length > 0 && l.value.len() > limits.value_length {
            return Err(ScrapeAppendError::LabelValueLength {
                metric: metric.to_owned(),
                name: l.name.to_owned(),
                value: l.value.chars().take(50).collect(),
                length: l.value.len(),
                limit: limits.value_length,
            });
        }
    }
    Ok(())
}

/// The label set an exposition sample names, `__name__` included.
fn exposed_labels(s: &crate::exposition::Sample<'_>) -> Result<Labels, crate::model::LabelsError> {
    let name = s.name.get();
    let pairs = std::iter::once(("__name__".to_owned(), name.into_owned())).chain(
        s.labels
            .iter()
            .map(|l| (l.name.get().into_owned(), l.value.get().into_owned())),
    );
    Labels::new(pairs)
}
