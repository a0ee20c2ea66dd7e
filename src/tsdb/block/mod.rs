//! Blocks: immutable directories holding the samples of a time range
//! (`meta.json`, `index`, `chunks/`). This module has the block's identity and
//! metadata ([`BlockMeta`], docs/format/meta.md), its chunk segment files
//! ([`ChunkWriter`], [`ChunkReader`], docs/format/chunks.md), the read access
//! to finished files ([`ByteSource`]: [`MmapFile`], [`PreadFile`]), writing a
//! block ([`BlockBuilder`] streams series in any order; [`write_block`] takes
//! them sorted in one call) and reading one ([`Block`]).

mod builder;
mod chunks;
mod id;
mod meta;
mod mmap;
mod reader;
mod source;
mod writer;

pub use builder::{BlockBuilder, BuilderSeries, ChunkData};
pub use chunks::{
    Access, ChunkCorruption, ChunkFileError, ChunkFileStats, ChunkReader, ChunkRejection,
    ChunkWriter, ChunkWriterOptions, MAX_SEGMENT_SIZE, chunk_ref, chunk_segment_name,
};
pub use id::{BlockId, BlockIdError};
pub use meta::{BlockMeta, BlockStats, Compaction, META_FILE, META_VERSION, MetaError};
pub use mmap::MmapFile;
pub use reader::Block;
pub use source::{ByteSource, PreadFile};
pub use writer::{BlockError, CHUNKS_DIR, INDEX_FILE, StoredChunk, write_block};
