//! [`ApiSettings`]: how the API behaves, decided once when the server starts,
//! with the types of its fields that are the API's own: the [`Flags`] shown,
//! the retention as text, and where `/-/reload` sends its requests.

use std::collections::BTreeMap;

use tokio::sync::{mpsc, oneshot};

use crate::model::format_duration;
use crate::promql::EngineOptions;

/// How the API behaves, decided once when the server starts.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `/api/v1/status/flags`: flag name → value as text.
    pub flags: Flags,
    /// Storage retention as `/api/v1/status/runtimeinfo` shows it (see
    /// [`retention_text`]).
    pub retention: String,
    /// Whether the TSDB admin endpoints answer (`--web.enable-admin-api`);
    /// without it they answer 503 "admin APIs disabled", as Prometheus's do.
    pub admin_api: bool,
    /// Whether `/api/v1/write` accepts samples
    /// (`--web.enable-remote-write-receiver`); without it, 404 as in Prometheus.
    pub remote_write_receiver: bool,
    /// The engine's limits (timeout, max samples, lookback delta).
    pub engine: EngineOptions,
    /// How many queries may run at once; further ones wait.
    pub max_concurrent_queries: usize,
    /// Where `POST /-/reload` sends its requests (`--web.enable-lifecycle`);
    /// `None`: the endpoint answers 403.
    pub reloads: Option<ReloadSender>,
}

impl Default for ApiSettings {
    /// The flags' defaults: no admin API, no remote-write receiver, no lifecycle
    /// API, the engine's default limits and 20 concurrent queries.
    fn default() -> Self {
        ApiSettings {
            flags: Flags::new(),
            retention: String::new(),
            admin_api: false,
            remote_write_receiver: false,
            engine: EngineOptions::default(),
            max_concurrent_queries: 20,
            reloads: None,
        }
    }
}

/// A reload request: the server reloads and answers on the oneshot, with why
/// the new configuration was refused (the old one keeps running).
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// Where the handler sends reload requests.
pub type ReloadSender = mpsc::Sender<ReloadRequest>;

/// The `data` of `/api/v1/status/flags`: Prometheus flag name → value as text.
pub type Flags = BTreeMap<String, String>;

/// Storage retention as Prometheus shows it in runtimeinfo (`"15d"`, or with a
/// size limit `"15d or 512MiB"`).
pub fn retention_text(time_ms: i64, bytes: u64) -> String {
    let time = (time_ms > 0)
        .then(|| format_duration(std::time::Duration::from_millis(time_ms.unsigned_abs())));
    let size = (bytes > 0).then(|| format_bytes(bytes));
    match (time, size) {
        (Some(t), Some(s)) => format!("{t} or {s}"),
        (Some(t), None) => t,
        (None, Some(s)) => s,
        (None, None) => "unlimited".into(),
    }
}

/// Bytes in Prometheus's units (`512MiB`, powers of 1024).
fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut i = 0;
    let mut v = b;
    while i + 1 < UNITS.len() && v >= 1024 && v.is_multiple_of(1024) {
        v /= 1024;
        i += 1;
    }
    format!("{v}{}", UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_texts() {
        assert_eq!(retention_text(15 * 86_400_000, 0), "15d");
        assert_eq!(retention_text(0, 512 << 20), "512MiB");
        assert_eq!(retention_text(86_400_000, 1 << 30), "1d or 1GiB");
        assert_eq!(retention_text(0, 0), "unlimited");
    }
}
