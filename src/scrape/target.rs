//! Targets: a discovered address and its labels turned into what is scraped, as
//! Prometheus's `PopulateLabels` does it.
//!
//! The job's settings become labels first (`job`, `__scheme__`,
//! `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__`, and
//! `__param_<name>` for the first value of each URL parameter), where discovery
//! did not set them; then `relabel_configs` run, and may drop the target or
//! change any of them. What is left decides the URL (a port is added from the
//! scheme when the address has none, as Prometheus 2 does), the interval and
//! timeout, and, without the labels starting with `__`, the labels of every series
//! scraped from it. `__meta_*` labels are gone after relabeling; `instance`
//! defaults to the address.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::ScrapeConfig;
use crate::model::{Labels, format_duration, parse_duration};
use crate::relabel::relabel;

/// Why a discovered target cannot be scraped (Prometheus shows these as dropped
/// targets with the reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no address")]
    NoAddress,
    #[error("invalid scheme: {0:?}")]
    Scheme(String),
    #[error("{0:?} is not a valid hostname")]
    Address(String),
    #[error("error parsing {which}: {reason}")]
    Duration { which: &'static str, reason: String },
    #[error("scrape {0} cannot be 0")]
    Zero(&'static str),
    #[error("scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})")]
    TimeoutOverInterval { timeout: String, interval: String },
    #[error("invalid label set: {0}")]
    Labels(String),
}

/// A target ready to be scraped.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Every label after relabeling, `__` labels included (the target's identity).
    pub labels: Labels,
    pub interval: Duration,
    pub timeout: Duration,
}

const ADDRESS: &str = "__address__";
const SCHEME: &str = "__scheme__";
const METRICS_PATH: &str = "__metrics_path__";
const INTERVAL: &str = "__scrape_interval__";
const TIMEOUT: &str = "__scrape_timeout__";
const PARAM: &str = "__param_";
const META: &str = "__meta_";

impl Target {
    /// The labels its series get: those not starting with `__`.
    pub fn series_labels(&self) -> Labels {
        let pairs = self
            .labels
            .iter()
            .filter(|l| !l.name.starts_with("__"))
            .map(|l| (l.name, l.value));
        // A subset of a valid label set is valid.
        Labels::new(pairs).unwrap_or_default()
    }

    /// The URL scraped: `__scheme__://__address__/__metrics_path__`, with the
    /// job's URL parameters, each first value replaced by its `__param_` label.
    pub fn url(&self, params: &BTreeMap<String, Vec<String>>) -> String {
        let get = |n: &str| self.labels.get(n).unwrap_or("");
        let mut query: BTreeMap<String, Vec<String>> = params.clone();
        for l in self.labels.iter() {
            if let Some(name) = l.name.strip_prefix(PARAM) {
                let values = query.entry(name.to_owned()).or_default();
                match values.first_mut() {
                    Some(first) => *first = l.value.to_owned(),
                    None => values.push(l.value.to_owned()),
                }
            }
        }
        let mut url = format!("{}://{}{}", get(SCHEME), get(ADDRESS), get(METRICS_PATH));
        let mut sep = '?';
        for (name, values) in &query {
            for v in values {
                url.push(sep);
                url.push_str(&percent_encode(name));
                url.push('=');
                url.push_str(&percent_encode(v));
                sep = '&';
            }
        }
        url
    }
}

/// Escapes a query component as Go's `url.QueryEscape` does (space as `+`).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A discovered target's labels with the job's settings added where discovery
/// did not set them: what relabeling starts from, and what Prometheus shows as
/// `discoveredLabels`.
pub fn with_job_defaults(
    discovered: &BTreeMap<String, String>,
    cfg: &ScrapeConfig,
) -> BTreeMap<String, String> {
    let mut b = discovered.clone();
    let defaults = [
        ("job", cfg.job_name.clone()),
        (INTERVAL, format_duration(cfg.scrape_interval)),
        (TIMEOUT, format_duration(cfg.scrape_timeout)),
        (METRICS_PATH, cfg.metrics_path.clone()),
        (SCHEME, cfg.scheme.as_str().to_owned()),
    ];
    for (name, value) in defaults {
        if b.get(name).is_none_or(|v| v.is_empty()) {
            b.insert(name.to_owned(), value);
        }
    }
    for (name, values) in &cfg.params {
        if let Some(first) = values.first() {
            b.insert(format!("{PARAM}{name}"), first.clone());
        }
    }
    b
}

