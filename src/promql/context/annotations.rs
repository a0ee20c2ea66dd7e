//! What a query reports beside its value: Prometheus's warnings and infos,
//! each once, in the order they arose, and the infos on histograms made
//! monotonic, merged per metric and position over all steps.

use crate::model::float;
use crate::model::rfc3339_seconds;

/// The annotations a query has collected so far.
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    warnings: Vec<String>,
    infos: Vec<String>,
    /// Histograms made monotonic, merged per metric and position until the end.
    monotonicity: Vec<MonotonicityNote>,
}

impl Annotations {
    pub fn warn(&mut self, msg: String) {
        if !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    pub fn info(&mut self, msg: String) {
        if !self.infos.contains(&msg) {
            self.infos.push(msg);
        }
    }

    /// Records that a histogram of `metric` was made monotonic at `t`.
    pub fn note_monotonicity(&mut self, metric: String, pos: String, t: i64, f: Forced) {
        match self
            .monotonicity
            .iter_mut()
            .find(|n| n.metric == metric && n.pos == pos)
        {
            Some(n) => n.merge(t, f),
            None => self.monotonicity.push(MonotonicityNote {
                metric,
                pos,
                min_t: t,
                max_t: t,
                forced: f,
                count: 1,
            }),
        }
    }

    /// The warnings and the infos, the monotonicity notes last among the infos.
    pub fn finish(&mut self) -> (Vec<String>, Vec<String>) {
        for n in std::mem::take(&mut self.monotonicity) {
            let msg = n.message();
            self.info(msg);
        }
        (
            std::mem::take(&mut self.warnings),
            std::mem::take(&mut self.infos),
        )
    }
}

/// Where bucket counts had to be raised to keep them monotonic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Forced {
    pub min_bucket: f64,
    pub max_bucket: f64,
    pub max_diff: f64,
}

/// The info Prometheus gives for histograms made monotonic, merged over the
/// evaluation steps of one metric and position.
#[derive(Debug, Clone)]
struct MonotonicityNote {
    metric: String,
    pos: String,
    min_t: i64,
    max_t: i64,
    forced: Forced,
    count: usize,
}

impl MonotonicityNote {
    fn merge(&mut self, t: i64, f: Forced) {
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
        self.forced.min_bucket = self.forced.min_bucket.min(f.min_bucket);
        self.forced.max_bucket = self.forced.max_bucket.max(f.max_bucket);
        self.forced.max_diff = self.forced.max_diff.max(f.max_diff);
        self.count += 1;
    }

    fn message(&self) -> String {
        let name = if self.metric.is_empty() {
            String::new()
        } else {
            format!(" for metric name {:?}", self.metric)
        };
        format!(
            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile){name}, from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}{}",
            float::format_g_wide(self.forced.min_bucket),
            float::format_g_wide(self.forced.max_bucket),
            float::format_g2(self.forced.max_diff),
            self.count,
            rfc3339_seconds(self.min_t),
            rfc3339_seconds(self.max_t),
            self.pos
        )
    }
}
