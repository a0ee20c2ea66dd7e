//! The block-reader trait: one read interface over the head and the persisted
//! blocks, which the querier and compaction use alike.
//!
//! A [`BlockReader`] selects the series that match a set of matchers and have
//! chunks in a time range, through a [`SeriesCursor`] that moves over them in
//! label order and fills in one [`SelectedSeries`] at a time (the caller's, whose
//! buffers serve from series to series); it reads a chunk's bytes, and lists
//! label names and values. [`Head`] and [`Block`] implement it here, each over
//! its own index (postings in memory; the index file) and chunk store (head chunk
//! files and open chunks; the block's segment files): neither knows the trait.
//!
//! Where several readers hold a sample of a series with the same timestamp, one
//! is kept, by the readers' order of [`ulid`](BlockReader::ulid): the head's
//! (`None`) first, then that of the block written first (lowest ULID), so that
//! data already stored wins over a backfill written later. (Prometheus leaves
//! that choice open.)

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::{Labels, Matcher};
use crate::tsdb::block::{Block, BlockError, BlockId};
use crate::tsdb::chunk::{ChunkError, Encoding};
use crate::tsdb::head::{ChunkSource, Head, HeadSeries, SpillError, SpillLoc};
use crate::tsdb::index::SeriesId;
use crate::tsdb::tombstones::{Interval, Tombstones};

/// Errors reading through a [`BlockReader`]; each names the file it is about.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A block's index or chunk files (the error names block and file).
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The head chunk files.
    #[error(transparent)]
    HeadChunks(#[from] SpillError),
    /// A block chunk whose encoding byte this version does not know.
    #[error("block {}: chunk {chunk_ref}: {source}", dir.display())]
    Encoding {
        dir: PathBuf,
        chunk_ref: u64,
        source: ChunkError,
    },
}

/// Where a chunk's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum ChunkLoc {
    /// In the reader's files, at this reference of the reader's (a block's chunk
    /// reference; a place in the head chunk files).
    Stored(u64),
    /// A copy taken when the series was selected (the head's open chunk).
    Copied(Encoding, Arc<[u8]>),
}

impl fmt::Display for ChunkLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkLoc::Stored(r) => write!(f, "{r}"),
            ChunkLoc::Copied(..) => f.write_str("(copied)"),
        }
    }
}

/// A chunk of a selected series: its time range (both ends included) and where
/// its bytes are.
#[derive(Debug, Clone)]
pub(crate) struct ChunkMeta {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) loc: ChunkLoc,
}

/// A series as a [`SeriesCursor`] fills it in. One value serves a whole
/// selection: each series replaces the last, in the same buffers.
#[derive(Debug, Default)]
pub(crate) struct SelectedSeries {
    pub(crate) labels: Labels,
    /// Its chunks overlapping the selected range, oldest first.
    pub(crate) chunks: Vec<ChunkMeta>,
    /// The intervals of it marked deleted in this reader (empty if none).
    pub(crate) deleted: Vec<Interval>,
}

/// The series a [`BlockReader::select`] found, one at a time, in label order.
pub(crate) trait SeriesCursor {
    /// Moves to the next series and fills `s` in with it; `false` after the
    /// last. Series left without chunks in the range are skipped.
    fn next(&mut self, s: &mut SelectedSeries) -> Result<bool, ReadError>;
}

/// The head or a persisted block, read alike. Calls go through `dyn
/// BlockReader` once a series or a chunk, never once a sample.
pub(crate) trait BlockReader: Send + Sync {
    /// The block's ULID; `None` for the head. Ranks readers (see the module
    /// docs).
    fn ulid(&self) -> Option<BlockId>;

    /// Whether the reader holds samples in `[mint, maxt]` (both included) as far
    /// as its time range tells. A block's range is fixed; the head's moves as
    /// samples arrive and as it is cut into blocks.
    fn overlaps(&self, mint: i64, maxt: i64) -> bool;

