//! Label-set edits the evaluator needs, and label sets printed as Prometheus
//! prints them in messages.

use crate::model::Labels;

/// Label-set edits the evaluator needs; the result is always valid because it is
/// built from a valid set.
pub(crate) fn labels_without(l: &Labels, drop: &[&str]) -> Labels {
    if !l.iter().any(|x| drop.contains(&x.name)) {
        return l.clone();
    }
    Labels::new(
        l.iter()
            .filter(|x| !drop.contains(&x.name))
            .map(|x| (x.name, x.value)),
    )
    .unwrap_or_default()
}

pub(crate) fn labels_only(l: &Labels, keep: &[&str]) -> Labels {
    Labels::new(
        l.iter()
            .filter(|x| keep.contains(&x.name))
            .map(|x| (x.name, x.value)),
    )
    .unwrap_or_default()
}

/// `l` with `name` set to `value` (removed when `value` is empty).
pub(crate) fn labels_set(l: &Labels, name: &str, value: &str) -> Labels {
    let mut pairs: Vec<(String, String)> = l
        .iter()
        .filter(|x| x.name != name)
        .map(|x| (x.name.to_string(), x.value.to_string()))
        .collect();
    pairs.push((name.to_string(), value.to_string()));
    Labels::new(pairs).unwrap_or_default()
}

/// The labels that name a metric's schema: `__name__`, `__type__`, `__unit__`.
/// Prometheus drops all three where it drops the metric name.
pub(crate) const METADATA_LABELS: [&str; 3] = ["__name__", "__type__", "__unit__"];

/// `l` without the metric name and the other metadata labels ([`METADATA_LABELS`]).
pub(crate) fn drop_metric_name(l: &Labels) -> Labels {
    labels_without(l, &METADATA_LABELS)
}

/// Whether `l` has any of the [`METADATA_LABELS`].
pub(crate) fn has_metadata(l: &Labels) -> bool {
    METADATA_LABELS.iter().any(|n| l.get(n).is_some())
}

/// Prometheus's `Labels.String()`: `{a="b", c="d"}`.
pub(crate) fn prom_labels(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_print_as_prometheus_does() {
        let l = Labels::new([("__name__", "m"), ("a", "x\"y")]).unwrap();
        assert_eq!(prom_labels(&l), r#"{__name__="m", a="x\"y"}"#);
        assert_eq!(prom_labels(&Labels::empty()), "{}");
    }

    #[test]
    fn label_edits() {
        let l = Labels::new([("__name__", "m"), ("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(drop_metric_name(&l).to_string(), r#"{a="1", b="2"}"#);
        let typed = Labels::new([
            ("__name__", "m"),
            ("__type__", "counter"),
            ("__unit__", "s"),
            ("a", "1"),
        ])
        .unwrap();
        assert_eq!(drop_metric_name(&typed).to_string(), r#"{a="1"}"#);
        assert!(has_metadata(&typed) && !has_metadata(&drop_metric_name(&typed)));
        assert_eq!(labels_only(&l, &["b"]).to_string(), r#"{b="2"}"#);
        assert_eq!(labels_set(&l, "a", "").to_string(), r#"m{b="2"}"#);
        assert_eq!(
            labels_set(&l, "c", "3").to_string(),
            r#"m{a="1", b="2", c="3"}"#
        );
    }
}
