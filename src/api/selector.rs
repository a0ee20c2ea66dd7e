//! A strict parser of PromQL series selectors, as `match[]` parameters carry
//! them: `up`, `up{job="x"}`, `{__name__=~"a.*", env!=""}`, `{"metric.name"}`.
//!
//! Self-contained on purpose (the PromQL engine's parser may replace it later).
//! Strings take PromQL's quotes (`"…"`, `'…'`, raw `` `…` ``) and Go's escapes;
//! label names may be quoted as in Prometheus 3. As Prometheus demands, at least
//! one matcher must not match the empty string. Errors read like Prometheus's:
//! `1:<column>: parse error: <what>`, the column counting bytes from 1.

use std::fmt;

use crate::model::{MatchType, Matcher};

/// Why a selector did not parse; `offset` is the byte where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1:{}: parse error: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for SelectorError {}

/// Longest selector accepted (Prometheus has no such limit, but a selector is
/// small and this bounds the work on hostile input).
const MAX_LEN: usize = 64 * 1024;

/// Parses one series selector into its matchers (the metric name, if written,
/// becomes `__name__="…"`, first).
pub fn parse_selector(input: &str) -> Result<Vec<Matcher>, SelectorError> {
    if input.len() > MAX_LEN {
        return Err(err(0, format!("selector longer than {MAX_LEN} bytes")));
    }
    let mut p = P {
        s: input.as_bytes(),
        src: input,
        i: 0,
    };
    let mut matchers = Vec::new();
    let mut name: Option<String> = None;
    p.ws();
    if p.peek().is_some_and(is_name_start) {
        let n = p.ident(true);
        name = Some(n.to_owned());
        p.ws();
    }
    let braces = p.peek() == Some(b'{');
    if braces {
        p.i += 1;
        p.matchers(&mut matchers, &mut name)?;
    }
    p.ws();
    if p.i < p.s.len() {
        let what = char_at(input, p.i);
        return Err(err(p.i, format!("unexpected character: {what:?}")));
    }
    if let Some(n) = name {
        matchers.insert(0, Matcher::equal("__name__", n));
    }
    if matchers.is_empty() && !braces {
        return Err(err(0, "unexpected end of input".into()));
    }
    if matchers.iter().all(|m| m.matches("")) {
        return Err(err(
            0,
            "vector selector must contain at least one non-empty matcher".into(),
        ));
    }
    Ok(matchers)
}

fn err(offset: usize, message: String) -> SelectorError {
    SelectorError { offset, message }
}

