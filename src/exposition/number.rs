//! Number syntax: sample values and timestamps, as each format writes them.

use crate::model::NORMAL_NAN_BITS;

/// Why a number was refused (the caller adds where and what was found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumberError {
    Syntax,
    /// Well formed, but beyond the range of f64 (or i64 for a timestamp).
    Range,
}

/// A sample value as Prometheus's scrapers read it, in both formats: Go's decimal
/// float syntax (`1`, `-1.5e3`, `.5`, `5.`, `Inf`, `+inf`, `-Infinity`, `NaN`, any
/// case), but no hexadecimal floats and no `_` digit separators ("pre-Go 1.13 float
/// formats"), a sign never before `NaN`, and overflow (`1e400`) an error rather than
/// infinity. This is also OpenMetrics's ABNF for numbers. `NaN` becomes
/// [`NORMAL_NAN_BITS`].
pub(crate) fn parse_value(s: &str) -> Result<f64, NumberError> {
    if let Some(v) = fast_integer(s) {
        return Ok(v);
    }
    let b = s.as_bytes();
    let unsigned = match b.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    if unsigned.eq_ignore_ascii_case("nan") {
        return if unsigned.len() == s.len() {
            Ok(f64::from_bits(NORMAL_NAN_BITS))
        } else {
            Err(NumberError::Syntax)
        };
    }
    // Rust's float syntax is Go's decimal syntax (signs, `.5`, `5.`, exponents,
    // the infinity words) once NaN is dealt with above.
    let special = is_infinity_word(unsigned);
    let v: f64 = s.parse().map_err(|_| NumberError::Syntax)?;
    if v.is_infinite() && !special {
        return Err(NumberError::Range);
    }
    Ok(v)
}

/// An OpenMetrics timestamp (seconds, decimal, never `NaN` or infinite), as seconds.
pub(crate) fn parse_om_seconds(s: &str) -> Result<f64, NumberError> {
    let unsigned = match s.as_bytes().first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    if !decimal_shape(unsigned.as_bytes()) {
        return Err(NumberError::Syntax);
    }
    parse_value(s)
}

/// Seconds to milliseconds as Prometheus converts OpenMetrics timestamps: the
/// product truncated towards zero, saturating at the ends of i64.
pub(crate) fn seconds_to_millis(seconds: f64) -> i64 {
    (seconds * 1000.0) as i64
}

/// A text-format timestamp: milliseconds, a decimal integer. Prometheus's lexer
/// takes digits only; a sign is accepted too, as the exposition library behind
/// `promtool` (and its test data) accepts it, for timestamps before 1970.
pub(crate) fn parse_millis(s: &str) -> Result<i64, NumberError> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(NumberError::Syntax);
    }
    let mut v: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        v = v
            .checked_mul(10)
            .and_then(|v| {
                if neg {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            })
            .ok_or(NumberError::Range)?;
    }
    Ok(v)
}

/// A float as Prometheus writes `le` and `quantile` values (Go's shortest `%g`,
/// with `.0` added to integers): `1` → `1.0`, `0.25` → `0.25`, `1000000` →
/// `1e+06`, `+Inf`, `-Inf`, `NaN`.
pub(crate) fn format_label_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return "0.0".to_owned();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    let mut plain = f.to_string();
    if !plain.contains('.') {
        plain.push_str(".0");
    }
    plain
}

/// Up to 15 plain digits: exact as an f64, and the common case of counters.
#[inline]
fn fast_integer(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 15 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v as f64)
}

fn is_infinity_word(s: &str) -> bool {
    s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinity")
}

/// `digits [. digits] [e [sign] digits]` or `. digits [...]` (unsigned), at least
/// one mantissa digit.
fn decimal_shape(b: &[u8]) -> bool {
    let mut i = 0;
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_accepts() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5e3", -1500.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("+2", 2.0),
            ("1E-2", 0.01),
            ("0000000000000000000000000000000000000000001", 1.0),
            ("9223372036854775808", 9.223372036854776e18),
            ("2.478268416e+09", 2478268416.0),
        ] {
            assert_eq!(parse_value(s), Ok(v), "{s}");
        }
        for s in ["Inf", "+Inf", "inf", "+infinity", "INF"] {
            assert_eq!(parse_value(s), Ok(f64::INFINITY), "{s}");
        }
        assert_eq!(parse_value("-Inf"), Ok(f64::NEG_INFINITY));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert!(parse_value("nan").unwrap().is_nan());
    }

    #[test]
    fn values_go_refuses() {
        for s in [
            "", "a", "1_2", "0x1p-3", "0X1", "0x1", "0b1", "0o1", "1.1.1", "+NaN", "-nan", "1e",
            ".", "1 ", " 1", "e5", "--1", "Infx",
        ] {
            assert_eq!(parse_value(s), Err(NumberError::Syntax), "{s:?}");
        }
        assert_eq!(parse_value("1e400"), Err(NumberError::Range));
    }

    #[test]
    fn openmetrics_numbers() {
        assert_eq!(parse_value("NaN").map(f64::to_bits), Ok(NORMAL_NAN_BITS));
        assert_eq!(parse_om_seconds("1.5e3"), Ok(1500.0));
        for s in ["NaN", "Inf", "-Inf", "+Inf", "0x1p-3", "1_2", "z"] {
            assert!(parse_om_seconds(s).is_err(), "{s}");
        }
        assert_eq!(seconds_to_millis(1.1), 1100);
        assert_eq!(seconds_to_millis(0.0000000001), 0);
        assert_eq!(seconds_to_millis(-1.5), -1500);
        assert_eq!(seconds_to_millis(1.2345678901234567e19), i64::MAX);
    }

    #[test]
    fn label_floats_as_prometheus_writes_them() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-1.0, "-1.0"),
            (0.25, "0.25"),
            (100000.0, "100000.0"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23456789e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-10, "1.5e-10"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_label_float(f), s, "{f}");
        }
    }

    #[test]
    fn millis() {
        assert_eq!(parse_millis("1395066363000"), Ok(1395066363000));
        assert_eq!(parse_millis("-5"), Ok(-5));
        assert_eq!(parse_millis("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_millis("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_millis("9223372036854775808"), Err(NumberError::Range));
        for s in ["", "-", "1.5", "1e3", "a", "1_0"] {
            assert_eq!(parse_millis(s), Err(NumberError::Syntax), "{s:?}");
        }
    }
}
