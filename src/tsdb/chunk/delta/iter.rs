//! Reading a chunk: the headers, then each sample's codes undone through its
//! stream's prediction.

use super::predict::{ORDER_DELTA, ORDER_DOD, ORDER_LINE, Stream};
use super::rice::read_code;
use super::values::{MAX_SCALE, POW10, RAW_BITS};
use crate::tsdb::chunk::bstream::BitReader;
use crate::tsdb::chunk::encoding::ChunkError;

/// Size of the sample-count header.
const HEADER_LEN: usize = 2;

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
    /// moves backwards (like [`XorIter::seek`](crate::tsdb::chunk::XorIter::seek)).
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

    /// The common factor of the value stream's residuals.
    #[cfg(test)]
    pub(super) fn value_gcd(&self) -> i64 {
        self.v.s.gcd
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
