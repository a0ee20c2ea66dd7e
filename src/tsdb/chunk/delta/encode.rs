//! Writing a chunk: the cheapest plan for the timestamps and for the values
//! (as decimals or as bit patterns), then the headers and the codes.

use super::predict::{ORDER_DELTA, ORDER_DOD, ORDER_LINE, Stream, divide_gcd, residuals};
use super::rice::{bit_lengths, code_bits, estimate_k, write_code};
use super::values::{FEW_DECIMALS, RAW_BITS, decimal};
use crate::tsdb::chunk::bstream::BitWriter;

/// The cheapest way found to code `xs` (not empty) with one of `orders`, and
/// its size in bits (header included). `scratch` is working space; `coded`
/// receives the chosen order's residuals, divided by the stream's gcd, as the
/// bit stream codes them (so that the writer does not compute them again).
///
/// Each prediction order and residual mapping is judged by the estimate of
/// [`estimate_k`] (one pass over the residuals each); only the winner's size is
/// computed exactly, for its estimated Rice parameter and the two beside it.
fn plan(xs: &[i64], orders: &[u8], scratch: &mut Vec<i64>, coded: &mut Vec<i64>) -> (Stream, u64) {
    let mut best = (
        Stream {
            order: ORDER_DELTA,
            zigzag: false,
            k: 0,
            first: xs[0],
            param: 0,
            gcd: 1,
            base: 0,
        },
        u64::MAX,
    );
    for &order in orders {
        let param = residuals(xs, order, scratch);
        let g = divide_gcd(scratch);
        // Candidate mappings: zigzag around 0 (residuals of both signs), and
        // offsets by the smallest and the second smallest quotient. The second
        // costs one escape but spares every other residual the distance to a
        // single low outlier (a counter reset).
        let (mut min1, mut min2, mut max) = (i64::MAX, i64::MAX, i64::MIN);
        for &q in scratch.iter() {
            max = max.max(q);
            if q < min1 {
                min2 = min1;
                min1 = q;
            } else if q < min2 {
                min2 = q;
            }
        }
        let all = [(true, 0), (false, min1), (false, min2)];
        let candidates: &[(bool, i64)] = match scratch.len() {
            0 => &all[..1],
            // No negative residual: an offset by the smallest never codes a
            // residual longer than zigzag does.
            _ if min1 >= 0 && (min2 == min1 || min2 == i64::MAX) => &all[1..2],
            _ if min1 >= 0 => &all[1..],
            _ if min2 == min1 || min2 == i64::MAX => &all[..2],
            _ => &all[..],
        };
        let mut improved = false;
        for &(zigzag, base) in candidates {
            let mut s = Stream {
                order,
                zigzag,
                k: 0,
                first: xs[0],
                param,
                gcd: g,
                base,
            };
            let (k, quarter_bits) = estimate_k(&bit_lengths(scratch, &s));
            s.k = k;
            let bits = quarter_bits / 4 + 8 * s.header_len() as u64;
            if bits < best.1 {
                best = (s, bits);
                improved = true;
            }
        }
        if improved {
            std::mem::swap(scratch, coded);
        }
        // Every residual the same: one bit a sample, which no other order beats.
        if improved && min1 == max {
            break;
        }
    }
    // The exact size for the estimated Rice parameter and the two beside it, in
    // one pass.
    let (mut s, _) = best;
    let lo = s.k.saturating_sub(1);
    let ks = [lo, (lo + 1).min(63), (lo + 2).min(63)];
    let mut sums = [0u64; 3];
    for &q in coded.iter() {
        let u = s.map(q);
        for (sum, &k) in sums.iter_mut().zip(&ks) {
            *sum += code_bits(u, k);
        }
    }
    let (i, body) = sums
        .iter()
        .enumerate()
        .min_by_key(|&(_, b)| *b)
        .map_or((0, 0), |(i, b)| (i, *b));
    s.k = ks[i];
    (s, body + 8 * s.header_len() as u64)
}

/// Writes `samples` as a delta chunk into `out` (cleared first). A chunk holds at
/// most 65,535 samples; later ones are left out, as the XOR appender leaves them.
pub(crate) fn encode(samples: &[(i64, f64)], out: &mut Vec<u8>) {
    let samples = &samples[..samples.len().min(usize::from(u16::MAX))];
    out.clear();
    out.extend_from_slice(&(samples.len() as u16).to_be_bytes());
    if samples.is_empty() {
        return;
    }
    let mut scratch = Vec::with_capacity(samples.len());
    let ts: Vec<i64> = samples.iter().map(|s| s.0).collect();
    let mut t_res = Vec::with_capacity(samples.len());
    let (t, _) = plan(&ts, &[ORDER_LINE, ORDER_DOD], &mut scratch, &mut t_res);

    let values: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let raw = || -> Vec<i64> { values.iter().map(|v| v.to_bits() as i64).collect() };
    let mut ints = Vec::with_capacity(samples.len());
    let mut v_res = Vec::with_capacity(samples.len());
    let (scale, v) = match decimal(&values, &mut ints) {
        // Few decimals: the integers' deltas count units of at most 10^-6, far
        // coarser than the bit patterns' units in the last place for any value
        // below 10^9, so planning the bit patterns too is wasted time.
        Some(scale) if scale <= FEW_DECIMALS => {
            let (plan, _) = plan(&ints, &[ORDER_DELTA, ORDER_DOD], &mut scratch, &mut v_res);
            (scale, plan)
        }
        Some(scale) => {
            let (dec_plan, dec_bits) =
                plan(&ints, &[ORDER_DELTA, ORDER_DOD], &mut scratch, &mut v_res);
            let mut raw_res = Vec::with_capacity(samples.len());
            let (raw_plan, raw_bits) = plan(
                &raw(),
                &[ORDER_DELTA, ORDER_DOD],
                &mut scratch,
                &mut raw_res,
            );
            if dec_bits <= raw_bits {
                (scale, dec_plan)
            } else {
                v_res = raw_res;
                (RAW_BITS, raw_plan)
            }
        }
        None => (
            RAW_BITS,
            plan(&raw(), &[ORDER_DELTA, ORDER_DOD], &mut scratch, &mut v_res).0,
        ),
    };

    t.write_header(out);
    out.push(scale);
    v.write_header(out);
    // The plans left the chosen residuals, divided by their gcds, in `t_res` and
    // `v_res`.
    let mut w = BitWriter::new(std::mem::take(out));
    for i in 1..samples.len() {
        if let Some(&r) = i.checked_sub(t.first_coded()).and_then(|j| t_res.get(j)) {
            write_code(&mut w, t.map(r), t.k);
        }
        if let Some(&r) = i.checked_sub(v.first_coded()).and_then(|j| v_res.get(j)) {
            write_code(&mut w, v.map(r), v.k);
        }
    }
    *out = w.into_vec();
}
