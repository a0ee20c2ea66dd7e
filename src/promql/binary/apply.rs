//! An operator applied to two floats, in both forms of a binary operation.

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LSS, T_LTE, T_MOD, T_MUL, T_NEQ, T_POW, T_SUB,
    TokenId,
};

/// Applies `op` to two floats: the value and whether a comparison holds (always
/// true for arithmetic).
pub(crate) fn apply(op: TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_MOD => (l % r, true),
        T_POW => (l.powf(r), true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

pub(crate) fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_keep_left_value() {
        assert_eq!(apply(T_GTR, 3.0, 1.0), (3.0, true));
        assert_eq!(apply(T_LSS, 3.0, 1.0), (3.0, false));
        assert_eq!(apply(T_MOD, 7.0, 4.0).0, 3.0);
    }
}
