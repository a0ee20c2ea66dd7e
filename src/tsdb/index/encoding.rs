//! Layout constants and the byte-level helpers shared by writer and reader.

use super::error::{IndexError, Section};
use crate::model::varint::{VarintError, unzigzag, uvarint};

/// The first four bytes of an index file.
pub const INDEX_MAGIC: [u8; 4] = *b"TMIX";
/// The format version this code writes and reads.
pub const INDEX_VERSION: u8 = 1;
/// Magic (4 bytes) and version (1 byte).
pub(super) const HEADER_LEN: u64 = 5;
/// Six section offsets (u64 each) and a CRC-32.
pub(super) const TOC_LEN: u64 = 6 * 8 + 4;
/// Bytes of a CRC-32.
pub(super) const CRC_LEN: usize = 4;
/// One symbol in this many has its offset kept in memory by the reader.
pub(super) const SYMBOL_BLOCK: u32 = 32;
/// Bytes of an entry of the label values table: value ref u32, postings offset u64.
pub(super) const VALUE_ENTRY_LEN: u64 = 12;
/// Bytes of an entry of the label names table: name ref u32, first value u32.
pub(super) const NAME_ENTRY_LEN: u64 = 8;
/// Bytes of an entry of the series table: series offset u64.
pub(super) const SERIES_ENTRY_LEN: u64 = 8;
/// The smallest series entry: no labels (1 byte), no chunks (1 byte), CRC.
pub(super) const MIN_SERIES_ENTRY: u64 = 2 + CRC_LEN as u64;
/// The smallest postings list: count (1 byte), one id (1 byte), CRC.
pub(super) const MIN_POSTINGS_ENTRY: u64 = 2 + CRC_LEN as u64;

/// Appends the CRC-32 of `buf[from..]` to `buf`.
pub(super) fn put_crc(buf: &mut Vec<u8>, from: usize) {
    let crc = crc32fast::hash(&buf[from..]);
    buf.extend_from_slice(&crc.to_be_bytes());
}

/// A corruption error.
pub(super) fn corrupt(section: Section, offset: u64, reason: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        section,
        offset,
        reason: reason.into(),
    }
}

/// Checks the CRC-32 in the last four bytes of `data` (which starts at file offset
/// `base`) and returns the bytes it covers.
pub(super) fn check_crc<'a>(
    data: &'a [u8],
    base: u64,
    section: Section,
    what: &str,
) -> Result<&'a [u8], IndexError> {
    let Some(body_len) = data.len().checked_sub(CRC_LEN) else {
        return Err(corrupt(
            section,
            base,
            format!("{what} of {} bytes is too short for its CRC", data.len()),
        ));
    };
    let (body, crc) = data.split_at(body_len);
    let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(corrupt(
            section,
            base + body_len as u64,
            format!("{what}: CRC mismatch (stored {stored:#010x}, computed {actual:#010x})"),
        ));
    }
    Ok(body)
}

