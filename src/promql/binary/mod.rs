//! Binary operators: arithmetic, comparisons (with `bool`), set operators, and
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`, fill
//! values): step by step ([`step`]) and, for a range query, at all steps at
//! once ([`columnar`]), both applying operators ([`apply`]) and matching
//! series ([`matching`]) alike.

pub(crate) mod apply;
pub(crate) mod columnar;
pub(crate) mod matching;
pub(crate) mod step;
