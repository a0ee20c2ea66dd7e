//! [`Builder`]: the label set a run of rules works on.

use crate::model::{Labels, LabelsError};

/// Changes to a label set, kept as Prometheus's `labels.Builder` keeps them: the
/// base set, labels added or changed (in the order first set) and names deleted.
/// The order matters where `labelmap` maps two names to one: the last one wins, and
/// Prometheus visits unchanged labels by name first, then the added ones.
pub(super) struct Builder<'a> {
    base: &'a Labels,
    add: Vec<(String, String)>,
    del: Vec<String>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(base: &'a Labels) -> Builder<'a> {
        Builder {
            base,
            add: Vec::new(),
            del: Vec::new(),
        }
    }

    /// The value of `name`; `""` when absent.
    pub(super) fn get(&self, name: &str) -> &str {
        if let Some((_, v)) = self.add.iter().find(|(n, _)| n == name) {
            return v;
        }
        if self.del.iter().any(|n| n == name) {
            return "";
        }
        self.base.get(name).unwrap_or("")
    }

    /// Sets `name`; an empty value deletes it (an empty label is no label).
    pub(super) fn set(&mut self, name: &str, value: String) {
        if value.is_empty() {
            return self.del(name);
        }
        match self.add.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.add.push((name.to_string(), value)),
        }
    }

    pub(super) fn del(&mut self, name: &str) {
        self.add.retain(|(n, _)| n != name);
        self.del.push(name.to_string());
    }

    /// The current labels in Prometheus's visiting order, copied so that the caller
    /// may change the builder while walking them.
    pub(super) fn snapshot(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .base
            .iter()
            .filter(|l| {
                !self.del.iter().any(|n| n == l.name) && !self.add.iter().any(|(n, _)| n == l.name)
            })
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        out.extend(self.add.iter().cloned());
        out
    }

    pub(super) fn labels(&self) -> Result<Labels, LabelsError> {
        Labels::new(self.snapshot())
    }
}
