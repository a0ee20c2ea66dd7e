//! Scraping: what a Prometheus server's scrape manager does.
//!
//! [`ScrapeManager`] is the entry point: [`ScrapeManager::apply`] takes a
//! [`Config`](crate::config::Config) (at start and on every reload) and runs one
//! scrape loop per target, storing into a [`Db`](crate::tsdb::Db);
//! [`ScrapeManager::targets`] says how each target is doing (as `/api/v1/targets`
//! shows it), and [`ScrapeManager::stop`] ends it all.
//!
//! Scraping is built on three layers below it: [`config`](crate::config) says
//! what to scrape (each job a validated
//! [`ScrapeConfig`](crate::config::ScrapeConfig)), [`discovery`](crate::discovery)
//! finds each job's targets (`static_configs`, `file_sd_configs` files) and
//! sends their groups whenever they change, and [`relabel`](crate::relabel) runs
//! a job's rules over targets and samples. The pieces of its own:
//!
//! - the manager keeps one pool of loops per job, in step with the configuration
//!   and with what the job's discovery providers last sent;
//! - [`populate`], which turns a discovered target into a [`Target`] (URL,
//!   interval, labels) through the job's `relabel_configs`, as Prometheus's
//!   `PopulateLabels` does;
//! - [`HttpClient`], one job's HTTP client: a target's body fetched as Prometheus
//!   fetches it (headers, auth, TLS, gzip, the body size limit, the deadline);
//! - the scrape loop: a fixed phase per target, aligned timestamps, the report
//!   series, and stale markers when series, scrapes or targets go away;
//! - [`ScrapeCache`], which stores one scrape's body as Prometheus's scrape loop
//!   does (target labels merged, metric relabeling, staleness, the limits) and
//!   keeps the target's [`TargetMetadata`] (its HELP, TYPE and UNIT lines).

mod append;
mod client;
mod manager;
mod metadata;
mod scrape_loop;
mod target;

pub use append::{
    AppendFailure, AppendOptions, LabelLimits, ScrapeAppendError, ScrapeBody, ScrapeCache,
    ScrapeCounts, merge_target_labels,
};
pub use client::{ClientError, HttpClient, ScrapeError};
pub use manager::{ActiveTarget, ApplyError, DroppedTarget, ScrapeManager, ScrapeStats};
pub use metadata::{MetricMetadata, TargetMetadata};
pub use scrape_loop::{Health, TargetStatus};
pub use target::{Target, TargetError, populate, with_job_defaults};
