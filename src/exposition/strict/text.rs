//! The text format 0.0.4 rules across lines, as Prometheus's exposition library
//! (`expfmt`, behind `promtool check metrics`) enforces them.

use std::collections::HashMap;

use super::{duplicate_label, rule};
use crate::exposition::entry::{Entry, MetricType, Sample, Text};
use crate::exposition::error::LineError;
use crate::exposition::line::SampleExtra;
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
    pub(crate) fn check(
        &mut self,
        entry: &Entry<'_>,
        _extra: &SampleExtra,
    ) -> Result<(), LineError> {
        match entry {
            Entry::Help { name, help } => {
                check_escapes(help, false)?;
                let f = self.families.entry(name.get().into_owned()).or_default();
                if std::mem::replace(&mut f.help, true) {
                    return Err(rule(
                        "one HELP line per metric",
                        format!("a second HELP for {name}"),
                    ));
                }
                Ok(())
            }
            Entry::Type { name, kind } => {
                let f = self.families.entry(name.get().into_owned()).or_default();
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
            check_escapes(&l.value, true)?;
        }
        if let Some(dup) = duplicate_label(&s.labels) {
            return Err(rule("distinct label names", format!("label {dup} twice")));
        }
        let name = s.name.get();
        let (family, suffix) = self.family_of(&name);
        let kind = self.families.get(family).and_then(|f| f.kind);
        match (kind, suffix) {
            (Some(MetricType::Histogram), "_bucket") => float_label(s, "le")?,
            (Some(MetricType::Summary), "") => float_label(s, "quantile")?,
            _ => {}
        }
        let family = family.to_owned();
        self.families.entry(family).or_default().has_samples = true;
        Ok(())
    }

    /// The family a sample name belongs to: a histogram's or summary's own name
    /// for its `_bucket`, `_sum` and `_count` series, else the name itself.
    fn family_of<'n>(&self, name: &'n str) -> (&'n str, &'n str) {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                let kind = self.families.get(base).and_then(|f| f.kind);
                let fits = match kind {
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

    pub(crate) fn end(&mut self) -> Result<(), LineError> {
        Ok(())
    }
}

/// `expfmt` knows `\\`, `\n` and (in label values) `\"`; any other escape is an
/// error there, though the scraper keeps it as written.
fn check_escapes(text: &Text<'_>, quote: bool) -> Result<(), LineError> {
    let raw = text.raw().as_bytes();
    let mut i = 0;
    while let Some(rel) = memchr::memchr(b'\\', &raw[i.min(raw.len())..]) {
        let at = i + rel;
        match raw.get(at + 1) {
            Some(b'\\' | b'n') => {}
            Some(b'"') if quote => {}
            other => {
                let seq = other.map_or("\\".to_owned(), |&c| format!("\\{}", c as char));
                return Err(rule(
                    "an escape \\\\, \\n or \\\"",
                    format!("escape {seq:?}"),
                ));
            }
        }
        i = at + 2;
    }
    Ok(())
}

fn float_label(s: &Sample<'_>, label: &str) -> Result<(), LineError> {
    match s.labels.get(label) {
        Some(v) if parse_value(&v.get()).is_ok() => Ok(()),
        Some(v) => Err(rule(
            format!("a number as the {label} label"),
            format!("{label}={:?}", v.get()),
        )),
        None => Err(rule(format!("a {label} label on {}", s.name), "none")),
    }
}
