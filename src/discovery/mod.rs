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

mod file;
mod providers;
mod static_configs;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::watch;

pub use file::{
    DEFAULT_FILE_SD_POLL_INTERVAL, FILEPATH_LABEL, FileSd, FileSdError, ReadErrors,
    parse_target_groups, read_target_groups, validate_pattern,
};
pub use providers::{DiscoveryCounters, MergedGroups, Providers};

/// The label holding a target's address (`host:port`).
pub const ADDRESS_LABEL: &str = "__address__";

/// Targets that share labels, from one source of one provider: Prometheus's
/// `targetgroup.Group`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    /// Names the group within its provider: the position of a `static_configs`
    /// entry, or a file and the group's position in it (`path:2`).
    pub source: String,
    /// The targets, each a label set with at least [`ADDRESS_LABEL`].
    pub targets: Vec<BTreeMap<String, String>>,
    /// Labels of every target of the group; a target's own label of the same
    /// name wins.
    pub labels: BTreeMap<String, String>,
}

impl TargetGroup {
    /// A group of targets known only by their addresses, sharing `labels`.
    pub fn from_addresses(
        source: String,
        addresses: impl IntoIterator<Item = String>,
        labels: BTreeMap<String, String>,
    ) -> TargetGroup {
        TargetGroup {
            source,
            targets: addresses
                .into_iter()
                .map(|address| BTreeMap::from([(ADDRESS_LABEL.to_owned(), address)]))
                .collect(),
            labels,
        }
    }

    /// Each target's discovered labels: the group's, and the target's own over
    /// them.
    pub fn target_labels(&self) -> impl Iterator<Item = BTreeMap<String, String>> + '_ {
        self.targets.iter().map(|target| {
            let mut labels = self.labels.clone();
            labels.extend(target.iter().map(|(n, v)| (n.clone(), v.clone())));
            labels
        })
    }
}

/// What [`Discoverer::run`] returns: a future that runs the provider.
pub type Run = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A provider of target groups.
pub trait Discoverer: Send + 'static {
    /// Sends the provider's target groups on `tx`: all of them, once when it has
    /// first looked (even if it found none, and even if they equal the channel's
    /// value, so that a receiver awaiting `changed()` learns that it looked),
    /// then again each time they change. Returns when every receiver is gone;
    /// dropping the future stops it sooner.
    fn run(self: Box<Self>, tx: watch::Sender<Vec<TargetGroup>>) -> Run;
}
