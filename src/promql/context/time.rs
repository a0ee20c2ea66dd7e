//! Durations, offsets and `@` times of the parsed tree in milliseconds.

use std::time::{Duration, SystemTime};

use promql_parser::parser::ast::Offset;

/// An `offset` in milliseconds (negative for a negative offset).
pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
        Some(Offset::Neg(d)) => -i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4),
    }
}

pub(crate) fn dur_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Milliseconds since the epoch, rounded (`@ 1.234` is 1234 ms even when the
/// parsed float is a hair below).
pub(crate) fn system_time_ms(t: &SystemTime) -> i64 {
    let round = |d: Duration| {
        i64::try_from(d.as_nanos().saturating_add(500_000) / 1_000_000).unwrap_or(i64::MAX / 4)
    };
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => round(d),
        Err(e) => -round(e.duration()),
    }
}
