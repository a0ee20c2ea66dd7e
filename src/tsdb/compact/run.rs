//! Carrying plans out: the head's oldest range written as a block.

use std::path::Path;

use crate::model::Labels;
use crate::tsdb::block::{BlockError, BlockMeta, StoredChunk, write_block};
use crate::tsdb::chunk;
use crate::tsdb::head::Head;

/// Samples per chunk in blocks written from known samples (a head cut, an
/// import, a merge of overlapping blocks).
const BLOCK_CHUNK_SAMPLES: usize = 120;

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
}

/// Splits one series' samples (time order) into block chunks, each in the
/// encoding that suits its values best.
pub(crate) fn encode_chunks(samples: &[(i64, f64)], out: &mut Vec<StoredChunk>) {
    for run in samples.chunks(BLOCK_CHUNK_SAMPLES) {
        let mut data = Vec::new();
        let encoding = chunk::encode(run, &mut data);
        out.push(StoredChunk {
            min_time: run[0].0,
            max_time: run[run.len() - 1].0,
            encoding: encoding.into(),
            data,
        });
    }
}

/// Writes what the head holds in `[mint, maxt)` as a level-1 block under
/// `parent`. `None` if the head holds nothing there.
pub(crate) fn write_head_block(
    head: &Head,
    parent: &Path,
    mint: i64,
    maxt: i64,
) -> Result<Option<BlockMeta>, CompactError> {
    let mut series: Vec<(Labels, Vec<StoredChunk>)> = Vec::new();
    head.block_series(mint, maxt, |labels, samples| {
        let mut chunks = Vec::new();
        encode_chunks(samples, &mut chunks);
        series.push((labels.clone(), chunks));
        Ok(())
    })
    .map_err(|reason| CompactError::Head { mint, maxt, reason })?;
    if series.is_empty() {
        return Ok(None);
    }
    Ok(Some(write_block(parent, series, mint, maxt)?))
}
