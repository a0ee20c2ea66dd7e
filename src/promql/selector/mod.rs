//! Selectors: `m{…}` and `m{…}[5m]`, step by step ([`step`]) and, an instant
//! selector of a range query, at all steps at once ([`columnar`]).

pub(crate) mod columnar;
pub(crate) mod step;
