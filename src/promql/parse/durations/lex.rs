//! Tokens of a duration expression, read as Prometheus's lexer reads them: in
//! a bracket every character must belong to the expression (anything else is
//! an error), while after `offset` the expression simply ends at the first
//! token that cannot belong to it.

use super::failure::ParseFailure;
use crate::model::float;

/// Where the tokens are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Inside `[…]`, up to the closing bracket.
    Bracket,
    /// After `offset`, among the rest of the query.
    Offset,
}

/// The duration functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Func {
    Step,
    Range,
    MinOf,
    MaxOf,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// A number of seconds; `plain` when the grammar we hand the rewritten
    /// query to reads its text the same (`90`, `1.5`).
    Number {
        value: f64,
        plain: bool,
    },
    /// A duration literal such as `1h30m`, in seconds.
    Duration(f64),
    /// One of `+ - * / % ^`.
    Op(u8),
    Func(Func),
    LParen,
    RParen,
    Comma,
    Colon,
    RBracket,
    /// Any other identifier (offset mode only).
    Ident,
    /// Any other character (offset mode only).
    Other,
    End,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token as Prometheus names it in "unexpected …" messages.
    pub fn describe(&self, q: &str) -> String {
        let text = &q[self.start..self.end];
        match self.kind {
            Kind::End => "end of input".to_string(),
            Kind::Number { .. } => format!("number {text:?}"),
            Kind::Duration(_) => format!("duration {text:?}"),
            Kind::Ident => format!("identifier {text:?}"),
            Kind::Op(_) => format!("<op:{text}>"),
            Kind::Func(_) => format!("<{text}>"),
            _ => format!("{text:?}"),
        }
    }
}

/// Largest duration Prometheus holds (a Go `time.Duration`), in seconds.
pub(super) const MAX_SECONDS: f64 = 9_223_372_036.854_775;

/// The token that starts at or after byte `pos` of `q`.
pub(super) fn token_at(q: &str, pos: usize, mode: Mode) -> Result<Token, ParseFailure> {
    let b = q.as_bytes();
    let start = skip_space(b, pos, mode);
    let Some(&c) = b.get(start) else {
        return match mode {
            Mode::Bracket => Err(ParseFailure::at(
                start,
                "unexpected end of input in duration expression",
            )),
            Mode::Offset => Ok(tok(Kind::End, start, start)),
        };
    };
    let one = |kind| Ok(tok(kind, start, start + 1));
    match c {
        b'+' | b'-' | b'*' | b'/' | b'%' | b'^' => one(Kind::Op(c)),
        b'(' => one(Kind::LParen),
        b')' => one(Kind::RParen),
        b',' => one(Kind::Comma),
        b':' if mode == Mode::Bracket => one(Kind::Colon),
        b']' if mode == Mode::Bracket => one(Kind::RBracket),
        b'0'..=b'9' => number_or_duration(q, start),
        b'.' if b.get(start + 1).is_some_and(u8::is_ascii_digit) => number_or_duration(q, start),
        _ if c.is_ascii_alphabetic() || c == b'_' => word(q, start, mode),
        _ => match mode {
            Mode::Bracket => {
                let ch = q[start..].chars().next().unwrap_or('?');
                Err(ParseFailure::at(
                    start,
                    format!("unexpected character in duration expression: {ch:?}"),
                ))
            }
            Mode::Offset => {
                let len = q[start..].chars().next().map_or(1, char::len_utf8);
                Ok(tok(Kind::Other, start, start + len))
            }
        },
    }
}

fn tok(kind: Kind, start: usize, end: usize) -> Token {
    Token { kind, start, end }
}

/// Skips white space, and comments where the query may hold them.
fn skip_space(b: &[u8], mut i: usize, mode: Mode) -> usize {
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' && mode == Mode::Offset {
            while b.get(i).is_some_and(|&c| c != b'\n') {
                i += 1;
            }
        } else {
            break;
        }
    }
    i
}

