//! The delta chunk encoding ([`Encoding::Delta`](super::Encoding::Delta)): a chunk
//! written in one go from known samples, with timestamps and values each turned
//! into a sequence of integers, predicted, and the prediction errors Rice coded.
//!
//! ```text
//! chunk  = count:u16 (big endian) · t stream header · scale:u8 · v stream header · bits
//! stream = mode:u8 (order | zigzag << 2) · k:u8 · first:varint · [param:varint]
//!          · gcd:uvarint · base:varint
//! bits   = for each sample from the second: t code (if coded) · v code (if coded)
//! code   = q ones · 0 · k low bits of u            (q = u >> k < 16)
//!        | 16 ones · u in 64 bits                   (escape)
//! ```
//!
//! Why it beats XOR on scraped data:
//!
//! - Timestamps sit on a regular grid plus a few milliseconds of jitter. Order 0
//!   predicts `first + i · slope` (a line), so each sample costs about one bit per
//!   millisecond of jitter, where XOR's delta-of-delta pays 16 bits whenever two
//!   neighbouring jitters differ.
//! - Values that are exact decimals (integer counters, 1/100 s ticks, 2-decimal
//!   gauges) become integers `m` with `v = m / 10^scale`; their deltas are small
//!   integers, and a common factor (4096 for page-sized byte gauges) is divided
//!   out. Values that are not become their IEEE bit patterns, whose deltas count
//!   units in the last place: for a full-precision float counter that is the
//!   information the increment really carries, without XOR's carry noise and
//!   window bookkeeping.
//! - Rice coding with a per-chunk parameter `k` is within a fraction of a bit of
//!   the entropy of the geometric-like residuals counters and gauges produce; rare
//!   outliers (counter resets, stale markers) escape to 64 raw bits.
//!
//! The encoder tries a few predictions per stream (orders, bases) and keeps the
//! cheapest, computing sizes without writing. See `docs/format/chunks.md` for the
//! byte layout.

use super::ChunkError;
use super::bstream::{BitReader, BitWriter};
use crate::model::varint::{
    VarintError, append_uvarint, append_varint, unzigzag, uvarint, uvarint_len, zigzag,
};

/// Size of the sample-count header.
const HEADER_LEN: usize = 2;
/// Largest decimal scale: `10^22` is the largest power of ten an `f64` holds
/// exactly, and the decoder divides by it.
const MAX_SCALE: u8 = 22;
/// Decimal scales up to this one are used without comparing against the values'
/// bit patterns.
const FEW_DECIMALS: u8 = 6;
/// Scale byte meaning "values are IEEE 754 bit patterns".
const RAW_BITS: u8 = 0xff;
/// A quotient of this many ones is an escape: the value follows in 64 bits.
const ESCAPE: u32 = 16;
/// Bits an escaped value takes.
const ESCAPE_BITS: u64 = ESCAPE as u64 + 64;

const POW10: [f64; MAX_SCALE as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Predicts each sample from a line through the first one: `first + i · slope`.
const ORDER_LINE: u8 = 0;
/// Predicts each sample as the previous one.
const ORDER_DELTA: u8 = 1;
/// Predicts each sample from the previous two (constant delta).
const ORDER_DOD: u8 = 2;

/// How one integer sequence (the timestamps, or the values as integers) is coded:
/// everything its stream header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stream {
    order: u8,
    /// Residuals are zigzag mapped (for signed residuals) rather than offset.
    zigzag: bool,
    /// Rice parameter: the number of low bits written as they are.
    k: u8,
    first: i64,
    /// [`ORDER_LINE`]: the slope; [`ORDER_DOD`]: the first delta `x1 - x0`;
    /// [`ORDER_DELTA`]: not stored (0).
    param: i64,
    /// Every residual is a multiple of `gcd` (1 ..= `i64::MAX`).
    gcd: i64,
    /// Subtracted from each residual (after dividing by `gcd`) before coding.
    base: i64,
}

impl Stream {
    /// Index of the first sample whose residual is in the bit stream; the ones
    /// before it are given by the header.
    fn first_coded(&self) -> usize {
        if self.order == ORDER_DOD { 2 } else { 1 }
    }

    /// The unsigned code value of quotient `q` (a residual divided by `gcd`).
    #[inline]
    fn map(&self, q: i64) -> u64 {
        let d = q.wrapping_sub(self.base);
        if self.zigzag { zigzag(d) } else { d as u64 }
    }

