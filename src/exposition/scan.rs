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
    let mut i = start;
    let mut escaped = false;
    loop {
        let at = i + find_quote_or_backslash(b.get(i..)?)?;
        if b[at] == b'"' {
            return Some((at, escaped));
        }
        // A backslash: skip it and the byte it escapes, which may not be a
        // newline or NUL (Prometheus's lexer refuses those).
        if matches!(b.get(at + 1), Some(b'\n' | 0)) {
            return None;
        }
        escaped = true;
        i = at + 2;
    }
}

/// The first `"` or `\` in `b`. Label values are mostly short, so eight bytes
/// at a time in a register (the classic "has zero byte" test) beats both a byte
/// loop and the setup of a vector search.
#[inline]
fn find_quote_or_backslash(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |w: u64| w.wrapping_sub(LO) & !w & HI;
    let mut words = b.chunks_exact(8);
    let mut offset = 0;
    for chunk in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let w = u64::from_le_bytes(bytes);
        let hits = has_zero(w ^ (LO * u64::from(b'"'))) | has_zero(w ^ (LO * u64::from(b'\\')));
        if hits != 0 {
            // The lowest flagged byte is a true match (borrows only run upwards).
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| offset + p)
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

    #[test]
    fn quote_search_agrees_with_a_byte_loop() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let len = rng.usize(..40);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.u8(..8) {
                    0 => b'"',
                    1 => b'\\',
                    2 => 0x80 | rng.u8(..),
                    _ => rng.u8(..),
                })
                .collect();
            let expected = bytes.iter().position(|&c| c == b'"' || c == b'\\');
            assert_eq!(find_quote_or_backslash(&bytes), expected, "{bytes:?}");
        }
    }
}
