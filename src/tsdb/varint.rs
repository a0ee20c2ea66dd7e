//! Unsigned LEB128 varints (Go's `binary.PutUvarint`), for the structures that
//! write them into a `Vec`: tombstone files, the head's postings lists and label
//! ids.

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads an unsigned LEB128 varint at `*pos` and moves `*pos` past it; `None`
/// if it is cut short or longer than 64 bits.
pub(crate) fn uvarint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let byte = *b.get(*pos + i)?;
        if i == 9 && byte > 1 {
            return None;
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *pos += i + 1;
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_ones_are_refused() {
        let mut out = Vec::new();
        let values = [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        for v in values {
            put_uvarint(&mut out, v);
        }
        let mut pos = 0;
        for v in values {
            assert_eq!(uvarint(&out, &mut pos), Some(v));
        }
        assert_eq!(pos, out.len());
        // Cut short, and 11 bytes long.
        assert_eq!(uvarint(&[0x80], &mut 0), None);
        assert_eq!(uvarint(&[0xff; 11], &mut 0), None);
        assert_eq!(
            uvarint(
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                &mut 0
            ),
            None
        );
    }
}
