//! The segment file format shared by writer and reader: the file header, the
//! fixed parts of a record, segment file names and chunk references.

/// File header: magic and format version, then three zero bytes.
pub(super) const MAGIC: [u8; 4] = *b"TMBC";
pub(super) const VERSION: u8 = 1;
pub(super) const FILE_HEADER: u64 = 8;
/// The largest a segment may grow (and the default size of one).
pub const MAX_SEGMENT_SIZE: u64 = 512 << 20;
/// A record's fixed parts beside its data: the encoding byte and the CRC.
pub(super) const ENCODING: u64 = 1;
pub(super) const CRC: u64 = 4;
/// Segment numbers are six decimal digits in file names.
pub(super) const MAX_SEGMENTS: u32 = 999_999;

/// The file name of segment `n` (1-based).
pub fn chunk_segment_name(n: u32) -> String {
    format!("{n:06}")
}

pub(super) fn parse_segment_name(name: &str) -> Option<u32> {
    if name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// A chunk reference: segment number in the high 32 bits, offset of the record in
/// that segment in the low 32.
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

pub(super) fn split_ref(r: u64) -> (u32, u32) {
    ((r >> 32) as u32, r as u32)
}
