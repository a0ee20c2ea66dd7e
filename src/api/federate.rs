//! `GET /federate`: the latest sample of every series matching any `match[]`
//! selector, in the text exposition format, as Prometheus's federation serves it
//! to a scraping Prometheus (`honor_labels: true`, `metrics_path: /federate`).
//!
//! As Prometheus: the latest sample within the lookback delta before now (stale
//! markers leave a series out), series grouped under one `# TYPE name untyped`
//! per metric name in name order, empty label values left out, the external
//! labels the series does not already have appended (with `instance=""` when it
//! has no instance), values as Go's `strconv.FormatFloat(v, 'g', -1, 64)` and the
//! sample's timestamp in milliseconds. A selector that does not parse answers 400
//! with the reason as plain text, as Prometheus's handler does.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::params::Form;
use super::selector::parse_selector;
use super::state::ApiState;
use crate::model::{Labels, Matcher, float, is_stale_nan};
use crate::tsdb::Db;

/// `GET /federate`.
pub(super) async fn federate(State(state): State<ApiState>, form: Form) -> Response {
    let Some(db) = state.storage() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response();
    };
    let mut sets = Vec::new();
    for s in form.values("match[]") {
        match parse_selector(s) {
            Ok(m) => sets.push(m),
            Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        }
    }
    let lookback =
        i64::try_from(state.query_settings().0.lookback_delta.as_millis()).unwrap_or(i64::MAX / 4);
    let external = state.external_labels();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let body =
        tokio::task::spawn_blocking(move || federation(&db, &sets, now, lookback, &external))
            .await
            .unwrap_or_else(|e| Err(format!("federation task failed: {e}")));
    match body {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

/// The exposition text of the latest samples at `now`.
fn federation(
    db: &Db,
    sets: &[Vec<Matcher>],
    now: i64,
    lookback: i64,
    external: &BTreeMap<String, String>,
) -> Result<String, String> {
    let q = db.querier(now.saturating_sub(lookback), now);
    let mut seen: HashSet<Labels> = HashSet::new();
    let mut latest: Vec<(Labels, i64, f64)> = Vec::new();
    for matchers in sets {
        for s in q.select(matchers).map_err(|e| e.to_string())? {
            if !seen.insert(s.labels().clone()) {
                continue;
            }
            let mut it = s.iter();
            let last = it.by_ref().last();
            if let Some(e) = it.err() {
                return Err(e.to_string());
            }
            if let Some(x) = last.filter(|x| !is_stale_nan(x.v)) {
                latest.push((s.labels().clone(), x.t, x.v));
            }
        }
    }
    latest.sort_by(|a, b| {
        a.0.metric_name()
            .cmp(&b.0.metric_name())
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut with_instance = external.clone();
    with_instance.entry("instance".to_owned()).or_default();
    let mut out = String::new();
    let mut family = None;
    for (labels, t, v) in &latest {
        // Prometheus skips (and logs) a series without a name.
        let Some(name) = labels.metric_name().filter(|n| !n.is_empty()) else {
            continue;
        };
        if family != Some(name) {
            let _ = writeln!(out, "# TYPE {name} untyped");
            family = Some(name);
        }
        out.push_str(name);
        let mut pairs: Vec<(&str, &str)> = labels
            .iter()
            .filter(|l| l.name != "__name__" && !l.value.is_empty())
            .map(|l| (l.name, l.value))
            .collect();
        for (k, v) in &with_instance {
            if labels.get(k).is_none_or(str::is_empty) {
                pairs.push((k, v));
            }
        }
        if !pairs.is_empty() {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {} {t}", float::format_g(*v));
    }
    Ok(out)
}

/// A label value as the text format escapes it: `\\`, `\"` and `\n`.
fn escape_label_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escaped() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
