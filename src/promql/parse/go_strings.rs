//! String literals as Prometheus (Go) reads them. Go's `\xNN` and octal `\NNN`
//! escapes are bytes, so `"\xc3\xa9"` is `é`; promql-parser reads each one as a
//! character (`Ã©`). Before parsing, each run of such escapes that makes
//! non-ASCII bytes is written back as the characters the bytes encode. Bytes
//! that are not UTF-8 (`"\xff"`) cannot be held in a Rust string: they become
//! U+FFFD, and the literal is remembered with its bytes, so that a label name
//! made of it is refused as Prometheus refuses it and messages quote it as Go
//! does.

use std::borrow::Cow;

/// A string literal of the query whose bytes are not UTF-8.
#[derive(Debug, Clone)]
struct NonUtf8 {
    /// The literal as parsed, with U+FFFD for what is not UTF-8.
    lossy: String,
    bytes: Vec<u8>,
}

/// The string literals of one query that are not UTF-8.
#[derive(Debug, Clone, Default)]
pub(crate) struct NonUtf8Strings(Vec<NonUtf8>);

impl NonUtf8Strings {
    /// The bytes of the literal that parsed to `s`, if it is one of them.
    pub fn bytes_of(&self, s: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|n| n.lossy == s)
            .map(|n| n.bytes.as_slice())
    }
}

