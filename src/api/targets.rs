//! `GET /api/v1/targets`: the scrape manager's targets, in Prometheus's JSON.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::state::ApiState;
use crate::model::{format_duration, rfc3339_nanos};
use crate::scrape::{ActiveTarget, DroppedTarget};

#[derive(Deserialize)]
pub(super) struct Params {
    /// `active`, `dropped` or `any` (the default).
    state: Option<String>,
    /// Only this job's targets.
    #[serde(rename = "scrapePool")]
    scrape_pool: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Answer {
    status: &'static str,
    data: Targets,
}

#[derive(Serialize)]
struct Targets {
    #[serde(rename = "activeTargets")]
    active: Vec<Active>,
    #[serde(rename = "droppedTargets")]
    dropped: Vec<Dropped>,
}

#[derive(Serialize)]
struct Active {
    #[serde(rename = "discoveredLabels")]
    discovered_labels: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    #[serde(rename = "scrapePool")]
    scrape_pool: String,
    #[serde(rename = "scrapeUrl")]
    scrape_url: String,
    #[serde(rename = "globalUrl")]
    global_url: String,
    #[serde(rename = "lastError")]
    last_error: String,
    #[serde(rename = "lastScrape")]
    last_scrape: String,
    #[serde(rename = "lastScrapeDuration")]
    last_scrape_duration: f64,
    health: &'static str,
    #[serde(rename = "scrapeInterval")]
    scrape_interval: String,
    #[serde(rename = "scrapeTimeout")]
    scrape_timeout: String,
}

#[derive(Serialize)]
struct Dropped {
    #[serde(rename = "discoveredLabels")]
    discovered_labels: BTreeMap<String, String>,
}

pub(super) async fn targets(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
) -> Json<Answer> {
    let (want_active, want_dropped) = match params.state.as_deref().map(str::to_ascii_lowercase) {
        None => (true, true),
        Some(s) if s.is_empty() || s == "any" => (true, true),
        Some(s) if s == "active" => (true, false),
        Some(s) if s == "dropped" => (false, true),
        // Prometheus answers an unknown state with empty lists.
        Some(_) => (false, false),
    };
    let (active, dropped) = match state.scrape_manager() {
        Some(manager) => manager.targets(),
        None => (Vec::new(), Vec::new()),
    };
    // An empty scrapePool filters nothing, as in Prometheus.
    let in_pool = |pool: &str| {
        params
            .scrape_pool
            .as_deref()
            .is_none_or(|p| p.is_empty() || p == pool)
    };
    let hostname = hostname();
    let active = active
        .into_iter()
        .filter(|t| want_active && in_pool(&t.scrape_pool))
        .map(|t| active_json(t, hostname.as_deref()))
        .collect();
    let dropped = dropped
        .into_iter()
        .filter(|t| want_dropped && in_pool(&t.scrape_pool))
        .map(|t: DroppedTarget| Dropped {
            discovered_labels: t.discovered_labels,
        })
        .collect();
    Json(Answer {
        status: "success",
        data: Targets { active, dropped },
    })
}

fn active_json(t: ActiveTarget, hostname: Option<&str>) -> Active {
    Active {
        discovered_labels: t.discovered_labels,
        labels: t
            .labels
            .iter()
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect(),
        global_url: global_url(&t.scrape_url, hostname),
        scrape_pool: t.scrape_pool,
        scrape_url: t.scrape_url,
        last_error: t.status.last_error,
        // Go's zero time before the first scrape, as Prometheus shows it.
        last_scrape: t
            .status
            .last_scrape
            .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), rfc3339_nanos),
        last_scrape_duration: t.status.last_scrape_duration.as_secs_f64(),
        health: t.status.health.as_str(),
        scrape_interval: format_duration(t.interval),
        scrape_timeout: format_duration(t.timeout),
    }
}

/// The machine's name, for URLs that other machines can follow.
fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The scrape URL with a loopback host replaced by the machine's name, as
/// Prometheus's `globalUrl` is.
fn global_url(url: &str, hostname: Option<&str>) -> String {
    let Some(hostname) = hostname else {
        return url.to_owned();
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (authority, None),
    };
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return url.to_owned();
    }
    match port {
        Some(port) => format!("{scheme}://{hostname}:{port}{path}"),
        None => format!("{scheme}://{hostname}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::global_url;

    #[test]
    fn global_url_names_the_machine_for_loopback_hosts() {
        let h = Some("box");
        assert_eq!(
            global_url("http://localhost:9100/metrics", h),
            "http://box:9100/metrics"
        );
        assert_eq!(
            global_url("http://127.0.0.1:9090/metrics?a=b", h),
            "http://box:9090/metrics?a=b"
        );
        assert_eq!(global_url("https://[::1]:443/m", h), "https://box:443/m");
        assert_eq!(
            global_url("http://example.org:80/metrics", h),
            "http://example.org:80/metrics"
        );
        assert_eq!(
            global_url("http://localhost:1/m", None),
            "http://localhost:1/m"
        );
    }
}
