//! Reading a finished block directory written by
//! [`write_block`](super::write_block): its meta, index and chunks.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chunks::ChunkReader;
use super::dir::{BlockError, CHUNKS_DIR, INDEX_FILE};
use super::meta::{BlockMeta, META_FILE};
use crate::model::{Labels, MatchType, Matcher};
use crate::tsdb::fs::{Access, FileSource, Fs};
use crate::tsdb::index::{ChunkMeta, IndexError, IndexReader, SeriesId};
use crate::tsdb::sorted::{difference, intersect, union};
use crate::tsdb::tombstones::{Interval, TOMBSTONES_FILE, Tombstones};

/// An open block: its meta, index and chunk segments. Reads never panic on bad
/// bytes; every error names the block directory and the file.
pub struct Block {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader<FileSource>,
    chunks: ChunkReader,
    /// Deleted time ranges by series id; replaced whole by [`Block::delete`].
    tombstones: parking_lot::RwLock<std::sync::Arc<Tombstones>>,
    /// Held by [`Block::delete`]: one rewrite of the tombstones file at a time.
    deleting: parking_lot::Mutex<()>,
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("dir", &self.dir)
            .field("ulid", &self.meta.ulid)
            .field("series", &self.index.series_count())
            .field("segments", &self.chunks.segments())
            .finish()
    }
}

impl Block {
    /// Opens the block in `dir`: reads `meta.json`, opens and checks the index and
    /// the headers of the chunk segments, reaching the files through `fs` as
    /// `access` says.
    pub fn open(fs: &Arc<dyn Fs>, dir: &Path, access: Access) -> Result<Block, BlockError> {
        let meta = BlockMeta::read(&**fs, dir).map_err(|source| BlockError::Meta {
            dir: dir.to_owned(),
            source,
        })?;
        let path = dir.join(INDEX_FILE);
        let source = FileSource::open(&**fs, &path, access)
            .map_err(BlockError::io(dir, "open", INDEX_FILE))?;
        let index = IndexReader::open(source).map_err(index_err(dir))?;
        let chunks = ChunkReader::open(&**fs, &dir.join(CHUNKS_DIR), access)
            .map_err(|e| BlockError::chunks(dir, e))?;
        let tombstones =
            Tombstones::read_dir(&**fs, dir).map_err(|source| BlockError::Tombstones {
                dir: dir.to_owned(),
                source,
            })?;
        Ok(Block {
            fs: Arc::clone(fs),
            dir: dir.to_owned(),
            meta,
            index,
            chunks,
            tombstones: parking_lot::RwLock::new(std::sync::Arc::new(tombstones)),
            deleting: parking_lot::Mutex::new(()),
        })
    }

    /// The block's tombstones as they are now (keys are series ids).
    pub fn tombstones(&self) -> std::sync::Arc<Tombstones> {
        std::sync::Arc::clone(&self.tombstones.read())
    }

    /// Marks the samples in `[mint, maxt]` of the series matching `matchers`
    /// deleted: each series' interval is clamped to the block's range and to its
    /// chunks, the `tombstones` file is rewritten (atomically) and the new
    /// tombstones take effect for readers that look after this returns. Returns
    /// whether anything changed.
    pub fn delete(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<bool, BlockError> {
        let lo = mint.max(self.meta.min_time);
        let hi = maxt.min(self.meta.max_time.saturating_sub(1));
        if lo > hi {
            return Ok(false);
        }
        let _one = self.deleting.lock();
        let mut next = (*self.tombstones()).clone();
        let mut changed = false;
        for (id, _, chunks) in self.select_with_ids(matchers)? {
            let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
                continue;
            };
            let (a, b) = (lo.max(first.min_time), hi.min(last.max_time));
            if a <= b {
                changed |= next.add(u64::from(id.0), Interval::new(a, b));
            }
        }
        if !changed {
            return Ok(false);
        }
        self.write_tombstones(next)?;
        Ok(true)
    }