/// A function name; after `offset` also `Inf`, `NaN` or any identifier.
fn word(q: &str, start: usize, mode: Mode) -> Result<Token, ParseFailure> {
    let b = q.as_bytes();
    let in_word = |c: u8| match mode {
        Mode::Bracket => c.is_ascii_alphabetic() || c == b'_',
        Mode::Offset => c.is_ascii_alphanumeric() || c == b'_' || c == b':',
    };
    let mut end = start;
    while b.get(end).is_some_and(|&c| in_word(c)) {
        end += 1;
    }
    let lower = q[start..end].to_ascii_lowercase();
    let kind = match lower.as_str() {
        "step" => Kind::Func(Func::Step),
        "range" => Kind::Func(Func::Range),
        "min_of" => Kind::Func(Func::MinOf),
        "max_of" => Kind::Func(Func::MaxOf),
        _ if mode == Mode::Bracket => {
            return Err(ParseFailure::at(
                start,
                format!(
                    "unexpected character in duration expression: {:?}",
                    char::from(b[start])
                ),
            ));
        }
        "inf" => {
            let inf = Kind::Number {
                value: f64::INFINITY,
                plain: false,
            };
            return literal(inf, start, end);
        }
        "nan" => Kind::Number {
            value: f64::NAN,
            plain: false,
        },
        _ => Kind::Ident,
    };
    Ok(tok(kind, start, end))
}

/// `90`, `1.5`, `1e3`, `0x1f`, `1_000` or a duration such as `1h30m`.
fn number_or_duration(q: &str, start: usize) -> Result<Token, ParseFailure> {
    let b = q.as_bytes();
    let hex = b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X'));
    let mut end = start;
    while let Some(&c) = b.get(end) {
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
            end += 1;
        } else if matches!(c, b'+' | b'-')
            && !hex
            && matches!(b[end - 1], b'e' | b'E')
            && b.get(end + 1).is_some_and(u8::is_ascii_digit)
        {
            // The sign of an exponent.
            end += 1;
        } else {
            break;
        }
    }
    let text = &q[start..end];
    if let Some(value) = parse_number(text) {
        return literal(
            Kind::Number {
                value,
                plain: is_plain_decimal(text),
            },
            start,
            end,
        );
    }
    if looks_like_duration(text) {
        return match parse_duration(text) {
            Some(value) => literal(Kind::Duration(value), start, end),
            None => Err(ParseFailure::at(
                start,
                format!("not a valid duration string: {text:?}"),
            )),
        };
    }
    Err(ParseFailure::at(
        start,
        format!("bad number or duration syntax: {text:?}"),
    ))
}

/// A literal, unless it is out of a duration's range.
fn literal(kind: Kind, start: usize, end: usize) -> Result<Token, ParseFailure> {
    let value = match kind {
        Kind::Number { value, .. } | Kind::Duration(value) => value,
        _ => 0.0,
    };
    if value.abs() > MAX_SECONDS {
        return Err(ParseFailure::at(start, "duration out of range"));
    }
    Ok(tok(kind, start, end))
}

/// `90` or `1.5`: no exponent, no leading zero (an octal number to Go).
fn is_plain_decimal(text: &str) -> bool {
    let (int, frac) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    digits(int) && digits(frac) && (int == "0" || !int.starts_with('0'))
}

/// A number as Prometheus reads one (Go's `ParseInt` with base 0, then
/// `ParseFloat`): decimal with optional fraction and exponent, hexadecimal,
/// or octal with a leading zero; `_` may separate digits.
fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.first() == Some(&b'_') || b.last() == Some(&b'_') || text.contains("__") {
        return None;
    }
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|c| matches!(c, b'0'..=b'7'))
    {
        return u64::from_str_radix(&digits[1..], 8).ok().map(|v| v as f64);
    }
    if !digits
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    float::parse(&digits)
}

