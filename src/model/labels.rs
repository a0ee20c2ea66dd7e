//! Label sets: the identity of a series.

use std::fmt;

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// Label names must be non-empty (any UTF-8 is allowed, as in Prometheus 3).
    #[error("invalid label name {name:?} (value {value:?}): label names must not be empty")]
    InvalidName { name: String, value: String },
    /// The same name appeared twice.
    #[error("duplicate label name {name:?} (values {first:?} and {second:?})")]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    /// Names and values together exceed what one label set may hold.
    #[error("label set of {bytes} bytes is too large (at most 4 GiB)")]
    TooLarge { bytes: usize },
}

/// One name/value pair of a [`Labels`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// A validated label set: sorted by name, names unique and non-empty, no empty
/// values.
///
/// A label with an empty value is the same as no label at all in Prometheus's data
/// model (a matcher `{a=""}` selects series without `a`), so such pairs are dropped
/// on construction rather than stored.
///
/// All names and values live in one string, each after its length, so a label
/// set is one allocation whatever its size, and hashing or comparing it reads
/// contiguous memory: the head holds one per series, and the append path
/// hashes them. (Prometheus's `stringlabels` layout, with lengths that keep
/// the whole valid UTF-8.) Finding a label walks the string: a label set is a
/// handful of labels, and the walk reads bytes that share a cache line or two.
#[derive(Clone, PartialEq, Eq, Default, Hash)]
pub struct Labels {
    /// `len(name0) name0 len(value0) value0 len(name1) …`, each length as
    /// [`push_len`] writes it.
    data: Box<str>,
}

/// Writes a length in base 64, low digit first, one byte a digit, with 0x40
/// set on every digit but the last: every byte is ASCII, so `data` stays a
/// `str`. Lengths below 64 (nearly all) take one byte.
fn push_len(out: &mut String, mut n: usize) {
    loop {
        let digit = (n & 0x3f) as u8;
        n >>= 6;
        if n == 0 {
            out.push(char::from(digit));
            return;
        }
        out.push(char::from(digit | 0x40));
    }
}

/// Reads a length [`push_len`] wrote at `*pos`, moving `*pos` past it.
fn read_len(bytes: &[u8], pos: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0u32);
    loop {
        let b = bytes[*pos];
        *pos += 1;
        n |= usize::from(b & 0x3f) << shift;
        if b & 0x40 == 0 {
            return n;
        }
        shift += 6;
    }
}

impl Labels {
    /// Builds a label set from pairs in any order, validating it.
    ///
    /// An empty result is allowed here (it is a valid *matcher context*); the storage
    /// layer refuses to create a series for it.
    pub fn new<N, V, I>(pairs: I) -> Result<Labels, LabelsError>
    where
        N: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (N, V)>,
    {
        let mut pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        if let Some((name, value)) = pairs.iter().find(|(n, _)| n.is_empty()) {
            return Err(LabelsError::InvalidName {
                name: name.clone(),
                value: value.clone(),
            });
        }
        pairs.retain(|(_, v)| !v.is_empty());
        // Stable sort so that, for a duplicate, the error names the values in input order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(LabelsError::DuplicateName {
                name: w[0].0.clone(),
                first: w[0].1.clone(),
                second: w[1].1.clone(),
            });
        }
        let bytes: usize = pairs.iter().map(|(n, v)| n.len() + v.len()).sum();
        if u32::try_from(bytes).is_err() {
            return Err(LabelsError::TooLarge { bytes });
        }
        // A length byte each for most strings; longer ones add a few.
        let mut data = String::with_capacity(bytes + 2 * pairs.len());
        for (n, v) in &pairs {
            for part in [n, v] {
                push_len(&mut data, part.len());
                data.push_str(part);
            }
        }
        Ok(Labels {
            data: data.into_boxed_str(),
        })
    }

    /// A label set from the names and values of one that was valid, in its
    /// order: name, value, name, value, … (no check is made).
    pub(crate) fn from_valid_parts<'a>(parts: impl IntoIterator<Item = &'a str> + Clone) -> Labels {
        let bytes: usize = parts.clone().into_iter().map(|p| p.len() + 1).sum();
        let mut data = String::with_capacity(bytes);
        for part in parts {
            push_len(&mut data, part.len());
            data.push_str(part);
        }
        Labels {
            data: data.into_boxed_str(),
        }
    }

    /// The empty label set.
    pub fn empty() -> Labels {
        Labels::default()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        for l in self {
            match l.name.cmp(name) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Some(l.value),
                std::cmp::Ordering::Greater => return None,
            }
        }
        None
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates the labels in name order.
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter {
            data: &self.data,
            pos: 0,
        }
    }

    /// A 64-bit hash of the label set, for the series map of the head. Not
    /// DoS-resistant (collisions only cost a label comparison there), but a word at
    /// a time over contiguous memory, several times faster than SipHash.
    pub fn hash_u64(&self) -> u64 {
        // The lengths in `data` keep apart sets whose strings concatenate alike.
        fmix64(hash_bytes(0, self.data.as_bytes()))
    }

    /// Bytes held by the label strings (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.data.len()
    }
}

