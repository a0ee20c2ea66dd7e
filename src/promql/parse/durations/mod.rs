//! Duration expressions, Prometheus's experimental arithmetic wherever a
//! duration is expected: `rate(x[5m * 2])`, `x[range():step() * 2]`,
//! `x offset (1h / 2)`, `x offset -min_of(step(), 1m)`. `step()` and `range()`
//! are the query's step and range (end − start), both 0 for an instant query;
//! numbers are seconds.
//!
//! The grammar we parse with knows none of this, so before parsing each such
//! duration is evaluated and written back as a plain one (`600000ms`), and
//! plain durations are left as they are. Where a duration ends follows
//! Prometheus's grammar: a bracket holds nothing else; after `offset`, a
//! literal, `step()`, `range()` or `min_of(…)`/`max_of(…)`, signed or not, is
//! the whole offset (`x offset 5m + 1` adds 1 to the selector), while an
//! expression that starts with `(` goes on through the operators after it
//! (`x offset (1m) * 2` is two minutes back).
//!
//! Errors are Prometheus's. Syntax errors, literal divisors of zero and
//! literal ranges of zero or less are parse errors at a line and column.
//! Failures that depend on the query (`[step()]` in an instant query, a
//! divisor that works out to zero) name the expression's byte offsets and are
//! only reported when the rest of the query parses, as Prometheus evaluates
//! durations after parsing.

mod expr;
mod failure;
mod lex;

use std::borrow::Cow;

pub(crate) use self::expr::DurationContext;
use self::expr::{Node, Parser, Stop, signed};
use self::failure::ParseFailure;
use self::lex::{Kind, MAX_SECONDS, Mode, Token};
use super::go_strings::string_end;
use crate::promql::error::PromqlError;

/// A query with its duration expressions replaced by their values.
#[derive(Debug)]
pub(crate) struct Rewritten<'q> {
    pub text: Cow<'q, str>,
    /// The first duration that could not be evaluated (a placeholder stands in
    /// the text): the query's error if the text parses.
    pub deferred: Option<PromqlError>,
}

/// `query` with its duration expressions evaluated in `ctx`; fails with a
/// parse error when one is malformed.
pub(crate) fn rewrite(query: &str, ctx: DurationContext) -> Result<Rewritten<'_>, PromqlError> {
    let mut r = Rewriter {
        q: query,
        ctx,
        out: String::new(),
        copied: 0,
        changed: false,
        deferred: None,
    };
    r.run().map_err(|f| f.into_error(query))?;
    let text = if r.changed {
        r.out.push_str(&query[r.copied..]);
        Cow::Owned(r.out)
    } else {
        Cow::Borrowed(query)
    };
    Ok(Rewritten {
        text,
        deferred: r.deferred,
    })
}

/// What came before a word, to tell the `offset` modifier from a metric named
/// `offset` (Prometheus allows both).
#[derive(Clone, Copy)]
enum Prev<'q> {
    /// Start of the query, an operator or an opening bracket.
    Operator,
    /// The end of an operand: `)`, `]`, `}` or a string.
    Operand,
    Word(&'q str),
}

impl Prev<'_> {
    fn takes_modifier(self) -> bool {
        match self {
            Prev::Operator => false,
            Prev::Operand => true,
            Prev::Word(w) => ![
                "and",
                "or",
                "unless",
                "atan2",
                "bool",
                "by",
                "without",
                "on",
                "ignoring",
                "group_left",
                "group_right",
                "offset",
            ]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k)),
        }
    }
}

const RANGE_START: (&str, &str) = (
    "subquery or range selector",
    "number, duration, step(), or range()",
);
const RANGE_END: (&str, &str) = ("subquery or range", "\":\" or \"]\"");
const STEP_START: (&str, &str) = (
    "subquery selector",
    "number, duration, step(), range(), or \"]\"",
);
const STEP_END: (&str, &str) = ("subquery selector", "\"]\"");
const OFFSET: (&str, &str) = ("offset", "number, duration, step(), or range()");

