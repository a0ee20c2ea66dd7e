//! Tests of the whole file: defaults, jobs, strictness, errors, relabel rules
//! and the sections accepted without effect.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::model::Labels;
use crate::relabel::{Action, relabel};

fn invalid(text: &str) -> (u64, String) {
    match Config::parse(text) {
        Err(ConfigError::Invalid { line, message, .. }) => (line, message),
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn empty_file_gives_defaults() {
    for text in [
        "",
        "# nothing\n",
        "global:\n",
        "global: {}\nscrape_configs: []\n",
    ] {
        assert_eq!(Config::parse(text).unwrap(), Config::default(), "{text:?}");
    }
    let g = GlobalConfig::default();
    assert_eq!(g.scrape_interval, S(60));
    assert_eq!(g.scrape_timeout, S(10));
    assert_eq!(g.evaluation_interval, S(60));
}

#[test]
fn example_config_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");
    let config = Config::load(path).unwrap();
    assert_eq!(config.global.scrape_interval, S(15));
    assert_eq!(config.global.scrape_timeout, S(10));
    let jobs: Vec<_> = config
        .scrape_configs
        .iter()
        .map(|j| j.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["tidemark", "node"]);
    let tidemark = config.job("tidemark").unwrap();
    assert_eq!(tidemark.static_configs[0].targets, ["localhost:9090"]);
    assert_eq!(tidemark.scrape_interval, S(15));
    assert_eq!(
        config.job("node").unwrap().static_configs[0].targets,
        ["localhost:9100"]
    );
    assert!(
        config.unsupported_keys.is_empty(),
        "{:?}",
        config.unsupported_keys
    );
}

#[test]
fn job_inherits_and_overrides_global() {
    let config = Config::parse(
        "global:
  scrape_interval: 30s
  scrape_timeout: 20s
  external_labels:
    cluster: eu-1
    replica: 1
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ['a:1', 'b:2']
        labels: {env: prod}
  - job_name: b
    scrape_interval: 5s
    metrics_path: /probe
    scheme: https
    honor_labels: true
    honor_timestamps: false
    params:
      module: [http_2xx]
  - job_name: c
    scrape_interval: 1m
    scrape_timeout: 45s
",
    )
    .unwrap();
    assert_eq!(config.global.external_labels["cluster"], "eu-1");
    assert_eq!(config.global.external_labels["replica"], "1");
    let a = config.job("a").unwrap();
    assert_eq!((a.scrape_interval, a.scrape_timeout), (S(30), S(20)));
    assert_eq!(a.metrics_path, "/metrics");
    assert_eq!(a.scheme, Scheme::Http);
    assert!(!a.honor_labels && a.honor_timestamps);
    assert_eq!(a.static_configs[0].targets, ["a:1", "b:2"]);
    assert_eq!(a.static_configs[0].labels["env"], "prod");
    // The global timeout is capped by the job's shorter interval.
    let b = config.job("b").unwrap();
    assert_eq!((b.scrape_interval, b.scrape_timeout), (S(5), S(5)));
    assert_eq!(b.metrics_path, "/probe");
    assert_eq!(b.scheme, Scheme::Https);
    assert!(b.honor_labels && !b.honor_timestamps);
    assert_eq!(b.params["module"], ["http_2xx"]);
    let c = config.job("c").unwrap();
    assert_eq!((c.scrape_interval, c.scrape_timeout), (S(60), S(45)));
}

#[test]
fn short_global_interval_caps_default_timeout() {
    let config = Config::parse("global:\n  scrape_interval: 5s\n").unwrap();
    assert_eq!(config.global.scrape_timeout, S(5));
    let config = Config::parse("global:\n  scrape_interval: 0\n").unwrap();
    assert_eq!(config.global.scrape_interval, S(60));
}

#[test]
fn unknown_key_is_rejected_with_its_line() {
    let (line, message) = invalid("global:\n  scrape_interval: 15s\n  scrape_intervall: 1m\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("unknown field `scrape_intervall`"),
        "{message}"
    );

    let (line, message) = invalid("scrape_configs:\n  - job_name: a\n    targets: [x]\n");
    assert_eq!(line, 3);
    assert!(message.contains("`targets`"), "{message}");
}

#[test]
fn duplicate_yaml_key_is_rejected() {
    let (line, message) = invalid("global:\n  scrape_interval: 15s\n  scrape_interval: 10s\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("duplicate") && message.contains("scrape_interval"),
        "{message}"
    );
}

#[test]
fn duplicate_job_name_is_rejected() {
    let (line, message) =
        invalid("scrape_configs:\n  - job_name: node\n  - job_name: other\n  - job_name: node\n");
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "scrape_configs[2].job_name: found multiple scrape configs with job name \"node\" (first at line 2)"
    );
}

