//! Carrying plans out: the head's oldest range written as a block, and blocks
//! merged into one.

use std::path::Path;
use std::sync::{Arc, mpsc};

use crate::model::Labels;
use crate::tsdb::block::{Block, BlockBuilder, BlockError, BlockId, BlockMeta, Compaction};
use crate::tsdb::chunk::{self, ChunkIter, Encoding};
use crate::tsdb::fs::Fs;
use crate::tsdb::head::Head;
use crate::tsdb::index::ChunkMeta;
use crate::tsdb::tombstones::{Interval, covers, is_deleted};

/// Errors carrying out a head cut or a compaction.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("reading the head for block [{mint}, {maxt}): {reason}")]
    Head {
        mint: i64,
        maxt: i64,
        reason: String,
    },
    #[error("compacting: block {block}: {reason}")]
    Source { block: BlockId, reason: String },
}

/// Writes one series' samples (time order) to `b` as block chunks, each in the
/// encoding that suits its values best.
fn add_samples(
    b: &mut BlockBuilder,
    labels: Labels,
    samples: &[(i64, f64)],
    buf: &mut Vec<u8>,
) -> Result<(), BlockError> {
    let series = b.start_series(labels)?;
    for run in samples.chunks(chunk::BLOCK_CHUNK_SAMPLES) {
        let encoding = chunk::encode(run, buf);
        b.add_chunk(series, run[0].0, run[run.len() - 1].0, encoding.into(), buf)?;
    }
    Ok(())
}

/// Series handed from the head reader to the block writer at most in flight.
const CUT_QUEUE: usize = 256;

/// Writes what the head holds in `[mint, maxt)` as a level-1 block under
/// `parent` (`None` if the head holds nothing there), and says where the head's
/// next sample after the range is (see [`Head::block_series`]).
///
/// Two threads: this one reads the head's chunks and decodes them, a second one
/// encodes the block's chunks (the larger part of the work) and writes them:
/// 0.35 s → 0.27 s for a 2h block of 4.8 M samples (docs/benchmarks.md).
pub(crate) fn write_head_block(
    fs: &Arc<dyn Fs>,
    head: &Head,
    parent: &Path,
    mint: i64,
    maxt: i64,
) -> Result<(Option<BlockMeta>, Option<i64>), CompactError> {
    let mut b = BlockBuilder::new(fs, parent, mint, maxt)?;
    let (tx, rx) = mpsc::sync_channel::<(Labels, Vec<(i64, f64)>)>(CUT_QUEUE);
    let (read, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<BlockBuilder, BlockError> {
            let mut buf = Vec::new();
            for (labels, samples) in rx {
                add_samples(&mut b, labels, &samples, &mut buf)?;
            }
            Ok(b)
        });
        let read = head.block_series(mint, maxt, |labels, samples| {
            tx.send((labels.clone(), samples.to_vec()))
                .map_err(|_| "the block writer stopped".to_owned())
        });
        drop(tx);
        (read, writer.join())
    });
    // The writer's error first: when it stops, the reader only sees that it did.
    let b = match written {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => {
            return Err(CompactError::Head {
                mint,
                maxt,
                reason: "the block writer thread panicked".to_owned(),
            });
        }
    };
    let next = read.map_err(|reason| CompactError::Head { mint, maxt, reason })?;
    if b.stats().num_series == 0 {
        // Dropping the builder removes its temporary directory.
        return Ok((None, next));
    }
    Ok((Some(b.finish()?), next))
}

/// Merges `sources` into one new block under `parent` whose meta names them as
/// its parents (so that, once it is in place, they can go: see
/// `BlockSet::open`). Series present in several sources are merged; where their
/// chunks overlap in time the samples are merged by timestamp (of equal
/// timestamps, the block written first, lowest ULID, wins, as in queries) and
/// encoded again; otherwise chunks are copied as they are.
///
/// Samples the sources' tombstones mark deleted are left out (chunks holding
/// some are decoded and encoded again). Returns `None`, writing nothing, when no
/// sample is left.
pub(crate) fn merge_blocks(
    fs: &Arc<dyn Fs>,
    parent: &Path,
    sources: &[Arc<Block>],
) -> Result<Option<BlockMeta>, CompactError> {
    merge(fs, parent, sources, None)
}

/// Writes `block` again without the samples its tombstones mark deleted, at the
/// same level, naming it as its parent (Prometheus's CleanTombstones). `None`
/// when nothing is left of it.
pub(crate) fn rewrite_block(
    fs: &Arc<dyn Fs>,
    parent: &Path,
    block: &Arc<Block>,
) -> Result<Option<BlockMeta>, CompactError> {
    merge(
        fs,
        parent,
        std::slice::from_ref(block),
        Some(block.meta().compaction.level),
    )
}

