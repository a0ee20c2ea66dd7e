//! File-based service discovery: the target groups of one `file_sd_configs` file,
//! read as Prometheus reads them.
//!
//! A file is a list of groups, `[{"targets": ["host:port", …], "labels": {…}}]`,
//! in JSON (`.json`) or YAML (`.yml`, `.yaml`; unknown keys are errors). Every
//! group gets the label `__meta_filepath` with the file's path, for relabeling,
//! and the source `path:index`. A group without `labels` has only that one; a
//! null group is an error, as in Prometheus.
//!
//! [`FileSd`] follows the files a configuration names: it expands the patterns
//! ([`validate_pattern`] says which are allowed), notices files that appear,
//! change or go away, and publishes the union of their groups.

mod glob;
mod group_file;
mod watch;

pub use glob::validate_pattern;
pub use group_file::{FILEPATH_LABEL, FileSdError, parse_target_groups, read_target_groups};
pub use watch::{DEFAULT_FILE_SD_POLL_INTERVAL, FileSd, ReadErrors};
