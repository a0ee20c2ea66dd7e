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
mod error;
mod reader;
mod series;
mod writer;

#[cfg(test)]
mod tests;

pub use encoding::{INDEX_MAGIC, INDEX_VERSION};
pub use error::{IndexError, Section};
pub use reader::IndexReader;
pub use series::{ChunkMeta, SeriesId};
pub use writer::IndexWriter;
