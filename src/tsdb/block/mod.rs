//! Blocks: immutable directories holding the samples of a time range
//! (`meta.json`, `index`, `chunks/`). This module has the block's identity and
//! metadata ([`BlockMeta`], docs/format/meta.md); the index and chunk files come
//! with the block writer and reader.

mod id;
mod meta;
mod source;

pub use id::{BlockId, BlockIdError};
pub use meta::{BlockMeta, BlockStats, Compaction, META_FILE, META_VERSION, MetaError};
pub use source::{ByteSource, PreadFile};
