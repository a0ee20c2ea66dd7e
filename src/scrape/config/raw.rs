//! The configuration file as written: serde types that mirror Prometheus's YAML.
//!
//! Nothing here is validated beyond YAML types; [`super::Config`] is the resolved
//! form. Every struct denies unknown keys (Prometheus's YAML is strict), and the
//! deserializer rejects duplicate keys. Sections tidemark does not implement yet are
//! accepted as raw values so that real `prometheus.yml` files load; the resolver
//! reports which of them were set.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A section kept as written, for a later issue to interpret.
pub type RawValue = serde_json::Value;

/// A string that remembers where it was in the file, for validation errors.
pub type Located = Spanned<String>;

/// Declares a raw struct whose listed `accepted` keys are Prometheus options that
/// tidemark does not implement yet: they parse as raw values, and
/// `accepted_unsupported` names those that are set so the caller can warn.
macro_rules! raw_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
        accepted { $( $accepted:ident, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default)] pub $field: $ty, )*
            $( #[serde(default)] pub $accepted: Option<RawValue>, )*
        }

        impl $name {
            /// Keys that are set but not implemented yet.
            pub fn accepted_unsupported(&self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $( if self.$accepted.is_some() { keys.push(stringify!($accepted)); } )*
                keys
            }
        }
    };
}

raw_struct! {
    /// The whole file.
    pub struct RawConfig {
        pub global: Option<RawGlobal>,
        pub scrape_configs: Option<Vec<Spanned<RawScrapeConfig>>>,
        pub rule_files: Option<Vec<String>>,
        pub alerting: Option<RawValue>,
        pub remote_write: Option<Vec<RawValue>>,
        pub remote_read: Option<Vec<RawValue>>,
    }
    accepted {
        scrape_config_files,
        runtime,
        storage,
        tracing,
        otlp,
    }
}

raw_struct! {
    /// `global:`.
    pub struct RawGlobal {
        pub scrape_interval: Option<Located>,
        pub scrape_timeout: Option<Located>,
        pub evaluation_interval: Option<Located>,
        pub external_labels: Option<BTreeMap<String, Located>>,
        pub body_size_limit: Option<Located>,
        pub sample_limit: Option<u64>,
        pub label_limit: Option<u64>,
        pub label_name_length_limit: Option<u64>,
        pub label_value_length_limit: Option<u64>,
    }
    accepted {
        query_log_file,
        scrape_failure_log_file,
        scrape_protocols,
        rule_query_offset,
        target_limit,
        keep_dropped_targets,
        metric_name_validation_scheme,
        metric_name_escaping_scheme,
        always_scrape_classic_histograms,
        convert_classic_histograms_to_nhcb,
    }
}

raw_struct! {
    /// One entry of `scrape_configs:`. `job_name` is required; the resolver says so
    /// with the entry's line.
    pub struct RawScrapeConfig {
        pub job_name: Option<Located>,
        pub scrape_interval: Option<Located>,
        pub scrape_timeout: Option<Located>,
        pub metrics_path: Option<String>,
        pub scheme: Option<Located>,
        pub honor_labels: Option<bool>,
        pub honor_timestamps: Option<bool>,
        pub params: Option<BTreeMap<String, Vec<String>>>,
        pub static_configs: Option<Vec<RawStaticConfig>>,
        pub relabel_configs: Option<Vec<Spanned<RawRelabelConfig>>>,
        pub metric_relabel_configs: Option<Vec<Spanned<RawRelabelConfig>>>,
        // HTTP client settings.
        pub basic_auth: Option<Spanned<RawBasicAuth>>,
        pub authorization: Option<Spanned<RawAuthorization>>,
        pub bearer_token: Option<Located>,
        pub bearer_token_file: Option<Located>,
        pub tls_config: Option<Spanned<RawTlsConfig>>,
        pub follow_redirects: Option<bool>,
        pub enable_http2: Option<bool>,
        // Scrape behaviour and limits.
        pub enable_compression: Option<bool>,
        pub body_size_limit: Option<Located>,
        pub sample_limit: Option<u64>,
        pub label_limit: Option<u64>,
        pub label_name_length_limit: Option<u64>,
        pub label_value_length_limit: Option<u64>,
        // Service discovery.
        pub file_sd_configs: Option<Vec<Spanned<RawFileSdConfig>>>,
    }
    accepted {
        // HTTP client settings.
        oauth2,
        proxy_url,
        no_proxy,
        proxy_from_environment,
        proxy_connect_header,
        http_headers,
        // Scrape behaviour and limits.
        scrape_protocols,
        fallback_scrape_protocol,
        track_timestamps_staleness,
        scrape_failure_log_file,
        target_limit,
        keep_dropped_targets,
        native_histogram_bucket_limit,
        native_histogram_min_bucket_factor,
        always_scrape_classic_histograms,
        convert_classic_histograms_to_nhcb,
        metric_name_validation_scheme,
        metric_name_escaping_scheme,
        // Service discovery.
        http_sd_configs,
        dns_sd_configs,
        kubernetes_sd_configs,
        consul_sd_configs,
        ec2_sd_configs,
        gce_sd_configs,
        azure_sd_configs,
        docker_sd_configs,
        dockerswarm_sd_configs,
        nomad_sd_configs,
        openstack_sd_configs,
    }
}

/// One entry of `static_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaticConfig {
    #[serde(default)]
    pub targets: Option<Vec<Located>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, Located>>,
}

/// `basic_auth:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBasicAuth {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthorization {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub credentials: Option<String>,
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `tls_config:`. `ca`, `cert` and `key` are inline PEM, the `_file` keys paths.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTlsConfig {
    #[serde(default)]
    pub ca: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
    #[serde(default)]
    pub server_name: Option<String>,
    #[serde(default)]
    pub insecure_skip_verify: Option<bool>,
    /// Accepted and reported; rustls negotiates TLS 1.2 or 1.3.
    #[serde(default)]
    pub min_version: Option<RawValue>,
    #[serde(default)]
    pub max_version: Option<RawValue>,
}

/// One entry of `file_sd_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileSdConfig {
    #[serde(default)]
    pub files: Option<Vec<Located>>,
    #[serde(default)]
    pub refresh_interval: Option<Located>,
}

/// An option that may be absent (`None`), null (`Some` of `None`) or set. Prometheus
/// reads a null option as its zero value, which is not always the default: a null
/// `regex` matches only `""`.
pub type Nullable<T> = Option<Spanned<Option<T>>>;

/// Serde calls this only for a key that is present, so a null becomes `Some(None)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// One entry of `relabel_configs:` or `metric_relabel_configs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelabelConfig {
    #[serde(default, deserialize_with = "present")]
    pub source_labels: Nullable<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub separator: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub regex: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub modulus: Nullable<u64>,
    #[serde(default, deserialize_with = "present")]
    pub target_label: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub replacement: Nullable<String>,
    #[serde(default, deserialize_with = "present")]
    pub action: Nullable<String>,
}
