//! The range functions' arithmetic: `rate` and friends, `*_over_time`, and the
//! regressions. Each takes one series' points in the window `(start, end]`.

use crate::promql::context::stats::{kahan_inc, mean_inc, nan_low_cmp, quantile};
use crate::promql::value::Point;

/// `rate`, `increase` and `delta`: the change over the window, extrapolated to its
/// edges as Prometheus does.
pub(crate) fn extrapolated_rate(
    p: &[Point],
    start: i64,
    end: i64,
    counter: bool,
    rate: bool,
) -> Option<f64> {
    let per_second = rate.then(|| range_seconds(start, end));
    extrapolated_rate_known_resets(p, start, end, counter, per_second, counter)
}

/// The length of the window `(start, end]` in seconds, which `rate` divides by.
pub(crate) fn range_seconds(start: i64, end: i64) -> f64 {
    (end - start) as f64 / 1000.0
}

/// [`extrapolated_rate`] told whether the points may hold a counter reset: with
/// `may_reset` false the search for resets is skipped (callers that know the
/// points have none save a pass over them; the result is the same). A rate
/// is asked for by `per_second`, the window's [`range_seconds`], which a
/// caller computing many windows of one length divides out once.
pub(crate) fn extrapolated_rate_known_resets(
    p: &[Point],
    start: i64,
    end: i64,
    counter: bool,
    per_second: Option<f64>,
    may_reset: bool,
) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (first, last) = (p[0], p[p.len() - 1]);
    let mut result = last.v - first.v;
    if counter && may_reset {
        for w in p.windows(2) {
            if w[1].v < w[0].v {
                result += w[0].v;
            }
        }
    }
    let mut to_start = (first.t - start) as f64 / 1000.0;
    let mut to_end = (end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let gaps = (p.len() - 1) as f64;
    // An edge 1.1 average sample intervals or more from the samples is
    // extrapolated by half an interval only. When products show both edges
    // are certainly nearer (the usual case), the average, a division on the
    // critical path of every window, is not needed.
    let certainly_near = |d: f64| d * gaps * 1.1 < sampled * (1.0 - 1e-9);
    if !(certainly_near(to_start) && certainly_near(to_end)) {
        let avg = sampled / gaps;
        let threshold = avg * 1.1;
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        if to_end >= threshold {
            to_end = avg / 2.0;
        }
    }
    if counter
        && result > 0.0
        && first.v >= 0.0
        && !zero_is_further(first.v, result, sampled, to_start)
    {
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if let Some(range) = per_second {
        factor /= range;
    }
    Some(result * factor)
}

/// Whether the counter's zero point, `sampled · first / result` seconds before
/// its first sample, certainly lies no nearer than `to_start` (all four
/// positive): compared by products, with a margin far above their rounding,
/// so that the division (on the critical path of every window, and almost
/// always without effect: a counter is rarely near its zero) is done only
/// when it may change the result. Where this says no, the exact comparison
/// decides as before, so the result never changes.
fn zero_is_further(first: f64, result: f64, sampled: f64, to_start: f64) -> bool {
    first * sampled > to_start * result * (1.0 + 1e-9)
}

/// `irate` and `idelta`: from the last two points.
pub(crate) fn instant_rate(p: &[Point], rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (prev, last) = (p[p.len() - 2], p[p.len() - 1]);
    let mut d = last.v - prev.v;
    if rate && last.v < prev.v {
        d = last.v;
    }
    if !rate {
        return Some(d);
    }
    let dt = (last.t - prev.t) as f64 / 1000.0;
    if dt == 0.0 {
        return None;
    }
    Some(d / dt)
}

/// Least-squares slope and intercept (at `intercept_t`, ms) of the points.
pub(crate) fn linear_regression(p: &[Point], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init = p.first().map(|x| x.v).unwrap_or(0.0);
    let mut const_y = true;
    for (i, pt) in p.iter().enumerate() {
        if i > 0 && pt.v != init {
            const_y = false;
        }
        n += 1.0;
        let x = (pt.t - intercept_t) as f64 / 1000.0;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(pt.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * pt.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

pub(crate) fn sum(p: &[Point]) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for x in p {
        (s, c) = kahan_inc(x.v, s, c);
    }
    s + c
}

pub(crate) fn avg(p: &[Point]) -> f64 {
    let s = sum(p);
    if s.is_finite() {
        return s / p.len() as f64;
    }
    let mut mean = 0.0;
    for (i, x) in p.iter().enumerate() {
        mean = mean_inc(mean, x.v, (i + 1) as f64);
    }
    mean
}

pub(crate) fn variance(p: &[Point]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for x in p {
        n += 1.0;
        let d = x.v - mean;
        mean += d / n;
        m2 += d * (x.v - mean);
    }
    m2 / n
}

pub(crate) fn min(p: &[Point]) -> f64 {
    let mut m = p[0].v;
    for x in p {
        if x.v < m || m.is_nan() {
            m = x.v;
        }
    }
    m
}

pub(crate) fn max(p: &[Point]) -> f64 {
    let mut m = p[0].v;
    for x in p {
        if x.v > m || m.is_nan() {
            m = x.v;
        }
    }
    m
}

/// Timestamp (seconds) of the smallest (`want_max` false) or largest value; the
/// last one on ties.
pub(crate) fn ts_of_extreme(p: &[Point], want_max: bool) -> f64 {
    let mut best = p[0];
    for x in p {
        let better = if want_max {
            x.v >= best.v || best.v.is_nan()
        } else {
            x.v <= best.v || best.v.is_nan()
        };
        if better && !x.v.is_nan() {
            best = *x;
        }
    }
    best.t as f64 / 1000.0
}

pub(crate) fn quantile_over(q: f64, p: &[Point]) -> f64 {
    let mut v: Vec<f64> = p.iter().map(|x| x.v).collect();
    quantile(q, &mut v)
}

/// Median absolute deviation.
pub(crate) fn mad(p: &[Point]) -> f64 {
    if p.iter().any(|x| x.v.is_nan()) {
        return f64::NAN;
    }
    let mut v: Vec<f64> = p.iter().map(|x| x.v).collect();
    let median = quantile(0.5, &mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(|a, b| nan_low_cmp(*a, *b));
    quantile(0.5, &mut dev)
}

pub(crate) fn changes(p: &[Point]) -> f64 {
    p.windows(2)
        .filter(|w| w[0].v != w[1].v && !(w[0].v.is_nan() && w[1].v.is_nan()))
        .count() as f64
}

pub(crate) fn resets(p: &[Point]) -> f64 {
    p.windows(2).filter(|w| w[1].v < w[0].v).count() as f64
}

/// Holt's double exponential smoothing; `None` with fewer than two points.
pub(crate) fn double_exponential_smoothing(p: &[Point], sf: f64, tf: f64) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (mut s0, mut s1) = (0.0, p[0].v);
    let mut b = p[1].v - p[0].v;
    for (i, pt) in p.iter().enumerate().skip(1) {
        let x = sf * pt.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<Point> {
        v.iter().map(|&(t, v)| Point { t, v }).collect()
    }

    #[test]
    fn rate_over_evenly_spaced_counter() {
        // 0, 60, 120 at 0, 5m, 10m; window (0, 10m]: only 5m and 10m.
        let p = pts(&[(300_000, 60.0), (600_000, 120.0)]);
        let r = extrapolated_rate(&p, 0, 600_000, true, true).unwrap();
        assert!((r - 0.2).abs() < 1e-12, "{r}");
    }

    /// Prometheus's extrapolation step for step, without shortcuts.
    fn reference_rate(p: &[Point], start: i64, end: i64, counter: bool, rate: bool) -> Option<f64> {
        if p.len() < 2 {
            return None;
        }
        let (first, last) = (p[0], p[p.len() - 1]);
        let mut result = last.v - first.v;
        if counter {
            for w in p.windows(2) {
                if w[1].v < w[0].v {
                    result += w[0].v;
                }
            }
        }
        let mut to_start = (first.t - start) as f64 / 1000.0;
        let mut to_end = (end - last.t) as f64 / 1000.0;
        let sampled = (last.t - first.t) as f64 / 1000.0;
        let avg = sampled / (p.len() - 1) as f64;
        let threshold = avg * 1.1;
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        if counter && result > 0.0 && first.v >= 0.0 {
            let to_zero = sampled * (first.v / result);
            if to_zero < to_start {
                to_start = to_zero;
            }
        }
        if to_end >= threshold {
            to_end = avg / 2.0;
        }
        let mut factor = (sampled + to_start + to_end) / sampled;
        if rate {
            factor /= (end - start) as f64 / 1000.0;
        }
        Some(result * factor)
    }

    #[test]
    fn shortcuts_give_prometheus_extrapolation_bit_for_bit() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..50_000 {
            let n = rng.usize(2..25);
            let interval = [1_000, 10_000, 15_000, 60_000][rng.usize(0..4)];
            let jitter = rng.i64(0..interval / 4 + 1);
            let mut t = rng.i64(1..interval * 2);
            let mut v = [0.0, 1e-3, 5.0, 1e9][rng.usize(0..4)] * rng.f64();
            let mut p = Vec::with_capacity(n);
            for _ in 0..n {
                p.push(Point { t, v });
                t += interval + rng.i64(-jitter..=jitter).max(1 - interval);
                v += if rng.u32(0..20) == 0 {
                    -v * rng.f64()
                } else {
                    rng.f64() * 10.0
                };
            }
            let end = p[n - 1].t + rng.i64(0..interval * 2);
            // Edges exactly at 1.1 average intervals are the hard cases.
            let avg_ms = (p[n - 1].t - p[0].t) / (n as i64 - 1);
            let start = match rng.u32(0..3) {
                0 => p[0].t - avg_ms * 11 / 10,
                _ => p[0].t - rng.i64(1..interval * 2),
            };
            for (counter, rate) in [(true, true), (true, false), (false, false)] {
                let want = reference_rate(&p, start, end, counter, rate).map(f64::to_bits);
                let got = extrapolated_rate(&p, start, end, counter, rate).map(f64::to_bits);
                assert_eq!(got, want, "{p:?} ({start}, {end}] {counter} {rate}");
            }
        }
    }

    #[test]
    fn the_zero_point_shortcut_never_changes_the_extrapolation() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..20_000 {
            let first = [0.0, 1e-300, 0.5, 3.0, 1e6, 1e300][rng.usize(0..6)] * rng.f64();
            let result = 10f64.powi(rng.i32(-6..6)) * rng.f64();
            let sampled = rng.f64() * 600.0 + 1e-3;
            let to_start = rng.f64() * 20.0 + 1e-3;
            if zero_is_further(first, result, sampled, to_start) {
                assert!(
                    sampled * (first / result) >= to_start,
                    "{first} {result} {sampled} {to_start}"
                );
            }
        }
        // A counter starting near zero still extrapolates only to its zero point.
        let p = pts(&[(10_000, 1.0), (20_000, 11.0), (30_000, 21.0)]);
        let r = extrapolated_rate(&p, 0, 30_000, true, false).unwrap();
        assert!((r - 21.0).abs() < 1e-12, "{r}");
    }

    #[test]
    fn counter_resets_are_added_back() {
        let p = pts(&[(0, 10.0), (1000, 2.0)]);
        assert_eq!(resets(&p), 1.0);
        assert_eq!(instant_rate(&p, true), Some(2.0));
    }

    #[test]
    fn regression_of_a_line() {
        let p = pts(&[(0, 1.0), (1000, 2.0), (2000, 3.0)]);
        let (s, i) = linear_regression(&p, 0);
        assert!((s - 1.0).abs() < 1e-12 && (i - 1.0).abs() < 1e-12);
    }
}