/// Prometheus's order: label by label, name then value; a prefix sorts first.
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Iterator over the labels of a [`Labels`], in name order.
#[derive(Clone)]
pub struct LabelsIter<'a> {
    data: &'a str,
    /// Where the next label starts in `data`.
    pos: usize,
}

impl<'a> LabelsIter<'a> {
    /// The next name or value.
    fn part(&mut self) -> &'a str {
        let len = read_len(self.data.as_bytes(), &mut self.pos);
        let start = self.pos;
        self.pos += len;
        &self.data[start..self.pos]
    }
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = Label<'a>;
    fn next(&mut self) -> Option<Label<'a>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let name = self.part();
        let value = self.part();
        Some(Label { name, value })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let mut rest = self.clone();
        let mut n = 0;
        while rest.pos < rest.data.len() {
            rest.part();
            rest.part();
            n += 1;
        }
        (n, Some(n))
    }
}

impl ExactSizeIterator for LabelsIter<'_> {}

impl<'a> IntoIterator for &'a Labels {
    type Item = Label<'a>;
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Prints as Prometheus does: `name{a="1", b="2"}`, quoting names that need it.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        if let Some(n) = name {
            if is_legacy_name(n) {
                f.write_str(n)?;
            } else {
                write!(f, "{{{n:?}")?;
            }
        }
        let rest: Vec<Label<'_>> = self.iter().filter(|l| l.name != METRIC_NAME).collect();
        let quoted_name = name.is_some_and(|n| !is_legacy_name(n));
        if rest.is_empty() {
            return if quoted_name {
                f.write_str("}")
            } else if name.is_none() {
                f.write_str("{}")
            } else {
                Ok(())
            };
        }
        f.write_str(if quoted_name { ", " } else { "{" })?;
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if is_legacy_name(l.name) {
                write!(f, "{}={:?}", l.name, l.value)?;
            } else {
                write!(f, "{:?}={:?}", l.name, l.value)?;
            }
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

/// Folds `bytes` into `h` eight bytes at a time, then its length.
fn hash_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = mix(h, u64::from_le_bytes(b));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(b));
    }
    mix(h, bytes.len() as u64 | (0xff << 56))
}

/// Final avalanche (MurmurHash3's), so every input bit reaches the low bits the
/// stripe index uses.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A [`Hasher`](std::hash::Hasher) over the same word-at-a-time mixing, for
/// other in-memory identities of label sets (the exposition validator and lints).
/// Not DoS-resistant.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        fmix64(self.0)
    }
}

/// A 64-bit hash of a byte string, for long strings: two independent lanes of
/// the same mixing, sixteen bytes a step, so the multiplications overlap.
pub(crate) fn hash_span(bytes: &[u8]) -> u64 {
    let (mut a, mut b) = (0u64, 0x243f_6a88_85a3_08d3u64);
    let mut blocks = bytes.chunks_exact(16);
    for block in blocks.by_ref() {
        let (lo, hi) = block.split_at(8);
        let mut w = [0u8; 8];
        w.copy_from_slice(lo);
        a = mix(a, u64::from_le_bytes(w));
        w.copy_from_slice(hi);
        b = mix(b, u64::from_le_bytes(w));
    }
    fmix64(mix(hash_bytes(a, blocks.remainder()), b))
}

