//! Rice codes of the residuals: a unary quotient and `k` low bits, or an escape
//! to 64 raw bits; and the estimate that picks `k`.

use super::predict::Stream;
use crate::tsdb::chunk::bstream::{BitReader, BitWriter};

/// A quotient of this many ones is an escape: the value follows in 64 bits.
const ESCAPE: u32 = 16;
/// Bits an escaped value takes.
const ESCAPE_BITS: u64 = ESCAPE as u64 + 64;

/// Bits the code of `u` takes with Rice parameter `k`.
#[inline]
pub(super) fn code_bits(u: u64, k: u8) -> u64 {
    let q = u >> k;
    if q < u64::from(ESCAPE) {
        q + 1 + u64::from(k)
    } else {
        ESCAPE_BITS
    }
}

#[inline]
pub(super) fn write_code(w: &mut BitWriter, u: u64, k: u8) {
    let q = u >> k;
    if q < u64::from(ESCAPE) {
        // q ones and a zero.
        w.write_bits((1u64 << (q + 1)) - 2, q as u32 + 1);
        w.write_bits(u, u32::from(k));
    } else {
        w.write_bits((1u64 << ESCAPE) - 1, ESCAPE);
        w.write_bits(u, 64);
    }
}

/// Reads one code. The common case (the whole code in the reader's register)
/// is inlined into the decoding loop; escapes and codes at a refill boundary
/// go to [`read_code_by_fields`], kept out of line.
#[inline(always)]
pub(super) fn read_code(r: &mut BitReader, data: &[u8], k: u8) -> Option<u64> {
    match r.read_rice_buffered(data, u32::from(k), ESCAPE) {
        Some(u) => Some(u),
        None => read_code_by_fields(r, data, k),
    }
}

#[cold]
#[inline(never)]
fn read_code_by_fields(r: &mut BitReader, data: &[u8], k: u8) -> Option<u64> {
    let q = r.read_prefix(data, ESCAPE)?;
    if q == ESCAPE {
        return r.read_bits_long(data, 64);
    }
    let low = if k == 0 {
        0
    } else {
        r.read_bits_long(data, u32::from(k))?
    };
    // Shifting out high bits of `q` only happens in chunks no encoder writes
    // (k = 63 with q > 1); the result is then some value, never a panic.
    Some((u64::from(q) << k) | low)
}

/// The Rice parameter that minimizes the estimated size of the codes of values
/// whose bit lengths are counted in `hist` (index = bit length, 0 ..= 64), and
/// that estimate in quarter bits. A value of bit length `len > k` is taken to
/// have quotient `0.75 · 2^(len − k)`, the middle of its range. Only parameters
/// up to the longest bit length can be best (a larger `k` only adds bits).
pub(super) fn estimate_k(hist: &[u32; 65]) -> (u8, u64) {
    let mut bins = [(0u32, 0u64); 65];
    let mut nbins = 0;
    for (len, &count) in hist.iter().enumerate() {
        if count > 0 {
            bins[nbins] = (len as u32, u64::from(count));
            nbins += 1;
        }
    }
    let bins = &bins[..nbins];
    let longest = bins.last().map_or(0, |b| b.0);
    let mut best = (0u8, u64::MAX);
    for k in 0..=longest.min(63) {
        let mut cost = 0u64;
        for &(len, count) in bins {
            let quarter_bits = if len <= k {
                4 * (u64::from(k) + 1)
            } else if len >= k + 5 {
                4 * ESCAPE_BITS
            } else {
                4 * (u64::from(k) + 1) + 3 * (1u64 << (len - k)) - 2
            };
            cost += count * quarter_bits;
        }
        if cost < best.1 {
            best = (k as u8, cost);
        }
    }
    best
}

/// How many of the code values of `qs` under `s` have each bit length (0 ..= 64).
pub(super) fn bit_lengths(qs: &[i64], s: &Stream) -> [u32; 65] {
    // Four histograms, so that runs of one length (the common case) do not wait
    // on the previous increment of the same counter.
    let mut hists = [[0u32; 65]; 4];
    let mut quads = qs.chunks_exact(4);
    for quad in quads.by_ref() {
        for (hist, &q) in hists.iter_mut().zip(quad) {
            hist[64 - s.map(q).leading_zeros() as usize] += 1;
        }
    }
    for &q in quads.remainder() {
        hists[0][64 - s.map(q).leading_zeros() as usize] += 1;
    }
    let mut hist = hists[0];
    for other in &hists[1..] {
        for (a, b) in hist.iter_mut().zip(other) {
            *a += b;
        }
    }
    hist
}
