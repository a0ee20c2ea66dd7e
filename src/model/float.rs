//! Floats written and read as Prometheus (Go) writes and reads them.
//!
//! Writing: Go's `strconv.FormatFloat` with the shortest digits that read back
//! as the value, `+Inf`, `-Inf` and `NaN` for the special values, in the forms
//! Prometheus's outputs use: [`format_f`] (`'f'`: never an exponent),
//! [`format_g`] (`'g'`: an exponent below 1e-4 and from 1e6 on), [`write_json`]
//! (the API's JSON sample values: an exponent below 1e-6 and from 1e21 on),
//! [`format_openmetrics`] (`le` and `quantile` label values: `'g'` with `.0`
//! on integers), and the forms PromQL's messages and labels use
//! ([`format_g_wide`], [`format_g2`], [`format_f_with_point`]). Rust's shortest
//! round-tripping digits are Go's; only the exponent is written differently
//! (`1e-7` in Rust, `1e-07` in Go).
//!
//! Reading: Go's `strconv.ParseFloat` as each reader accepts it: [`parse`]
//! for API parameters and `le` labels, [`parse_exposition`] for the sample
//! values of the exposition formats (stricter, and on the scrape hot path).

use std::fmt::Write as _;

use super::sample::NORMAL_NAN_BITS;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits, never an
/// exponent (`1e21` is `1000000000000000000000`).
pub fn format_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// [`format_f`] with `.0` added to integers (`1` → `1.0`, `0.25` → `0.25`):
/// the quantile label `histogram_quantiles` gives each of its series.
pub fn format_f_with_point(v: f64) -> String {
    let s = format_f(v);
    if v.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits, in
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`,
/// `1.5e-05`).
pub fn format_g(v: f64) -> String {
    shortest_with_plain_exponents(v, -4..6)
}

/// Like [`format_g`] but plain up to 1e21 (`1000000`, `1e+21`, `1e-05`): how
/// PromQL's warnings and infos print the values they quote. Go's `%g`, which
/// Prometheus's messages use, would print `1e+06` already.
pub fn format_g_wide(v: f64) -> String {
    shortest_with_plain_exponents(v, -4..21)
}

/// The shortest digits of `v`, plain when its decimal exponent is in `plain`,
/// else in Go's exponent form; `-0` keeps its sign.
fn shortest_with_plain_exponents(v: f64, plain: std::ops::Range<i32>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:e}");
    let exp: i32 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if plain.contains(&exp) {
        format!("{v}")
    } else {
        go_exponent(&sci)
    }
}

/// Go's `%.2g`: two significant digits (`5`, `0.12`, `1.2e+02`).
pub fn format_g2(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format_g_wide(v);
    }
    let e = format!("{v:.1e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mant = mant.trim_end_matches('0').trim_end_matches('.');
    if (-4..2).contains(&exp) {
        let x: f64 = format!("{mant}e{exp}").parse().unwrap_or(v);
        format!("{x}")
    } else {
        go_exponent(&format!("{mant}e{exp}"))
    }
}

/// Rust's `1.5e3` written as Go's `1.5e+03`: a sign and at least two exponent
/// digits.
fn go_exponent(s: &str) -> String {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.abs())
}

/// A float as Prometheus writes `le` and `quantile` label values (its
/// `FormatOpenMetricsFloat`: Go's shortest `%g`, with `.0` added to integers):
/// `1` → `1.0`, `0.25` → `0.25`, `1000000` → `1e+06`, `+Inf`, `-Inf`, `NaN`;
/// zero of either sign is `0.0`.
pub fn format_openmetrics(f: f64) -> String {
    if f == 0.0 {
        return "0.0".to_owned();
    }
    let mut s = format_g(f);
    if f.is_finite() && !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    s
}

/// A sample value as Prometheus's HTTP API writes it in JSON (inside the
/// quotes): Go's `strconv.FormatFloat(v, f, -1, 64)` where `f` is `'e'` for
/// magnitudes below 1e-6 or from 1e21 on and `'f'` otherwise.
pub fn write_json(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let abs = v.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            write_exponent(v, out);
        } else {
            // Rust's `Display` for f64 is the shortest round-tripping decimal
            // without an exponent, as Go's 'f' with precision -1; -0 keeps its sign
            // in both.
            let _ = write!(out, "{v}");
        }
    }
}

/// Go's `'e'` form: `d.ddde±XX`, at least two exponent digits.
fn write_exponent(v: f64, out: &mut String) {
    // `{:e}` gives the shortest mantissa and an exponent without padding, e.g.
    // `1e-7`, `1.5e21`.
    let text = format!("{v:e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    out.push_str(mantissa);
    out.push('e');
    out.push(sign);
    if digits.len() < 2 {
        out.push('0');
    }
    out.push_str(digits);
}

/// Go's `strconv.ParseFloat` on decimal input, as Prometheus's API reads
/// times, durations and `le` bounds: digits with an optional sign, fraction
/// and exponent, or `Inf`/`Infinity`/`NaN` in any case, with an optional sign.
/// Neither surrounding space, hexadecimal floats nor `_` separators are
/// accepted; a magnitude beyond f64 reads as an infinity.
pub fn parse(s: &str) -> Option<f64> {
    // Rust's float syntax is exactly this.
    s.parse().ok()
}

/// Why a number was refused (the caller adds where and what was found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    Syntax,
    /// Well formed, but beyond the range of f64 (or i64 for an integer).
    Range,
}

/// A sample value as Prometheus's scrapers read it, in both exposition
/// formats: Go's decimal float syntax (`1`, `-1.5e3`, `.5`, `5.`, `Inf`,
/// `+inf`, `-Infinity`, `NaN`, any case), but no hexadecimal floats and no `_`
/// digit separators ("pre-Go 1.13 float formats"), a sign never before `NaN`,
/// and overflow (`1e400`) an error rather than infinity. This is also
/// OpenMetrics's ABNF for numbers. `NaN` becomes [`NORMAL_NAN_BITS`].
pub fn parse_exposition(s: &str) -> Result<f64, NumberError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: f64) -> String {
        let mut s = String::new();
        write_json(v, &mut s);
        s
    }

    #[test]
    fn f_as_go_formats_it() {
        assert_eq!(format_f(6.0), "6");
        assert_eq!(format_f(0.25), "0.25");
        assert_eq!(format_f(f64::INFINITY), "+Inf");
        assert_eq!(format_f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_f(f64::NAN), "NaN");
        assert_eq!(format_f(1e21), "1000000000000000000000");
    }

    #[test]
    fn f_with_point_marks_integers() {
        assert_eq!(format_f_with_point(1.0), "1.0");
        assert_eq!(format_f_with_point(0.25), "0.25");
        assert_eq!(format_f_with_point(f64::INFINITY), "+Inf");
        assert_eq!(format_f_with_point(1e21), "1000000000000000000000.0");
    }

    #[test]
    fn g_as_go_formats_it() {
        assert_eq!(format_g(1e6), "1e+06");
        assert_eq!(format_g(999_999.5), "999999.5");
        assert_eq!(format_g(123_456.0), "123456");
        assert_eq!(format_g(1_234_567.0), "1.234567e+06");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.000_015), "1.5e-05");
        assert_eq!(format_g(-2.5e-300), "-2.5e-300");
        assert_eq!(format_g(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_g(0.0), "0");
    }

    #[test]
    fn message_floats() {
        assert_eq!(format_g_wide(1.1), "1.1");
        assert_eq!(format_g_wide(-1.0), "-1");
        assert_eq!(format_g_wide(1e6), "1000000");
        assert_eq!(format_g_wide(1e21), "1e+21");
        assert_eq!(format_g_wide(0.00001), "1e-05");
        // The exponent is the digits' own, also a hair below a power of ten.
        assert_eq!(format_g_wide(9.999999999999999e-5), "9.999999999999999e-05");
        assert_eq!(format_g_wide(9.999999999999999e20), "999999999999999900000");
        assert_eq!(format_g2(5.0), "5");
        assert_eq!(format_g2(0.123), "0.12");
        assert_eq!(format_g2(123.0), "1.2e+02");
    }

    #[test]
    fn label_floats_as_prometheus_writes_them() {
        for (f, s) in [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "0.0"),
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
            assert_eq!(format_openmetrics(f), s, "{f}");
        }
    }

    #[test]
    fn json_as_go_formats_it() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (1e-6, "0.000001"),
            (1e-7, "1e-07"),
            (-1.5e-7, "-1.5e-07"),
            (1.2345e-300, "1.2345e-300"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (123456789.123, "123456789.123"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(json(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn parse_reads_decimals_and_the_special_words() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5e3", -1500.0),
            ("+.5", 0.5),
            ("5.", 5.0),
            ("1E-2", 0.01),
            ("1e400", f64::INFINITY),
            ("-1e400", f64::NEG_INFINITY),
            ("Inf", f64::INFINITY),
            ("+infinity", f64::INFINITY),
            ("-INF", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse(s), Some(v), "{s}");
        }
        for s in ["NaN", "nan", "+NaN", "-nan"] {
            assert!(parse(s).is_some_and(f64::is_nan), "{s}");
        }
        for s in [
            "", " 1", "1 ", "\t1", "0x1p-3", "1_000", "1.1.1", "e5", ".", "+", "Infx", "1e", "1.5h",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn exposition_values_go_accepts() {
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
            assert_eq!(parse_exposition(s), Ok(v), "{s}");
        }
        for s in ["Inf", "+Inf", "inf", "+infinity", "INF"] {
            assert_eq!(parse_exposition(s), Ok(f64::INFINITY), "{s}");
        }
        assert_eq!(parse_exposition("-Inf"), Ok(f64::NEG_INFINITY));
        assert!(parse_exposition("NaN").unwrap().is_nan());
        assert!(parse_exposition("nan").unwrap().is_nan());
        assert_eq!(
            parse_exposition("NaN").map(f64::to_bits),
            Ok(NORMAL_NAN_BITS)
        );
    }

    #[test]
    fn exposition_values_go_refuses() {
        for s in [
            "", "a", "1_2", "0x1p-3", "0X1", "0x1", "0b1", "0o1", "1.1.1", "+NaN", "-nan", "1e",
            ".", "1 ", " 1", "e5", "--1", "Infx",
        ] {
            assert_eq!(parse_exposition(s), Err(NumberError::Syntax), "{s:?}");
        }
        assert_eq!(parse_exposition("1e400"), Err(NumberError::Range));
    }
}
