//! A malformed duration expression: where it went wrong, and the error
//! Prometheus reports for it.

use crate::promql::error::PromqlError;

/// A parse error at a byte offset.
#[derive(Debug)]
pub(super) struct ParseFailure {
    pub(super) pos: usize,
    pub(super) message: String,
}

impl ParseFailure {
    pub(super) fn at(pos: usize, message: impl Into<String>) -> ParseFailure {
        ParseFailure {
            pos,
            message: message.into(),
        }
    }

    /// Prometheus's form: `line:column: parse error: …`, both 1-based, the
    /// column counted in bytes.
    pub(super) fn into_error(self, q: &str) -> PromqlError {
        let before = &q.as_bytes()[..self.pos.min(q.len())];
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let col = self.pos
            - before
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        PromqlError::bad_data(format!("{line}:{col}: parse error: {}", self.message))
    }
}
