//! Target discovery: where the targets of a job come from.
//!
//! A provider finds [`TargetGroup`]s (targets sharing labels; each target is a
//! label set with at least `__address__`) and sends them whenever they change,
//! as the providers of Prometheus's discovery do. Each one is a [`Discoverer`]:
//! its `run` sends the provider's groups on a `tokio::sync::watch` channel, at
//! once when it has first looked (even when it found nothing) and again on
//! every change, until the receivers are gone.
//!
//! Unlike Prometheus's providers, which may send only the groups that changed,
//! ours send all of their groups each time. The consumer syncs a whole job on
//! any change anyway; a watch channel then keeps only the newest value, so a
//! slow consumer never works through outdated updates; and merging a job's
//! providers is a concatenation in the configuration's order, the order the
//! targets API lists.
//!
//! The providers:
//!
//! - `static_configs`: the targets written in the configuration. They need no
//!   running: [`Providers`] has their groups at once, so a job's static targets
//!   start as soon as its configuration is applied;
//! - [`FileSd`] for `file_sd_configs`: files of target groups, followed as they
//!   change (`__meta_filepath` names the file).
//!
//! Kubernetes, HTTP and DNS discovery are to be more [`Discoverer`]s.
//!
//! [`Providers`] are the providers of one job, built from its discovery
//! configs. [`Providers::spawn`] runs them and reports each change as
//! (provider, groups); the consumer (the scrape manager, and later the
//! notifier for its Alertmanagers) keeps the latest of each in a
//! [`MergedGroups`], whose [`iter`](MergedGroups::iter) is what the job should
//! have, and turns each group's [`target_labels`](TargetGroup::target_labels)
//! into targets.
//!
//! Discovery sits above the configuration, whose resolved discovery configs it
//! follows, and below scraping.

mod discoverer;
mod file;
mod providers;
mod static_configs;
mod target_group;

pub use discoverer::{Discoverer, Run};
pub use file::{
    DEFAULT_FILE_SD_POLL_INTERVAL, FILEPATH_LABEL, FileSd, FileSdError, ReadErrors,
    parse_target_groups, read_target_groups, validate_pattern,
};
pub use providers::{DiscoveryCounters, MergedGroups, Providers};
pub use target_group::{ADDRESS_LABEL, TargetGroup};
