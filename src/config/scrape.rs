//! `scrape_configs:`: one job each, with the global defaults applied, its
//! HTTP client settings (see `http`), its discovery configs (see `discovery`)
//! and its relabel rules (see `relabel`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use super::discovery::{FileSdConfig, RawFileSdConfig, RawStaticConfig, StaticConfig};
use super::error::ConfigError;
use super::global::GlobalConfig;
use super::http::{HttpClientConfig, RawAuthorization, RawBasicAuth, RawHttpClient, RawTlsConfig};
use super::raw::{Located, raw_struct};
use super::relabel::RawRelabelConfig;
use super::resolver::{Resolver, limit};
use crate::model::format_duration;
use crate::relabel::RelabelConfig;

/// Default `metrics_path` of a scrape config.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

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

impl RawScrapeConfig {
    /// The HTTP client keys, which Prometheus inlines into a scrape config.
    fn http_client_keys(&self) -> RawHttpClient<'_> {
        RawHttpClient {
            basic_auth: self.basic_auth.as_ref(),
            authorization: self.authorization.as_ref(),
            bearer_token: self.bearer_token.as_ref(),
            bearer_token_file: self.bearer_token_file.as_ref(),
            tls_config: self.tls_config.as_ref(),
            follow_redirects: self.follow_redirects,
            enable_http2: self.enable_http2,
            oauth2: self.oauth2.is_some(),
        }
    }
}

/// One entry of `scrape_configs:`, with the global defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    /// The `job` label of every target; unique in the file.
    pub job_name: String,
    /// How often this job's targets are scraped.
    pub scrape_interval: Duration,
    /// How long a scrape may take; never more than `scrape_interval`.
    pub scrape_timeout: Duration,
    /// The HTTP path scraped on each target (default `/metrics`).
    pub metrics_path: String,
    /// `http` (default) or `https`.
    pub scheme: Scheme,
    /// Keep the target's labels when they clash with ours (default false).
    pub honor_labels: bool,
    /// Keep the timestamps the target exposes (default true).
    pub honor_timestamps: bool,
    /// URL query parameters sent with each scrape.
    pub params: BTreeMap<String, Vec<String>>,
    /// `static_configs:`.
    pub static_configs: Vec<StaticConfig>,
    /// `relabel_configs:`: rules applied to each target's labels before it is
    /// scraped.
    pub relabel_configs: Vec<RelabelConfig>,
    /// `metric_relabel_configs:`: rules applied to each scraped sample's labels.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Authentication, TLS, redirects and HTTP/2 of the scrape requests.
    pub http_client: HttpClientConfig,
    /// Ask for gzip (default true); when false the scrape asks for `identity`.
    pub enable_compression: bool,
    /// A scrape whose (decompressed) body is larger fails; 0: no limit.
    pub body_size_limit: u64,
    /// A scrape with more samples (after metric relabeling) fails; 0: no limit.
    pub sample_limit: usize,
    /// A scrape with a series of more labels fails; 0: no limit.
    pub label_limit: usize,
    /// A scrape with a longer label name fails; 0: no limit.
    pub label_name_length_limit: usize,
    /// A scrape with a longer label value fails; 0: no limit.
    pub label_value_length_limit: usize,
    /// `file_sd_configs:`, file paths resolved against the config file's
    /// directory.
    pub file_sd_configs: Vec<FileSdConfig>,
}