    /// The residual coded as `u`: the inverse of [`map`](Self::map).
    #[inline]
    fn unmap(&self, u: u64) -> i64 {
        let d = if self.zigzag { unzigzag(u) } else { u as i64 };
        d.wrapping_add(self.base).wrapping_mul(self.gcd)
    }

    fn write_header(&self, out: &mut Vec<u8>) {
        out.push(self.order | (u8::from(self.zigzag) << 2));
        out.push(self.k);
        append_varint(out, self.first);
        if self.order != ORDER_DELTA {
            append_varint(out, self.param);
        }
        append_uvarint(out, self.gcd as u64);
        append_varint(out, self.base);
    }

    fn header_len(&self) -> usize {
        let param = if self.order == ORDER_DELTA {
            0
        } else {
            uvarint_len(zigzag(self.param))
        };
        2 + uvarint_len(zigzag(self.first))
            + param
            + uvarint_len(self.gcd as u64)
            + uvarint_len(zigzag(self.base))
    }

    fn read_header(data: &[u8], pos: &mut usize, name: &'static str) -> Result<Self, ChunkError> {
        let at = *pos;
        let bad = |problem| ChunkError::BadField {
            field: name,
            offset: at,
            problem,
        };
        let (&mode, &k) = match data.get(at..at + 2) {
            Some([mode, k]) => (mode, k),
            _ => return Err(bad("truncated")),
        };
        let order = mode & 3;
        if mode > 7 || order > ORDER_DOD {
            return Err(bad("unknown mode"));
        }
        if k > 63 {
            return Err(bad("Rice parameter above 63"));
        }
        *pos += 2;
        let first = get_varint(data, pos, name)?;
        let param = if order == ORDER_DELTA {
            0
        } else {
            get_varint(data, pos, name)?
        };
        let gcd_at = *pos;
        let gcd = get_uvarint(data, pos, name)?;
        if gcd == 0 || gcd > i64::MAX as u64 {
            return Err(ChunkError::BadField {
                field: name,
                offset: gcd_at,
                problem: "gcd out of range",
            });
        }
        let base = get_varint(data, pos, name)?;
        Ok(Stream {
            order,
            zigzag: mode & 4 != 0,
            k,
            first,
            param,
            gcd: gcd as i64,
            base,
        })
    }
}

/// Reads the uvarint at `*pos` of a stream header.
fn get_uvarint(data: &[u8], pos: &mut usize, field: &'static str) -> Result<u64, ChunkError> {
    let offset = *pos;
    uvarint(data, pos).map_err(|e| ChunkError::BadField {
        field,
        offset,
        problem: match e {
            VarintError::Truncated => "truncated varint",
            VarintError::Overflow => "varint longer than 64 bits",
        },
    })
}

fn get_varint(data: &[u8], pos: &mut usize, field: &'static str) -> Result<i64, ChunkError> {
    get_uvarint(data, pos, field).map(unzigzag)
}

/// Bits the code of `u` takes with Rice parameter `k`.
#[inline]
fn code_bits(u: u64, k: u8) -> u64 {
    let q = u >> k;
    if q < u64::from(ESCAPE) {
        q + 1 + u64::from(k)
    } else {
        ESCAPE_BITS
    }
}

