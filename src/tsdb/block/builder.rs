//! [`BlockBuilder`]: writes a block while its series arrive, in any order, keeping
//! only label sets and chunk references in memory.
//!
//! Chunk bytes go to the segment files (`chunks/`) as soon as they are added;
//! [`finish`](BlockBuilder::finish) sorts the series, writes the index and
//! `meta.json`, and renames the directory into place (docs/format/meta.md,
//! *Writing*). This is what an import writes through (many series, each seen
//! once per block window), and what compaction writes its output with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chunks::{ChunkFileError, ChunkWriter};
use super::dir::{BlockError, CHUNKS_DIR, INDEX_FILE};
use super::id::BlockId;
use super::meta::{BlockMeta, BlockStats, Compaction, META_FILE};
use crate::model::Labels;
use crate::tsdb::chunk::{self, Encoding};
use crate::tsdb::fs::Fs;
use crate::tsdb::index::{ChunkMeta, IndexWriter};

/// A series of a [`BlockBuilder`], as returned by
/// [`start_series`](BlockBuilder::start_series).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuilderSeries(u32);

/// Builds one block directory under `<parent>/<ulid>.tmp/`.
///
/// Series are added with [`add_series`](Self::add_series) (all chunks at once) or
/// with [`start_series`](Self::start_series) and then
/// [`add_chunk`](Self::add_chunk) chunk by chunk, interleaved with other series as
/// the caller likes. Each label set is added once; a series' chunks come in time
/// order, without overlap, inside `[min_time, max_time)`. Chunks may have any
/// [`Encoding`]; their sample counts (for the block's stats) are read from their
/// headers with [`chunk::num_samples`].
///
/// Memory: the label set of every series and one [`ChunkMeta`] (24 bytes) per
/// chunk, until [`finish`](Self::finish).
///
/// A builder dropped without `finish`, or whose `finish` failed, removes its
/// temporary directory (best effort). An error from `add_*` leaves the builder
/// usable unless it came from the chunk files (then every later call fails too).
pub struct BlockBuilder {
    fs: Arc<dyn Fs>,
    parent: PathBuf,
    tmp: PathBuf,
    id: BlockId,
    min_time: i64,
    max_time: i64,
    chunks: Option<ChunkWriter>,
    series: Vec<(Labels, Vec<ChunkMeta>)>,
    stats: BlockStats,
    compaction: Option<Compaction>,
    /// Set once the directory has its final name: nothing is left to clean up.
    done: bool,
}

impl std::fmt::Debug for BlockBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockBuilder")
            .field("tmp", &self.tmp)
            .field("min_time", &self.min_time)
            .field("max_time", &self.max_time)
            .field("stats", &self.stats)
            .finish()
    }
}

impl BlockBuilder {
    /// Starts a level-1 block for samples with `min_time <= t < max_time`: creates
    /// `<parent>/<ulid>.tmp/` and its `chunks/` directory. Every file of the
    /// block is written through `fs`.
    pub fn new(
        fs: &Arc<dyn Fs>,
        parent: &Path,
        min_time: i64,
        max_time: i64,
    ) -> Result<BlockBuilder, BlockError> {
        BlockBuilder::with_id(fs, parent, min_time, max_time, BlockId::now())
    }

    /// [`new`](Self::new) with a given id.
    pub(super) fn with_id(
        fs: &Arc<dyn Fs>,
        parent: &Path,
        min_time: i64,
        max_time: i64,
        id: BlockId,
    ) -> Result<BlockBuilder, BlockError> {
        let tmp = parent.join(format!("{id}.tmp"));
        if min_time >= max_time {
            return Err(BlockError::Invalid {
                dir: tmp,
                file: META_FILE.to_owned(),
                reason: format!("minTime {min_time} is not before maxTime {max_time}"),
            });
        }
        fs.create_dir(&tmp)
            .map_err(BlockError::io(&tmp, "create directory", "."))?;
        let mut b = BlockBuilder {
            fs: Arc::clone(fs),
            parent: parent.to_owned(),
            tmp,
            id,
            min_time,
            max_time,
            chunks: None,
            series: Vec::new(),
            stats: BlockStats::default(),
            compaction: None,
            done: false,
        };
        // On error `b` is dropped, which removes the directory.
        b.chunks =
            Some(ChunkWriter::create(fs, &b.tmp.join(CHUNKS_DIR)).map_err(|e| b.chunks_err(e))?);
        Ok(b)
    }

