//! Prediction: the residuals of an integer sequence under a prediction order,
//! their common factor, and the stream header that records how a sequence is
//! coded.

use crate::model::varint::{
    VarintError, append_uvarint, append_varint, unzigzag, uvarint, uvarint_len, zigzag,
};
use crate::tsdb::chunk::encoding::ChunkError;

/// Predicts each sample from a line through the first one: `first + i · slope`.
pub(super) const ORDER_LINE: u8 = 0;
/// Predicts each sample as the previous one.
pub(super) const ORDER_DELTA: u8 = 1;
/// Predicts each sample from the previous two (constant delta).
pub(super) const ORDER_DOD: u8 = 2;

/// How one integer sequence (the timestamps, or the values as integers) is coded:
/// everything its stream header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stream {
    pub(super) order: u8,
    /// Residuals are zigzag mapped (for signed residuals) rather than offset.
    pub(super) zigzag: bool,
    /// Rice parameter: the number of low bits written as they are.
    pub(super) k: u8,
    pub(super) first: i64,
    /// [`ORDER_LINE`]: the slope; [`ORDER_DOD`]: the first delta `x1 - x0`;
    /// [`ORDER_DELTA`]: not stored (0).
    pub(super) param: i64,
    /// Every residual is a multiple of `gcd` (1 ..= `i64::MAX`).
    pub(super) gcd: i64,
    /// Subtracted from each residual (after dividing by `gcd`) before coding.
    pub(super) base: i64,
}

impl Stream {
    /// Index of the first sample whose residual is in the bit stream; the ones
    /// before it are given by the header.
    pub(super) fn first_coded(&self) -> usize {
        if self.order == ORDER_DOD { 2 } else { 1 }
    }

    /// The unsigned code value of quotient `q` (a residual divided by `gcd`).
    #[inline]
    pub(super) fn map(&self, q: i64) -> u64 {
        let d = q.wrapping_sub(self.base);
        if self.zigzag { zigzag(d) } else { d as u64 }
    }

    /// The residual coded as `u`: the inverse of [`map`](Self::map).
    #[inline]
    pub(super) fn unmap(&self, u: u64) -> i64 {
        let d = if self.zigzag { unzigzag(u) } else { u as i64 };
        d.wrapping_add(self.base).wrapping_mul(self.gcd)
    }

    pub(super) fn write_header(&self, out: &mut Vec<u8>) {
        out.push(self.order | (u8::from(self.zigzag) << 2));
        out.push(self.k);
        append_varint(out, self.first);
        if self.order != ORDER_DELTA {
            append_varint(out, self.param);
        }
        append_uvarint(out, self.gcd as u64);
        append_varint(out, self.base);
    }

    pub(super) fn header_len(&self) -> usize {
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

    pub(super) fn read_header(
        data: &[u8],
        pos: &mut usize,
        name: &'static str,
    ) -> Result<Self, ChunkError> {
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

/// The residuals of `xs` (at least one element) under `order`, one per coded
/// sample, into `out`; returns the order's header parameter.
pub(super) fn residuals(xs: &[i64], order: u8, out: &mut Vec<i64>) -> i64 {
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

/// Divides the residuals in `rs` by their greatest common divisor and returns it
/// (1 when all are 0, or when it would not fit an `i64`).
pub(super) fn divide_gcd(rs: &mut [i64]) -> i64 {
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
