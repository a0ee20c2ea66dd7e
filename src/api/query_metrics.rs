//! [`QueryMetrics`]: how long queries take, phase by phase, and how many run.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

/// The `slice` label of the query duration histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Slice {
    slice: &'static str,
}

/// Query metrics: time per phase (`queue_time` waiting for a slot,
/// `inner_eval` reading and evaluating, `result_encode` writing the JSON) and
/// the queries running now.
#[derive(Clone)]
pub(super) struct QueryMetrics {
    pub durations: Family<Slice, Histogram, fn() -> Histogram>,
    pub running: Gauge,
}

impl QueryMetrics {
    pub fn new() -> QueryMetrics {
        QueryMetrics {
            durations: Family::new_with_constructor(|| {
                Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 20.0, 60.0])
            }),
            running: Gauge::default(),
        }
    }

    pub(super) fn observe(&self, slice: &'static str, d: Duration) {
        self.durations
            .get_or_create(&Slice { slice })
            .observe(d.as_secs_f64());
    }
}
