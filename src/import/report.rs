//! What an import tells its caller: lines skipped, progress, the report, errors.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::exposition::ParseError;
use crate::tsdb::block::{BlockError, BlockMeta};

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// From 1.
    pub line: usize,
    /// From 1, in characters; for parse errors only.
    pub column: Option<usize>,
    pub problem: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

impl From<&ParseError> for BadLine {
    fn from(e: &ParseError) -> BadLine {
        BadLine {
            line: e.line,
            column: Some(e.column),
            problem: format!("found {}, expected {}", e.found, e.expected),
        }
    }
}

/// What an import reports while it runs. Every method has an empty default.
pub trait ImportObserver {
    /// `bytes` of the input have been parsed (called once per piece).
    fn progress(&mut self, _bytes: u64) {}
    /// A line was skipped.
    fn bad_line(&mut self, _bad: &BadLine) {}
    /// A block is complete, in its final place.
    fn block_written(&mut self, _meta: &BlockMeta) {}
}

/// Observes nothing.
impl ImportObserver for () {}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The blocks written, in time order.
    pub blocks: Vec<BlockMeta>,
    /// Samples stored.
    pub samples: u64,
    /// Exact repeats of a series' last sample, dropped.
    pub duplicates: u64,
    /// Lines skipped (each reported through [`ImportObserver::bad_line`]).
    pub bad_lines: u64,
    /// Lines read.
    pub lines: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// Why an import stopped. Blocks already complete stay; partial ones are removed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("read {input} at byte offset {offset}: {source}")]
    Read {
        input: String,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("create the data directory {}: {source}", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{input}: {bad} (stopped at the first bad line)")]
    Strict { input: String, bad: BadLine },
    #[error(transparent)]
    Block(#[from] BlockError),
}