/// Whether `text` has a duration's shape (numbers each followed by a unit),
/// which the lexer accepts before the units are checked.
fn looks_like_duration(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        let n = b[i..]
            .iter()
            .take_while(|&&c| c.is_ascii_digit() || (first && matches!(c, b'.' | b'_')))
            .count();
        if n == 0 || !b.get(i + n).is_some_and(|c| b"smhdwy".contains(c)) {
            return false;
        }
        i += n + 1;
        if b.get(i) == Some(&b's') {
            i += 1;
        }
        first = false;
    }
    i > 0
}

/// `1h30m` in seconds; units from the longest to the shortest, each once.
fn parse_duration(text: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 7] = [
        ("y", 31_536_000.0),
        ("w", 604_800.0),
        ("d", 86_400.0),
        ("h", 3_600.0),
        ("m", 60.0),
        ("s", 1.0),
        ("ms", 0.001),
    ];
    let mut rest = text;
    let mut next_unit = 0;
    let mut total = 0.0;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let unit_len = if rest.starts_with("ms") { 2 } else { 1 };
        let unit = rest.get(..unit_len)?;
        let k = UNITS.iter().position(|(u, _)| *u == unit)?;
        if k < next_unit {
            return None;
        }
        next_unit = k + 1;
        total += value * UNITS[k].1;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(q: &str, mode: Mode) -> Vec<Kind> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let t = token_at(q, pos, mode).unwrap();
            out.push(t.kind);
            if t.kind == Kind::End || t.kind == Kind::RBracket {
                return out;
            }
            pos = t.end;
        }
    }

    #[test]
    fn numbers_and_durations() {
        let num = |v: f64, plain| Kind::Number { value: v, plain };
        assert_eq!(
            kinds("90 1.5 1e3 1E-3 0x1f 1_000 .5 010 09 0.5]", Mode::Bracket),
            vec![
                num(90.0, true),
                num(1.5, true),
                num(1000.0, false),
                num(0.001, false),
                num(31.0, false),
                num(1000.0, false),
                num(0.5, false),
                num(8.0, false),
                num(9.0, false),
                num(0.5, true),
                Kind::RBracket
            ]
        );
        assert_eq!(
            kinds("1h30m 54s321ms 1y]", Mode::Bracket),
            vec![
                Kind::Duration(5400.0),
                Kind::Duration(54.321),
                Kind::Duration(31_536_000.0),
                Kind::RBracket
            ]
        );
    }

    #[test]
    fn functions_in_any_case() {
        assert_eq!(
            kinds("STEP() Range min_of MAX_OF]", Mode::Bracket),
            vec![
                Kind::Func(Func::Step),
                Kind::LParen,
                Kind::RParen,
                Kind::Func(Func::Range),
                Kind::Func(Func::MinOf),
                Kind::Func(Func::MaxOf),
                Kind::RBracket
            ]
        );
    }

    #[test]
    fn offset_mode_ends_at_foreign_tokens() {
        assert_eq!(
            kinds("5m + foo # c\n {", Mode::Offset),
            vec![
                Kind::Duration(300.0),
                Kind::Op(b'+'),
                Kind::Ident,
                Kind::Other,
                Kind::End
            ]
        );
    }

    #[test]
    fn bad_literals_are_named() {
        let err = |q: &str| token_at(q, 0, Mode::Bracket).unwrap_err().message;
        assert_eq!(err("5m1h"), "not a valid duration string: \"5m1h\"");
        assert_eq!(err("5m5m"), "not a valid duration string: \"5m5m\"");
        assert_eq!(err("1.5m"), "not a valid duration string: \"1.5m\"");
        assert_eq!(err("1m1"), "bad number or duration syntax: \"1m1\"");
        assert_eq!(err("5x"), "bad number or duration syntax: \"5x\"");
        assert_eq!(err("9.5e10"), "duration out of range");
        let inf = token_at("Inf", 0, Mode::Offset).unwrap_err().message;
        assert_eq!(inf, "duration out of range");
        assert_eq!(
            err("\"5m\""),
            "unexpected character in duration expression: '\"'"
        );
        assert_eq!(
            err("foo"),
            "unexpected character in duration expression: 'f'"
        );
        assert_eq!(err(""), "unexpected end of input in duration expression");
    }
}
