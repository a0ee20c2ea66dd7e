//! [`ConfigError`]: why a configuration file could not be loaded, naming the file,
//! the line and column, and the key.

use std::path::PathBuf;

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid YAML, does not fit the schema, or fails validation.
    /// `line` and `column` are 1-based; 0 when unknown.
    #[error("{file}{}: {message}", position(*line, *column))]
    Invalid {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
}

fn position(line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!(":{l}"),
        (l, c) => format!(":{l}:{c}"),
    }
}
