//! Bit streams: the writer and reader under every chunk encoding.
//!
//! Bits are written most significant first: the first bit of the stream is the
//! high bit of its first byte. The last byte of a stream may be partly used; its
//! unused low bits are zero. This is the order Prometheus's chunks use, so a
//! stream written here reads back in Prometheus and the other way round.
//!
//! Both sides work a word at a time. The writer ORs the head of a value into the
//! partly filled last byte and appends the rest as whole bytes in one copy. The
//! reader keeps up to 64 upcoming bits in a register and refills it with one
//! big-endian `u64` load while at least 8 bytes remain, so a read of up to 56 bits
//! is a shift and a mask.

use crate::model::varint::{MAX_LEN, VarintError, zigzag};

/// Appends bits to a byte buffer.
///
/// The buffer is the whole chunk, header included: the writer only ever appends
/// after the bytes it was given, so the caller may keep a header at the front and
/// update it in place.
#[derive(Debug, Clone)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Unused low bits of the last byte of `buf` (0..=7).
    free: u32,
}

impl BitWriter {
    /// A writer that appends after the bytes of `buf` (which end on a byte boundary).
    pub(crate) fn new(buf: Vec<u8>) -> Self {
        BitWriter { buf, free: 0 }
    }

    /// A writer over `buf` whose content ends after `bit_len` bits. Bytes past that
    /// point are dropped and the unused bits of the last byte are cleared, so later
    /// writes can OR into it.
    pub(crate) fn resume(mut buf: Vec<u8>, bit_len: usize) -> Self {
        let len = bit_len.div_ceil(8);
        buf.truncate(len);
        let free = (len * 8 - bit_len) as u32;
        if free > 0
            && let Some(last) = buf.last_mut()
        {
            *last &= !((1u8 << free) - 1);
        }
        BitWriter { buf, free }
    }

    /// Appends the low `n` bits of `value`, most significant first (`n` ≤ 64).
    #[inline]
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let mut n = n;
        let value = if n < 64 {
            value & ((1u64 << n) - 1)
        } else {
            value
        };
        if self.free > 0
            && let Some(last) = self.buf.last_mut()
        {
            if n <= self.free {
                *last |= (value << (self.free - n)) as u8;
                self.free -= n;
                return;
            }
            // The top `free` bits of the value complete the last byte.
            n -= self.free;
            *last |= (value >> n) as u8;
            self.free = 0;
        }
        // Byte aligned now; the low `n` (1..=64) bits of `value` remain.
        let word = value << (64 - n);
        let nbytes = n.div_ceil(8);
        if self.buf.capacity() - self.buf.len() < 8 {
            self.grow();
        }
        // A fixed 8-byte copy and a truncate beat a variable-length copy.
        let len = self.buf.len() + nbytes as usize;
        self.buf.extend_from_slice(&word.to_be_bytes());
        self.buf.truncate(len);
        self.free = nbytes * 8 - n;
    }

    /// Appends `x` as a uvarint, its bytes at the current bit position (the
    /// bytes of `model::varint`, not aligned to the stream's bytes).
    pub(crate) fn write_uvarint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.write_bits((x & 0x7f) | 0x80, 8);
            x >>= 7;
        }
        self.write_bits(x, 8);
    }

    /// Appends `x` as a zig-zag varint, like [`write_uvarint`](Self::write_uvarint).
    pub(crate) fn write_varint(&mut self, x: i64) {
        self.write_uvarint(zigzag(x));
    }

    /// Makes room for at least 8 more bytes. By an eighth (at least 32 bytes),
    /// not double: a head holds one open chunk buffer per series, and doubling
    /// would leave up to half of each unused (a 1.1 KB chunk of noisy floats in
    /// a 2 KB buffer). Capacities are kept 8 short of a multiple of 16, so that
    /// with malloc's 8-byte header the block is used to its end.
    #[cold]
    fn grow(&mut self) {
        let cap = self.buf.capacity();
        let want = (cap + (cap / 8).max(32)).max(self.buf.len() + 8);
        let cap = (want + 8).next_multiple_of(16) - 8;
        self.buf.reserve_exact(cap - self.buf.len());
    }

    /// Reads the last byte written, so that its cache line is on its way while
    /// the caller works on something else: the next append writes there. See
    /// `GroupWriter::append`.
    pub(crate) fn warm(&self) {
        std::hint::black_box(self.buf.last());
    }

    /// The bytes written so far, the last one zero-padded.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Mutable access to the bytes, for updating a header in place.
    #[inline]
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// Reads bits from a byte slice that the caller passes to every call, so the
/// reader itself holds no borrow (an iterator can own both the bytes and the
/// reader). Every read checks the end of the slice: running out returns `None`,
/// never reads out of bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BitReader {
    /// Index of the next byte to load into `buf`.
    pos: usize,
    /// Upcoming bits, left aligned. Below the `avail` valid bits `buf` holds either
    /// zeros or the true next bits of the stream (a refill ORs over them).
    buf: u64,
    /// Number of valid bits at the top of `buf` (0..=64).
    avail: u32,
}

