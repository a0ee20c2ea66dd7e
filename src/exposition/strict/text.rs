//! The text format 0.0.4 rules across lines, as Prometheus's exposition library
//! (`expfmt`, behind `promtool check metrics`) enforces them beyond the scraper's
//! syntax: one non-empty HELP and one TYPE per family, TYPE before the family's
//! samples, only the escapes `\\`, `\"` and `\n`, numeric `le` and `quantile`
//! labels, distinct label names and no `__name__` label. (Trailing blanks and a
//! missing final newline, which it refuses too, are the line grammar's and the
//! parser's checks.) Like that library, and unlike OpenMetrics, it lets families
//! interleave and series repeat.

use std::collections::HashMap;

use super::labels::duplicate_label;
use super::rule::rule;
use crate::exposition::entry::{Entry, MetricType, Sample, Text};
use crate::exposition::error::LineError;
use crate::model::float::parse_exposition;

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
        let special = kind.and_then(MetricType::split_label);
        if let Some(dup) = duplicate_label(&s.labels, special) {
            return Err(rule("distinct label names", format!("label {dup} twice")));
        }
        if let Some(label) = special {
            numeric_label(s, label)?;
        }
        // Samples come grouped: the family is nearly always known already, and
        // its name is copied only the first time.
        match self.families.get_mut(family) {
            Some(f) => f.has_samples = true,
            None => {
                let f = FamilyState {
                    has_samples: true,
                    ..FamilyState::default()
                };
                self.families.insert(family.to_owned(), f);
            }
        }
        Ok(())
    }

    fn family_of<'n>(&self, name: &'n str) -> (&'n str, &'static str) {
        MetricType::text_family(name, |base| self.families.get(base).and_then(|f| f.kind))
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
        if parse_exposition(&v).is_err() {
            return Err(rule(
                format!("a number as the {label} label"),
                format!("{label}={v:?}"),
            ));
        }
    }
    Ok(())
}
