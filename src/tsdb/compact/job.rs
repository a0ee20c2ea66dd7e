//! [`Job`]: what one compaction writes. The new block's range and ancestry, and
//! whether its sources may hold samples outside that range (a cut of the head)
//! or lie inside it (blocks merged).

use crate::tsdb::block::{BlockMeta, Compaction};

/// The block a compaction writes, given its sources.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The new block's range, `[min_time, max_time)`.
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    /// Its level, sources and parents; `None`: level 1, itself its only source.
    pub(crate) compaction: Option<Compaction>,
    /// Whether the sources hold samples outside the range: they are then left
    /// out (their chunks encoded anew without them), and the first one at or
    /// after `max_time` is reported, where the next cut starts.
    pub(crate) cut: bool,
}

impl Job {
    /// The sources' samples in `[mint, maxt)` as a level-1 block (a head cut).
    pub(crate) fn cut(mint: i64, maxt: i64) -> Job {
        Job {
            min_time: mint,
            max_time: maxt,
            compaction: None,
            cut: true,
        }
    }

    /// Blocks `metas` merged into one, a level above the highest of them, over
    /// the union of their ranges, naming them as its parents.
    pub(crate) fn merge(metas: &[&BlockMeta]) -> Job {
        let level = metas.iter().map(|m| m.compaction.level).max().unwrap_or(0) + 1;
        Job::from_blocks(metas, level)
    }

    /// Block `meta` written again (without its deleted samples) at its level,
    /// naming it as its parent.
    pub(crate) fn rewrite(meta: &BlockMeta) -> Job {
        Job::from_blocks(&[meta], meta.compaction.level)
    }

    fn from_blocks(metas: &[&BlockMeta], level: u32) -> Job {
        let mut parents: Vec<_> = metas.iter().map(|m| m.ulid).collect();
        parents.sort_unstable();
        let mut sources: Vec<_> = metas
            .iter()
            .flat_map(|m| m.compaction.sources.iter().copied())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        Job {
            min_time: metas.iter().map(|m| m.min_time).min().unwrap_or(0),
            max_time: metas.iter().map(|m| m.max_time).max().unwrap_or(0),
            compaction: Some(Compaction {
                level,
                sources,
                parents,
                failed: false,
            }),
            cut: false,
        }
    }
}
