//! [`Format`]: which of the two text formats a body is in, as its
//! `Content-Type` says.

use super::content_type;

/// The exposition format of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

impl Format {
    /// The format a scrape response's `Content-Type` names, as Prometheus reads it:
    /// `application/openmetrics-text` (any version) is OpenMetrics, `text/plain`
    /// (0.0.4 or 1.0.0) the text format. `None` for anything else, an empty or
    /// malformed header included (parameters are checked as Go's
    /// `mime.ParseMediaType` checks them); the scraper then falls back to the
    /// format its configuration names, as Prometheus's `fallback_scrape_protocol`.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        match content_type::media_type(content_type)?.as_str() {
            "application/openmetrics-text" => Some(Format::OpenMetrics),
            "text/plain" => Some(Format::Text),
            _ => None,
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}
