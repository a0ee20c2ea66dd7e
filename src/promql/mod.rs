//! PromQL: parse and evaluate queries over a [`Db`](crate::tsdb::Db), with
//! Prometheus 3.x semantics.
//!
//! The main types:
//!
//! - [`Engine`]: holds the database and the limits ([`EngineOptions`]: lookback
//!   delta, max samples, timeout). It is `Send + Sync`; share one behind an `Arc`.
//!   [`Engine::instant`] evaluates at one time, [`Engine::range`] at every step of a
//!   range; the `_with` forms take [`QueryOptions`] (a per-query lookback delta and
//!   timeout, and a cancellation flag the caller may set from another thread).
//! - [`QueryResult`]: the [`Value`] (a scalar, a string, an instant vector of
//!   [`Sample`]s or a matrix of [`Series`] of [`Point`]s) plus the warnings and infos
//!   Prometheus would annotate it with.
//! - [`json`]: a [`Value`] written as Prometheus's HTTP API writes it.
//! - [`PromqlError`]: a failure with its [`ErrorKind`] (`bad_data`, `execution`,
//!   `timeout`, `canceled` in Prometheus's API).
//!
//! Queries are parsed by `promql-parser` behind guards (length and nesting caps,
//! anchored regexes), after Prometheus's experimental duration expressions
//! (`[5m * 2]`, `offset (step() * 3)`) are evaluated and written back as plain
//! durations; evaluation is ours: each selector's series are read once for
//! the whole query into buffers and every step is evaluated from them. A range
//! query's selectors, range functions, aggregations and arithmetic are evaluated
//! a series at a time over all steps at once (each operator's `columnar`
//! module), the rest step by step on top of their results (its `step` module).
//!
//! The layers, from the bottom; each module imports only from those below it:
//!
//! 1. Values and text: the [`Value`] types and the evaluator's own
//!    (`value`), errors (`error`), the query text parsed behind its guards
//!    (`parse`: duration expressions, Go strings, the `info` selector marker),
//!    positions in the text for annotations (`position`), and two
//!    helpers (`in_order`: work on all cores handed on in order; `xxhash`).
//! 2. The evaluation context (`context`): the evaluator's state, the series
//!    the selectors read, the columns of a range query, the sample limit, the
//!    annotations, and the label, time and arithmetic helpers every operator
//!    uses.
//! 3. Operators and functions, each step by step and, where a range query
//!    gains from it, by columns beside it: `selector`, `subquery`,
//!    `aggregate`, `binary`, `range_fns`, `histogram`, `info`, and
//!    `functions` (the calls by name, down to the range functions, the
//!    histogram functions and `info`). An operator evaluates its operands
//!    through the context and knows no other operator.
//! 4. The engine (`engine`): which evaluation each kind of node gets, the
//!    selection of a query's series, and the [`Engine`] API on top; [`json`]
//!    beside it.

mod aggregate;
mod binary;
mod context;
mod engine;
mod error;
mod functions;
mod histogram;
mod in_order;
mod info;
pub mod json;
mod parse;
mod position;
mod range_fns;
mod selector;
mod subquery;
mod value;
mod xxhash;

pub use engine::{Engine, EngineOptions, QueryOptions};
pub use error::{ErrorKind, PromqlError};
pub use value::{Point, QueryResult, Sample, Series, Value};
