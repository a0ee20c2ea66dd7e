//! Timestamps written as RFC 3339 UTC date-times, as Prometheus's JSON and tools
//! show them.

use std::time::{SystemTime, UNIX_EPOCH};

/// A millisecond timestamp as `2026-01-01T00:00:00.000Z` (always three
/// fraction digits).
pub fn rfc3339_millis(ms: i64) -> String {
    let date = date_time(ms.div_euclid(1000));
    format!("{date}.{:03}Z", ms.rem_euclid(1000))
}

/// A millisecond timestamp to the second as `2026-01-01T00:00:00Z` (the
/// milliseconds dropped, rounding down).
pub fn rfc3339_seconds(ms: i64) -> String {
    format!("{}Z", date_time(ms.div_euclid(1000)))
}

/// A point in time as Go's `time.RFC3339Nano` in UTC: the fraction has no
/// trailing zeros and is left out when zero, e.g. `2026-01-01T00:00:00.5Z`.
/// Times before 1970 are not expected here and show as the epoch.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let date = date_time(since.as_secs() as i64);
    let nanos = since.subsec_nanos();
    if nanos == 0 {
        return format!("{date}Z");
    }
    let fraction = format!("{nanos:09}");
    format!("{date}.{}Z", fraction.trim_end_matches('0'))
}

/// `YYYY-MM-DDTHH:MM:SS` of seconds since the epoch.
fn date_time(secs: i64) -> String {
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

/// The proleptic Gregorian date of a day number since 1970-01-01 (Howard
/// Hinnant's civil-from-days algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_go() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_767_225_600_123),
            "2026-01-01T00:00:00.123Z"
        );
        assert_eq!(rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_seconds(1_767_225_600_999), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(civil_from_days(18_321), (2020, 2, 29));
        let t = UNIX_EPOCH + Duration::new(951_782_400, 500_000_000);
        assert_eq!(rfc3339_nanos(t), "2000-02-29T00:00:00.5Z");
        assert_eq!(
            rfc3339_nanos(UNIX_EPOCH + Duration::new(1_767_225_599, 7)),
            "2025-12-31T23:59:59.000000007Z"
        );
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
