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

/// One stripe of the label-hash map: hash → series with that hash (a collision
/// leaves several).
type HashStripe = Padded<RwLock<U64Map<Vec<Arc<MemSeries>>>>>;
type RefStripe = Padded<RwLock<U64Map<Arc<MemSeries>>>>;

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
        stripe
            .get(&hash)
            .and_then(|v| v.iter().find(|s| s.labels() == labels).cloned())
    }

    /// Inserts `series` unless a series with the same labels exists; returns the one
    /// that is in the map afterwards and whether it is the new one.
    pub(crate) fn get_or_insert(&self, hash: u64, series: MemSeries) -> (Arc<MemSeries>, bool) {
        let mut stripe = self.by_hash[Self::hash_stripe(hash)].write();
        let bucket = stripe.entry(hash).or_default();
        if let Some(existing) = bucket.iter().find(|s| s.labels() == series.labels()) {
            return (Arc::clone(existing), false);
        }
        let series = Arc::new(series);
        bucket.push(Arc::clone(&series));
        // Insert by ref while still holding the hash stripe, so no second creator
        // can race us for the same labels.
        self.by_ref[Self::ref_stripe(series.series_ref().0)]
            .write()
            .insert(series.series_ref().0, Arc::clone(&series));
        (series, true)
    }

    /// Removes `series` from both maps (if it is still the one there).
    pub(crate) fn remove(&self, series: &Arc<MemSeries>) {
        let hash = series.labels().hash_u64();
        let mut stripe = self.by_hash[Self::hash_stripe(hash)].write();
        if let Some(bucket) = stripe.get_mut(&hash) {
            bucket.retain(|s| !Arc::ptr_eq(s, series));
            if bucket.is_empty() {
                stripe.remove(&hash);
            }
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
