//! A block's chunk segment files, `chunks/000001`, `chunks/000002`, …: every chunk
//! of the block, each framed as a stored chunk record with its CRC. The index
//! points at a chunk with a 64-bit reference, `segment number << 32 | offset`.
//!
//! [`ChunkWriter`] appends records through a buffer and starts a new segment when
//! the next record would not fit; [`ChunkReader`] maps the finished files (or reads
//! them with `pread`) and hands out a chunk's bytes after checking bounds and CRC.
//! Layout in docs/format/chunks.md, *Chunk segment files*.
//!
//! The parts: [`segment`] has the file format (header, record framing, names,
//! references), [`error`] what can go wrong, [`writer`] and [`reader`] the two
//! sides.

mod error;
mod reader;
mod segment;
mod writer;

pub use error::{ChunkCorruption, ChunkFileError, ChunkRejection};
pub use reader::ChunkReader;
pub use segment::{MAX_SEGMENT_SIZE, chunk_ref, chunk_segment_name};
pub use writer::{ChunkFileStats, ChunkWriter, ChunkWriterOptions};

#[cfg(test)]
mod tests;
