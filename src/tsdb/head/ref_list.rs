//! A sorted set of series refs stored as varint deltas: the lists of the head's
//! postings.
//!
//! The postings hold one entry per label of every series (ten or so a series),
//! and the refs of one label value are mostly close together: a target's
//! series are created in a run, and refs are handed out in increasing order.
//! As LEB128 deltas an entry takes one or two bytes instead of eight, and
//! appending a new ref (the common case) is a push at the end.

use crate::model::varint::{append_uvarint, uvarint};
use crate::tsdb::series_ref::SeriesRef;
use crate::tsdb::sorted::difference;

#[derive(Debug, Default, Clone)]
pub(crate) struct RefList {
    /// The first ref, then each ref's difference from the one before, as
    /// unsigned LEB128 varints.
    bytes: Vec<u8>,
    /// The largest ref (meaningless while `bytes` is empty).
    last: u64,
}

impl RefList {
    /// A list of `refs`, which must be sorted and without duplicates.
    fn from_sorted(refs: &[SeriesRef]) -> RefList {
        let mut list = RefList::default();
        for &r in refs {
            list.push_greater(r.0);
        }
        list
    }

    fn push_greater(&mut self, r: u64) {
        let delta = if self.bytes.is_empty() {
            r
        } else {
            r - self.last
        };
        append_uvarint(&mut self.bytes, delta);
        self.last = r;
    }

    /// Adds `r` unless present. Refs are handed out in increasing order, so this
    /// is almost always an append. Concurrent creators interleave their runs of
    /// refs, so the others land near the end: the place is found walking back
    /// from it, and only the bytes after it move.
    pub(crate) fn insert(&mut self, r: SeriesRef) {
        let r = r.0;
        if self.bytes.is_empty() || r > self.last {
            self.push_greater(r);
            return;
        }
        // `cur` is the ref whose delta ends at `end`; walk back until the ref
        // before it is below `r`.
        let (mut cur, mut end) = (self.last, self.bytes.len());
        loop {
            if r == cur {
                return;
            }
            // The varint ending at `end` starts after the previous last byte
            // (one with the high bit clear).
            let start = self.bytes[..end - 1]
                .iter()
                .rposition(|&b| b < 0x80)
                .map_or(0, |i| i + 1);
            let delta = uvarint(&self.bytes[start..end], &mut 0).unwrap_or(0);
            let prev = (start > 0).then(|| cur - delta);
            if prev.is_none_or(|p| p < r) {
                // Between `prev` (or the front) and `cur`.
                let mut patch = Vec::with_capacity(20);
                append_uvarint(&mut patch, prev.map_or(r, |p| r - p));
                append_uvarint(&mut patch, cur - r);
                self.bytes.splice(start..end, patch);
                return;
            }
            (cur, end) = (cur - delta, start);
        }
    }

    /// Removes the refs of `gone` (sorted) that are in the list.
    pub(crate) fn remove_all(&mut self, gone: &[SeriesRef]) {
        let kept = difference(&self.to_vec(), gone);
        *self = RefList::from_sorted(&kept);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = SeriesRef> + '_ {
        let (mut pos, mut prev) = (0, 0u64);
        std::iter::from_fn(move || {
            // Only this module writes the bytes: a varint is never cut short.
            prev = prev.wrapping_add(uvarint(&self.bytes, &mut pos).ok()?);
            Some(SeriesRef(prev))
        })
    }

    /// The refs, in increasing order.
    pub(crate) fn to_vec(&self) -> Vec<SeriesRef> {
        // At least one byte a ref.
        let mut out = Vec::with_capacity(self.bytes.len());
        out.extend(self.iter());
        out
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(v: &[u64]) -> Vec<SeriesRef> {
        v.iter().map(|&r| SeriesRef(r)).collect()
    }

    #[test]
    fn inserts_in_any_order_keep_the_list_sorted_and_unique() {
        let mut l = RefList::default();
        assert!(l.is_empty());
        for r in [5, 7, 300, 6, 5, 1, u64::MAX, 1 << 40, 300, 299, 1, 8, 0] {
            l.insert(SeriesRef(r));
        }
        assert_eq!(
            l.to_vec(),
            refs(&[0, 1, 5, 6, 7, 8, 299, 300, 1 << 40, u64::MAX])
        );
        l.remove_all(&refs(&[0]));
        l.remove_all(&refs(&[1, 6, 8, 299, u64::MAX]));
        assert_eq!(l.to_vec(), refs(&[5, 7, 300, 1 << 40]));
        l.insert(SeriesRef(301));
        assert_eq!(l.to_vec(), refs(&[5, 7, 300, 301, 1 << 40]));
        let all = l.to_vec();
        l.remove_all(&all);
        assert!(l.is_empty());
        l.insert(SeriesRef(0));
        assert_eq!(l.to_vec(), refs(&[0]));
    }

    /// Any insertion order gives the sorted set (runs of two writers
    /// interleaved, then random refs).
    #[test]
    fn matches_a_sorted_set_for_interleaved_and_random_inserts() {
        let mut want = std::collections::BTreeSet::new();
        let mut l = RefList::default();
        let mut rng = fastrand::Rng::with_seed(7);
        for i in 0..2000u64 {
            let r = match i % 3 {
                0 => 64 + i / 3,
                1 => 4096 + i / 3,
                _ => {
                    let bits = rng.u32(1..64);
                    rng.u64(..1 << bits)
                }
            };
            want.insert(r);
            l.insert(SeriesRef(r));
        }
        assert_eq!(l.to_vec(), refs(&want.into_iter().collect::<Vec<_>>()));
    }

    #[test]
    fn close_refs_take_a_byte_each() {
        let mut l = RefList::default();
        for r in 64..1064 {
            l.insert(SeriesRef(r));
        }
        assert_eq!(l.bytes.len(), 1 + 999);
        assert_eq!(l.to_vec(), (64..1064).map(SeriesRef).collect::<Vec<_>>());
    }
}