impl BitReader {
    /// A reader positioned at byte `start`.
    pub(crate) fn new(start: usize) -> Self {
        BitReader {
            pos: start,
            buf: 0,
            avail: 0,
        }
    }

    /// Position of the next unread bit, counted in bits from the start of the slice.
    #[inline]
    pub(crate) fn bit_pos(&self) -> usize {
        self.pos * 8 - self.avail as usize
    }

    /// Loads bytes until at least 57 bits are valid or the slice ends.
    #[inline]
    fn refill(&mut self, data: &[u8]) {
        if self.avail > 56 {
            return;
        }
        if let Some(word) = data
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<8>())
        {
            // One load: take as many whole bytes as fit. The bits of the byte that
            // does not fit are correct stream bits below `avail`, so the next refill
            // ORs the same bits over them.
            self.buf |= u64::from_be_bytes(*word) >> self.avail;
            self.pos += ((63 - self.avail) >> 3) as usize;
            self.avail |= 56;
        } else {
            while self.avail <= 56 {
                let Some(&byte) = data.get(self.pos) else {
                    break;
                };
                self.buf |= u64::from(byte) << (56 - self.avail);
                self.avail += 8;
                self.pos += 1;
            }
        }
    }

    /// Reads `n` bits (1..=56).
    #[inline]
    pub(crate) fn read_bits(&mut self, data: &[u8], n: u32) -> Option<u64> {
        debug_assert!((1..=56).contains(&n));
        if self.avail < n {
            self.refill(data);
            if self.avail < n {
                return None;
            }
        }
        let value = self.buf >> (64 - n);
        self.buf <<= n;
        self.avail -= n;
        Some(value)
    }

    /// Reads `n` bits (1..=64).
    #[inline]
    pub(crate) fn read_bits_long(&mut self, data: &[u8], n: u32) -> Option<u64> {
        if n <= 56 {
            return self.read_bits(data, n);
        }
        let high = self.read_bits(data, n - 32)?;
        let low = self.read_bits(data, 32)?;
        Some((high << 32) | low)
    }

    /// Reads a uvarint written by [`BitWriter::write_uvarint`].
    pub(crate) fn read_uvarint(&mut self, data: &[u8]) -> Result<u64, VarintError> {
        let mut x = 0u64;
        for i in 0..MAX_LEN {
            let byte = self.read_bits(data, 8).ok_or(VarintError::Truncated)?;
            if byte < 0x80 {
                // The tenth byte may only carry the 64th bit (Go's rule).
                if i == MAX_LEN - 1 && byte > 1 {
                    return Err(VarintError::Overflow);
                }
                return Ok(x | (byte << (7 * i)));
            }
            x |= (byte & 0x7f) << (7 * i);
        }
        Err(VarintError::Overflow)
    }

    /// Reads a Rice code whose whole is in the register after one refill: a
    /// unary quotient `q` of fewer than `max_ones` ones ended by a `0`, then `k`
    /// (0..=63) low bits; returns `(q << k) | low`. `None`, with nothing
    /// consumed, when the quotient has `max_ones` ones (an escape) or the code
    /// is not all in the register: the caller then reads it field by field.
    /// One refill check and a few shifts per code, the common case of the
    /// delta encoding.
    #[inline]
    pub(crate) fn read_rice_buffered(&mut self, data: &[u8], k: u32, max_ones: u32) -> Option<u64> {
        debug_assert!(k < 64 && max_ones < 32);
        self.refill(data);
        let q = self.buf.leading_ones();
        let used = q + 1 + k;
        if q >= max_ones || used > self.avail {
            return None;
        }
        // Shifts split in two so that no shift is by 64 (k = 0, used = 64),
        // without branching.
        let low = ((self.buf << q) << 1) >> 1 >> (63 - k);
        self.buf = (self.buf << (used - 1)) << 1;
        self.avail -= used;
        Some((u64::from(q) << k) | low)
    }

    /// Reads a unary prefix of at most `max` (1..=32) bits: counts `1` bits up to and
    /// including the first `0`, or stops after `max` ones (no terminating `0` then).
    /// Returns the number of ones: `0` for `0`, `1` for `10`, ..., `max` for `1…1`.
    #[inline]
    pub(crate) fn read_prefix(&mut self, data: &[u8], max: u32) -> Option<u32> {
        debug_assert!((1..=32).contains(&max));
        if self.avail < max {
            self.refill(data);
        }
        // Bits past `avail` may be counted here, but then `used > avail` below.
        let ones = self.buf.leading_ones().min(max);
        let used = if ones == max { max } else { ones + 1 };
        if used > self.avail {
            return None;
        }
        self.buf <<= used;
        self.avail -= used;
        Some(ones)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writer_packs_msb_first_and_zero_pads() {
        let mut w = BitWriter::new(Vec::new());
        w.write_bits(0b1, 1);
        assert_eq!(w.bytes(), &[0b1000_0000]);
        w.write_bits(0b01, 2);
        assert_eq!(w.bytes(), &[0b1010_0000]);
        w.write_bits(0x1ff, 9);
        assert_eq!(w.bytes(), &[0b1011_1111, 0b1111_0000]);
        w.write_bits(u64::MAX, 64);
        assert_eq!(w.bytes().len(), 10);
        assert_eq!(w.bytes()[9], 0b1111_0000);
        // Bits above `n` are ignored.
        let mut w = BitWriter::new(vec![0xAA]);
        w.write_bits(0xF0, 4);
        assert_eq!(w.bytes(), &[0xAA, 0x00]);
    }

    #[test]
    fn resume_clears_padding_and_drops_trailing_bytes() {
        let w = BitWriter::resume(vec![0xFF, 0xFF, 0xFF], 12);
        assert_eq!(w.bytes(), &[0xFF, 0xF0]);
        let mut w = BitWriter::resume(vec![0xFF, 0xFF], 16);
        w.write_bits(1, 1);
        assert_eq!(w.bytes(), &[0xFF, 0xFF, 0x80]);
    }

    #[test]
    fn reader_stops_at_end_of_slice() {
        let data = [0xAB, 0xCD];
        let mut r = BitReader::new(0);
        assert_eq!(r.read_bits(&data, 12), Some(0xABC));
        assert_eq!(r.bit_pos(), 12);
        assert_eq!(r.read_bits(&data, 5), None);
        let mut r = BitReader::new(0);
        assert_eq!(r.read_bits_long(&data, 64), None);
        let mut r = BitReader::new(5);
        assert_eq!(r.read_prefix(&data, 4), None);
    }

    #[test]
    fn read_prefix_counts_ones() {
        // 0 | 10 | 110 | 1110 | 1111 | 1111, padded with 0s.
        let data = [0b0101_1011, 0b1011_1111, 0b1111_0000];
        let mut r = BitReader::new(0);
        let got: Vec<u32> = (0..6).map(|_| r.read_prefix(&data, 4).unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 4]);
        assert_eq!(r.bit_pos(), 18);
        // A lone `1` at the very end is an incomplete prefix.
        let mut r = BitReader::new(0);
        assert_eq!(r.read_bits(&[0b0000_0001], 7), Some(0));
        assert_eq!(r.read_prefix(&[0b0000_0001], 4), None);
    }

    #[test]
    fn read_rice_buffered_reads_whole_codes_or_nothing() {
        // 110 101 (q = 2, k = 3: 2 << 3 | 5 = 21), then 1111 (an escape at 4).
        let data = [0b1101_0111, 0b1100_0000];
        let mut r = BitReader::new(0);
        assert_eq!(r.read_rice_buffered(&data, 3, 4), Some(21));
        assert_eq!(r.bit_pos(), 6);
        assert_eq!(r.read_rice_buffered(&data, 3, 4), None);
        assert_eq!(r.bit_pos(), 6);
        assert_eq!(r.read_prefix(&data, 4), Some(4));
        // A code running past the end is not read.
        let mut r = BitReader::new(0);
        assert_eq!(r.read_rice_buffered(&[0b0111_1111], 8, 16), None);
        assert_eq!(r.bit_pos(), 0);
    }

    #[test]
    fn varints_are_the_bytes_of_model_varint_at_any_bit() {
        for shift in 0..8u32 {
            for v in [0, 1, 127, 128, 300, u64::MAX] {
                let mut w = BitWriter::new(Vec::new());
                w.write_bits(0, shift);
                w.write_uvarint(v);
                w.write_varint(-(v as i64));
                let data = w.into_vec();
                let mut r = BitReader::new(0);
                if shift > 0 {
                    r.read_bits(&data, shift);
                }
                assert_eq!(r.read_uvarint(&data), Ok(v), "{v} at bit {shift}");
                let z = r.read_uvarint(&data).map(crate::model::varint::unzigzag);
                assert_eq!(z, Ok(-(v as i64)));
                // Byte-aligned, the bytes are those of `append_uvarint`.
                if shift == 0 {
                    let mut want = Vec::new();
                    crate::model::varint::append_uvarint(&mut want, v);
                    assert_eq!(&data[..want.len()], &want[..]);
                }
            }
        }
        // Cut short, and a tenth byte above 1.
        let mut r = BitReader::new(0);
        assert_eq!(r.read_uvarint(&[0x80, 0x80]), Err(VarintError::Truncated));
        let mut ten = [0xffu8; 10];
        ten[9] = 2;
        let mut r = BitReader::new(0);
        assert_eq!(r.read_uvarint(&ten), Err(VarintError::Overflow));
    }

    proptest! {
        #[test]
        fn written_fields_read_back(
            fields in prop::collection::vec((any::<u64>(), 1u32..=64), 0..200),
            start in 0usize..4,
        ) {
            let mut w = BitWriter::new(vec![0x5A; start]);
            for &(v, n) in &fields {
                w.write_bits(v, n);
            }
            let total: usize = fields.iter().map(|&(_, n)| n as usize).sum();
            prop_assert_eq!(w.bytes().len(), start + total.div_ceil(8));
            let data = w.into_vec();
            let mut r = BitReader::new(start);
            for &(v, n) in &fields {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read_bits_long(&data, n), Some(v & mask));
            }
            prop_assert_eq!(r.bit_pos(), start * 8 + total);
        }
    }
}
