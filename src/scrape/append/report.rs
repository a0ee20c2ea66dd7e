//! The report series of a scrape (`up`, `scrape_duration_seconds`, the sample
//! and series counts), and their stale markers when the target is gone.

use super::cache::ScrapeCache;
use super::outcome::ScrapeCounts;
use super::store::store;
use crate::model::{Labels, stale_nan};
use crate::tsdb::{AppendError, Appender, SeriesRef};

impl ScrapeCache {
    /// Appends the report series of a scrape at `t`: `up` (1 when the scrape
    /// succeeded), `scrape_duration_seconds`, and the sample and series counts
    /// (those of a failed append as far as it got, zeros when the target could
    /// not be scraped, as Prometheus writes them).
    pub fn append_report(
        &mut self,
        app: &mut Appender,
        target: &Labels,
        t: i64,
        duration_seconds: f64,
        up: bool,
        c: ScrapeCounts,
    ) -> Result<(), AppendError> {
        let samples: [(&'static str, f64); 5] = [
            ("up", if up { 1.0 } else { 0.0 }),
            ("scrape_duration_seconds", duration_seconds),
            ("scrape_samples_scraped", c.scraped as f64),
            (
                "scrape_samples_post_metric_relabeling",
                c.post_relabel as f64,
            ),
            ("scrape_series_added", c.series_added as f64),
        ];
        for (name, v) in samples {
            let r = match self.report.get(name) {
                Some(&r) => app.append_ref(r, t, v),
                None => Err(AppendError::UnknownRef(SeriesRef(0))),
            };
            let r = match r {
                Ok(r) => r,
                Err(AppendError::UnknownRef(_)) => {
                    app.append(&report_labels(name, target), t, v)?
                }
                Err(e) => return Err(e),
            };
            self.report.insert(name, r);
        }
        Ok(())
    }

    /// Stale markers at `t` for the report series written so far (when the
    /// target is gone for good).
    pub fn append_report_stale(&mut self, app: &mut Appender, target: &Labels, t: i64) {
        for (name, r) in self.report.iter_mut() {
            // A refused marker (a newer sample) is dropped, as in Prometheus.
            let _ = store(app, r, || Some(report_labels(name, target)), t, stale_nan());
        }
    }
}

/// The report series' labels: the target's, and the name.
fn report_labels(name: &str, target: &Labels) -> Labels {
    let pairs = std::iter::once(("__name__", name)).chain(
        target
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| (l.name, l.value)),
    );
    Labels::new(pairs).unwrap_or_default()
}
