//! The strings of the head's label sets, each held once.
//!
//! A head series keeps its labels as [`CompactLabels`]: the ids of its label
//! names and values in the head's [`Symbols`], as varints. Label sets repeat
//! most of their strings (names, metric names, `job` and `instance`, most
//! values), so a series of ten labels takes some twenty bytes instead of a
//! hundred and fifty.
//!
//! Each string counts its uses: interning a label set adds one per string, and
//! dropping the series that holds it (the last holder of its `Arc`) takes one
//! off; a string no series uses any more is freed and its id reused. A series
//! that left the head stays readable as long as someone holds it.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use parking_lot::RwLock;

use crate::model::Labels;
use crate::model::varint::{append_uvarint, uvarint};

/// A label set as ids into [`Symbols`]: name and value of each label, in the
/// label set's order, as LEB128 varints.
#[derive(Debug)]
pub(crate) struct CompactLabels(Box<[u8]>);

/// The strings in use by the head's label sets.
#[derive(Default)]
pub(crate) struct Symbols {
    inner: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    /// By id; a freed id is `None` until reused.
    strings: Vec<Option<Symbol>>,
    /// Freed ids, reused first.
    free: Vec<u32>,
    /// Ids by their string's hash.
    index: HashTable<u32>,
    hasher: RandomState,
}

#[derive(Debug)]
struct Symbol {
    s: Box<str>,
    /// Label sets holding it (under the read lock only ever increased: a use
    /// is taken off with the write lock held, so no reader sees it reach 0).
    uses: std::sync::atomic::AtomicU32,
}

impl CompactLabels {
    /// The ids, in order (name, value, name, value, …).
    fn ids(&self) -> impl Iterator<Item = u32> + Clone + '_ {
        let mut pos = 0;
        // Written from u32s by `intern`.
        std::iter::from_fn(move || uvarint(&self.0, &mut pos).ok().map(|id| id as u32))
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

impl Table {
    fn get(&self, id: u32) -> &str {
        // Ids come from `intern` and stay valid while a label set holds them.
        self.strings
            .get(id as usize)
            .and_then(Option::as_ref)
            .map_or("", |s| &s.s)
    }

    fn find(&self, s: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(s);
        self.index.find(hash, |&id| self.get(id) == s).copied()
    }

    fn insert(&mut self, s: &str) -> u32 {
        if let Some(id) = self.find(s) {
            return id;
        }
        let symbol = Symbol {
            s: s.into(),
            uses: 0.into(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.strings[id as usize] = Some(symbol);
                id
            }
            None => {
                // Fewer strings than fit in a u32 can be live at once: each is
                // held by a label set in memory.
                self.strings.push(Some(symbol));
                (self.strings.len() - 1) as u32
            }
        };
        let hash = self.hasher.hash_one(s);
        let Table {
            index,
            strings,
            hasher,
            ..
        } = self;
        index.insert_unique(hash, id, |&id| {
            hasher.hash_one(strings[id as usize].as_ref().map_or("", |s| &*s.s))
        });
        id
    }

