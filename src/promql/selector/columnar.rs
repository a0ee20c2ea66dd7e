//! An instant selector at all steps of a range query at once: each series
//! walked once, its position only moving forward from step to step.

use promql_parser::parser::VectorSelector;

use crate::model::{Labels, is_stale_nan};
use crate::promql::context::columns::{Col, Steps};
use crate::promql::context::evaluator::Evaluator;
use crate::promql::context::parts::in_parts;
use crate::promql::context::selected::Batch;
use crate::promql::error::Result;

/// An instant selector: the latest sample within the lookback delta at each
/// step. Like a range function's, its series are read and walked in parts on
/// all cores and handed to `f` in their order.
pub(crate) fn each(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    steps: Steps,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    let refs = ev.ref_times(vs, steps);
    let lookback = ev.lookback;
    let all = Batch::of(ev.selected(vs));
    let latest = |labels: &Labels, samples: &[(i64, f64)]| {
        let mut col: Option<Col> = None;
        let mut p = 0;
        for (i, &r) in refs.iter().enumerate() {
            if i > 0 && r < refs[i - 1] {
                p = 0;
            }
            while p < samples.len() && samples[p].0 <= r {
                p += 1;
            }
            if p > 0 {
                let (ts, v) = samples[p - 1];
                if ts > r.saturating_sub(lookback) && !is_stale_nan(v) {
                    let c = col.get_or_insert_with(|| Col::empty(labels.clone(), false, steps.n));
                    c.vals[i] = v;
                    c.present[i] = true;
                }
            }
        }
        Ok(col)
    };
    in_parts(ev, all, |part| part.map(&latest), f)
}
