//! [`IndexError`], and the [`Section`] of the file an error is in.

use std::fmt;
use std::io;
use std::path::PathBuf;

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
    /// [`IndexReader::series`](super::IndexReader::series) was asked for an id the index does not have.
    #[error("no series {id} in the index: it holds {count} series")]
    NoSuchSeries { id: u32, count: u32 },
}
