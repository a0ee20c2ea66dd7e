//! What to compact and what to delete, decided from block metadata alone, with
//! Prometheus's rules, so that a data directory ends up with the blocks an
//! operator expects from Prometheus.
//!
//! - Blocks come in ranges 2h × 3ᵏ (2h, 6h, 18h, 54h …), up to
//!   min(31 days, retention / 10) ([`block_ranges`]).
//! - [`plan`] first merges blocks whose time ranges overlap (imports make them),
//!   else the blocks of one aligned range of the next size up: when they fill it,
//!   or when it lies wholly before the newest block. The newest block is never
//!   compacted, so a fresh block can be backed up before it changes.
//! - Retention deletes whole blocks: those ending more than the retention before
//!   the newest block's end ([`beyond_time_retention`]), and the oldest ones past
//!   a size budget ([`beyond_size_retention`]).

use crate::tsdb::block::{BlockId, BlockMeta};

/// The smallest block range: 2 hours, as a head block is cut.
pub const BLOCK_RANGE_MS: i64 = 2 * 3_600_000;

const MAX_BLOCK_MS: i64 = 31 * 24 * 3_600_000;

/// The block ranges compaction builds: `BLOCK_RANGE_MS` × 3ᵏ for k < 10, those no
/// longer than min(31 days, `retention_ms` / 10) (but always the first).
pub fn block_ranges(retention_ms: Option<i64>) -> Vec<i64> {
    let mut max = MAX_BLOCK_MS;
    if let Some(r) = retention_ms.filter(|&r| r > 0) {
        max = max.min(r / 10);
    }
    let max = max.max(BLOCK_RANGE_MS);
    (0..10)
        .map(|k| BLOCK_RANGE_MS * 3i64.pow(k))
        .take_while(|&r| r <= max)
        .collect()
}

/// The blocks to merge into one next, or none. `ranges` as [`block_ranges`]
/// gives them.
pub fn plan(metas: &[BlockMeta], ranges: &[i64]) -> Vec<BlockId> {
    let mut sorted: Vec<&BlockMeta> = metas.iter().collect();
    sorted.sort_by_key(|m| (m.min_time, m.max_time));
    let overlapping = overlapping(&sorted);
    if !overlapping.is_empty() {
        return overlapping;
    }
    // Leave the newest block out.
    if sorted.len() < 2 {
        return Vec::new();
    }
    sorted.pop();
    by_range(&sorted, ranges)
}

/// The first run of blocks whose time ranges overlap, in time order (a run needs
/// two blocks at least).
fn overlapping(sorted: &[&BlockMeta]) -> Vec<BlockId> {
    let mut run: Vec<BlockId> = Vec::new();
    let Some(first) = sorted.first() else {
        return run;
    };
    let mut max_time = first.max_time;
    for pair in sorted.windows(2) {
        let (previous, block) = (pair[0], pair[1]);
        if block.min_time < max_time {
            if run.is_empty() {
                run.push(previous.ulid);
            }
            run.push(block.ulid);
        } else if !run.is_empty() {
            break;
        }
        max_time = max_time.max(block.max_time);
    }
    run
}

/// The blocks of one aligned range of the next size up, when they are two or more
/// and either fill the range or lie before the newest block (`sorted` holds all
/// blocks but that one); the smallest such range first.
fn by_range(sorted: &[&BlockMeta], ranges: &[i64]) -> Vec<BlockId> {
    let Some(last) = sorted.last() else {
        return Vec::new();
    };
    let high = last.min_time;
    for &range in ranges.iter().skip(1) {
        for group in split_by_range(sorted, range) {
            if group.iter().any(|m| m.compaction.failed) || group.len() < 2 {
                continue;
            }
            let (min, max) = (group[0].min_time, group[group.len() - 1].max_time);
            if max.saturating_sub(min) == range || max <= high {
                return group.iter().map(|m| m.ulid).collect();
            }
        }
    }
    Vec::new()
}

/// Consecutive blocks grouped by the aligned range `[k·range, (k+1)·range)` that
/// holds them; a block that does not fit in the range of its start (misaligned,
/// or already as long as the range) belongs to no group.
fn split_by_range<'m>(sorted: &[&'m BlockMeta], range: i64) -> Vec<Vec<&'m BlockMeta>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i].min_time.div_euclid(range).saturating_mul(range);
        let end = start.saturating_add(range);
        if sorted[i].max_time > end {
            i += 1;
            continue;
        }
        let mut group = Vec::new();
        while i < sorted.len() && sorted[i].max_time <= end {
            group.push(sorted[i]);
            i += 1;
        }
        groups.push(group);
    }
    groups
}