    /// Replaces the tombstones file and what readers see.
    fn write_tombstones(&self, t: Tombstones) -> Result<(), BlockError> {
        t.write_dir(&*self.fs, &self.dir)
            .map_err(|source| BlockError::Tombstones {
                dir: self.dir.clone(),
                source,
            })?;
        *self.tombstones.write() = std::sync::Arc::new(t);
        Ok(())
    }

    /// The block's files, relative to its directory (`meta.json`, `index`,
    /// `tombstones` when present, `chunks/NNNNNN`): what a snapshot links.
    pub fn files(&self) -> Result<Vec<std::path::PathBuf>, BlockError> {
        let mut out = vec![PathBuf::from(META_FILE), PathBuf::from(INDEX_FILE)];
        if self.fs.exists(&self.dir.join(TOMBSTONES_FILE)) {
            out.push(PathBuf::from(TOMBSTONES_FILE));
        }
        let chunks = self.dir.join(CHUNKS_DIR);
        let list = self
            .fs
            .read_dir(&chunks)
            .map_err(BlockError::io(&self.dir, "list", CHUNKS_DIR))?;
        let mut segs = Vec::new();
        for e in list {
            segs.push(Path::new(CHUNKS_DIR).join(e.name));
        }
        segs.sort();
        out.extend(segs);
        Ok(out)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Every label name of the block's series, in order.
    pub fn label_names(&self) -> Vec<String> {
        self.index.label_names()
    }

    /// The values of label `name`, in order (empty if no series has it).
    pub fn label_values(&self, name: &str) -> Result<Vec<String>, BlockError> {
        self.index.label_values(name).map_err(index_err(&self.dir))
    }

    /// The series matching every matcher, in label-set order, with their chunks.
    /// Answered by the postings lists, as the head answers it: an `=` matcher with
    /// a value is one list; any other matcher that does not match `""` is the
    /// union of the lists of the label's values it matches; a matcher that matches
    /// `""` (an absent label counts as `""`) removes the series whose value it
    /// rejects. No matcher selects every series.
    pub fn select(
        &self,
        matchers: &[Matcher],
    ) -> Result<Vec<(Labels, Vec<ChunkMeta>)>, BlockError> {
        Ok(self
            .select_with_ids(matchers)?
            .into_iter()
            .map(|(_, l, c)| (l, c))
            .collect())
    }

    /// [`select`](Self::select) with each series' id (the key of its tombstones).
    #[allow(clippy::type_complexity)]
    pub fn select_with_ids(
        &self,
        matchers: &[Matcher],
    ) -> Result<Vec<(SeriesId, Labels, Vec<ChunkMeta>)>, BlockError> {
        self.postings(matchers)?
            .into_iter()
            .map(|id| {
                let (l, c) = self.series(id)?;
                Ok((id, l, c))
            })
            .collect()
    }

    /// The ids of the series matching every matcher, sorted (so in label-set
    /// order), as [`select`](Self::select) finds them, without reading the
    /// series.
    pub(crate) fn postings(&self, matchers: &[Matcher]) -> Result<Vec<SeriesId>, BlockError> {
        let err = index_err(&self.dir);
        let postings = |name: &str, values: &mut dyn Iterator<Item = &String>| {
            values
                .map(|v| self.index.postings(name, v))
                .collect::<Result<Vec<_>, _>>()
                .map(union)
        };
        let mut ids: Option<Vec<SeriesId>> = None;
        let mut subtract: Vec<Vec<SeriesId>> = Vec::new();
        for m in matchers {
            let list = if m.kind() == MatchType::Equal && !m.value().is_empty() {
                self.index.postings(m.name(), m.value()).map_err(&err)?
            } else {
                let values = self.index.label_values(m.name()).map_err(&err)?;
                if m.matches("") {
                    let rejected = postings(m.name(), &mut values.iter().filter(|v| !m.matches(v)))
                        .map_err(&err)?;
                    if !rejected.is_empty() {
                        subtract.push(rejected);
                    }
                    continue;
                }
                postings(m.name(), &mut values.iter().filter(|v| m.matches(v))).map_err(&err)?
            };
            let list = match ids {
                None => list,
                Some(prev) => intersect(&prev, &list),
            };
            if list.is_empty() {
                return Ok(Vec::new());
            }
            ids = Some(list);
        }
        let mut ids = ids.unwrap_or_else(|| self.index.all_postings());
        for s in &subtract {
            ids = difference(&ids, s);
        }
        Ok(ids)
    }

    /// The labels and chunks of series `id`.
    pub(crate) fn series(&self, id: SeriesId) -> Result<(Labels, Vec<ChunkMeta>), BlockError> {
        self.index.series(id).map_err(index_err(&self.dir))
    }

    /// The encoding byte and bytes of the chunk at `chunk_ref`, CRC-checked.
    pub fn chunk(&self, chunk_ref: u64) -> Result<(u8, Cow<'_, [u8]>), BlockError> {
        self.chunks
            .chunk(chunk_ref)
            .map_err(|e| BlockError::chunks(&self.dir, e))
    }
}

fn index_err(dir: &Path) -> impl Fn(IndexError) -> BlockError + '_ {
    move |source| BlockError::Index {
        dir: dir.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::fs;

    use super::*;
    use crate::tsdb::block::writer::write_block_as;
    use crate::tsdb::block::{BlockId, StoredChunk, chunk_segment_name, write_block};
    use crate::tsdb::chunk::{XorAppender, XorIter};
    use crate::tsdb::fs::real;

    const HOUR: i64 = 3_600_000;
    const BOTH: [Access; 2] = [Access::Mmap, Access::Pread];

    type Model = Vec<(Labels, Vec<Vec<(i64, f64)>>)>;

    /// `n` series in label order, each with 1 to 3 chunks of real XOR samples.
    fn model(n: usize, seed: u64) -> Model {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut out: Model = (0..n)
            .map(|i| {
                let mut pairs = vec![
                    ("__name__", format!("metric_{}", i % 5)),
                    ("job", format!("job{}", i % 7)),
                    ("instance", format!("inst{i}")),
                ];
                if i % 3 == 0 {
                    pairs.push(("env", "prod".to_owned()));
                }
                let labels = Labels::new(pairs).unwrap();
                let mut t = rng.i64(0..60_000);
                let chunks = (0..rng.usize(1..=3))
                    .map(|_| {
                        let samples: Vec<(i64, f64)> = (0..rng.usize(1..=120))
                            .map(|_| {
                                t += rng.i64(1..30_000);
                                (t, (rng.f64() * 1000.0).round() / 8.0)
                            })
                            .collect();
                        t += 1;
                        samples
                    })
                    .collect();
                (labels, chunks)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn stored(m: &Model) -> Vec<(Labels, Vec<StoredChunk>)> {
        m.iter()
            .map(|(l, chunks)| {
                let chunks = chunks
                    .iter()
                    .map(|samples| {
                        let mut app = XorAppender::new();
                        for &(t, v) in samples {
                            app.append(t, v);
                        }
                        StoredChunk {
                            min_time: samples[0].0,
                            max_time: samples[samples.len() - 1].0,
                            encoding: 1,
                            data: app.into_bytes(),
                        }
                    })
                    .collect();
                (l.clone(), chunks)
            })
            .collect()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn write(parent: &Path, m: &Model) -> (BlockMeta, PathBuf) {
        let meta = write_block(&real(), parent, stored(m), 0, 4 * HOUR).unwrap();
        let dir = parent.join(meta.ulid.to_string());
        (meta, dir)
    }

    fn flip(path: &Path, at: u64) {
        let mut bytes = fs::read(path).unwrap();
        bytes[at as usize] ^= 0x5a;
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn round_trip_select_and_chunks() {
        let tmp = tempfile::tempdir().unwrap();
        let m = model(300, 1);
        let (meta, dir) = write(tmp.path(), &m);
        assert_eq!(entries(tmp.path()), vec![meta.ulid.to_string()]);
        assert_eq!(entries(&dir), vec!["chunks", "index", "meta.json"]);
        let samples: usize = m.iter().flat_map(|s| &s.1).map(Vec::len).sum();
        let chunks: usize = m.iter().map(|s| s.1.len()).sum();
        assert_eq!(meta.stats.num_series, 300);
        assert_eq!(meta.stats.num_samples, samples as u64);
        assert_eq!(meta.stats.num_chunks, chunks as u64);
        assert_eq!((meta.min_time, meta.max_time), (0, 4 * HOUR));

        let matcher_sets: Vec<Vec<Matcher>> = vec![
            vec![],
            vec![Matcher::equal("__name__", "metric_1")],
            vec![
                Matcher::equal("__name__", "metric_1"),
                Matcher::equal("job", "job3"),
            ],
            vec![
                Matcher::not_equal("job", "job2"),
                Matcher::equal("env", "prod"),
            ],
            vec![Matcher::regex("instance", "inst1.*").unwrap()],
            vec![Matcher::equal("env", ""), Matcher::equal("job", "job0")],
            vec![Matcher::equal("__name__", "nope")],
            vec![
                Matcher::equal("job", "job1"),
                Matcher::not_regex("env", "p.*").unwrap(),
            ],
            vec![Matcher::equal("nolabel", "x")],
        ];
        for access in BOTH {
            let block = Block::open(&real(), &dir, access).unwrap();
            assert_eq!(block.meta(), &meta);
            assert_eq!(
                block.label_names(),
                vec!["__name__", "env", "instance", "job"]
            );
            let jobs: Vec<String> = (0..7).map(|j| format!("job{j}")).collect();
            assert_eq!(block.label_values("job").unwrap(), jobs);
            assert_eq!(block.label_values("env").unwrap(), vec!["prod"]);
            assert!(block.label_values("nolabel").unwrap().is_empty());
            for ms in &matcher_sets {
                let want: Vec<&Labels> = m
                    .iter()
                    .map(|s| &s.0)
                    .filter(|l| ms.iter().all(|x| x.matches(l.get(x.name()).unwrap_or(""))))
                    .collect();
                let got = block.select(ms).unwrap();
                let got_labels: Vec<&Labels> = got.iter().map(|s| &s.0).collect();
                assert_eq!(got_labels, want, "{ms:?}");
            }
            let all = block.select(&[]).unwrap();
            assert_eq!(all.len(), m.len());
            for ((labels, metas), (want_labels, want_chunks)) in all.iter().zip(&m) {
                assert_eq!(labels, want_labels);
                assert_eq!(metas.len(), want_chunks.len());
                for (cm, want) in metas.iter().zip(want_chunks) {
                    assert_eq!(cm.min_time, want[0].0);
                    assert_eq!(cm.max_time, want[want.len() - 1].0);
                    let (enc, bytes) = block.chunk(cm.chunk_ref).unwrap();
                    assert_eq!(enc, 1);
                    let mut it = XorIter::new(&*bytes);
                    let got: Vec<(i64, f64)> = it.by_ref().collect();
                    assert!(it.err().is_none());
                    assert_eq!(&got, want, "{labels}");
                }
            }
        }
    }

    #[test]
    fn refused_input_and_failures_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path();
        let err = write_block(&real(), parent, Vec::new(), 0, HOUR).unwrap_err();
        assert!(err.to_string().contains("nothing to write"), "{err}");
        assert!(err.to_string().contains(".tmp"), "{err}");

        let m = model(10, 2);
        let mut unsorted = stored(&m);
        unsorted.swap(2, 5);
        let err = write_block(&real(), parent, unsorted, 0, 4 * HOUR).unwrap_err();
        assert!(err.to_string().contains("sorted"), "{err}");
        let mut dup = stored(&m);
        dup.insert(3, dup[3].clone());
        let err = write_block(&real(), parent, dup, 0, 4 * HOUR).unwrap_err();
        assert!(err.to_string().contains("duplicate series"), "{err}");
        let err = write_block(&real(), parent, stored(&m), 0, 1000).unwrap_err();
        assert!(err.to_string().contains("not inside"), "{err}");
        let mut bad = stored(&m);
        bad[0].1[0].encoding = 7;
        assert!(write_block(&real(), parent, bad, 0, 4 * HOUR).is_err());
        assert!(entries(parent).is_empty());

        // A failure after every file is written: the final name is taken.
        let id = BlockId::now();
        let taken = parent.join(id.to_string());
        fs::create_dir(&taken).unwrap();
        fs::write(taken.join("x"), b"x").unwrap();
        let err = write_block_as(&real(), parent, stored(&m), 0, 4 * HOUR, id).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("{id}.tmp")) && text.contains("rename"),
            "{text}"
        );
        assert_eq!(entries(parent), vec![id.to_string()]);
        assert_eq!(entries(&taken), vec!["x"]);
    }

    #[test]
    fn missing_meta_names_block_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, dir) = write(tmp.path(), &model(5, 3));
        fs::remove_file(dir.join("meta.json")).unwrap();
        let err = Block::open(&real(), &dir, Access::Mmap).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&*dir.to_string_lossy()) && text.contains("meta.json"),
            "{text}"
        );
        assert_eq!(err.file(), "meta.json");
    }

    #[test]
    fn damaged_index_names_block_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let m = model(200, 4);
        let (_, dir) = write(tmp.path(), &m);
        let path = dir.join("index");
        let good = fs::read(&path).unwrap();
        let dir_text = dir.to_string_lossy().into_owned();

        // A symbol: open checks the symbol table's CRC.
        flip(&path, 12);
        for access in BOTH {
            let err = Block::open(&real(), &dir, access).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&dir_text) && text.contains(": index: "),
                "{text}"
            );
            assert_eq!((err.dir(), err.file()), (dir.as_path(), "index"));
        }

        // The first series entry: only that series is lost.
        fs::write(&path, &good).unwrap();
        let toc = good.len() - 52;
        let series_start = u64::from_be_bytes(good[toc + 8..toc + 16].try_into().unwrap());
        flip(&path, series_start + 1);
        let first = m[0].0.get("instance").unwrap();
        for access in BOTH {
            let block = Block::open(&real(), &dir, access).unwrap();
            let err = block.select(&[]).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&dir_text) && text.contains(": index: "),
                "{text}"
            );
            assert!(block.select(&[Matcher::equal("instance", first)]).is_err());
            for (labels, chunks) in &m[1..] {
                let inst = labels.get("instance").unwrap();
                let got = block.select(&[Matcher::equal("instance", inst)]).unwrap();
                assert_eq!(got.len(), 1);
                assert_eq!(&got[0].0, labels);
                assert_eq!(got[0].1.len(), chunks.len());
            }
        }
    }

    #[test]
    fn damaged_chunk_names_block_and_segment() {
        let tmp = tempfile::tempdir().unwrap();
        let m = model(200, 5);
        let (_, dir) = write(tmp.path(), &m);
        let dir_text = dir.to_string_lossy().into_owned();
        let all = Block::open(&real(), &dir, Access::Pread)
            .unwrap()
            .select(&[])
            .unwrap();
        let victim = all[17].1[0].chunk_ref;
        let segment = (victim >> 32) as u32;
        let name = format!("chunks/{}", chunk_segment_name(segment));
        flip(&dir.join(&name), (victim & 0xffff_ffff) + 4);
        for access in BOTH {
            let block = Block::open(&real(), &dir, access).unwrap();
            let err = block.chunk(victim).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(&dir_text) && text.contains(&name), "{text}");
            assert_eq!(err.file(), name);
            let mut others = 0;
            for ((_, metas), (_, want)) in block.select(&[]).unwrap().iter().zip(&m) {
                for (cm, samples) in metas.iter().zip(want) {
                    if cm.chunk_ref == victim {
                        continue;
                    }
                    let (_, bytes) = block.chunk(cm.chunk_ref).unwrap();
                    let got: Vec<(i64, f64)> = XorIter::new(&*bytes).collect();
                    assert_eq!(&got, samples);
                    others += 1;
                }
            }
            assert!(others > 200);
        }
        let refs: BTreeSet<u64> = all
            .iter()
            .flat_map(|s| s.1.iter().map(|c| c.chunk_ref))
            .collect();
        assert_eq!(refs.len(), all.iter().map(|s| s.1.len()).sum::<usize>());
    }
}
