//! Positions in the query text for annotations.
//!
//! The parser gives no positions, so they are found in the text: the first call
//! of a function (or aggregation) by name, then its arguments split at top-level
//! commas. Prometheus prints a position as `line:column`, both 1-based.

/// ` (line:col)` of byte offset `i` in `query`.
fn line_col(query: &str, i: usize) -> String {
    let before = &query[..i];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |p| p + 1)..]
        .chars()
        .count()
        + 1;
    format!(" ({line}:{col})")
}

/// ` (line:col)` of the first occurrence of `needle`, or nothing.
pub(crate) fn position(query: &str, needle: &str) -> String {
    query
        .find(needle)
        .map(|i| line_col(query, i))
        .unwrap_or_default()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == ':'
}

/// Skips whitespace from byte `i`.
fn skip_ws(q: &str, mut i: usize) -> usize {
    while let Some(c) = q[i..].chars().next() {
        if !c.is_whitespace() {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// The byte after the bracketed group that opens at `i` (quotes respected).
fn skip_group(q: &str, i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = q[i..].char_indices();
    while let Some((j, c)) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + j + 1);
                }
            }
            '"' | '\'' | '`' => skip_string(&mut chars, c),
            _ => {}
        }
    }
    None
}

fn skip_string(chars: &mut std::str::CharIndices<'_>, quote: char) {
    while let Some((_, d)) = chars.next() {
        if d == '\\' && quote != '`' {
            chars.next();
        } else if d == quote {
            break;
        }
    }
}

/// Byte offsets of the arguments of the first call of `name` in `query`.
fn call_args(query: &str, name: &str) -> Option<Vec<usize>> {
    let mut from = 0;
    while let Some(k) = query[from..].find(name) {
        let at = from + k;
        from = at + name.len();
        let before_ok = query[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        let after = &query[from..];
        if !before_ok || after.chars().next().is_some_and(is_ident) {
            continue;
        }
        let mut i = skip_ws(query, from);
        // An aggregation's modifier may come before its arguments.
        for kw in ["by", "without"] {
            if query[i..].starts_with(kw)
                && !query[i + kw.len()..].chars().next().is_some_and(is_ident)
            {
                let j = skip_ws(query, i + kw.len());
                i = skip_ws(query, skip_group(query, j)?);
            }
        }
        if !query[i..].starts_with('(') {
            continue;
        }
        let mut args = vec![skip_ws(query, i + 1)];
        let mut depth = 0usize;
        let mut chars = query[i + 1..].char_indices();
        while let Some((j, c)) = chars.next() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => return Some(args),
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => args.push(skip_ws(query, i + 1 + j + 1)),
                '"' | '\'' | '`' => skip_string(&mut chars, c),
                _ => {}
            }
        }
        return Some(args);
    }
    None
}

/// ` (line:col)` of argument `idx` of the first call of `name`, or nothing.
pub(crate) fn arg_position(query: &str, name: &str, idx: usize) -> String {
    call_args(query, name)
        .and_then(|a| a.get(idx).copied())
        .map(|i| line_col(query, i))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_located() {
        let q = "histogram_quantile(0.5, myHistogram1)";
        assert_eq!(arg_position(q, "histogram_quantile", 1), " (1:25)");
        let q = "count(limit_ratio(1.1, http_requests) and http_requests)";
        assert_eq!(arg_position(q, "limit_ratio", 0), " (1:19)");
        let q = "quantile without(point)(NaN, data)";
        assert_eq!(arg_position(q, "quantile", 0), " (1:25)");
        let q = "sum(quantile_over_time(2, m[1m])) + quantile by (a) (\n  0.5, m)";
        assert_eq!(arg_position(q, "quantile", 0), " (2:3)");
        assert_eq!(arg_position(q, "nosuch", 0), "");
    }
}
