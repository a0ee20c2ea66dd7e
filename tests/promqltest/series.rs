//! Series descriptions as the promqltest language writes them, on `load` lines and
//! as expected results: `name{label="value", ...} <value sequence>`.
//!
//! The value sequence is the "expanding notation" of Prometheus's series-description
//! grammar: items separated by blanks, each one of
//!
//! - `v` (a number, `Inf`, `NaN`, signed or not) or `stale` (the stale marker);
//! - `vxN`: `v` repeated N+1 times; `v+dxN` / `v-dxN`: N+1 values from `v`, adding
//!   `d` each step (accumulated by repeated addition, as Prometheus does);
//! - `_`: no sample at this step; `_xN`: N steps without a sample;
//! - `{{...}}`, `{{...}}xN`, `{{...}}+{{...}}xN`, `{{...}}-{{...}}xN`: native
//!   histograms, parsed only far enough to count them and keep their text.

use std::fmt;

use super::labels::Labels;

/// One position of a value sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample at this step.
    Omitted,
    /// A float sample (the stale marker is the stale NaN).
    Float(f64),
    /// A native-histogram literal, kept as written.
    Histogram(String),
}

/// The stale marker's bits (Prometheus's `value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A parse error with the byte column where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesError(pub String);

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, SeriesError> {
    Err(SeriesError(msg.into()))
}

/// Parses `metric{labels} values...` into the label set and the expanded values.
pub fn parse_series_desc(line: &str) -> Result<(Labels, Vec<SeqValue>), SeriesError> {
    let (labels, rest) = parse_metric(line)?;
    let values = parse_sequence(rest)?;
    Ok((labels, values))
}

/// Parses the metric part (`name`, `name{...}`, `{...}`) at the start of `s`; returns
/// the labels and the rest of the text.
pub fn parse_metric(s: &str) -> Result<(Labels, &str), SeriesError> {
    let s = s.trim_start();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let name_len = s
        .char_indices()
        .find(|&(i, c)| {
            !(c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        })
        .map_or(s.len(), |(i, _)| i);
    let mut rest = &s[name_len..];
    let braces = rest.starts_with('{');
    if name_len > 0 {
        pairs.push(("__name__".to_owned(), s[..name_len].to_owned()));
    }
    if let Some(after) = rest.strip_prefix('{') {
        if after.starts_with('{') {
            return err("a native histogram literal where a metric was expected");
        }
        let mut p = after;
        loop {
            p = p.trim_start();
            if let Some(r) = p.strip_prefix('}') {
                rest = r;
                break;
            }
            // A label name (identifier or quoted), or a quoted metric name alone.
            let (name, quoted, r) = if p.starts_with(['"', '\'', '`']) {
                let (v, r) = parse_string(p)?;
                (v, true, r)
            } else {
                let n = p
                    .char_indices()
                    .find(|&(i, c)| {
                        !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
                    })
                    .map_or(p.len(), |(i, _)| i);
                if n == 0 {
                    return err(format!("unexpected {:?} in label set", first_char(p)));
                }
                (p[..n].to_owned(), false, &p[n..])
            };
            let r = r.trim_start();
            if let Some(r) = r.strip_prefix('=') {
                if r.starts_with('~') {
                    return err("only `=` may be used in a series description");
                }
                let (value, r) = parse_string(r.trim_start())?;
                pairs.push((name, value));
                p = r;
            } else if quoted {
                if pairs.iter().any(|(n, _)| n == "__name__") {
                    return err("metric name given twice");
                }
                pairs.push(("__name__".to_owned(), name));
                p = r;
            } else {
                return err(format!("expected `=` after label name {name:?}"));
            }
            p = p.trim_start();
            if let Some(r) = p.strip_prefix(',') {
                p = r;
            } else if !p.starts_with('}') {
                return err(format!("unexpected {:?} in label set", first_char(p)));
            }
        }
    }
    if pairs.is_empty() && !braces {
        return err(format!("expected a metric, found {:?}", first_char(s)));
    }
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return err(format!(
            "unexpected {:?} after the metric",
            first_char(rest)
        ));
    }
    let labels = Labels::new(pairs).map_err(SeriesError)?;
    Ok((labels, rest))
}

