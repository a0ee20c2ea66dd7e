//! The scrape manager: one pool of scrape loops per job, kept in step with the
//! configuration and with what discovery finds.
//!
//! [`ScrapeManager::apply`] takes a whole [`Config`] (at start and on each
//! reload). Everything that can fail (each job's HTTP client: CA files,
//! certificates) is built first, so a bad configuration changes nothing. Then,
//! as Prometheus does:
//!
//! - a job that is gone stops its loops, with no stale markers (Prometheus
//!   cancels the pool, which it treats like a shutdown);
//! - a job whose settings changed gets new loops, each taking over the scrape
//!   cache of the old loop of the same target after the old one's scrape in
//!   progress is stored, so no series goes stale and nothing in flight is lost;
//! - an unchanged job keeps running untouched.
//!
//! A pool's targets come from its job's discovery
//! [`Providers`](crate::discovery::Providers): the groups of `static_configs` at
//! once, then whatever each running provider sends. Whenever they change, the
//! pool is synced: new targets start a loop, and a target that is gone stops its
//! loop, which writes stale markers for its series a little over two intervals
//! later (see [`end_of_run`](super::scrape_loop::end_of_run)).
//!
//! [`ScrapeManager::stop`] ends every loop at once, writing nothing more, and
//! waits for them, so that the database can be closed afterwards.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::append::{AppendOptions, LabelLimits};
use super::client::{ClientError, HttpClient};
use super::scrape_loop::{self, BodyBuffers, LoopSpec, LoopState, ScrapeCounters, TargetStatus};
use super::target::{Target, populate, with_job_defaults};
use crate::config::{Config, ScrapeConfig};
use crate::discovery::{ADDRESS_LABEL, DiscoveryCounters, MergedGroups, Providers, TargetGroup};
use crate::model::Labels;
use crate::tsdb::Db;

/// Why a configuration could not be applied; the previous one keeps running.
#[derive(Debug, thiserror::Error)]
#[error("scrape config for job {job:?}: {source}")]
pub struct ApplyError {
    pub job: String,
    #[source]
    pub source: ClientError,
}

/// A target being scraped, as `/api/v1/targets` shows it.
#[derive(Debug, Clone)]
pub struct ActiveTarget {
    pub scrape_pool: String,
    /// Labels before relabeling (discovery's and the job's defaults).
    pub discovered_labels: BTreeMap<String, String>,
    /// The labels every series of the target gets.
    pub labels: Labels,
    pub scrape_url: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub status: TargetStatus,
}

/// A discovered target that relabeling dropped.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    pub scrape_pool: String,
    pub discovered_labels: BTreeMap<String, String>,
}

/// Figures of the manager for its own `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrapeStats {
    /// Active targets by job.
    pub targets: BTreeMap<String, usize>,
    /// Dropped targets by job.
    pub dropped_targets: BTreeMap<String, usize>,
    /// Scrapes done, failed ones included.
    pub scrapes: u64,
    /// Scrapes that failed (`up` 0).
    pub failed_scrapes: u64,
    /// Scrapes that failed on their sample limit.
    pub exceeded_sample_limit: u64,
    /// Samples exposed by the targets.
    pub samples: u64,
    /// Failed reads of `file_sd_configs` files.
    pub sd_file_read_errors: u64,
}

/// Runs the scrape pools. Share it as `Arc<ScrapeManager>`.
pub struct ScrapeManager {
    db: Arc<Db>,
    /// Turns true at shutdown; every loop and end-of-run task watches it.
    shutdown: watch::Sender<bool>,
    inner: Mutex<Inner>,
    /// The discovery counters of all jobs together.
    sd_counters: DiscoveryCounters,
    counters: Arc<ScrapeCounters>,
    buffers: Arc<BodyBuffers>,
    /// Itself, for the discovery tasks that sync a pool when targets change.
    this: Weak<ScrapeManager>,
}

#[derive(Default)]
struct Inner {
    pools: BTreeMap<String, Pool>,
    /// Stopped loops waiting to write their stale markers.
    retiring: Vec<JoinHandle<()>>,
    stopped: bool,
}

