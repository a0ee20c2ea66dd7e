//! The expression tree of a duration, its parser (Prometheus's precedence:
//! `+ -` below `* / %` below unary signs below a right-associative `^`) and
//! its value in a query's context.

use super::failure::ParseFailure;
use super::lex::{Func, Kind, MAX_SECONDS, Mode, Token, token_at};

/// The query's step and range (end − start), in seconds, for `step()` and
/// `range()`; both 0 for an instant query.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DurationContext {
    pub step_s: f64,
    pub range_s: f64,
}

#[derive(Debug)]
pub(super) enum Node {
    /// A number or duration literal, a sign already applied.
    Literal {
        value: f64,
        /// The grammar we hand the rewritten query to reads the text the same.
        plain: bool,
        start: usize,
        end: usize,
    },
    Step {
        start: usize,
        end: usize,
    },
    Range {
        start: usize,
        end: usize,
    },
    MinMax {
        max: bool,
        args: Box<(Node, Node)>,
        start: usize,
        end: usize,
    },
    Neg {
        inner: Box<Node>,
        start: usize,
    },
    /// A bracketed expression: no longer a literal to the checks Prometheus
    /// makes while parsing.
    Paren(Box<Node>),
    Binary {
        op: u8,
        args: Box<(Node, Node)>,
    },
}

impl Node {
    /// Byte offsets of the expression in the query.
    pub fn span(&self) -> (usize, usize) {
        match self {
            Node::Literal { start, end, .. }
            | Node::Step { start, end }
            | Node::Range { start, end }
            | Node::MinMax { start, end, .. } => (*start, *end),
            Node::Neg { inner, start } => (*start, inner.span().1),
            Node::Paren(inner) => inner.span(),
            Node::Binary { args, .. } => (args.0.span().0, args.1.span().1),
        }
    }

    /// The value in seconds, or the failure with the span it applies to.
    pub fn eval(&self, ctx: DurationContext) -> Result<f64, EvalFailure> {
        Ok(match self {
            Node::Literal { value, .. } => *value,
            Node::Step { .. } => ctx.step_s,
            Node::Range { .. } => ctx.range_s,
            Node::MinMax { max, args, .. } => {
                let (a, b) = (args.0.eval(ctx)?, args.1.eval(ctx)?);
                // Go's math.Min and math.Max: NaN wins.
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else if *max {
                    a.max(b)
                } else {
                    a.min(b)
                }
            }
            Node::Neg { inner, .. } => -inner.eval(ctx)?,
            Node::Paren(inner) => inner.eval(ctx)?,
            Node::Binary { op, args } => {
                let (a, b) = (args.0.eval(ctx)?, args.1.eval(ctx)?);
                let fail = |message| EvalFailure {
                    span: self.span(),
                    message,
                };
                match op {
                    b'+' => a + b,
                    b'-' => a - b,
                    b'*' => a * b,
                    b'/' if b == 0.0 => return Err(fail("division by zero")),
                    b'/' => a / b,
                    b'%' if b == 0.0 => return Err(fail("modulo by zero")),
                    b'%' => a % b,
                    _ => a.powf(b),
                }
            }
        })
    }
}

/// A duration that cannot be evaluated in this query's context.
#[derive(Debug)]
pub(super) struct EvalFailure {
    pub span: (usize, usize),
    pub message: &'static str,
}

/// Why a parse stopped: a token that does not fit (its message depends on
/// where the expression stands), or a failure with its own message.
#[derive(Debug)]
pub(super) enum Stop {
    Unexpected(Token),
    Failed(ParseFailure),
}

impl From<ParseFailure> for Stop {
    fn from(f: ParseFailure) -> Stop {
        Stop::Failed(f)
    }
}

const ADDITIVE: u8 = 1;
const MULTIPLICATIVE: u8 = 2;
const POWER: u8 = 3;

/// Reads duration expressions from one place in the query.
pub(super) struct Parser<'q> {
    q: &'q str,
    pub pos: usize,
    mode: Mode,
}

impl<'q> Parser<'q> {
    pub fn new(q: &'q str, pos: usize, mode: Mode) -> Parser<'q> {
        Parser { q, pos, mode }
    }

    pub fn peek(&self) -> Result<Token, Stop> {
        Ok(token_at(self.q, self.pos, self.mode)?)
    }

    /// The token after the next one.
    pub fn peek_second(&self) -> Result<Token, Stop> {
        let first = self.peek()?;
        Ok(token_at(self.q, first.end, self.mode)?)
    }

    pub fn next(&mut self) -> Result<Token, Stop> {
        let t = self.peek()?;
        self.pos = t.end;
        Ok(t)
    }

    fn expect(&mut self, kind: Kind) -> Result<Token, Stop> {
        let t = self.next()?;
        if t.kind == kind {
            Ok(t)
        } else {
            Err(Stop::Unexpected(t))
        }
    }

    /// A whole expression: operators bind as long as they find operands.
    pub fn expr(&mut self) -> Result<Node, Stop> {
        self.binary(ADDITIVE)
    }

    /// An expression whose operators bind at least as tightly as `min`.
    fn binary(&mut self, min: u8) -> Result<Node, Stop> {
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek()?;
            let (op, prec, right_assoc) = match t.kind {
                Kind::Op(op @ (b'+' | b'-')) => (op, ADDITIVE, false),
                Kind::Op(op @ (b'*' | b'/' | b'%')) => (op, MULTIPLICATIVE, false),
                Kind::Op(op) => (op, POWER, true),
                _ => return Ok(lhs),
            };
            if prec < min {
                return Ok(lhs);
            }
            self.next()?;
            let rhs = self.binary(if right_assoc { prec } else { prec + 1 })?;
            // Prometheus refuses a literal zero divisor while parsing.
            if matches!(op, b'/' | b'%')
                && matches!(rhs, Node::Literal { value, .. } if value == 0.0)
            {
                let what = if op == b'/' { "division" } else { "modulo" };
                return Err(ParseFailure::at(t.start, format!("{what} by zero")).into());
            }
            lhs = Node::Binary {
                op,
                args: Box::new((lhs, rhs)),
            };
        }
    }

