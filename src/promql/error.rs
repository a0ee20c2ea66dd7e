//! Query errors, typed as Prometheus's API types them.

use std::fmt;

/// The class of a query failure; maps to Prometheus's `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The query is malformed (`bad_data`).
    BadData,
    /// The query was valid but failed while running (`execution`).
    Execution,
    /// The query ran past its timeout (`timeout`).
    Timeout,
    /// The caller cancelled the query (`canceled`).
    Canceled,
}

impl ErrorKind {
    /// Prometheus's `errorType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
        }
    }
}

/// A failed query: what kind of failure and a message worded as Prometheus words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlError {
    pub kind: ErrorKind,
    pub message: String,
}

impl PromqlError {
    pub(crate) fn bad_data(message: impl Into<String>) -> PromqlError {
        PromqlError {
            kind: ErrorKind::BadData,
            message: message.into(),
        }
    }

    pub(crate) fn execution(message: impl Into<String>) -> PromqlError {
        PromqlError {
            kind: ErrorKind::Execution,
            message: message.into(),
        }
    }
}

impl fmt::Display for PromqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for PromqlError {}

pub(crate) type Result<T> = std::result::Result<T, PromqlError>;