    fn add_use(&self, id: u32) {
        if let Some(Some(s)) = self.strings.get(id as usize) {
            s.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Symbols {
    /// `labels` as ids, counting a use of each of its strings (given back when
    /// the result is passed to [`release`](Self::release)).
    pub(crate) fn intern(&self, labels: &Labels) -> CompactLabels {
        let parts = || labels.iter().flat_map(|l| [l.name, l.value]);
        let mut out = Vec::with_capacity(2 * labels.len() + 4);
        {
            // Usually every string is known: the read lock suffices.
            let table = self.inner.read();
            let ids: Option<Vec<u32>> = parts().map(|s| table.find(s)).collect();
            if let Some(ids) = ids {
                for id in ids {
                    table.add_use(id);
                    append_uvarint(&mut out, u64::from(id));
                }
                return CompactLabels(out.into_boxed_slice());
            }
        }
        let mut table = self.inner.write();
        for s in parts() {
            let id = table.insert(s);
            table.add_use(id);
            append_uvarint(&mut out, u64::from(id));
        }
        CompactLabels(out.into_boxed_slice())
    }

    /// Takes off the uses `intern` counted for `labels`, freeing strings no
    /// label set uses any more.
    pub(crate) fn release(&self, labels: &CompactLabels) {
        let mut guard = self.inner.write();
        let table = &mut *guard;
        for id in labels.ids() {
            let Some(Some(symbol)) = table.strings.get(id as usize) else {
                continue;
            };
            if symbol
                .uses
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed)
                > 1
            {
                continue;
            }
            let hash = table.hasher.hash_one(&*symbol.s);
            if let Ok(entry) = table.index.find_entry(hash, |&other| other == id) {
                entry.remove();
            }
            table.strings[id as usize] = None;
            table.free.push(id);
        }
    }

    /// The label set `labels` stands for.
    pub(crate) fn labels(&self, labels: &CompactLabels) -> Labels {
        let table = self.inner.read();
        Labels::from_valid_parts(labels.ids().map(|id| table.get(id)))
    }

    /// Whether `compact` stands for `labels`.
    pub(crate) fn equal(&self, compact: &CompactLabels, labels: &Labels) -> bool {
        let table = self.inner.read();
        compact
            .ids()
            .map(|id| table.get(id))
            .eq(labels.iter().flat_map(|l| [l.name, l.value]))
    }

    /// Strings held and their bytes (for the head's memory report).
    pub(crate) fn heap_bytes(&self) -> usize {
        let table = self.inner.read();
        let strings: usize = table.strings.iter().flatten().map(|s| s.s.len()).sum();
        strings
            + table.strings.capacity() * std::mem::size_of::<Option<Symbol>>()
            + table.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied()).unwrap()
    }

    fn live(s: &Symbols) -> usize {
        s.inner.read().strings.iter().flatten().count()
    }

    #[test]
    fn label_sets_read_back_and_compare_by_strings() {
        let s = Symbols::default();
        let a = labels(&[("__name__", "up"), ("job", "node"), ("instance", "a:9100")]);
        let b = labels(&[("__name__", "up"), ("job", "node"), ("instance", "b:9100")]);
        let (ca, cb) = (s.intern(&a), s.intern(&b));
        assert_eq!(s.labels(&ca), a);
        assert_eq!(s.labels(&cb), b);
        assert!(s.equal(&ca, &a) && !s.equal(&ca, &b));
        // A prefix is not equal.
        assert!(!s.equal(&ca, &labels(&[("__name__", "up")])));
        // Shared strings are held once: __name__ up instance job node a:9100 b:9100.
        assert_eq!(live(&s), 7);
        assert_eq!(s.labels(&s.intern(&Labels::empty())), Labels::empty());
    }

    #[test]
    fn strings_are_freed_with_their_last_use_and_ids_reused() {
        let s = Symbols::default();
        let a = labels(&[("pod", "a"), ("job", "x")]);
        let b = labels(&[("pod", "b"), ("job", "x")]);
        let ca = s.intern(&a);
        let ca2 = s.intern(&a);
        let cb = s.intern(&b);
        assert_eq!(live(&s), 5);
        s.release(&ca);
        assert_eq!(live(&s), 5, "a second holder still uses a's strings");
        s.release(&ca2);
        assert_eq!(live(&s), 4, "\"a\" is gone");
        assert_eq!(s.labels(&cb), b);
        // The freed id serves the next new string, and lookups still work.
        let c = labels(&[("pod", "c"), ("job", "x")]);
        let cc = s.intern(&c);
        assert_eq!(s.inner.read().strings.len(), 5);
        assert_eq!((s.labels(&cb), s.labels(&cc)), (b.clone(), c.clone()));
        s.release(&cb);
        s.release(&cc);
        assert_eq!(live(&s), 0);
        let cb = s.intern(&b);
        assert_eq!(s.labels(&cb), b);
    }

    /// Threads interning and dropping label sets that share strings leave every
    /// set readable while held and the table empty at the end.
    #[test]
    fn concurrent_interning_and_release_keep_counts_right() {
        let s = std::sync::Arc::new(Symbols::default());
        let threads: Vec<_> = (0..4u64)
            .map(|seed| {
                let s = std::sync::Arc::clone(&s);
                std::thread::spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(seed);
                    let mut held: Vec<(Labels, CompactLabels)> = Vec::new();
                    for _ in 0..5_000 {
                        if held.len() > 50 || (!held.is_empty() && rng.bool()) {
                            let (l, c) = held.swap_remove(rng.usize(..held.len()));
                            assert_eq!(s.labels(&c), l);
                            s.release(&c);
                        } else {
                            let pod = format!("p{}", rng.u32(..40));
                            let l = labels(&[("job", "j"), ("pod", &pod)]);
                            let c = s.intern(&l);
                            held.push((l, c));
                        }
                    }
                    for (l, c) in held {
                        assert_eq!(s.labels(&c), l);
                        s.release(&c);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(live(&s), 0);
        assert!(s.inner.read().index.is_empty());
    }

    #[test]
    fn many_strings_take_longer_ids() {
        let s = Symbols::default();
        let sets: Vec<Labels> = (0..40_000)
            .map(|i| labels(&[("series_id", &i.to_string())]))
            .collect();
        let compact: Vec<CompactLabels> = sets.iter().map(|l| s.intern(l)).collect();
        for (l, c) in sets.iter().zip(&compact) {
            assert_eq!(&s.labels(c), l);
        }
        assert_eq!(compact[0].heap_bytes(), 2);
        assert_eq!(compact[39_999].heap_bytes(), 1 + 3);
    }
}
