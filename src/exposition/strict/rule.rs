//! [`rule`]: the error of a rule across lines that an entry breaks.

use std::borrow::Cow;

use crate::exposition::error::LineError;

/// An error about the line as a whole (a rule across lines, not a token).
pub(super) fn rule(expected: impl Into<Cow<'static, str>>, found: impl Into<String>) -> LineError {
    LineError::new(0, expected).found(found)
}
