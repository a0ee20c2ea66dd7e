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
    }
    accepted {
        query_log_file,
        scrape_failure_log_file,
        scrape_protocols,
        rule_query_offset,
        body_size_limit,
        sample_limit,
        label_limit,
        label_name_length_limit,
        label_value_length_limit,
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
    }
    accepted {
        // HTTP client settings.
        basic_auth,
        authorization,
        oauth2,
        bearer_token,
        bearer_token_file,
        tls_config,
        proxy_url,
        no_proxy,
        proxy_from_environment,
        proxy_connect_header,
        follow_redirects,
        enable_http2,
        http_headers,
        // Scrape behaviour and limits.
        scrape_protocols,
        fallback_scrape_protocol,
        enable_compression,
        track_timestamps_staleness,
        scrape_failure_log_file,
        body_size_limit,
        sample_limit,
        label_limit,
        label_name_length_limit,
        label_value_length_limit,
        target_limit,
        keep_dropped_targets,
        native_histogram_bucket_limit,
        native_histogram_min_bucket_factor,
        always_scrape_classic_histograms,
        convert_classic_histograms_to_nhcb,
        metric_name_validation_scheme,
        metric_name_escaping_scheme,
        // Service discovery.
        file_sd_configs,
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
