//! `static_configs`: target groups written in the configuration.

use super::target_group::TargetGroup;
use crate::config::StaticConfig;

/// The groups of `configs`, each named by its position (as Prometheus's static
/// provider names them).
pub(super) fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            TargetGroup::from_addresses(i.to_string(), c.targets.clone(), c.labels.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_entry_is_a_group_of_its_addresses_with_its_labels() {
        let configs = [
            StaticConfig {
                targets: vec!["a:1".into(), "b:2".into()],
                labels: BTreeMap::from([("env".into(), "prod".into())]),
            },
            StaticConfig::default(),
        ];
        let groups = static_groups(&configs);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            (groups[0].source.as_str(), groups[1].source.as_str()),
            ("0", "1")
        );
        let targets: Vec<_> = groups[0].target_labels().collect();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[1]["__address__"], "b:2");
        assert_eq!(targets[1]["env"], "prod");
        assert!(groups[1].targets.is_empty());
    }
}
