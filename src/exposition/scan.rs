//! Byte classes and the scanning primitives shared by both formats.

/// Bit flags per byte: which name positions the byte may take.
const METRIC_START: u8 = 1;
const METRIC_CHAR: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CHAR: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut f = 0;
        if alpha || c == b':' {
            f |= METRIC_START | METRIC_CHAR;
        }
        if digit {
            f |= METRIC_CHAR | LABEL_CHAR;
        }
        if alpha {
            f |= LABEL_START | LABEL_CHAR;
        }
        t[b] = f;
        b += 1;
    }
    t
};

/// `[a-zA-Z_:]`: may start a legacy metric name.
#[inline]
pub(crate) fn is_metric_start(b: u8) -> bool {
    CLASS[b as usize] & METRIC_START != 0
}

/// `[a-zA-Z0-9_:]`
#[inline]
pub(crate) fn is_metric_char(b: u8) -> bool {
    CLASS[b as usize] & METRIC_CHAR != 0
}

/// `[a-zA-Z_]`: may start a legacy label name.
#[inline]
pub(crate) fn is_label_start(b: u8) -> bool {
    CLASS[b as usize] & LABEL_START != 0
}

/// `[a-zA-Z0-9_]`
#[inline]
pub(crate) fn is_label_char(b: u8) -> bool {
    CLASS[b as usize] & LABEL_CHAR != 0
}

/// Any byte of a bare name, metric or label (used when re-walking a checked span).
#[inline]
pub(crate) fn is_name_char(b: u8) -> bool {
    CLASS[b as usize] & (METRIC_CHAR | LABEL_CHAR) != 0
}

/// Finds the quote closing a string whose body starts at `start`: returns its index
/// and whether the body holds a backslash escape. A backslash escapes any byte,
/// so `\"` never closes. `None` when the line ends first.
#[inline]
pub(crate) fn closing_quote(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut i = start;
    loop {
        let rel = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        let at = i + rel;
        if b[at] == b'"' {
            return Some((at, escaped));
        }
        // A backslash: skip it and the byte it escapes.
        escaped = true;
        i = at + 2;
        if i > b.len() {
            return None;
        }
    }
}

/// The byte offset of the end of a line starting at `start` (the `\n` or the end of
/// the input).
#[inline]
pub(crate) fn line_end(b: &[u8], start: usize) -> usize {
    match b.get(start..) {
        Some(rest) => memchr::memchr(b'\n', rest).map_or(b.len(), |i| start + i),
        None => b.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_quote_skips_escapes() {
        let b = br#"ab\"c\\" rest"#;
        assert_eq!(closing_quote(b, 0), Some((7, true)));
        assert_eq!(closing_quote(b"abc\"", 0), Some((3, false)));
        assert_eq!(closing_quote(b"abc", 0), None);
        assert_eq!(closing_quote(b"ab\\", 0), None);
        assert_eq!(closing_quote(b"ab\\\"", 0), None);
    }
}
