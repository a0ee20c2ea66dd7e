//! Strict mode: the rules across lines that a validator enforces and a scraper
//! does not. One validator per format, fed every entry in order.

mod labels;
mod openmetrics;
mod rule;
mod text;

use super::entry::Entry;
use super::error::LineError;
use super::format::Format;
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