#[test]
fn missing_or_empty_job_name_is_rejected() {
    let (line, message) = invalid("scrape_configs:\n  - scrape_interval: 1m\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "scrape_configs[0]: job_name is empty")
    );
    let (line, message) = invalid("scrape_configs:\n  - job_name: ''\n");
    assert_eq!(line, 2);
    assert!(message.contains("job_name is empty"), "{message}");
}

#[test]
fn timeout_above_interval_is_rejected() {
    let (line, message) = invalid(
        "scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 15s\n",
    );
    assert_eq!(line, 4);
    assert_eq!(
        message,
        "scrape_configs[0].scrape_timeout: scrape timeout 15s greater than scrape interval 10s for scrape config with job name \"a\""
    );
    let (line, message) = invalid("global:\n  scrape_interval: 10s\n  scrape_timeout: 11s\n");
    assert_eq!(line, 3);
    assert!(message.starts_with("global.scrape_timeout: "), "{message}");
}

#[test]
fn bad_values_name_key_and_line() {
    let (line, message) = invalid("scrape_configs:\n  - job_name: a\n    scrape_interval: 1.5m\n");
    assert_eq!(line, 3);
    assert_eq!(
        message,
        // Prometheus words it the same way.
        "scrape_configs[0].scrape_interval: unknown unit \".\" in duration \"1.5m\""
    );
    let (line, message) = invalid("scrape_configs:\n  - job_name: a\n    scheme: ftp\n");
    assert_eq!(line, 3);
    assert!(
        message.starts_with("scrape_configs[0].scheme: "),
        "{message}"
    );
    let (line, message) = invalid(
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n",
    );
    assert_eq!(line, 4);
    assert!(message.contains("is not a valid hostname"), "{message}");
    let (line, _) = invalid("scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n");
    assert_eq!(line, 3);
    let (line, _) = invalid("global: [\n");
    assert_eq!(line, 1);
}

#[test]
fn error_display_names_the_file() {
    let err = Config::parse_named("global:\n  bogus: 1\n", "prometheus.yml").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("prometheus.yml:2:3: unknown field `bogus`"),
        "{text}"
    );
    let err = Config::load("/nonexistent/prometheus.yml").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/prometheus.yml"),
        "{err}"
    );
}

#[test]
fn relabel_configs_are_parsed_with_defaults() {
    let config = Config::parse(
        r#"scrape_configs:
  - job_name: k8s
    relabel_configs:
      - source_labels: [__address__, __meta_port]
        regex: (.+?)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - action: LabelMap
        regex: __meta_label_(.+)
      - source_labels: [__address__]
        target_label: __tmp_hash
        modulus: 3
        action: hashmod
      - regex:
        target_label: empty_only
        replacement: yes
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
"#,
    )
    .unwrap();
    let job = config.job("k8s").unwrap();
    let rules = &job.relabel_configs;
    assert_eq!(rules.len(), 4);
    assert_eq!(rules[0].separator, ";");
    assert_eq!(rules[0].action, Action::Replace);
    assert_eq!(rules[1].action, Action::LabelMap);
    assert_eq!(rules[1].replacement, "$1");
    assert_eq!(rules[2].modulus, 3);
    // A null regex is Prometheus's zero value: it matches only "".
    assert_eq!(rules[3].regex.as_str(), "");

    let target = Labels::new([
        ("__address__", "10.0.0.1:80"),
        ("__meta_port", "9100"),
        ("__meta_label_app", "web"),
    ])
    .unwrap();
    let out = relabel(&target, rules).unwrap().unwrap();
    assert_eq!(out.get("__address__"), Some("10.0.0.1:9100"));
    assert_eq!(out.get("app"), Some("web"));
    assert!(out.get("__tmp_hash").is_some());
    // `empty_only`'s source value is "" (no source labels).
    assert_eq!(out.get("empty_only"), Some("yes"));

    let sample = Labels::new([("__name__", "go_goroutines")]).unwrap();
    assert_eq!(relabel(&sample, &job.metric_relabel_configs).unwrap(), None);
}

