//! The query text to a tree, behind guards: the query's length and nesting depth
//! are capped before the grammar (a recursive parser) sees it, so a hostile query
//! cannot overflow the stack; label regexes are recompiled as Prometheus does
//! (`^(?s:…)$`, [`Matcher`]).
//!
//! Before promql-parser reads the text it is rewritten in three ways, one
//! module each: Prometheus's duration expressions evaluated ([`durations`]),
//! Go's byte escapes in strings read as Go reads them ([`go_strings`]), and
//! the selector of each `info` call marked so that the grammar accepts it
//! ([`info_marker`]).

pub(crate) mod durations;
pub(crate) mod go_strings;
pub(crate) mod info_marker;

use promql_parser::label::{MatchOp, Matchers};
use promql_parser::parser::Expr;

use self::durations::DurationContext;
use self::go_strings::NonUtf8Strings;
use super::error::{PromqlError, Result};
use crate::model::MatchType;
use crate::model::Matcher;

/// Longest query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 256 * 1024;
/// Deepest nesting of brackets and prefix operators accepted.
pub const MAX_DEPTH: usize = 128;
/// Most binary operators accepted outside label matchers: a long chain such as
/// `a+a+a+…` nests as deeply as brackets do (parsing it, dropping it and
/// evaluating it all recurse once per operator).
pub const MAX_OPERATORS: usize = 250;

/// A parsed query.
pub struct Parsed {
    pub expr: Expr,
    /// Its string literals that are not UTF-8 (see [`go_strings`]).
    pub non_utf8: NonUtf8Strings,
}

/// Parses `query` after checking its size and nesting, with its duration
/// expressions evaluated in `ctx` (see [`durations`]) and
/// its strings' byte escapes read as Go reads them.
pub fn parse_with(query: &str, ctx: DurationContext) -> Result<Parsed> {
    if query.len() > MAX_QUERY_LEN {
        return Err(PromqlError::bad_data(format!(
            "query is {} bytes long, at most {MAX_QUERY_LEN} are accepted",
            query.len()
        )));
    }
    check_depth(query)?;
    let rewritten = durations::rewrite(query, ctx)?;
    let (text, non_utf8) = go_strings::rewrite(&rewritten.text);
    let text = info_marker::mark_selectors(&text);
    let expr = promql_parser::parser::parse(&text).map_err(|e| {
        let e = e.trim().to_string();
        PromqlError::bad_data(if e.is_empty() {
            "parse error: invalid query".to_string()
        } else if e.starts_with("parse error") {
            e
        } else {
            format!("parse error: {e}")
        })
    })?;
    check_expr_depth(&expr, 0)?;
    // Prometheus evaluates durations once the whole query has parsed.
    match rewritten.deferred {
        Some(e) => Err(e),
        None => Ok(Parsed { expr, non_utf8 }),
    }
}

/// Rejects queries whose brackets nest deeper than [`MAX_DEPTH`], or with long runs
/// of prefix `-`/`+` (each one a level of recursion in the grammar). Strings are
/// skipped so brackets inside them do not count.
fn check_depth(query: &str) -> Result<()> {
    let mut depth = 0usize;
    let mut braces = 0usize;
    let mut prefix_run = 0usize;
    let mut operators = 0usize;
    let mut word = String::new();
    let mut chars = query.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            if braces == 0 && matches!(word.as_str(), "and" | "or" | "unless" | "atan2") {
                operators += 1;
            }
            word.clear();
        }
        if braces == 0 && matches!(c, '+' | '-' | '*' | '/' | '%' | '^' | '=' | '!' | '<' | '>') {
            operators += 1;
        }
        if operators > 2 * MAX_OPERATORS {
            return Err(PromqlError::bad_data(format!(
                "parse error at char {}: query has more than {MAX_OPERATORS} operators",
                pos + 1
            )));
        }
        match c {
            '"' | '\'' | '`' => {
                prefix_run = 0;
                while let Some((_, d)) = chars.next() {
                    if d == '\\' && c != '`' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                if c == '{' {
                    braces += 1;
                }
                depth += 1;
                if depth + prefix_run > MAX_DEPTH {
                    return Err(too_deep(pos));
                }
            }
            ')' | ']' | '}' => {
                if c == '}' {
                    braces = braces.saturating_sub(1);
                }
                depth = depth.saturating_sub(1);
                prefix_run = 0;
            }
            '-' | '+' => {
                prefix_run += 1;
                if depth + prefix_run > MAX_DEPTH {
                    return Err(too_deep(pos));
                }
            }
            c if c.is_whitespace() => {}
            _ => prefix_run = 0,
        }
    }
    Ok(())
}

fn too_deep(pos: usize) -> PromqlError {
    PromqlError::bad_data(format!(
        "parse error at char {}: query nests deeper than {MAX_DEPTH} levels",
        pos + 1
    ))
}

