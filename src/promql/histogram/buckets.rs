//! Classic histograms' arithmetic, as Prometheus's (`promql/quantile.go`):
//! buckets sorted, coalesced and made monotonic, the φ-quantile and the
//! fraction between two bounds interpolated within buckets.

use crate::promql::context::annotations::Forced;

/// The result of [`bucket_quantile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantile {
    pub value: f64,
    pub forced: Option<Forced>,
}

/// Sorts buckets by bound, merges equal bounds; `None` when the last is not +Inf.
fn prepare(b: &mut Vec<(f64, f64)>) -> bool {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    if b.last().map(|x| x.0) != Some(f64::INFINITY) {
        return false;
    }
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for &(le, n) in b.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == le => last.1 += n,
            _ => merged.push((le, n)),
        }
    }
    *b = merged;
    true
}

/// Prometheus's `almost.Equal`: within a relative `eps`.
fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// Ignores numerically insignificant differences between neighbouring buckets,
/// then raises any count below its predecessor's.
fn make_monotonic(b: &mut [(f64, f64)]) -> Option<Forced> {
    let mut f = Forced {
        min_bucket: f64::INFINITY,
        max_bucket: f64::NEG_INFINITY,
        max_diff: 0.0,
    };
    let mut forced = false;
    let &(_, mut prev) = b.first()?;
    for x in b.iter_mut().skip(1) {
        let curr = x.1;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            x.1 = prev;
            continue;
        }
        if curr < prev {
            x.1 = prev;
            forced = true;
            f.min_bucket = f.min_bucket.min(x.0);
            f.max_bucket = f.max_bucket.max(x.0);
            f.max_diff = f.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    forced.then_some(f)
}

/// The φ-quantile of classic buckets `(upper bound, cumulative count)`.
pub(crate) fn bucket_quantile(q: f64, b: &mut Vec<(f64, f64)>) -> Quantile {
    let value = |v| Quantile {
        value: v,
        forced: None,
    };
    if q.is_nan() {
        return value(f64::NAN);
    }
    if q < 0.0 {
        return value(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return value(f64::INFINITY);
    }
    if !prepare(b) {
        return value(f64::NAN);
    }
    let forced = make_monotonic(b);
    let done = |v| Quantile { value: v, forced };
    if b.len() < 2 {
        return done(f64::NAN);
    }
    let obs = b[b.len() - 1].1;
    if obs == 0.0 {
        return done(f64::NAN);
    }
    let mut rank = q * obs;
    let n = b.len() - 1;
    let i = b[..n].partition_point(|x| x.1 < rank);
    if i == n {
        return done(b[n - 1].0);
    }
    if i == 0 && b[0].0 <= 0.0 {
        return done(b[0].0);
    }
    let (mut start, end, mut count) = (0.0, b[i].0, b[i].1);
    if i > 0 {
        start = b[i - 1].0;
        count -= b[i - 1].1;
        rank -= b[i - 1].1;
    }
    done(start + (end - start) * (rank / count))
}

/// The fraction of observations between `lower` and `upper`, interpolated
/// linearly within buckets.
pub(crate) fn bucket_fraction(lower: f64, upper: f64, b: &mut Vec<(f64, f64)>) -> f64 {
    if !prepare(b) {
        return f64::NAN;
    }
    let count = b[b.len() - 1].1;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if b[0].0 <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, &(upper_bound, n)) in b.iter().enumerate() {
        if i > 0 {
            lower_bound = b[i - 1].0;
        }
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                n
            } else {
                rank + (n - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = n;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_quantile_interpolates_and_fixes_monotonicity() {
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).value, 1.0);
        let mut b = vec![(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 20.0)];
        let r = bucket_quantile(0.5, &mut b);
        assert_eq!(
            r.forced,
            Some(Forced {
                min_bucket: 2.0,
                max_bucket: 2.0,
                max_diff: 5.0
            })
        );
    }

    #[test]
    fn tiny_decreases_are_not_reported() {
        let mut b = vec![(1.0, 10.0), (2.0, 10.0 - 1e-14), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut b).forced, None);
    }

    #[test]
    fn fraction_between_bounds() {
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(0.0, 1.0, &mut b), 0.5);
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(1.5, 1.0, &mut b), 0.0);
        let mut b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_fraction(0.5, 1.5, &mut b), 0.5);
    }
}