fn char_at(s: &str, i: usize) -> char {
    s.get(i..)
        .and_then(|r| r.chars().next())
        .unwrap_or('\u{fffd}')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self
            .peek()
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    /// A metric name (`colons`) or label name; the caller checked the first byte.
    fn ident(&mut self, colons: bool) -> &'a str {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || (colons && b == b':'))
        {
            self.i += 1;
        }
        &self.src[start..self.i]
    }

    /// The inside of `{…}`, the opening brace consumed.
    fn matchers(
        &mut self,
        out: &mut Vec<Matcher>,
        name: &mut Option<String>,
    ) -> Result<(), SelectorError> {
        loop {
            self.ws();
            match self.peek() {
                None => return Err(err(self.i, "unexpected end of input inside braces".into())),
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => {}
            }
            let at = self.i;
            let label = match self.peek() {
                Some(b) if b.is_ascii_alphabetic() || b == b'_' => self.ident(false).to_owned(),
                Some(b'"' | b'\'' | b'`') => self.string()?,
                _ => {
                    let c = char_at(self.src, self.i);
                    return Err(err(
                        self.i,
                        format!("unexpected character inside braces: {c:?}"),
                    ));
                }
            };
            self.ws();
            let kind = match (self.peek(), self.s.get(self.i + 1).copied()) {
                (Some(b'='), Some(b'~')) => Some(MatchType::RegexMatch),
                (Some(b'!'), Some(b'~')) => Some(MatchType::RegexNoMatch),
                (Some(b'!'), Some(b'=')) => Some(MatchType::NotEqual),
                (Some(b'='), _) => Some(MatchType::Equal),
                _ => None,
            };
            match kind {
                Some(k) => {
                    self.i += if k == MatchType::Equal { 1 } else { 2 };
                    self.ws();
                    let vat = self.i;
                    if !matches!(self.peek(), Some(b'"' | b'\'' | b'`')) {
                        return Err(err(
                            vat,
                            "unexpected character in label matching, expected string".into(),
                        ));
                    }
                    let value = self.string()?;
                    let m = Matcher::new(k, label, value).map_err(|e| err(vat, e.to_string()))?;
                    out.push(m);
                }
                None => {
                    // A quoted name alone is the metric name (`{"a.b"}`).
                    if !matches!(self.s.get(at), Some(b'"' | b'\'' | b'`')) {
                        return Err(err(
                            self.i,
                            format!("unexpected label name {label:?} without matcher"),
                        ));
                    }
                    if let Some(prev) = name.as_ref() {
                        return Err(err(
                            at,
                            format!("metric name must not be set twice: {prev:?} or {label:?}"),
                        ));
                    }
                    *name = Some(label);
                }
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                None => return Err(err(self.i, "unexpected end of input inside braces".into())),
                Some(_) => {
                    let c = char_at(self.src, self.i);
                    return Err(err(
                        self.i,
                        format!("unexpected character inside braces: {c:?}"),
                    ));
                }
            }
        }
    }

    /// A quoted string at `self.i`, escapes resolved (none in raw strings).
    fn string(&mut self) -> Result<String, SelectorError> {
        let start = self.i;
        let quote = self.s[self.i];
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.src.get(self.i..).and_then(|r| r.chars().next()) else {
                return Err(err(start, "unterminated quoted string".into()));
            };
            let at = self.i;
            self.i += c.len_utf8();
            if c as u32 == u32::from(quote) {
                return Ok(out);
            }
            if quote != b'`' && c == '\n' {
                return Err(err(start, "unterminated quoted string".into()));
            }
            if quote == b'`' || c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(err(start, "unterminated quoted string".into()));
            };
            self.i += 1;
            let simple = match e {
                b'a' => Some('\u{7}'),
                b'b' => Some('\u{8}'),
                b'f' => Some('\u{c}'),
                b'n' => Some('\n'),
                b'r' => Some('\r'),
                b't' => Some('\t'),
                b'v' => Some('\u{b}'),
                b'\\' => Some('\\'),
                b'"' | b'\'' if e == quote => Some(e as char),
                _ => None,
            };
            if let Some(ch) = simple {
                out.push(ch);
                continue;
            }
            let (digits, radix) = match e {
                b'x' => (2, 16),
                b'u' => (4, 16),
                b'U' => (8, 16),
                b'0'..=b'7' => {
                    self.i -= 1;
                    (3, 8)
                }
                _ => return Err(err(at, "unknown escape sequence".into())),
            };
            let hex = self
                .src
                .get(self.i..self.i + digits)
                .ok_or_else(|| err(at, "escape sequence is invalid".into()))?;
            let n = u32::from_str_radix(hex, radix)
                .ok()
                .filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| err(at, "escape sequence is invalid".into()))?;
            self.i += digits;
            if e == b'x' || radix == 8 {
                if n > 255 {
                    return Err(err(
                        at,
                        "escape sequence is an invalid Unicode code point".into(),
                    ));
                }
                // Go strings are bytes; a lone byte over 0x7f is not valid UTF-8.
                if n > 0x7f {
                    return Err(err(at, "invalid UTF-8 in escape sequence".into()));
                }
            }
            let ch = char::from_u32(n).ok_or_else(|| {
                err(
                    at,
                    "escape sequence is an invalid Unicode code point".into(),
                )
            })?;
            out.push(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(input: &str) -> String {
        match parse_selector(input) {
            Ok(ms) => ms
                .iter()
                .map(|m| {
                    let op = match m.kind() {
                        MatchType::Equal => "=",
                        MatchType::NotEqual => "!=",
                        MatchType::RegexMatch => "=~",
                        MatchType::RegexNoMatch => "!~",
                    };
                    format!("{}{}{:?}", m.name(), op, m.value())
                })
                .collect::<Vec<_>>()
                .join(","),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn selectors_parse() {
        assert_eq!(show("up"), r#"__name__="up""#);
        assert_eq!(show(" up { job = \"x\" , } "), r#"__name__="up",job="x""#);
        assert_eq!(show(r#"{__name__=~"a.*"}"#), r#"__name__=~"a.*""#);
        assert_eq!(
            show(r#"a:b{x!="",y!~'z'}"#),
            r#"__name__="a:b",x!="",y!~"z""#
        );
        assert_eq!(
            show(r#"{"my.metric", "a.b"="c"}"#),
            r#"__name__="my.metric",a.b="c""#
        );
        assert_eq!(show("{a=`x\\n`}"), r#"a="x\\n""#);
        assert_eq!(show(r#"{a="\x41\u00e9\101\n\""}"#), r#"a="AéA\n\"""#);
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(
            show("{}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher"
        );
        assert_eq!(
            show(r#"{a=~".*",b=""}"#),
            "1:1: parse error: vector selector must contain at least one non-empty matcher"
        );
        assert_eq!(
            show("up{a=1}"),
            "1:6: parse error: unexpected character in label matching, expected string"
        );
        assert_eq!(
            show("up[5m]"),
            "1:3: parse error: unexpected character: '['"
        );
        assert_eq!(
            show(r#"up{a="x"#),
            "1:6: parse error: unterminated quoted string"
        );
        assert_eq!(
            show(r#"up{a="\q"}"#),
            "1:7: parse error: unknown escape sequence"
        );
        assert_eq!(
            show("up{a}"),
            "1:5: parse error: unexpected label name \"a\" without matcher"
        );
        assert_eq!(
            show(r#"up{"x"}"#),
            "1:4: parse error: metric name must not be set twice: \"up\" or \"x\""
        );
        assert!(show(r#"{a=~"("}"#).starts_with("1:5: parse error: "));
        assert_eq!(show(""), "1:1: parse error: unexpected end of input");
        assert_eq!(
            show("{a=\"é"),
            "1:4: parse error: unterminated quoted string"
        );
    }
}
