//! Writing a whole block directory from sorted series in one call
//! ([`write_block`], over [`BlockBuilder`]).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::builder::{BlockBuilder, ChunkData};
use super::dir::{BlockError, INDEX_FILE};
use super::id::BlockId;
use super::meta::BlockMeta;
use crate::model::Labels;
use crate::tsdb::fs::Fs;

/// One encoded chunk of a series, as handed to [`write_block`].
///
/// `min_time` and `max_time` are the timestamps of its first and last sample
/// (inclusive). `encoding` is an [`Encoding`](crate::tsdb::chunk::Encoding) byte;
/// the block's sample count is read from the chunk's header
/// ([`num_samples`](crate::tsdb::chunk::num_samples)).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredChunk {
    pub min_time: i64,
    pub max_time: i64,
    pub encoding: u8,
    pub data: Vec<u8>,
}

impl fmt::Debug for StoredChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredChunk")
            .field("min_time", &self.min_time)
            .field("max_time", &self.max_time)
            .field("encoding", &self.encoding)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// Writes a level-1 block holding `series` under `parent` through `fs` and
/// returns its meta.
///
/// `series` must be in strictly increasing label-set order (no duplicates), each
/// with a non-empty label set and its chunks in time order; every chunk has an
/// encoding known to [`Encoding`](crate::tsdb::chunk::Encoding) and
/// `min_time <= chunk.min_time <= chunk.max_time < max_time`. A block without
/// series is refused (`nothing to write`). For series in any order, or chunks
/// written as they come, use [`BlockBuilder`], which this calls.
///
/// The block is written in `<parent>/<ulid>.tmp/`: `chunks/`, `index`,
/// `meta.json`, each fsynced, then the directory; it is renamed to
/// `<parent>/<ulid>` and `parent` is fsynced. On any error the temporary
/// directory is removed (best effort) and nothing of the block remains.
pub fn write_block<I>(
    fs: &Arc<dyn Fs>,
    parent: &Path,
    series: I,
    min_time: i64,
    max_time: i64,
) -> Result<BlockMeta, BlockError>
where
    I: IntoIterator<Item = (Labels, Vec<StoredChunk>)>,
{
    write_block_as(fs, parent, series, min_time, max_time, BlockId::now())
}

/// [`write_block`] with a given id.
pub(super) fn write_block_as<I>(
    fs: &Arc<dyn Fs>,
    parent: &Path,
    series: I,
    min_time: i64,
    max_time: i64,
    id: BlockId,
) -> Result<BlockMeta, BlockError>
where
    I: IntoIterator<Item = (Labels, Vec<StoredChunk>)>,
{
    let mut builder = BlockBuilder::with_id(fs, parent, min_time, max_time, id)?;
    let mut prev: Option<Labels> = None;
    for (labels, chunks) in series {
        // The builder takes any order; this function promises callers that an
        // order mistake of theirs is reported, not silently repaired.
        if let Some(p) = &prev
            && labels < *p
        {
            return Err(BlockError::Invalid {
                dir: builder.tmp_dir().to_owned(),
                file: INDEX_FILE.to_owned(),
                reason: format!("series {labels} after {p}: series must be sorted by labels"),
            });
        }
        builder.add_series(
            labels.clone(),
            chunks.iter().map(|c| ChunkData {
                min_time: c.min_time,
                max_time: c.max_time,
                encoding: c.encoding,
                data: &c.data,
            }),
        )?;
        prev = Some(labels);
    }
    builder.finish()
}
