//! A selector's series computed into columns on all cores, a part at a time,
//! and handed on in series order (by the columnar selector and range
//! functions).

use super::columns::Col;
use super::evaluator::Evaluator;
use super::selected::Batch;
use crate::promql::error::Result;
use crate::promql::in_order::in_order;

/// Computes a column from each series of `all` with `work` (on a part of
/// them at a time, on all cores) and hands the columns to `f` in series order
/// while the parts after them are computed.
pub(crate) fn in_parts(
    ev: &Evaluator<'_>,
    all: Batch<'_>,
    work: impl Fn(Batch<'_>) -> Result<Vec<Option<Col>>> + Sync,
    f: &mut dyn FnMut(&Col) -> Result<()>,
) -> Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = all.len();
    in_order(
        n.div_ceil(PART),
        workers,
        AHEAD * workers,
        |i| work(all.part(i * PART, ((i + 1) * PART).min(n))),
        |cols| {
            ev.check()?;
            cols.iter().flatten().try_for_each(&mut *f)
        },
    )
}

/// Series a range function's worker computes at a time.
const PART: usize = 128;
/// Parts computed ahead of the one being consumed, per worker: enough that
/// the workers seldom wait for the consumer, few enough that the columns
/// waiting stay small (about 5 KB a series at 481 steps).
const AHEAD: usize = 4;