struct Pool {
    config: Arc<ScrapeConfig>,
    client: Arc<HttpClient>,
    opts: Arc<AppendOptions>,
    /// The groups each discovery provider of the job sent last.
    groups: MergedGroups,
    /// By target identity: its URL and series labels.
    loops: HashMap<String, TargetLoop>,
    dropped: Vec<BTreeMap<String, String>>,
    /// Runs the job's discovery providers and syncs the pool on each change.
    discovery: Option<JoinHandle<()>>,
}

/// A stopped loop of a reloaded job, for its target's new loop to carry on.
struct Handover {
    task: JoinHandle<LoopState>,
    status: Arc<Mutex<TargetStatus>>,
    interval: Duration,
    series_labels: Labels,
}

struct TargetLoop {
    target: Target,
    discovered: BTreeMap<String, String>,
    series_labels: Labels,
    url: String,
    status: Arc<Mutex<TargetStatus>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<LoopState>,
}

/// What a pool should be scraping.
struct Desired {
    active: Vec<(String, Target, BTreeMap<String, String>)>,
    dropped: Vec<BTreeMap<String, String>>,
}

impl ScrapeManager {
    /// A manager with no jobs, storing into `db`.
    pub fn new(db: Arc<Db>) -> Arc<ScrapeManager> {
        Arc::new_cyclic(|this| ScrapeManager {
            db,
            shutdown: watch::channel(false).0,
            inner: Mutex::new(Inner::default()),
            sd_counters: DiscoveryCounters::default(),
            counters: Arc::default(),
            buffers: Arc::default(),
            this: this.clone(),
        })
    }

