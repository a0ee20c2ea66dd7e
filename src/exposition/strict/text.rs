//! The text format 0.0.4 rules across lines, as Prometheus's exposition library
//! (`expfmt`, behind `promtool check metrics`) enforces them beyond the scraper's
//! syntax: one non-empty HELP and one TYPE per family, TYPE before the family's
//! samples, only the escapes `\\`, `\"` and `\n`, numeric `le` and `quantile`
//! labels, distinct label names and no `__name__` label. (Trailing blanks and a
//! missing final newline, which it refuses too, are the line grammar's and the
//! parser's checks.) Like that library, and unlike OpenMetrics, it lets families
//! interleave and series repeat.

use std::collections::HashMap;

use super::{duplicate_label, rule};
use crate::exposition::entry::{Entry, MetricType, Sample, Text};
use crate::exposition::error::LineError;
use crate::exposition::number::parse_value;

#[derive(Debug, Default)]
pub(crate) struct TextValidator {
    families: HashMap<String, FamilyState>,
}

#[derive(Debug, Default)]
struct FamilyState {
    help: bool,
    kind: Option<MetricType>,
    has_samples: bool,
}

impl TextValidator {
    pub(crate) fn check(&mut self, entry: &Entry<'_>) -> Result<(), LineError> {
        match entry {
            Entry::Help { name, help } => {
                check_escapes(help)?;
                let family = self.family_of(&name.get()).0.to_owned();
                let f = self.families.entry(family).or_default();
                // A HELP without text (blanks at most) does not count: a later one
                // may still say something.
                let said = !help.raw().trim_matches([' ', '\t']).is_empty();
                if said && std::mem::replace(&mut f.help, true) {
                    return Err(rule(
                        "one HELP line per metric",
                        format!("a second HELP for {name}"),
                    ));
                }
                Ok(())
            }
            Entry::Type { name, kind } => {
                let family = self.family_of(&name.get()).0.to_owned();
                let f = self.families.entry(family).or_default();
                if f.kind.is_some() || f.has_samples {
                    return Err(rule(
                        "one TYPE line per metric, before its samples",
                        format!("a TYPE for {name} after its TYPE or samples"),
                    ));
                }
                f.kind = Some(*kind);
                Ok(())
            }
            Entry::Unit { .. } => Ok(()),
            Entry::Sample(s) => self.sample(s),
        }
    }

    fn sample(&mut self, s: &Sample<'_>) -> Result<(), LineError> {
        for l in s.labels.iter() {
            check_escapes(&l.value)?;
            if l.name == crate::model::METRIC_NAME {
                return Err(rule(
                    "no label named __name__ (it is the metric name)",
                    "a label __name__",
                ));
            }
        }
        let name = s.name.get();
        let (family, _) = self.family_of(&name);
        let kind = self.families.get(family).and_then(|f| f.kind);
        // A histogram's `le` and a summary's `quantile` are not stored as labels
        // there, so they may repeat; they must be numbers on every series.
        let special = match kind {
            Some(MetricType::Histogram) => Some("le"),
            Some(MetricType::Summary) => Some("quantile"),
            _ => None,
        };
        if let Some(dup) = duplicate_label(&s.labels, special) {
            return Err(rule("distinct label names", format!("label {dup} twice")));
        }
        if let Some(label) = special {
            numeric_label(s, label)?;
        }
        let family = family.to_owned();
        self.families.entry(family).or_default().has_samples = true;
        Ok(())
    }

    /// The family a name belongs to and its suffix in it: a declared histogram's
    /// or summary's own name for its `_bucket` (histogram), `_sum` and `_count`
    /// series, else the name itself.
    fn family_of<'n>(&self, name: &'n str) -> (&'n str, &'n str) {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                let fits = match self.families.get(base).and_then(|f| f.kind) {
                    Some(MetricType::Histogram) => true,
                    Some(MetricType::Summary) => suffix != "_bucket",
                    _ => false,
                };
                if fits {
                    return (base, suffix);
                }
            }
        }
        (name, "")
    }
}

/// The exposition library knows the escapes `\\`, `\"` and `\n`; any other is an
/// error there, though Prometheus's scraper keeps it as written.
fn check_escapes(text: &Text<'_>) -> Result<(), LineError> {
    let raw = text.raw().as_bytes();
    let mut i = 0;
    while let Some(rel) = raw.get(i..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let at = i + rel;
        match raw.get(at + 1) {
            Some(b'\\' | b'n' | b'"') => {}
            other => {
                let seq = other.map_or("\\".to_owned(), |&c| format!("\\{}", c as char));
                return Err(rule(
                    r#"only the escapes \\, \" and \n"#,
                    format!("{seq:?}"),
                ));
            }
        }
        i = at + 2;
    }
    Ok(())
}

/// Every label `label` must be a number.
fn numeric_label(s: &Sample<'_>, label: &str) -> Result<(), LineError> {
    for l in s.labels.iter().filter(|l| l.name == label) {
        let v = l.value.get();
        if parse_value(&v).is_err() {
            return Err(rule(
                format!("a number as the {label} label"),
                format!("{label}={v:?}"),
            ));
        }
    }
    Ok(())
}
