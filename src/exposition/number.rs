//! Timestamp syntax, as each format writes it. Sample values are read by
//! [`float::parse_exposition`](crate::model::float::parse_exposition).

use crate::model::float::{NumberError, parse_exposition};

/// An OpenMetrics timestamp (seconds, decimal, never `NaN` or infinite), as seconds.
pub(crate) fn parse_om_seconds(s: &str) -> Result<f64, NumberError> {
    let unsigned = match s.as_bytes().first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    if !decimal_shape(unsigned.as_bytes()) {
        return Err(NumberError::Syntax);
    }
    parse_exposition(s)
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
    fn openmetrics_numbers() {
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
