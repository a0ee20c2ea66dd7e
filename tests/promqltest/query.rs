//! Just enough PromQL, at the token level, for the runner's extra checks: pinning
//! every selector and subquery of an expression with `@ <t>` (what test.go does on
//! the AST in `atModifierTestCases`), and finding the functions it calls.
//!
//! Rules, as in test.go: a vector or matrix selector without `@` gets `@ t` right
//! after the selector (after `[range]` for a matrix selector); a subquery without
//! `@` gets it after its `[range:step]`, and nothing inside a subquery is changed
//! (Prometheus sets the subquery's timestamp first, and then skips every node below
//! a subquery that has one). Expressions that call a function whose value depends
//! on the evaluation time are not rewritten at all. Calls inside subqueries are not
//! looked at, as in test.go.

/// Functions that make the @-invariance check meaningless
/// (`promql.AtModifierUnsafeFunctions`, and the query-context functions).
const AT_UNSAFE: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
    "start",
    "end",
    "range",
    "step",
];

/// Keywords that are followed by a parenthesised label list (or fill value), never
/// by an expression.
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "fill",
    "fill_left",
    "fill_right",
];

/// Words that are never metric names where they stand.
const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "atan2", "anchored", "smoothed",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Number,
    Str,
    Punct(&'static str),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

const PUNCTS: &[&str] = &[
    "==", "!=", "<=", ">=", "=~", "!~", "</", ">/", "(", ")", "{", "}", "[", "]", ",", "@", ":",
    "=", "<", ">", "+", "-", "*", "/", "%", "^",
];

/// Splits a PromQL expression into tokens (whitespace and `#` comments dropped).
pub fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            Tok::Ident(s[start..i].to_owned())
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                let e = b[i] == b'e' || b[i] == b'E';
                i += 1;
                let hex = s[start..].starts_with("0x") || s[start..].starts_with("0X");
                if e && !hex && i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
            }
            Tok::Number
        } else if c == b'"' || c == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err("unterminated string in query".into()),
                    Some(&b'\\') => i += 2,
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            Tok::Str
        } else if c == b'`' {
            match s[i + 1..].find('`') {
                Some(e) => i += e + 2,
                None => return Err("unterminated raw string in query".into()),
            }
            Tok::Str
        } else if let Some(p) = PUNCTS.iter().find(|p| s[i..].starts_with(**p)) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = s[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected character {ch:?} in query"));
        };
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

fn is_punct(t: Option<&Token>, p: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
}

fn ident(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token {
            tok: Tok::Ident(s), ..
        }) => Some(s),
        _ => None,
    }
}

/// Index of the token closing the bracket opened at `open`.
fn matching(toks: &[Token], open: usize) -> Result<usize, String> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if let Tok::Punct(p) = t.tok {
            match p {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                _ => {}
            }
        }
    }
    Err("unbalanced brackets in query".into())
}

struct Walk<'a> {
    toks: &'a [Token],
    /// Byte offsets where ` @ t` goes.
    inserts: Vec<usize>,
    calls: Vec<String>,
}

enum Primary {
    Selector,
    /// A parenthesised expression: its inner token range.
    Group(usize, usize),
    /// A function call or aggregation: its name and argument token range.
    Call(String, usize, usize),
    Other,
}