    /// A signed operand: `-a ^ b` is `-(a ^ b)`, `-a * b` is `(-a) * b`.
    fn unary(&mut self) -> Result<Node, Stop> {
        let t = self.peek()?;
        let Kind::Op(sign @ (b'+' | b'-')) = t.kind else {
            return self.primary();
        };
        self.next()?;
        let inner = self.binary(POWER)?;
        Ok(signed(sign, t.start, inner)?)
    }

    /// A literal, a function call or a bracketed expression.
    pub fn primary(&mut self) -> Result<Node, Stop> {
        let t = self.next()?;
        let (start, end) = (t.start, t.end);
        match t.kind {
            Kind::Number { value, plain } => Ok(Node::Literal {
                value,
                plain,
                start,
                end,
            }),
            Kind::Duration(value) => Ok(Node::Literal {
                value,
                plain: true,
                start,
                end,
            }),
            Kind::Func(f @ (Func::Step | Func::Range)) => {
                self.expect(Kind::LParen)?;
                let end = self.expect(Kind::RParen)?.end;
                Ok(if f == Func::Step {
                    Node::Step { start, end }
                } else {
                    Node::Range { start, end }
                })
            }
            Kind::Func(f) => {
                self.expect(Kind::LParen)?;
                let a = self.expr()?;
                self.expect(Kind::Comma)?;
                let b = self.expr()?;
                let end = self.expect(Kind::RParen)?.end;
                Ok(Node::MinMax {
                    max: f == Func::MaxOf,
                    args: Box::new((a, b)),
                    start,
                    end,
                })
            }
            Kind::LParen => {
                let inner = self.expr()?;
                self.expect(Kind::RParen)?;
                Ok(Node::Paren(Box::new(inner)))
            }
            _ => Err(Stop::Unexpected(t)),
        }
    }
}

/// A sign applied to an operand; on a literal it is folded in, as Prometheus
/// does, so that `-5m` stays a literal.
pub(super) fn signed(sign: u8, start: usize, inner: Node) -> Result<Node, ParseFailure> {
    match inner {
        Node::Literal { value, end, .. } => {
            let value = if sign == b'-' { -value } else { value };
            if value.abs() > MAX_SECONDS {
                return Err(ParseFailure::at(start, "duration out of range"));
            }
            Ok(Node::Literal {
                value,
                plain: false,
                start,
                end,
            })
        }
        inner if sign == b'-' => Ok(Node::Neg {
            inner: Box::new(inner),
            start,
        }),
        inner => Ok(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str, ctx: DurationContext) -> f64 {
        let q = format!("{src}]");
        let mut p = Parser::new(&q, 0, Mode::Bracket);
        let n = p.expr().unwrap();
        assert_eq!(p.peek().unwrap().kind, Kind::RBracket, "{src}");
        n.eval(ctx).unwrap()
    }

    #[test]
    fn precedence_and_associativity() {
        let ctx = DurationContext::default();
        assert_eq!(value("1 + 2 * 3", ctx), 7.0);
        assert_eq!(value("(1 + 2) * 3", ctx), 9.0);
        assert_eq!(value("10 - 4 - 3", ctx), 3.0);
        assert_eq!(value("2 ^ 3 ^ 2", ctx), 512.0);
        assert_eq!(value("-2 ^ 2", ctx), -4.0);
        assert_eq!(value("(-2) ^ 2", ctx), 4.0);
        assert_eq!(value("-2 * 3", ctx), -6.0);
        assert_eq!(value("2 ^ -1", ctx), 0.5);
        assert_eq!(value("0+-2^2", ctx), -4.0);
        assert_eq!(value("1h30m % 1h", ctx), 1800.0);
        assert_eq!(value("30m1s-30m1s % 1m", ctx), 1800.0);
        assert_eq!(value("-7 % 3", ctx), -1.0);
    }

    #[test]
    fn functions_take_the_context() {
        let ctx = DurationContext {
            step_s: 15.0,
            range_s: 3600.0,
        };
        assert_eq!(value("step() * 2", ctx), 30.0);
        assert_eq!(value("min_of(range(), 1m)", ctx), 60.0);
        assert_eq!(value("max_of(range(), 1m)", ctx), 3600.0);
        assert!(value("max_of(10^400 - 10^400, 1m)", ctx).is_nan());
    }

    #[test]
    fn zero_divisors_fail_when_evaluated() {
        let q = "5m / (1m - 1m)]";
        let n = Parser::new(q, 0, Mode::Bracket).expr().unwrap();
        let e = n.eval(DurationContext::default()).unwrap_err();
        assert_eq!(e.message, "division by zero");
        assert_eq!(e.span, (0, 13));
    }
}
