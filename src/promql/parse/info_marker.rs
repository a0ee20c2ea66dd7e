//! The selector of each `info` call marked before parsing ([`PARSE_MARKER`]),
//! so that the grammar accepts what Prometheus accepts there.

use std::borrow::Cow;

use super::go_strings::string_end;

/// A matcher given to the selector of each `info` call before parsing:
/// Prometheus accepts a selector there whose matchers all match the empty
/// string (`{data=~".*"}`), promql-parser refuses one anywhere, and a matcher
/// that cannot match the empty string satisfies it. The plan drops it.
pub(crate) const PARSE_MARKER: &str = "__tidemark_info_selector__";

/// `query` with [`PARSE_MARKER`] added to the selector of each `info` call.
pub(crate) fn mark_selectors(query: &str) -> Cow<'_, str> {
    let b = query.as_bytes();
    let mut inserts = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => i = string_end(b, i).unwrap_or(b.len()),
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            _ if is_word(c) => {
                let start = i;
                while b.get(i).is_some_and(|&c| is_word(c)) {
                    i += 1;
                }
                let open = skip_space(b, i);
                if &query[start..i] == "info" && b.get(open) == Some(&b'(') {
                    inserts.extend(selector_start(b, open));
                }
            }
            _ => i += 1,
        }
    }
    if inserts.is_empty() {
        return Cow::Borrowed(query);
    }
    // An info call inside the first argument of another comes later.
    inserts.sort_unstable();
    let mut out = String::with_capacity(query.len() + inserts.len() * 40);
    let mut copied = 0;
    for at in inserts {
        out.push_str(&query[copied..at]);
        out.push_str(PARSE_MARKER);
        out.push_str("=\"1\"");
        if b.get(skip_space(b, at)) != Some(&b'}') {
            out.push(',');
        }
        copied = at;
    }
    out.push_str(&query[copied..]);
    Cow::Owned(out)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b':')
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Where the label matchers of the second argument of the call whose `(` is
/// at `open` begin, if that argument is a bare `{…}` selector.
fn selector_start(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => {
                i = string_end(b, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => {
                let sel = skip_space(b, i + 1);
                return (b.get(sel) == Some(&b'{')).then_some(sel + 1);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_selectors_are_marked() {
        assert_eq!(
            mark_selectors(r#"info(m, {data=~".*"})"#),
            r#"info(m, {__tidemark_info_selector__="1",data=~".*"})"#
        );
        assert_eq!(
            mark_selectors("info(info(rate(m[5m]), {}), { })"),
            r#"info(info(rate(m[5m]), {__tidemark_info_selector__="1"}), {__tidemark_info_selector__="1" })"#
        );
        for q in [
            "info(m)",
            "info(m, target_info)",
            r#"m{info="info(a, {"}"#,
            "sum by (info) (m)",
            "information(m, {a=\"b\"})",
        ] {
            assert!(matches!(mark_selectors(q), Cow::Borrowed(_)), "{q}");
        }
    }
}
