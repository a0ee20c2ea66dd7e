//! Varints as Go's `encoding/binary` writes them, for every format that stores
//! them (WAL records, index, chunk segment files, chunk headers, tombstones, the
//! head's postings lists and label ids).
//!
//! - A *uvarint* is unsigned LEB128: seven bits a byte, least significant group
//!   first, the high bit set on every byte but the last; at most
//!   [`MAX_LEN`] bytes, the tenth carrying only the 64th bit.
//! - A *varint* is a signed value [`zigzag`]-mapped (0, −1, 1, −2, … → 0, 1, 2,
//!   3, …) and written as a uvarint, so that small magnitudes of either sign
//!   stay short.
//!
//! Writers append to a `Vec` ([`append_uvarint`], [`append_varint`]) or fill a
//! slice with room for the longest varint ([`put_uvarint`]); the reader
//! ([`uvarint`], [`varint`]) moves a position past what it read and says why it
//! refused what it could not. The XOR chunk writes the same bytes into a bit
//! stream at any bit position: that copy is `BitWriter::write_uvarint` in
//! `tsdb::chunk`.

/// Most bytes a varint takes.
pub(crate) const MAX_LEN: usize = 10;

/// Why a varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarintError {
    /// The bytes end before the varint does.
    Truncated,
    /// Longer than ten bytes, or a tenth byte above 1: more than 64 bits.
    Overflow,
}

/// Maps a signed value to an unsigned one, small magnitudes to small values.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Bytes the uvarint of `v` takes.
#[inline]
pub(crate) fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `v` as a uvarint (Go's `binary.AppendUvarint`).
#[inline]
pub(crate) fn append_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as a zig-zag varint (Go's `binary.AppendVarint`).
#[inline]
pub(crate) fn append_varint(out: &mut Vec<u8>, v: i64) {
    append_uvarint(out, zigzag(v));
}

/// Writes `v` as a uvarint at the start of `out` and returns its length (Go's
/// `binary.PutUvarint`). `out` must have room for it: [`MAX_LEN`] bytes hold
/// any value.
#[inline]
pub(crate) fn put_uvarint(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = v as u8 | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// Reads the uvarint at `*pos` of `b` and moves `*pos` past it. On an error
/// `*pos` is left where it was.
#[inline]
pub(crate) fn uvarint(b: &[u8], pos: &mut usize) -> Result<u64, VarintError> {
    let start = *pos;
    let mut v = 0u64;
    for i in 0..MAX_LEN {
        let Some(&byte) = b.get(start + i) else {
            return Err(VarintError::Truncated);
        };
        if i == MAX_LEN - 1 && byte > 1 {
            return Err(VarintError::Overflow);
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *pos = start + i + 1;
            return Ok(v);
        }
    }
    Err(VarintError::Overflow)
}

/// Reads the zig-zag varint at `*pos` of `b`, as [`uvarint`] does.
#[inline]
pub(crate) fn varint(b: &[u8], pos: &mut usize) -> Result<i64, VarintError> {
    uvarint(b, pos).map(unzigzag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALUES: [u64; 11] = [
        0,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        1 << 32,
        u32::MAX as u64,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn bytes_are_go_s() {
        let cases: [(u64, &[u8]); 6] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            append_uvarint(&mut out, v);
            assert_eq!(out, want, "{v}");
            let mut buf = [0u8; MAX_LEN];
            let n = put_uvarint(&mut buf, v);
            assert_eq!(&buf[..n], want, "{v}");
            assert_eq!(uvarint_len(v), want.len(), "{v}");
        }
        // Zig-zag: 0, -1, 1, -2, 2 → 0, 1, 2, 3, 4.
        for (v, want) in [(0, 0), (-1, 1), (1, 2), (-2, 3), (2, 4)] {
            assert_eq!(zigzag(v), want);
            let mut out = Vec::new();
            append_varint(&mut out, v);
            assert_eq!(out, [want as u8]);
        }
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        assert_eq!(zigzag(i64::MAX), u64::MAX - 1);
    }

    #[test]
    fn round_trip_and_the_position_moves_past_each() {
        let mut out = Vec::new();
        for v in VALUES {
            append_uvarint(&mut out, v);
            append_varint(&mut out, v as i64);
        }
        let mut pos = 0;
        for v in VALUES {
            assert_eq!(uvarint(&out, &mut pos), Ok(v));
            assert_eq!(varint(&out, &mut pos), Ok(v as i64));
        }
        assert_eq!(pos, out.len());
        assert_eq!(uvarint(&out, &mut pos), Err(VarintError::Truncated));
        assert_eq!(pos, out.len());
    }

    #[test]
    fn cut_short_and_overlong_ones_are_refused() {
        for v in VALUES {
            let mut buf = [0u8; MAX_LEN];
            let n = put_uvarint(&mut buf, v);
            let mut pos = 0;
            assert_eq!(uvarint(&buf[..n], &mut pos), Ok(v));
            assert_eq!(pos, n);
            pos = 0;
            assert_eq!(
                uvarint(&buf[..n - 1], &mut pos),
                Err(VarintError::Truncated)
            );
            assert_eq!(pos, 0, "an error leaves the position");
        }
        assert_eq!(uvarint(&[], &mut 0), Err(VarintError::Truncated));
        assert_eq!(uvarint(&[0x80], &mut 0), Err(VarintError::Truncated));
        assert_eq!(uvarint(&[0xff; 9], &mut 0), Err(VarintError::Truncated));
        assert_eq!(uvarint(&[0xff; 11], &mut 0), Err(VarintError::Overflow));
        let mut ten = [0xff; 10];
        ten[9] = 2;
        assert_eq!(uvarint(&ten, &mut 0), Err(VarintError::Overflow));
        ten[9] = 1;
        assert_eq!(uvarint(&ten, &mut 0), Ok(u64::MAX));
        // Reading starts at the position.
        let mut pos = 2;
        assert_eq!(uvarint(&[0xff, 0xff, 0x05], &mut pos), Ok(5));
        assert_eq!(pos, 3);
    }

    proptest! {
        #[test]
        fn any_value_round_trips(v in any::<u64>(), s in any::<i64>()) {
            let mut out = Vec::new();
            append_uvarint(&mut out, v);
            prop_assert_eq!(out.len(), uvarint_len(v));
            append_varint(&mut out, s);
            let mut pos = 0;
            prop_assert_eq!(uvarint(&out, &mut pos), Ok(v));
            prop_assert_eq!(varint(&out, &mut pos), Ok(s));
            prop_assert_eq!(pos, out.len());
            prop_assert_eq!(unzigzag(zigzag(s)), s);
        }
    }
}