fn first_char(s: &str) -> String {
    s.chars()
        .next()
        .map_or("end of line".to_owned(), |c| c.to_string())
}

/// Parses a PromQL string literal at the start of `s` (`"…"`, `'…'` with Go escapes,
/// or a raw `` `…` ``); returns its value and the rest.
pub fn parse_string(s: &str) -> Result<(String, &str), SeriesError> {
    let mut chars = s.char_indices();
    let Some((_, quote)) = chars.next() else {
        return err("expected a string, found end of line");
    };
    if quote == '`' {
        return match s[1..].find('`') {
            Some(end) => Ok((s[1..1 + end].to_owned(), &s[end + 2..])),
            None => err("unterminated raw string"),
        };
    }
    if quote != '"' && quote != '\'' {
        return err(format!("expected a quoted string, found {quote:?}"));
    }
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == quote as u8 {
            let v = String::from_utf8(out)
                .map_err(|_| SeriesError("string is not valid UTF-8".into()))?;
            return Ok((v, &s[i + 1..]));
        }
        if b == b'\n' {
            break;
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = bytes.get(i + 1) else { break };
        i += 2;
        let simple = match e {
            b'a' => Some(7u8),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'"' | b'\'' => Some(e),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        let hex = |n: usize, i: usize| -> Result<u32, SeriesError> {
            let digits = s
                .get(i..i + n)
                .ok_or_else(|| SeriesError("short escape".into()))?;
            u32::from_str_radix(digits, 16)
                .map_err(|_| SeriesError(format!("bad escape \\{}{digits}", e as char)))
        };
        match e {
            b'x' => {
                out.push(hex(2, i)? as u8);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let c = char::from_u32(hex(n, i)?)
                    .ok_or_else(|| SeriesError("bad unicode escape".into()))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += n;
            }
            b'0'..=b'7' => {
                let digits = s
                    .get(i - 1..i + 2)
                    .ok_or_else(|| SeriesError("short octal escape".into()))?;
                let v = u32::from_str_radix(digits, 8)
                    .map_err(|_| SeriesError("bad octal escape".into()))?;
                out.push(
                    u8::try_from(v).map_err(|_| SeriesError("octal escape out of range".into()))?,
                );
                i += 2;
            }
            _ => return err(format!("unknown escape sequence \\{}", e as char)),
        }
    }
    err("unterminated string")
}

/// Parses a value sequence (everything after the metric).
pub fn parse_sequence(s: &str) -> Result<Vec<SeqValue>, SeriesError> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        // An item runs to the next blank, except inside `{{…}}`.
        let end = item_end(rest)?;
        parse_item(&rest[..end], &mut out)?;
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

fn item_end(s: &str) -> Result<usize, SeriesError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' && b.get(i + 1) == Some(&b'{') {
            match s[i..].find("}}") {
                Some(e) => i += e + 2,
                None => return err("unterminated native histogram literal `{{`"),
            }
            continue;
        }
        if b[i] == b' ' || b[i] == b'\t' {
            return Ok(i);
        }
        i += 1;
    }
    Ok(b.len())
}

