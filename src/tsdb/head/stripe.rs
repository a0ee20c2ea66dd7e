//! The series map, split into lock stripes so appenders on different series rarely
//! touch the same lock.
//!
//! Two lookups are needed: by reference (the hot path of every append after the
//! first scrape) and by label set (the first append of a series). Each has its own
//! striped map; both hold the same `Arc<MemSeries>`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use super::series::MemSeries;
use crate::model::Labels;
use crate::tsdb::SeriesRef;

/// Number of stripes; a power of two so the stripe is a mask of the key.
const STRIPES: usize = 1 << 10;
/// Consecutive refs that share a stripe: `1 << REF_RUN_BITS`.
const REF_RUN_BITS: u32 = 6;

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

/// One stripe of the label-hash map: hash → series with that hash.
type HashStripe = Padded<RwLock<U64Map<SameHash>>>;
type RefStripe = Padded<RwLock<U64Map<Arc<MemSeries>>>>;

/// The series whose label sets share one hash: almost always one, so that one
/// is held inline (a `Vec` per series cost an allocation of 32 bytes each).
enum SameHash {
    One(Arc<MemSeries>),
    Many(Vec<Arc<MemSeries>>),
}

impl SameHash {
    fn as_slice(&self) -> &[Arc<MemSeries>] {
        match self {
            SameHash::One(s) => std::slice::from_ref(s),
            SameHash::Many(v) => v,
        }
    }

    fn find(&self, labels: &Labels) -> Option<&Arc<MemSeries>> {
        self.as_slice().iter().find(|s| s.labels() == labels)
    }

    fn push(&mut self, series: Arc<MemSeries>) {
        match self {
            SameHash::One(first) => *self = SameHash::Many(vec![Arc::clone(first), series]),
            SameHash::Many(v) => v.push(series),
        }
    }

    /// Removes `series`; returns whether none is left.
    fn remove(&mut self, series: &Arc<MemSeries>) -> bool {
        let rest = match self {
            SameHash::One(s) => return Arc::ptr_eq(s, series),
            SameHash::Many(v) => {
                v.retain(|s| !Arc::ptr_eq(s, series));
                std::mem::take(v)
            }
        };
        match <[_; 1]>::try_from(rest) {
            Ok([one]) => *self = SameHash::One(one),
            Err(rest) => *self = SameHash::Many(rest),
        }
        matches!(self, SameHash::Many(v) if v.is_empty())
    }
}

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
        self.by_ref[Self::ref_stripe(r.0)].read().get(&r.0).cloned()
    }

    pub(crate) fn get_by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        let stripe = self.by_hash[Self::hash_stripe(hash)].read();
        stripe.get(&hash).and_then(|h| h.find(labels)).cloned()
    }

    /// Inserts `series` unless a series with the same labels exists; returns the one
    /// that is in the map afterwards and whether it is the new one.
    pub(crate) fn get_or_insert(&self, hash: u64, series: MemSeries) -> (Arc<MemSeries>, bool) {
        let mut stripe = self.by_hash[Self::hash_stripe(hash)].write();
        let series = match stripe.get_mut(&hash) {
            Some(same) => {
                if let Some(existing) = same.find(series.labels()) {
                    return (Arc::clone(existing), false);
                }
                let series = Arc::new(series);
                same.push(Arc::clone(&series));
                series
            }
            None => {
                let series = Arc::new(series);
                stripe.insert(hash, SameHash::One(Arc::clone(&series)));
                series
            }
        };
        // Insert by ref while still holding the hash stripe, so no second creator
        // can race us for the same labels.
        self.by_ref[Self::ref_stripe(series.series_ref().0)]
            .write()
            .insert(series.series_ref().0, Arc::clone(&series));
        (series, true)
    }

    /// Removes `series` from both maps (if it is still the one there).
    pub(crate) fn remove(&self, series: &Arc<MemSeries>) {
        self.remove_hashed(series.labels().hash_u64(), series);
    }

    /// [`remove`](Self::remove) of a series inserted under `hash`.
    fn remove_hashed(&self, hash: u64, series: &Arc<MemSeries>) {
        let mut stripe = self.by_hash[Self::hash_stripe(hash)].write();
        if stripe
            .get_mut(&hash)
            .is_some_and(|same| same.remove(series))
        {
            stripe.remove(&hash);
        }
        let r = series.series_ref().0;
        let mut by_ref = self.by_ref[Self::ref_stripe(r)].write();
        if by_ref.get(&r).is_some_and(|s| Arc::ptr_eq(s, series)) {
            by_ref.remove(&r);
        }
    }

    /// Calls `f` for every series (stripe by stripe; not a consistent snapshot).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<MemSeries>)) {
        for stripe in self.by_ref.iter() {
            for s in stripe.read().values() {
                f(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::head::series::SeriesGroup;

    fn series(r: u64, name: &str) -> MemSeries {
        let labels = Labels::new([("__name__", name)]).unwrap();
        MemSeries::new(SeriesRef(r), labels, Arc::new(SeriesGroup::new()))
    }

    /// Label sets whose hashes collide share one entry of the hash map; each is
    /// found by its own labels, and removing them one by one empties the entry.
    #[test]
    fn colliding_label_hashes_keep_every_series() {
        let map = StripeSeries::new();
        let hash = 42;
        let (a, new_a) = map.get_or_insert(hash, series(1, "a"));
        let (b, new_b) = map.get_or_insert(hash, series(2, "b"));
        let (c, new_c) = map.get_or_insert(hash, series(3, "c"));
        assert!(new_a && new_b && new_c);
        let (again, new) = map.get_or_insert(hash, series(4, "b"));
        assert!(!new && Arc::ptr_eq(&again, &b));
        let labels = |n: &str| Labels::new([("__name__", n)]).unwrap();
        for s in [&a, &b, &c] {
            let found = map.get_by_labels(hash, s.labels()).unwrap();
            assert!(Arc::ptr_eq(&found, s));
        }
        map.remove_hashed(hash, &b);
        assert!(map.get_by_labels(hash, &labels("b")).is_none());
        assert!(map.get_by_ref(SeriesRef(2)).is_none());
        map.remove_hashed(hash, &a);
        let found = map.get_by_labels(hash, &labels("c")).unwrap();
        assert!(Arc::ptr_eq(&found, &c));
        map.remove_hashed(hash, &c);
        assert!(map.get_by_labels(hash, &labels("c")).is_none());
        assert!(
            map.by_hash[StripeSeries::hash_stripe(hash)]
                .read()
                .is_empty()
        );
    }
}
