//! Label sets: the identity of a series.

use std::fmt;
use std::hash::{Hash, Hasher};

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// A label set must hold at least one label with a non-empty value.
    #[error("empty label set: a series needs at least one label with a non-empty value")]
    Empty,
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
}

/// One name/value pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A validated label set: sorted by name, names unique and non-empty, no empty
/// values.
///
/// A label with an empty value is the same as no label at all in Prometheus's data
/// model (a matcher `{a=""}` selects series without `a`), so such pairs are dropped
/// on construction rather than stored.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Labels {
    labels: Vec<Label>,
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
        let mut labels: Vec<Label> = Vec::new();
        for (n, v) in pairs {
            let (name, value) = (n.into(), v.into());
            if name.is_empty() {
                return Err(LabelsError::InvalidName { name, value });
            }
            if value.is_empty() {
                continue;
            }
            labels.push(Label { name, value });
        }
        // Stable sort so that, for a duplicate, the error names the values in input order.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        for w in labels.windows(2) {
            if w[0].name == w[1].name {
                return Err(LabelsError::DuplicateName {
                    name: w[0].name.clone(),
                    first: w[0].value.clone(),
                    second: w[1].value.clone(),
                });
            }
        }
        Ok(Labels { labels })
    }

    /// The empty label set.
    pub fn empty() -> Labels {
        Labels::default()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.labels[i].value.as_str())
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates the labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.labels.iter()
    }

    /// A 64-bit hash of the label set, stable within a process.
    pub fn hash_u64(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }

    /// Bytes held by the label strings (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.labels.capacity() * std::mem::size_of::<Label>()
            + self
                .labels
                .iter()
                .map(|l| l.name.capacity() + l.value.capacity())
                .sum::<usize>()
    }
}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for l in &self.labels {
            state.write(l.name.as_bytes());
            state.write_u8(0xff);
            state.write(l.value.as_bytes());
            state.write_u8(0xff);
        }
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.labels.iter()
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
        let rest: Vec<&Label> = self.iter().filter(|l| l.name != METRIC_NAME).collect();
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
            if is_legacy_name(&l.name) {
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
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
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
    }
}
