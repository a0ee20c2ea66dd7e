//! `GET /api/v1/metadata` and `GET /api/v1/targets/metadata`: the metric
//! metadata (type, help, unit) the active targets exposed, as Prometheus answers
//! them from its scrape caches.
//!
//! Prometheus walks Go maps, so which metrics a `limit` keeps and the order of a
//! metric's entries vary from call to call; here they are fixed: metrics in name
//! order, a metric's entries in the order of the targets (by job, then URL) that
//! first had them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::error::{ApiError, ErrorType};
use super::params::{Form, invalid_param};
use super::selector::parse_selector;
use super::series::LabelMap;
use super::state::ApiState;
use super::success::success;
use crate::model::Matcher;
use crate::scrape::{ActiveTarget, MetricMetadata};

/// One metadata entry as the API writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(super) struct Entry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    help: &'a str,
    unit: &'a str,
}

impl<'a> From<&'a MetricMetadata> for Entry<'a> {
    fn from(m: &'a MetricMetadata) -> Entry<'a> {
        Entry {
            kind: m.kind.as_str(),
            help: &m.help,
            unit: &m.unit,
        }
    }
}

/// A limit parameter as Prometheus reads it (`strconv.Atoi`): absent means none
/// (-1); not an integer is `bad_data` "<name> must be a number".
fn int_param(form: &Form, name: &str) -> Result<i64, ApiError> {
    let v = form.value(name);
    if v.is_empty() {
        return Ok(-1);
    }
    v.parse()
        .map_err(|_| ApiError::new(ErrorType::BadData, format!("{name} must be a number")))
}

/// The metric → entries map of `/api/v1/metadata`: across `targets`, duplicates
/// removed; only `metric` when it is not empty; at most `limit_per_metric`
/// entries a metric when it is positive and at most `limit` metrics when it is
/// not negative (0: none), as Prometheus counts them.
pub(super) fn aggregate<'a>(
    targets: impl IntoIterator<Item = &'a ActiveTarget>,
    metric: &str,
    limit: i64,
    limit_per_metric: i64,
) -> BTreeMap<&'a str, Vec<Entry<'a>>> {
    let mut metrics: BTreeMap<&'a str, Vec<Entry<'a>>> = BTreeMap::new();
    for t in targets {
        let md = &t.status.metadata;
        let found: Box<dyn Iterator<Item = &'a MetricMetadata>> = if metric.is_empty() {
            Box::new(md.iter())
        } else {
            Box::new(md.get(metric).into_iter())
        };
        for m in found {
            let entries = metrics.entry(&m.family).or_default();
            if limit_per_metric > 0 && entries.len() as i64 >= limit_per_metric {
                continue;
            }
            let entry = Entry::from(m);
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
    }
    if limit >= 0 {
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        if let Some(first_cut) = metrics.keys().nth(keep).copied() {
            metrics.split_off(first_cut);
        }
    }
    metrics
}

/// `GET /api/v1/metadata`.
pub(super) async fn metadata(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let limit = int_param(&form, "limit")?;
    let limit_per_metric = int_param(&form, "limit_per_metric")?;
    let targets = active_targets(&state);
    let data = aggregate(&targets, form.value("metric"), limit, limit_per_metric);
    Ok(success(data, &[]))
}

/// One entry of `/api/v1/targets/metadata`.
#[derive(Serialize)]
struct TargetEntry<'a> {
    target: LabelMap,
    /// Left out when the request named the metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<&'a str>,
    #[serde(flatten)]
    entry: Entry<'a>,
}

/// `GET /api/v1/targets/metadata`: per target (those `match_target` selects),
/// its metadata, or that of `metric`. Like Prometheus, `limit` (when not
/// negative) is checked before each target, so the last target's entries may
/// go past it.
pub(super) async fn targets_metadata(
    State(state): State<ApiState>,
    form: Form,
) -> Result<Response, ApiError> {
    let limit = int_param(&form, "limit")?;
    let match_target = form.value("match_target");
    let matchers: Vec<Matcher> = if match_target.is_empty() {
        Vec::new()
    } else {
        parse_selector(match_target).map_err(|e| invalid_param("match_target", &e.to_string()))?
    };
    let metric = form.value("metric");
    let targets = active_targets(&state);
    let mut out: Vec<TargetEntry<'_>> = Vec::new();
    for t in &targets {
        if limit >= 0 && out.len() as i64 >= limit {
            break;
        }
        if !matchers
            .iter()
            .all(|m| m.matches(t.labels.get(m.name()).unwrap_or("")))
        {
            continue;
        }
        if metric.is_empty() {
            out.extend(t.status.metadata.iter().map(|m| TargetEntry {
                target: LabelMap(t.labels.clone()),
                metric: Some(&m.family),
                entry: Entry::from(m),
            }));
        } else if let Some(m) = t.status.metadata.get(metric) {
            out.push(TargetEntry {
                target: LabelMap(t.labels.clone()),
                metric: None,
                entry: Entry::from(m),
            });
        }
    }
    Ok(success(out, &[]))
}

