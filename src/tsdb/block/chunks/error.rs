//! Errors of the chunk segment files.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::segment::{FILE_HEADER, MAGIC, MAX_SEGMENT_SIZE, MAX_SEGMENTS, VERSION};

/// Errors writing or reading chunk segment files. Each names the file, and where
/// it matters the byte offset in it.
#[derive(Debug, thiserror::Error)]
pub enum ChunkFileError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} offset {offset}: {source}", path.display())]
    IoAt {
        path: PathBuf,
        offset: u64,
        source: io::Error,
    },
    /// The bytes on disk (or the reference into them) are not a valid record.
    #[error("{} offset {offset}: {problem}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        problem: ChunkCorruption,
    },
    /// The writer refused a chunk; nothing was written.
    #[error("{} offset {offset}: {problem}", path.display())]
    Rejected {
        path: PathBuf,
        offset: u64,
        problem: ChunkRejection,
    },
}

/// What is wrong with a segment file or a record in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkCorruption {
    /// The file is shorter than its header.
    ShortHeader {
        len: u64,
    },
    BadMagic([u8; 4]),
    BadVersion(u8),
    /// The three bytes after the version are not zero.
    BadHeaderPadding([u8; 3]),
    /// A segment number is missing from the directory, or a reference names a
    /// segment the block does not have.
    NoSuchSegment {
        segments: u32,
    },
    /// The reference points into the file header.
    InHeader,
    /// The reference is at or past the end of the file.
    PastEnd {
        file_len: u64,
    },
    /// The length varint is cut short by the end of the file, longer than 10
    /// bytes, or overflows.
    BadLength,
    /// The record's length runs past the end of the file.
    RecordPastEnd {
        len: u64,
        file_len: u64,
    },
    CrcMismatch {
        stored: u32,
        computed: u32,
    },
    /// Encoding byte 0, which is never written.
    InvalidEncoding,
}

impl fmt::Display for ChunkCorruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkCorruption::ShortHeader { len } => write!(
                f,
                "file of {len} bytes is shorter than the {FILE_HEADER}-byte segment header"
            ),
            ChunkCorruption::BadMagic(m) => write!(
                f,
                "bad magic {m:02x?}, expected {MAGIC:02x?} (\"TMBC\"): not a chunk segment file"
            ),
            ChunkCorruption::BadVersion(v) => write!(
                f,
                "unsupported chunk segment format version {v} (this build reads {VERSION})"
            ),
            ChunkCorruption::BadHeaderPadding(p) => {
                write!(f, "segment header bytes 5..8 are {p:02x?}, not zero")
            }
            ChunkCorruption::NoSuchSegment { segments } => {
                write!(f, "no such chunk segment (the block has {segments})")
            }
            ChunkCorruption::InHeader => {
                write!(f, "chunk reference points into the segment header")
            }
            ChunkCorruption::PastEnd { file_len } => write!(
                f,
                "chunk reference past the end of the {file_len}-byte segment"
            ),
            ChunkCorruption::BadLength => write!(f, "malformed chunk length varint"),
            ChunkCorruption::RecordPastEnd { len, file_len } => write!(
                f,
                "chunk of {len} bytes runs past the end of the {file_len}-byte segment"
            ),
            ChunkCorruption::CrcMismatch { stored, computed } => write!(
                f,
                "CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            ChunkCorruption::InvalidEncoding => write!(f, "chunk encoding byte 0 is invalid"),
        }
    }
}

/// Why the writer refused a chunk or an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkRejection {
    /// The record would not fit even in an empty segment.
    TooLarge { len: usize, segment_size: u64 },
    /// Encoding byte 0 is never written.
    InvalidEncoding,
    /// Segment numbers have six digits.
    TooManySegments,
    /// The configured segment size is not in `9..=512 MiB`.
    BadSegmentSize(u64),
    /// An earlier write or fsync failed: what is on disk is incomplete.
    Failed,
}

impl fmt::Display for ChunkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkRejection::TooLarge { len, segment_size } => write!(
                f,
                "chunk of {len} bytes does not fit in a segment of {segment_size} bytes"
            ),
            ChunkRejection::InvalidEncoding => write!(f, "chunk encoding byte 0 is invalid"),
            ChunkRejection::TooManySegments => {
                write!(f, "more than {MAX_SEGMENTS} chunk segments in one block")
            }
            ChunkRejection::BadSegmentSize(s) => write!(
                f,
                "segment size {s} is not between {} and {MAX_SEGMENT_SIZE} bytes",
                FILE_HEADER + 1
            ),
            ChunkRejection::Failed => write!(
                f,
                "an earlier write of this chunk writer failed; the segment files are incomplete"
            ),
        }
    }
}