    /// The series matching every matcher (every series for none) that have a
    /// chunk overlapping `[mint, maxt]`, in label order. Fails if an index cannot
    /// be read.
    fn select<'a>(
        &'a self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesCursor + 'a>, ReadError>;

    /// The labels of the series matching `matchers`, with or without samples (a
    /// head series may have none yet).
    fn series_labels(&self, matchers: &[Matcher]) -> Result<Vec<Labels>, ReadError>;

    /// Every label name of the reader's series, sorted.
    fn label_names(&self) -> Vec<String>;

    /// The values of label `name`, sorted (empty if no series has it).
    fn label_values(&self, name: &str) -> Result<Vec<String>, ReadError>;

    /// Whether any sample of the reader is marked deleted.
    fn has_tombstones(&self) -> bool;

    /// The encoding and bytes of the chunk at `r` (a [`ChunkLoc::Stored`] of this
    /// reader). A read that needs memory of its own takes `buf`'s, handing it back
    /// as `Cow::Owned`, so that a caller reading many chunks can reuse it.
    fn read_chunk(&self, r: u64, buf: &mut Vec<u8>)
    -> Result<(Encoding, Cow<'_, [u8]>), ReadError>;

    /// The encoding and bytes of chunk `c` of a series this reader selected (see
    /// [`read_chunk`](Self::read_chunk) for `buf`).
    fn chunk<'a>(
        &'a self,
        c: &'a ChunkMeta,
        buf: &mut Vec<u8>,
    ) -> Result<(Encoding, Cow<'a, [u8]>), ReadError> {
        match &c.loc {
            ChunkLoc::Stored(r) => self.read_chunk(*r, buf),
            ChunkLoc::Copied(enc, bytes) => Ok((*enc, Cow::Borrowed(&bytes[..]))),
        }
    }

    /// Where chunk `c` is, for a message about it not decoding.
    fn chunk_origin(&self, c: &ChunkMeta) -> String;

    /// Whether compaction encodes this reader's chunks anew rather than copying
    /// them. A block's chunks are already in the encoding that suits their
    /// samples, [`BLOCK_CHUNK_SAMPLES`](crate::tsdb::chunk::BLOCK_CHUNK_SAMPLES)
    /// long; the head's are XOR chunks as appends cut them.
    fn recode(&self) -> bool;
}

impl BlockReader for Head {
    fn ulid(&self) -> Option<BlockId> {
        None
    }

    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        matches!(self.time_range(), Some((lo, hi)) if lo <= maxt && hi >= mint)
    }

    fn select<'a>(
        &'a self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesCursor + 'a>, ReadError> {
        Ok(Box::new(HeadCursor {
            head: self,
            series: Head::select(self, mint, maxt, matchers).into_iter(),
            mint,
            maxt,
        }))
    }

    fn series_labels(&self, matchers: &[Matcher]) -> Result<Vec<Labels>, ReadError> {
        Ok(self.matching_labels(matchers))
    }

    fn label_names(&self) -> Vec<String> {
        Head::label_names(self)
    }

    fn label_values(&self, name: &str) -> Result<Vec<String>, ReadError> {
        Ok(Head::label_values(self, name))
    }

    fn has_tombstones(&self) -> bool {
        Head::has_tombstones(self)
    }

    fn read_chunk(
        &self,
        r: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(Encoding, Cow<'_, [u8]>), ReadError> {
        let enc = Head::read_chunk(self, SpillLoc(r), buf)?;
        Ok((enc, Cow::Owned(std::mem::take(buf))))
    }

    fn chunk_origin(&self, _: &ChunkMeta) -> String {
        "head chunk".to_owned()
    }

    fn recode(&self) -> bool {
        true
    }
}

/// The head's series, whose chunks are listed as each is reached.
struct HeadCursor<'a> {
    head: &'a Head,
    series: std::vec::IntoIter<HeadSeries>,
    mint: i64,
    maxt: i64,
}

