//! [`TargetGroup`]: targets that share labels, as every provider finds them.

use std::collections::BTreeMap;

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
