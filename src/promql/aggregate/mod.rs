//! Aggregation operators, grouped `by` or `without` labels: step by step
//! ([`step`]) and, for a range query, at all steps at once ([`columnar`]),
//! both from the same grouping and running state ([`group`]) and ranking
//! ([`rank`]).

pub(crate) mod columnar;
pub(crate) mod group;
pub(crate) mod rank;
pub(crate) mod step;