    /// The id the block will have (its directory name once finished).
    pub fn id(&self) -> BlockId {
        self.id
    }

    /// The temporary directory being written.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The block's time range, `[min_time, max_time)`.
    pub fn time_range(&self) -> (i64, i64) {
        (self.min_time, self.max_time)
    }

    /// What was added so far: series, chunks and samples.
    pub fn stats(&self) -> &BlockStats {
        &self.stats
    }

    /// Sets where the block comes from, for a compaction's output: its level,
    /// sources and parents go to `meta.json` as given. Without this call the
    /// block is level 1 with itself as its only source.
    pub fn compaction(&mut self, compaction: Compaction) -> &mut Self {
        self.compaction = Some(compaction);
        self
    }

    /// Adds a series that has not been added before and returns its handle for
    /// [`add_chunk`](Self::add_chunk). Duplicates are found by
    /// [`finish`](Self::finish), which refuses them.
    pub fn start_series(&mut self, labels: Labels) -> Result<BuilderSeries, BlockError> {
        if labels.is_empty() {
            return Err(self.invalid(INDEX_FILE, "series with an empty label set".to_owned()));
        }
        let n = u32::try_from(self.series.len())
            .ok()
            .filter(|&n| n < u32::MAX)
            .ok_or_else(|| self.invalid(INDEX_FILE, "more than 2^32 - 1 series".to_owned()))?;
        self.series.push((labels, Vec::new()));
        self.stats.num_series += 1;
        Ok(BuilderSeries(n))
    }

    /// Writes one chunk of `series` to the segment files: `data` in encoding
    /// `encoding`, holding samples from `min_time` to `max_time` (inclusive),
    /// after the series' previous chunk and inside the block's range.
    pub fn add_chunk(
        &mut self,
        series: BuilderSeries,
        min_time: i64,
        max_time: i64,
        encoding: u8,
        data: &[u8],
    ) -> Result<(), BlockError> {
        let Some((labels, metas)) = self.series.get(series.0 as usize) else {
            return Err(self.invalid(CHUNKS_DIR, format!("no series {}", series.0)));
        };
        if min_time > max_time || min_time < self.min_time || max_time >= self.max_time {
            return Err(self.invalid(
                CHUNKS_DIR,
                format!(
                    "series {labels}: chunk [{min_time}, {max_time}] is not inside the block's [{}, {})",
                    self.min_time, self.max_time
                ),
            ));
        }
        if metas.last().is_some_and(|m| min_time <= m.max_time) {
            return Err(self.invalid(
                CHUNKS_DIR,
                format!("series {labels}: chunk starting at {min_time} overlaps the previous one"),
            ));
        }
        let samples = Encoding::try_from(encoding)
            .and_then(|e| chunk::num_samples(e, data))
            .map_err(|e| {
                self.invalid(
                    CHUNKS_DIR,
                    format!("series {labels}: chunk starting at {min_time}: {e}"),
                )
            })?;
        let Some(cw) = self.chunks.as_mut() else {
            return Err(self.invalid(CHUNKS_DIR, "the builder is finished".to_owned()));
        };
        let chunk_ref = match cw.write(encoding, data) {
            Ok(r) => r,
            Err(e) => return Err(self.chunks_err(e)),
        };
        self.series[series.0 as usize].1.push(ChunkMeta {
            min_time,
            max_time,
            chunk_ref,
        });
        self.stats.num_chunks += 1;
        self.stats.num_samples += u64::from(samples);
        Ok(())
    }

    /// Adds a whole series: [`start_series`](Self::start_series), then
    /// [`add_chunk`](Self::add_chunk) for each of `chunks`. If a chunk is refused,
    /// the series keeps the chunks before it.
    pub fn add_series<'c, I>(&mut self, labels: Labels, chunks: I) -> Result<(), BlockError>
    where
        I: IntoIterator<Item = ChunkData<'c>>,
    {
        let s = self.start_series(labels)?;
        for c in chunks {
            self.add_chunk(s, c.min_time, c.max_time, c.encoding, c.data)?;
        }
        Ok(())
    }

