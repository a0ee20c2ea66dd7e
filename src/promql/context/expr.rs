//! Small questions about nodes of the parsed tree.

use promql_parser::parser::{Expr, VectorSelector};

/// A node's address: the key of what the evaluator keeps per node (a
/// selector's series, a precomputed column, an aggregation's groups).
pub(crate) fn addr(e: &Expr) -> usize {
    e as *const Expr as usize
}

/// A selector's address (see [`addr`]).
pub(crate) fn selector_key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

/// The expression inside any parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// The value of a number literal, parenthesised or not.
pub(crate) fn literal(e: &Expr) -> Option<f64> {
    match unparen(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        _ => None,
    }
}