/// Resolves one discovered target of job `cfg`: `discovered` holds
/// `__address__` and the group's and discovery's labels; the job's
/// `relabel_configs` run over them. Returns `Ok(None)` for a dropped target.
pub fn populate(
    discovered: &BTreeMap<String, String>,
    cfg: &ScrapeConfig,
) -> Result<Option<Target>, TargetError> {
    let labels = Labels::new(with_job_defaults(discovered, cfg))
        .map_err(|e| TargetError::Labels(e.to_string()))?;
    let relabeled =
        relabel(&labels, &cfg.relabel_configs).map_err(|e| TargetError::Labels(e.to_string()))?;
    let Some(labels) = relabeled else {
        return Ok(None);
    };
    let mut b: BTreeMap<String, String> = labels
        .iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect();
    let mut addr = b.get(ADDRESS).cloned().unwrap_or_default();
    if addr.is_empty() {
        return Err(TargetError::NoAddress);
    }
    if needs_port(&addr) {
        match b.get(SCHEME).map_or("", String::as_str) {
            "http" | "" => addr.push_str(":80"),
            "https" => addr.push_str(":443"),
            _ => return Err(TargetError::Scheme(cfg.scheme.as_str().to_owned())),
        }
        b.insert(ADDRESS.to_owned(), addr.clone());
    }
    if addr.contains('/') {
        return Err(TargetError::Address(addr));
    }
    let duration = |which: &'static str, name: &str| {
        let text = b.get(name).map_or("", String::as_str);
        parse_duration(text).map_err(|e| TargetError::Duration {
            which,
            reason: e.to_string(),
        })
    };
    let interval = duration("scrape interval", INTERVAL)?;
    if interval.is_zero() {
        return Err(TargetError::Zero("interval"));
    }
    let timeout = duration("scrape timeout", TIMEOUT)?;
    if timeout.is_zero() {
        return Err(TargetError::Zero("timeout"));
    }
    if timeout > interval {
        return Err(TargetError::TimeoutOverInterval {
            timeout: b[TIMEOUT].clone(),
            interval: b[INTERVAL].clone(),
        });
    }
    b.retain(|name, _| !name.starts_with(META));
    if b.get("instance").is_none_or(|v| v.is_empty()) {
        b.insert("instance".to_owned(), addr);
    }
    let labels = Labels::new(b).map_err(|e| TargetError::Labels(e.to_string()))?;
    Ok(Some(Target {
        labels,
        interval,
        timeout,
    }))
}

/// Whether `addr` lacks a port and would be a valid `host:port` with one (Go's
/// `net.SplitHostPort` rules: an IPv6 host is in brackets).
fn needs_port(addr: &str) -> bool {
    if split_host_port(addr) {
        return false;
    }
    split_host_port(&format!("{addr}:1234"))
}

