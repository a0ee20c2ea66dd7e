//! The data model shared by every layer: label sets, label matchers, samples and
//! the staleness marker; the varints every stored format uses (`varint`).
//!
//! Nothing here does I/O. Durations and byte sizes are parsed here as Prometheus
//! writes them, for flags, configuration and PromQL, and floats written and read
//! as Go does ([`float`]). [`Labels`] is the identity of a series; [`Matcher`] selects
//! series by label; a sample is a `(timestamp in milliseconds, f64)` pair.

mod bytes;
mod duration;
pub mod float;
mod labels;
mod matcher;
mod sample;
mod time;
pub(crate) mod varint;

pub use bytes::{BytesError, parse_bytes};
pub use duration::{DurationError, format_duration, parse_duration};
pub(crate) use labels::{HashSet64, PassThrough, WordHasher, hash_span, hash_span_alt};
pub use labels::{Label, Labels, LabelsError, LabelsIter, METRIC_NAME};
pub use matcher::{MatchType, Matcher, MatcherError};
pub use sample::{NORMAL_NAN_BITS, STALE_NAN_BITS, Sample, is_stale_nan, stale_nan};
pub(crate) use time::civil_from_days;
pub use time::{rfc3339_millis, rfc3339_nanos, rfc3339_seconds};
