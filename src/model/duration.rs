//! Prometheus durations: `1h30m`, `15d`, `500ms`, `0`.
//!
//! The syntax is Prometheus's `model.Duration`: one or more `<integer><unit>` parts
//! with units `y w d h m s ms` (a year is 365 days, a week 7 days), each unit at most
//! once and in descending order; a bare `0` is allowed. Fractions (`1.5m`) and signs
//! are not. The value must fit Go's `time.Duration` (about 292 years), as in
//! Prometheus. [`format_duration`] prints the shortest form Prometheus prints.

use std::time::Duration;

/// Why a duration string was rejected. Every variant names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The input is the empty string.
    #[error("empty duration string")]
    Empty,
    /// Not of the form `<integer><unit>…`, or units not in descending order.
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    /// A unit outside `y w d h m s ms`.
    #[error("unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit { unit: String, input: String },
    /// Larger than about 292 years (Go's `time.Duration` range).
    #[error("duration out of range: {0:?}")]
    OutOfRange(String),
}

const MS: u64 = 1;
const SECOND: u64 = 1000 * MS;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;
const YEAR: u64 = 365 * DAY;

/// Units from largest to smallest, with their length in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MS),
];

/// The largest duration Prometheus accepts, in milliseconds (`i64::MAX` nanoseconds).
const MAX_MS: u64 = i64::MAX as u64 / 1_000_000;

/// Parses a Prometheus duration such as `1h30m`, `15d`, `500ms` or `0`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    match input {
        "" => return Err(DurationError::Empty),
        "0" => return Ok(Duration::ZERO),
        _ => {}
    }
    let invalid = || DurationError::Invalid(input.to_string());
    let mut rest = input.as_bytes();
    let mut total_ms: u64 = 0;
    // Index into UNITS of the last unit seen; the next must come strictly after it.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(invalid());
        }
        let value: u64 = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| DurationError::OutOfRange(input.to_string()))?;
        rest = &rest[digits..];
        let unit_len = rest.iter().take_while(|b| !b.is_ascii_digit()).count();
        if unit_len == 0 {
            return Err(invalid());
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let Some(pos) = UNITS.iter().position(|(name, _)| name.as_bytes() == unit) else {
            return Err(DurationError::UnknownUnit {
                unit: String::from_utf8_lossy(unit).into_owned(),
                input: input.to_string(),
            });
        };
        if pos < next_unit {
            return Err(invalid());
        }
        next_unit = pos + 1;
        total_ms = value
            .checked_mul(UNITS[pos].1)
            .and_then(|part| total_ms.checked_add(part))
            .filter(|&ms| ms <= MAX_MS)
            .ok_or_else(|| DurationError::OutOfRange(input.to_string()))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Formats a duration as Prometheus prints it: `0s`, `1m`, `1h30m`, `15d`, `2w`,
/// `1y`, `1s500ms`. Years and weeks are used only when they divide the whole
/// duration exactly (so `90d`, not `12w6d`). Precision below a millisecond is
/// dropped.
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (i, (name, mult)) in UNITS.iter().enumerate() {
        let exact_only = i < 2; // y, w
        if exact_only && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(name);
            ms -= v * mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn parses_single_units() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("15s"), Ok(ms(15 * SECOND)));
        assert_eq!(parse_duration("1m"), Ok(ms(MINUTE)));
        assert_eq!(parse_duration("2h"), Ok(ms(2 * HOUR)));
        assert_eq!(parse_duration("15d"), Ok(ms(15 * DAY)));
        assert_eq!(parse_duration("1w"), Ok(ms(7 * DAY)));
        assert_eq!(parse_duration("1y"), Ok(ms(365 * DAY)));
    }

    #[test]
    fn parses_combinations_in_descending_order() {
        assert_eq!(parse_duration("1h30m"), Ok(ms(HOUR + 30 * MINUTE)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90 * SECOND)));
        assert_eq!(parse_duration("1s500ms"), Ok(ms(1500)));
        assert_eq!(
            parse_duration("1y2w3d4h5m6s7ms"),
            Ok(ms(YEAR
                + 2 * WEEK
                + 3 * DAY
                + 4 * HOUR
                + 5 * MINUTE
                + 6 * SECOND
                + 7))
        );
        assert_eq!(parse_duration("1h0m"), Ok(ms(HOUR)));
    }

    #[test]
    fn rejects_bad_syntax_naming_the_input() {
        for bad in [
            "1", "m", "1.5m", "-1m", "+1m", " 1m", "1m ", "1m1h", "1s1s", "1h 30m", "1mh",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(
                err.to_string().contains(&format!("{bad:?}")),
                "{bad}: {err}"
            );
        }
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("5x"),
            Err(DurationError::UnknownUnit {
                unit: "x".into(),
                input: "5x".into()
            })
        );
        assert!(matches!(
            parse_duration("1us"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("1M"),
            Err(DurationError::UnknownUnit { .. })
        ));
    }

    #[test]
    fn rejects_out_of_range() {
        // Go's time.Duration tops out at about 292 years.
        assert!(parse_duration("292y").is_ok());
        assert!(matches!(
            parse_duration("293y"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_duration("292y52w"),
            Err(DurationError::OutOfRange(_))
        ));
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_micros(999)), "0s");
        assert_eq!(format_duration(ms(1)), "1ms");
        assert_eq!(format_duration(ms(1500)), "1s500ms");
        assert_eq!(format_duration(ms(15 * SECOND)), "15s");
        assert_eq!(format_duration(ms(MINUTE)), "1m");
        assert_eq!(format_duration(ms(90 * MINUTE)), "1h30m");
        assert_eq!(format_duration(ms(DAY + 2 * HOUR)), "1d2h");
        assert_eq!(format_duration(ms(15 * DAY)), "15d");
        assert_eq!(format_duration(ms(14 * DAY)), "2w");
        assert_eq!(format_duration(ms(90 * DAY)), "90d");
        assert_eq!(format_duration(ms(YEAR)), "1y");
        assert_eq!(format_duration(ms(YEAR + DAY)), "366d");
        assert_eq!(format_duration(ms(2 * YEAR + MINUTE)), "730d1m");
    }

    #[test]
    fn format_then_parse_is_identity() {
        for v in [1, 999, 1000, 61_000, HOUR + 1, 15 * DAY, 3 * WEEK, 5 * YEAR] {
            let d = ms(v);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{v}");
        }
    }
}
