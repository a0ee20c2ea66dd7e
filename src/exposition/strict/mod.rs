//! Strict mode: the rules across lines that a validator enforces and a scraper
//! does not. One validator per format, fed every entry in order.

mod openmetrics;
mod text;

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use super::Format;
use super::entry::{Entry, LabelSet};
use super::error::LineError;
use super::line::SampleExtra;

#[derive(Debug)]
pub(crate) enum Validator {
    OpenMetrics(Box<openmetrics::OmValidator>),
    Text(text::TextValidator),
}

impl Validator {
    pub(crate) fn new(format: Format) -> Validator {
        match format {
            Format::OpenMetrics => Validator::OpenMetrics(Box::default()),
            Format::Text => Validator::Text(text::TextValidator::default()),
        }
    }

    pub(crate) fn check(
        &mut self,
        entry: &Entry<'_>,
        extra: &SampleExtra,
    ) -> Result<(), LineError> {
        match self {
            Validator::OpenMetrics(v) => v.check(entry, extra),
            Validator::Text(v) => v.check(entry),
        }
    }

    /// The end of the input: the last family must be complete.
    pub(crate) fn end(&mut self) -> Result<(), LineError> {
        match self {
            Validator::OpenMetrics(v) => v.end_family(),
            Validator::Text(_) => Ok(()),
        }
    }
}

/// An error about the line as a whole (a rule across lines, not a token).
fn rule(expected: impl Into<Cow<'static, str>>, found: impl Into<String>) -> LineError {
    LineError::new(0, expected).found(found)
}

/// A hash of a label set that ignores order, leaving out the label `except`:
/// the identity of a series (or of a histogram's or summary's group of series).
/// Strict mode remembers these hashes, not the label sets, to find interleaving
/// and duplicates; a 64-bit collision would report a false duplicate with
/// negligible probability.
fn identity(labels: &LabelSet<'_>, except: Option<&str>) -> u64 {
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
fn duplicate_label(labels: &LabelSet<'_>, ignore: Option<&str>) -> Option<String> {
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