fn parse_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), SeriesError> {
    if item.starts_with("{{") {
        return parse_histogram_item(item, out);
    }
    if item == "_" {
        out.push(SeqValue::Omitted);
        return Ok(());
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n = parse_count(n)?;
        out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
        return Ok(());
    }
    // value [sign delta] [x count]
    let (first, rest) = split_number(item, true)?;
    let (delta, rest) = if rest.starts_with(['+', '-']) {
        let (d, r) = split_number(rest, true)?;
        if !r.starts_with('x') {
            return err(format!(
                "expected `x<count>` after the increment in {item:?}"
            ));
        }
        (Some(d), r)
    } else {
        (None, rest)
    };
    if rest.is_empty() {
        out.push(SeqValue::Float(first));
        return Ok(());
    }
    let Some(n) = rest.strip_prefix('x') else {
        return err(format!("unexpected {rest:?} in value {item:?}"));
    };
    let n = parse_count(n)?;
    let mut v = first;
    let d = delta.unwrap_or(0.0);
    for _ in 0..=n {
        out.push(SeqValue::Float(v));
        v += d;
    }
    Ok(())
}

fn parse_count(s: &str) -> Result<usize, SeriesError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("invalid repetition count {s:?}"));
    }
    let n: usize = s
        .parse()
        .map_err(|_| SeriesError(format!("repetition count {s:?} too large")))?;
    if n > 1_000_000 {
        return err(format!("repetition count {n} too large for a test"));
    }
    Ok(n)
}

/// Splits a leading (optionally signed) number, `Inf`, `NaN` or `stale` off `s`.
fn split_number(s: &str, allow_sign: bool) -> Result<(f64, &str), SeriesError> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') if allow_sign => (true, &s[1..]),
        Some(b'+') if allow_sign => (false, &s[1..]),
        _ => (false, s),
    };
    let b = body.as_bytes();
    if b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        let n = b
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let word = &body[..n];
        let v = match word.to_ascii_lowercase().as_str() {
            "inf" => f64::INFINITY,
            "nan" => f64::NAN,
            "stale" if word == "stale" && s.len() == body.len() => stale_nan(),
            _ => return err(format!("expected a number or \"stale\", found {word:?}")),
        };
        return Ok((if neg { -v } else { v }, &body[n..]));
    }
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i == 0 || (i == 1 && b[0] == b'.') {
        return err(format!("expected a number, found {:?}", first_char(body)));
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let digits = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            i = j + digits;
        }
    }
    if i < b.len() && b[i].is_ascii_alphanumeric() && b[i] != b'x' {
        return err(format!("bad number syntax {:?}", &body[..=i]));
    }
    let v: f64 = body[..i]
        .parse()
        .map_err(|_| SeriesError(format!("bad number {:?}", &body[..i])))?;
    Ok((if neg { -v } else { v }, &body[i..]))
}

fn parse_histogram_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), SeriesError> {
    let (first, rest) = split_histogram(item)?;
    if rest.is_empty() {
        out.push(SeqValue::Histogram(first.to_owned()));
        return Ok(());
    }
    let rest = if let Some(r) = rest.strip_prefix(['+', '-']) {
        let (_, r) = split_histogram(r)?;
        r
    } else {
        rest
    };
    let Some(n) = rest.strip_prefix('x') else {
        return err(format!(
            "unexpected {rest:?} after a native histogram literal"
        ));
    };
    let n = parse_count(n)?;
    // The expanded values are not computed: histograms are not supported beyond
    // being recognised, so only their number and positions matter.
    out.extend(std::iter::repeat_n(
        SeqValue::Histogram(item.to_owned()),
        n + 1,
    ));
    Ok(())
}

/// Splits one `{{…}}` literal off the start of `s`, checking its fields' shape.
fn split_histogram(s: &str) -> Result<(&str, &str), SeriesError> {
    let Some(body) = s.strip_prefix("{{") else {
        return err("expected a native histogram literal `{{…}}`");
    };
    let Some(end) = body.find("}}") else {
        return err("unterminated native histogram literal");
    };
    let inner = &body[..end];
    let mut p = inner.trim();
    while !p.is_empty() {
        let Some(colon) = p.find(':') else {
            return err(format!(
                "expected `field:value` in native histogram literal, found {p:?}"
            ));
        };
        let key = p[..colon].trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return err(format!(
                "bad field name {key:?} in native histogram literal"
            ));
        }
        p = p[colon + 1..].trim_start();
        if let Some(r) = p.strip_prefix('[') {
            let Some(close) = r.find(']') else {
                return err("unterminated `[` in native histogram literal");
            };
            p = r[close + 1..].trim_start();
        } else {
            let n = p.find([' ', '\t']).unwrap_or(p.len());
            if n == 0 {
                return err(format!(
                    "missing value for {key:?} in native histogram literal"
                ));
            }
            p = p[n..].trim_start();
        }
    }
    Ok((&s[..end + 4], &body[end + 2..]))
}