/// Whether Go's `net.SplitHostPort` accepts `s`.
fn split_host_port(s: &str) -> bool {
    let Some(colon) = s.rfind(':') else {
        return false;
    };
    let host = &s[..colon];
    if let Some(inner) = host.strip_prefix('[') {
        // `[host]:port`, no bracket or colon problems after it.
        match inner.find(']') {
            Some(end) => end + 1 == inner.len() && !inner[..end].contains('['),
            None => false,
        }
    } else {
        !host.contains(':') && !host.contains('[') && !host.contains(']')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn job(yaml_tail: &str) -> ScrapeConfig {
        let text = format!(
            "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n{yaml_tail}"
        );
        Config::parse(&text).unwrap().scrape_configs.remove(0)
    }

    fn discovered(addr: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = extra
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        m.insert(ADDRESS.to_owned(), addr.to_owned());
        m
    }

    /// A job whose relabel_configs set label `name` to `value`.
    fn setting(name: &str, value: &str) -> ScrapeConfig {
        job(&format!(
            "    relabel_configs:\n      - target_label: {name}\n        replacement: '{value}'\n"
        ))
    }

    #[test]
    fn defaults_instance_and_port_as_prometheus_2() {
        let cfg = job("    params:\n      module: [a, b]\n");
        let t = populate(
            &discovered("host", &[("__meta_x", "1"), ("env", "prod")]),
            &cfg,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            t.labels.to_string(),
            r#"{__address__="host:80", __metrics_path__="/metrics", __param_module="a", __scheme__="http", __scrape_interval__="15s", __scrape_timeout__="10s", env="prod", instance="host:80", job="node"}"#
        );
        assert_eq!(
            t.series_labels().to_string(),
            r#"{env="prod", instance="host:80", job="node"}"#
        );
        assert_eq!(
            t.url(&cfg.params),
            "http://host:80/metrics?module=a&module=b"
        );
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(15), Duration::from_secs(10))
        );
        // A port stays; https gets 443; IPv6 in brackets.
        let https = job("    scheme: https\n");
        for (addr, want) in [
            ("h:9100", "h:9100"),
            ("h", "h:443"),
            ("[::1]", "[::1]:443"),
            ("[::1]:9", "[::1]:9"),
        ] {
            let t = populate(&discovered(addr, &[]), &https).unwrap().unwrap();
            assert_eq!(t.labels.get("instance"), Some(want), "{addr}");
        }
    }

    #[test]
    fn relabeling_can_drop_or_redirect_a_target() {
        let drop_all = job(
            "    relabel_configs:\n      - action: drop\n        source_labels: [__address__]\n        regex: 'h:.*'\n",
        );
        assert_eq!(populate(&discovered("h:1", &[]), &drop_all), Ok(None));
        assert!(
            populate(&discovered("g:1", &[]), &drop_all)
                .unwrap()
                .is_some()
        );
        // The blackbox-exporter pattern: the address becomes a parameter.
        let probe = job(concat!(
            "    metrics_path: /probe\n",
            "    relabel_configs:\n",
            "      - source_labels: [__address__]\n",
            "        target_label: __param_target\n",
            "      - source_labels: [__param_target]\n",
            "        target_label: instance\n",
            "      - target_label: __address__\n",
            "        replacement: exporter:9115\n",
        ));
        let t = populate(&discovered("example.com a&b", &[]), &probe)
            .unwrap()
            .unwrap();
        assert_eq!(
            t.url(&probe.params),
            "http://exporter:9115/probe?target=example.com+a%26b"
        );
        assert_eq!(t.series_labels().get("instance"), Some("example.com a&b"));
    }

    #[test]
    fn bad_targets_say_why() {
        assert_eq!(
            populate(&discovered("h:1", &[]), &setting(ADDRESS, "")),
            Err(TargetError::NoAddress)
        );
        assert_eq!(
            populate(&discovered("h:1/x", &[]), &job("")),
            Err(TargetError::Address("h:1/x".to_owned()))
        );
        assert_eq!(
            populate(&discovered("h", &[]), &setting(SCHEME, "ftp")),
            Err(TargetError::Scheme("http".to_owned()))
        );
        assert_eq!(
            populate(&discovered("h:1", &[]), &setting(TIMEOUT, "1m")),
            Err(TargetError::TimeoutOverInterval {
                timeout: "1m".to_owned(),
                interval: "15s".to_owned()
            })
        );
        assert_eq!(
            populate(&discovered("h:1", &[]), &setting(INTERVAL, "0s")),
            Err(TargetError::Zero("interval"))
        );
        assert!(matches!(
            populate(&discovered("h:1", &[]), &setting(INTERVAL, "soon")),
            Err(TargetError::Duration { .. })
        ));
    }
}
