//! Tests of the HTTP client settings, the limits and `file_sd_configs` of a
//! scrape config.

use std::path::PathBuf;
use std::time::Duration;

use super::discovery::valid_sd_path;
use super::*;

fn job(tail: &str) -> ScrapeConfig {
    let text = format!("scrape_configs:\n  - job_name: a\n{tail}");
    match Config::parse(&text) {
        Ok(mut config) => config.scrape_configs.remove(0),
        Err(err) => panic!("{text}: {err}"),
    }
}

/// The error of a job whose settings are `tail`: (line, message).
fn job_error(tail: &str) -> (u64, String) {
    let text = format!("scrape_configs:\n  - job_name: a\n{tail}");
    match Config::parse(&text) {
        Err(ConfigError::Invalid { line, message, .. }) => (line, message),
        other => panic!("expected an invalid config for {tail:?}, got {other:?}"),
    }
}

fn inline(s: &str) -> Option<CredentialSource> {
    Some(CredentialSource::Inline(Secret::new(s)))
}

fn file(s: &str) -> Option<CredentialSource> {
    Some(CredentialSource::File(PathBuf::from(s)))
}

#[test]
fn defaults_without_the_keys() {
    let a = job("");
    assert_eq!(a.http_client, HttpClientConfig::default());
    assert!(a.http_client.follow_redirects && a.http_client.enable_http2);
    assert!(a.enable_compression);
    assert_eq!(a.body_size_limit, 0);
    assert_eq!(
        (
            a.sample_limit,
            a.label_limit,
            a.label_name_length_limit,
            a.label_value_length_limit
        ),
        (0, 0, 0, 0)
    );
    assert!(a.file_sd_configs.is_empty());
}

#[test]
fn basic_auth_is_resolved() {
    let a = job("    basic_auth: {username: u, password: p}\n");
    assert_eq!(
        a.http_client.basic_auth,
        Some(BasicAuth {
            username: "u".into(),
            password: inline("p"),
        })
    );
    let a = job("    basic_auth: {username: u, password_file: pw.txt}\n");
    assert_eq!(a.http_client.basic_auth.unwrap().password, file("pw.txt"));
    let a = job("    basic_auth: {username: u}\n");
    assert_eq!(a.http_client.basic_auth.unwrap().password, None);
}

#[test]
fn authorization_is_resolved() {
    let a = job("    authorization: {credentials: t}\n");
    assert_eq!(
        a.http_client.authorization,
        Some(Authorization {
            kind: "Bearer".into(),
            credentials: inline("t"),
        })
    );
    let a = job("    authorization: {type: ' Token ', credentials_file: /run/tok}\n");
    assert_eq!(
        a.http_client.authorization,
        Some(Authorization {
            kind: "Token".into(),
            credentials: file("/run/tok"),
        })
    );
}

#[test]
fn legacy_bearer_token_becomes_authorization() {
    let a = job("    bearer_token: t\n");
    assert_eq!(
        a.http_client.authorization,
        Some(Authorization {
            kind: "Bearer".into(),
            credentials: inline("t"),
        })
    );
    let a = job("    bearer_token_file: tok\n");
    assert_eq!(
        a.http_client.authorization.unwrap().credentials,
        file("tok")
    );
}