/// Blocks past time retention: every block older than the first (newest first)
/// that ends more than `retention_ms` before the newest block ends.
pub fn beyond_time_retention(metas: &[BlockMeta], retention_ms: i64) -> Vec<BlockId> {
    if retention_ms <= 0 {
        return Vec::new();
    }
    let mut newest_first: Vec<&BlockMeta> = metas.iter().collect();
    newest_first.sort_by_key(|m| std::cmp::Reverse(m.min_time));
    let Some(newest) = newest_first.first() else {
        return Vec::new();
    };
    let newest_end = newest.max_time;
    match newest_first
        .iter()
        .position(|m| newest_end.saturating_sub(m.max_time) > retention_ms)
    {
        Some(i) => newest_first[i..].iter().map(|m| m.ulid).collect(),
        None => Vec::new(),
    }
}

/// Blocks past the size budget: counting from the newest, with `head_bytes`
/// (head chunks and WAL) counted first, the block that goes over `max_bytes` and
/// every older one. `blocks` pairs each block with its size on disk.
pub fn beyond_size_retention(
    blocks: &[(BlockMeta, u64)],
    head_bytes: u64,
    max_bytes: u64,
) -> Vec<BlockId> {
    if max_bytes == 0 {
        return Vec::new();
    }
    let mut newest_first: Vec<&(BlockMeta, u64)> = blocks.iter().collect();
    newest_first.sort_by_key(|(m, _)| std::cmp::Reverse(m.min_time));
    let mut total = head_bytes;
    for (i, (_, size)) in newest_first.iter().enumerate() {
        total = total.saturating_add(*size);
        if total > max_bytes {
            return newest_first[i..].iter().map(|(m, _)| m.ulid).collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::block::BlockStats;

    const H: i64 = 3_600_000;

    fn block(n: u64, min_time: i64, max_time: i64) -> BlockMeta {
        let mut rng = fastrand::Rng::with_seed(n);
        BlockMeta::new(
            BlockId::new(n, &mut rng),
            min_time,
            max_time,
            BlockStats::default(),
        )
    }

    fn ids(blocks: &[&BlockMeta]) -> Vec<BlockId> {
        blocks.iter().map(|m| m.ulid).collect()
    }

    #[test]
    fn ranges() {
        assert_eq!(
            block_ranges(None),
            [2 * H, 6 * H, 18 * H, 54 * H, 162 * H, 486 * H]
        );
        // 15 days of retention: blocks of at most 36h.
        assert_eq!(block_ranges(Some(15 * 24 * H)), [2 * H, 6 * H, 18 * H]);
        // Less than 20h of retention still cuts 2h blocks.
        assert_eq!(block_ranges(Some(H)), [2 * H]);
    }

    #[test]
    fn full_range_is_merged_but_never_the_newest_block() {
        let r = block_ranges(None);
        let (a, b, c) = (
            block(1, 0, 2 * H),
            block(2, 2 * H, 4 * H),
            block(3, 4 * H, 6 * H),
        );
        // c is the newest: left out, and [a, b] neither fills 6h nor lies wholly
        // before the newest candidate (b itself).
        assert!(plan(&[a.clone(), b.clone(), c.clone()], &r).is_empty());
        let d = block(4, 6 * H, 8 * H);
        assert_eq!(
            plan(&[d.clone(), c.clone(), a.clone(), b.clone()], &r),
            ids(&[&a, &b, &c])
        );
        assert!(plan(std::slice::from_ref(&a), &r).is_empty());
        assert!(plan(&[], &r).is_empty());
    }

    #[test]
    fn partial_range_is_merged_once_newer_blocks_came() {
        let r = block_ranges(None);
        let (a, b) = (block(1, 0, 2 * H), block(2, 2 * H, 4 * H));
        let (e, f) = (block(3, 12 * H, 14 * H), block(4, 14 * H, 16 * H));
        // [a, b] does not fill [0, 6h), but a newer candidate (e) starts after it.
        assert_eq!(
            plan(&[a.clone(), b.clone(), e.clone(), f.clone()], &r),
            ids(&[&a, &b])
        );
        assert!(plan(&[a.clone(), b.clone(), e.clone()], &r).is_empty());
    }

    #[test]
    fn bigger_ranges_follow() {
        let r = block_ranges(None);
        let six: Vec<BlockMeta> = (0..3)
            .map(|k| block(k, k as i64 * 6 * H, (k as i64 + 1) * 6 * H))
            .collect();
        let newest = block(9, 18 * H, 20 * H);
        let mut all = six.clone();
        all.push(newest);
        assert_eq!(plan(&all, &r), ids(&six.iter().collect::<Vec<_>>()));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let r = block_ranges(None);
        let a = block(1, i64::MIN, i64::MIN + 2 * H);
        let b = block(2, i64::MIN + 2 * H, i64::MIN + 4 * H);
        let c = block(3, i64::MAX - 2 * H, i64::MAX);
        let d = block(4, 0, 2 * H);
        let metas = [a, b, c, d];
        assert_eq!(plan(&metas, &r).len(), 2);
        assert_eq!(beyond_time_retention(&metas, 15 * 24 * H).len(), 3);
    }

    #[test]
    fn overlaps_first_and_failed_left_alone() {
        let r = block_ranges(None);
        let a = block(1, 0, 2 * H);
        let imported = block(2, H, 3 * H);
        let b = block(3, 2 * H, 4 * H);
        let c = block(4, 4 * H, 6 * H);
        let d = block(5, 10 * H, 12 * H);
        assert_eq!(
            plan(&[d.clone(), b.clone(), imported.clone(), a.clone()], &r),
            ids(&[&a, &imported, &b])
        );
        assert_eq!(
            plan(&[a.clone(), b.clone(), c.clone(), d.clone()], &r),
            ids(&[&a, &b, &c])
        );
        let mut failed = a.clone();
        failed.compaction.failed = true;
        assert!(plan(&[failed, b.clone(), c.clone(), d.clone()], &r).is_empty());
    }

    #[test]
    fn misaligned_blocks_are_skipped() {
        let r = block_ranges(None);
        // Crosses the 6h boundary: fits no 6h range, and spoils the 18h one.
        let odd = block(1, 5 * H, 7 * H);
        let (a, b, c) = (
            block(2, 12 * H, 14 * H),
            block(3, 14 * H, 16 * H),
            block(4, 16 * H, 18 * H),
        );
        let newest = block(5, 20 * H, 22 * H);
        assert_eq!(
            plan(&[odd, a.clone(), b.clone(), c.clone(), newest], &r),
            ids(&[&a, &b, &c])
        );
    }

    #[test]
    fn time_retention_counts_from_the_newest_block() {
        let blocks: Vec<BlockMeta> = (0..5)
            .map(|k| block(k, k as i64 * 2 * H, (k as i64 + 1) * 2 * H))
            .collect();
        // Newest ends at 10h; retention 5h: blocks ending before 5h go (ends 2h, 4h).
        assert_eq!(
            beyond_time_retention(&blocks, 5 * H),
            ids(&[&blocks[1], &blocks[0]])
        );
        assert!(beyond_time_retention(&blocks, 100 * H).is_empty());
        assert!(beyond_time_retention(&blocks, 0).is_empty());
        assert!(beyond_time_retention(&[], 5 * H).is_empty());
    }

    #[test]
    fn size_retention_keeps_the_newest_within_budget() {
        let blocks: Vec<(BlockMeta, u64)> = (0..4)
            .map(|k| (block(k, k as i64 * 2 * H, (k as i64 + 1) * 2 * H), 100))
            .collect();
        // 50 of head, then 100 a block, newest first: 150, 250, 350 > 300, so the
        // second oldest and the oldest go.
        assert_eq!(
            beyond_size_retention(&blocks, 50, 300),
            ids(&[&blocks[1].0, &blocks[0].0])
        );
        assert_eq!(
            beyond_size_retention(&blocks, 0, 1000),
            Vec::<BlockId>::new()
        );
        assert!(beyond_size_retention(&blocks, 50, 0).is_empty());
        // The head alone over budget: every block goes.
        assert_eq!(beyond_size_retention(&blocks, 400, 300).len(), 4);
    }
}
