//! A block directory: the names of its parts, and [`BlockError`], which names
//! the directory and the part an error is about.

use std::io;
use std::path::{Path, PathBuf};

use super::chunks::ChunkFileError;
use super::meta::{META_FILE, MetaError};
use crate::tsdb::index::IndexError;

/// The name of the index file inside a block directory.
pub const INDEX_FILE: &str = "index";
/// The name of the chunk segment directory inside a block directory.
pub const CHUNKS_DIR: &str = "chunks";

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