fn merge(
    fs: &Arc<dyn Fs>,
    parent: &Path,
    sources: &[Arc<Block>],
    level: Option<u32>,
) -> Result<Option<BlockMeta>, CompactError> {
    let mut by_ulid: Vec<&Arc<Block>> = sources.iter().collect();
    by_ulid.sort_by_key(|b| b.meta().ulid);
    let min_time = sources.iter().map(|b| b.meta().min_time).min().unwrap_or(0);
    let max_time = sources.iter().map(|b| b.meta().max_time).max().unwrap_or(0);
    let mut compaction = Compaction {
        level: level.unwrap_or_else(|| {
            sources
                .iter()
                .map(|b| b.meta().compaction.level)
                .max()
                .unwrap_or(0)
                + 1
        }),
        sources: sources
            .iter()
            .flat_map(|b| b.meta().compaction.sources.iter().copied())
            .collect(),
        parents: by_ulid.iter().map(|b| b.meta().ulid).collect(),
        failed: false,
    };
    compaction.sources.sort_unstable();
    compaction.sources.dedup();

    // Every series of every source, tagged with its source (by ULID order) and
    // its deleted intervals there; chunks all deleted are left out at once.
    let mut all: Vec<(Labels, usize, Vec<ChunkMeta>, Vec<Interval>)> = Vec::new();
    for (rank, b) in by_ulid.iter().enumerate() {
        let found = b.select_with_ids(&[]).map_err(CompactError::Block)?;
        let tombstones = b.tombstones();
        all.extend(found.into_iter().filter_map(|(id, l, mut c)| {
            let deleted = tombstones.get(u64::from(id.0)).to_vec();
            c.retain(|m| !covers(&deleted, m.min_time, m.max_time));
            (!c.is_empty()).then_some((l, rank, c, deleted))
        }));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut out = BlockBuilder::new(fs, parent, min_time, max_time)?;
    out.compaction(compaction);
    let mut buf = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let mut chunks: Vec<(usize, &ChunkMeta, &[Interval])> = all[i..j]
            .iter()
            .flat_map(|(_, rank, c, d)| c.iter().map(move |m| (*rank, m, d.as_slice())))
            .collect();
        chunks.sort_by_key(|(rank, m, _)| (m.min_time, *rank));
        let overlapping = chunks
            .windows(2)
            .any(|w| w[1].1.min_time <= w[0].1.max_time)
            || chunks.iter().any(|(_, m, d)| {
                d.iter()
                    .any(|iv| iv.mint <= m.max_time && iv.maxt >= m.min_time)
            });
        let labels = all[i].0.clone();
        if overlapping {
            let mut samples: Vec<(i64, usize, f64)> = Vec::new();
            for &(rank, m, deleted) in &chunks {
                let b = by_ulid[rank];
                let (enc, bytes) = b.chunk(m.chunk_ref)?;
                let enc = Encoding::try_from(enc).map_err(|e| source_err(b, m, e))?;
                let mut it = ChunkIter::new(enc, bytes);
                samples.extend(
                    it.by_ref()
                        .filter(|&(t, _)| !is_deleted(deleted, t))
                        .map(|(t, v)| (t, rank, v)),
                );
                if let Some(e) = it.err() {
                    return Err(source_err(b, m, e));
                }
            }
            samples.sort_by_key(|s| (s.0, s.1));
            samples.dedup_by_key(|s| s.0);
            let merged: Vec<(i64, f64)> = samples.into_iter().map(|(t, _, v)| (t, v)).collect();
            if !merged.is_empty() {
                add_samples(&mut out, labels, &merged, &mut buf)?;
            }
        } else {
            let series = out.start_series(labels)?;
            for &(rank, m, _) in &chunks {
                let (enc, bytes) = by_ulid[rank].chunk(m.chunk_ref)?;
                out.add_chunk(series, m.min_time, m.max_time, enc, &bytes)?;
            }
        }
        i = j;
    }
    if out.stats().num_series == 0 {
        // Dropping the builder removes its temporary directory.
        return Ok(None);
    }
    Ok(Some(out.finish()?))
}

fn source_err(b: &Block, m: &ChunkMeta, e: impl std::fmt::Display) -> CompactError {
    CompactError::Source {
        block: b.meta().ulid,
        reason: format!(
            "chunks: chunk {} of [{}, {}]: {e}",
            m.chunk_ref, m.min_time, m.max_time
        ),
    }
}