/// A second 64-bit hash of a byte string, independent of [`hash_span`] (one
/// sequential lane from another seed): together they name a string by 128 bits.
pub(crate) fn hash_span_alt(bytes: &[u8]) -> u64 {
    fmix64(hash_bytes(0x1319_8a2e_0370_7344, bytes))
}

/// A set of 64-bit hashes (of [`WordHasher`]): already mixed, they index the
/// table as they are.
pub(crate) type HashSet64 =
    std::collections::HashSet<u64, std::hash::BuildHasherDefault<PassThrough>>;

/// The hasher of [`HashSet64`]: the key is the hash.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_bytes(self.0, bytes);
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether a name fits the classic `[a-zA-Z_:][a-zA-Z0-9_:]*` form that needs no quotes.
fn is_legacy_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_values() {
        let l = Labels::new([("job", "a"), ("__name__", "up"), ("zone", "")]).unwrap();
        let names: Vec<&str> = l.iter().map(|l| l.name).collect();
        assert_eq!(names, ["__name__", "job"]);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.get("zone"), None);
        assert_eq!(l.to_string(), r#"up{job="a"}"#);
    }

    #[test]
    fn duplicate_name_names_both_values() {
        let err = Labels::new([("a", "1"), ("b", "x"), ("a", "2")]).unwrap_err();
        assert_eq!(
            err,
            LabelsError::DuplicateName {
                name: "a".into(),
                first: "1".into(),
                second: "2".into()
            }
        );
        assert!(err.to_string().contains("\"a\""));
    }

    #[test]
    fn empty_name_is_invalid() {
        let err = Labels::new([("", "v")]).unwrap_err();
        assert!(matches!(err, LabelsError::InvalidName { .. }));
        assert!(err.to_string().contains("\"v\""));
    }

    #[test]
    fn display_quotes_utf8_names() {
        let l = Labels::new([("__name__", "my.metric"), ("label.name", "v")]).unwrap();
        assert_eq!(l.to_string(), r#"{"my.metric", "label.name"="v"}"#);
        let l = Labels::new([("a", "1")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="1"}"#);
    }

    #[test]
    fn equal_sets_hash_equal_and_distinct_sets_differ() {
        let a = Labels::new([("a", "1"), ("b", "2")]).unwrap();
        let b = Labels::new([("b", "2"), ("a", "1")]).unwrap();
        let c = Labels::new([("a", "12")]).unwrap();
        assert_eq!(a.hash_u64(), b.hash_u64());
        assert_ne!(a.hash_u64(), c.hash_u64());
        // Moving bytes across a name/value boundary changes the hash.
        let d = Labels::new([("ab", "c")]).unwrap();
        let e = Labels::new([("a", "bc")]).unwrap();
        assert_ne!(d.hash_u64(), e.hash_u64());
    }

    #[test]
    fn long_names_and_values_read_back() {
        // Lengths of one, two and three length bytes, and UTF-8 text.
        for n in [0usize, 1, 63, 64, 65, 4095, 4096, 300_000] {
            let value = "é".repeat(n / 2) + &"v".repeat(n % 2 + 1);
            let name = "n".repeat(n.max(1));
            let l =
                Labels::new([("a", "1"), (name.as_str(), value.as_str()), ("zz", "2")]).unwrap();
            let got: Vec<(String, String)> = l
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            assert_eq!(
                got,
                [
                    ("a".to_string(), "1".to_string()),
                    (name.clone(), value.clone()),
                    ("zz".to_string(), "2".to_string())
                ]
            );
            assert_eq!(l.len(), 3);
            assert_eq!(l.iter().len(), 3);
            assert_eq!(l.get(&name), Some(value.as_str()));
            assert_eq!(l.get("zz"), Some("2"));
            assert_eq!(l.get("b"), None);
            assert_eq!(l.get("zzz"), None);
        }
        assert!(Labels::empty().is_empty());
        assert_eq!(Labels::empty().len(), 0);
        assert_eq!(Labels::empty().get("a"), None);
    }
}
