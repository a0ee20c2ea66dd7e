//! What the index says of a series: its id, and where its chunks are.

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
