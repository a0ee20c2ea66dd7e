//! The series map, split into lock stripes so appenders on different series rarely
//! touch the same lock.
//!
//! Two lookups are needed: by reference (the hot path of every append after the
//! first scrape) and by label set (the first append of a series). Each has its own
//! striped map; both hold the same `Arc<MemSeries>`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use super::series::MemSeries;
use crate::model::Labels;
use crate::tsdb::series_ref::SeriesRef;

/// Number of stripes; a power of two so the stripe is a mask of the key.
const STRIPES: usize = 1 << 10;
/// Consecutive refs that share a stripe: `1 << REF_RUN_BITS`.
const REF_RUN_BITS: u32 = 6;
const REF_RUN: u64 = 1 << REF_RUN_BITS;

/// Hasher for keys that are already well-spread `u64`s (refs and label hashes):
/// a multiply mixes the bits, no need for SipHash on the hot path.
#[derive(Default)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type U64Map<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

/// One stripe of the label-hash map.
///
/// Label hashes almost never collide, so the first series of a hash is held
/// inline in `first` (16 bytes an entry) and only the others in `more`: an
/// entry that could hold many (a `Vec` or an enum around one) made every entry
/// 32 bytes, for the collisions of a few series in millions.
#[derive(Default)]
struct HashMaps {
    first: U64Map<Arc<MemSeries>>,
    more: U64Map<Vec<Arc<MemSeries>>>,
}

impl HashMaps {
    fn find(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        let first = self.first.get(&hash)?;
        if first.has_labels(labels) {
            return Some(first);
        }
        self.more.get(&hash)?.iter().find(|s| s.has_labels(labels))
    }

    /// Adds a series whose labels are not in the map yet.
    fn insert(&mut self, hash: u64, series: Arc<MemSeries>) {
        match self.first.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(series);
            }
            Entry::Occupied(_) => self.more.entry(hash).or_default().push(series),
        }
    }

    /// Removes `series` if it is in the map under `hash`.
    fn remove(&mut self, hash: u64, series: &Arc<MemSeries>) {
        let Some(first) = self.first.get(&hash) else {
            return;
        };
        if Arc::ptr_eq(first, series) {
            // The next series of the hash, if any, takes its place.
            let next = self.more.get_mut(&hash).and_then(|m| m.pop());
            match next {
                Some(next) => {
                    self.first.insert(hash, next);
                }
                None => {
                    self.first.remove(&hash);
                }
            }
        } else if let Some(more) = self.more.get_mut(&hash) {
            more.retain(|s| !Arc::ptr_eq(s, series));
        }
        if self.more.get(&hash).is_some_and(Vec::is_empty) {
            self.more.remove(&hash);
        }
    }
}

type HashStripe = Padded<RwLock<HashMaps>>;

/// One stripe of the ref map: a run of [`REF_RUN`] refs (`ref >> REF_RUN_BITS`)
/// → its series by `ref % REF_RUN`, up to the highest one present.
///
/// Refs are handed out in runs (a writer reserves a group of them), so a run
/// is mostly full: one entry a run, and 8 bytes a series, instead of an entry
/// of 16 bytes (and the hash table's spare room) per series.
type RefStripe = Padded<RwLock<U64Map<Vec<Option<Arc<MemSeries>>>>>>;

/// Gives each stripe its own cache lines, so taking one lock does not invalidate
/// its neighbours in the other core's cache (128: adjacent-line prefetch pairs).
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Series striped by ref and by label hash.
pub(crate) struct StripeSeries {
    by_ref: Box<[RefStripe]>,
    by_hash: Box<[HashStripe]>,
}

impl StripeSeries {
    pub(crate) fn new() -> StripeSeries {
        StripeSeries {
            by_ref: (0..STRIPES).map(|_| Padded(RwLock::default())).collect(),
            by_hash: (0..STRIPES).map(|_| Padded(RwLock::default())).collect(),
        }
    }

    /// Stripe of a label hash: its low bits are as good as any.
    fn hash_stripe(hash: u64) -> usize {
        (hash as usize) & (STRIPES - 1)
    }

    /// Stripe of a ref. Refs are handed out in sequence, and the series of one
    /// writer (one target) are mostly created together: runs of consecutive refs
    /// share a stripe, so two writers on different targets rarely share a lock.
    /// Striping by the low bits instead made every writer touch every stripe, and
    /// the lock words bounced between cores.
    fn ref_stripe(r: u64) -> usize {
        ((r >> REF_RUN_BITS) as usize) & (STRIPES - 1)
    }