struct Rewriter<'q> {
    q: &'q str,
    ctx: DurationContext,
    out: String,
    /// Bytes of `q` already copied to (or replaced in) `out`.
    copied: usize,
    changed: bool,
    deferred: Option<PromqlError>,
}

impl<'q> Rewriter<'q> {
    /// Walks the query outside strings, comments and label matchers, handing
    /// each bracket and each `offset` modifier to its reader.
    fn run(&mut self) -> Result<(), ParseFailure> {
        let q = self.q;
        let b = q.as_bytes();
        let mut i = 0;
        let mut prev = Prev::Operator;
        while let Some(&c) = b.get(i) {
            match c {
                b'"' | b'\'' | b'`' => {
                    i = skip_string(b, i);
                    prev = Prev::Operand;
                }
                b'#' => {
                    while b.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                }
                b'{' => {
                    while let Some(&c) = b.get(i) {
                        match c {
                            b'"' | b'\'' | b'`' => i = skip_string(b, i),
                            b'}' => break,
                            _ => i += 1,
                        }
                    }
                    i += 1;
                    prev = Prev::Operand;
                }
                b'[' => {
                    i = self.bracket(i)?;
                    prev = Prev::Operand;
                }
                b')' | b'}' => {
                    i += 1;
                    prev = Prev::Operand;
                }
                _ if c.is_ascii_whitespace() => i += 1,
                _ if c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.') => {
                    let start = i;
                    while b.get(i).is_some_and(|&c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.')
                    }) {
                        i += 1;
                    }
                    let word = &q[start..i];
                    if word.eq_ignore_ascii_case("offset") && prev.takes_modifier() {
                        i = self.offset(start, i)?;
                        prev = Prev::Operand;
                    } else {
                        prev = Prev::Word(word);
                    }
                }
                _ => {
                    i += 1;
                    prev = Prev::Operator;
                }
            }
        }
        Ok(())
    }

    /// The range (and step) of the bracket that opens at `open`; returns the
    /// offset after its `]`.
    fn bracket(&mut self, open: usize) -> Result<usize, ParseFailure> {
        let q = self.q;
        let mut p = Parser::new(q, open + 1, Mode::Bracket);
        let range = read_part(&mut p, q, RANGE_START)?;
        let after = in_context(p.next(), q, RANGE_END)?;
        let step = match after.kind {
            Kind::RBracket => None,
            Kind::Colon if in_context(p.peek(), q, STEP_START)?.kind == Kind::RBracket => {
                in_context(p.next(), q, STEP_END)?;
                None
            }
            Kind::Colon => {
                let step = read_part(&mut p, q, STEP_START)?;
                let close = in_context(p.next(), q, STEP_END)?;
                if close.kind != Kind::RBracket {
                    return Err(unexpected(close, q, STEP_END));
                }
                Some(step)
            }
            _ => return Err(unexpected(after, q, RANGE_END)),
        };
        self.positive(range)?;
        if let Some(step) = step {
            self.positive(step)?;
        }
        Ok(p.pos)
    }

    /// Writes a range or step back, which must come to more than zero.
    fn positive(&mut self, (node, start, end): (Node, usize, usize)) -> Result<(), ParseFailure> {
        if let Node::Literal { value, plain, .. } = node {
            if value <= 0.0 {
                return Err(ParseFailure::at(start, "duration must be greater than 0"));
            }
            if plain {
                return Ok(());
            }
        }
        let text = match self.millis(&node, false) {
            Ok(ms) => format!("{ms}ms"),
            Err(e) => {
                self.deferred.get_or_insert(e);
                "1ms".to_string()
            }
        };
        self.replace(start, end, &text);
        Ok(())
    }

    /// The offset modifier whose keyword spans `kw_start..kw_end`; returns
    /// where its duration ends. A zero offset is dropped (the grammar we parse
    /// with refuses one, Prometheus does not).
    fn offset(&mut self, kw_start: usize, kw_end: usize) -> Result<usize, ParseFailure> {
        let q = self.q;
        let mut p = Parser::new(q, kw_end, Mode::Offset);
        let start = in_context(p.peek(), q, OFFSET)?.start;
        let node = in_context(offset_operand(&mut p), q, OFFSET)?;
        let end = p.pos;
        match node {
            Node::Literal { value: 0.0, .. } => self.replace(kw_start, end, ""),
            Node::Literal { plain: true, .. } => {}
            _ => match self.millis(&node, true) {
                Ok(0) => self.replace(kw_start, end, ""),
                Ok(ms) => self.replace(start, end, &format!("{ms}ms")),
                Err(e) => {
                    self.deferred.get_or_insert(e);
                    self.replace(start, end, "1ms");
                }
            },
        }
        Ok(end)
    }

    /// A duration's value in whole milliseconds (truncated, as Prometheus
    /// does), or Prometheus's error naming the expression's byte offsets.
    fn millis(&self, node: &Node, negative_ok: bool) -> Result<i64, PromqlError> {
        let fail = |(s, e): (usize, usize), m: &str| PromqlError::bad_data(format!("{s}:{e}: {m}"));
        let v = node.eval(self.ctx).map_err(|f| fail(f.span, f.message))?;
        let ms = (v * 1000.0) as i64;
        if !negative_ok && (v <= 0.0 || ms == 0) {
            return Err(fail(node.span(), "duration must be greater than 0"));
        }
        if v.is_nan() || v.abs() > MAX_SECONDS {
            return Err(fail(node.span(), "duration is out of range"));
        }
        Ok(ms)
    }

    fn replace(&mut self, start: usize, end: usize, with: &str) {
        self.out.push_str(&self.q[self.copied..start]);
        self.out.push_str(with);
        self.copied = end;
        self.changed = true;
    }
}