/// The evaluator recurses over the tree; cap its depth too (binary operator chains
/// such as `a+a+a+…` nest without brackets).
fn check_expr_depth(e: &Expr, d: usize) -> Result<()> {
    if d > 2 * MAX_DEPTH {
        return Err(PromqlError::bad_data(format!(
            "query nests deeper than {} expressions",
            2 * MAX_DEPTH
        )));
    }
    match e {
        Expr::Aggregate(a) => {
            check_expr_depth(&a.expr, d + 1)?;
            if let Some(p) = &a.param {
                check_expr_depth(p, d + 1)?;
            }
            Ok(())
        }
        Expr::Unary(u) => check_expr_depth(&u.expr, d + 1),
        Expr::Binary(b) => {
            check_expr_depth(&b.lhs, d + 1)?;
            check_expr_depth(&b.rhs, d + 1)
        }
        Expr::Paren(p) => check_expr_depth(&p.expr, d + 1),
        Expr::Subquery(s) => check_expr_depth(&s.expr, d + 1),
        Expr::Call(c) => c
            .args
            .args
            .iter()
            .try_for_each(|a| check_expr_depth(a, d + 1)),
        _ => Ok(()),
    }
}

/// Our matchers for one `{…}` set (the first alternative of an `or` set is
/// `matchers`, the others `or_matchers`); regexes compiled anchored.
pub fn to_matchers(name: Option<&str>, ms: &Matchers) -> Result<Vec<Vec<Matcher>>> {
    let mut sets: Vec<&[promql_parser::label::Matcher]> = Vec::new();
    if ms.or_matchers.is_empty() {
        sets.push(&ms.matchers);
    } else {
        for s in &ms.or_matchers {
            sets.push(s);
        }
    }
    let mut out = Vec::with_capacity(sets.len());
    for set in sets {
        let mut v = Vec::with_capacity(set.len() + 1);
        if let Some(n) = name
            && !set.iter().any(|m| m.name == "__name__")
        {
            v.push(Matcher::equal("__name__", n));
        }
        for m in set {
            let kind = match m.op {
                MatchOp::Equal => MatchType::Equal,
                MatchOp::NotEqual => MatchType::NotEqual,
                MatchOp::Re(_) => MatchType::RegexMatch,
                MatchOp::NotRe(_) => MatchType::RegexNoMatch,
            };
            let m = Matcher::new(kind, m.name.clone(), m.value.clone())
                .map_err(|e| PromqlError::bad_data(format!("parse error: {e}")))?;
            v.push(m);
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `query` as an instant query sees it.
    fn parse(query: &str) -> Result<Expr> {
        parse_with(query, DurationContext::default()).map(|p| p.expr)
    }

    #[test]
    fn deep_parens_are_refused_without_crashing() {
        let q = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = parse(&q).unwrap_err();
        assert_eq!(e.kind, super::super::ErrorKind::BadData);
    }

    #[test]
    fn deep_unary_minus_is_refused() {
        let q = format!("{}1{}", "-(".repeat(50_000), ")".repeat(50_000));
        assert!(parse(&q).is_err());
        let q = format!("{}1", "-".repeat(100_000));
        assert!(parse(&q).is_err());
    }

    #[test]
    fn long_operator_chains_are_refused_without_crashing() {
        let q = format!("{}1", "1+".repeat(100_000));
        assert!(parse(&q).is_err());
        let q = format!("{}1", "1 or ".repeat(40_000));
        assert!(parse(&q).is_err());
    }

    #[test]
    fn shallow_nesting_parses() {
        let q = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert!(parse(&q).is_ok());
    }

    #[test]
    fn long_queries_are_refused() {
        let q = "a".repeat(MAX_QUERY_LEN + 1);
        assert!(parse(&q).is_err());
    }

    #[test]
    fn parse_errors_are_bad_data() {
        for q in ["sum(", "foo{", ")", "1 +", "{a=~\"(\"}", "rate(foo)"] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.kind, super::super::ErrorKind::BadData, "{q}");
        }
    }

    #[test]
    fn duration_errors_come_after_parse_errors() {
        let e = parse("rate(m[step()])").unwrap_err();
        assert_eq!(e.message, "7:13: duration must be greater than 0");
        let e = parse("rate(m[step()]) + )").unwrap_err();
        assert!(e.message.starts_with("parse error"), "{}", e.message);
        let range = DurationContext {
            step_s: 15.0,
            range_s: 3600.0,
        };
        assert!(parse_with("rate(m[step()]) + max_over_time(m[range():step()])", range).is_ok());
    }

    #[test]
    fn deep_duration_expressions_are_refused_without_crashing() {
        let q = format!("m[{}1{}]", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&q).is_err());
        let q = format!("m[{}1]", "-".repeat(100_000));
        assert!(parse(&q).is_err());
        let q = format!("m[{}1]", "1^".repeat(100_000));
        assert!(parse(&q).is_err());
    }

    #[test]
    fn regex_matchers_are_anchored() {
        let e = parse(r#"foo{a=~"b.*"}"#).unwrap();
        let Expr::VectorSelector(vs) = e else {
            panic!("not a selector")
        };
        let ms = to_matchers(vs.name.as_deref(), &vs.matchers).unwrap();
        let re = ms[0].iter().find(|m| m.name() == "a").unwrap();
        assert!(re.matches("bcd"));
        assert!(!re.matches("abc"));
    }
}
