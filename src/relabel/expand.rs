//! Template expansion of `target_label` and `replacement`, as Go's
//! `Regexp.ExpandString` does it.

/// Expands `template` with the captures of a match, by the rules of Go's
/// `Regexp.ExpandString`: `$$` is `$`; `$name` takes the longest run of letters,
/// digits and `_`; `${name}` delimits it; a name of digits without a leading zero
/// is a group number, anything else a group name; an unknown or unmatched group
/// expands to nothing; a `$` not followed by a valid name is kept as is.
pub(super) fn expand(re: &regex::Regex, caps: &regex::Captures<'_>, template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = template_name(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match group_number(name) {
            Some(i) => caps.get(i),
            None => re
                .capture_names()
                .position(|n| n == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
    out
}

/// The name after a `$` (bare or in braces) and the text after it; `None` when
/// there is no valid name.
fn template_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    if braced {
        let after = body[len..].strip_prefix('}')?;
        Some((name, after))
    } else {
        Some((name, &body[len..]))
    }
}

/// A group number as Go reads it: ASCII digits, no leading zero, below 10^8.
fn group_number(name: &str) -> Option<usize> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    let mut n: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}
