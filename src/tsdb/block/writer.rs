//! Writing a whole block directory from sorted series in one call
//! ([`write_block`], over [`BlockBuilder`]), and the errors of writing and reading
//! blocks.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{BlockBuilder, BlockId, BlockMeta, ChunkData, ChunkFileError, META_FILE, MetaError};
use crate::model::Labels;
use crate::tsdb::index::IndexError;

/// The name of the index file inside a block directory.
pub const INDEX_FILE: &str = "index";
/// The name of the chunk segment directory inside a block directory.
pub const CHUNKS_DIR: &str = "chunks";

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

/// Errors writing or reading a block. Every one names the block directory (while
/// writing: the temporary `<ulid>.tmp` directory) and the file in it.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// Creating, syncing, renaming or opening a file or directory failed.
    #[error("block {}: {op} {file}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        file: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("block {}: {file}: {source}", dir.display(), file = META_FILE)]
    Meta {
        dir: PathBuf,
        #[source]
        source: MetaError,
    },
    #[error("block {}: {file}: {source}", dir.display(), file = INDEX_FILE)]
    Index {
        dir: PathBuf,
        #[source]
        source: IndexError,
    },
    #[error("block {}: {file}: {source}", dir.display())]
    Chunks {
        dir: PathBuf,
        /// The segment file (`chunks/000001`, …) or `chunks`.
        file: String,
        #[source]
        source: ChunkFileError,
    },
    #[error("block {}: {source}", dir.display())]
    Tombstones {
        dir: PathBuf,
        #[source]
        source: crate::tsdb::tombstones::TombstoneError,
    },
    /// The writer was given something a block cannot hold; nothing is left on disk.
    #[error("block {}: {file}: {reason}", dir.display())]
    Invalid {
        dir: PathBuf,
        file: String,
        reason: String,
    },
}

impl BlockError {
    /// The block directory the error is about.
    pub fn dir(&self) -> &Path {
        match self {
            BlockError::Io { dir, .. }
            | BlockError::Meta { dir, .. }
            | BlockError::Index { dir, .. }
            | BlockError::Chunks { dir, .. }
            | BlockError::Tombstones { dir, .. }
            | BlockError::Invalid { dir, .. } => dir,
        }
    }

    /// The file in the block directory the error is about (`index`, `meta.json`,
    /// `chunks/000001`, …).
    pub fn file(&self) -> &str {
        match self {
            BlockError::Io { file, .. }
            | BlockError::Chunks { file, .. }
            | BlockError::Invalid { file, .. } => file,
            BlockError::Meta { .. } => META_FILE,
            BlockError::Index { .. } => INDEX_FILE,
            BlockError::Tombstones { .. } => crate::tsdb::tombstones::TOMBSTONES_FILE,
        }
    }

    pub(super) fn chunks(dir: &Path, source: ChunkFileError) -> BlockError {
        let path = match &source {
            ChunkFileError::Io { path, .. }
            | ChunkFileError::IoAt { path, .. }
            | ChunkFileError::Corrupt { path, .. }
            | ChunkFileError::Rejected { path, .. } => path,
        };
        let file = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        BlockError::Chunks {
            dir: dir.to_owned(),
            file,
            source,
        }
    }

    pub(super) fn io(
        dir: &Path,
        op: &'static str,
        file: &str,
    ) -> impl FnOnce(io::Error) -> BlockError {
        let (dir, file) = (dir.to_owned(), file.to_owned());
        move |source| BlockError::Io {
            dir,
            file,
            op,
            source,
        }
    }
}

/// Writes a level-1 block holding `series` under `parent` and returns its meta.
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
    parent: &Path,
    series: I,
    min_time: i64,
    max_time: i64,
) -> Result<BlockMeta, BlockError>
where
    I: IntoIterator<Item = (Labels, Vec<StoredChunk>)>,
{
    write_block_as(parent, series, min_time, max_time, BlockId::now())
}

/// [`write_block`] with a given id.
pub(super) fn write_block_as<I>(
    parent: &Path,
    series: I,
    min_time: i64,
    max_time: i64,
    id: BlockId,
) -> Result<BlockMeta, BlockError>
where
    I: IntoIterator<Item = (Labels, Vec<StoredChunk>)>,
{
    let mut builder = BlockBuilder::with_id(parent, min_time, max_time, id)?;
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