    /// Completes the block: writes out and fsyncs the chunk files, writes the
    /// index (series in label-set order) and `meta.json`, fsyncs the directory,
    /// renames it to `<parent>/<ulid>` and fsyncs `parent`. Refuses a block
    /// without series and a label set added twice.
    pub fn finish(mut self) -> Result<BlockMeta, BlockError> {
        let tmp = self.tmp.clone();
        if self.series.is_empty() {
            return Err(self.invalid(".", "nothing to write: no series".to_owned()));
        }
        if let Some(cw) = self.chunks.take() {
            cw.finish().map_err(|e| BlockError::chunks(&tmp, e))?;
        }
        let mut series = std::mem::take(&mut self.series);
        series.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = series.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(self.invalid(INDEX_FILE, format!("duplicate series {}", w[0].0)));
        }
        write_index(&*self.fs, &tmp, &series)?;
        drop(series);

        let mut meta = BlockMeta::new(self.id, self.min_time, self.max_time, self.stats.clone());
        if let Some(c) = self.compaction.take() {
            meta.compaction = c;
        }
        // Writes meta.json through meta.json.tmp and fsyncs `tmp`, which makes the
        // entries of `index` and `chunks` durable too.
        meta.write(&*self.fs, &tmp)
            .map_err(|source| BlockError::Meta {
                dir: tmp.clone(),
                source,
            })?;
        let dir = self.parent.join(self.id.to_string());
        self.fs.rename(&tmp, &dir).map_err(BlockError::io(
            &tmp,
            "rename to its final name",
            ".",
        ))?;
        self.done = true;
        if let Err(e) = self.fs.sync_dir(&self.parent) {
            // The rename may not be durable: take the block away rather than report
            // a failure and leave it behind.
            let _ = self.fs.remove_dir_all(&dir);
            return Err(BlockError::io(&dir, "fsync the parent directory of", ".")(
                e,
            ));
        }
        Ok(meta)
    }

    fn invalid(&self, file: &str, reason: String) -> BlockError {
        BlockError::Invalid {
            dir: self.tmp.clone(),
            file: file.to_owned(),
            reason,
        }
    }

    fn chunks_err(&self, e: ChunkFileError) -> BlockError {
        BlockError::chunks(&self.tmp, e)
    }
}

impl Drop for BlockBuilder {
    fn drop(&mut self) {
        if !self.done {
            // Close the segment files before removing them (and their directory).
            self.chunks = None;
            let _ = self.fs.remove_dir_all(&self.tmp);
        }
    }
}

/// One chunk handed to [`BlockBuilder::add_series`]: the times of its first and
/// last sample (inclusive), its encoding byte and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkData<'a> {
    pub min_time: i64,
    pub max_time: i64,
    pub encoding: u8,
    pub data: &'a [u8],
}

