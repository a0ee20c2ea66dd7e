//! [`store`]: one sample appended by series reference, with the series' labels
//! as the fallback when the head does not know the reference.

use crate::model::Labels;
use crate::tsdb::{AppendError, Appender, SeriesRef};

/// A sample the storage refused (counted, not an error of the scrape).
pub(super) struct Refused;

/// Appends by reference, falling back to the labels `labels` gives when the
/// reference is unknown (first use, or the series left the head); with no
/// labels then, nothing is stored.
pub(super) fn store(
    app: &mut Appender,
    series_ref: &mut SeriesRef,
    labels: impl FnOnce() -> Option<Labels>,
    t: i64,
    v: f64,
) -> Result<(), Refused> {
    let by_labels = |app: &mut Appender| match labels() {
        Some(labels) => app.append(&labels, t, v),
        None => Err(AppendError::UnknownRef(*series_ref)),
    };
    let r = if series_ref.0 == 0 {
        by_labels(app)
    } else {
        match app.append_ref(*series_ref, t, v) {
            Err(AppendError::UnknownRef(_)) => by_labels(app),
            other => other,
        }
    };
    match r {
        Ok(r) => {
            *series_ref = r;
            Ok(())
        }
        Err(_) => Err(Refused),
    }
}