/// `query` with its byte escapes written as characters, and the literals that
/// are not UTF-8.
pub(crate) fn rewrite(query: &str) -> (Cow<'_, str>, NonUtf8Strings) {
    let b = query.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut non_utf8 = NonUtf8Strings::default();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'`' => i = string_end(b, i).unwrap_or(b.len()),
            b'"' | b'\'' => {
                // An unterminated string is the parser's to report.
                let Some(end) = string_end(b, i) else { break };
                let body = &query[i + 1..end - 1];
                if let Some(lit) = literal(body) {
                    out.push_str(&query[copied..i + 1]);
                    out.push_str(&lit.text);
                    copied = i + 1 + body.len();
                    if let Some(n) = lit.non_utf8 {
                        non_utf8.0.push(n);
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return (Cow::Borrowed(query), non_utf8);
    }
    out.push_str(&query[copied..]);
    (Cow::Owned(out), non_utf8)
}

/// The offset after the quoted string that opens at `i` (`"`, `'` or `` ` ``,
/// the last without escapes), or `None` when it is not closed.
pub(crate) fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let quote = b[i];
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' if quote != b'`' => j += 2,
            _ if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// A string body rewritten for promql-parser.
struct Literal {
    text: String,
    non_utf8: Option<NonUtf8>,
}

/// The body of a quoted string with its runs of non-ASCII byte escapes
/// written as characters, or `None` when it has none (or an escape the
/// parser will refuse anyway).
fn literal(body: &str) -> Option<Literal> {
    if !body.contains('\\') {
        return None;
    }
    let mut text = String::with_capacity(body.len());
    // The string's bytes as Go decodes it.
    let mut bytes = Vec::with_capacity(body.len());
    let mut changed = false;
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c != '\\' {
            text.push(c);
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let mut run = Vec::new();
        let mut run_len = 0;
        while let Some((byte, len)) = byte_escape(&rest[run_len..]) {
            run.push(byte);
            run_len += len;
        }
        if run.is_empty() {
            let (decoded, len) = other_escape(rest)?;
            text.push_str(&rest[..len]);
            let mut buf = [0; 4];
            bytes.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
            rest = &rest[len..];
            continue;
        }
        if run.is_ascii() {
            text.push_str(&rest[..run_len]);
        } else {
            changed = true;
            for chunk in run.utf8_chunks() {
                for ch in chunk.valid().chars() {
                    text.push_str(&escaped(ch));
                }
                if !chunk.invalid().is_empty() {
                    text.push_str("\\ufffd");
                }
            }
        }
        bytes.extend_from_slice(&run);
        rest = &rest[run_len..];
    }
    if !changed {
        return None;
    }
    let non_utf8 = std::str::from_utf8(&bytes).is_err().then(|| NonUtf8 {
        lossy: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    });
    Some(Literal { text, non_utf8 })
}

/// `\xNN` or `\NNN` (octal) at the start of `s`: its byte and length.
fn byte_escape(s: &str) -> Option<(u8, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'\\') {
        return None;
    }
    match b.get(1)? {
        b'x' => {
            let hex = s.get(2..4)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            Some((u8::from_str_radix(hex, 16).ok()?, 4))
        }
        b'0'..=b'7' => {
            let oct = s.get(1..4)?;
            if !oct.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
                return None;
            }
            Some((u8::try_from(u32::from_str_radix(oct, 8).ok()?).ok()?, 4))
        }
        _ => None,
    }
}

/// Any other escape at the start of `s`: the character and the length.
fn other_escape(s: &str) -> Option<(char, usize)> {
    let c = s[1..].chars().next()?;
    let simple = match c {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' | '\'' | '"' => Some(c),
        _ => None,
    };
    if let Some(d) = simple {
        return Some((d, 2));
    }
    let digits = match c {
        'u' => 4,
        'U' => 8,
        _ => return None,
    };
    let hex = s.get(2..2 + digits)?;
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    Some((ch, 2 + digits))
}

/// `c` as an escape promql-parser reads back as `c`.
fn escaped(c: char) -> String {
    match u32::from(c) {
        n if n < 0x80 => format!("\\x{n:02x}"),
        n if n <= 0xffff => format!("\\u{n:04x}"),
        n => format!("\\U{n:08x}"),
    }
}

/// `bytes` quoted as Go's `%q` quotes a string: bytes that are not UTF-8 as
/// `\xNN`.
pub(crate) fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                c if u32::from(c) < 0x20 || c == '\x7f' => {
                    out.push_str(&format!("\\x{:02x}", u32::from(c)));
                }
                c if c.is_control() => out.push_str(&escaped(c)),
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_escapes_make_utf8() {
        let (q, bad) = rewrite(r#"m{a="\xc3\xa9", b='\303\251'} + `\xc3`"#);
        assert_eq!(q, r#"m{a="\u00e9", b='\u00e9'} + `\xc3`"#);
        assert!(bad.0.is_empty());
        let (q, _) = rewrite(r#""x\xf0\x9f\x98\x80y\x41\n""#);
        assert_eq!(q, r#""x\U0001f600y\x41\n""#);
    }

    #[test]
    fn queries_without_byte_escapes_are_untouched() {
        for q in [
            r#"m{a="\x41\101\u00e9\n\"", b='it\'s'}"#,
            "# \"\\xff\"\nm",
            r#"label_replace(m, "a", "$1", "b", "(\\d+)")"#,
        ] {
            assert!(matches!(rewrite(q).0, Cow::Borrowed(_)), "{q}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_remembered() {
        let (q, bad) =
            rewrite(r#"count_values("a\xc5z", m) + label_replace(m, "\xff", "", "", "")"#);
        assert_eq!(
            q,
            r#"count_values("a\ufffdz", m) + label_replace(m, "\ufffd", "", "", "")"#
        );
        assert_eq!(bad.bytes_of("a\u{fffd}z"), Some(&b"a\xc5z"[..]));
        assert_eq!(bad.bytes_of("\u{fffd}"), Some(&b"\xff"[..]));
        assert_eq!(bad.bytes_of("a"), None);
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote(b"a\xc5z"), r#""a\xc5z""#);
        assert_eq!(go_quote("é\"\\\n\x01".as_bytes()), r#""é\"\\\n\x01""#);
    }

    #[test]
    fn malformed_strings_do_not_panic() {
        for q in [
            r#""\x"#,
            r#""\xc"#,
            r#""\xc3"#,
            r#"'\777'"#,
            "\"\\",
            "\"é\\xc3",
            "`",
        ] {
            let _ = rewrite(q);
        }
    }
}