    pub(crate) fn get_by_ref(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        let stripe = self.by_ref[Self::ref_stripe(r.0)].read();
        let run = stripe.get(&(r.0 >> REF_RUN_BITS))?;
        run.get((r.0 % REF_RUN) as usize)?.clone()
    }

    pub(crate) fn get_by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        let stripe = self.by_hash[Self::hash_stripe(hash)].read();
        stripe.find(hash, labels).cloned()
    }

    /// Inserts `series`, whose labels are `labels`, unless a series with the
    /// same labels exists; returns the one that is in the map afterwards and
    /// whether it is the new one.
    pub(crate) fn get_or_insert(
        &self,
        hash: u64,
        labels: &Labels,
        series: MemSeries,
    ) -> (Arc<MemSeries>, bool) {
        let mut stripe = self.by_hash[Self::hash_stripe(hash)].write();
        if let Some(existing) = stripe.find(hash, labels) {
            return (Arc::clone(existing), false);
        }
        let series = Arc::new(series);
        stripe.insert(hash, Arc::clone(&series));
        // Insert by ref while still holding the hash stripe, so no second creator
        // can race us for the same labels.
        let r = series.series_ref().0;
        let mut by_ref = self.by_ref[Self::ref_stripe(r)].write();
        let run = by_ref.entry(r >> REF_RUN_BITS).or_default();
        let slot = (r % REF_RUN) as usize;
        if run.len() <= slot {
            run.resize(slot + 1, None);
        }
        run[slot] = Some(Arc::clone(&series));
        (series, true)
    }

    /// Removes `series`, whose labels hash to `hash`, from both maps (if it is
    /// still the one there). The caller has its labels at hand: building them
    /// again from the symbols here would do the work twice.
    pub(crate) fn remove(&self, hash: u64, series: &Arc<MemSeries>) {
        self.by_hash[Self::hash_stripe(hash)]
            .write()
            .remove(hash, series);
        let r = series.series_ref().0;
        let mut by_ref = self.by_ref[Self::ref_stripe(r)].write();
        let Some(run) = by_ref.get_mut(&(r >> REF_RUN_BITS)) else {
            return;
        };
        let slot = (r % REF_RUN) as usize;
        if run
            .get(slot)
            .is_some_and(|s| s.as_ref().is_some_and(|s| Arc::ptr_eq(s, series)))
        {
            run[slot] = None;
        }
        if run.iter().all(Option::is_none) {
            by_ref.remove(&(r >> REF_RUN_BITS));
        }
    }

    /// Calls `f` for every series (stripe by stripe; not a consistent snapshot).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<MemSeries>)) {
        for stripe in self.by_ref.iter() {
            for s in stripe.read().values().flatten().flatten() {
                f(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::head::series::SeriesGroup;
    use crate::tsdb::head::symbols::Symbols;

    /// Label sets whose hashes collide share one entry of the hash map; each is
    /// found by its own labels, and removing them one by one empties the entry.
    #[test]
    fn colliding_label_hashes_keep_every_series() {
        let symbols = Arc::new(Symbols::default());
        let group = Arc::new(SeriesGroup::new(Arc::clone(&symbols)));
        let labels = |n: &str| Labels::new([("__name__", n)]).unwrap();
        let map = StripeSeries::new();
        let hash = 42;
        let insert = |r: u64, name: &str| {
            let l = labels(name);
            map.get_or_insert(
                hash,
                &l,
                MemSeries::new(SeriesRef(r), &l, Arc::clone(&group)),
            )
        };
        let (a, new_a) = insert(1, "a");
        let (b, new_b) = insert(2, "b");
        let (c, new_c) = insert(3, "c");
        assert!(new_a && new_b && new_c);
        let (again, new) = insert(4, "b");
        assert!(!new && Arc::ptr_eq(&again, &b));
        for s in [&a, &b, &c] {
            let found = map.get_by_labels(hash, &s.labels()).unwrap();
            assert!(Arc::ptr_eq(&found, s));
        }
        map.remove(hash, &b);
        assert!(map.get_by_labels(hash, &labels("b")).is_none());
        assert!(map.get_by_ref(SeriesRef(2)).is_none());
        map.remove(hash, &a);
        let found = map.get_by_labels(hash, &labels("c")).unwrap();
        assert!(Arc::ptr_eq(&found, &c));
        map.remove(hash, &c);
        assert!(map.get_by_labels(hash, &labels("c")).is_none());
        let stripe = map.by_hash[StripeSeries::hash_stripe(hash)].read();
        assert!(stripe.first.is_empty() && stripe.more.is_empty());
    }
}