/// A cursor over bytes read from the index that reports what it failed to read,
/// and where (as a file offset).
pub(super) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    section: Section,
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf`, which starts at file offset `base`.
    pub(super) fn new(buf: &'a [u8], base: u64, section: Section) -> Cursor<'a> {
        Cursor {
            buf,
            pos: 0,
            base,
            section,
        }
    }

    /// The file offset of the next byte.
    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(super) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// A corruption error at `offset`.
    pub(super) fn corrupt_at(&self, offset: u64, reason: impl Into<String>) -> IndexError {
        corrupt(self.section, offset, reason)
    }

    /// Fails unless every byte was read.
    pub(super) fn expect_end(&self, what: &str) -> Result<(), IndexError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.corrupt_at(
                self.offset(),
                format!("{} unexpected bytes after the {what}", self.remaining()),
            ))
        }
    }

    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], IndexError> {
        if n > self.remaining() {
            return Err(self.corrupt_at(
                self.offset(),
                format!("{what} needs {n} bytes, {} left", self.remaining()),
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(super) fn u32(&mut self, what: &str) -> Result<u32, IndexError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn u64(&mut self, what: &str) -> Result<u64, IndexError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// An unsigned LEB128 value of at most 10 bytes (the 10th at most 1).
    pub(super) fn uvarint(&mut self, what: &str) -> Result<u64, IndexError> {
        let start = self.offset();
        uvarint(self.buf, &mut self.pos).map_err(|e| {
            let problem = match e {
                VarintError::Truncated => "varint cut short",
                VarintError::Overflow => "varint longer than 64 bits",
            };
            self.corrupt_at(start, format!("{what}: {problem}"))
        })
    }

    /// A zig-zag encoded signed varint.
    pub(super) fn varint(&mut self, what: &str) -> Result<i64, IndexError> {
        self.uvarint(what).map(unzigzag)
    }

    /// A uvarint that must fit in 32 bits.
    pub(super) fn uvarint_u32(&mut self, what: &str) -> Result<u32, IndexError> {
        let at = self.offset();
        let v = self.uvarint(what)?;
        u32::try_from(v).map_err(|_| self.corrupt_at(at, format!("{what} {v} exceeds 32 bits")))
    }

    /// The bytes of a length-prefixed string, and the offset of its prefix.
    fn prefixed(&mut self, what: &str) -> Result<(&'a [u8], u64), IndexError> {
        let at = self.offset();
        let len = self.uvarint(what)?;
        if len > self.remaining() as u64 {
            return Err(self.corrupt_at(
                at,
                format!("{what} of {len} bytes, {} left", self.remaining()),
            ));
        }
        Ok((self.take(len as usize, what)?, at))
    }

    /// Moves past a length-prefixed string without looking at its bytes.
    pub(super) fn skip_str(&mut self, what: &str) -> Result<(), IndexError> {
        self.prefixed(what).map(|_| ())
    }

    /// Moves past `n` length-prefixed strings. Strings under 128 bytes (one
    /// length byte: nearly all symbols) are stepped over without the general
    /// varint and error paths.
    pub(super) fn skip_strs(&mut self, n: u32, what: &str) -> Result<(), IndexError> {
        for _ in 0..n {
            match self.buf.get(self.pos) {
                Some(&len) if len < 0x80 && usize::from(len) < self.remaining() => {
                    self.pos += 1 + usize::from(len);
                }
                _ => self.skip_str(what)?,
            }
        }
        Ok(())
    }

    /// A length-prefixed UTF-8 string.
    pub(super) fn str(&mut self, what: &str) -> Result<&'a str, IndexError> {
        let (bytes, at) = self.prefixed(what)?;
        std::str::from_utf8(bytes)
            .map_err(|_| self.corrupt_at(at, format!("{what} is not valid UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::varint::{append_uvarint, append_varint};

    #[test]
    fn varints_round_trip() {
        let values = [0i64, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 40];
        let mut buf = Vec::new();
        for &v in &values {
            append_varint(&mut buf, v);
            append_uvarint(&mut buf, v as u64);
        }
        let mut c = Cursor::new(&buf, 100, Section::Series);
        for &v in &values {
            assert_eq!(c.varint("v").expect("varint"), v);
            assert_eq!(c.uvarint("u").expect("uvarint"), v as u64);
        }
        assert!(c.is_empty());
    }

    #[test]
    fn overlong_varints_are_errors() {
        let eleven = [0x80u8; 10];
        let mut c = Cursor::new(&eleven, 7, Section::Postings);
        assert!(matches!(
            c.uvarint("x"),
            Err(IndexError::Corrupt { offset: 7, .. })
        ));
        let tenth_too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(
            Cursor::new(&tenth_too_big, 0, Section::Series)
                .uvarint("x")
                .is_err()
        );
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(
            Cursor::new(&max, 0, Section::Series)
                .uvarint("x")
                .expect("max"),
            u64::MAX
        );
    }

    #[test]
    fn skip_strs_steps_over_short_and_long_strings_and_stops_at_the_end() {
        let mut buf = Vec::new();
        for s in ["", "abc", &"x".repeat(200), "last"] {
            append_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
        }
        let mut c = Cursor::new(&buf, 0, Section::Symbols);
        c.skip_strs(3, "symbol").expect("skip");
        assert_eq!(c.str("symbol").expect("str"), "last");
        let mut c = Cursor::new(&buf, 0, Section::Symbols);
        assert!(c.skip_strs(5, "symbol").is_err());
        // A length byte promising more than is left.
        let mut c = Cursor::new(&[3, b'a', b'b'], 0, Section::Symbols);
        assert!(c.skip_strs(1, "symbol").is_err());
    }
}