/// Writes the index of `series` (sorted, unique) into `tmp/index`.
fn write_index(
    fs: &dyn Fs,
    tmp: &Path,
    series: &[(Labels, Vec<ChunkMeta>)],
) -> Result<(), BlockError> {
    let index_err = |source| BlockError::Index {
        dir: tmp.to_owned(),
        source,
    };
    // A sorted vector rather than a set: one allocation for all symbols.
    let mut symbols: Vec<&str> = series
        .iter()
        .flat_map(|(l, _)| l.iter().flat_map(|l| [l.name, l.value]))
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    let mut iw = IndexWriter::create(fs, &tmp.join(INDEX_FILE)).map_err(index_err)?;
    for s in symbols {
        iw.add_symbol(s).map_err(index_err)?;
    }
    for (labels, chunks) in series {
        iw.add_series(labels, chunks).map_err(index_err)?;
    }
    iw.finish().map_err(index_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::tsdb::block::Block;
    use crate::tsdb::chunk::{ChunkIter, encode};
    use crate::tsdb::fs::{Access, RealFs, real};

    const HOUR: i64 = 3_600_000;

    fn labels(i: usize) -> Labels {
        Labels::new([("__name__", format!("m{}", i % 3)), ("i", format!("{i}"))]).unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn series_in_any_order_with_interleaved_chunks_read_back_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = BlockBuilder::new(&real(), tmp.path(), 0, 2 * HOUR).unwrap();
        // Series added in reverse; two chunks each, the second chunks written after
        // every series' first.
        let n = 50;
        let handles: Vec<BuilderSeries> = (0..n)
            .rev()
            .map(|i| b.start_series(labels(i)).unwrap())
            .collect();
        let samples = |i: usize, part: i64| -> Vec<(i64, f64)> {
            (0..10)
                .map(|k| {
                    (
                        part * HOUR + k * 1000 + i as i64,
                        (i * 100) as f64 + k as f64,
                    )
                })
                .collect()
        };
        let mut buf = Vec::new();
        for part in 0..2 {
            for (h, i) in handles.iter().zip((0..n).rev()) {
                let s = samples(i, part);
                let enc = encode(&s, &mut buf);
                b.add_chunk(*h, s[0].0, s[9].0, enc.into(), &buf).unwrap();
            }
        }
        let meta = b.finish().unwrap();
        assert_eq!(meta.stats.num_series, n as u64);
        assert_eq!(meta.stats.num_chunks, 2 * n as u64);
        assert_eq!(meta.stats.num_samples, 20 * n as u64);
        assert_eq!(entries(tmp.path()), vec![meta.ulid.to_string()]);

        let block = Block::open(
            &real(),
            &tmp.path().join(meta.ulid.to_string()),
            Access::Mmap,
        )
        .unwrap();
        let all = block.select(&[]).unwrap();
        let mut want: Vec<(Labels, usize)> = (0..n).map(|i| (labels(i), i)).collect();
        want.sort();
        assert_eq!(all.len(), n);
        for ((l, metas), (wl, i)) in all.iter().zip(&want) {
            assert_eq!(l, wl);
            assert_eq!(metas.len(), 2);
            for (part, m) in metas.iter().enumerate() {
                let (enc, bytes) = block.chunk(m.chunk_ref).unwrap();
                let got: Vec<(i64, f64)> =
                    ChunkIter::new(Encoding::try_from(enc).unwrap(), &*bytes).collect();
                assert_eq!(got, samples(*i, part as i64));
            }
        }
    }

    #[test]
    fn compaction_meta_is_written_as_given() {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = BlockBuilder::new(&real(), tmp.path(), 0, HOUR).unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let (p1, p2) = (BlockId::new(1, &mut rng), BlockId::new(2, &mut rng));
        b.compaction(Compaction {
            level: 2,
            sources: vec![p1, p2],
            parents: vec![p1, p2],
            failed: false,
        });
        let mut buf = Vec::new();
        let enc = encode(&[(5, 1.0)], &mut buf);
        b.add_series(
            labels(1),
            [ChunkData {
                min_time: 5,
                max_time: 5,
                encoding: enc.into(),
                data: &buf,
            }],
        )
        .unwrap();
        let meta = b.finish().unwrap();
        let read = BlockMeta::read(&RealFs, &tmp.path().join(meta.ulid.to_string())).unwrap();
        assert_eq!(read.compaction.level, 2);
        assert_eq!(read.compaction.parents, vec![p1, p2]);
        assert_eq!(read, meta);
    }

    #[test]
    fn refusals_and_abandoned_builders_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path();
        let mut buf = Vec::new();
        let enc: u8 = encode(&[(5, 1.0), (9, 2.0)], &mut buf).into();

        let mut b = BlockBuilder::new(&real(), parent, 0, HOUR).unwrap();
        let s = b.start_series(labels(1)).unwrap();
        let err = b.add_chunk(s, 5, HOUR, enc, &buf).unwrap_err();
        assert!(err.to_string().contains("not inside"), "{err}");
        let err = b.add_chunk(s, 5, 9, 200, &buf).unwrap_err();
        assert!(
            err.to_string().contains("unknown chunk encoding 200"),
            "{err}"
        );
        let err = b.add_chunk(s, 5, 9, enc, &buf[..1]).unwrap_err();
        assert!(err.to_string().contains("chunks"), "{err}");
        b.add_chunk(s, 5, 9, enc, &buf).unwrap();
        let err = b.add_chunk(s, 9, 12, enc, &buf).unwrap_err();
        assert!(err.to_string().contains("overlaps"), "{err}");
        assert_eq!(b.stats().num_samples, 2);
        assert!(b.tmp_dir().exists());
        drop(b);
        assert!(entries(parent).is_empty());

        let mut b = BlockBuilder::new(&real(), parent, 0, HOUR).unwrap();
        for _ in 0..2 {
            let s = b.start_series(labels(3)).unwrap();
            b.add_chunk(s, 5, 9, enc, &buf).unwrap();
        }
        let err = b.finish().unwrap_err();
        assert!(err.to_string().contains("duplicate series"), "{err}");
        assert!(entries(parent).is_empty());

        let err = BlockBuilder::new(&real(), parent, HOUR, HOUR).unwrap_err();
        assert!(err.to_string().contains("not before"), "{err}");
        assert!(entries(parent).is_empty());
    }
}