impl Walk<'_> {
    fn seq(&mut self, lo: usize, hi: usize) -> Result<(), String> {
        let toks = self.toks;
        let mut i = lo;
        while i < hi {
            let t = &toks[i];
            match &t.tok {
                Tok::Ident(name) if matches!(name.to_ascii_lowercase().as_str(), "inf" | "nan") => {
                    i = self.postfix(Primary::Other, i + 1, t.end)?;
                }
                Tok::Ident(name) => {
                    let lower = name.to_ascii_lowercase();
                    let next_paren = is_punct(toks.get(i + 1), "(");
                    // `fill`, `fill_left` and `fill_right` take a value in
                    // brackets; without one they are metric names.
                    let fill_word = lower.starts_with("fill");
                    if GROUPING.contains(&lower.as_str()) && (next_paren || !fill_word) {
                        i = if next_paren {
                            matching(toks, i + 1)? + 1
                        } else {
                            i + 1
                        };
                    } else if next_paren {
                        let close = matching(toks, i + 1)?;
                        let call = Primary::Call(lower, i + 2, close);
                        i = self.postfix(call, close + 1, toks[close].end)?;
                    } else if KEYWORDS.contains(&lower.as_str())
                        || is_aggregation_with_grouping(&lower, toks.get(i + 1))
                    {
                        i += 1;
                    } else {
                        let mut j = i + 1;
                        if is_punct(toks.get(j), "{") {
                            j = matching(toks, j)? + 1;
                        }
                        i = self.postfix(Primary::Selector, j, toks[j - 1].end)?;
                    }
                }
                Tok::Punct("{") => {
                    let close = matching(toks, i)?;
                    i = self.postfix(Primary::Selector, close + 1, toks[close].end)?;
                }
                Tok::Punct("(") => {
                    let close = matching(toks, i)?;
                    i = self.postfix(Primary::Group(i + 1, close), close + 1, toks[close].end)?;
                }
                Tok::Number | Tok::Str => {
                    i = self.postfix(Primary::Other, i + 1, t.end)?;
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// Reads the modifiers and brackets after a primary that ends before token `j`
    /// (byte offset `end`), records where `@` goes, and returns the next index.
    fn postfix(&mut self, primary: Primary, mut j: usize, end: usize) -> Result<usize, String> {
        let toks = self.toks;
        // (is subquery, insertion offset, has @) per bracket level; level 0 is the
        // primary itself.
        let mut levels: Vec<(bool, usize, bool)> = Vec::new();
        let (next, has_at) = self.modifiers(j)?;
        j = next;
        levels.push((false, end, has_at));
        while is_punct(toks.get(j), "[") {
            let close = matching(toks, j)?;
            let mut depth = 0usize;
            let mut subquery = false;
            for t in &toks[j + 1..close] {
                match t.tok {
                    Tok::Punct("(" | "[" | "{") => depth += 1,
                    Tok::Punct(")" | "]" | "}") => depth = depth.saturating_sub(1),
                    Tok::Punct(":") if depth == 0 => subquery = true,
                    _ => {}
                }
            }
            // Prometheus prints `sel[r] anchored @ t`: `@` goes after the
            // extended-range keyword of a matrix selector.
            let mut k = close + 1;
            while matches!(
                ident(toks.get(k)).map(str::to_ascii_lowercase).as_deref(),
                Some("anchored" | "smoothed")
            ) {
                k += 1;
            }
            let (next, has_at) = self.modifiers(close + 1)?;
            levels.push((subquery, toks[k - 1].end, has_at));
            j = next;
        }
        if let Some(&(_, at, has_at)) = levels.iter().rev().find(|l| l.0) {
            if !has_at {
                self.inserts.push(at);
            }
            return Ok(j);
        }
        match primary {
            Primary::Selector => {
                if !levels.iter().any(|l| l.2) {
                    let at = levels.last().map_or(end, |l| l.1);
                    self.inserts.push(at);
                }
            }
            Primary::Group(lo, hi) => self.seq(lo, hi)?,
            Primary::Call(name, lo, hi) => {
                self.calls.push(name);
                self.seq(lo, hi)?;
            }
            Primary::Other => {}
        }
        Ok(j)
    }

    /// Skips `offset <d>`, `@ <t>`, `anchored`, `smoothed` from `j`; returns the next
    /// index and whether an `@` was among them.
    fn modifiers(&self, mut j: usize) -> Result<(usize, bool), String> {
        let toks = self.toks;
        let mut has_at = false;
        loop {
            let t = toks.get(j);
            match ident(t).map(str::to_ascii_lowercase).as_deref() {
                Some("offset") => j = self.operand(j + 1)?,
                Some("anchored" | "smoothed") => j += 1,
                _ if is_punct(t, "@") => {
                    has_at = true;
                    j = self.operand(j + 1)?;
                }
                _ => return Ok((j, has_at)),
            }
        }
    }

    /// Skips one modifier operand: signs, then a number, a parenthesised
    /// expression, or a (duration) function call.
    fn operand(&self, mut j: usize) -> Result<usize, String> {
        let toks = self.toks;
        while is_punct(toks.get(j), "-") || is_punct(toks.get(j), "+") {
            j += 1;
        }
        match toks.get(j) {
            Some(Token {
                tok: Tok::Punct("("),
                ..
            }) => Ok(matching(toks, j)? + 1),
            Some(Token {
                tok: Tok::Ident(_), ..
            }) if is_punct(toks.get(j + 1), "(") => Ok(matching(toks, j + 1)? + 1),
            Some(_) => Ok(j + 1),
            None => Err("modifier without a value at the end of the query".into()),
        }
    }
}

const AGGREGATIONS: &[&str] = &[
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
];

fn is_aggregation_with_grouping(name: &str, next: Option<&Token>) -> bool {
    AGGREGATIONS.contains(&name)
        && matches!(
            ident(next).map(str::to_ascii_lowercase).as_deref(),
            Some("by" | "without")
        )
}

/// Formats milliseconds as Prometheus prints an `@` timestamp: seconds, 3 decimals.
pub fn format_at(t_ms: i64) -> String {
    let sign = if t_ms < 0 { "-" } else { "" };
    let a = t_ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// The expression with every selector and subquery pinned at `t_ms`, or `None` when
/// it calls a function that makes the check meaningless.
pub fn pin_at(expr: &str, t_ms: i64) -> Result<Option<String>, String> {
    let toks = tokenize(expr)?;
    let mut w = Walk {
        toks: &toks,
        inserts: Vec::new(),
        calls: Vec::new(),
    };
    w.seq(0, toks.len())?;
    if w.calls.iter().any(|c| AT_UNSAFE.contains(&c.as_str())) {
        return Ok(None);
    }
    let mut inserts = w.inserts;
    inserts.sort_unstable();
    inserts.dedup();
    let at = format!(" @ {}", format_at(t_ms));
    let mut out = String::with_capacity(expr.len() + inserts.len() * at.len());
    let mut last = 0;
    for pos in inserts {
        out.push_str(&expr[last..pos]);
        out.push_str(&at);
        last = pos;
    }
    out.push_str(&expr[last..]);
    Ok(Some(out))
}

/// Identifiers of the expression (metric names among them), for the runner's
/// native-histogram bookkeeping.
pub fn identifiers(expr: &str) -> Vec<String> {
    tokenize(expr)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Whether the expression selects series by label matchers alone (`{job="x"}`).
pub fn has_nameless_selector(expr: &str) -> bool {
    let toks = tokenize(expr).unwrap_or_default();
    toks.iter().enumerate().any(|(i, t)| {
        t.tok == Tok::Punct("{") && (i == 0 || !matches!(toks[i - 1].tok, Tok::Ident(_)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(e: &str) -> String {
        pin_at(e, 100_000)
            .unwrap()
            .unwrap_or_else(|| "UNSAFE".into())
    }

    #[test]
    fn selectors_get_pinned() {
        assert_eq!(pin("foo"), "foo @ 100.000");
        assert_eq!(
            pin(r#"foo{a="b"} offset 5m"#),
            r#"foo{a="b"} @ 100.000 offset 5m"#
        );
        assert_eq!(pin("rate(foo[5m])"), "rate(foo[5m] @ 100.000)");
        assert_eq!(pin("foo @ 50"), "foo @ 50");
        assert_eq!(pin("foo[5m] @ 50 offset 1m"), "foo[5m] @ 50 offset 1m");
        assert_eq!(
            pin("sum by (job) (foo) + on(a) group_left(b) {x=\"y\"}"),
            "sum by (job) (foo @ 100.000) + on(a) group_left(b) {x=\"y\"} @ 100.000"
        );
        assert_eq!(
            pin("sum(foo) without (a)"),
            "sum(foo @ 100.000) without (a)"
        );
        assert_eq!(pin("1 + 2"), "1 + 2");
        assert_eq!(
            pin(r#"label_replace(foo, "dst", "$1", "src", "(.*)")"#),
            r#"label_replace(foo @ 100.000, "dst", "$1", "src", "(.*)")"#
        );
        assert_eq!(
            pin("foo offset -step()*2"),
            "foo @ 100.000 offset -step()*2"
        );
        assert_eq!(
            pin("foo and bar unless baz"),
            "foo @ 100.000 and bar @ 100.000 unless baz @ 100.000"
        );
        assert_eq!(pin("-foo^2"), "-foo @ 100.000^2");
        assert_eq!(
            pin("rate(foo[1m] anchored)"),
            "rate(foo[1m] anchored @ 100.000)"
        );
        assert_eq!(pin("foo smoothed"), "foo @ 100.000 smoothed");
    }

    #[test]
    fn fill_without_a_value_is_a_metric() {
        assert_eq!(
            pin("fill + fill(0) other"),
            "fill @ 100.000 + fill(0) other @ 100.000"
        );
        assert_eq!(
            pin("other + fill_left(0) fill_left"),
            "other @ 100.000 + fill_left(0) fill_left @ 100.000"
        );
    }

    #[test]
    fn subqueries_are_pinned_not_their_insides() {
        assert_eq!(
            pin("max_over_time(rate(foo[1m])[5m:1m])"),
            "max_over_time(rate(foo[1m])[5m:1m] @ 100.000)"
        );
        assert_eq!(pin("foo[5m:] offset 1m"), "foo[5m:] @ 100.000 offset 1m");
        assert_eq!(pin("(foo @ 10)[5m:1m] @ 20"), "(foo @ 10)[5m:1m] @ 20");
        assert_eq!(
            pin("max_over_time(time()[5m:1m])"),
            "max_over_time(time()[5m:1m] @ 100.000)"
        );
    }

    #[test]
    fn unsafe_functions_skip() {
        assert_eq!(pin("time()"), "UNSAFE");
        assert_eq!(pin("timestamp(foo)"), "UNSAFE");
        assert_eq!(pin("hour(foo)"), "UNSAFE");
        assert_eq!(pin("foo[step()]"), "foo[step()] @ 100.000");
    }

    #[test]
    fn at_format() {
        assert_eq!(format_at(0), "0.000");
        assert_eq!(format_at(-1000), "-1.000");
        assert_eq!(format_at(1_234_567), "1234.567");
        assert_eq!(format_at(-5), "-0.005");
    }
}