/// Parses a number the way the runner reads a scalar result line (Go's
/// `strconv.ParseInt(s, 0, 64)`, then `ParseFloat`).
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let int = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        i64::from_str_radix(b, 2).ok()
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&body[1..], 8).ok()
    } else if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        let f = i as f64;
        return Some(if neg { -f } else { f });
    }
    let lower = body.to_ascii_lowercase();
    let f = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) =>
        {
            body.parse::<f64>().ok()?
        }
        _ => return None,
    };
    Some(if neg { -f } else { f })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(s: &str) -> Vec<Option<f64>> {
        parse_sequence(s)
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SeqValue::Float(f) => Some(f),
                SeqValue::Omitted => None,
                SeqValue::Histogram(_) => panic!("histogram"),
            })
            .collect()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(
            floats("1+2x3"),
            [Some(1.0), Some(3.0), Some(5.0), Some(7.0)]
        );
        assert_eq!(floats("-2+5x2"), [Some(-2.0), Some(3.0), Some(8.0)]);
        assert_eq!(floats("10-1x2"), [Some(10.0), Some(9.0), Some(8.0)]);
        assert_eq!(floats("1x2"), [Some(1.0); 3]);
        assert_eq!(floats("0x3"), [Some(0.0); 4]);
        assert_eq!(
            floats("_ 1 _x2 2"),
            [None, Some(1.0), None, None, Some(2.0)]
        );
        assert_eq!(
            floats("1e3 .5 -Inf"),
            [Some(1000.0), Some(0.5), Some(f64::NEG_INFINITY)]
        );
        let v = parse_sequence("NaN stale").unwrap();
        assert!(matches!(v[0], SeqValue::Float(f) if f.is_nan() && !is_stale(f)));
        assert!(matches!(v[1], SeqValue::Float(f) if is_stale(f)));
        assert!(parse_sequence("1+2").is_err());
        assert!(parse_sequence("5m").is_err());
        assert!(parse_sequence("foo").is_err());
    }

    #[test]
    fn histograms_are_counted() {
        let v = parse_sequence("{{schema:1 sum:3 buckets:[1 2]}}x2 {{count:1}}+{{count:2}}x1 1")
            .unwrap();
        assert_eq!(v.len(), 6);
        assert!(matches!(v[0], SeqValue::Histogram(_)));
        assert_eq!(v[5], SeqValue::Float(1.0));
    }

    #[test]
    fn metrics() {
        let (l, rest) = parse_metric(r#"up{job="a\"b", instance='x',} 1"#).unwrap();
        assert_eq!(l.to_string(), r#"up{instance="x", job="a\"b"}"#);
        assert_eq!(rest, " 1");
        let (l, _) = parse_metric(r#"{"my.metric", "a.b"="c"}"#).unwrap();
        assert_eq!(l.get("__name__"), Some("my.metric"));
        assert_eq!(l.get("a.b"), Some("c"));
        let (l, _) = parse_metric("{} 3").unwrap();
        assert!(l.is_empty());
        assert!(parse_metric("{a=~\"b\"}").is_err());
        assert!(parse_metric("3").is_err());
    }

    #[test]
    fn scalar_lines() {
        assert_eq!(parse_number("3"), Some(3.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number("{} 3"), None);
        assert_eq!(parse_number("foo"), None);
    }
}
