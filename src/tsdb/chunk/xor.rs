//! The XOR chunk encoding, bit for bit as Prometheus writes it (`chunkenc.EncXOR`).
//!
//! ```text
//! chunk   = count:u16 (big endian) · stream · zero padding to a byte
//! sample0 = t: varint (zigzag) · v: 64 bits
//! sample1 = t - t0: uvarint · value
//! sampleN = delta-of-delta · value
//! dod     = 0 | 10 +14 bits | 110 +17 bits | 1110 +20 bits | 1111 +64 bits
//! value   = 0 (same) | 10 + bits in the current window | 11 + leading:5 + sigbits:6 + bits
//! ```
//!
//! Timestamp arithmetic wraps (two's complement, like Go's), so encode → decode is
//! the identity for any `i64` sequence, including deltas that overflow. See
//! `docs/format/chunks.md` for the full specification.

use super::bstream::{BitReader, BitWriter};
use super::encoding::ChunkError;
use crate::model::varint::{VarintError, unzigzag};

/// Size of the sample-count header.
const HEADER_LEN: usize = 2;
/// Initial capacity of a new chunk: a 120-sample chunk is typically 150–250 bytes
/// (8 short of a multiple of 16: see `BitWriter::grow`).
const INITIAL_CAPACITY: usize = 120;
/// `leading` value meaning "no value window chosen yet": the next changed value
/// always opens a new window.
const NO_WINDOW: u8 = 0xff;

/// Whether `dod` fits the `nbits` bucket: `-(2^(nbits-1) - 1) ..= 2^(nbits-1)`.
/// The range is shifted up by one from plain two's complement; the reader maps a
/// field above `2^(nbits-1)` to a negative value and `2^(nbits-1)` itself to a
/// positive one.
#[inline]
fn fits(dod: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= dod && dod <= half
}

/// Builds an XOR chunk one sample at a time.
///
/// [`bytes`](Self::bytes) is a complete, readable chunk after every append: the
/// header always holds the current sample count.
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    num: u16,
    t: i64,
    /// Bits of the last value.
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    /// An empty chunk: just the header, counting 0 samples.
    pub fn new() -> Self {
        Self::with_buffer(Vec::with_capacity(INITIAL_CAPACITY))
    }

    /// An empty chunk written into `buf` (cleared first). Passing the buffer of
    /// the previous chunk of a series saves an allocation, and the reallocations
    /// of growing a fresh buffer, on every chunk cut.
    pub fn with_buffer(mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.extend_from_slice(&[0, 0]);
        XorAppender {
            w: BitWriter::new(buf),
            num: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Resumes appending to an existing chunk. The chunk is decoded to rebuild the
    /// encoder state; appending to the result gives the same bytes as if every
    /// sample had been appended to one appender.
    ///
    /// Fails if the chunk does not decode, or has bytes after its last sample (except
    /// the single zero byte Prometheus 2.x left after a stream ending on a byte
    /// boundary, which is dropped). Unused padding bits in the last byte are cleared.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ChunkError> {
        let mut it = XorIter::new(bytes.as_slice());
        for _ in it.by_ref() {}
        if let Some(err) = it.err() {
            return Err(err.clone());
        }
        let (d, num) = (it.dec, it.total);
        let end_bits = d.r.bit_pos();
        let end = end_bits.div_ceil(8);
        // Prometheus 2.x left one empty byte after a stream that ended on a byte
        // boundary; drop it.
        let v2_padding = end_bits % 8 == 0 && bytes.len() == end + 1 && bytes[end] == 0;
        if bytes.len() != end && !v2_padding {
            return Err(ChunkError::TrailingBytes {
                samples: num,
                end,
                len: bytes.len(),
            });
        }
        Ok(XorAppender {
            w: BitWriter::resume(bytes, end_bits),
            num,
            t: d.t,
            v: d.v,
            t_delta: d.t_delta,
            // Prometheus's decoder starts from a 0/0 window, but its encoder starts
            // with none; keep that distinction so a resumed appender writes the
            // same bits as an uninterrupted one.
            leading: if d.window { d.leading } else { NO_WINDOW },
            trailing: d.trailing,
        })
    }

    /// Appends a sample. The caller keeps `t` strictly increasing (the encoding
    /// itself round-trips any `t` sequence). Never panics.
    ///
    /// A chunk holds at most `u16::MAX` samples (the header is 16 bits); an append
    /// to a full chunk ([`is_full`](Self::is_full)) is ignored.
    pub fn append(&mut self, t: i64, v: f64) {
        let vbits = v.to_bits();
        match self.num {
            0 => {
                self.w.write_varint(t);
                self.w.write_bits(vbits, 64);
            }
            1 => {
                let t_delta = (t as u64).wrapping_sub(self.t as u64);
                self.w.write_uvarint(t_delta);
                self.write_value(vbits);
                self.t_delta = t_delta;
            }
            u16::MAX => return,
            _ => {
                let t_delta = (t as u64).wrapping_sub(self.t as u64);
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                let field = dod as u64;
                if dod == 0 {
                    self.w.write_bits(0b0, 1);
                } else if fits(dod, 14) {
                    self.w.write_bits((0b10 << 14) | (field & 0x3fff), 16);
                } else if fits(dod, 17) {
                    self.w.write_bits((0b110 << 17) | (field & 0x1_ffff), 20);
                } else if fits(dod, 20) {
                    self.w.write_bits((0b1110 << 20) | (field & 0xf_ffff), 24);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(field, 64);
                }
                self.write_value(vbits);
                self.t_delta = t_delta;
            }
        }
        self.t = t;
        self.v = vbits;
        self.num += 1;
        self.w.bytes_mut()[..HEADER_LEN].copy_from_slice(&self.num.to_be_bytes());
    }

    /// Writes the XOR of `vbits` with the previous value.
    #[inline]
    fn write_value(&mut self, vbits: u64) {
        let delta = vbits ^ self.v;
        if delta == 0 {
            self.w.write_bits(0b0, 1);
            return;
        }
        // Five bits hold the leading-zero count, so it is capped at 31 (the window
        // then simply starts with a few zero bits).
        let leading = (delta.leading_zeros() as u8).min(31);
        let trailing = delta.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            // The changed bits fit the current window.
            let n = 64 - u32::from(self.leading) - u32::from(self.trailing);
            let bits = delta >> self.trailing;
            if n <= 62 {
                self.w.write_bits((0b10 << n) | bits, n + 2);
            } else {
                self.w.write_bits(0b10, 2);
                self.w.write_bits(bits, n);
            }
        } else {
            self.leading = leading;
            self.trailing = trailing;
            let sigbits = 64 - u32::from(leading) - u32::from(trailing);
            // sigbits is 1..=64; 64 does not fit six bits and is written as 0.
            let head = (0b11 << 11) | (u64::from(leading) << 6) | u64::from(sigbits & 0x3f);
            let bits = delta >> trailing;
            if sigbits <= 51 {
                self.w.write_bits((head << sigbits) | bits, 13 + sigbits);
            } else {
                self.w.write_bits(head, 13);
                self.w.write_bits(bits, sigbits);
            }
        }
    }

    /// Number of samples in the chunk.
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Whether the chunk holds `u16::MAX` samples and takes no more.
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// The chunk so far, in Prometheus's layout (header included).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// The chunk bytes, consuming the appender.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_vec()
    }

    /// Touches the byte the next sample is written to (see `BitWriter::warm`).
    pub(crate) fn warm(&self) {
        self.w.warm();
    }

    /// Heap memory held by the chunk (its buffer capacity), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.w.capacity()
    }

    /// Timestamp of the first sample, read back from the chunk (kept nowhere
    /// else: the head holds an appender per series).
    pub fn first_t(&self) -> Option<i64> {
        XorIter::new(self.w.bytes()).next().map(|(t, _)| t)
    }

    /// Timestamp of the last sample.
    pub fn last_t(&self) -> Option<i64> {
        (self.num > 0).then_some(self.t)
    }
}

