//! Reading what exporters send: the Prometheus text format 0.0.4 and the
//! OpenMetrics 1.0 text format.
//!
//! [`Parser`] walks an exposition line by line and yields [`Entry`] values that
//! borrow the input: metric names, label values and HELP text are [`Text`] views,
//! unescaped (and then copied) only on request; a sample's labels are a
//! [`LabelSet`] span iterated on demand. Nothing is allocated per sample.
//!
//! Two [`Mode`]s:
//!
//! - [`Mode::Lenient`] accepts what Prometheus's scraper accepts: the syntax of the
//!   format, no rules across lines beyond OpenMetrics's `# EOF`.
//! - [`Mode::Strict`] validates as well: for OpenMetrics, the rules of the
//!   specification (metric families, grouping and ordering, histogram and summary
//!   structure, value ranges per type, exemplar placement); for the text format,
//!   the rules Prometheus's own exposition library enforces (what
//!   `promtool check metrics` reports).
//!
//! The format comes from the response's `Content-Type` ([`Format::from_content_type`]).
//!
//! ```
//! use tidemark::exposition::{Entry, Format, Mode, Parser};
//!
//! let body = b"# TYPE http_requests counter\nhttp_requests_total{code=\"200\"} 1027 1395066363000\n";
//! let mut samples = 0;
//! for entry in Parser::new(body, Format::Text, Mode::Lenient) {
//!     if let Entry::Sample(s) = entry? {
//!         assert_eq!(s.name, "http_requests_total");
//!         assert_eq!(s.labels.get("code").unwrap(), "200");
//!         assert_eq!((s.value, s.timestamp), (1027.0, Some(1395066363000)));
//!         samples += 1;
//!     }
//! }
//! assert_eq!(samples, 1);
//!
//! // Errors name the line and column, what was found and what was expected.
//! let err = Parser::new(b"a{b=\"c\" 1\n", Format::Text, Mode::Lenient).next().unwrap().unwrap_err();
//! assert_eq!(err.to_string(), r#"line 1, column 9: found "1", expected a label name or '}'"#);
//! # Ok::<(), tidemark::exposition::ParseError>(())
//! ```

mod content_type;
mod entry;
mod error;
mod format;
mod line;
pub mod lint;
mod mode;
mod number;
mod parser;
mod scan;
mod strict;
#[cfg(test)]
mod tests;

pub use entry::{Entry, Exemplar, Label, LabelIter, LabelSet, MetricType, Sample, Text};
pub use error::ParseError;
pub use format::Format;
pub use mode::Mode;
pub use parser::{ParseState, Parser};
