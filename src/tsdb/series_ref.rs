//! [`SeriesRef`]: how the head, the WAL and appenders name a series.

/// Identifies a series inside one database. Refs are assigned in increasing order
/// and never reused while the series is in the head; they are persisted in the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeriesRef(pub u64);
