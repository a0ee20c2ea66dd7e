//! The runner's own label set: sorted by name, no empty values, independent of any
//! engine's types.

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// Sorts by name and drops empty values (an empty value is an absent label);
    /// a name given twice is an error.
    pub fn new(mut pairs: Vec<(String, String)>) -> Result<Labels, String> {
        pairs.retain(|(_, v)| !v.is_empty());
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("label {:?} given twice", w[0].0));
        }
        Ok(Labels(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Prometheus's `labels.Compare`: label by label (name, then value), then the
    /// shorter set first.
    pub fn compare(&self, other: &Labels) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            match a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

fn is_legacy_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c == ':' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == ':' || c.is_ascii_alphanumeric())
}

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.get("__name__").filter(|n| is_legacy_name(n));
        if let Some(n) = name {
            f.write_str(n)?;
        }
        let rest: Vec<_> = self
            .0
            .iter()
            .filter(|(n, _)| name.is_none() || n != "__name__")
            .collect();
        if rest.is_empty() && name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, (n, v)) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}
