//! Functions over range vectors (`rate`, `*_over_time`, …): step by step
//! ([`step`]) and, over a range selector in a range query, at all steps at
//! once ([`columnar`]), both with the same call checks ([`call`]) and
//! arithmetic ([`kernels`]).

pub(crate) mod call;
pub(crate) mod columnar;
pub(crate) mod kernels;
pub(crate) mod step;