/// A range or step with the byte offsets of its text.
fn read_part(
    p: &mut Parser<'_>,
    q: &str,
    context: (&str, &str),
) -> Result<(Node, usize, usize), ParseFailure> {
    let start = in_context(p.peek(), q, context)?.start;
    let node = in_context(p.expr(), q, context)?;
    Ok((node, start, p.pos))
}

/// What an `offset` takes, per Prometheus's grammar: a literal or a function
/// call, signed or not, ends there; so does a signed bracketed expression;
/// an unsigned one, or a sign before anything else, reads on through the
/// operators that follow.
fn offset_operand(p: &mut Parser<'_>) -> Result<Node, Stop> {
    let first = p.peek()?;
    match first.kind {
        Kind::LParen => p.expr(),
        Kind::Op(sign @ (b'+' | b'-')) => {
            let second = p.peek_second()?;
            if matches!(
                second.kind,
                Kind::Number { .. } | Kind::Duration(_) | Kind::Func(_) | Kind::LParen
            ) {
                p.next()?;
                let inner = p.primary()?;
                Ok(signed(sign, first.start, inner)?)
            } else {
                p.expr()
            }
        }
        _ => p.primary(),
    }
}

/// A parse result with an unexpected token worded for where it stands.
fn in_context<T>(r: Result<T, Stop>, q: &str, context: (&str, &str)) -> Result<T, ParseFailure> {
    r.map_err(|stop| match stop {
        Stop::Failed(f) => f,
        Stop::Unexpected(t) => unexpected(t, q, context),
    })
}

/// Prometheus's message for a token that does not fit: `unexpected <token> in
/// <context>, expected <what fits>`.
fn unexpected(t: Token, q: &str, (context, expected): (&str, &str)) -> ParseFailure {
    ParseFailure::at(
        t.start,
        format!(
            "unexpected {} in {context}, expected {expected}",
            t.describe(q)
        ),
    )
}

/// The offset after the string that opens at `i`.
fn skip_string(b: &[u8], i: usize) -> usize {
    string_end(b, i).unwrap_or(b.len())
}

#[cfg(test)]
mod tests;
