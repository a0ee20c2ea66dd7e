//! What both validators ask of a label set: the series it names
//! ([`identity`]), and a label name given twice ([`duplicate_label`]).

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use crate::exposition::entry::LabelSet;

/// A hash of a label set that ignores order, leaving out the label `except`:
/// the identity of a series (or of a histogram's or summary's group of series).
/// Strict mode remembers these hashes, not the label sets, to find interleaving
/// and duplicates; a 64-bit collision would report a false duplicate with
/// negligible probability.
pub(super) fn identity(labels: &LabelSet<'_>, except: Option<&str>) -> u64 {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = labels
        .iter()
        .map(|l| (l.name.get(), l.value.get()))
        .filter(|(n, _)| except != Some(&**n))
        .collect();
    pairs.sort_unstable();
    let mut h = crate::model::WordHasher::default();
    pairs.hash(&mut h);
    h.finish()
}

/// The first label name that appears twice, if any, leaving out `ignore`.
pub(super) fn duplicate_label(labels: &LabelSet<'_>, ignore: Option<&str>) -> Option<String> {
    // Most label sets are small and their names plain: compare them in place.
    let mut small = [""; 16];
    let mut n = 0;
    for l in labels.iter() {
        if n == small.len() || !l.name.is_borrowed() {
            return duplicate_label_slow(labels, ignore);
        }
        let name = l.name.raw();
        if ignore != Some(name) {
            if small[..n].contains(&name) {
                return Some(name.to_owned());
            }
            small[n] = name;
            n += 1;
        }
    }
    None
}

fn duplicate_label_slow(labels: &LabelSet<'_>, ignore: Option<&str>) -> Option<String> {
    let mut names: Vec<Cow<'_, str>> = labels
        .iter()
        .map(|l| l.name.get())
        .filter(|n| ignore != Some(&**n))
        .collect();
    names.sort_unstable();
    names
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
}