impl SeriesCursor for HeadCursor<'_> {
    fn next(&mut self, s: &mut SelectedSeries) -> Result<bool, ReadError> {
        for h in self.series.by_ref() {
            s.chunks.clear();
            self.head
                .chunks(&h, self.mint, self.maxt, |min_t, max_t, source| {
                    let loc = match source {
                        ChunkSource::Spilled(loc) => ChunkLoc::Stored(loc.0),
                        ChunkSource::Open(bytes) => ChunkLoc::Copied(Encoding::Xor, bytes),
                    };
                    s.chunks.push(ChunkMeta { min_t, max_t, loc });
                });
            // Cut away since it was selected.
            if s.chunks.is_empty() {
                continue;
            }
            s.deleted = self.head.deleted(h.series_ref());
            s.labels = h.labels;
            return Ok(true);
        }
        Ok(false)
    }
}

impl BlockReader for Block {
    fn ulid(&self) -> Option<BlockId> {
        Some(self.meta().ulid)
    }

    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        // A block's range is `[min_time, max_time)`.
        self.meta().min_time <= maxt && self.meta().max_time > mint
    }

    fn select<'a>(
        &'a self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Box<dyn SeriesCursor + 'a>, ReadError> {
        Ok(Box::new(BlockCursor {
            block: self,
            ids: self.postings(matchers)?.into_iter(),
            tombstones: self.tombstones(),
            mint,
            maxt,
        }))
    }

    fn series_labels(&self, matchers: &[Matcher]) -> Result<Vec<Labels>, ReadError> {
        Ok(Block::select(self, matchers)?
            .into_iter()
            .map(|(l, _)| l)
            .collect())
    }

    fn label_names(&self) -> Vec<String> {
        Block::label_names(self)
    }

    fn label_values(&self, name: &str) -> Result<Vec<String>, ReadError> {
        Ok(Block::label_values(self, name)?)
    }

    fn has_tombstones(&self) -> bool {
        !self.tombstones().is_empty()
    }

    fn read_chunk(&self, r: u64, _: &mut Vec<u8>) -> Result<(Encoding, Cow<'_, [u8]>), ReadError> {
        let (enc, bytes) = Block::chunk(self, r)?;
        let enc = Encoding::try_from(enc).map_err(|source| ReadError::Encoding {
            dir: self.dir().to_owned(),
            chunk_ref: r,
            source,
        })?;
        Ok((enc, bytes))
    }

    fn chunk_origin(&self, c: &ChunkMeta) -> String {
        format!("block {}: chunks: chunk {}", self.dir().display(), c.loc)
    }

    fn recode(&self) -> bool {
        false
    }
}

/// A block's series, each read from the index as it is reached.
struct BlockCursor<'a> {
    block: &'a Block,
    ids: std::vec::IntoIter<SeriesId>,
    /// As they were at selection.
    tombstones: Arc<Tombstones>,
    mint: i64,
    maxt: i64,
}

impl SeriesCursor for BlockCursor<'_> {
    fn next(&mut self, s: &mut SelectedSeries) -> Result<bool, ReadError> {
        for id in self.ids.by_ref() {
            let (labels, chunks) = self.block.series(id)?;
            let (mint, maxt) = (self.mint, self.maxt);
            s.chunks.clear();
            s.chunks.extend(
                chunks
                    .into_iter()
                    .filter(|c| c.min_time <= maxt && c.max_time >= mint)
                    .map(|c| ChunkMeta {
                        min_t: c.min_time,
                        max_t: c.max_time,
                        loc: ChunkLoc::Stored(c.chunk_ref),
                    }),
            );
            if s.chunks.is_empty() {
                continue;
            }
            s.labels = labels;
            s.deleted.clear();
            s.deleted
                .extend_from_slice(self.tombstones.get(u64::from(id.0)));
            return Ok(true);
        }
        Ok(false)
    }
}
