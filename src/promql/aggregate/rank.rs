//! How `topk`, `bottomk` and `limitk` count and rank, in both forms.

use crate::promql::context::stats::nan_low_cmp;
use crate::promql::error::{PromqlError, Result};

/// The `k` of `topk`, `bottomk` and `limitk` as a count: NaN is refused, a
/// negative `k` is 0 and a huge one unbounded.
pub(crate) fn k_param(k: f64) -> Result<usize> {
    if k.is_nan() {
        return Err(PromqlError::execution("Parameter value is NaN"));
    }
    Ok(if k >= 9.2e18 {
        usize::MAX
    } else {
        k.max(0.0) as usize
    })
}

/// The order `topk` (`top`) or `bottomk` ranks values in: the largest or the
/// smallest first, NaN last either way.
pub(crate) fn rank_order(top: bool, a: f64, b: f64) -> std::cmp::Ordering {
    if top {
        return nan_low_cmp(b, a);
    }
    match (a.is_nan(), b.is_nan()) {
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
    }
}
