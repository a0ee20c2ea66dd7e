//! The in-memory inverted index: label pair → sorted list of series refs.
//!
//! Selection by matchers works on these lists, not on the series: an equality
//! matcher is one list lookup, a regex walks the values of one label name (never
//! all series), and the lists are intersected and subtracted as sorted runs.
//! The lists are kept as varint deltas ([`RefList`]) and decoded for that.

use std::collections::HashMap;

use parking_lot::RwLock;

use super::ref_list::RefList;
use crate::model::{Labels, Matcher};
use crate::tsdb::series_ref::SeriesRef;
use crate::tsdb::sorted::{difference, intersect, union};

/// Label name → label value → sorted refs of the series having that pair.
#[derive(Default)]
pub(crate) struct MemPostings {
    inner: RwLock<Index>,
}

#[derive(Default)]
struct Index {
    by_name: HashMap<Box<str>, HashMap<Box<str>, RefList>>,
    /// Every series.
    all: RefList,
}

impl MemPostings {
    pub(crate) fn add(&self, r: SeriesRef, labels: &Labels) {
        let mut idx = self.inner.write();
        for l in labels {
            let values = match idx.by_name.get_mut(l.name) {
                Some(v) => v,
                None => idx.by_name.entry(l.name.into()).or_default(),
            };
            match values.get_mut(l.value) {
                Some(list) => list.insert(r),
                None => {
                    let mut list = RefList::default();
                    list.insert(r);
                    values.insert(l.value.into(), list);
                }
            }
        }
        idx.all.insert(r);
    }

    /// Removes the series `r` (with these labels) from every list; a value or name
    /// left without series goes too.
    pub(crate) fn delete(&self, removed: &[(SeriesRef, Labels)]) {
        if removed.is_empty() {
            return;
        }
        // Each list is rewritten once, without all its removed refs.
        let mut by_pair: HashMap<(&str, &str), Vec<SeriesRef>> = HashMap::new();
        for (r, labels) in removed {
            for l in labels {
                by_pair.entry((l.name, l.value)).or_default().push(*r);
            }
        }
        let mut idx = self.inner.write();
        for ((name, value), mut gone) in by_pair {
            let Some(values) = idx.by_name.get_mut(name) else {
                continue;
            };
            if let Some(list) = values.get_mut(value) {
                gone.sort_unstable();
                list.remove_all(&gone);
                if list.is_empty() {
                    values.remove(value);
                }
            }
            if values.is_empty() {
                idx.by_name.remove(name);
            }
        }
        let mut gone: Vec<SeriesRef> = removed.iter().map(|(r, _)| *r).collect();
        gone.sort_unstable();
        idx.all.remove_all(&gone);
    }