/// What went wrong inside one sample; [`XorIter`] adds where.
enum Fault {
    Truncated,
    BadVarint,
    BadValueWindow { leading: u8, sigbits: u8 },
}

/// Decoder state, apart from the bytes so that both can be borrowed at once.
#[derive(Debug, Clone, Copy)]
struct Decoder {
    r: BitReader,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    /// Whether a `11` value header has set the window. Decoding treats "no window"
    /// as leading = trailing = 0, as Prometheus does.
    window: bool,
}

impl Decoder {
    fn new() -> Self {
        Decoder {
            r: BitReader::new(HEADER_LEN),
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            window: false,
        }
    }

    fn read_uvarint(&mut self, data: &[u8]) -> Result<u64, Fault> {
        self.r.read_uvarint(data).map_err(|e| match e {
            VarintError::Truncated => Fault::Truncated,
            VarintError::Overflow => Fault::BadVarint,
        })
    }

    fn read_first(&mut self, data: &[u8]) -> Result<(), Fault> {
        let t = unzigzag(self.read_uvarint(data)?);
        let v = self.r.read_bits_long(data, 64).ok_or(Fault::Truncated)?;
        self.t = t;
        self.v = v;
        Ok(())
    }

    fn read_second(&mut self, data: &[u8]) -> Result<(), Fault> {
        let t_delta = self.read_uvarint(data)?;
        self.read_value(data)?;
        self.t_delta = t_delta;
        self.t = self.t.wrapping_add(t_delta as i64);
        Ok(())
    }

