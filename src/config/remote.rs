//! `remote_write:` and `remote_read:`, as far as they are read today: each
//! entry kept as a raw value. Neither has an effect yet, so each is reported in
//! [`Config::unsupported_keys`](super::Config::unsupported_keys) when it lists
//! an entry.

use super::raw::RawValue;

/// `remote_write:` or `remote_read:` (named by `key`) as written.
pub(super) fn endpoints(
    key: &str,
    raw: Option<Vec<RawValue>>,
    unsupported: &mut Vec<String>,
) -> Vec<RawValue> {
    let endpoints = raw.unwrap_or_default();
    if !endpoints.is_empty() {
        unsupported.push(key.to_string());
    }
    endpoints
}