    /// Makes `config`'s jobs the running ones (see the module docs). Must be
    /// called within a tokio runtime.
    pub fn apply(&self, config: &Config) -> Result<(), ApplyError> {
        let mut inner = self.inner.lock();
        if inner.stopped {
            return Ok(());
        }
        // Build first: a failure leaves everything as it was.
        let mut fresh: Vec<(Arc<ScrapeConfig>, Arc<HttpClient>)> = Vec::new();
        for cfg in &config.scrape_configs {
            let unchanged = inner
                .pools
                .get(&cfg.job_name)
                .is_some_and(|p| *p.config == *cfg);
            if unchanged {
                continue;
            }
            let client = HttpClient::new(cfg).map_err(|source| ApplyError {
                job: cfg.job_name.clone(),
                source,
            })?;
            fresh.push((Arc::new(cfg.clone()), Arc::new(client)));
        }

        let wanted: Vec<&str> = config
            .scrape_configs
            .iter()
            .map(|c| c.job_name.as_str())
            .collect();
        let gone: Vec<String> = inner
            .pools
            .keys()
            .filter(|name| !wanted.contains(&name.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(pool) = inner.pools.remove(&name) {
                info!(job = %name, "Stopping scrape pool");
                pool.stop_quietly(&mut inner.retiring);
            }
        }

        for (config, client) in fresh {
            let job = config.job_name.clone();
            let old = inner.pools.remove(&job);
            let providers = Providers::new(
                &job,
                &config.static_configs,
                &config.file_sd_configs,
                &self.sd_counters,
            );
            let mut pool = Pool {
                opts: Arc::new(append_options(&config)),
                groups: providers.initial(),
                loops: HashMap::new(),
                dropped: Vec::new(),
                discovery: None,
                config,
                client,
            };
            let mut handover = HashMap::new();
            if let Some(old) = old {
                info!(job = %job, "Reloading scrape pool");
                if let Some(d) = &old.discovery {
                    d.abort();
                }
                // What the providers found stays until they send again.
                pool.groups.carry_over(old.groups);
                for (key, l) in old.loops {
                    let _ = l.stop.send(true);
                    handover.insert(
                        key,
                        Handover {
                            task: l.task,
                            status: l.status,
                            interval: l.target.interval,
                            series_labels: l.series_labels,
                        },
                    );
                }
            } else {
                info!(job = %job, "Starting scrape pool");
            }
            let desired = pool.desired();
            self.sync(&mut inner.retiring, &mut pool, desired, handover);
            pool.discovery = self.spawn_discovery(&job, providers);
            inner.pools.insert(job, pool);
        }
        inner.retiring.retain(|t| !t.is_finished());
        Ok(())
    }

    /// Runs the job's providers, if any need running, syncing the pool on each
    /// change.
    fn spawn_discovery(&self, job: &str, providers: Providers) -> Option<JoinHandle<()>> {
        let job = job.to_owned();
        let this = self.this.clone();
        providers.spawn(move |provider, found| {
            let Some(manager) = this.upgrade() else {
                return ControlFlow::Break(());
            };
            manager.groups_changed(&job, provider, found);
            ControlFlow::Continue(())
        })
    }

    /// New groups from one of a job's discovery providers.
    fn groups_changed(&self, job: &str, provider: usize, groups: Vec<TargetGroup>) {
        let mut inner = self.inner.lock();
        if inner.stopped {
            return;
        }
        let Inner {
            pools, retiring, ..
        } = &mut *inner;
        let Some(pool) = pools.get_mut(job) else {
            return;
        };
        pool.groups.update(provider, groups);
        let desired = pool.desired();
        self.sync(retiring, pool, desired, HashMap::new());
    }

    /// Brings `pool`'s loops to `desired`: a loop per target, the old loop's
    /// state handed over where `handover` has the target, the loops of targets
    /// gone stopped (writing stale markers later).
    fn sync(
        &self,
        retiring: &mut Vec<JoinHandle<()>>,
        pool: &mut Pool,
        desired: Desired,
        mut handover: HashMap<String, Handover>,
    ) {
        pool.dropped = desired.dropped;
        let mut keep: HashMap<String, TargetLoop> = HashMap::new();
        for (key, target, discovered) in desired.active {
            if keep.contains_key(&key) {
                continue;
            }
            if let Some(running) = pool.loops.remove(&key) {
                keep.insert(key, running);
                continue;
            }
            let previous = handover.remove(&key);
            keep.insert(key, self.start(pool, target, discovered, previous));
        }
        // Loops of targets no longer wanted.
        for (_, l) in pool.loops.drain() {
            let _ = l.stop.send(true);
            retiring.push(self.retire(l.task, l.target.interval, l.series_labels));
        }
        // Targets the job's reload dropped: they go stale later.
        for (_, h) in handover {
            retiring.push(self.retire(h.task, h.interval, h.series_labels));
        }
        pool.loops = keep;
    }

    fn start(
        &self,
        pool: &Pool,
        target: Target,
        discovered: BTreeMap<String, String>,
        previous: Option<Handover>,
    ) -> TargetLoop {
        let series_labels = target.series_labels();
        let url = target.url(&pool.config.params);
        let (stop, stop_rx) = watch::channel(false);
        let spec = LoopSpec {
            target: target.clone(),
            series_labels: series_labels.clone(),
            url: url.clone(),
            opts: Arc::clone(&pool.opts),
            client: Arc::clone(&pool.client),
            counters: Arc::clone(&self.counters),
            buffers: Arc::clone(&self.buffers),
        };
        let db = Arc::clone(&self.db);
        let shutdown = self.shutdown.subscribe();
        let (status, previous_task) = match previous {
            Some(h) => (h.status, Some(h.task)),
            None => (Arc::default(), None),
        };
        let loop_status = Arc::clone(&status);
        let task = tokio::spawn(async move {
            let state = match previous_task {
                Some(task) => match task.await {
                    Ok(state) => state,
                    Err(_) => LoopState::new(&db),
                },
                None => LoopState::new(&db),
            };
            if *shutdown.borrow() {
                return state;
            }
            scrape_loop::run(spec, db, state, loop_status, stop_rx, shutdown).await
        });
        TargetLoop {
            target,
            discovered,
            series_labels,
            url,
            status,
            stop,
            task,
        }
    }

    /// Waits for a stopped loop, then writes its end-of-run stale markers.
    fn retire(
        &self,
        task: JoinHandle<LoopState>,
        interval: Duration,
        series_labels: Labels,
    ) -> JoinHandle<()> {
        let shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            if let Ok(state) = task.await {
                scrape_loop::end_of_run(state, interval, series_labels, shutdown).await;
            }
        })
    }

    /// The targets being scraped and those dropped, by job, then by URL.
    pub fn targets(&self) -> (Vec<ActiveTarget>, Vec<DroppedTarget>) {
        let inner = self.inner.lock();
        let mut active = Vec::new();
        let mut dropped = Vec::new();
        for (job, pool) in &inner.pools {
            let mut pool_active: Vec<ActiveTarget> = pool
                .loops
                .values()
                .map(|l| ActiveTarget {
                    scrape_pool: job.clone(),
                    discovered_labels: l.discovered.clone(),
                    labels: l.series_labels.clone(),
                    scrape_url: l.url.clone(),
                    interval: l.target.interval,
                    timeout: l.target.timeout,
                    status: l.status.lock().clone(),
                })
                .collect();
            pool_active.sort_by(|a, b| {
                (&a.scrape_url, a.labels.to_string()).cmp(&(&b.scrape_url, b.labels.to_string()))
            });
            active.extend(pool_active);
            dropped.extend(pool.dropped.iter().map(|d| DroppedTarget {
                scrape_pool: job.clone(),
                discovered_labels: d.clone(),
            }));
        }
        (active, dropped)
    }

    /// Counts for `/metrics`.
    pub fn stats(&self) -> ScrapeStats {
        let c = &self.counters;
        let inner = self.inner.lock();
        ScrapeStats {
            targets: inner
                .pools
                .iter()
                .map(|(job, p)| (job.clone(), p.loops.len()))
                .collect(),
            dropped_targets: inner
                .pools
                .iter()
                .map(|(job, p)| (job.clone(), p.dropped.len()))
                .collect(),
            scrapes: c.scrapes.load(Ordering::Relaxed),
            failed_scrapes: c.failed.load(Ordering::Relaxed),
            exceeded_sample_limit: c.exceeded_sample_limit.load(Ordering::Relaxed),
            samples: c.samples.load(Ordering::Relaxed),
            sd_file_read_errors: self.sd_counters.file_read_errors.get(),
        }
    }

    /// Ends every loop at once (scrapes in flight are dropped, nothing more is
    /// written) and waits for them.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let mut tasks = Vec::new();
        let mut loops = Vec::new();
        {
            let mut inner = self.inner.lock();
            inner.stopped = true;
            for (_, pool) in std::mem::take(&mut inner.pools) {
                if let Some(d) = pool.discovery {
                    d.abort();
                    tasks.push(d);
                }
                loops.extend(pool.loops.into_values().map(|l| l.task));
            }
            tasks.append(&mut inner.retiring);
        }
        for task in loops {
            let _ = task.await;
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Pool {
    /// The targets of all groups, resolved.
    fn desired(&self) -> Desired {
        let mut desired = Desired {
            active: Vec::new(),
            dropped: Vec::new(),
        };
        for group in self.groups.iter() {
            for discovered in group.target_labels() {
                match populate(&discovered, &self.config) {
                    Ok(Some(target)) => {
                        // The identity of the data: its URL and its series'
                        // labels. A target whose settings changed but whose data
                        // did not (a new interval) keeps its cache on reload,
                        // and its series get no stale markers in the middle.
                        let key = format!(
                            "{} {}",
                            target.url(&self.config.params),
                            target.series_labels()
                        );
                        desired.active.push((
                            key,
                            target,
                            with_job_defaults(&discovered, &self.config),
                        ));
                    }
                    Ok(None) => desired
                        .dropped
                        .push(with_job_defaults(&discovered, &self.config)),
                    Err(err) => warn!(
                        job = %self.config.job_name,
                        address = %discovered.get(ADDRESS_LABEL).map_or("", String::as_str),
                        %err,
                        "Creating target failed"
                    ),
                }
            }
        }
        desired
    }

    /// Stops every loop without stale markers (the job was removed). The
    /// aborted tasks join `retiring`, so that shutdown waits for them to let go
    /// of the database.
    fn stop_quietly(self, retiring: &mut Vec<JoinHandle<()>>) {
        if let Some(d) = &self.discovery {
            d.abort();
        }
        for l in self.loops.into_values() {
            // Aborting may drop a scrape in flight, as Prometheus's cancel does;
            // a commit is never cut in half (it has no await).
            l.task.abort();
            retiring.push(tokio::spawn(async move {
                let _ = l.task.await;
            }));
        }
    }
}

/// The storing side of a job's settings.
fn append_options(cfg: &ScrapeConfig) -> AppendOptions {
    AppendOptions {
        honor_labels: cfg.honor_labels,
        honor_timestamps: cfg.honor_timestamps,
        sample_limit: cfg.sample_limit,
        label_limits: LabelLimits {
            count: cfg.label_limit,
            name_length: cfg.label_name_length_limit,
            value_length: cfg.label_value_length_limit,
        },
        metric_relabel: cfg.metric_relabel_configs.clone(),
    }
}
