//! `rule_files:` and `alerting:`, as far as they are read today: the rule file
//! globs as written, and the `alerting` section as a raw value. Neither has an
//! effect yet (rules are not evaluated, alerts not sent), so each is reported in
//! [`Config::unsupported_keys`](super::Config::unsupported_keys) when set, and
//! `check config` says that the rule files were not checked.

use super::raw::RawValue;

/// `rule_files:` as written (globs, not expanded).
pub(super) fn rule_files(raw: Option<Vec<String>>, unsupported: &mut Vec<String>) -> Vec<String> {
    let rule_files = raw.unwrap_or_default();
    if !rule_files.is_empty() {
        unsupported.push("rule_files".to_string());
    }
    rule_files
}

/// `alerting:` as written.
pub(super) fn alerting(raw: Option<RawValue>, unsupported: &mut Vec<String>) -> Option<RawValue> {
    if raw.is_some() {
        unsupported.push("alerting".to_string());
    }
    raw
}
