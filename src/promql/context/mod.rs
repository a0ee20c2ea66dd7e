//! The evaluation context: what every operator and function is handed and
//! uses, and nothing that knows one operator from another.
//!
//! [`Evaluator`](evaluator::Evaluator) is one query's state: its times and
//! limits, the series its selectors read ([`selected`]; an `info` call's in
//! [`info_plan`]), the [`annotations`] collected, and the nodes of a range
//! query computed ahead by [`columns`]. An operator evaluates its operands
//! through the evaluator, which hands each node to the evaluation of its kind
//! (chosen above the operators, in `engine/`). Beside it: the sample limit
//! ([`limits`]), the reading of series in parts on all cores ([`parts`]),
//! times and nodes of the parsed tree ([`time`], [`expr`]), arguments as the
//! types a function expects ([`args`]), label-set edits ([`labels`]), and the
//! arithmetic aggregations and range functions share ([`stats`]).

pub(crate) mod annotations;
pub(crate) mod args;
pub(crate) mod columns;
pub(crate) mod evaluator;
pub(crate) mod expr;
pub(crate) mod info_plan;
pub(crate) mod labels;
pub(crate) mod limits;
pub(crate) mod parts;
pub(crate) mod selected;
pub(crate) mod stats;
pub(crate) mod time;
