//! [`Providers`]: the providers of one job, built from its discovery configs and
//! run together; [`MergedGroups`]: what each of them found last.

use std::ops::ControlFlow;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::warn;

use super::discoverer::Discoverer;
use super::file::{FileSd, ReadErrors};
use super::static_configs::static_groups;
use super::target_group::TargetGroup;
use crate::config::{FileSdConfig, StaticConfig};

/// Counters of the discovery of every job. A cheap handle: clones count into
/// the same totals, so the providers of all jobs share one set, which the
/// server's `/metrics` reads.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryCounters {
    /// Failed reads of `file_sd_configs` files.
    pub file_read_errors: ReadErrors,
}

/// The kinds of provider, to match a reloaded job's providers with the old
/// job's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Static,
    File,
}

/// The providers of one job: `static_configs`' groups, known at once, and the
/// providers that must run to find theirs.
pub struct Providers {
    static_groups: Vec<TargetGroup>,
    /// In configuration order; provider `i + 1` of [`MergedGroups`] (0 is the
    /// static groups).
    running: Vec<(Kind, Box<dyn Discoverer>)>,
}

impl Providers {
    /// The providers of a job's `static_configs` and `file_sd_configs`. File
    /// discovery counts its failed reads into `counters`. A provider that cannot
    /// start is left out with a warning naming `job` (the configuration loader
    /// rejects most of what would make one fail).
    pub fn new(
        job: &str,
        static_configs: &[StaticConfig],
        file_sd_configs: &[FileSdConfig],
        counters: &DiscoveryCounters,
    ) -> Providers {
        let mut running: Vec<(Kind, Box<dyn Discoverer>)> = Vec::new();
        if !file_sd_configs.is_empty() {
            match FileSd::new(file_sd_configs) {
                Ok(sd) => running.push((
                    Kind::File,
                    Box::new(sd.with_read_errors(counters.file_read_errors.clone())),
                )),
                Err(err) => warn!(job = %job, %err, "File discovery cannot start"),
            }
        }
        Providers {
            static_groups: static_groups(static_configs),
            running,
        }
    }

    /// What the job has before any provider has run: its static groups, and
    /// nothing yet from the others.
    pub fn initial(&self) -> MergedGroups {
        let mut providers = vec![(Kind::Static, self.static_groups.clone())];
        providers.extend(self.running.iter().map(|(kind, _)| (*kind, Vec::new())));
        MergedGroups { providers }
    }

    /// Runs the providers that need running, in one task, and calls
    /// `on_change(provider, groups)` with a provider's groups each time it sends
    /// them (`provider` as [`MergedGroups::update`] takes it). Discovery stops
    /// when `on_change` returns `Break` or the task is aborted, which stops
    /// every provider. `None` when there is nothing to run.
    pub fn spawn<F>(self, on_change: F) -> Option<JoinHandle<()>>
    where
        F: Fn(usize, Vec<TargetGroup>) -> ControlFlow<()> + Send + Sync + 'static,
    {
        if self.running.is_empty() {
            return None;
        }
        let on_change = Arc::new(on_change);
        Some(tokio::spawn(async move {
            // Dropped with the task: aborts every provider and forwarder in it.
            let mut tasks = JoinSet::new();
            for (i, (_, provider)) in self.running.into_iter().enumerate() {
                let (tx, mut groups) = watch::channel(Vec::new());
                tasks.spawn(async move {
                    provider.run(tx).await;
                    ControlFlow::Continue(())
                });
                let on_change = Arc::clone(&on_change);
                tasks.spawn(async move {
                    while groups.changed().await.is_ok() {
                        let found = groups.borrow_and_update().clone();
                        on_change(i + 1, found)?;
                    }
                    ControlFlow::Continue(())
                });
            }
            while let Some(done) = tasks.join_next().await {
                if let Ok(ControlFlow::Break(())) = done {
                    return;
                }
            }
        }))
    }
}

/// The groups each provider of a job sent last, in the order the configuration
/// lists the providers (`static_configs` first).
#[derive(Debug, Clone, Default)]
pub struct MergedGroups {
    providers: Vec<(Kind, Vec<TargetGroup>)>,
}

