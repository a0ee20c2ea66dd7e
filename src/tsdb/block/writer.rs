//! Writing a whole block directory: `chunks/`, `index` and `meta.json`, made under
//! `<ulid>.tmp` and renamed into place once complete (docs/format/meta.md,
//! *Writing*).

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::{BlockId, BlockMeta, BlockStats, ChunkFileError, ChunkWriter, META_FILE, MetaError};
use crate::model::Labels;
use crate::tsdb::chunk::{Encoding, XorIter};
use crate::tsdb::index::{ChunkMeta, IndexError, IndexWriter};

/// The name of the index file inside a block directory.
pub const INDEX_FILE: &str = "index";
/// The name of the chunk segment directory inside a block directory.
pub const CHUNKS_DIR: &str = "chunks";

/// One encoded chunk of a series, as handed to [`write_block`].
///
/// `min_time` and `max_time` are the timestamps of its first and last sample
/// (inclusive). The encoding must be [`Encoding::Xor`]: the block's sample count
/// is taken from the 2-byte sample count at the start of every XOR chunk (the
/// chunk is not decoded further).
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
/// with a non-empty label set and its chunks in time order; every chunk is an XOR
/// chunk (see [`StoredChunk`]) with `min_time <= chunk.min_time <= chunk.max_time
/// < max_time`. A block without series is refused (`nothing to write`).
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
    let series: Vec<(Labels, Vec<StoredChunk>)> = series.into_iter().collect();
    let tmp = parent.join(format!("{id}.tmp"));
    let dir = parent.join(id.to_string());
    let stats = check_input(&tmp, &series, min_time, max_time)?;
    let meta = BlockMeta::new(id, min_time, max_time, stats);

    fs::create_dir(&tmp).map_err(BlockError::io(&tmp, "create directory", "."))?;
    if let Err(e) = write_files(&tmp, &series, &meta) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, &dir) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(BlockError::io(&tmp, "rename to its final name", ".")(e));
    }
    if let Err(e) = sync_dir(parent) {
        // The rename may not be durable: take the block away rather than report
        // a failure and leave it behind.
        let _ = fs::remove_dir_all(&dir);
        return Err(BlockError::io(&dir, "fsync the parent directory of", ".")(
            e,
        ));
    }
    Ok(meta)
}

/// Checks the series before anything is written; returns the block's stats.
fn check_input(
    tmp: &Path,
    series: &[(Labels, Vec<StoredChunk>)],
    min_time: i64,
    max_time: i64,
) -> Result<BlockStats, BlockError> {
    let invalid = |file: &str, reason: String| BlockError::Invalid {
        dir: tmp.to_owned(),
        file: file.to_owned(),
        reason,
    };
    if series.is_empty() {
        return Err(invalid(".", "nothing to write: no series".to_owned()));
    }
    if min_time >= max_time {
        return Err(invalid(
            META_FILE,
            format!("minTime {min_time} is not before maxTime {max_time}"),
        ));
    }
    let mut stats = BlockStats::default();
    let mut prev: Option<&Labels> = None;
    for (labels, chunks) in series {
        if labels.is_empty() {
            return Err(invalid(
                INDEX_FILE,
                "series with an empty label set".to_owned(),
            ));
        }
        if let Some(p) = prev {
            if labels == p {
                return Err(invalid(INDEX_FILE, format!("duplicate series {labels}")));
            }
            if labels < p {
                return Err(invalid(
                    INDEX_FILE,
                    format!("series {labels} after {p}: series must be sorted by labels"),
                ));
            }
        }
        prev = Some(labels);
        let mut last_max: Option<i64> = None;
        for c in chunks {
            if c.min_time > c.max_time || c.min_time < min_time || c.max_time >= max_time {
                return Err(invalid(
                    CHUNKS_DIR,
                    format!(
                        "series {labels}: chunk [{}, {}] is not inside the block's [{min_time}, {max_time})",
                        c.min_time, c.max_time
                    ),
                ));
            }
            if last_max.is_some_and(|m| c.min_time <= m) {
                return Err(invalid(
                    CHUNKS_DIR,
                    format!(
                        "series {labels}: chunk starting at {} overlaps the previous one",
                        c.min_time
                    ),
                ));
            }
            last_max = Some(c.max_time);
            if Encoding::try_from(c.encoding) != Ok(Encoding::Xor) {
                return Err(invalid(
                    CHUNKS_DIR,
                    format!(
                        "series {labels}: chunk encoding {} is not XOR (1)",
                        c.encoding
                    ),
                ));
            }
            let it = XorIter::new(c.data.as_slice());
            if let Some(e) = it.err() {
                return Err(invalid(CHUNKS_DIR, format!("series {labels}: {e}")));
            }
            stats.num_samples += u64::from(it.num_samples());
        }
        stats.num_series += 1;
        stats.num_chunks += chunks.len() as u64;
    }
    Ok(stats)
}

/// Writes the block's files into `tmp` and fsyncs them and `tmp`.
fn write_files(
    tmp: &Path,
    series: &[(Labels, Vec<StoredChunk>)],
    meta: &BlockMeta,
) -> Result<(), BlockError> {
    // Chunks first: the index needs their references.
    let mut cw =
        ChunkWriter::create(&tmp.join(CHUNKS_DIR)).map_err(|e| BlockError::chunks(tmp, e))?;
    let mut metas: Vec<Vec<ChunkMeta>> = Vec::with_capacity(series.len());
    for (_, chunks) in series {
        let mut refs = Vec::with_capacity(chunks.len());
        for c in chunks {
            let chunk_ref = cw
                .write(c.encoding, &c.data)
                .map_err(|e| BlockError::chunks(tmp, e))?;
            refs.push(ChunkMeta {
                min_time: c.min_time,
                max_time: c.max_time,
                chunk_ref,
            });
        }
        metas.push(refs);
    }
    cw.finish().map_err(|e| BlockError::chunks(tmp, e))?;

    let index_err = |source| BlockError::Index {
        dir: tmp.to_owned(),
        source,
    };
    let symbols: BTreeSet<&str> = series
        .iter()
        .flat_map(|(l, _)| l.iter().flat_map(|l| [l.name, l.value]))
        .collect();
    let mut iw = IndexWriter::create(&tmp.join(INDEX_FILE)).map_err(index_err)?;
    for s in symbols {
        iw.add_symbol(s).map_err(index_err)?;
    }
    for ((labels, _), chunks) in series.iter().zip(&metas) {
        iw.add_series(labels, chunks).map_err(index_err)?;
    }
    iw.finish().map_err(index_err)?;

    // Writes meta.json through meta.json.tmp and fsyncs `tmp`, which makes the
    // entries of `index` and `chunks` durable too.
    meta.write(tmp).map_err(|source| BlockError::Meta {
        dir: tmp.to_owned(),
        source,
    })
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