    #[inline]
    fn read_next(&mut self, data: &[u8]) -> Result<(), Fault> {
        let dod = match self.r.read_prefix(data, 4).ok_or(Fault::Truncated)? {
            0 => 0,
            4 => self.r.read_bits_long(data, 64).ok_or(Fault::Truncated)? as i64,
            ones => {
                let size = [14, 17, 20][ones as usize - 1];
                let field = self.r.read_bits(data, size).ok_or(Fault::Truncated)?;
                if field > 1 << (size - 1) {
                    field as i64 - (1i64 << size)
                } else {
                    field as i64
                }
            }
        };
        self.read_value(data)?;
        self.t_delta = self.t_delta.wrapping_add(dod as u64);
        self.t = self.t.wrapping_add(self.t_delta as i64);
        Ok(())
    }

    #[inline]
    fn read_value(&mut self, data: &[u8]) -> Result<(), Fault> {
        match self.r.read_prefix(data, 2).ok_or(Fault::Truncated)? {
            0 => return Ok(()),
            1 => {}
            _ => {
                let head = self.r.read_bits(data, 11).ok_or(Fault::Truncated)?;
                let leading = (head >> 6) as u8;
                let sigbits = match (head & 0x3f) as u8 {
                    0 => 64,
                    n => n,
                };
                if leading + sigbits > 64 {
                    return Err(Fault::BadValueWindow { leading, sigbits });
                }
                self.leading = leading;
                self.trailing = 64 - leading - sigbits;
                self.window = true;
            }
        }
        // 1..=64 bits: leading + trailing < 64 whenever a window is set.
        let n = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = self.r.read_bits_long(data, n).ok_or(Fault::Truncated)?;
        self.v ^= bits << self.trailing;
        Ok(())
    }
}

/// Iterates over the samples of an XOR chunk.
///
/// Works over any byte container. A malformed chunk never panics or reads out of
/// bounds: iteration stops and [`err`](Self::err) says what is wrong and where.
/// Iteration also stops after the number of samples in the header.
#[derive(Debug, Clone)]
pub struct XorIter<B: AsRef<[u8]>> {
    bytes: B,
    dec: Decoder,
    total: u16,
    read: u16,
    done: bool,
    err: Option<ChunkError>,
}

impl<B: AsRef<[u8]>> XorIter<B> {
    /// An iterator over the chunk in `bytes`, positioned before its first sample.
    pub fn new(bytes: B) -> Self {
        let mut it = XorIter {
            bytes,
            dec: Decoder::new(),
            total: 0,
            read: 0,
            done: false,
            err: None,
        };
        it.start();
        it
    }

    /// Points the iterator at another chunk, keeping nothing of the previous one.
    /// Does not allocate.
    pub fn reset(&mut self, bytes: B) {
        self.bytes = bytes;
        self.dec = Decoder::new();
        self.read = 0;
        self.done = false;
        self.err = None;
        self.start();
    }

    fn start(&mut self) {
        let data = self.bytes.as_ref();
        match data.first_chunk::<HEADER_LEN>() {
            Some(header) => self.total = u16::from_be_bytes(*header),
            None => {
                self.total = 0;
                self.done = true;
                self.err = Some(ChunkError::BadHeader { len: data.len() });
            }
        }
    }

    /// Number of samples the header announces.
    pub fn num_samples(&self) -> u16 {
        self.total
    }

    /// Advances to the first sample with timestamp `>= t` and returns it. Never
    /// moves backwards: if the current sample already has timestamp `>= t` it is
    /// returned again. Returns `None` once the chunk is exhausted or on error.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if self.done {
            return None;
        }
        if self.read > 0 && self.dec.t >= t {
            return Some(self.at());
        }
        loop {
            let sample = self.next()?;
            if sample.0 >= t {
                return Some(sample);
            }
        }
    }

    /// The current sample: the one `next()` or `seek()` last returned. Before the
    /// first sample it is `(0, 0.0)`; after the end it stays on the last sample.
    pub fn at(&self) -> (i64, f64) {
        (self.dec.t, f64::from_bits(self.dec.v))
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }
}

impl<B: AsRef<[u8]>> Iterator for XorIter<B> {
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
        let data = self.bytes.as_ref();
        let start = self.dec.r.bit_pos();
        let result = match self.read {
            0 => self.dec.read_first(data),
            1 => self.dec.read_second(data),
            _ => self.dec.read_next(data),
        };
        match result {
            Ok(()) => {
                self.read += 1;
                Some(self.at())
            }
            Err(fault) => {
                let (sample, offset) = (self.read, start / 8);
                self.err = Some(match fault {
                    Fault::Truncated => ChunkError::Truncated {
                        sample,
                        offset,
                        len: data.len(),
                    },
                    Fault::BadVarint => ChunkError::BadVarint { sample, offset },
                    Fault::BadValueWindow { leading, sigbits } => ChunkError::BadValueWindow {
                        sample,
                        offset,
                        leading,
                        sigbits,
                    },
                });
                self.done = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, Some(usize::from(self.total - self.read)))
        }
    }
}

impl<B: AsRef<[u8]>> std::iter::FusedIterator for XorIter<B> {}

#[cfg(test)]
mod promtool_tests;
#[cfg(test)]
mod tests;