#[inline]
fn write_code(w: &mut BitWriter, u: u64, k: u8) {
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
fn read_code(r: &mut BitReader, data: &[u8], k: u8) -> Option<u64> {
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

/// The residuals of `xs` (at least one element) under `order`, one per coded
/// sample, into `out`; returns the order's header parameter.
fn residuals(xs: &[i64], order: u8, out: &mut Vec<i64>) -> i64 {
    out.clear();
    let first = xs[0];
    match order {
        ORDER_LINE => {
            let span = xs[xs.len() - 1].wrapping_sub(first);
            let slope = if xs.len() > 1 {
                span / (xs.len() as i64 - 1)
            } else {
                0
            };
            let mut line = first;
            for &x in &xs[1..] {
                line = line.wrapping_add(slope);
                out.push(x.wrapping_sub(line));
            }
            slope
        }
        ORDER_DELTA => {
            out.extend(xs.windows(2).map(|w| w[1].wrapping_sub(w[0])));
            0
        }
        _ => {
            out.extend(xs.windows(3).map(|w| {
                w[2].wrapping_sub(w[1])
                    .wrapping_sub(w[1].wrapping_sub(w[0]))
            }));
            xs.get(1).map_or(0, |x1| x1.wrapping_sub(first))
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// The Rice parameter that minimizes the estimated size of the codes of values
/// whose bit lengths are counted in `hist` (index = bit length, 0 ..= 64), and
/// that estimate in quarter bits. A value of bit length `len > k` is taken to
/// have quotient `0.75 · 2^(len − k)`, the middle of its range. Only parameters
/// up to the longest bit length can be best (a larger `k` only adds bits).
fn estimate_k(hist: &[u32; 65]) -> (u8, u64) {
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
fn bit_lengths(qs: &[i64], s: &Stream) -> [u32; 65] {
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

/// Divides the residuals in `rs` by their greatest common divisor and returns it
/// (1 when all are 0, or when it would not fit an `i64`).
fn divide_gcd(rs: &mut [i64]) -> i64 {
    let mut g = 0u64;
    for &r in rs.iter() {
        // Most residuals are multiples of the gcd so far (page-sized byte
        // gauges): one division instead of a binary gcd's loop.
        if g > 1 && r.unsigned_abs() % g == 0 {
            continue;
        }
        g = gcd(g, r.unsigned_abs());
        if g == 1 {
            return 1;
        }
    }
    if g <= 1 || g > i64::MAX as u64 {
        return 1;
    }
    let g = g as i64;
    for r in rs.iter_mut() {
        *r /= g;
    }
    g
}

/// The decimal scale `s` (smallest that serves every value) and integers `m`
/// with `m as f64 / 10^s` bit for bit equal to each value, or `None` when some
/// value is not such a decimal (fractions beyond 22 digits, NaN, ±Inf, −0.0,
/// magnitudes beyond `i64`).
fn decimal(values: &[f64], out: &mut Vec<i64>) -> Option<u8> {
    let exact = |v: f64, s: u8| {
        let p = POW10[usize::from(s)];
        let x = v * p;
        // Both bounds exclude the values `as i64` would saturate to.
        if !(-9.2e18..9.2e18).contains(&x) {
            return None;
        }
        // Rounded to the nearest integer without a call to libm's `round`;
        // which way a tie goes does not matter, the check below decides.
        let m = x as i64;
        let m = match x - m as f64 {
            f if f >= 0.5 => m + 1,
            f if f <= -0.5 => m - 1,
            _ => m,
        };
        ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
    };
    let mut scale = 0u8;
    loop {
        // The smallest scale each value needs, and at least the ones before.
        for &v in values {
            while exact(v, scale).is_none() {
                scale += 1;
                if scale > MAX_SCALE {
                    return None;
                }
            }
        }
        // A value exact at a smaller scale is usually exact at a larger one too,
        // but not always (the larger integer may not convert exactly).
        out.clear();
        out.extend(values.iter().map_while(|&v| exact(v, scale)));
        if out.len() == values.len() {
            return Some(scale);
        }
        scale += 1;
        if scale > MAX_SCALE {
            return None;
        }
    }
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

/// Decoding state of one stream.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    s: Stream,
    /// The current integer.
    x: i64,
    /// [`ORDER_LINE`]: the prediction for the current sample; [`ORDER_DOD`]:
    /// the current delta.
    aux: i64,
}

impl Cursor {
    fn new(s: Stream) -> Self {
        let aux = match s.order {
            ORDER_LINE => s.first,
            ORDER_DOD => s.param,
            _ => 0,
        };
        Cursor { s, x: s.first, aux }
    }

    /// Moves to sample `i` (≥ 1), reading its code if it has one.
    #[inline(always)]
    fn advance(&mut self, i: u16, r: &mut BitReader, data: &[u8]) -> Option<()> {
        match self.s.order {
            ORDER_LINE => {
                let u = read_code(r, data, self.s.k)?;
                self.aux = self.aux.wrapping_add(self.s.param);
                self.x = self.aux.wrapping_add(self.s.unmap(u));
            }
            ORDER_DELTA => {
                let u = read_code(r, data, self.s.k)?;
                self.x = self.x.wrapping_add(self.s.unmap(u));
            }
            _ => {
                if i > 1 {
                    let u = read_code(r, data, self.s.k)?;
                    self.aux = self.aux.wrapping_add(self.s.unmap(u));
                }
                self.x = self.x.wrapping_add(self.aux);
            }
        }
        Some(())
    }
}

/// Iterates over the samples of a delta chunk. A malformed chunk never panics or
/// reads out of bounds: iteration stops and [`err`](Self::err) says what is wrong
/// and where. Bytes after the last sample are ignored.
#[derive(Debug, Clone)]
pub(crate) struct DeltaIter<B: AsRef<[u8]>> {
    bytes: B,
    r: BitReader,
    t: Cursor,
    v: Cursor,
    scale: u8,
    total: u16,
    read: u16,
    done: bool,
    err: Option<ChunkError>,
}

impl<B: AsRef<[u8]>> DeltaIter<B> {
    /// An iterator over the chunk in `bytes`, positioned before its first sample.
    /// A malformed header is reported by [`err`](Self::err) at once.
    pub(crate) fn new(bytes: B) -> Self {
        let placeholder = Cursor::new(Stream {
            order: ORDER_DELTA,
            zigzag: false,
            k: 0,
            first: 0,
            param: 0,
            gcd: 1,
            base: 0,
        });
        let mut it = DeltaIter {
            bytes,
            r: BitReader::new(HEADER_LEN),
            t: placeholder,
            v: placeholder,
            scale: RAW_BITS,
            total: 0,
            read: 0,
            done: false,
            err: None,
        };
        if let Err(e) = it.start() {
            it.err = Some(e);
            it.done = true;
        }
        it
    }

    fn start(&mut self) -> Result<(), ChunkError> {
        let data = self.bytes.as_ref();
        let Some(header) = data.first_chunk::<HEADER_LEN>() else {
            return Err(ChunkError::BadHeader { len: data.len() });
        };
        self.total = u16::from_be_bytes(*header);
        if self.total == 0 {
            return Ok(());
        }
        let mut pos = HEADER_LEN;
        let t = Stream::read_header(data, &mut pos, "timestamp stream header")?;
        let scale = *data.get(pos).ok_or(ChunkError::BadField {
            field: "value scale",
            offset: pos,
            problem: "truncated",
        })?;
        if scale > MAX_SCALE && scale != RAW_BITS {
            return Err(ChunkError::BadField {
                field: "value scale",
                offset: pos,
                problem: "neither 0 ..= 22 nor 255",
            });
        }
        pos += 1;
        let v = Stream::read_header(data, &mut pos, "value stream header")?;
        self.t = Cursor::new(t);
        self.v = Cursor::new(v);
        self.scale = scale;
        self.r = BitReader::new(pos);
        Ok(())
    }

    /// Number of samples the header announces.
    pub(crate) fn num_samples(&self) -> u16 {
        self.total
    }

    /// Advances to the first sample with timestamp `>= t` and returns it; never
    /// moves backwards (like [`XorIter::seek`](super::XorIter::seek)).
    pub(crate) fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if self.done {
            return None;
        }
        if self.read > 0 && self.t.x >= t {
            return Some(self.at());
        }
        loop {
            let sample = self.next()?;
            if sample.0 >= t {
                return Some(sample);
            }
        }
    }

    #[inline]
    fn at(&self) -> (i64, f64) {
        let v = if self.scale == RAW_BITS {
            f64::from_bits(self.v.x as u64)
        } else {
            // Division (not multiplication by 10^-scale, which is inexact) is
            // what the encoder checked round-trips.
            self.v.x as f64 / POW10[usize::from(self.scale)]
        };
        (self.t.x, v)
    }

    /// Why iteration stopped early, if it did.
    pub(crate) fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// Appends the remaining samples to `out`, as [`next`](Iterator::next)
    /// would give them, in one loop.
    pub(crate) fn read_all(&mut self, out: &mut Vec<(i64, f64)>) {
        if self.done {
            return;
        }
        out.reserve(usize::from(self.total - self.read));
        if self.read == 0 && self.total > 0 {
            self.read = 1;
            out.push(self.at());
        }
        while self.read < self.total {
            if !self.advance() {
                break;
            }
            self.read += 1;
            out.push(self.at());
        }
        self.done = true;
    }

    /// Decodes the sample after the current one. On a truncated stream records
    /// where and returns false.
    #[inline]
    fn advance(&mut self) -> bool {
        let data = self.bytes.as_ref();
        let start = self.r.bit_pos();
        let ok = self
            .t
            .advance(self.read, &mut self.r, data)
            .and_then(|()| self.v.advance(self.read, &mut self.r, data));
        if ok.is_none() {
            self.err = Some(ChunkError::Truncated {
                sample: self.read,
                offset: start / 8,
                len: data.len(),
            });
        }
        ok.is_some()
    }
}

impl<B: AsRef<[u8]>> Iterator for DeltaIter<B> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.done {
            return None;
        }
        if self.read == self.total {
            self.done = true;
            return None;
        }
        if self.read > 0 && !self.advance() {
            self.done = true;
            return None;
        }
        self.read += 1;
        Some(self.at())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(usize::from(self.total - self.read)))
        }
    }
}

#[cfg(test)]
mod tests;