impl MergedGroups {
    /// Takes `groups` as the latest of provider `provider`.
    pub fn update(&mut self, provider: usize, groups: Vec<TargetGroup>) {
        if let Some((_, latest)) = self.providers.get_mut(provider) {
            *latest = groups;
        }
    }

    /// Every group, provider by provider.
    pub fn iter(&self) -> impl Iterator<Item = &TargetGroup> {
        self.providers.iter().flat_map(|(_, groups)| groups)
    }

    /// Keeps what `old` (the same job before a reload) found, for each kind of
    /// running provider that both have, until the new provider sends: the
    /// targets it gave keep their scrape loops across the reload. (A file
    /// provider finds the same files unless the patterns changed, and reads
    /// them again at once in any case.)
    pub fn carry_over(&mut self, old: MergedGroups) {
        for (kind, groups) in old.providers {
            if kind == Kind::Static {
                continue;
            }
            if let Some((_, latest)) = self.providers.iter_mut().find(|(k, _)| *k == kind) {
                *latest = groups;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Config;

    fn addresses(merged: &MergedGroups) -> Vec<String> {
        merged
            .iter()
            .flat_map(|g| g.target_labels())
            .map(|t| t["__address__"].clone())
            .collect()
    }

    fn group(address: &str) -> TargetGroup {
        TargetGroup::from_addresses("f:0".into(), [address.to_owned()], Default::default())
    }

    #[test]
    fn static_groups_come_first_and_are_there_at_once() {
        let job = Config::parse(
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['s:1']\n    file_sd_configs:\n      - files: [x.json]\n",
        )
        .unwrap()
        .scrape_configs
        .remove(0);
        let providers = Providers::new(
            "a",
            &job.static_configs,
            &job.file_sd_configs,
            &DiscoveryCounters::default(),
        );
        let mut merged = providers.initial();
        assert_eq!(addresses(&merged), ["s:1"]);
        merged.update(1, vec![group("f:1")]);
        assert_eq!(addresses(&merged), ["s:1", "f:1"]);
        // A provider the job does not have is ignored.
        merged.update(2, vec![group("g:1")]);
        assert_eq!(addresses(&merged), ["s:1", "f:1"]);
    }

    #[test]
    fn a_reload_keeps_the_groups_of_providers_it_still_has() {
        let counters = DiscoveryCounters::default();
        let files = [FileSdConfig {
            files: vec!["x.json".into()],
            refresh_interval: Duration::from_secs(60),
        }];
        let old_static = [StaticConfig {
            targets: vec!["old:1".into()],
            ..Default::default()
        }];
        let mut old = Providers::new("a", &old_static, &files, &counters).initial();
        old.update(1, vec![group("f:1")]);

        let mut with_files = Providers::new("a", &[], &files, &counters).initial();
        with_files.carry_over(old.clone());
        assert_eq!(
            addresses(&with_files),
            ["f:1"],
            "static groups are not carried"
        );

        let mut without = Providers::new("a", &[], &[], &counters).initial();
        without.carry_over(old);
        assert!(addresses(&without).is_empty());
    }

    #[tokio::test]
    async fn spawn_reports_each_provider_by_its_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.json"), r#"[{"targets": ["f:1"]}]"#).unwrap();
        let files = [FileSdConfig {
            files: vec![dir.path().join("*.json")],
            refresh_interval: Duration::from_secs(3600),
        }];
        let providers = Providers::new("a", &[], &files, &DiscoveryCounters::default());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = providers
            .spawn(move |provider, groups| {
                let _ = tx.send((provider, groups));
                ControlFlow::Break(())
            })
            .unwrap();
        let (provider, groups) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(provider, 1);
        assert_eq!(groups[0].targets[0]["__address__"], "f:1");
        // `Break` ends discovery.
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .unwrap()
            .unwrap();
        assert!(
            Providers::new("a", &[], &[], &DiscoveryCounters::default())
                .spawn(|_, _| ControlFlow::Continue(()))
                .is_none()
        );
    }
}
