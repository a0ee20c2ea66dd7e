//! The index file of a block: which series the block holds, their label sets and
//! chunks, and the inverted index (label pair → series) that selects them.
//!
//! The byte layout is specified in `docs/format/index.md`. In short:
//!
//! ```text
//! header · symbols · series · postings · label values · label names · series table · TOC
//! ```
//!
//! - Every label name and value is stored once, in the sorted **symbol table**;
//!   everything else refers to strings by their number there.
//! - A series is identified by its [`SeriesId`]: its ordinal in label-set order
//!   (0 for the smallest label set). Postings lists are sorted lists of ids, so
//!   they are in label-set order too.
//! - Every byte is covered by a CRC-32: the small sections by one each, checked by
//!   [`IndexReader::open`]; the series and postings sections entry by entry,
//!   checked when the entry is read.
//!
//! [`IndexWriter`] streams an index to a file; [`IndexReader`] reads one from any
//! [`ByteSource`](crate::tsdb::fs::ByteSource) and never panics on bad bytes.

mod encoding;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use reader::IndexReader;
pub use writer::IndexWriter;

/// The first four bytes of an index file.
pub const INDEX_MAGIC: [u8; 4] = *b"TMIX";
/// The format version this code writes and reads.
pub const INDEX_VERSION: u8 = 1;

/// A series of one index: its ordinal in label-set order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesId(pub u32);

/// Where one chunk of a series is, and the time range of its samples (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkMeta {
    pub min_time: i64,
    pub max_time: i64,
    /// Where the chunk is in the block's chunk files; opaque to the index.
    pub chunk_ref: u64,
}

/// A part of the index file, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Header,
    Symbols,
    Series,
    Postings,
    LabelValues,
    LabelNames,
    SeriesTable,
    Toc,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::Symbols => "symbols",
            Section::Series => "series",
            Section::Postings => "postings",
            Section::LabelValues => "label values",
            Section::LabelNames => "label names",
            Section::SeriesTable => "series table",
            Section::Toc => "table of contents",
        })
    }
}

/// Why an index could not be written or read.
///
/// Reader errors carry the section and byte offset but not the file path, which the
/// reader does not know (it reads a [`ByteSource`](crate::tsdb::fs::ByteSource));
/// the caller adds it.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The writer could not create, write or sync its file.
    #[error("index I/O error: {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The byte source failed to read (other than by being too short).
    #[error("index read error in the {section} section at byte offset {offset}: {source}")]
    Read {
        section: Section,
        offset: u64,
        #[source]
        source: io::Error,
    },
    /// The bytes are not a valid index: damaged, truncated, or not an index.
    #[error("index corruption in the {section} section at byte offset {offset}: {reason}")]
    Corrupt {
        section: Section,
        offset: u64,
        reason: String,
    },
    /// The writer was given something the format cannot hold or in the wrong order.
    /// Nothing was written for the call that failed; the writer stays usable.
    #[error("index writer: {0}")]
    InvalidInput(String),
    /// A write failed earlier: the file is in an unknown state.
    #[error("index writer for {0} failed earlier and refuses further use")]
    Poisoned(PathBuf),
    /// [`IndexReader::series`] was asked for an id the index does not have.
    #[error("no series {id} in the index: it holds {count} series")]
    NoSuchSeries { id: u32, count: u32 },
}
