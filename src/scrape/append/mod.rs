//! One scrape's body turned into samples in the database, as Prometheus's scrape
//! loop does it: target labels merged into each series, timestamps honoured or
//! not, the sample limit, stale markers for series that disappeared, and the
//! report series (`up`, `scrape_duration_seconds`, …).
//!
//! A [`ScrapeCache`] lives as long as its target. It remembers, by a 128-bit hash
//! of the series' bytes as the target wrote them, the series' reference in the
//! head, so a series seen before costs no label parsing or merging (and the
//! cache holds no labels: about 40 bytes a series); and which series the
//! previous scrape had, so that those missing from this one get a stale marker
//! (`NaN` with Prometheus's staleness bits) at this scrape's time. A failed scrape
//! (the target unreachable, a parse error, the sample limit) marks every series of
//! the previous scrape stale, as Prometheus does. Series with explicit timestamps
//! (kept with `honor_timestamps`) are not tracked for staleness. It also keeps
//! the target's metric metadata (see [`metadata`](super::metadata)).
//!
//! The pieces: [`ScrapeCache`] (`cache`) walks a body and keeps the per-target
//! memory above; `series` makes the labels of a series new to the cache (target
//! labels merged, metric relabeling, the label limits); `store` appends by
//! reference with the labels as fallback, for samples, stale markers and the
//! report series alike; `report` writes the report series. [`AppendOptions`]
//! (`options`) is what a job's configuration says about storing, and
//! [`ScrapeCounts`], [`AppendFailure`] and [`ScrapeAppendError`] (`outcome`)
//! are what a scrape stored or why it failed.

mod cache;
mod options;
mod outcome;
mod report;
mod series;
mod store;

pub use cache::{ScrapeBody, ScrapeCache};
pub use options::{AppendOptions, LabelLimits};
pub use outcome::{AppendFailure, ScrapeAppendError, ScrapeCounts};
pub use series::merge_target_labels;

#[cfg(test)]
mod tests;
