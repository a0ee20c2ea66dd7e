//! Relabeling: rewriting a label set by a list of rules, as Prometheus's
//! `relabel_configs` (targets) and `metric_relabel_configs` (scraped samples) do.
//!
//! A [`RelabelConfig`] is one validated rule, built from the options as written
//! ([`RelabelOptions`]) by [`RelabelConfig::new`], which applies Prometheus's defaults
//! and checks. [`relabel`] runs a list of rules over a [`Labels`]: each rule either
//! keeps the set (possibly changed) or drops it, and the first drop ends the run.
//!
//! The semantics follow Prometheus's `model/relabel` package, with UTF-8 label names
//! (Prometheus 3's default): the rule's *value* is its source labels' values joined by
//! the separator (an absent label is `""`); regexes are fully anchored (`^(?s:…)$`);
//! replacements expand `$1`, `${1}`, `$name`, `${name}` and `$$` as Go's
//! `Regexp.ExpandString` does; setting a label to `""` deletes it.
//!
//! The pieces: `rule` holds what a rule is ([`Action`], [`RelabelOptions`],
//! [`RelabelConfig`] and its checks), `pattern` the anchored [`RelabelRegex`],
//! `apply` what each action does to the label set a `builder` keeps, and
//! `expand` Go's template expansion of `target_label` and `replacement`.
//!
//! Relabeling sits below the configuration and needs nothing of it: `config`
//! compiles a file's rules with [`RelabelConfig::new`], so that a bad rule fails
//! the load with its line, and the scraper runs them with [`relabel`] over
//! targets and samples (as alerting and remote write will over alerts and sent
//! series).

mod apply;
mod builder;
mod expand;
mod pattern;
mod rule;

pub use pattern::RelabelRegex;
pub use rule::{
    Action, DEFAULT_REGEX, DEFAULT_REPLACEMENT, DEFAULT_SEPARATOR, RelabelConfig,
    RelabelConfigError, RelabelOptions,
};

use crate::model::{Labels, LabelsError};
use builder::Builder;

/// Runs `configs` over `labels` in order.
///
/// `Ok(None)` when a rule dropped the set. An error when the result is not a valid
/// label set, which only a `labelmap` whose replacement expands to an empty name can
/// cause; Prometheus refuses such a target or sample, and so must the caller.
pub fn relabel(labels: &Labels, configs: &[RelabelConfig]) -> Result<Option<Labels>, LabelsError> {
    let mut b = Builder::new(labels);
    for config in configs {
        if !config.apply(&mut b) {
            return Ok(None);
        }
    }
    b.labels().map(Some)
}

#[cfg(test)]
mod tests;