#[test]
fn auth_conflicts_are_rejected_with_prometheus_messages() {
    let cases = [
        (
            "    basic_auth: {username: u, password: p, password_file: f}\n",
            3,
            "scrape_configs[0].basic_auth: at most one of basic_auth password & password_file must be configured",
        ),
        (
            "    bearer_token: t\n    bearer_token_file: f\n",
            4,
            "scrape_configs[0].bearer_token_file: at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "    basic_auth: {username: u}\n    bearer_token: t\n",
            4,
            "scrape_configs[0].bearer_token: at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "    bearer_token_file: f\n    authorization: {credentials: t}\n",
            4,
            "scrape_configs[0].authorization: authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "    authorization: {credentials: t, credentials_file: f}\n",
            3,
            "scrape_configs[0].authorization: at most one of authorization credentials & credentials_file must be configured",
        ),
        (
            "    authorization: {type: basic, credentials: t}\n",
            3,
            "scrape_configs[0].authorization: authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
        (
            "    basic_auth: {username: u}\n    authorization: {credentials: t}\n",
            4,
            "scrape_configs[0].authorization: at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "    oauth2: {client_id: x}\n    authorization: {credentials: t}\n",
            4,
            "scrape_configs[0].authorization: at most one of basic_auth, oauth2 & authorization must be configured",
        ),
    ];
    for (tail, want_line, want) in cases {
        let (line, message) = job_error(tail);
        assert_eq!(message, want, "{tail}");
        assert_eq!(line, want_line, "{tail}");
    }
}

#[test]
fn tls_config_is_resolved() {
    let a = job("    tls_config:
      ca_file: ca.pem
      cert_file: /etc/c.pem
      key_file: k.pem
      server_name: node.internal
      insecure_skip_verify: false
");
    assert_eq!(
        a.http_client.tls,
        TlsConfig {
            ca: Some(PemSource::File("ca.pem".into())),
            cert: Some(PemSource::File("/etc/c.pem".into())),
            key: file("k.pem"),
            server_name: Some("node.internal".into()),
            insecure_skip_verify: false,
        }
    );
    let a = job("    tls_config: {ca: CA, cert: CERT, key: KEY}\n");
    assert_eq!(a.http_client.tls.ca, Some(PemSource::Inline("CA".into())));
    assert_eq!(
        a.http_client.tls.cert,
        Some(PemSource::Inline("CERT".into()))
    );
    assert_eq!(a.http_client.tls.key, inline("KEY"));
}

#[test]
fn tls_conflicts_are_rejected() {
    let cases = [
        (
            "{cert_file: c}",
            "exactly one of key or key_file must be configured when a client certificate is configured",
        ),
        (
            "{key_file: k}",
            "exactly one of cert or cert_file must be configured when a client key is configured",
        ),
        (
            "{ca: x, ca_file: y}",
            "at most one of ca and ca_file must be configured",
        ),
        (
            "{cert: x, cert_file: y, key: k}",
            "at most one of cert and cert_file must be configured",
        ),
        (
            "{cert: x, key: k, key_file: y}",
            "at most one of key and key_file must be configured",
        ),
    ];
    for (tls, want) in cases {
        let (line, message) = job_error(&format!("    tls_config: {tls}\n"));
        assert_eq!(message, format!("scrape_configs[0].tls_config: {want}"));
        assert_eq!(line, 3);
    }
    let (line, message) = job_error("    tls_config: {bogus: 1}\n");
    assert_eq!(line, 3);
    assert!(message.contains("unknown field `bogus`"), "{message}");
}

#[test]
fn tls_versions_are_reported_unsupported() {
    let config =
        Config::parse("scrape_configs:\n  - job_name: a\n    tls_config: {min_version: TLS12}\n")
            .unwrap();
    assert_eq!(
        config.unsupported_keys,
        ["scrape_configs[0].tls_config.min_version"]
    );
}

#[test]
fn switches_are_read() {
    let a = job(
        "    follow_redirects: false\n    enable_http2: false\n    enable_compression: false\n",
    );
    assert!(!a.http_client.follow_redirects);
    assert!(!a.http_client.enable_http2);
    assert!(!a.enable_compression);
    let (line, _) = job_error("    follow_redirects: sometimes\n");
    assert_eq!(line, 3);
}

#[test]
fn limits_are_read_and_default_from_global() {
    let a = job("    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 200
    label_value_length_limit: 2048
    body_size_limit: 10MB
");
    assert_eq!(a.sample_limit, 1000);
    assert_eq!(a.label_limit, 30);
    assert_eq!(a.label_name_length_limit, 200);
    assert_eq!(a.label_value_length_limit, 2048);
    assert_eq!(a.body_size_limit, 10 << 20);
    assert_eq!(job("    body_size_limit: 0\n").body_size_limit, 0);

    let config = Config::parse(
        "global:
  sample_limit: 5
  label_limit: 6
  label_name_length_limit: 7
  label_value_length_limit: 8
  body_size_limit: 1KiB
scrape_configs:
  - job_name: inherits
  - job_name: overrides
    sample_limit: 0
    body_size_limit: 2KB
",
    )
    .unwrap();
    assert_eq!(config.global.body_size_limit, 1024);
    let a = config.job("inherits").unwrap();
    assert_eq!(
        (
            a.sample_limit,
            a.label_limit,
            a.label_name_length_limit,
            a.label_value_length_limit,
            a.body_size_limit
        ),
        (5, 6, 7, 8, 1024)
    );
    let b = config.job("overrides").unwrap();
    assert_eq!(
        (b.sample_limit, b.label_limit, b.body_size_limit),
        (0, 6, 2048)
    );
    assert!(
        config.unsupported_keys.is_empty(),
        "{:?}",
        config.unsupported_keys
    );
}

#[test]
fn bad_limits_name_key_and_line() {
    let (line, message) = job_error("    body_size_limit: 10 MB\n");
    assert_eq!(line, 3);
    assert!(
        message.starts_with("scrape_configs[0].body_size_limit: invalid size \"10 MB\""),
        "{message}"
    );
    let (line, message) = job_error("    sample_limit: -1\n");
    assert_eq!(line, 3);
    assert!(message.contains("u64"), "{message}");
    let err = Config::parse("global:\n  body_size_limit: lots\n").unwrap_err();
    assert!(
        err.to_string().contains(":2:") && err.to_string().contains("global.body_size_limit"),
        "{err}"
    );
}

#[test]
fn file_sd_configs_are_resolved() {
    let a = job("    file_sd_configs:
      - files: [targets/*.json, /etc/sd/b.yml]
        refresh_interval: 30s
      - files: [c.YAML]
");
    assert_eq!(
        a.file_sd_configs,
        [
            FileSdConfig {
                files: vec!["targets/*.json".into(), "/etc/sd/b.yml".into()],
                refresh_interval: Duration::from_secs(30),
            },
            FileSdConfig {
                files: vec!["c.YAML".into()],
                refresh_interval: DEFAULT_FILE_SD_REFRESH,
            },
        ]
    );
}

#[test]
fn bad_file_sd_configs_are_rejected() {
    let cases = [
        (
            "      - files: []\n",
            4,
            "scrape_configs[0].file_sd_configs[0].files: file service discovery config must contain at least one path name",
        ),
        (
            "      - refresh_interval: 1m\n",
            4,
            "scrape_configs[0].file_sd_configs[0].files: file service discovery config must contain at least one path name",
        ),
        (
            "      - files:\n          - a.json\n          - targets.txt\n",
            6,
            "scrape_configs[0].file_sd_configs[0].files: path name \"targets.txt\" is not valid for file discovery",
        ),
        (
            "      - files: ['*/a.json']\n",
            4,
            "scrape_configs[0].file_sd_configs[0].files: path name \"*/a.json\" is not valid for file discovery",
        ),
        (
            "      - files: [a.json]\n        refresh_interval: soon\n",
            5,
            "scrape_configs[0].file_sd_configs[0].refresh_interval: ",
        ),
    ];
    for (entries, want_line, want) in cases {
        let (line, message) = job_error(&format!("    file_sd_configs:\n{entries}"));
        assert!(message.starts_with(want), "{entries}: {message}");
        assert_eq!(line, want_line, "{entries}: {message}");
    }
}

#[test]
fn sd_path_pattern_matches_prometheus() {
    for good in [
        "a.json",
        "dir/*.yml",
        "/abs/x*y.yaml",
        "a*b*.JSON",
        "*.json",
    ] {
        assert!(valid_sd_path(good), "{good}");
    }
    for bad in ["a.txt", "a", "*/x.json", "json", "a.Json", "a*/b.yml"] {
        assert!(!valid_sd_path(bad), "{bad}");
    }
}

#[test]
fn relative_paths_are_taken_from_the_config_files_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheus.yml");
    std::fs::write(
        &path,
        "scrape_configs:
  - job_name: a
    basic_auth: {username: u, password_file: secrets/pw}
    tls_config: {ca_file: ca.pem, cert_file: /abs/c.pem, key_file: k.pem}
    file_sd_configs:
      - files: [sd/*.json, /abs/sd.yml]
  - job_name: b
    authorization: {credentials_file: tok}
  - job_name: c
    bearer_token_file: legacy
",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let d = dir.path();
    let a = config.job("a").unwrap();
    assert_eq!(
        a.http_client.basic_auth.as_ref().unwrap().password,
        Some(CredentialSource::File(d.join("secrets/pw")))
    );
    let tls = &a.http_client.tls;
    assert_eq!(tls.ca, Some(PemSource::File(d.join("ca.pem"))));
    assert_eq!(tls.cert, Some(PemSource::File("/abs/c.pem".into())));
    assert_eq!(tls.key, Some(CredentialSource::File(d.join("k.pem"))));
    assert_eq!(
        a.file_sd_configs[0].files,
        [d.join("sd/*.json"), PathBuf::from("/abs/sd.yml")]
    );
    for (name, want) in [("b", "tok"), ("c", "legacy")] {
        let auth = config.job(name).unwrap().http_client.authorization.as_ref();
        assert_eq!(
            auth.unwrap().credentials,
            Some(CredentialSource::File(d.join(want)))
        );
    }
}

#[test]
fn debug_output_hides_secrets() {
    let a = job("    basic_auth: {username: user, password: hunter2}
    tls_config: {cert: CERT, key: PRIVATEKEY}
");
    let b = job("    authorization: {credentials: tok3n}\n");
    let text = format!("{a:?} {b:?}");
    for secret in ["hunter2", "PRIVATEKEY", "tok3n"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("<secret>") && text.contains("user"), "{text}");
}
