//! Functions over classic histograms (series of `le` buckets):
//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`, step
//! by step ([`step`]) and, `histogram_quantile` with a literal φ in a range
//! query, at all steps at once ([`columnar`]).
//!
//! Buckets are grouped by their labels without `le` (the metric name kept, so
//! two histograms of different names never mix), then sorted, coalesced and
//! made monotonic as Prometheus does ([`buckets`]).

pub(crate) mod buckets;
pub(crate) mod columnar;
pub(crate) mod notes;
pub(crate) mod step;