#[test]
fn bad_relabel_configs_name_key_and_line() {
    let cases = [
        (
            "      - action: keep\n        bogus: 1\n",
            5,
            "unknown field `bogus`",
        ),
        (
            "      - source_labels: [a]\n        regex: (\n        target_label: b\n",
            5,
            "scrape_configs[0].relabel_configs[0].regex: invalid regex \"(\": ",
        ),
        (
            "      - action: bogus\n",
            4,
            "scrape_configs[0].relabel_configs[0].action: unknown relabel action \"bogus\"",
        ),
        (
            "      - action: hashmod\n        target_label: t\n",
            4,
            "scrape_configs[0].relabel_configs[0].modulus: relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            "      - target_label: t\n      - source_labels: [a]\n",
            5,
            "scrape_configs[0].relabel_configs[1].target_label: relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "      - action: labeldrop\n        regex: x\n        target_label: t\n",
            4,
            "scrape_configs[0].relabel_configs[0].action: labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "      - action: keepequal\n        target_label: t\n        regex: (.*)\n",
            4,
            "scrape_configs[0].relabel_configs[0].action: keepequal action requires only 'source_labels' and `target_label`, and no other fields",
        ),
        (
            "      - action: uppercase\n        target_label: t\n        replacement: x\n",
            6,
            "scrape_configs[0].relabel_configs[0].replacement: 'replacement' can not be set for uppercase action",
        ),
        (
            "      - action:\n",
            4,
            "scrape_configs[0].relabel_configs[0].action: relabel action cannot be empty",
        ),
        ("      - modulus: -1\n", 4, "invalid u64"),
    ];
    for (rules, want_line, want) in cases {
        let text = format!("scrape_configs:\n  - job_name: a\n    relabel_configs:\n{rules}");
        let (line, message) = invalid(&text);
        assert!(message.contains(want), "{rules:?}: {message}");
        assert_eq!(line, want_line, "{rules:?}: {message}");
    }
    let (line, message) = invalid(
        "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - regex: '['\n        action: drop\n",
    );
    assert_eq!(line, 4);
    assert!(
        message.starts_with("scrape_configs[0].metric_relabel_configs[0].regex: invalid regex"),
        "{message}"
    );
}

#[test]
fn real_prometheus_sections_are_accepted_and_reported() {
    let config = Config::parse(
        "global:
  scrape_interval: 15s
  evaluation_interval: 15s
  query_log_file: /tmp/q.log
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['alertmanager:9093']
remote_write:
  - url: http://mimir:9009/api/v1/push
    queue_config: {max_samples_per_send: 1000}
scrape_configs:
  - job_name: node
    tls_config: {insecure_skip_verify: true}
    oauth2: {client_id: x, token_url: 'http://auth/token'}
    file_sd_configs:
      - files: [targets/*.json]
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - action: drop
        regex: go_.*
        source_labels: [__name__]
",
    )
    .unwrap();
    assert_eq!(config.rule_files, ["rules/*.yml"]);
    assert!(config.alerting.is_some());
    assert_eq!(config.remote_write.len(), 1);
    let node = config.job("node").unwrap();
    assert_eq!(node.relabel_configs.len(), 1);
    assert_eq!(node.relabel_configs[0].target_label, "instance");
    assert_eq!(node.metric_relabel_configs[0].action, Action::Drop);
    assert!(node.http_client.tls.insecure_skip_verify);
    assert_eq!(
        node.file_sd_configs[0].files,
        [PathBuf::from("targets/*.json")]
    );
    assert_eq!(
        config.unsupported_keys,
        [
            "global.query_log_file",
            "scrape_configs[0].oauth2",
            "rule_files",
            "alerting",
            "remote_write",
        ]
    );
}