    /// Refs of the series that satisfy every matcher, sorted.
    ///
    /// A matcher that does not match `""` needs the label: it contributes the union
    /// of the lists of the values it matches, and those are intersected. A matcher
    /// that matches `""` also accepts series without the label: it removes the
    /// series whose value it rejects. With no matcher of the first kind, the start is
    /// every series.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let idx = self.inner.read();
        let mut result: Option<Vec<SeriesRef>> = None;
        let mut subtract: Vec<Vec<SeriesRef>> = Vec::new();
        for m in matchers {
            let values = idx.by_name.get(m.name());
            if m.matches("") {
                let rejected = values
                    .map(|vals| {
                        union(
                            vals.iter()
                                .filter(|(v, _)| !m.matches(v))
                                .map(|(_, l)| l.to_vec()),
                        )
                    })
                    .unwrap_or_default();
                if !rejected.is_empty() {
                    subtract.push(rejected);
                }
            } else {
                let matched = values
                    .map(|vals| {
                        union(
                            vals.iter()
                                .filter(|(v, _)| m.matches(v))
                                .map(|(_, l)| l.to_vec()),
                        )
                    })
                    .unwrap_or_default();
                result = Some(match result {
                    None => matched,
                    Some(r) => intersect(&r, &matched),
                });
                if result.as_ref().is_some_and(|r| r.is_empty()) {
                    return Vec::new();
                }
            }
        }
        let mut out = result.unwrap_or_else(|| idx.all.to_vec());
        for s in &subtract {
            out = difference(&out, s);
        }
        out
    }

    /// Label names present in the head, sorted.
    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .read()
            .by_name
            .keys()
            .map(|n| n.to_string())
            .collect();
        names.sort_unstable();
        names
    }

    /// Values of `name` present in the head, sorted.
    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .inner
            .read()
            .by_name
            .get(name)
            .map(|v| v.keys().map(|v| v.to_string()).collect())
            .unwrap_or_default();
        values.sort_unstable();
        values
    }

    /// Heap bytes held by the index (approximate: strings and lists).
    pub(crate) fn heap_bytes(&self) -> usize {
        let idx = self.inner.read();
        let mut n = idx.all.heap_bytes();
        for (name, values) in &idx.by_name {
            n += name.len() + values.capacity() * 64;
            for (v, list) in values {
                n += v.len() + list.heap_bytes();
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> MemPostings {
        let p = MemPostings::default();
        let sets: [&[(&str, &str)]; 4] = [
            &[("__name__", "up"), ("job", "a")],
            &[("__name__", "up"), ("job", "b"), ("env", "prod")],
            &[("__name__", "cpu"), ("job", "a"), ("env", "dev")],
            &[("__name__", "cpu"), ("job", "b")],
        ];
        // Added out of order on purpose: lists must stay sorted.
        for (i, s) in sets.iter().enumerate().rev() {
            p.add(
                SeriesRef(i as u64 + 1),
                &Labels::new(s.iter().copied()).unwrap(),
            );
        }
        p
    }

    fn refs(v: &[u64]) -> Vec<SeriesRef> {
        v.iter().map(|&r| SeriesRef(r)).collect()
    }

    #[test]
    fn equality_and_regex_intersect() {
        let p = index();
        assert_eq!(p.select(&[Matcher::equal("__name__", "up")]), refs(&[1, 2]));
        assert_eq!(
            p.select(&[
                Matcher::equal("__name__", "up"),
                Matcher::regex("job", "b|c").unwrap()
            ]),
            refs(&[2])
        );
        assert_eq!(p.select(&[Matcher::equal("job", "zzz")]), refs(&[]));
    }

    #[test]
    fn matchers_matching_empty_include_series_without_the_label() {
        let p = index();
        // env="" selects series without env.
        assert_eq!(p.select(&[Matcher::equal("env", "")]), refs(&[1, 4]));
        // env!="prod" keeps series without env.
        assert_eq!(
            p.select(&[Matcher::not_equal("env", "prod")]),
            refs(&[1, 3, 4])
        );
        assert_eq!(
            p.select(&[
                Matcher::equal("__name__", "cpu"),
                Matcher::not_regex("env", "d.v").unwrap()
            ]),
            refs(&[4])
        );
        // env=~".+" requires the label.
        assert_eq!(
            p.select(&[Matcher::regex("env", ".+").unwrap()]),
            refs(&[2, 3])
        );
        assert_eq!(
            p.select(&[Matcher::regex("job", ".*").unwrap()]),
            refs(&[1, 2, 3, 4])
        );
        assert_eq!(p.select(&[]), refs(&[1, 2, 3, 4]));
    }

    #[test]
    fn deleted_series_leave_every_list() {
        let p = index();
        let env_dev = Labels::new([("__name__", "cpu"), ("job", "a"), ("env", "dev")]).unwrap();
        let up_a = Labels::new([("__name__", "up"), ("job", "a")]).unwrap();
        p.delete(&[(SeriesRef(3), env_dev), (SeriesRef(1), up_a)]);
        assert_eq!(p.select(&[]), refs(&[2, 4]));
        assert_eq!(p.select(&[Matcher::equal("job", "a")]), refs(&[]));
        assert_eq!(p.select(&[Matcher::equal("job", "b")]), refs(&[2, 4]));
        // Values and names held only by deleted series are gone.
        assert_eq!(p.label_values("env"), ["prod"]);
        assert_eq!(p.label_values("job"), ["b"]);
        p.delete(&[(
            SeriesRef(2),
            Labels::new([("__name__", "up"), ("job", "b"), ("env", "prod")]).unwrap(),
        )]);
        assert_eq!(p.label_names(), ["__name__", "job"]);
    }

    #[test]
    fn names_and_values_are_sorted() {
        let p = index();
        assert_eq!(p.label_names(), ["__name__", "env", "job"]);
        assert_eq!(p.label_values("job"), ["a", "b"]);
        assert!(p.label_values("nope").is_empty());
    }

    #[test]
    fn set_operations() {
        assert_eq!(
            intersect(&refs(&[1, 3, 5]), &refs(&[3, 4, 5])),
            refs(&[3, 5])
        );
        assert_eq!(difference(&refs(&[1, 3, 5]), &refs(&[3, 4])), refs(&[1, 5]));
    }
}
