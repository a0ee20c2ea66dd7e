//! Blocks: immutable directories holding the samples of a time range
//! (`meta.json`, `index`, `chunks/`). This module has the block's identity and
//! metadata ([`BlockMeta`], docs/format/meta.md), its chunk segment files
//! ([`ChunkWriter`], [`ChunkReader`], docs/format/chunks.md), writing a block
//! ([`BlockBuilder`] streams series in any order; [`write_block`] takes them
//! sorted in one call) and reading one ([`Block`]). Their files are reached
//! through [`tsdb::fs`](crate::tsdb::fs).

mod builder;
mod chunks;
mod dir;
mod id;
mod meta;
mod reader;
mod writer;

pub use builder::{BlockBuilder, BuilderSeries, ChunkData};
pub use chunks::{
    ChunkCorruption, ChunkFileError, ChunkFileStats, ChunkReader, ChunkRejection, ChunkWriter,
    ChunkWriterOptions, MAX_SEGMENT_SIZE, chunk_ref, chunk_segment_name,
};
pub use dir::{BlockError, CHUNKS_DIR, INDEX_FILE};
pub use id::{BlockId, BlockIdError};
pub use meta::{BlockMeta, BlockStats, Compaction, META_FILE, META_VERSION, MetaError};
pub use reader::Block;
pub use writer::{StoredChunk, write_block};