/// The URL scheme used to scrape a job's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Resolver<'_> {
    /// All jobs, in file order; job names must be unique.
    pub(super) fn scrape_configs(
        &self,
        raw: Option<Vec<Spanned<RawScrapeConfig>>>,
        global: &GlobalConfig,
        unsupported: &mut Vec<String>,
    ) -> Result<Vec<ScrapeConfig>, ConfigError> {
        let mut scrape_configs = Vec::new();
        let mut first_line: HashMap<String, u64> = HashMap::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let key = format!("scrape_configs[{i}]");
            let job =
                self.scrape_config(&key, &entry.referenced, entry.value, global, unsupported)?;
            let line = entry.referenced.line();
            if let Some(first) = first_line.insert(job.job_name.clone(), line) {
                return Err(self.error(
                    Some(&entry.referenced),
                    &format!("{key}.job_name"),
                    format_args!(
                        "found multiple scrape configs with job name {:?} (first at line {first})",
                        job.job_name
                    ),
                ));
            }
            scrape_configs.push(job);
        }
        Ok(scrape_configs)
    }

    fn scrape_config(
        &self,
        key: &str,
        at: &Location,
        mut raw: RawScrapeConfig,
        global: &GlobalConfig,
        unsupported: &mut Vec<String>,
    ) -> Result<ScrapeConfig, ConfigError> {
        unsupported.extend(
            raw.accepted_unsupported()
                .into_iter()
                .map(|k| format!("{key}.{k}")),
        );
        let job_name = match &raw.job_name {
            Some(name) if !name.value.is_empty() => name.value.clone(),
            Some(name) => {
                return Err(self.error(
                    Some(&name.referenced),
                    &format!("{key}.job_name"),
                    "job_name is empty",
                ));
            }
            None => return Err(self.error(Some(at), key, "job_name is empty")),
        };

        let interval_key = format!("{key}.scrape_interval");
        let scrape_interval = self
            .duration(&interval_key, &raw.scrape_interval)?
            .filter(|d| !d.is_zero())
            .unwrap_or(global.scrape_interval);
        let timeout_key = format!("{key}.scrape_timeout");
        let scrape_timeout = match self
            .duration(&timeout_key, &raw.scrape_timeout)?
            .filter(|d| !d.is_zero())
        {
            Some(timeout) if timeout > scrape_interval => {
                return Err(self.error(
                    raw.scrape_timeout.as_ref().map(|v| &v.referenced),
                    &timeout_key,
                    format_args!(
                        "scrape timeout {} greater than scrape interval {} for scrape config with job name {job_name:?}",
                        format_duration(timeout),
                        format_duration(scrape_interval)
                    ),
                ));
            }
            Some(timeout) => timeout,
            None => global.scrape_timeout.min(scrape_interval),
        };

        let scheme = match raw.scheme.as_ref().map(|s| s.value.as_str()) {
            None | Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => {
                return Err(self.error(
                    raw.scheme.as_ref().map(|s| &s.referenced),
                    &format!("{key}.scheme"),
                    format_args!("unsupported scheme {other:?} (want \"http\" or \"https\")"),
                ));
            }
        };

        let http_client = self.http_client(key, at, &raw.http_client_keys(), unsupported)?;
        let file_sd_configs = raw
            .file_sd_configs
            .take()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, sd)| self.file_sd_config(&format!("{key}.file_sd_configs[{j}]"), sd))
            .collect::<Result<_, _>>()?;
        let static_configs = raw
            .static_configs
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(j, group)| self.static_config(&format!("{key}.static_configs[{j}]"), group))
            .collect::<Result<_, _>>()?;

        Ok(ScrapeConfig {
            job_name,
            scrape_interval,
            scrape_timeout,
            metrics_path: raw
                .metrics_path
                .unwrap_or_else(|| DEFAULT_METRICS_PATH.to_string()),
            scheme,
            honor_labels: raw.honor_labels.unwrap_or(false),
            honor_timestamps: raw.honor_timestamps.unwrap_or(true),
            params: raw.params.unwrap_or_default(),
            static_configs,
            relabel_configs: self
                .relabel_configs(&format!("{key}.relabel_configs"), raw.relabel_configs)?,
            metric_relabel_configs: self.relabel_configs(
                &format!("{key}.metric_relabel_configs"),
                raw.metric_relabel_configs,
            )?,
            http_client,
            enable_compression: raw.enable_compression.unwrap_or(true),
            body_size_limit: self
                .bytes(&format!("{key}.body_size_limit"), &raw.body_size_limit)?
                .unwrap_or(global.body_size_limit),
            sample_limit: limit(raw.sample_limit).unwrap_or(global.sample_limit),
            label_limit: limit(raw.label_limit).unwrap_or(global.label_limit),
            label_name_length_limit: limit(raw.label_name_length_limit)
                .unwrap_or(global.label_name_length_limit),
            label_value_length_limit: limit(raw.label_value_length_limit)
                .unwrap_or(global.label_value_length_limit),
            file_sd_configs,
        })
    }
}