fn active_targets(state: &ApiState) -> Vec<ActiveTarget> {
    state
        .scrape_manager()
        .map(|m| m.targets().0)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::MetricType;
    use crate::model::Labels;
    use crate::scrape::{ScrapeBody, ScrapeCache};
    use crate::tsdb::{Db, Options};

    /// Active targets whose last scrape was `bodies` (text format).
    fn targets(bodies: &[&str]) -> Vec<ActiveTarget> {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let mut cache = ScrapeCache::new();
                let mut app = db.appender();
                let labels = Labels::new([("job", "j"), ("instance", &format!("h{i}"))]).unwrap();
                let body = ScrapeBody {
                    bytes: body.as_bytes(),
                    format: crate::exposition::Format::Text,
                    t: 1000,
                };
                cache
                    .append_scrape(&mut app, body, &labels, &Default::default())
                    .unwrap();
                app.commit().unwrap();
                let mut t = ActiveTarget {
                    scrape_pool: "j".to_owned(),
                    discovered_labels: Default::default(),
                    labels,
                    scrape_url: format!("http://h{i}/metrics"),
                    interval: std::time::Duration::from_secs(1),
                    timeout: std::time::Duration::from_secs(1),
                    status: Default::default(),
                };
                t.status.metadata = cache.metadata();
                t
            })
            .collect()
    }

    fn json(v: impl Serialize) -> String {
        serde_json::to_string(&v).unwrap()
    }

    const A: &str = "# HELP a_total Requests.\n# TYPE a_total counter\na_total 1\n# HELP b B.\n# TYPE b gauge\nb 1\n";
    const B: &str = "# HELP a_total Requests.\n# TYPE a_total counter\na_total 1\n# HELP b Other B.\n# TYPE b gauge\nb 1\n# TYPE c summary\nc_sum 1\n";

    #[test]
    fn entries_are_merged_across_targets_without_duplicates() {
        let t = targets(&[A, B, A]);
        assert_eq!(
            json(aggregate(&t, "", -1, -1)),
            r#"{"a_total":[{"type":"counter","help":"Requests.","unit":""}],"b":[{"type":"gauge","help":"B.","unit":""},{"type":"gauge","help":"Other B.","unit":""}],"c":[{"type":"summary","help":"","unit":""}]}"#
        );
        assert_eq!(
            json(aggregate(&t, "b", -1, -1)),
            r#"{"b":[{"type":"gauge","help":"B.","unit":""},{"type":"gauge","help":"Other B.","unit":""}]}"#
        );
        assert_eq!(json(aggregate(&t, "nope", -1, -1)), "{}");
        assert_eq!(
            t[1].status.metadata.get("c").map(|m| m.kind),
            Some(MetricType::Summary)
        );
    }

    #[test]
    fn limits_count_metrics_and_entries_as_prometheus_does() {
        let t = targets(&[A, B]);
        let names = |limit, per| -> Vec<(String, usize)> {
            aggregate(&t, "", limit, per)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.len()))
                .collect()
        };
        let all = [
            ("a_total".to_owned(), 1),
            ("b".to_owned(), 2),
            ("c".to_owned(), 1),
        ];
        // Negative: no limit; 0 metrics: none at all.
        assert_eq!(names(-1, -1), all);
        assert_eq!(names(-5, 0), all);
        assert_eq!(names(0, -1), []);
        assert_eq!(names(2, -1), all[..2]);
        assert_eq!(names(3, -1), all);
        assert_eq!(names(i64::MAX, -1), all);
        // Per metric: the first entries found (targets in order).
        assert_eq!(
            names(-1, 1),
            [
                ("a_total".to_owned(), 1),
                ("b".to_owned(), 1),
                ("c".to_owned(), 1)
            ]
        );
        assert_eq!(
            json(&aggregate(&t, "b", -1, 1)["b"]),
            r#"[{"type":"gauge","help":"B.","unit":""}]"#
        );
    }

    #[test]
    fn limit_parameters_must_be_integers() {
        let form = |q: &str| Form::parse(Some(q), None);
        assert_eq!(int_param(&form(""), "limit").unwrap(), -1);
        assert_eq!(int_param(&form("limit=-3"), "limit").unwrap(), -3);
        assert_eq!(int_param(&form("limit=%2B4"), "limit").unwrap(), 4);
        for bad in [
            "limit=x",
            "limit=1.5",
            "limit=%201",
            "limit=99999999999999999999",
        ] {
            let e = int_param(&form(bad), "limit").unwrap_err();
            assert_eq!(e.message, "limit must be a number", "{bad}");
        }
        let e = int_param(&form("limit_per_metric=a"), "limit_per_metric").unwrap_err();
        assert_eq!(e.message, "limit_per_metric must be a number");
    }
}
